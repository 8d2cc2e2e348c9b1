// The load generator, run as a CHILD PROCESS of bench/run.ts (forked with IPC) so that autocannon has its own core
// and the process under test has the other: on a 2-core machine, running both in one event loop would measure
// autocannon as much as the server. The child generates its pool of bodies once (deterministic seed), then runs
// autocannon rounds on request; every request gets fresh messageIds (see BodyPool), so nothing is ever a duplicate.
import autocannon from 'autocannon';
import { BodyPool, Traffic, meanEventBytes } from './events.ts';

export type LoadMode = 'batch' | 'single';

export interface InitMsg {
  cmd: 'init';
  mode: LoadMode;
  seed: number;
  users: number;
  batchSize: number;
  poolSize: number;
  /** 2-character prefix of the messageId tokens, unique per run. */
  prefix: string;
}

export interface RunMsg {
  cmd: 'run';
  url: string;
  path: string;
  authorization: string;
  connections: number;
  duration: number;
}

export interface ReadyMsg {
  type: 'ready';
  bodies: number;
  meanBodyBytes: number;
  meanEventBytes: number;
  distinctUsers: number;
}

export interface RoundResult {
  type: 'result';
  durationS: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  p50: number;
  p99: number;
  maxMs: number;
}

let pool: BodyPool | null = null;
let path = '/';

function send(msg: unknown): void {
  process.send!(msg);
}

async function run(m: RunMsg): Promise<RoundResult> {
  const p = pool!;
  path = m.path;
  const result = await autocannon({
    url: m.url,
    connections: m.connections,
    duration: m.duration,
    pipelining: 1,
    timeout: 30,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json', authorization: m.authorization },
        setupRequest: (req) => ({ ...req, body: p.next() }),
      },
    ],
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = v.count ?? 0;
  return {
    type: 'result',
    durationS: result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    p50: result.latency.p50,
    p99: result.latency.p99,
    maxMs: result.latency.max,
  };
}

process.on('message', (raw) => {
  const m = raw as InitMsg | RunMsg | { cmd: 'exit' };
  if (m.cmd === 'init') {
    const t = new Traffic({ seed: m.seed, users: m.users });
    const bodies: string[] = [];
    for (let i = 0; i < m.poolSize; i++) bodies.push(m.mode === 'batch' ? t.batch(m.batchSize) : t.single());
    pool = new BodyPool(bodies, m.prefix);
    const users = new Set<string>();
    for (const b of bodies) for (const match of b.matchAll(/"userId":"([^"]+)"/g)) users.add(match[1]!);
    const ready: ReadyMsg = {
      type: 'ready',
      bodies: bodies.length,
      meanBodyBytes: Math.round(bodies.reduce((s, b) => s + Buffer.byteLength(b), 0) / bodies.length),
      meanEventBytes: m.mode === 'batch' ? meanEventBytes(bodies[0]!) : Buffer.byteLength(bodies[0]!),
      distinctUsers: users.size,
    };
    send(ready);
  } else if (m.cmd === 'run') {
    run(m).then(send, (e: unknown) => send({ type: 'error', message: String((e as Error)?.stack ?? e) }));
  } else if (m.cmd === 'exit') {
    process.disconnect?.();
    process.exit(0);
  }
});
