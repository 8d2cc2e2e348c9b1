// segment-recompute: a full recompute (engine.recompute(ws)) of 5 active segments over a generated workspace of
// P profiles and E events, against a plain `SELECT count(*) FROM events` over the same table in the same run.
//
// Generator (bench/lib/segments-gen.ts, in a child process; rows go straight into Omnia's tables): P canonical profiles with traits
// (country, plan, first name) and two identifiers each (user_id, email); E events already attributed (profile_id set),
// over the last 365 days in time order (seq follows time, so one person's events are spread over the whole table as in
// a real log). Each event's person: half uniform over everyone, half uniform over a "regular" 20% (so regulars have
// ~3× the mean). Mix: 40% page calls, 30% Product Viewed, 12% Cart Viewed, 10% Product Added, 8% Order Completed
// (total, currency, revenue_minor, products[] with category, 15% of products are Candles). ~550 bytes of JSON per
// event (properties + analytics.js-like context). Events go in with the events table's secondary indexes dropped and
// rebuilt afterwards from their own DDL. PostgreSQL: VACUUM ANALYZE after loading (what autovacuum would do).
import { performance } from 'node:perf_hooks';
import fs from 'node:fs';
import path from 'node:path';
import { type Backend, createDatabase, fmtInt, fmtMs, log, median, rmDir, table, tempDir } from './lib/common.ts';
import { fmtMB, loopStalls, rssSampler, tableBytes } from './lib/segments-common.ts';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type GenDone, type GenRequest, RECOMPUTE_SEGMENTS } from './lib/segments-gen.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { SegmentEngine } from '../src/segments/engine.ts';
import { DEFAULT_WORKSPACE } from '../src/workspaces/keys.ts';

const GEN = fileURLToPath(new URL('./lib/segments-gen.ts', import.meta.url));

/** Runs the generator in a child process (see bench/lib/segments-gen.ts). */
function generate(req: Omit<GenRequest, 'cmd'>): Promise<GenDone> {
  const child = fork(GEN, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`generator exited (${code}) without an answer`)));
    child.once('message', (m) => {
      const msg = m as GenDone | { type: 'error'; message: string };
      if (msg.type === 'error') reject(new Error(msg.message));
      else resolve(msg);
    });
    child.send({ cmd: 'load', ...req } satisfies GenRequest);
  });
}

export interface RecomputeOptions {
  backends: Backend[];
  profiles: number;
  events: number;
  pgAdminUrl: string;
}

export interface RecomputeResult {
  backend: Backend;
  profiles: number;
  events: number;
  loadS: number;
  indexS: number;
  vacuumS: number;
  eventsBytes: number;
  countS: number[];
  recomputeS: number;
  evaluated: number;
  changes: number;
  rss: { start: number; peak: number; samples: number };
  /** longest time this process's event loop could not run timers or I/O during the recompute */
  stallMaxMs: number;
  members: number;
  timers: number;
  bytes: Record<string, number>;
  dbBytes: number;
}

async function countEvents(store: Store): Promise<{ n: number; s: number }> {
  const t = performance.now();
  const n = store.sqlite
    ? await store.exclusiveSqlite((db) => (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n)
    : Number((await store.pool!.query<{ n: string }>('SELECT count(*) AS n FROM events')).rows[0]!.n);
  return { n, s: (performance.now() - t) / 1000 };
}

async function runBackend(backend: Backend, opts: RecomputeOptions): Promise<RecomputeResult> {
  const dataDir = tempDir('omnia-bench-segrec-');
  const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'segrec') : null;
  let store: Store | null = null;
  try {
    log(`  [${backend}] generating ${fmtInt(opts.profiles)} profiles and ${fmtInt(opts.events)} events (child process)`);
    const { loadS, indexS, vacuumS } = await generate({ label: backend, databaseUrl: db?.url, dataDir, profiles: opts.profiles, events: opts.events, now: Date.now() });
    log(`  [${backend}] loaded in ${loadS.toFixed(0)} s + ${indexS.toFixed(0)} s of index builds${vacuumS ? ` + ${vacuumS.toFixed(0)} s of VACUUM ANALYZE` : ''}`);
    store = await (backend === 'postgres' ? openStore({ databaseUrl: db!.url }) : openStore({ dataDir }));
    store.pool?.on('error', () => {});
    const eventsBytes = (await tableBytes(store, ['events'])).events!;

    // Baseline: SELECT count(*) FROM events, 3 times (median); the first also warms the cache.
    const countS: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await countEvents(store);
      countS.push(c.s);
      log(`  [${backend}] SELECT count(*) FROM events = ${fmtInt(c.n)} in ${fmtMs(c.s * 1000)}`);
    }

    const engine = new SegmentEngine(store, { log: (m, e) => log(`  [${backend}] engine: ${m} ${String(e ?? '')}`) });
    let changes = 0;
    engine.subscribe(() => changes++);
    const sampler = rssSampler(100);
    const stalls = loopStalls();
    const t = performance.now();
    const ticker = setInterval(() => log(`  [${backend}]   recompute: ${fmtInt(changes)} changes so far (${((performance.now() - t) / 1000).toFixed(0)} s)`), 60_000);
    const evaluated = await engine.recompute(DEFAULT_WORKSPACE);
    const recomputeS = (performance.now() - t) / 1000;
    clearInterval(ticker);
    const stall = stalls.stop();
    const rss = await sampler.stop();
    log(`  [${backend}] recompute: ${fmtInt(evaluated)} people in ${recomputeS.toFixed(1)} s, ${fmtInt(changes)} changes, peak RSS ${fmtMB(rss.peak)}`);
    const cnt = async (t: 'segment_members' | 'segment_timers') => Number((await store!.db.selectFrom(t).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const members = await cnt('segment_members');
    const timers = await cnt('segment_timers');
    const bytes = await tableBytes(store, ['segment_members', 'segment_timers']);
    let dbBytes: number;
    if (store.sqlite) {
      await store.exclusiveSqlite((d) => d.pragma('wal_checkpoint(TRUNCATE)'));
      dbBytes = fs.statSync(path.join(dataDir, 'omnia.db')).size;
    } else dbBytes = Number((await store.pool!.query<{ s: string }>('SELECT pg_database_size(current_database()) AS s')).rows[0]!.s);
    return { backend, profiles: opts.profiles, events: opts.events, loadS, indexS, vacuumS, eventsBytes, countS, recomputeS, evaluated, changes, rss, stallMaxMs: stall.max, members, timers, bytes, dbBytes };
  } finally {
    await store?.close();
    await db?.drop();
    rmDir(dataDir);
  }
}

export async function benchSegmentRecompute(opts: RecomputeOptions): Promise<string> {
  const results: RecomputeResult[] = [];
  for (const b of opts.backends) results.push(await runBackend(b, opts));
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = ['', ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: RecomputeResult) => string) => [label, ...results.map(f)];
  const per = (bytes: number, n: number) => (n ? `${(bytes / n).toFixed(0)} B/row` : 'n/a');
  const rows = [
    row('generated: load (+ index builds, + VACUUM ANALYZE)', (r) => `${r.loadS.toFixed(0)} s (+ ${r.indexS.toFixed(0)} s${r.vacuumS ? `, + ${r.vacuumS.toFixed(0)} s` : ''})`),
    row('events table on disk (with indexes) / whole store', (r) => `${fmtMB(r.eventsBytes)} / ${fmtMB(r.dbBytes)}`),
    row('baseline: SELECT count(*) FROM events (median of 3)', (r) => fmtMs(median(r.countS) * 1000)),
    row('recompute, 5 segments: wall time', (r) => `${r.recomputeS.toFixed(1)} s`),
    row('  people evaluated (profiles/s)', (r) => `${fmtInt(r.evaluated)} (${fmtInt(r.evaluated / r.recomputeS)}/s)`),
    row('  events/s (table rows / recompute time)', (r) => fmtInt(r.events / r.recomputeS)),
    row('  time per event', (r) => `${((r.recomputeS / r.events) * 1e6).toFixed(1)} µs`),
    row('  membership changes written', (r) => fmtInt(r.changes)),
    row('ratio recompute / count(*)', (r) => fmtInt(r.recomputeS / median(r.countS))),
    row('process RSS before / peak during recompute', (r) => `${fmtMB(r.rss.start)} / ${fmtMB(r.rss.peak)} (${fmtInt(r.rss.samples)} samples)`),
    row('longest event-loop stall during recompute', (r) => `${(r.stallMaxMs / 1000).toFixed(1)} s`),
    row('segment_members rows, on disk', (r) => `${fmtInt(r.members)}, ${fmtMB(r.bytes.segment_members!)} (${per(r.bytes.segment_members!, r.members)})`),
    row('segment_timers rows, on disk', (r) => `${fmtInt(r.timers)}, ${fmtMB(r.bytes.segment_timers!)} (${per(r.bytes.segment_timers!, r.timers)})`),
  ];
  return [
    `segment-recompute: engine.recompute(ws) of ${RECOMPUTE_SEGMENTS.length} active segments over ${fmtInt(opts.profiles)} profiles and ${fmtInt(opts.events)} events ` +
      `(generated, 365 days; pages of 500 people), against SELECT count(*) FROM events on the same table in the same run`,
    `segments: ${RECOMPUTE_SEGMENTS.map((s) => s.name).join('; ')}`,
    `memory: the engine keeps no per-person state between pages (facts are rebuilt from the event log page by page); ` +
      `what persists per person is its segment_members and segment_timers rows, sized below`,
    '',
    table(header, rows),
  ].join('\n');
}


