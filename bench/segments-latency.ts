// segment-latency: how long after an event is sent does the membership change it causes reach rt.segments.subscribe?
//
// Layout (2 cores): Omnia runs in this process as `omnia serve --role all` composes it (openRuntime with workers:
// writer + identity processor + segment engine + webhooks; buildServer listening on 127.0.0.1). The load generator is a
// forked child (bench/lib/segments-sender.ts): open loop, one POST /v1/batch of `batch` events every batch/rate
// seconds over keep-alive connections. Every event is for a fresh userId, so each one creates a person and changes at
// least one membership. A change's latency is (publish time in rt.segments.subscribe) − (send time of the request that
// carried its event); both on CLOCK_MONOTONIC. The same-run baseline is the HTTP ack latency of those same requests
// (a 200 means the events are committed).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { type Backend, createDatabase, fmtInt, fmtMs, fmtRatio, log, rmDir, table, tempDir } from './lib/common.ts';
import { type Dist, dist, loopStalls, monoMs, sleep, startOmniaAdmin, type OmniaAdmin } from './lib/segments-common.ts';
import { KINDS, type SenderResult, type SenderRun } from './lib/segments-sender.ts';
import { DEFAULT_WORKSPACE } from '../src/workspaces/keys.ts';

export interface LatencyOptions {
  backends: Backend[];
  durationS: number;
  warmupS: number;
  rate: number;
  batch: number;
  pgAdminUrl: string;
}

export const TARGET_P99_MS = 250;
const SENDER = fileURLToPath(new URL('./lib/segments-sender.ts', import.meta.url));

/** The custom computed property (PUT /api/computed-properties/searches_7d). */
const CUSTOM = { name: 'searches_7d', definition: { event: 'Products Searched', agg: 'count', window: { amount: 7, unit: 'days' } } };

/** The 10 live segments; `ref` entries are resolved to the ids of segments created before them. */
function segmentDefs(ids: Record<string, string>): { key: string; name: string; kind: string; definition: unknown }[] {
  return [
    {
      key: 'candles',
      name: 'Candle buyers (30 d, > 50)',
      kind: 'event count in window + property filters',
      definition: {
        kind: 'event',
        event: 'Order Completed',
        op: 'count',
        count: { op: 'gte', value: 1 },
        window: { amount: 30, unit: 'days' },
        filters: [
          { path: 'products[].category', op: 'eq', value: 'Candles' },
          { path: 'total', op: 'gt', value: 50 },
        ],
      },
    },
    {
      key: 'browsed',
      name: 'Browsed, not bought (7 d)',
      kind: 'not-performed',
      definition: {
        kind: 'and',
        conditions: [
          { kind: 'event', event: 'Product Viewed', op: 'performed', window: { amount: 7, unit: 'days' } },
          { kind: 'event', event: 'Order Completed', op: 'not_performed', window: { amount: 7, unit: 'days' } },
        ],
      },
    },
    { key: 'gold', name: 'Gold plan', kind: 'trait', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' } },
    { key: 'germany', name: 'In Germany', kind: 'geo', definition: { kind: 'geo', country: ['DE'] } },
    { key: 'spent', name: 'Spent over 100', kind: 'computed total_spent', definition: { kind: 'computed', property: 'total_spent', op: 'gt', value: 10_000 } },
    { key: 'recent', name: 'Ordered this week', kind: 'computed days_since_last_order', definition: { kind: 'computed', property: 'days_since_last_order', op: 'lte', value: 6 } },
    {
      key: 'cart',
      name: 'Cart viewed today, no email opened (30 d)',
      kind: 'engagement (negated) + event',
      definition: {
        kind: 'and',
        conditions: [
          { kind: 'event', event: 'Cart Viewed', op: 'performed', window: { amount: 1, unit: 'days' } },
          { kind: 'engagement', action: 'opened', channel: 'email', window: { amount: 30, unit: 'days' }, negate: true },
        ],
      },
    },
    {
      key: 'bigAbroad',
      name: 'Big spenders outside Germany',
      kind: 'segment references',
      definition: {
        kind: 'and',
        conditions: [
          { kind: 'segment', segmentId: ids.spent },
          { kind: 'segment', segmentId: ids.germany, negate: true },
        ],
      },
    },
    { key: 'searchers', name: 'Searched this week', kind: 'custom computed property', definition: { kind: 'computed', property: `custom.${CUSTOM.name}`, op: 'gte', value: 1 } },
    {
      key: 'newSignups',
      name: 'Signed up in the last 7 days',
      kind: 'first_performed',
      definition: { kind: 'first_performed', event: 'Signed Up', op: 'within_last', window: { amount: 7, unit: 'days' } },
    },
  ];
}

/** Memberships each event kind is expected to enter for a new person (checked against what is published). */
const EXPECTED: Record<(typeof KINDS)[number], string[]> = {
  'candle-order': ['candles', 'spent', 'recent', 'bigAbroad'],
  'product-viewed': ['browsed'],
  'identify-gold': ['gold'],
  'cart-in-germany': ['germany', 'cart'],
  search: ['searchers'],
  'signed-up': ['newSignups'],
  'small-order-germany': ['recent', 'germany'],
};

interface Change {
  profileId: string;
  segmentId: string;
  change: string;
  t: number;
  /** start of the segment worker round (runOnce) that published it */
  roundStart: number;
}

interface Batches {
  n: number;
  size: Dist;
  ms: Dist;
  /** total time inside batches (ms) */
  busyMs: number;
}

/**
 * Diagnostics only: wraps the identity processor's runBatch and the segment engine's runOnce (instance properties,
 * nothing in src/ changes) to time every batch, and to know when the round that published a change started.
 */
function instrument(o: OmniaAdmin) {
  const id: { size: number; ms: number }[] = [];
  const seg: { size: number; ms: number }[] = [];
  let roundStart = NaN;
  const proc = o.rt.processor as unknown as { runBatch: (limit?: number) => Promise<number> };
  const origBatch = proc.runBatch.bind(o.rt.processor);
  proc.runBatch = async (limit?: number) => {
    const t = monoMs();
    const n = await origBatch(limit);
    if (n > 0) id.push({ size: n, ms: monoMs() - t });
    return n;
  };
  const eng = o.rt.segments as unknown as { runOnce: () => Promise<number> };
  const origOnce = eng.runOnce.bind(o.rt.segments);
  eng.runOnce = async () => {
    const t = monoMs();
    roundStart = t;
    const n = await origOnce();
    if (n > 0) seg.push({ size: n, ms: monoMs() - t });
    return n;
  };
  const summary = (xs: { size: number; ms: number }[]): Batches => ({
    n: xs.length,
    size: dist(xs.map((x) => x.size)),
    ms: dist(xs.map((x) => x.ms)),
    busyMs: xs.reduce((sum, x) => sum + x.ms, 0),
  });
  return {
    roundStart: () => roundStart,
    reset() {
      id.length = 0;
      seg.length = 0;
    },
    identity: () => summary(id),
    segments: () => summary(seg),
  };
}

export interface LatencyResult {
  backend: Backend;
  requests: number;
  ok: number;
  events: number;
  expected: number;
  published: number;
  membersAtEnd: number;
  unmatched: number;
  fromSend: Dist;
  fromAck: Dist;
  ack: Dist;
  elu: number;
  stall: { p99: number; max: number };
  senderLagMs: number;
  bySegment: { name: string; n: number; p99: number }[];
  drainS: number;
  /** send → start of the segment round that published the change; that round's start → publish */
  toRound: Dist;
  inRound: Dist;
  identityBatches: Batches;
  segmentRounds: Batches;
}

class Sender {
  private constructor(private readonly child: ReturnType<typeof fork>) {}
  static start(): Sender {
    return new Sender(fork(SENDER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  run(r: Omit<SenderRun, 'cmd'>): Promise<SenderResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`sender exited (${code}) during a run`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        const msg = m as SenderResult | { type: 'error'; message: string };
        if (msg.type === 'error') reject(new Error(msg.message));
        else resolve(msg);
      });
      this.child.send({ cmd: 'run', ...r } satisfies SenderRun);
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** Waits until every acknowledged event is committed, attributed, and every queued person re-evaluated. */
async function settle(o: OmniaAdmin): Promise<void> {
  await o.rt.writer.flush();
  await o.rt.processor.drain();
  await o.rt.segments.drain();
  await sleep(200);
  await o.rt.processor.drain();
  await o.rt.segments.drain();
}

async function runBackend(backend: Backend, opts: LatencyOptions, sender: Sender): Promise<LatencyResult> {
  const dataDir = tempDir('omnia-bench-seglat-');
  const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'seglat') : null;
  let o: OmniaAdmin | null = null;
  try {
    o = await startOmniaAdmin(backend, { dataDir, databaseUrl: db?.url });
    await o.api('PUT', `/api/computed-properties/${CUSTOM.name}`, { definition: CUSTOM.definition });
    const ids: Record<string, string> = {};
    const names = new Map<string, string>();
    // Built again for each segment so that references resolve to the ids created so far.
    for (let i = 0; i < segmentDefs(ids).length; i++) {
      const s = segmentDefs(ids)[i]!;
      const created = await o.api<{ id: string }>('POST', '/api/segments?wait=true', { name: s.name, definition: s.definition });
      ids[s.key] = created.id;
      names.set(created.id, s.name);
    }
    const keyOf = new Map(Object.entries(ids).map(([k, id]) => [id, k]));
    log(`  [${backend}] 10 segments live (${segmentDefs(ids).map((s) => s.kind).join('; ')})`);

    const changes: Change[] = [];
    const diag = instrument(o);
    o.rt.segments.subscribe((c) => changes.push({ profileId: c.profileId, segmentId: c.segmentId, change: c.change, t: monoMs(), roundStart: diag.roundStart() }));

    const tag = randomBytes(2).toString('hex');
    const base = { url: o.url, authorization: o.writeAuth, rate: opts.rate, batch: opts.batch };
    if (opts.warmupS > 0) {
      log(`  [${backend}] warm-up ${opts.warmupS} s at ${fmtInt(opts.rate)} events/s`);
      await sender.run({ ...base, durationS: opts.warmupS, prefix: `w${tag}-` });
      await settle(o);
    }
    changes.length = 0;
    diag.reset();

    const prefix = `m${tag}-`;
    log(`  [${backend}] measuring ${opts.durationS} s at ${fmtInt(opts.rate)} events/s (${opts.batch} events every ${((opts.batch / opts.rate) * 1000).toFixed(0)} ms)`);
    const e0 = performance.eventLoopUtilization();
    const stalls = loopStalls();
    const r = await sender.run({ ...base, durationS: opts.durationS, prefix });
    const stall = stalls.stop();
    const elu = performance.eventLoopUtilization(e0).utilization;
    const t0 = performance.now();
    await settle(o);
    const drainS = (performance.now() - t0) / 1000;
    const identityBatches = diag.identity();
    const segmentRounds = diag.segments();

    // userId → request; profile → userId (identifiers written by the identity processor)
    const idRows = await o.rt.store.db
      .selectFrom('identifiers')
      .select(['value', 'profile_id'])
      .where('workspace_id', '=', DEFAULT_WORKSPACE)
      .where('kind', '=', 'user_id')
      .where('value', 'like', `${prefix}%`)
      .execute();
    const reqOf = new Map<string, { req: number; slot: number }>();
    for (const row of idRows) {
      const [req, slot] = row.value.slice(prefix.length).split('-').map(Number) as [number, number];
      reqOf.set(row.profile_id, { req, slot });
    }
    const fromSend: number[] = [];
    const fromAck: number[] = [];
    const toRound: number[] = [];
    const inRound: number[] = [];
    const perSeg = new Map<string, number[]>();
    let unmatched = 0;
    for (const c of changes) {
      const w = reqOf.get(c.profileId);
      if (!w) {
        unmatched++;
        continue;
      }
      const d = c.t - r.sent[w.req]!;
      fromSend.push(d);
      toRound.push(c.roundStart - r.sent[w.req]!);
      inRound.push(c.t - c.roundStart);
      if (Number.isFinite(r.ack[w.req]!)) fromAck.push(c.t - r.ack[w.req]!);
      (perSeg.get(c.segmentId) ?? perSeg.set(c.segmentId, []).get(c.segmentId)!).push(d);
    }
    const ackLat: number[] = [];
    let ok = 0;
    let expected = 0;
    for (let i = 0; i < r.sent.length; i++) {
      if (r.status[i] !== 200) continue;
      ok++;
      ackLat.push(r.ack[i]! - r.sent[i]!);
      for (let j = 0; j < opts.batch; j++) expected += EXPECTED[KINDS[(i * opts.batch + j) % KINDS.length]!].length;
    }
    const members = await o.rt.store.db.selectFrom('segment_members').select(['profile_id', 'segment_id']).where('workspace_id', '=', DEFAULT_WORKSPACE).execute();
    const membersAtEnd = members.filter((m) => reqOf.has(m.profile_id)).length;
    const bySegment = [...perSeg].map(([id, xs]) => ({ name: `${names.get(id) ?? id} [${keyOf.get(id)}]`, n: xs.length, p99: dist(xs).p99 }));
    const res: LatencyResult = {
      backend,
      requests: r.sent.length,
      ok,
      events: ok * opts.batch,
      expected,
      published: fromSend.length,
      membersAtEnd,
      unmatched,
      fromSend: dist(fromSend),
      fromAck: dist(fromAck),
      ack: dist(ackLat),
      elu,
      stall,
      senderLagMs: r.maxScheduleLagMs,
      bySegment,
      drainS,
      toRound: dist(toRound),
      inRound: dist(inRound),
      identityBatches,
      segmentRounds,
    };
    log(
      `  [${backend}] ${fmtInt(res.published)} changes (expected ${fmtInt(expected)}): from send p50 ${fmtMs(res.fromSend.p50)} p99 ${fmtMs(res.fromSend.p99)} max ${fmtMs(res.fromSend.max)}; ` +
        `ack p50 ${fmtMs(res.ack.p50)} p99 ${fmtMs(res.ack.p99)}; ELU ${elu.toFixed(2)}; drained ${drainS.toFixed(1)} s after the last send`,
    );
    return res;
  } finally {
    await o?.close();
    await db?.drop();
    rmDir(dataDir);
  }
}

export async function benchSegmentLatency(opts: LatencyOptions): Promise<string> {
  const sender = Sender.start();
  const results: LatencyResult[] = [];
  try {
    for (const b of opts.backends) results.push(await runBackend(b, opts, sender));
  } finally {
    await sender.stop();
  }
  const names: Record<Backend, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
  const header = ['', ...results.map((r) => names[r.backend])];
  const row = (label: string, f: (r: LatencyResult) => string) => [label, ...results.map(f)];
  const d3 = (d: Dist) => `${fmtMs(d.p50)} / ${fmtMs(d.p99)} / ${fmtMs(d.max)}`;
  const batches = (b: Batches) => `${fmtInt(b.n)}, ${fmtInt(b.size.p50)}, ${fmtMs(b.ms.p50)} / ${fmtMs(b.ms.p99)}`;
  const busy = (b: Batches) => (b.busyMs / (opts.durationS * 1000)).toFixed(2);
  const ratio = (r: LatencyResult) => r.fromSend.p99 / r.ack.p99;
  const rows = [
    row('requests (200) / events sent', (r) => `${fmtInt(r.ok)}/${fmtInt(r.requests)} / ${fmtInt(r.events)}`),
    row('membership changes published (expected)', (r) => `${fmtInt(r.published)} (${fmtInt(r.expected)})`),
    row('members at the end (measured people)', (r) => fmtInt(r.membersAtEnd)),
    row('change latency from send  p50 / p99 / max', (r) => d3(r.fromSend)),
    row('change latency from ack   p50 / p99 / max', (r) => d3(r.fromAck)),
    row('baseline: HTTP ack        p50 / p99 / max', (r) => d3(r.ack)),
    row('ratio change p99 / ack p99', (r) => fmtRatio(ratio(r))),
    row(`change p99 (target < ${TARGET_P99_MS} ms)`, (r) => `${fmtMs(r.fromSend.p99)} ${r.fromSend.p99 < TARGET_P99_MS ? 'PASS' : 'BELOW'}`),
    row('Omnia process ELU during the run', (r) => r.elu.toFixed(2)),
    row('Omnia event-loop delay p99 / max', (r) => `${fmtMs(r.stall.p99)} / ${fmtMs(r.stall.max)}`),
    row('sender max lag behind schedule', (r) => fmtMs(r.senderLagMs)),
    row('settle after the last send', (r) => `${r.drainS.toFixed(1)} s`),
    row('diagnostics: send → start of publishing round p50 / p99', (r) => `${fmtMs(r.toRound.p50)} / ${fmtMs(r.toRound.p99)}`),
    row('             publishing round start → publish p50 / p99', (r) => `${fmtMs(r.inRound.p50)} / ${fmtMs(r.inRound.p99)}`),
    row('  identity batches: n, events p50, ms p50 / p99', (r) => batches(r.identityBatches)),
    row('  segment rounds: n, people+timers p50, ms p50 / p99', (r) => batches(r.segmentRounds)),
    row('  busy share of the run: identity / segment worker', (r) => `${busy(r.identityBatches)} / ${busy(r.segmentRounds)}`),
  ];
  const notes: string[] = [];
  for (const r of results) {
    notes.push(`  ${names[r.backend]} changes (p99) by segment: ${r.bySegment.map((s) => `${s.name} ${fmtInt(s.n)} (${fmtMs(s.p99)})`).join('; ')}`);
    if (r.unmatched) notes.push(`  ${names[r.backend]}: ${r.unmatched} published changes were for people not sent in the measured run (ignored)`);
  }
  return [
    `segment-latency: ${fmtInt(opts.rate)} events/s for ${opts.durationS} s (${opts.batch} events per POST /v1/batch every ${((opts.batch / opts.rate) * 1000).toFixed(0)} ms, ` +
      `open loop from a child process), every event for a new userId, 10 live segments + 1 custom computed property`,
    `latency = publish in rt.segments.subscribe (after the 'Segment Entered' event is committed) − send time of the request; ` +
      `baseline = the HTTP ack latency of the same requests; after a ${opts.warmupS} s warm-up`,
    '',
    table(header, rows),
    '',
    ...notes,
  ].join('\n');
}
