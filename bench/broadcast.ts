// broadcast: a one-off email broadcast to a whole segment, from `send` until every message has reached the SMTP server.
//
// Per backend, once: `recipients` people (identify calls normalised by Omnia's normalizeCall, written through the
// group-commit writer in chunks, attributed by the identity processor; each with an email address, a first name, email
// consent and the trait newsletter = true), a segment of everyone with that trait (createSegment with wait, i.e.
// POST /api/segments?wait=true without HTTP), an SMTP provider with a pool of `pool` connections to a local sink in a
// child process (bench/lib/journeys-smtp-sink.ts), two MJML email templates personalised with the first name, and a
// policy without caps or quiet hours.
// Per round: a new broadcast with the two variants and no A/B winner phase (a 50/50 split), then `send`, driven in this
// process with the background workers OFF (openRuntime workers: false):
//   1. plan: rt.journeys.drain() — the broadcast runner takes the audience page by page (2,000 members per
//      transaction), assigns the variants and writes the recipients and their outbox messages;
//   2. delivery: rt.messaging.drain() — the messaging worker: arbiter + decision log, MJML render, signed links,
//      SMTP through the pooled adapter, outcome recorded.
// The figure is recipients / (last arrival at the sink − the moment `send` was called), both CLOCK_MONOTONIC.
// Baseline in the same run, alternating with Omnia's rounds: plain nodemailer with the same pool size sending one
// pre-rendered message of the same size N' = min(recipients, 50,000) times to the same sink.
import { performance } from 'node:perf_hooks';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { createSegment } from '../src/segments/service.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';
import { type Backend, createDatabase, fmtInt, fmtRatio, log, median, rmDir, table, tempDir } from './lib/common.ts';
import { monoMs } from './lib/segments-common.ts';
import { calibratePad, createPeople, nodemailerRound } from './lib/journeys-common.ts';
import { type JourneySink, startJourneySink } from './lib/journeys-smtp-sink.ts';

export interface BroadcastOptions {
  backends: Backend[];
  recipients: number;
  pool: number;
  rounds: number;
  pgAdminUrl: string;
}

const WS = 'default';
/** Baseline messages per round. */
const BASELINE_MAX = 50_000;

const body = (headline: string, cta: string, v: string) => `<mj-section><mj-column>
<mj-image src="https://cdn.shop.example/spring-${v}.jpg" alt="Spring sale" href="https://shop.example/sale?v=${v}" />
<mj-text font-size="20px">Hi {{ profile.traits.first_name | default: "there" }},</mj-text>
<mj-text>${headline}</mj-text>
<mj-text>Candles, lanterns and diffusers, hand-made in small batches. Free delivery over 40 EUR, returns within 30 days.</mj-text>
<mj-button href="https://shop.example/sale?v=${v}">${cta}</mj-button>
</mj-column></mj-section>
<mj-section><mj-column><mj-text font-size="12px">You get this email because you subscribed to our newsletter, {{ profile.traits.first_name | default: "friend" }}.</mj-text></mj-column></mj-section>`;
const VARIANTS = {
  A: { subject: 'Spring sale, {{ profile.traits.first_name }}: 20% off candles', mjml: body('Our spring sale starts today: 20% off every candle until Sunday.', 'Shop the sale', 'a') },
  B: { subject: '{{ profile.traits.first_name }}, your spring discount is here', mjml: body('Your spring discount is waiting: 20% off every candle, this week only.', 'Get my discount', 'b') },
};
const VARIANT_OF = (subject: string): 'A' | 'B' | null => (subject.startsWith('Spring sale, ') ? 'A' : subject.endsWith(', your spring discount is here') ? 'B' : null);

interface OmniaRound {
  planS: number;
  deliveryS: number;
  totalS: number;
  rate: number;
  deliveryRate: number;
  bytes: number;
  variants: { A: number; B: number; other: number };
  personalised: number;
}

interface BackendResult {
  backend: Backend;
  recipients: number;
  peopleS: number;
  segmentS: number;
  omnia: OmniaRound[];
  baseline: number[];
  baselineN: number;
  baselineBytes: number;
}

async function omniaRound(rt: Runtime, sink: JourneySink, segmentId: string, templates: { A: string; B: string }, recipients: number, round: number): Promise<OmniaRound> {
  const bc = rt.journeys.broadcasts;
  await sink.reset();
  const b = await bc.create(WS, {
    name: `Spring sale ${round + 1}`,
    segmentId,
    channel: 'email',
    topic: 'marketing',
    variants: [
      { id: 'A', templates: { email: templates.A } },
      { id: 'B', templates: { email: templates.B } },
    ],
  });
  const t0 = monoMs();
  await bc.send(WS, b.id);
  await rt.journeys.drain();
  const tPlanned = monoMs();
  const planned = await bc.progress(WS, b.id);
  if (planned.status !== 'sent' || planned.recipients !== recipients) throw new Error(`broadcast ${b.id}: ${planned.status} with ${planned.recipients} of ${recipients} recipients after planning`);
  await rt.messaging.drain();
  const s = await sink.stats();
  const done = await bc.progress(WS, b.id);
  if (s.messages !== recipients || done.messages.sent !== recipients) throw new Error(`broadcast ${b.id}: sink got ${s.messages}, ${JSON.stringify(done.messages)} of ${recipients}`);
  const arr = await sink.arrivals();
  const variants = { A: 0, B: 0, other: 0 };
  let personalised = 0;
  for (const subj of arr.subjects) {
    const v = VARIANT_OF(subj);
    variants[v ?? 'other']++;
    if (/\bName\d+\b/.test(subj)) personalised++;
  }
  const planS = (tPlanned - t0) / 1000;
  const deliveryS = (s.lastAt - tPlanned) / 1000;
  const totalS = (s.lastAt - t0) / 1000;
  return { planS, deliveryS, totalS, rate: recipients / totalS, deliveryRate: recipients / deliveryS, bytes: s.bytes / s.messages, variants, personalised };
}

async function runBackend(backend: Backend, opts: BroadcastOptions, sink: JourneySink): Promise<BackendResult> {
  const dataDir = tempDir('omnia-bench-broadcast-');
  const pgdb = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'broadcast') : null;
  const rt = await openRuntime(backend === 'postgres' ? { databaseUrl: pgdb!.url, workers: false, publicUrl: 'https://omnia.shop.example' } : { dataDir, workers: false, publicUrl: 'https://omnia.shop.example' });
  rt.store.pool?.on('error', () => {});
  try {
    await bootstrapDefaultWorkspace(rt.store, {});
    let t = performance.now();
    await createPeople(rt, WS, opts.recipients, 'r', { newsletter: true });
    await rt.segments.drain();
    const peopleS = (performance.now() - t) / 1000;
    log(`  [${backend}] ${fmtInt(opts.recipients)} people identified and attributed in ${peopleS.toFixed(1)} s`);
    t = performance.now();
    const seg = await createSegment(rt.store, rt.segments, WS, { name: 'Newsletter subscribers', definition: { kind: 'trait', trait: 'newsletter', op: 'eq', value: true } }, true);
    await rt.segments.drain();
    const segmentS = (performance.now() - t) / 1000;
    const members = Number((await rt.store.db.selectFrom('segment_members').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', WS).where('segment_id', '=', seg.id).executeTakeFirstOrThrow()).n);
    log(`  [${backend}] segment ${seg.id}: ${fmtInt(members)} members, recomputed in ${segmentS.toFixed(1)} s`);
    if (members !== opts.recipients) throw new Error(`segment has ${members} members, expected ${opts.recipients}`);

    const svc = rt.messaging;
    await svc.settings.setProvider(WS, 'email', { host: '127.0.0.1', port: sink.port, messageIdDomain: 'mail.shop.example', pool: { maxConnections: opts.pool } });
    await svc.settings.setPolicy(WS, { caps: [], quietHours: [] });
    const tA = await svc.templates.create(WS, 'spring-a', { channel: 'email', ...VARIANTS.A });
    const tB = await svc.templates.create(WS, 'spring-b', { channel: 'email', ...VARIANTS.B });

    const omnia: OmniaRound[] = [];
    const baseline: number[] = [];
    const baselineN = Math.min(opts.recipients, BASELINE_MAX);
    let baselineBytes = NaN;
    for (let r = 0; r < opts.rounds; r++) {
      const o = await omniaRound(rt, sink, seg.id, { A: tA.id, B: tB.id }, opts.recipients, r);
      omnia.push(o);
      log(
        `  [${backend}] round ${r + 1} Omnia: ${fmtInt(o.rate)} msg/s send → last at sink (${o.totalS.toFixed(1)} s: plan ${o.planS.toFixed(1)} s, delivery ${o.deliveryS.toFixed(1)} s = ${fmtInt(o.deliveryRate)} msg/s); ` +
          `A/B ${fmtInt(o.variants.A)}/${fmtInt(o.variants.B)}, ${fmtInt(o.bytes)} B/msg`,
      );
      const pad = await calibratePad(sink.port, o.bytes, async (send) => {
        await sink.reset();
        await send();
        return (await sink.stats()).bytes;
      });
      await sink.reset();
      baseline.push(await nodemailerRound(baselineN, sink.port, opts.pool, pad));
      const s = await sink.stats();
      if (s.messages !== baselineN) throw new Error(`nodemailer: sink got ${s.messages} of ${baselineN}`);
      baselineBytes = s.bytes / s.messages;
      log(`  [${backend}] round ${r + 1} nodemailer: ${fmtInt(baseline.at(-1)!)} msg/s (${fmtInt(baselineN)} messages, ${fmtInt(baselineBytes)} B/msg)`);
    }
    return { backend, recipients: opts.recipients, peopleS, segmentS, omnia, baseline, baselineN, baselineBytes };
  } finally {
    await rt.close();
    rmDir(dataDir);
    await pgdb?.drop();
  }
}

export async function benchBroadcast(opts: BroadcastOptions): Promise<string> {
  const sink = await startJourneySink();
  const results: BackendResult[] = [];
  try {
    for (const b of opts.backends) results.push(await runBackend(b, opts, sink));
  } finally {
    await sink.stop();
  }
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = [`broadcast (${fmtInt(opts.recipients)} recipients, pool ${opts.pool}, ${opts.rounds} round${opts.rounds > 1 ? 's' : ''})`, ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: BackendResult) => string) => [label, ...results.map(f)];
  const med = (r: BackendResult, f: (o: OmniaRound) => number) => median(r.omnia.map(f));
  const rows = [
    row('setup: people created + attributed', (r) => `${r.peopleS.toFixed(1)} s (${fmtInt(r.recipients / r.peopleS)}/s)`),
    row('setup: segment recompute (everyone)', (r) => `${r.segmentS.toFixed(1)} s`),
    row('plan: send → audience snapshot + outbox', (r) => `${med(r, (o) => o.planS).toFixed(1)} s (${fmtInt(r.recipients / med(r, (o) => o.planS))} recipients/s)`),
    row('delivery: planned → last message at the sink', (r) => `${med(r, (o) => o.deliveryS).toFixed(1)} s (${fmtInt(med(r, (o) => o.deliveryRate))} msg/s)`),
    row('Omnia: send → every message at the sink', (r) => `${fmtInt(med(r, (o) => o.rate))} msg/s (${med(r, (o) => o.totalS).toFixed(1)} s)`),
    row(`baseline: nodemailer pool, 1 pre-rendered message × N'`, (r) => `${fmtInt(median(r.baseline))} msg/s (N' ${fmtInt(r.baselineN)})`),
    row('ratio Omnia / nodemailer', (r) => fmtRatio(med(r, (o) => o.rate) / median(r.baseline))),
    row('  delivery only / nodemailer', (r) => fmtRatio(med(r, (o) => o.deliveryRate) / median(r.baseline))),
    row('variant split at the sink A / B (personalised subjects)', (r) => {
      const o = r.omnia.at(-1)!;
      return `${fmtInt(o.variants.A)} / ${fmtInt(o.variants.B)} (${fmtInt(o.personalised)})`;
    }),
    row('message size Omnia / baseline', (r) => `${fmtInt(r.omnia.at(-1)!.bytes)} / ${fmtInt(r.baselineBytes)} B`),
    row('rounds, Omnia msg/s', (r) => r.omnia.map((o) => fmtInt(o.rate)).join(', ')),
    row('rounds, nodemailer msg/s', (r) => r.baseline.map(fmtInt).join(', ')),
  ];
  return [
    `broadcast: one email broadcast to a segment of ${fmtInt(opts.recipients)} people (2 MJML variants with the first name, 50/50, no A/B winner phase), SMTP pool ${opts.pool} to a sink in a child process`,
    `driven in-process with the background workers off: rt.journeys.drain() plans the audience, then rt.messaging.drain() delivers; figure = recipients / (last arrival at the sink − send)`,
    `baseline = plain nodemailer, same pool, one pre-rendered message of the same size sent N' = min(recipients, ${fmtInt(BASELINE_MAX)}) times to the same sink; rounds alternate Omnia, nodemailer; medians`,
    '',
    table(header, rows),
  ].join('\n');
}
