// Shared bits of the segment benchmarks: percentiles, a clock both processes can read, RSS sampling, and Omnia
// in-process as `omnia serve --role all` composes it, with its admin key (segments are created over the admin API).
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { buildServer } from '../../src/app/server.ts';
import { bootstrapDefaultWorkspace } from '../../src/workspaces/keys.ts';
import type { Store } from '../../src/store/db.ts';
import type { Backend } from './common.ts';

/**
 * Milliseconds on CLOCK_MONOTONIC (libuv's uv_hrtime). On Linux this clock is system-wide, so a timestamp taken in the
 * load generator's process and one taken in Omnia's process can be subtracted directly (unlike performance.now(),
 * whose origin is per process).
 */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Nearest-rank percentile of an ascending array (p in 0..100). */
export function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function dist(xs: number[]): Dist {
  const s = Float64Array.from(xs).sort();
  const a = Array.from(s);
  return { n: a.length, p50: pct(a, 50), p99: pct(a, 99), max: a.length ? a[a.length - 1]! : NaN };
}

/**
 * Samples the process RSS every `everyMs` from a worker thread. A worker, because the main event loop can be blocked
 * for seconds: on SQLite every query resolves synchronously, so an engine loop that always finds more work never
 * yields to timers (see docs/benchmarks.md). `stop()` returns the peak, the RSS at start, and the number of samples.
 */
export function rssSampler(everyMs = 100): { stop(): Promise<{ peak: number; start: number; samples: number }> } {
  const start = process.memoryUsage.rss();
  const shared = new Float64Array(new SharedArrayBuffer(16));
  shared[0] = start;
  const w = new Worker(
    `const { workerData } = require('node:worker_threads');
     const a = new Float64Array(workerData.buf);
     setInterval(() => { const r = process.memoryUsage.rss(); a[1]++; if (r > a[0]) a[0] = r; }, workerData.every);`,
    { eval: true, workerData: { buf: shared.buffer, every: everyMs } },
  );
  return {
    async stop() {
      await w.terminate();
      const r = process.memoryUsage.rss();
      return { peak: Math.max(shared[0]!, r), start, samples: shared[1]! };
    },
  };
}

/**
 * Event-loop delay of this process: a 10 ms heartbeat records how late each tick is; `stop()` also counts the time
 * since the last tick (a loop blocked until the very end would otherwise never be seen).
 */
export function loopStalls(): { stop(): { p99: number; max: number } } {
  const every = 10;
  let last = performance.now();
  const delays: number[] = [];
  const t = setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - last - every));
    last = now;
  }, every);
  return {
    stop() {
      clearInterval(t);
      delays.push(Math.max(0, performance.now() - last - every));
      const d = dist(delays);
      return { p99: d.p99, max: d.max };
    },
  };
}

export const MB = 2 ** 20;
export const fmtMB = (b: number) => `${Math.round(b / MB).toLocaleString('en-US')} MB`;
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Omnia under test with both keys: write key for /v1, admin key for /api. */
export interface OmniaAdmin {
  rt: Runtime;
  app: FastifyInstance;
  url: string;
  writeAuth: string;
  adminAuth: string;
  /** Admin API call; throws on a non-2xx answer. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  close(): Promise<void>;
}

export async function startOmniaAdmin(backend: Backend, where: { dataDir?: string; databaseUrl?: string }): Promise<OmniaAdmin> {
  const rt = await openRuntime({ ...(backend === 'postgres' ? { databaseUrl: where.databaseUrl } : { dataDir: where.dataDir }), workers: true });
  rt.store.pool?.on('error', () => {});
  const writeKey = `omw_bench_${randomBytes(12).toString('hex')}`;
  const adminKey = `oma_bench_${randomBytes(12).toString('hex')}`;
  await bootstrapDefaultWorkspace(rt.store, { writeKey, adminKey });
  const app = await buildServer(rt, { logLevel: 'silent' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const adminAuth = `Bearer ${adminKey}`;
  return {
    rt,
    app,
    url,
    writeAuth: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    adminAuth,
    async api<T>(method: string, path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: adminAuth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : undefined) as T;
    },
    async close() {
      await app.close();
      await rt.close();
    },
  };
}

/** On-disk size of tables (with their indexes): SQLite via dbstat (per b-tree), PostgreSQL via pg_total_relation_size. */
export async function tableBytes(store: Store, tables: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  if (store.sqlite) {
    await store.exclusiveSqlite((db) => {
      const size = db.prepare('SELECT coalesce(sum(pgsize), 0) AS s FROM dbstat WHERE name = ?');
      for (const t of tables) {
        const btrees = db.prepare(`SELECT name FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index')`).all(t) as { name: string }[];
        out[t] = btrees.reduce((sum, b) => sum + (size.get(b.name) as { s: number }).s, 0);
      }
    });
  } else {
    for (const t of tables) {
      const r = await store.pool!.query<{ s: string }>('SELECT pg_total_relation_size($1::regclass) AS s', [t]);
      out[t] = Number(r.rows[0]!.s);
    }
  }
  return out;
}
