// The oracle test: random event streams, identity links and clock advances, evaluated incrementally (work queue +
// exact timers) — then a full recompute from the event log must change nothing. On both backends.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeCall } from '../src/ingest/normalize.ts';
import type { Condition } from '../src/segments/definition.ts';
import { createSegment } from '../src/segments/service.ts';
import { createWorkspace } from '../src/workspaces/keys.ts';
import type { Runtime } from '../src/app/runtime.ts';
import { BACKENDS, openTestRuntime } from './helpers.ts';

const DAY = 86_400_000;
// The property is the same on both backends; PostgreSQL's share checks its dialect's SQL paths (timers, upserts,
// JSON filters), which a few hundred histories cover, at ~0.15 s a history. Raise both with the env variables for a
// deeper search.
const RUNS: Record<string, number> = {
  sqlite: Number(process.env.OMNIA_PBT_RUNS ?? 1000),
  postgres: Number(process.env.OMNIA_PBT_RUNS_PG ?? process.env.OMNIA_PBT_RUNS ?? 400),
};

const SEGMENTS: { name: string; def: (ids: Record<string, string>) => Condition }[] = [
  { name: 'bought in 3 days', def: () => ({ kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 3, unit: 'days' } }) },
  {
    name: '2+ candle orders over 20 in 5 days',
    def: () => ({
      kind: 'event',
      event: 'Order Completed',
      op: 'count',
      count: { op: 'gte', value: 2 },
      window: { amount: 5, unit: 'days' },
      filters: [
        { path: 'products[].category', op: 'eq', value: 'Candles' },
        { path: 'total', op: 'gt', value: 20 },
      ],
    }),
  },
  { name: 'viewed, no order in 2 days', def: () => ({ kind: 'and', conditions: [{ kind: 'event', event: 'Product Viewed', op: 'performed', window: { amount: 2, unit: 'days' } }, { kind: 'event', event: 'Order Completed', op: 'not_performed', window: { amount: 2, unit: 'days' } }] }) },
  { name: 'German or VIP', def: () => ({ kind: 'or', conditions: [{ kind: 'geo', country: ['DE'] }, { kind: 'trait', trait: 'vip', op: 'eq', value: true }] }) },
  { name: 'lapsed: 4+ days since last order', def: () => ({ kind: 'computed', property: 'days_since_last_order', op: 'gte', value: 4 }) },
  { name: 'recent buyer, not German-or-VIP', def: (ids) => ({ kind: 'and', conditions: [{ kind: 'segment', segmentId: ids['bought in 3 days']! }, { kind: 'segment', segmentId: ids['German or VIP']!, negate: true }] }) },
  { name: 'candle spend over 40 in 3 days (custom)', def: () => ({ kind: 'computed', property: 'custom.candle_spend', op: 'gt', value: 40 }) },
  { name: 'last viewed within 1 day', def: () => ({ kind: 'last_performed', event: 'Product Viewed', op: 'within_last', window: { amount: 1, unit: 'days' } }) },
];

type Step =
  | { k: 'order'; user: number; anon: boolean; category: string; total: number; offset: number }
  | { k: 'view'; user: number; anon: boolean; offset: number }
  | { k: 'identify'; user: number; country: string; vip: boolean }
  | { k: 'login'; user: number }
  | { k: 'advance'; ms: number };

const user = fc.integer({ min: 0, max: 3 });
// Events land around "now": mostly in the recent past, sometimes slightly in the future (clock skew).
const offset = fc.integer({ min: -6 * DAY, max: DAY / 2 });
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ k: fc.constant('order' as const), user, anon: fc.boolean(), category: fc.constantFrom('Candles', 'Soap'), total: fc.integer({ min: 1, max: 60 }), offset }),
  fc.record({ k: fc.constant('view' as const), user, anon: fc.boolean(), offset }),
  fc.record({ k: fc.constant('identify' as const), user, country: fc.constantFrom('DE', 'FR', 'Germany'), vip: fc.boolean() }),
  fc.record({ k: fc.constant('login' as const), user }),
  fc.record({ k: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 4 * DAY }) }),
);

describe.each(BACKENDS)('incremental + timers == full recompute (%s)', (backend) => {
  let rt: Runtime;
  let cleanup: () => Promise<void>;
  let now = Date.UTC(2026, 4, 1);
  beforeAll(async () => {
    const t = await openTestRuntime(backend, { clock: () => now, workers: false });
    rt = t.rt;
    cleanup = t.cleanup;
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it(`agrees on ${RUNS[backend]} generated histories`, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const ws = (await createWorkspace(rt.store, `pbt ${run}`, `ws_pbt_${backend}_${run++}`)).id;
        await rt.store.db
          .insertInto('computed_properties')
          .values({
            workspace_id: ws,
            name: 'candle_spend',
            definition: JSON.stringify({ event: 'Order Completed', agg: 'sum', path: 'total', window: { amount: 3, unit: 'days' }, filters: [{ path: 'products[].category', op: 'eq', value: 'Candles' }] }),
            created_at: 0,
            updated_at: 0,
          })
          .execute();
        const ids: Record<string, string> = {};
        for (const s of SEGMENTS) ids[s.name] = (await createSegment(rt.store, rt.segments, ws, { name: s.name, definition: s.def(ids) }, true)).id;
        let n = 0;
        const settle = async () => {
          await rt.writer.flush();
          await rt.processor.drain();
          await rt.segments.drain();
        };
        for (const s of steps) {
          if (s.k === 'advance') {
            now += s.ms;
            await settle();
            continue;
          }
          const who = s.k === 'login' || !('anon' in s) || !s.anon ? { userId: `u${s.user}` } : { anonymousId: `a${s.user}` };
          const call =
            s.k === 'order'
              ? normalizeCall('track', { ...who, event: 'Order Completed', properties: { total: s.total, products: [{ category: s.category, price: s.total }] }, timestamp: new Date(now + s.offset).toISOString() }, { workspaceId: ws, receivedAt: now })
              : s.k === 'view'
                ? normalizeCall('track', { ...who, event: 'Product Viewed', properties: {}, timestamp: new Date(now + s.offset).toISOString() }, { workspaceId: ws, receivedAt: now })
                : s.k === 'identify'
                  ? normalizeCall('identify', { userId: `u${s.user}`, traits: { country: s.country, vip: s.vip }, timestamp: new Date(now).toISOString() }, { workspaceId: ws, receivedAt: now })
                  : normalizeCall('identify', { userId: `u${s.user}`, anonymousId: `a${s.user}`, timestamp: new Date(now).toISOString() }, { workspaceId: ws, receivedAt: now });
          if (!call.ok) throw new Error(JSON.stringify(call.error));
          await rt.writer.write([{ ...call.row, message_id: `m${n++}` }]);
          if (n % 3 === 0) await settle();
        }
        await settle();
        const snapshot = async () =>
          (await rt.store.db.selectFrom('segment_members').select(['segment_id', 'profile_id']).where('workspace_id', '=', ws).execute())
            .map((m) => `${m.segment_id}:${m.profile_id}`)
            .sort();
        const incremental = await snapshot();
        const recomputeChanges: unknown[] = [];
        const off = rt.segments.subscribe((c) => recomputeChanges.push(c));
        await rt.segments.recompute(ws);
        off();
        expect(recomputeChanges).toEqual([]);
        expect(await snapshot()).toEqual(incremental);
        // The clock is shared by every run: retire this run's timers so later runs do not keep firing them.
        await rt.store.db.deleteFrom('segment_timers').where('workspace_id', '=', ws).execute();
      }),
      { numRuns: RUNS[backend], seed: 20261123, endOnFailure: true },
    );
  }, 600_000);
});
