// Benchmark dispatcher: `npm run bench -- ingest-batch|ingest-single|import|all [--backend sqlite|postgres|both]
// [--duration N] [--rounds N] [--connections N] [--omnia-only]`. See docs/benchmarks.md.
//
// Every figure is printed with a ratio against a baseline measured in the same run (medians of alternating rounds);
// nothing here asserts on timings.
import { parseArgs } from 'node:util';
import { type Backend, type BenchOptions, PG_ADMIN_URL, dropAllDatabases, loadAvg, log, machine, pgSettings } from './lib/common.ts';
import { benchIngest } from './ingest.ts';
import { benchImport } from './import.ts';

const USAGE = `usage: npm run bench -- ingest-batch|ingest-single|import|all [options]

  --backend sqlite|postgres|both   store(s) to measure (default both)
  --duration N                     seconds per measured round of the HTTP benchmarks (default 5)
  --rounds N                       measured rounds per contender, alternating (default 3)
  --connections N                  autocannon connections (default 50)
  --omnia-only                     skip the baselines (for profiling Omnia, e.g. node --cpu-prof)
  --no-identity                    diagnostic: Omnia without its identity processor (production runs it)

PostgreSQL: ${PG_ADMIN_URL} (override with OMNIA_BENCH_PG_URL); a fresh database is created and dropped per benchmark.`;

const BENCHES = ['ingest-batch', 'ingest-single', 'import'] as const;
type BenchName = (typeof BENCHES)[number];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string', default: 'both' },
      duration: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '3' },
      connections: { type: 'string', default: '50' },
      'omnia-only': { type: 'boolean', default: false },
      'no-identity': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const name = positionals[0];
  if (values.help || !name) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (name !== 'all' && !(BENCHES as readonly string[]).includes(name)) {
    console.error(`unknown benchmark "${name}"\n\n${USAGE}`);
    return 2;
  }
  const backend = values.backend;
  if (backend !== 'sqlite' && backend !== 'postgres' && backend !== 'both') {
    console.error('--backend must be sqlite, postgres or both');
    return 2;
  }
  const num = (v: string | undefined, flag: string, min: number) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new Error(`${flag} must be a number ≥ ${min}`);
    return n;
  };
  const opts: BenchOptions = {
    backends: backend === 'both' ? ['sqlite', 'postgres'] : [backend as Backend],
    duration: num(values.duration, '--duration', 1),
    rounds: Math.round(num(values.rounds, '--rounds', 1)),
    connections: Math.round(num(values.connections, '--connections', 1)),
    omniaOnly: values['omnia-only']!,
    noIdentity: values['no-identity']!,
    pgAdminUrl: PG_ADMIN_URL,
  };

  const names: BenchName[] = name === 'all' ? [...BENCHES] : [name as BenchName];
  const header = [`Omnia benchmarks, ${new Date().toISOString()}`, `machine: ${machine()}, load average at start ${loadAvg()}`];
  if (opts.backends.includes('postgres')) header.push(`store: ${await pgSettings(opts.pgAdminUrl)} on the same machine; SQLite via better-sqlite3`);
  console.log(header.join('\n'));
  for (const n of names) {
    log(`\n== ${n} ==`);
    const out = n === 'import' ? await benchImport(opts) : await benchIngest(n === 'ingest-batch' ? 'batch' : 'single', opts);
    console.log(`\n${out}\n(load average after ${n}: ${loadAvg()})`);
  }
  return 0;
}

let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  log('interrupted: dropping benchmark databases');
  void dropAllDatabases().finally(() => process.exit(130));
});

main(process.argv.slice(2)).then(
  async (code) => {
    await dropAllDatabases();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    await dropAllDatabases();
    process.exit(1);
  },
);
