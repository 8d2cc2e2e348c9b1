// The SMTP sink of the journey benchmarks (trigger-latency, broadcast), run in a CHILD PROCESS like
// bench/lib/smtp-sink.ts so that its work does not share the event loop with Omnia: smtp-server on 127.0.0.1 (port 0),
// no TLS, no auth, accepts every message. Unlike smtp-sink.ts it also keeps, per message, its Subject header and its
// arrival time on CLOCK_MONOTONIC (taken when the DATA stream ends, i.e. when the client has handed the message over),
// which a parent on the same Linux machine can subtract from its own monotonic timestamps.
//
// Parent protocol (IPC): the child sends { type: 'ready', port }; the parent sends { type: 'stats' } or
// { type: 'reset' } (zeroes everything first) and gets { type: 'stats', … }; { type: 'arrivals' } answers
// { type: 'arrivals', subjects, at } (everything since the last reset); { type: 'stop' } closes it.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';

export interface JourneySinkStats {
  messages: number;
  bytes: number;
  /** monotonic ms of the first / last arrival since the last reset (NaN when none) */
  firstAt: number;
  lastAt: number;
  maxOpen: number;
  connections: number;
}

export interface Arrivals {
  subjects: string[];
  at: number[];
}

export interface JourneySink {
  port: number;
  stats(): Promise<JourneySinkStats>;
  reset(): Promise<JourneySinkStats>;
  arrivals(): Promise<Arrivals>;
  stop(): Promise<void>;
}

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** The Subject header of a raw message's header block (unfolded; RFC 2047 words are left as they are). */
export function subjectOf(head: string): string {
  const end = head.indexOf('\r\n\r\n');
  const block = (end >= 0 ? head.slice(0, end) : head).replace(/\r\n[ \t]+/g, ' ');
  const m = /^subject:[ \t]*(.*)$/im.exec(block);
  return m ? m[1]!.trim() : '';
}

async function runSink(): Promise<void> {
  const { SMTPServer } = await import('smtp-server');
  let messages = 0;
  let bytes = 0;
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  let firstAt = NaN;
  let lastAt = NaN;
  let subjects: string[] = [];
  let at: number[] = [];
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
      let head = '';
      let headDone = false;
      stream.on('data', (c: Buffer) => {
        bytes += c.length;
        if (!headDone) {
          head += c.toString('latin1');
          if (head.includes('\r\n\r\n') || head.length > 16_384) headDone = true;
        }
      });
      stream.on('end', () => {
        const t = monoMs();
        messages++;
        if (Number.isNaN(firstAt)) firstAt = t;
        lastAt = t;
        subjects.push(subjectOf(head));
        at.push(t);
        cb();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const stats = () => ({ type: 'stats', messages, bytes, firstAt, lastAt, maxOpen, connections });
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'reset') {
      messages = bytes = connections = 0;
      maxOpen = open;
      firstAt = lastAt = NaN;
      subjects = [];
      at = [];
    }
    if (m?.type === 'stats' || m?.type === 'reset') process.send!(stats());
    if (m?.type === 'arrivals') process.send!({ type: 'arrivals', subjects, at });
    if (m?.type === 'stop') server.close(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', port: (server.server.address() as AddressInfo).port });
}

const fixNaN = (s: JourneySinkStats): JourneySinkStats => ({ ...s, firstAt: s.firstAt ?? NaN, lastAt: s.lastAt ?? NaN });

/** Starts the sink in a child process (node --import tsx) and resolves once it listens. */
export async function startJourneySink(): Promise<JourneySink> {
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
  // One question at a time: answers come back in order.
  let chain: Promise<unknown> = Promise.resolve();
  const ask = <T>(type: string, answer: string): Promise<T> => {
    const p = chain.then(
      () =>
        new Promise<T>((resolve) => {
          child.on('message', function onAnswer(m: { type?: string }) {
            if (m?.type !== answer) return;
            child.off('message', onAnswer);
            const { type: _t, ...rest } = m as Record<string, unknown>;
            resolve(rest as T);
          });
          child.send({ type });
        }),
    );
    chain = p.catch(() => {});
    return p;
  };
  return {
    port,
    // NaN travels over the JSON channel as null.
    stats: () => ask<JourneySinkStats>('stats', 'stats').then(fixNaN),
    reset: () => ask<JourneySinkStats>('reset', 'stats').then(fixNaN),
    arrivals: () => ask<Arrivals>('arrivals', 'arrivals'),
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
