// journey-throughput: N people (default 100,000) enter a 6-node journey — delay 1 s → split → send → wait-until
// (Order Completed, timeout 1 s) → send → exit — through the journey inbox, and the journey worker(s) take everyone
// to the end: every step in a per-person transaction with its run state, timer and outbox rows. Measured: node
// transitions per second from the first worker round to the last person's exit, on SQLite (one worker, in this
// process) and on PostgreSQL with 1 and 2 worker processes (forked; ratio 2 workers / 1 worker). The same-run
// baseline is the pure interpreter (src/journeys/step.ts advance) doing the same transitions in memory, with no store.
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { enqueueEntries } from '../src/journeys/inbox.ts';
import type { JourneyDefinition } from '../src/journeys/definition.ts';
import { advance, type Facts } from '../src/journeys/step.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';
import { type Backend, createDatabase, fmtInt, fmtRatio, log, median, rmDir, table, tempDir } from './lib/common.ts';

const WORKER = fileURLToPath(new URL('./lib/journey-worker.ts', import.meta.url));
const WS = 'default';
const PATH_LENGTH = 6;

function definition(tpl: string): JourneyDefinition {
  return {
    name: 'Throughput',
    topic: 'transactional',
    priority: 50,
    entry: { kind: 'api' },
    reentry: { policy: 'once' },
    start: 'wait',
    nodes: {
      wait: { kind: 'delay', duration: { amount: 1, unit: 'seconds' }, next: 'vip' },
      vip: { kind: 'split', condition: { kind: 'trait', trait: 'vip', op: 'eq', value: true }, yes: 'offer', no: 'hello' },
      offer: { kind: 'send', channel: 'onsite', templates: { onsite: tpl }, next: 'order' },
      hello: { kind: 'send', channel: 'onsite', templates: { onsite: tpl }, next: 'order' },
      order: { kind: 'wait_until', until: { event: 'Order Completed' }, timeoutAfter: { amount: 1, unit: 'seconds' }, onTimeout: 'nudge', next: 'done' },
      nudge: { kind: 'send', channel: 'onsite', templates: { onsite: tpl }, next: 'done' },
      done: { kind: 'exit' },
    },
  };
}

/** The pure interpreter over the same path, in memory: the ceiling the store-backed worker is compared with. */
function pureRate(def: JourneyDefinition, n: number): number {
  const facts: Facts = { evaluate: () => false, random: () => 0.5, timeZone: 'Europe/London' };
  const t0 = performance.now();
  let transitions = 0;
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    let r = advance(def, null, { kind: 'enter', version: 1, entryId: `e${i}` }, now, facts);
    transitions += r.visited.length;
    r = advance(def, r.state, { kind: 'timer' }, now + 1000, facts);
    transitions += r.visited.length;
    r = advance(def, r.state, { kind: 'timer' }, now + 2000, facts);
    transitions += r.visited.length;
  }
  return transitions / ((performance.now() - t0) / 1000);
}

async function prepare(rt: Runtime, n: number): Promise<string> {
  await bootstrapDefaultWorkspace(rt.store, {});
  const tpl = await rt.messaging.templates.create(WS, 'hello', { channel: 'onsite', kind: 'banner', title: 'Hi {{ profile.traits.first_name | default: "there" }}', body: '<p>Picked for you</p>' });
  const j = await rt.journeys.catalog.create(WS, definition(tpl.id));
  await rt.journeys.catalog.publish(WS, j.id);
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const part = Array.from({ length: Math.min(1000, n - i) }, (_, k) => `prf_tp${String(i + k).padStart(7, '0')}`);
    await rt.store.db.transaction().execute(async (tx) => {
      for (let k = 0; k < part.length; k += 250) {
        await tx
          .insertInto('profiles')
          .values(part.slice(k, k + 250).map((id, m) => ({ workspace_id: WS, id, canonical_id: id, created_at: now, first_seen: now, last_seen: now, traits: JSON.stringify({ vip: { v: (i + k + m) % 2 === 0, t: now }, first_name: { v: `N${i + k + m}`, t: now } }), time_zone: 'Europe/London' })))
          .execute();
      }
      await enqueueEntries(tx, WS, j.id, part.map((profileId) => ({ profileId })), now);
    });
    ids.push(...part);
  }
  return j.id;
}

async function finished(rt: Runtime, jid: string): Promise<number> {
  const r = await rt.store.db.selectFrom('journey_runs').select((eb) => eb.fn.countAll<number>().as('n')).where('journey_id', '=', jid).where('status', 'in', ['exited', 'converted']).executeTakeFirstOrThrow();
  return Number(r.n);
}

interface Run {
  label: string;
  seconds: number;
  transitions: number;
}

async function runSqlite(n: number): Promise<Run> {
  const dir = tempDir('omnia-bench-journeys-');
  const rt = await openRuntime({ dataDir: dir, workers: false });
  try {
    const jid = await prepare(rt, n);
    log(`    [sqlite] ${fmtInt(n)} people entered the inbox; one worker (in process)`);
    const t0 = performance.now();
    while ((await finished(rt, jid)) < n) {
      await rt.journeys.drain();
      await new Promise((r) => setTimeout(r, 10));
    }
    return { label: 'SQLite, 1 worker', seconds: (performance.now() - t0) / 1000, transitions: rt.journeys.transitions };
  } finally {
    await rt.close();
    rmDir(dir);
  }
}

async function runPg(n: number, workers: number, pgAdminUrl: string): Promise<Run> {
  const db = await createDatabase(pgAdminUrl, 'journeys');
  const rt = await openRuntime({ databaseUrl: db.url, workers: false });
  rt.store.pool?.on('error', () => {});
  const children: ChildProcess[] = [];
  try {
    const jid = await prepare(rt, n);
    log(`    [postgres] ${fmtInt(n)} people entered the inbox; ${workers} worker process(es)`);
    const ready = [];
    for (let w = 0; w < workers; w++) {
      const c = fork(WORKER, [db.url], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      children.push(c);
      ready.push(new Promise<void>((resolve) => c.once('message', () => resolve())));
    }
    await Promise.all(ready);
    const t0 = performance.now();
    while ((await finished(rt, jid)) < n) await new Promise((r) => setTimeout(r, 50));
    const seconds = (performance.now() - t0) / 1000;
    const counts = await Promise.all(
      children.map(
        (c) =>
          new Promise<number>((resolve) => {
            c.on('message', (m: { type: string; transitions?: number }) => m.type === 'done' && resolve(m.transitions ?? 0));
            c.send({ cmd: 'stop' });
          }),
      ),
    );
    log(`    [postgres] transitions per worker: ${counts.map(fmtInt).join(', ')}`);
    return { label: `PostgreSQL, ${workers} worker process${workers > 1 ? 'es' : ''}`, seconds, transitions: counts.reduce((a, b) => a + b, 0) };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await rt.close();
    await db.drop();
  }
}

export async function benchJourneyThroughput(opts: { backends: Backend[]; people: number; pgAdminUrl: string }): Promise<string> {
  const n = opts.people;
  const runs: Run[] = [];
  if (opts.backends.includes('sqlite')) runs.push(await runSqlite(n));
  if (opts.backends.includes('postgres')) {
    runs.push(await runPg(n, 1, opts.pgAdminUrl));
    runs.push(await runPg(n, 2, opts.pgAdminUrl));
  }
  const pure = median([0, 1, 2].map(() => pureRate(definition('tpl'), Math.min(n, 100_000))));
  const rows = runs.map((r) => {
    const rate = r.transitions / r.seconds;
    return [r.label, fmtInt(n), fmtInt(r.transitions), `${r.seconds.toFixed(1)} s`, fmtInt(rate), fmtInt(pure), fmtRatio(rate / pure)];
  });
  const one = runs.find((r) => r.label.startsWith('PostgreSQL, 1'));
  const two = runs.find((r) => r.label.startsWith('PostgreSQL, 2'));
  let out = table(['store', 'people', 'transitions', 'time', 'transitions/s', 'pure interpreter/s', 'ratio'], rows);
  if (one && two) out += `\nPostgreSQL 2 workers / 1 worker: ${fmtRatio(two.transitions / two.seconds / (one.transitions / one.seconds))}`;
  out += `\n(each person: ${PATH_LENGTH} node transitions; the time includes the 1 s delay and the 1 s wait, a floor of 2 s)`;
  log(out);
  return out;
}
