// An SMTP sink for the send-email benchmark, run in a child process so the server's work does not share the event
// loop with the sender being measured: smtp-server on 127.0.0.1 (port 0), no TLS, no auth, accepts every message and
// discards it, counting messages, bytes and concurrent connections.
//
// Parent protocol (IPC): the child sends { type: 'ready', port }; the parent sends { type: 'stats' } and gets
// { type: 'stats', messages, bytes, maxOpen, connections }, or { type: 'reset' } (zeroes the counters, answers stats).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

export interface SinkStats {
  messages: number;
  bytes: number;
  maxOpen: number;
  connections: number;
}

export interface SmtpSink {
  port: number;
  stats(): Promise<SinkStats>;
  reset(): Promise<SinkStats>;
  stop(): Promise<void>;
}

async function runSink(): Promise<void> {
  const { SMTPServer } = await import('smtp-server');
  let messages = 0;
  let bytes = 0;
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    size: 50 * 1024 * 1024,
    maxClients: 1000,
    onConnect(_s, cb) {
      open++;
      connections++;
      if (open > maxOpen) maxOpen = open;
      cb();
    },
    onClose() {
      open--;
    },
    onData(stream, _s, cb) {
      stream.on('data', (c: Buffer) => (bytes += c.length));
      stream.on('end', () => {
        messages++;
        cb();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const stats = () => ({ type: 'stats', messages, bytes, maxOpen, connections });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'reset') {
      messages = bytes = maxOpen = connections = 0;
      maxOpen = open;
    }
    if (m?.type === 'stats' || m?.type === 'reset') process.send!(stats());
    if (m?.type === 'stop') server.close(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port: (server.server.address() as AddressInfo).port });
}

/** Starts the sink in a child process (node --import tsx) and resolves once it listens. */
export async function startSmtpSink(): Promise<SmtpSink> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`smtp sink exited with ${code} before listening`)));
    child.on('message', function onReady(m: { type?: string; port?: number }) {
      if (m?.type === 'ready') {
        child.off('message', onReady);
        child.removeAllListeners('exit');
        resolve(m.port!);
      }
    });
  });
  const ask = (type: 'stats' | 'reset') =>
    new Promise<SinkStats>((resolve) => {
      child.on('message', function onStats(m: { type?: string } & SinkStats) {
        if (m?.type !== 'stats') return;
        child.off('message', onStats);
        resolve({ messages: m.messages, bytes: m.bytes, maxOpen: m.maxOpen, connections: m.connections });
      });
      child.send({ type });
    });
  return {
    port,
    stats: () => ask('stats'),
    reset: () => ask('reset'),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.send({ type: 'stop' });
      }),
  };
}

if (process.argv.includes('--child') && process.argv[1] === fileURLToPath(import.meta.url)) {
  runSink().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
