// arbiter: decisions/s of the messaging arbiter (src/messaging/arbiter) over 1,000,000 queued messages for 100,000
// people, grouped per person and decided with one arbitrate() call each, against a baseline measured in the same run.
//
// Workload (generated in memory, seeded, identical every run):
//   people    100,000, spread over 10 time zones (incl. Asia/Kolkata +05:30, Asia/Kathmandu +05:45, Australia/Lord_Howe);
//             country from the zone (US, GB, FR, DE, IN, NP, JP, AU, BR); 0–10 recent sends each over the last 8 days
//             (70% marketing); reachable email 90%, sms 60%, push 50%, onsite 100%; 15% unsubscribed from marketing
//             email, SMS opt-in 40%; 3% suppressed email; 2% with an open support conversation; 30% preferred channel.
//   messages  1,000,000, each to a uniformly random person (so 0–~25 per person, mean 10); channel 35% best, 30% email,
//             15% sms, 15% push, 5% onsite; 10% transactional; priority 0–100; 10% notBefore within the next 6 h; 5% of
//             'best' have push excluded (a failed earlier attempt).
//   policy    caps all/day 3, all/week 10, sms/day 1; quiet hours sms 21:00–08:00, push 22:00–08:00, FR sms 20:00–08:00
//             and all Sunday (FR); overCap defer; now = 2026-03-04T20:00Z (evening in Europe, night in Asia, day in the
//             Americas, so every rule is hit).
// Baseline: the same loop over the same grouped data doing only the cheapest work any arbiter must do: per person, the
//   local calendar day of `now` from one formatToParts call on a cached Intl.DateTimeFormat for the person's zone, then
//   one pass over the person's pending messages and recent sends (summing priorities, counting marketing sends).
//   Per round: baseline and arbiter alternate (after one warm-up of each); figures are medians of the rounds.
import { performance } from 'node:perf_hooks';
import { fmtInt, fmtRatio, log, median, table } from './lib/common.ts';
import { prng } from './lib/events.ts';
import { arbitrate, type ArbiterPolicy, type ConsentState, type Decision, type MessageIntent, type PersonState, validatePolicy } from '../src/messaging/arbiter/index.ts';
import type { ChannelName } from '../src/messaging/types.ts';

const PEOPLE = 100_000;
const MESSAGES = 1_000_000;
const NOW = Date.UTC(2026, 2, 4, 20, 0);
const DAY = 86_400_000;

const ZONES: [string, string][] = [
  ['America/Los_Angeles', 'US'],
  ['America/New_York', 'US'],
  ['America/Sao_Paulo', 'BR'],
  ['Europe/London', 'GB'],
  ['Europe/Paris', 'FR'],
  ['Europe/Berlin', 'DE'],
  ['Asia/Kolkata', 'IN'],
  ['Asia/Kathmandu', 'NP'],
  ['Asia/Tokyo', 'JP'],
  ['Australia/Lord_Howe', 'AU'],
];


interface Workload {
  policy: ArbiterPolicy;
  people: PersonState[];
  pending: MessageIntent[][];
}

function generate(): Workload {
  const r = prng(20260304); // seeded: every run decides the same workload
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const checked = validatePolicy({
    caps: [
      { scope: 'all', period: 'day', max: 3 },
      { scope: 'all', period: 'week', max: 10 },
      { scope: 'sms', period: 'day', max: 1 },
    ],
    quietHours: [
      { channel: 'sms', start: '21:00', end: '08:00' },
      { channel: 'push', start: '22:00', end: '08:00' },
      { channel: 'sms', start: '20:00', end: '08:00', countries: ['FR'] },
      { channel: 'sms', start: '00:00', end: '24:00', countries: ['FR'], days: [0] },
    ],
    overCap: 'defer',
    fallbackOrder: ['push', 'sms', 'email'],
    defaultTimeZone: 'UTC',
  });
  if (!checked.ok) throw new Error(`bench policy invalid: ${JSON.stringify(checked.errors)}`);
  const channels: ChannelName[] = ['email', 'sms', 'push', 'onsite'];
  const people: PersonState[] = [];
  for (let i = 0; i < PEOPLE; i++) {
    const [zone, country] = pick(ZONES);
    const emailUnsub = r() < 0.15;
    const smsOptIn = r() < 0.4;
    const consent = (ch: ChannelName, _topic: string): ConsentState =>
      ch === 'email' ? (emailUnsub ? 'unsubscribed' : 'never_asked') : ch === 'sms' ? (smsOptIn ? 'subscribed' : 'never_asked') : 'never_asked';
    const recent: PersonState['recent'] = [];
    const nRecent = Math.floor(r() * 11);
    for (let k = 0; k < nRecent; k++) recent.push({ at: NOW - Math.floor(r() * 8 * DAY), channel: pick(channels), marketing: r() < 0.7 });
    people.push({
      profileId: `p${i}`,
      timeZone: zone,
      country,
      reachable: { email: r() < 0.9, sms: r() < 0.6, push: r() < 0.5, onsite: true },
      consent,
      suppressed: r() < 0.03 ? { email: 'bounced' } : {},
      supportOpen: r() < 0.02,
      preferredChannel: r() < 0.3 ? pick(channels) : null,
      recent,
    });
  }
  const pending: MessageIntent[][] = Array.from({ length: PEOPLE }, () => []);
  for (let i = 0; i < MESSAGES; i++) {
    const x = r();
    const channel: ChannelName | 'best' = x < 0.35 ? 'best' : x < 0.65 ? 'email' : x < 0.8 ? 'sms' : x < 0.95 ? 'push' : 'onsite';
    const transactional = r() < 0.1;
    const m: MessageIntent = { id: `m${i}`, channel, topic: transactional ? 'order-receipt' : 'promo', transactional, priority: Math.floor(r() * 101) };
    if (r() < 0.1) m.notBefore = NOW + Math.floor(r() * 6 * 3_600_000);
    if (channel === 'best' && r() < 0.05) m.exclude = ['push'];
    pending[Math.floor(r() * PEOPLE)]!.push(m);
  }
  return { policy: checked.value, people, pending };
}

interface Mix {
  send: number;
  defer: number;
  skip: number;
  codes: Map<string, number>;
}

function runArbiter(w: Workload, mix: Mix | null): number {
  let n = 0;
  for (let i = 0; i < PEOPLE; i++) {
    const batch = w.pending[i]!;
    if (batch.length === 0) continue;
    const ds: Decision[] = arbitrate(batch, w.people[i]!, w.policy, NOW);
    n += ds.length;
    if (mix) {
      for (const d of ds) {
        mix[d.action]++;
        if (d.action === 'skip') mix.codes.set(d.code, (mix.codes.get(d.code) ?? 0) + 1);
      }
    }
  }
  return n;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function cachedFormatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: 'numeric', day: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

let sink = 0;
function runBaseline(w: Workload): number {
  let n = 0;
  let acc = 0;
  for (let i = 0; i < PEOPLE; i++) {
    const batch = w.pending[i]!;
    if (batch.length === 0) continue;
    const p = w.people[i]!;
    const parts = cachedFormatter(p.timeZone!).formatToParts(NOW);
    let y = 0;
    let mo = 0;
    let d = 0;
    for (const x of parts) {
      if (x.type === 'year') y = Number(x.value);
      else if (x.type === 'month') mo = Number(x.value);
      else if (x.type === 'day') d = Number(x.value);
    }
    const dayKey = y * 10_000 + mo * 100 + d;
    let marketing = 0;
    for (const s of p.recent) if (s.marketing) marketing++;
    for (const m of batch) acc += m.priority + (m.transactional ? 0 : marketing);
    acc += dayKey & 1;
    n += batch.length;
  }
  sink ^= acc;
  return n;
}

export async function benchArbiter(opts: { rounds: number }): Promise<void> {
  const rounds = Math.max(1, Math.round(opts.rounds));
  log(`arbiter: generating ${fmtInt(MESSAGES)} messages for ${fmtInt(PEOPLE)} people`);
  const t0 = performance.now();
  const w = generate();
  log(`arbiter: generated in ${((performance.now() - t0) / 1000).toFixed(1)} s; warm-up`);
  const mix: Mix = { send: 0, defer: 0, skip: 0, codes: new Map() };
  runBaseline(w);
  const decided = runArbiter(w, mix);
  const base: number[] = [];
  const arb: number[] = [];
  for (let k = 0; k < rounds; k++) {
    let s = performance.now();
    const nb = runBaseline(w);
    base.push(nb / ((performance.now() - s) / 1000));
    s = performance.now();
    const na = runArbiter(w, null);
    arb.push(na / ((performance.now() - s) / 1000));
    log(`  round ${k + 1}/${rounds}: baseline ${fmtInt(base.at(-1)!)} msg/s, arbiter ${fmtInt(arb.at(-1)!)} decisions/s`);
  }
  const b = median(base);
  const a = median(arb);
  const pct = (x: number) => `${((100 * x) / decided).toFixed(1)}%`;
  const out = [
    `arbiter: ${fmtInt(MESSAGES)} queued messages over ${fmtInt(PEOPLE)} people in ${ZONES.length} time zones, one arbitrate() call per person ` +
      `(caps all/day 3, all/week 10, sms/day 1; SMS/push quiet hours, FR SMS hours; now ${new Date(NOW).toISOString()})`,
    `baseline = same loop over the same data: per person one formatToParts (cached Intl.DateTimeFormat) for the local day of now, ` +
      `plus one pass over its messages and recent sends; medians of ${rounds} alternating rounds`,
    '',
    table(
      ['', 'per second', 'ms per 1M', 'ratio to baseline'],
      [
        ['baseline (local day key + one pass)', fmtInt(b), fmtInt((MESSAGES / b) * 1000), '1.00'],
        ['arbiter decisions', fmtInt(a), fmtInt((MESSAGES / a) * 1000), fmtRatio(a / b)],
      ],
    ),
    '',
    table(
      ['decision mix', 'count', 'share'],
      [
        ['send', fmtInt(mix.send), pct(mix.send)],
        ['defer', fmtInt(mix.defer), pct(mix.defer)],
        ['skip', fmtInt(mix.skip), pct(mix.skip)],
        ...[...mix.codes.entries()].sort((x, y) => y[1] - x[1]).map(([c, n]) => [`  skip: ${c}`, fmtInt(n), pct(n)]),
      ],
    ),
  ].join('\n');
  if (sink === 0.5) log('');
  console.log(out);
}
