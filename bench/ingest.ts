// ingest-batch and ingest-single: Omnia's tracking API under load, against same-run ceilings.
//
// Layout (2 cores): the benchmark's main process hosts the contender being measured (Omnia, the bare node:http
// server, or the bare-storage loop) and nothing else runs in it during a round; autocannon runs in a forked child
// process with pre-generated bodies. PostgreSQL (when used) is a separate server on the same machine.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  type Backend,
  type BenchOptions,
  createDatabase,
  fmtInt,
  fmtMs,
  fmtRatio,
  log,
  median,
  rmDir,
  table,
  tempDir,
  verdict,
} from './lib/common.ts';
import { LoadGen } from './lib/loadgen-client.ts';
import type { RoundResult } from './lib/loadgen.ts';
import { TIME_ORDERED_IDS } from './lib/events.ts';
import { type Listening, type OmniaUnderTest, type StorageCeiling, startBareHttp, startBareStorage, startOmnia } from './lib/targets.ts';

export const BATCH_SIZE = 100;
export const TARGET = 0.5;
const USERS = 3000;
const SEED = 20240601;
/** Pre-generated bodies in the load generator's pool (cycled; every use gets fresh messageIds). */
const POOL_BODIES = { batch: 200, single: 5000 };

/**
 * Storage-ceiling settings: transactions as large as Omnia's largest flush (EventWriter maxFlushRows, 5,000 rows);
 * on PostgreSQL two connections in parallel, the best of 1/2/4 on this machine (see docs/benchmarks.md).
 */
export const STORAGE = {
  sqlite: { batchRows: Number(process.env.BENCH_STORAGE_BATCH ?? 5000), concurrency: 1 },
  postgres: { batchRows: Number(process.env.BENCH_STORAGE_BATCH ?? 5000), concurrency: Number(process.env.BENCH_STORAGE_CONCURRENCY ?? 2) },
};
const MIN_STORAGE_ROWS = 50_000;

interface Series {
  perSec: number[];
  p50: number[];
  p99: number[];
  elu: number[];
}

const series = (): Series => ({ perSec: [], p50: [], p99: [], elu: [] });

interface Summary {
  perSec: number;
  p50: number;
  p99: number;
  /** Event-loop utilisation of the benchmark's main process (the contender) during the rounds. */
  elu: number;
}

const summarize = (s: Series): Summary => ({ perSec: median(s.perSec), p50: median(s.p50), p99: median(s.p99), elu: median(s.elu) });

export interface IngestResult {
  backend: Backend;
  http: Summary;
  storage?: { perSec: number; describe: string };
  omnia: Summary & { failed: number; identityBacklog: number; identityDrainS: number };
  stored: { acknowledged: number; inDb: number; bareRows: number };
  rounds: { http: number[]; storage: number[]; omnia: number[] };
}

function describeFailures(r: RoundResult): string {
  const codes = Object.entries(r.statusCodes)
    .filter(([c]) => !c.startsWith('2'))
    .map(([c, n]) => `${n}×${c}`)
    .join(' ');
  return [codes, r.errors ? `${r.errors} errors` : '', r.timeouts ? `${r.timeouts} timeouts` : ''].filter(Boolean).join(', ');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runBackend(kind: 'batch' | 'single', backend: Backend, opts: BenchOptions, lg: LoadGen): Promise<IngestResult> {
  const dataDir = tempDir('omnia-bench-');
  const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, kind) : null;
  const where = { dataDir, databaseUrl: db?.url };
  let omnia: OmniaUnderTest | null = null;
  let storage: StorageCeiling | null = null;
  let bare: Listening | null = null;
  try {
    omnia = await startOmnia(backend, where, { workers: !opts.noIdentity });
    bare = await startBareHttp();
    if (kind === 'batch' && !opts.omniaOnly) {
      storage = await startBareStorage(backend, where, { ...STORAGE[backend], seed: SEED, poolRows: POOL_BODIES.batch * BATCH_SIZE, prefix: 'st' });
    }
    const path = kind === 'batch' ? '/v1/batch' : '/v1/track';
    const perReq = kind === 'batch' ? BATCH_SIZE : 1;
    const unit = kind === 'batch' ? 'ev/s' : 'req/s';
    const round = async (url: string, into: Series | null, duration = opts.duration) => {
      const e0 = performance.eventLoopUtilization();
      const r = await lg.run({ url, path, authorization: omnia!.authorization, connections: opts.connections, duration });
      const elu = performance.eventLoopUtilization(e0).utilization;
      const perSec = (r.ok * perReq) / r.durationS;
      if (into) {
        into.perSec.push(perSec);
        into.p50.push(r.p50);
        into.p99.push(r.p99);
        into.elu.push(elu);
      }
      const line = `${fmtInt(perSec).padStart(9)} ${unit}  p50 ${fmtMs(r.p50)}  p99 ${fmtMs(r.p99)}  ELU ${elu.toFixed(2)}${r.non2xx || r.errors ? `  (${describeFailures(r)})` : ''}`;
      return { ...r, line };
    };

    const http = series();
    const om = series();
    const st: number[] = [];
    let acknowledged = 0;
    let failed = 0;
    const backlogs: number[] = [];
    const drains: number[] = [];
    // Requests Omnia had already read when autocannon stopped are still answered: let them in, then wait until
    // everything is committed and attributed, so the next round (often a baseline) has the machine to itself.
    const settle = async () => {
      await sleep(200);
      const backlog = await omnia!.backlog();
      const t0 = performance.now();
      await omnia!.settle();
      return { backlog, drainS: (performance.now() - t0) / 1000 };
    };

    // Warm-up (not counted): JIT, connection pools, SQLite page cache.
    const warm = Math.min(2, opts.duration);
    log(`  [${backend}] warm-up ${warm} s each`);
    if (!opts.omniaOnly) await round(bare.url, null, warm);
    acknowledged += (await round(omnia.url, null, warm)).ok * perReq;
    await settle();

    for (let i = 1; i <= opts.rounds; i++) {
      if (!opts.omniaOnly) {
        log(`  [${backend}] round ${i} bare HTTP  ${(await round(bare.url, http)).line}`);
        if (storage) {
          // Same table size as Omnia's: insert as many rows as Omnia stored since the last storage round, so both
          // measure inserts into indexes of the same size (the cost per insert grows with the index).
          const rows = Math.max((await omnia.count()) - (await storage.count()), MIN_STORAGE_ROWS);
          const s = await storage.round(rows);
          st.push(s.rowsPerSec);
          log(`  [${backend}] round ${i} bare store ${fmtInt(s.rowsPerSec).padStart(9)} ev/s  (${fmtInt(s.rows)} rows in ${s.seconds.toFixed(1)} s)`);
        }
      }
      const o = await round(omnia.url, om);
      acknowledged += o.ok * perReq;
      failed += o.non2xx + o.errors;
      const { backlog, drainS } = await settle();
      backlogs.push(backlog);
      drains.push(drainS);
      log(`  [${backend}] round ${i} Omnia      ${o.line}  identity backlog ${fmtInt(backlog)} events, drained in ${drainS.toFixed(1)} s`);
    }
    const inDb = await omnia.count();
    const bareRows = storage ? await storage.count() : 0;
    return {
      backend,
      http: summarize(http),
      storage: storage ? { perSec: median(st), describe: storage.describe } : undefined,
      omnia: { ...summarize(om), failed, identityBacklog: median(backlogs), identityDrainS: median(drains) },
      stored: { acknowledged, inDb, bareRows },
      rounds: { http: http.perSec, storage: st, omnia: om.perSec },
    };
  } finally {
    await bare?.close();
    await storage?.close();
    await omnia?.close();
    await db?.drop();
    rmDir(dataDir);
  }
}

export async function benchIngest(kind: 'batch' | 'single', opts: BenchOptions): Promise<string> {
  const lg = await LoadGen.start({
    mode: kind,
    seed: SEED,
    users: USERS,
    batchSize: BATCH_SIZE,
    poolSize: POOL_BODIES[kind],
    prefix: randomBytes(1).toString('hex'),
  });
  const results: IngestResult[] = [];
  try {
    log(
      `ingest-${kind}: ${lg.info.bodies} pre-generated bodies, mean ${fmtInt(lg.info.meanBodyBytes)} B/request, mean ${lg.info.meanEventBytes} B/event, ` +
        `${fmtInt(lg.info.distinctUsers)} distinct userIds`,
    );
    for (const b of opts.backends) results.push(await runBackend(kind, b, opts, lg));
  } finally {
    await lg.stop();
  }
  return report(kind, opts, results, lg.info);
}

function report(kind: 'batch' | 'single', opts: BenchOptions, results: IngestResult[], info: LoadGen['info']): string {
  const unit = kind === 'batch' ? 'events/s' : 'req/s';
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = ['', ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: IngestResult) => string) => [label, ...results.map(f)];
  const withVerdict = (x: number) => `${fmtRatio(x)} ${verdict(x, TARGET)}`;
  const rows: string[][] = [];
  if (!opts.omniaOnly) {
    rows.push(row(`bare node:http + JSON.parse   ${unit}`, (r) => fmtInt(r.http.perSec)));
    rows.push(row(`                              p50 / p99`, (r) => `${fmtMs(r.http.p50)} / ${fmtMs(r.http.p99)}`));
    rows.push(row(`                              server ELU`, (r) => r.http.elu.toFixed(2)));
    if (kind === 'batch') rows.push(row(`bare storage, no HTTP         events/s`, (r) => fmtInt(r.storage?.perSec ?? NaN)));
  }
  rows.push(row(`Omnia                         ${unit}`, (r) => fmtInt(r.omnia.perSec)));
  rows.push(row(`                              p50 / p99`, (r) => `${fmtMs(r.omnia.p50)} / ${fmtMs(r.omnia.p99)}`));
  rows.push(row(`                              server ELU`, (r) => r.omnia.elu.toFixed(2)));
  rows.push(row(`                              non-2xx + errors`, (r) => fmtInt(r.omnia.failed)));
  rows.push(row(`identity backlog at round end (drain time)`, (r) => `${fmtInt(r.omnia.identityBacklog)} ev (${r.omnia.identityDrainS.toFixed(1)} s)`));
  rows.push(row(`events acknowledged / stored`, (r) => `${fmtInt(r.stored.acknowledged)} / ${fmtInt(r.stored.inDb)}`));
  if (kind === 'batch' && !opts.omniaOnly) rows.push(row(`rows in the bare table at the end`, (r) => fmtInt(r.stored.bareRows)));
  if (!opts.omniaOnly) {
    const httpRatio = (r: IngestResult) => r.omnia.perSec / r.http.perSec;
    // Work per busy second of the server process: fair when the baseline could not be saturated by the load generator.
    const cpuRatio = (r: IngestResult) => r.omnia.perSec / r.omnia.elu / (r.http.perSec / r.http.elu);
    if (kind === 'batch') {
      rows.push(row(`ratio Omnia / HTTP ceiling`, (r) => fmtRatio(httpRatio(r))));
      rows.push(row(`ratio Omnia / storage ceiling`, (r) => fmtRatio(r.omnia.perSec / (r.storage?.perSec ?? NaN))));
      rows.push(row(`ratio Omnia / lower ceiling (target ≥ ${TARGET})`, (r) => withVerdict(r.omnia.perSec / Math.min(r.http.perSec, r.storage?.perSec ?? Infinity))));
    } else {
      rows.push(row(`ratio Omnia / HTTP ceiling (target ≥ ${TARGET})`, (r) => withVerdict(httpRatio(r))));
      rows.push(row(`same, per busy second of the server (÷ ELU)`, (r) => withVerdict(cpuRatio(r))));
    }
  }
  const ids = TIME_ORDERED_IDS ? 'time-ordered messageIds (BENCH_MESSAGE_IDS=time)' : 'random messageIds';
  const title =
    kind === 'batch'
      ? `ingest-batch: POST /v1/batch, ${BATCH_SIZE} events/request (mean ${info.meanEventBytes} B/event, ${fmtInt(info.meanBodyBytes)} B/request), ${opts.connections} connections, ${fmtInt(info.distinctUsers)} userIds, ${ids}`
      : `ingest-single: POST /v1/track, 1 event/request (mean ${fmtInt(info.meanBodyBytes)} B), ${opts.connections} connections, ${fmtInt(info.distinctUsers)} userIds, ${ids}`;
  const notes: string[] = [];
  for (const r of results) {
    notes.push(
      `  ${names[r.backend]} rounds (${unit}): HTTP [${r.rounds.http.map(fmtInt).join(', ')}]` +
        (kind === 'batch' ? ` storage [${r.rounds.storage.map(fmtInt).join(', ')}]` : '') +
        ` Omnia [${r.rounds.omnia.map(fmtInt).join(', ')}]`,
    );
  }
  for (const r of results) if (r.storage) notes.push(`  storage ceiling on ${names[r.backend]}: ${r.storage.describe}`);
  for (const r of results) {
    if (!opts.omniaOnly && r.http.elu < 0.9) {
      notes.push(
        `  note (${names[r.backend]}): the bare server was only ${Math.round(r.http.elu * 100)}% busy, so the HTTP ceiling was set by the load generator ` +
          `(one core for autocannon); the plain ratio flatters Omnia, the ÷ ELU ratio does not.`,
      );
    }
  }
  return [
    title,
    `medians of ${opts.rounds} alternating rounds × ${opts.duration} s after a warm-up; layout: contender in the main process ` +
      `(Omnia = store + group-commit writer + ${opts.noIdentity ? 'NO identity processor (diagnostic run, not production)' : 'identity processor'} + Fastify, logging off), ` +
      `autocannon in a child process, PostgreSQL local`,
    '',
    table(header, rows),
    '',
    ...notes,
  ].join('\n');
}
