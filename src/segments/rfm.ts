// RFM lifecycle stages. Recency (days since last order), frequency (orders) and monetary (total spent) are scored 1–5
// by quintile over the workspace's customers (people with at least one order); stages come from the recency score and
// the mean of the frequency and monetary scores (see docs/segments.md for the grid). Stage changes become internal
// 'RFM Stage Changed' events and re-evaluate segments that use rfm_* properties.
import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { toJson } from '../store/json.ts';
import { enqueueSegmentWork } from './engine.ts';
import { DAY } from './facts.ts';

export const RFM_STAGES = [
  'Champions',
  'Loyal',
  'Potential loyalist',
  'New',
  'Promising',
  'Needs attention',
  'About to sleep',
  "Can't lose them",
  'At risk',
  'Hibernating',
  'Lost',
] as const;
export type RfmStage = (typeof RFM_STAGES)[number];

/** Pure: the stage of a recency score r and frequency/monetary score fm (both 1–5). Covers all 25 cells. */
export function rfmStage(r: number, fm: number): RfmStage {
  if (r >= 4) {
    if (fm >= 4) return 'Champions';
    if (fm >= 2) return 'Potential loyalist';
    return r === 5 ? 'New' : 'Promising';
  }
  if (r === 3) {
    if (fm >= 4) return 'Loyal';
    if (fm === 3) return 'Needs attention';
    return 'About to sleep';
  }
  if (r === 1 && fm === 5) return "Can't lose them";
  if (fm >= 3) return 'At risk';
  return r === 2 ? 'Hibernating' : 'Lost';
}

/**
 * Pure: quintile scores 1–5 where higher values score higher. Ties share a score (the share of values strictly below
 * decides), so 1,000 one-order customers all get the same frequency score.
 */
export function quintileScores(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const n = values.length;
  const below = (v: number) => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return values.map((v) => Math.min(5, 1 + Math.floor((5 * below(v)) / n)));
}

export interface RfmRow {
  profileId: string;
  recencyDays: number;
  frequency: number;
  monetary: number;
  r: number;
  f: number;
  m: number;
  stage: RfmStage;
}

/** Pure: scores and stages for customers given their last order time, order count and total spent. */
export function scoreRfm(customers: { profileId: string; lastOrder: number; orders: number; spent: number }[], now: number): RfmRow[] {
  const recency = customers.map((c) => Math.max(0, Math.floor((now - c.lastOrder) / DAY)));
  const r = quintileScores(recency.map((d) => -d)); // more recent scores higher
  const f = quintileScores(customers.map((c) => c.orders));
  const m = quintileScores(customers.map((c) => c.spent));
  return customers.map((c, i) => {
    const fm = Math.round((f[i]! + m[i]!) / 2);
    return { profileId: c.profileId, recencyDays: recency[i]!, frequency: c.orders, monetary: c.spent, r: r[i]!, f: f[i]!, m: m[i]!, stage: rfmStage(r[i]!, fm) };
  });
}

/** Recomputes RFM for a workspace; returns the stage counts. */
export async function recomputeRfm(store: Store, ws: string, now: number): Promise<Record<string, number>> {
  const agg = await store.db
    .selectFrom('events as e')
    .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'e.workspace_id').onRef('p.id', '=', 'e.profile_id'))
    .select([
      'p.canonical_id as profileId',
      sql<number>`count(*)`.as('orders'),
      sql<number>`coalesce(sum(e.revenue_minor), 0)`.as('spent'),
      sql<number>`max(e.timestamp)`.as('lastOrder'),
    ])
    .where('e.workspace_id', '=', ws)
    .where('e.event', '=', 'Order Completed')
    .where('e.internal', '=', 0)
    .where('e.timestamp', '<=', now)
    .groupBy('p.canonical_id')
    .execute();
  const rows = scoreRfm(
    agg.map((a) => ({ profileId: a.profileId, orders: Number(a.orders), spent: Number(a.spent), lastOrder: Number(a.lastOrder) })),
    now,
  );
  const counts: Record<string, number> = Object.fromEntries(RFM_STAGES.map((s) => [s, 0]));
  for (const r of rows) counts[r.stage]!++;
  await store.db.transaction().execute(async (tx) => {
    const prev = new Map((await tx.selectFrom('profile_rfm').select(['profile_id', 'stage']).where('workspace_id', '=', ws).execute()).map((p) => [p.profile_id, p.stage]));
    const changed = new Map<string, Set<string>>();
    const events: Record<string, unknown>[] = [];
    for (const r of rows) {
      const before = prev.get(r.profileId);
      prev.delete(r.profileId);
      if (before !== r.stage) {
        changed.set(r.profileId, new Set(['rfm']));
        events.push({
          workspace_id: ws, message_id: newId('omnia'), profile_id: r.profileId, type: 'track', event: 'RFM Stage Changed', user_id: null, anonymous_id: null,
          channel: 'omnia', internal: 1, timestamp: now, received_at: Date.now(), properties: toJson({ from: before ?? null, to: r.stage, r: r.r, f: r.f, m: r.m }),
          traits: '{}', context: '{}', revenue_minor: null, currency: null,
        });
      }
    }
    // People no longer customers (orders erased) lose their stage.
    for (const gone of prev.keys()) changed.set(gone, new Set(['rfm']));
    await tx.deleteFrom('profile_rfm').where('workspace_id', '=', ws).execute();
    for (let i = 0; i < rows.length; i += 400) {
      await tx
        .insertInto('profile_rfm')
        .values(rows.slice(i, i + 400).map((r) => ({ workspace_id: ws, profile_id: r.profileId, r: r.r, f: r.f, m: r.m, stage: r.stage, computed_at: now })))
        .execute();
    }
    for (let i = 0; i < events.length; i += 200) await tx.insertInto('events').values(events.slice(i, i + 200) as never).execute();
    await enqueueSegmentWork(tx, ws, changed);
  });
  return counts;
}
