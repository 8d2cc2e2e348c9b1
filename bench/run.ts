// Benchmark dispatcher: `npm run bench -- ingest-batch|ingest-single|import|all|segment-latency|segment-timers|
// segment-recompute|segments [--backend sqlite|postgres|both] [--duration N] [--rounds N] [--connections N]
// [--omnia-only] …`. See docs/benchmarks.md.
//
// Every figure is printed with a ratio against a baseline measured in the same run (medians of alternating rounds);
// nothing here asserts on timings.
import { parseArgs } from 'node:util';
import { type Backend, type BenchOptions, PG_ADMIN_URL, dropAllDatabases, loadAvg, log, machine, pgSettings } from './lib/common.ts';
import { benchIngest } from './ingest.ts';
import { benchImport } from './import.ts';
import { benchSegmentLatency } from './segments-latency.ts';
import { benchSegmentTimers } from './segments-timers.ts';
import { benchSegmentRecompute } from './segments-recompute.ts';
import { benchSegmentWebhook } from './segments-webhook.ts';
import { benchRender } from './render.ts';
import { benchArbiter } from './arbiter.ts';
import { benchSendEmail } from './send-email.ts';
import { benchSendOutbox } from './send-outbox.ts';
import { benchJourneyThroughput } from './journey-throughput.ts';
import { benchTriggerLatency } from './trigger-latency.ts';
import { benchBroadcast } from './broadcast.ts';
import { benchDashboard } from './dashboard.ts';

const USAGE = `usage: npm run bench -- ingest-batch|ingest-single|import|all [options]
       npm run bench -- segment-latency|segment-timers|segment-recompute|segment-webhook|segments [options]
       npm run bench -- render|arbiter|send-email|messaging [options]
       npm run bench -- journey-throughput|trigger-latency|broadcast|journeys [options]
       npm run bench -- dashboard [options]

  all = ingest-batch, ingest-single, import; segments = segment-latency, segment-timers, segment-recompute, segment-webhook
  messaging = render, arbiter, send-email
  journeys = journey-throughput, trigger-latency, broadcast

  --backend sqlite|postgres|both   store(s) to measure (default both)
  --duration N                     seconds per measured round of the HTTP benchmarks (default 5;
                                   segment-latency: seconds of load, default 10)
  --rounds N                       measured rounds per contender, alternating (default 3)
  --connections N                  autocannon connections (default 50)
  --omnia-only                     skip the baselines (for profiling Omnia, e.g. node --cpu-prof)
  --no-identity                    diagnostic: Omnia without its identity processor (production runs it)

  segment-latency:   --rate N (events/s, default 2000), --batch N (events/request, default 20), --warmup N (s, default 2)
  segment-timers:    --timers N (expiries, default 100000), --spread N (s over which they fall due, default 60),
                     --lead N (s between the end of loading and the first due time, default 25)
  segment-recompute: --profiles N (default 1000000), --events N (default 10000000)
  send-email:        --messages N (default 50000: the adapter against nodemailer, and the whole pipeline from the
                     outbox on each --backend), --pool N (SMTP connections, default 5)
  journey-throughput: --people N (default 100000)
  trigger-latency:   --rate N (Order Completed/s, default 1000 here), --batch N (default 20), --duration N (s, default 10),
                     --warmup N (s, default 2)
  broadcast:         --recipients N (default 200000), --pool N (SMTP connections, default 5); a 200k round takes
                     15 min per backend here: use --rounds 1
  dashboard:         --people N (default 2000), --events N (timeline events of the heavy profile, default 10000),
                     --repeats N (requests per API call, default 200); --rounds defaults to 5 here

PostgreSQL: ${PG_ADMIN_URL} (override with OMNIA_BENCH_PG_URL); a fresh database is created and dropped per benchmark.`;

const BENCHES = ['ingest-batch', 'ingest-single', 'import', 'segment-latency', 'segment-timers', 'segment-recompute', 'segment-webhook', 'render', 'arbiter', 'send-email', 'journey-throughput', 'trigger-latency', 'broadcast', 'dashboard'] as const;
const GROUPS: Record<string, BenchName[]> = {
  all: ['ingest-batch', 'ingest-single', 'import'],
  segments: ['segment-latency', 'segment-timers', 'segment-recompute', 'segment-webhook'],
  messaging: ['render', 'arbiter', 'send-email'],
  journeys: ['journey-throughput', 'trigger-latency', 'broadcast'],
};
type BenchName = (typeof BENCHES)[number];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      backend: { type: 'string', default: 'both' },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string', default: '50' },
      'omnia-only': { type: 'boolean', default: false },
      'no-identity': { type: 'boolean', default: false },
      rate: { type: 'string' },
      batch: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '2' },
      timers: { type: 'string', default: '100000' },
      spread: { type: 'string', default: '60' },
      lead: { type: 'string', default: '25' },
      profiles: { type: 'string', default: '1000000' },
      events: { type: 'string' },
      messages: { type: 'string', default: '50000' },
      pool: { type: 'string', default: '5' },
      people: { type: 'string' },
      recipients: { type: 'string', default: '200000' },
      repeats: { type: 'string', default: '200' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const name = positionals[0];
  if (values.help || !name) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!(name in GROUPS) && !(BENCHES as readonly string[]).includes(name)) {
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
    duration: num(values.duration ?? '5', '--duration', 1),
    rounds: Math.round(num(values.rounds ?? (name === 'dashboard' ? '5' : '3'), '--rounds', 1)),
    connections: Math.round(num(values.connections, '--connections', 1)),
    omniaOnly: values['omnia-only']!,
    noIdentity: values['no-identity']!,
    pgAdminUrl: PG_ADMIN_URL,
  };

  const names: BenchName[] = GROUPS[name] ?? [name as BenchName];
  const header = [`Omnia benchmarks, ${new Date().toISOString()}`, `machine: ${machine()}, load average at start ${loadAvg()}`];
  if (opts.backends.includes('postgres')) header.push(`store: ${await pgSettings(opts.pgAdminUrl)} on the same machine; SQLite via better-sqlite3`);
  console.log(header.join('\n'));
  for (const n of names) {
    log(`\n== ${n} ==`);
    let out: string;
    if (n === 'import') out = await benchImport(opts);
    else if (n === 'segment-latency') {
      out = await benchSegmentLatency({
        backends: opts.backends,
        durationS: num(values.duration ?? '10', '--duration', 1),
        warmupS: num(values.warmup, '--warmup', 0),
        rate: num(values.rate ?? '2000', '--rate', 1),
        batch: Math.round(num(values.batch, '--batch', 1)),
        pgAdminUrl: opts.pgAdminUrl,
      });
    } else if (n === 'segment-timers') {
      out = await benchSegmentTimers({
        backends: opts.backends,
        timers: Math.round(num(values.timers, '--timers', 1)),
        spreadS: num(values.spread, '--spread', 1),
        leadS: num(values.lead, '--lead', 5),
        pgAdminUrl: opts.pgAdminUrl,
      });
    } else if (n === 'segment-recompute') {
      out = await benchSegmentRecompute({
        backends: opts.backends,
        profiles: Math.round(num(values.profiles, '--profiles', 100)),
        events: Math.round(num(values.events ?? '10000000', '--events', 100)),
        pgAdminUrl: opts.pgAdminUrl,
      });
    } else if (n === 'render') {
      await benchRender({ rounds: opts.rounds });
      out = '';
    } else if (n === 'arbiter') {
      await benchArbiter({ rounds: opts.rounds });
      out = '';
    } else if (n === 'send-email') {
      const messages = Math.round(num(values.messages, '--messages', 1));
      const pool = Math.round(num(values.pool, '--pool', 1));
      await benchSendEmail({ messages, rounds: opts.rounds, pool });
      out = await benchSendOutbox({ backends: opts.backends, messages, rounds: opts.rounds, pool, pgAdminUrl: opts.pgAdminUrl });
    } else if (n === 'trigger-latency') {
      out = await benchTriggerLatency({
        backends: opts.backends,
        durationS: num(values.duration ?? '10', '--duration', 1),
        warmupS: num(values.warmup, '--warmup', 0),
        rate: num(values.rate ?? '1000', '--rate', 1),
        batch: Math.round(num(values.batch, '--batch', 1)),
        pgAdminUrl: opts.pgAdminUrl,
      });
    } else if (n === 'broadcast') {
      out = await benchBroadcast({ backends: opts.backends, recipients: Math.round(num(values.recipients, '--recipients', 2)), pool: Math.round(num(values.pool, '--pool', 1)), rounds: opts.rounds, pgAdminUrl: opts.pgAdminUrl });
    } else if (n === 'journey-throughput') {
      out = await benchJourneyThroughput({ backends: opts.backends, people: Math.round(num(values.people ?? '100000', '--people', 1)), pgAdminUrl: opts.pgAdminUrl });
    } else if (n === 'dashboard') {
      out = await benchDashboard({
        backends: opts.backends,
        rounds: opts.rounds,
        people: Math.round(num(values.people ?? '2000', '--people', 1)),
        events: Math.round(num(values.events ?? '10000', '--events', 1)),
        apiRepeats: Math.round(num(values.repeats, '--repeats', 1)),
        pgAdminUrl: opts.pgAdminUrl,
      });
    } else if (n === 'segment-webhook') {
      out = await benchSegmentWebhook(opts.backends);
    } else out = await benchIngest(n === 'ingest-batch' ? 'batch' : 'single', opts);
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
