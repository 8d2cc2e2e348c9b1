// segment-timers: N time-window expiries that all fall due within the same minute. How late does the segment engine
// publish each 'left' change, against a bare setTimeout scheduler firing the same due times in the same process?
//
// State is generated directly (bench/lib/segments-data.ts), not ingested: N canonical profiles, each with one
// 'Order Completed' event at (due − 30 days), the segment "Order Completed performed within 30 days" in the segments
// table, everyone a member, and one segment_timers row per person at its due time. Due times are start + U(0, spread)
// where start is `lead` seconds after loading has finished. Then a SegmentEngine on the real clock is started
// (engine.start(): 250 ms polls + the precise wake-up at the next due time), alone in this process (no ingestion, no
// identity processor); lateness = (Date.now() in the subscriber) − c.at, and c.at is the timer's due time.
// Capacity: then, on a second fresh store, the same number of timers all due at one instant; drain time and rate.
import { performance } from 'node:perf_hooks';
import { type Backend, createDatabase, fmtInt, fmtMs, fmtRatio, log, rmDir, table, tempDir } from './lib/common.ts';
import { type Dist, dist, loopStalls, sleep } from './lib/segments-common.ts';
import { EVENT_COLS, PROFILE_COLS, exec, idAt, insertRows, insertSegment, markRfmDone, prng } from './lib/segments-data.ts';
import { openStore, type Store } from '../src/store/db.ts';
import { SegmentEngine } from '../src/segments/engine.ts';
import { DEFAULT_WORKSPACE, createWorkspace } from '../src/workspaces/keys.ts';

export interface TimersOptions {
  backends: Backend[];
  timers: number;
  spreadS: number;
  leadS: number;
  pgAdminUrl: string;
}

export const TARGET_P99_MS = 1000;
const DAY = 86_400_000;
const WINDOW_MS = 30 * DAY;
const SEED = 424242;
const CHUNK = 20_000;
/** Give up waiting this long after the last due time (the report then says how many were published). */
const MAX_WAIT_AFTER_LAST_DUE_MS = 300_000;

export interface TimersResult {
  backend: Backend;
  n: number;
  loadS: number;
  shiftS: number;
  leadActualS: number;
  published: number;
  lateness: Dist;
  /** n / (last publish − first due) */
  observedPerSec: number;
  /** time spent inside the engine's rounds / (last publish − first due) */
  busyShare: number;
  rounds: number;
  roundMs: Dist;
  roundSize: Dist;
  stallMaxMs: number;
  membersLeft: number;
  leftEvents: number;
  bare: Dist;
  /** the same number of timers all due at one instant */
  burst: { published: number; drainS: number; perSec: number; roundMs: Dist; roundSize: Dist; stallMaxMs: number };
}

/** Generates and loads the state with due times at anchor + offset; returns the offsets (ms, sorted) and the anchor. */
async function load(store: Store, n: number, spreadMs: number, anchor: number): Promise<{ offsets: number[]; segId: string }> {
  const ws = DEFAULT_WORKSPACE;
  const rnd = prng(SEED);
  const segId = idAt('seg', anchor - DAY, rnd);
  await insertSegment(store, ws, segId, 'Ordered in the last 30 days', { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 30, unit: 'days' } }, anchor - DAY);
  const offsets: number[] = [];
  for (let i = 0; i < n; i++) offsets.push(Math.floor(rnd() * spreadMs));
  for (let from = 0; from < n; from += CHUNK) {
    const profiles: unknown[][] = [];
    const events: unknown[][] = [];
    const members: unknown[][] = [];
    const timers: unknown[][] = [];
    for (let i = from; i < Math.min(n, from + CHUNK); i++) {
      const due = anchor + offsets[i]!;
      const ts = due - WINDOW_MS;
      const created = ts - Math.floor(rnd() * 300 * DAY);
      const id = idAt('prf', created, rnd);
      const total = 10 + Math.floor(rnd() * 190);
      profiles.push([ws, id, id, created, created, ts, JSON.stringify({ country: { v: 'DE', t: created } }), null]);
      events.push([
        ws,
        `bench-timer-${i}`,
        id,
        'track',
        'Order Completed',
        `u${i}`,
        null,
        'server',
        0,
        ts,
        ts,
        JSON.stringify({ order_id: `o${i}`, total, currency: 'EUR', products: [{ product_id: `p${i % 97}`, category: 'Candles', price: total, quantity: 1 }] }),
        '{}',
        JSON.stringify({ library: { name: 'analytics-node', version: '6.2.0' } }),
        total * 100,
        'EUR',
      ]);
      members.push([ws, segId, id, ts]);
      timers.push([ws, id, segId, due]);
    }
    await insertRows(store, 'profiles', PROFILE_COLS, profiles);
    await insertRows(store, 'events', EVENT_COLS, events);
    await insertRows(store, 'segment_members', ['workspace_id', 'segment_id', 'profile_id', 'entered_at'], members);
    await insertRows(store, 'segment_timers', ['workspace_id', 'profile_id', 'segment_id', 'due_at'], timers);
  }
  return { offsets: offsets.sort((a, b) => a - b), segId };
}

/** The baseline: a bare in-process scheduler, one setTimeout per due time, lateness = Date.now() at firing − due. */
async function bareScheduler(offsets: number[], leadMs: number): Promise<Dist> {
  const start = Date.now() + leadMs;
  const late: number[] = [];
  await new Promise<void>((resolve) => {
    let left = offsets.length;
    for (const off of offsets) {
      const due = start + off;
      setTimeout(() => {
        late.push(Date.now() - due);
        if (--left === 0) resolve();
      }, due - Date.now());
    }
  });
  return dist(late);
}

interface EnginePhase {
  loadS: number;
  shiftS: number;
  leadActualS: number;
  offsets: number[];
  published: number;
  lateness: Dist;
  firstDue: number;
  lastPublish: number;
  busyMs: number;
  rounds: { n: number; ms: number }[];
  stallMaxMs: number;
  membersLeft: number;
  leftEvents: number;
}

/**
 * One engine phase on a fresh store: generate and load the state, shift its times so that the first timer is due
 * `leadS` after loading, start a SegmentEngine on the real clock and record every 'left' change.
 */
async function enginePhase(backend: Backend, opts: TimersOptions, spreadMs: number, leadS: number, tag: string): Promise<EnginePhase> {
  const dataDir = tempDir('omnia-bench-segtmr-');
  const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'segtmr') : null;
  let store: Store | null = null;
  let engine: SegmentEngine | null = null;
  try {
    store = await (backend === 'postgres' ? openStore({ databaseUrl: db!.url }) : openStore({ dataDir }));
    store.pool?.on('error', () => {});
    await createWorkspace(store, 'Default workspace', DEFAULT_WORKSPACE);
    const t0 = performance.now();
    const anchor0 = Date.now();
    log(`  [${backend}] ${tag}: loading ${fmtInt(opts.timers)} profiles, events, members and timers`);
    const { offsets } = await load(store, opts.timers, spreadMs, anchor0);
    const loadS = (performance.now() - t0) / 1000;
    // Loading is done: move every time so that the first due time is `lead` seconds from now.
    const t1 = performance.now();
    const delta = Date.now() + leadS * 1000 - anchor0;
    await exec(store, `UPDATE events SET timestamp = timestamp + ${delta}, received_at = received_at + ${delta} WHERE workspace_id = '${DEFAULT_WORKSPACE}'`);
    await exec(store, `UPDATE segment_members SET entered_at = entered_at + ${delta}`);
    await exec(store, `UPDATE segment_timers SET due_at = due_at + ${delta}`);
    if (backend === 'postgres') await exec(store, 'VACUUM ANALYZE events, profiles, segment_members, segment_timers');
    await markRfmDone(store);
    const shiftS = (performance.now() - t1) / 1000;
    const start = anchor0 + delta;
    const leadActualS = (start + offsets[0]! - Date.now()) / 1000;
    log(`  [${backend}] ${tag}: loaded in ${loadS.toFixed(1)} s, times shifted in ${shiftS.toFixed(1)} s; first due in ${leadActualS.toFixed(1)} s, last in ${((start + offsets.at(-1)! - Date.now()) / 1000).toFixed(1)} s`);

    engine = new SegmentEngine(store, { log: (m, e) => log(`  [${backend}] engine: ${m} ${String(e ?? '')}`) });
    const rounds: { n: number; ms: number }[] = [];
    const eng = engine as unknown as { runOnce: () => Promise<number> };
    const origOnce = eng.runOnce.bind(engine);
    eng.runOnce = async () => {
      const t = performance.now();
      const k = await origOnce();
      if (k > 0) rounds.push({ n: k, ms: performance.now() - t });
      return k;
    };
    const late: number[] = [];
    let lastPublish = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    engine.subscribe((c) => {
      if (c.change !== 'left') return;
      const now = Date.now();
      late.push(now - c.at);
      lastPublish = now;
      if (late.length === opts.timers) done();
    });
    const stalls = loopStalls();
    engine.start();
    const lastDue = start + offsets.at(-1)!;
    await Promise.race([all, sleep(Math.max(0, lastDue - Date.now()) + MAX_WAIT_AFTER_LAST_DUE_MS)]);
    const stall = stalls.stop();
    await engine.stop();
    engine = null;
    const lateness = dist(late);
    const count = async (q: Promise<{ n: number } | undefined>) => Number((await q)?.n ?? 0);
    const membersLeft = await count(store.db.selectFrom('segment_members').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst());
    const leftEvents = await count(
      store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('event', '=', 'Segment Left').where('internal', '=', 1).executeTakeFirst(),
    );
    log(`  [${backend}] ${tag}: ${fmtInt(late.length)} left; lateness p50 ${fmtMs(lateness.p50)} p99 ${fmtMs(lateness.p99)} max ${fmtMs(lateness.max)}`);
    return {
      loadS,
      shiftS,
      leadActualS,
      offsets,
      published: late.length,
      lateness,
      firstDue: start + offsets[0]!,
      lastPublish,
      busyMs: rounds.reduce((sum, r) => sum + r.ms, 0),
      rounds,
      stallMaxMs: stall.max,
      membersLeft,
      leftEvents,
    };
  } finally {
    await engine?.stop();
    await store?.close();
    await db?.drop();
    rmDir(dataDir);
  }
}

async function runBackend(backend: Backend, opts: TimersOptions): Promise<TimersResult> {
  const main = await enginePhase(backend, opts, opts.spreadS * 1000, opts.leadS, `due over ${opts.spreadS} s`);
  log(`  [${backend}] baseline: bare setTimeout scheduler, same ${fmtInt(main.offsets.length)} due offsets`);
  const bare = await bareScheduler(main.offsets, 3000);
  log(`  [${backend}] bare scheduler lateness p50 ${fmtMs(bare.p50)} p99 ${fmtMs(bare.p99)} max ${fmtMs(bare.max)}`);
  // Capacity: the same number of timers, all due at one instant; the engine drains them in rounds of up to 500.
  const burst = await enginePhase(backend, opts, 1, 10, 'all due at once');
  const span = (p: EnginePhase) => (p.lastPublish - p.firstDue) / 1000;
  return {
    backend,
    n: opts.timers,
    loadS: main.loadS,
    shiftS: main.shiftS,
    leadActualS: main.leadActualS,
    published: main.published,
    lateness: main.lateness,
    observedPerSec: main.published / span(main),
    busyShare: main.busyMs / (span(main) * 1000),
    rounds: main.rounds.length,
    roundMs: dist(main.rounds.map((r) => r.ms)),
    roundSize: dist(main.rounds.map((r) => r.n)),
    stallMaxMs: main.stallMaxMs,
    membersLeft: main.membersLeft,
    leftEvents: main.leftEvents,
    bare,
    burst: {
      published: burst.published,
      drainS: span(burst),
      perSec: burst.published / span(burst),
      roundMs: dist(burst.rounds.map((r) => r.ms)),
      roundSize: dist(burst.rounds.map((r) => r.n)),
      stallMaxMs: burst.stallMaxMs,
    },
  };
}

export async function benchSegmentTimers(opts: TimersOptions): Promise<string> {
  const results: TimersResult[] = [];
  for (const b of opts.backends) results.push(await runBackend(b, opts));
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = ['', ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: TimersResult) => string) => [label, ...results.map(f)];
  const d3 = (d: Dist) => `${fmtMs(d.p50)} / ${fmtMs(d.p99)} / ${fmtMs(d.max)}`;
  const rows = [
    row('generated state loaded in (+ time shift)', (r) => `${r.loadS.toFixed(1)} s (+ ${r.shiftS.toFixed(1)} s)`),
    row('engine idle before the first due time', (r) => `${r.leadActualS.toFixed(1)} s`),
    row("'left' changes published / timers", (r) => `${fmtInt(r.published)} / ${fmtInt(r.n)}`),
    row('engine lateness    p50 / p99 / max', (r) => d3(r.lateness)),
    row('baseline: bare setTimeout  p50 / p99 / max', (r) => d3(r.bare)),
    row('ratio engine p99 / bare p99', (r) => fmtRatio(r.lateness.p99 / Math.max(r.bare.p99, 1))),
    row(`engine p99 (target < ${fmtInt(TARGET_P99_MS)} ms)`, (r) => `${fmtMs(r.lateness.p99)} ${r.lateness.p99 < TARGET_P99_MS ? 'PASS' : 'BELOW'}`),
    row('throughput: published / (last publish − first due)', (r) => `${fmtInt(r.observedPerSec)} /s`),
    row(`  (due rate ${fmtInt(results[0]?.n ?? 0)} / ${opts.spreadS} s)`, () => `${fmtInt(opts.timers / opts.spreadS)} /s`),
    row('engine busy (time in rounds / that span)', (r) => r.busyShare.toFixed(2)),
    row('engine rounds: n, timers per round p50 / max', (r) => `${fmtInt(r.rounds)}, ${fmtInt(r.roundSize.p50)} / ${fmtInt(r.roundSize.max)}`),
    row('  round duration p50 / p99 / max', (r) => d3(r.roundMs)),
    row('longest event-loop stall of the process', (r) => `${fmtInt(r.stallMaxMs)} ms`),
    row("members left / 'Segment Left' events at the end", (r) => `${fmtInt(r.membersLeft)} / ${fmtInt(r.leftEvents)}`),
    row('capacity: all due at one instant, drained in', (r) => `${r.burst.drainS.toFixed(1)} s (${fmtInt(r.burst.published)})`),
    row('  changes/s while draining', (r) => `${fmtInt(r.burst.perSec)} /s`),
    row('  rounds: timers p50, duration p50 / p99', (r) => `${fmtInt(r.burst.roundSize.p50)}, ${fmtMs(r.burst.roundMs.p50)} / ${fmtMs(r.burst.roundMs.p99)}`),
    row('  longest event-loop stall', (r) => `${fmtInt(r.burst.stallMaxMs)} ms`),
  ];
  return [
    `segment-timers: ${fmtInt(opts.timers)} expiries of "Order Completed performed within 30 days", due uniformly over ${opts.spreadS} s, ` +
      `starting ~${opts.leadS} s after the generated state was loaded`,
    `lateness = publish time in engine.subscribe − due time (c.at); SegmentEngine alone in this process on the real clock (engine.start()); ` +
      `baseline = one setTimeout per due time in the same process, after the engine run; ` +
      `capacity = a second fresh store with the same number of timers all due at one instant`,
    '',
    table(header, rows),
  ].join('\n');
}
