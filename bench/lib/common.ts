// Shared bits of the benchmarks: options, medians, table printing, fresh SQLite dirs and PostgreSQL databases.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type Backend = 'sqlite' | 'postgres';

export interface BenchOptions {
  backends: Backend[];
  /** Seconds per measured round. */
  duration: number;
  /** Measured rounds per contender (alternating). */
  rounds: number;
  connections: number;
  /** Skip the baselines (for profiling Omnia alone). */
  omniaOnly: boolean;
  /** Diagnostic: run Omnia without its identity processor (not how production runs). */
  noIdentity: boolean;
  pgAdminUrl: string;
}

export const PG_ADMIN_URL = process.env.OMNIA_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

export function fmtMs(n: number): string {
  return Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} ms` : 'n/a';
}

export function fmtRatio(n: number): string {
  return Number.isFinite(n) ? n.toFixed(2) : 'n/a';
}

export function verdict(ratio: number, target: number): string {
  if (!Number.isFinite(ratio)) return '';
  return ratio >= target ? 'PASS' : 'BELOW';
}

/** Prints a left-aligned first column and right-aligned others. */
export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? (c ?? '').padEnd(widths[i]!) : (c ?? '').padStart(widths[i]!))).join('   ');
  const sep = widths.map((w) => '-'.repeat(w)).join('   ');
  return [line(header), sep, ...rows.map(line)].join('\n');
}

export function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export function machine(): string {
  const cpus = os.cpus();
  return `${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** 1-minute load average: anything well above 0 means other work shared the machine during the run. */
export function loadAvg(): string {
  return os.loadavg()[0]!.toFixed(2);
}

/** A fresh PostgreSQL database (CREATE DATABASE), dropped by `drop()`; registered for cleanup on Ctrl-C. */
export interface FreshDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

const liveDbs = new Set<FreshDb>();

export async function createDatabase(adminUrl: string, tag: string): Promise<FreshDb> {
  const name = `omnia_bench_${tag}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const db: FreshDb = {
    name,
    url: u.toString(),
    async drop() {
      liveDbs.delete(db);
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
  liveDbs.add(db);
  return db;
}

export async function dropAllDatabases(): Promise<void> {
  for (const db of [...liveDbs]) await db.drop().catch((e: unknown) => log(`could not drop ${db.name}: ${String(e)}`));
}

export async function pgSettings(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const get = async (k: string) => (await c.query<{ v: string }>(`SELECT current_setting('${k}') AS v`)).rows[0]!.v;
    const version = await get('server_version');
    return `PostgreSQL ${version} (fsync=${await get('fsync')}, synchronous_commit=${await get('synchronous_commit')}, shared_buffers=${await get('shared_buffers')})`;
  } finally {
    await c.end();
  }
}
