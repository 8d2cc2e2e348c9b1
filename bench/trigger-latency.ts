// trigger-latency: how long after an 'Order Completed' is sent does the post-purchase journey's thank-you email reach
// the SMTP server?
//
// Layout (2 cores): Omnia runs in this process as `omnia serve --role all` composes it (openRuntime with workers:
// writer + identity processor + segment engine + journey worker + messaging worker; buildServer listening on
// 127.0.0.1), with an SMTP provider pointing at a local sink in a child process (bench/lib/journeys-smtp-sink.ts: it
// takes each message's arrival time on CLOCK_MONOTONIC and its Subject). The post-purchase playbook is published: entry
// 'Order Completed' → the thank-you email at once (its subject carries {{ event.properties.order_id }}), then a 7-day
// wait. Policy without caps or quiet hours. The people exist before the run (identified, attributed).
// The load generator is a forked child (bench/lib/journeys-sender.ts): open loop, one POST /v1/batch of `batch`
// 'Order Completed' events every batch/rate seconds, a unique order id each, each person ordering once.
//
// A message's latency is (its arrival at the sink) − (send time of the request that carried its order), both
// monotonic. The same-run baseline is the HTTP ack latency of those same requests (a 200 means the events are
// committed). Nothing here asserts on timings.
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { type Backend, createDatabase, fmtInt, fmtMs, fmtRatio, log, rmDir, table, tempDir } from './lib/common.ts';
import { loopStalls, monoMs, sleep, startOmniaAdmin, type OmniaAdmin } from './lib/segments-common.ts';
import { type Dist4, OrderSender, createPeople, dist4 } from './lib/journeys-common.ts';
import { requestsFor } from './lib/journeys-sender.ts';
import { type JourneySink, startJourneySink } from './lib/journeys-smtp-sink.ts';
import { postPurchase } from '../src/journeys/playbooks.ts';
import { DEFAULT_WORKSPACE } from '../src/workspaces/keys.ts';
import { fromJson } from '../src/store/json.ts';
import { DEFAULT_TOPICS } from '../src/messaging/settings.ts';

export interface TriggerLatencyOptions {
  backends: Backend[];
  durationS: number;
  warmupS: number;
  rate: number;
  batch: number;
  pgAdminUrl: string;
}

export const TARGET_P99_MS = 250;
const WS = DEFAULT_WORKSPACE;
/** SMTP connections of Omnia's email provider. */
const POOL = 5;
/** After the last send, how long the benchmark waits for the sink to stop receiving before it gives up. */
const QUIET_GIVE_UP_MS = 30_000;

const THANKS_MJML = `<mj-section><mj-column>
<mj-text font-size="20px">Thank you, {{ profile.traits.first_name | default: "friend" }}!</mj-text>
<mj-text>We have received your order {{ event.properties.order_id }} of {{ event.properties.total }} {{ event.properties.currency }}:</mj-text>
{% for p in event.properties.products %}<mj-text>{{ p.quantity }} × {{ p.name }} ({{ p.price }} {{ event.properties.currency }})</mj-text>{% endfor %}
<mj-button href="https://shop.example/orders/{{ event.properties.order_id }}">Track your order</mj-button>
</mj-column></mj-section>`;
const SUBJECT_RE = /^Order (\S+) confirmed$/;

interface Batches {
  n: number;
  size: Dist4;
  ms: Dist4;
  busyMs: number;
}

/** Diagnostics only: wraps instance methods (nothing in src/ changes) to time the workers' rounds. */
function instrument(o: OmniaAdmin) {
  const rounds = { identity: [] as { size: number; ms: number }[], journeys: [] as { size: number; ms: number }[], messaging: [] as { size: number; ms: number }[] };
  const wrap = (obj: object, name: string, into: { size: number; ms: number }[]) => {
    const target = obj as Record<string, (...a: unknown[]) => Promise<number>>;
    const orig = target[name]!.bind(obj);
    target[name] = async (...a: unknown[]) => {
      const t = monoMs();
      const n = await orig(...a);
      if (n > 0) into.push({ size: n, ms: monoMs() - t });
      return n;
    };
  };
  wrap(o.rt.processor, 'runBatch', rounds.identity);
  wrap(o.rt.journeys, 'round', rounds.journeys);
  wrap(o.rt.messaging, 'round', rounds.messaging);
  const summary = (xs: { size: number; ms: number }[]): Batches => ({ n: xs.length, size: dist4(xs.map((x) => x.size)), ms: dist4(xs.map((x) => x.ms)), busyMs: xs.reduce((s, x) => s + x.ms, 0) });
  return {
    reset() {
      for (const k of Object.keys(rounds) as (keyof typeof rounds)[]) rounds[k].length = 0;
    },
    identity: () => summary(rounds.identity),
    journeys: () => summary(rounds.journeys),
    messaging: () => summary(rounds.messaging),
  };
}

export interface TriggerResult {
  backend: Backend;
  people: number;
  requests: number;
  ok: number;
  events: number;
  delivered: number;
  /** messages at the sink that were not for an order of the measured run (warm-up stragglers, duplicates) */
  foreign: number;
  duplicates: number;
  notSent: Record<string, number>;
  latency: Dist4;
  ack: Dist4;
  toOutbox: Dist4;
  outboxToSink: Dist4;
  elu: number;
  stall: { p99: number; max: number };
  senderLagMs: number;
  drainS: number;
  gaveUp: boolean;
  setupS: number;
  /** emails per second at the sink between the first and the last arrival */
  sinkRate: number;
  identity: Batches;
  journeys: Batches;
  messaging: Batches;
}

/** Waits until the sink has `want` messages, or nothing more arrived for QUIET_GIVE_UP_MS. */
async function awaitSink(sink: JourneySink, want: number): Promise<{ got: number; gaveUp: boolean }> {
  let last = -1;
  let lastChange = performance.now();
  for (;;) {
    const s = await sink.stats();
    if (s.messages >= want) return { got: s.messages, gaveUp: false };
    if (s.messages !== last) {
      last = s.messages;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > QUIET_GIVE_UP_MS) return { got: s.messages, gaveUp: true };
    await sleep(100);
  }
}

async function runBackend(backend: Backend, opts: TriggerLatencyOptions, sender: OrderSender, sink: JourneySink): Promise<TriggerResult> {
  const dataDir = tempDir('omnia-bench-trigger-');
  const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'trigger') : null;
  let o: OmniaAdmin | null = null;
  try {
    const s0 = performance.now();
    o = await startOmniaAdmin(backend, { dataDir, databaseUrl: db?.url });
    const rt = o.rt;
    const svc = rt.messaging;
    await svc.settings.setProvider(WS, 'email', { host: '127.0.0.1', port: sink.port, messageIdDomain: 'mail.shop.example', pool: { maxConnections: POOL } });
    await svc.settings.setPolicy(WS, { caps: [], quietHours: [] });
    // The playbook's consent topic (journeys must name a configured topic).
    await svc.settings.setTopics(WS, [...DEFAULT_TOPICS, { id: 'post_purchase', label: 'After your order', transactional: false }]);
    const email = (subject: string, mjml: string) => ({ channel: 'email', subject, mjml });
    const thanks = await svc.templates.create(WS, 'thanks', email('Order {{ event.properties.order_id }} confirmed', THANKS_MJML));
    const crossSell = await svc.templates.create(WS, 'cross-sell', email('You might also like', '<mj-section><mj-column><mj-text>More candles</mj-text></mj-column></mj-section>'));
    const review = await svc.templates.create(WS, 'review', email('How was it?', '<mj-section><mj-column><mj-text>Tell us</mj-text></mj-column></mj-section>'));
    const j = await rt.journeys.catalog.create(WS, postPurchase({ templates: { thanks: thanks.id, crossSell: crossSell.id, review: review.id } }));
    await rt.journeys.catalog.publish(WS, j.id);

    // One person per order: the warm-up's people first, then the measured run's.
    const warmEvents = opts.warmupS > 0 ? requestsFor(opts.rate, opts.batch, opts.warmupS) * opts.batch : 0;
    const runEvents = requestsFor(opts.rate, opts.batch, opts.durationS) * opts.batch;
    const people = warmEvents + runEvents;
    const userPrefix = 'buyer';
    log(`  [${backend}] post-purchase journey ${j.id} published; creating ${fmtInt(people)} people`);
    await createPeople(rt, WS, people, userPrefix);
    await rt.segments.drain();
    const setupS = (performance.now() - s0) / 1000;
    log(`  [${backend}] ${fmtInt(people)} people identified and attributed (setup ${setupS.toFixed(1)} s)`);

    const tag = randomBytes(2).toString('hex');
    const base = { url: o.url, authorization: o.writeAuth, rate: opts.rate, batch: opts.batch, userPrefix };
    if (warmEvents > 0) {
      await sink.reset();
      log(`  [${backend}] warm-up ${opts.warmupS} s at ${fmtInt(opts.rate)} orders/s`);
      const w = await sender.run({ ...base, durationS: opts.warmupS, first: 0, orderPrefix: `w${tag}-` });
      const wok = w.status.filter((s) => s === 200).length * opts.batch;
      const got = await awaitSink(sink, wok);
      log(`  [${backend}] warm-up: ${fmtInt(got.got)} of ${fmtInt(wok)} emails at the sink`);
    }
    const diag = instrument(o);
    await sink.reset();

    const orderPrefix = `m${tag}-`;
    log(`  [${backend}] measuring ${opts.durationS} s at ${fmtInt(opts.rate)} orders/s (${opts.batch} per POST every ${((opts.batch / opts.rate) * 1000).toFixed(0)} ms)`);
    // Wall clock ↔ monotonic, for the stage diagnostics (outbox rows carry wall-clock ms).
    const wallMinusMono = Date.now() - monoMs();
    const e0 = performance.eventLoopUtilization();
    const stalls = loopStalls();
    const r = await sender.run({ ...base, durationS: opts.durationS, first: warmEvents, orderPrefix });
    const stall = stalls.stop();
    const elu = performance.eventLoopUtilization(e0).utilization;
    const okReqs = r.status.filter((s) => s === 200).length;
    const events = okReqs * opts.batch;
    const tEnd = performance.now();
    const got = await awaitSink(sink, events);
    const drainS = (performance.now() - tEnd) / 1000;

    const sinkStats = await sink.stats();
    const arr = await sink.arrivals();
    const latency: number[] = [];
    const seen = new Set<string>();
    const arrivedAt = new Map<string, number>();
    let foreign = 0;
    let duplicates = 0;
    for (let i = 0; i < arr.subjects.length; i++) {
      const m = SUBJECT_RE.exec(arr.subjects[i]!);
      const order = m?.[1];
      if (!order || !order.startsWith(orderPrefix)) {
        foreign++;
        continue;
      }
      if (seen.has(order)) {
        duplicates++;
        continue;
      }
      seen.add(order);
      const e = Number(order.slice(orderPrefix.length));
      const req = Math.floor(e / opts.batch);
      if (r.status[req] !== 200) continue;
      latency.push(arr.at[i]! - r.sent[req]!);
      arrivedAt.set(order, arr.at[i]!);
    }
    const ack: number[] = [];
    for (let i = 0; i < r.sent.length; i++) if (r.status[i] === 200) ack.push(r.ack[i]! - r.sent[i]!);

    // Stages: the outbox row's created_at is the `now` of the journey round that queued the email (taken when that round
    // started): send → that round's start (identity + waiting for the journey worker), then → the sink (the rest of the
    // journey round, its commit, and the messaging worker: arbiter, render, SMTP).
    const msgs = await rt.store.db.selectFrom('messages').select(['created_at', 'context', 'status']).where('workspace_id', '=', WS).where('source', '=', `journey:${j.id}`).execute();
    const toOutbox: number[] = [];
    const outboxToSink: number[] = [];
    const notSent: Record<string, number> = {};
    for (const m of msgs) {
      const order = fromJson<{ event?: { properties?: { order_id?: string } } }>(m.context).event?.properties?.order_id;
      if (!order?.startsWith(orderPrefix)) continue;
      if (m.status !== 'sent') notSent[m.status] = (notSent[m.status] ?? 0) + 1;
      const req = Math.floor(Number(order.slice(orderPrefix.length)) / opts.batch);
      const created = Number(m.created_at) - wallMinusMono;
      toOutbox.push(created - r.sent[req]!);
      const at = arrivedAt.get(order);
      if (at !== undefined) outboxToSink.push(at - created);
    }
    const res: TriggerResult = {
      backend,
      people,
      requests: r.sent.length,
      ok: okReqs,
      events,
      delivered: latency.length,
      foreign,
      duplicates,
      notSent,
      latency: dist4(latency),
      ack: dist4(ack),
      toOutbox: dist4(toOutbox),
      outboxToSink: dist4(outboxToSink),
      elu,
      stall,
      senderLagMs: r.maxScheduleLagMs,
      drainS,
      gaveUp: got.gaveUp,
      setupS,
      sinkRate: sinkStats.messages > 1 ? (sinkStats.messages - 1) / ((sinkStats.lastAt - sinkStats.firstAt) / 1000) : NaN,
      identity: diag.identity(),
      journeys: diag.journeys(),
      messaging: diag.messaging(),
    };
    log(
      `  [${backend}] ${fmtInt(res.delivered)} of ${fmtInt(events)} emails: latency p50 ${fmtMs(res.latency.p50)} p99 ${fmtMs(res.latency.p99)} max ${fmtMs(res.latency.max)}; ` +
        `ack p99 ${fmtMs(res.ack.p99)}; ELU ${elu.toFixed(2)}; sink idle ${drainS.toFixed(1)} s after the last send${got.gaveUp ? ' (gave up waiting)' : ''}`,
    );
    return res;
  } finally {
    await o?.close();
    await db?.drop();
    rmDir(dataDir);
  }
}

export async function benchTriggerLatency(opts: TriggerLatencyOptions): Promise<string> {
  const sink = await startJourneySink();
  const sender = OrderSender.start();
  const results: TriggerResult[] = [];
  try {
    for (const b of opts.backends) results.push(await runBackend(b, opts, sender, sink));
  } finally {
    await sender.stop();
    await sink.stop();
  }
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = ['', ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: TriggerResult) => string) => [label, ...results.map(f)];
  const d4 = (d: Dist4) => `${fmtMs(d.p50)} / ${fmtMs(d.p90)} / ${fmtMs(d.p99)} / ${fmtMs(d.max)}`;
  const d2 = (d: Dist4) => `${fmtMs(d.p50)} / ${fmtMs(d.p99)}`;
  const rounds = (b: Batches) => `${fmtInt(b.n)}, ${fmtInt(b.size.p50)}, ${fmtMs(b.ms.p50)} / ${fmtMs(b.ms.p99)}`;
  // Busy share over the measured run and the drain after it (the workers keep working until the last email).
  const busy = (r: TriggerResult, b: Batches) => (b.busyMs / ((opts.durationS + r.drainS) * 1000)).toFixed(2);
  const rows = [
    row('requests (200) / orders sent', (r) => `${fmtInt(r.ok)}/${fmtInt(r.requests)} / ${fmtInt(r.events)}`),
    row('thank-you emails at the sink (of orders sent)', (r) => `${fmtInt(r.delivered)} (${fmtInt(r.events)})${r.gaveUp ? ' incomplete' : ''}`),
    row('order → email at SMTP  p50 / p90 / p99 / max', (r) => d4(r.latency)),
    row('baseline: HTTP ack     p50 / p90 / p99 / max', (r) => d4(r.ack)),
    row('ratio latency p99 / ack p99', (r) => fmtRatio(r.latency.p99 / r.ack.p99)),
    row(`latency p99 (target < ${TARGET_P99_MS} ms)`, (r) => `${fmtMs(r.latency.p99)} ${r.latency.p99 < TARGET_P99_MS ? 'PASS' : 'BELOW'}`),
    row('Omnia process ELU during the run', (r) => r.elu.toFixed(2)),
    row('Omnia event-loop delay p99 / max', (r) => `${fmtMs(r.stall.p99)} / ${fmtMs(r.stall.max)}`),
    row('sender max lag behind schedule', (r) => fmtMs(r.senderLagMs)),
    row('last email after the last send', (r) => `${r.drainS.toFixed(1)} s`),
    row('diagnostics: send → start of the journey round that queued it p50 / p99', (r) => d2(r.toOutbox)),
    row('             that round start → SMTP (journey tx + messaging) p50 / p99', (r) => d2(r.outboxToSink)),
    row('  identity batches: n, events p50, ms p50 / p99', (r) => rounds(r.identity)),
    row('  journey rounds: n, people p50, ms p50 / p99', (r) => rounds(r.journeys)),
    row('  messaging rounds: n, messages p50, ms p50 / p99', (r) => rounds(r.messaging)),
    row('  emails/s at the sink (first → last arrival) / orders offered per s', (r) => `${fmtInt(r.sinkRate)} / ${fmtInt(opts.rate)}`),
    row('  busy share of run + drain: identity / journeys / messaging', (r) => `${busy(r, r.identity)} / ${busy(r, r.journeys)} / ${busy(r, r.messaging)}`),
  ];
  const notes: string[] = [];
  for (const r of results) {
    const bad = Object.entries(r.notSent).map(([s, n]) => `${fmtInt(n)} ${s}`);
    if (bad.length) notes.push(`  ${names[r.backend]}: measured messages not 'sent' at the end: ${bad.join(', ')}`);
    if (r.foreign || r.duplicates) notes.push(`  ${names[r.backend]}: ${fmtInt(r.foreign)} emails at the sink were not for a measured order (warm-up stragglers), ${fmtInt(r.duplicates)} duplicates (ignored)`);
  }
  return [
    `trigger-latency: ${fmtInt(opts.rate)} 'Order Completed'/s for ${opts.durationS} s (${opts.batch} per POST /v1/batch every ${((opts.batch / opts.rate) * 1000).toFixed(0)} ms, open loop from a child process), ` +
      `each a unique order of a person identified beforehand (${results.map((r) => `${fmtInt(r.people)} people on ${names[r.backend]}`).join(', ')}), after a ${opts.warmupS} s warm-up`,
    `post-purchase playbook (thank-you email at once, MJML, subject with the order id); SMTP pool ${POOL} to a sink in a child process; policy without caps or quiet hours; Omnia as 'omnia serve --role all' (background workers)`,
    `latency = arrival at the SMTP sink − send time of the request carrying the order (both CLOCK_MONOTONIC); baseline = the HTTP ack latency of the same requests`,
    '',
    table(header, rows),
    ...(notes.length ? ['', ...notes] : []),
  ].join('\n');
}
