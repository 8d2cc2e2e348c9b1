// import: `node bin/omnia.mjs import orders datasets/online-retail/online_retail.csv.br` on a fresh store, timed as a
// whole process (wall clock from spawn to exit), against a same-run baseline process that only reads, decompresses
// and parses the same CSV (bench/lib/csv-baseline.ts). The ratio shows what the rest of the import (mapping,
// validation, identity, the store) costs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Backend, type BenchOptions, createDatabase, fmtInt, fmtRatio, log, median, rmDir, table, tempDir } from './lib/common.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const IMPORT_FILE = 'datasets/online-retail/online_retail.csv.br';
/** Data rows in the file (541,910 lines with the header). */
export const IMPORT_ROWS = 541_909;

interface ProcResult {
  code: number | null;
  seconds: number;
  stdout: string;
  stderr: string;
}

function timeProcess(args: string[], env: NodeJS.ProcessEnv): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, seconds: (performance.now() - t0) / 1000, stdout, stderr }));
  });
}

function tail(s: string, lines = 4): string {
  return s.trim().split('\n').slice(-lines).join('\n');
}

type Reader = 'bench' | 'omnia';
const READERS: Reader[] = ['bench', 'omnia'];

interface ImportBackendResult {
  backend: Backend;
  baseline: Record<Reader, number[]>;
  baselineFailure: Partial<Record<Reader, string>>;
  omnia: number[];
  failure?: string;
  lastOutput: string;
}

async function runBackend(backend: Backend, opts: BenchOptions): Promise<ImportBackendResult> {
  const res: ImportBackendResult = { backend, baseline: { bench: [], omnia: [] }, baselineFailure: {}, omnia: [], lastOutput: '' };
  const baseEnv = { ...process.env };
  delete baseEnv.DATABASE_URL;
  delete baseEnv.OMNIA_DATA_DIR;
  for (let i = 1; i <= opts.rounds; i++) {
    if (!opts.omniaOnly) {
      for (const reader of READERS) {
        if (res.baselineFailure[reader]) continue;
        const b = await timeProcess(['--import', 'tsx', path.join(ROOT, 'bench/lib/csv-baseline.ts'), '--reader', reader, IMPORT_FILE], baseEnv);
        let rows = NaN;
        try {
          rows = (JSON.parse(b.stdout) as { rows: number }).rows;
        } catch {
          /* reported below */
        }
        if (b.code !== 0 || rows !== IMPORT_ROWS) {
          res.baselineFailure[reader] = b.code !== 0 ? `exit ${b.code}: ${tail(b.stderr, 3)}` : `parsed ${rows} rows, expected ${IMPORT_ROWS}`;
          log(`  [${backend}] round ${i} parse-only (${reader} reader) FAILED: ${res.baselineFailure[reader]}`);
          continue;
        }
        res.baseline[reader].push(IMPORT_ROWS / b.seconds);
        log(`  [${backend}] round ${i} read+decompress+parse (${reader} reader)  ${b.seconds.toFixed(2)} s  ${fmtInt(IMPORT_ROWS / b.seconds)} rows/s`);
      }
    }
    // A fresh store per round.
    const dataDir = tempDir('omnia-bench-import-');
    const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'import') : null;
    try {
      const env = { ...baseEnv, OMNIA_DATA_DIR: dataDir, ...(db ? { DATABASE_URL: db.url } : {}) };
      // Rejected rows go to the temp dir, not into the work tree.
      const args = [path.join(ROOT, 'bin/omnia.mjs'), 'import', 'orders', IMPORT_FILE, '--rejects', path.join(dataDir, 'rejects.csv')];
      const r = await timeProcess(args, env);
      res.lastOutput = tail(r.stdout, 12);
      if (r.code !== 0) {
        res.failure = `exit ${r.code} after ${r.seconds.toFixed(1)} s: ${tail(r.stderr || r.stdout, 6)}`;
        log(`  [${backend}] round ${i} omnia import FAILED (${res.failure})`);
        break;
      }
      res.omnia.push(IMPORT_ROWS / r.seconds);
      log(`  [${backend}] round ${i} omnia import orders  ${r.seconds.toFixed(2)} s  ${fmtInt(IMPORT_ROWS / r.seconds)} rows/s`);
    } finally {
      await db?.drop();
      rmDir(dataDir);
    }
  }
  return res;
}

export async function benchImport(opts: BenchOptions): Promise<string> {
  const results: ImportBackendResult[] = [];
  for (const b of opts.backends) results.push(await runBackend(b, opts));
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const rows: string[][] = [];
  const row = (label: string, f: (r: ImportBackendResult) => string) => [label, ...results.map(f)];
  const base = (r: ImportBackendResult, reader: Reader) => (r.baselineFailure[reader] ? NaN : median(r.baseline[reader]));
  const imp = (r: ImportBackendResult) => (r.failure ? NaN : median(r.omnia));
  if (!opts.omniaOnly) {
    rows.push(row('parse only, bench CSV parser      rows/s', (r) => fmtInt(base(r, 'bench'))));
    rows.push(row("parse only, importer's readCsv    rows/s", (r) => fmtInt(base(r, 'omnia'))));
  }
  rows.push(row('omnia import orders               rows/s', (r) => (r.failure ? 'FAILED' : fmtInt(imp(r)))));
  rows.push(row('omnia import orders               seconds', (r) => (r.failure ? 'n/a' : (IMPORT_ROWS / imp(r)).toFixed(1))));
  if (!opts.omniaOnly) {
    rows.push(row('ratio import / bench parser', (r) => fmtRatio(imp(r) / base(r, 'bench'))));
    rows.push(row("ratio import / importer's readCsv", (r) => fmtRatio(imp(r) / base(r, 'omnia'))));
  }
  const out = [
    `import: node bin/omnia.mjs import orders ${IMPORT_FILE} (${fmtInt(IMPORT_ROWS)} rows), fresh store per round`,
    `medians of ${opts.rounds} alternating rounds; every figure is a whole process timed from spawn to exit (Node + tsx start-up included in all)`,
    '',
    table(['', ...results.map((r) => names[r.backend])], rows),
    '',
  ];
  for (const r of results) {
    const n = names[r.backend];
    if (r.failure) out.push(`  ${n}: the import command failed: ${r.failure}`);
    for (const [reader, f] of Object.entries(r.baselineFailure)) out.push(`  ${n}: parse-only baseline (${reader}) failed: ${f}`);
    out.push(
      `  ${n} rounds (rows/s): bench parser [${r.baseline.bench.map(fmtInt).join(', ')}] readCsv [${r.baseline.omnia.map(fmtInt).join(', ')}] import [${r.omnia.map(fmtInt).join(', ')}]`,
    );
    if (!r.failure && r.lastOutput) out.push(`  ${n} import output (last round):\n${r.lastOutput.replace(/^/gm, '    ')}`);
  }
  return out.join('\n');
}
