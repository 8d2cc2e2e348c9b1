// Pure: what the evaluator knows about one person, and the computed properties derived from it.
// Built from the event log and the profile (segments/load.ts); the incremental path and the full recompute build it
// the same way, so they cannot disagree about what a person did.

import { NOT_CHANNELS } from '../ingest/channels.ts';

export interface EventFact {
  event: string | null;
  type: string;
  ts: number;
  channel: string;
  internal: boolean;
  properties: Record<string, unknown>;
  revenueMinor: number | null;
  currency: string | null;
}

export interface RfmScores {
  stage: string;
  r: number;
  f: number;
  m: number;
}

export interface ProfileFacts {
  profileId: string;
  traits: Record<string, unknown>;
  /** Sorted by ts ascending. Events with ts in the future are not visible until their time. */
  events: EventFact[];
  /** channel → topic → state */
  consent: Record<string, Record<string, string>>;
  /** channel → topic → when it was set; when known, the newer of a topic's own choice and the channel-wide one wins */
  consentAt?: Record<string, Record<string, number>>;
  /** channels with an address (email, sms, push) */
  addresses: Set<string>;
  location: { country?: string; city?: string; lat?: number; lon?: number };
  segments: Set<string>;
  lists: Set<string>;
  rfm?: RfmScores;
  /** The workspace's named locations (stores), by id. */
  locations?: Record<string, { lat: number; lon: number }>;
  /** The workspace's user-defined computed properties, by name. */
  custom?: Record<string, import('./definition.ts').CustomProperty>;
}

export const DAY = 86_400_000;

export interface Computed {
  orders: number;
  total_spent: number;
  average_order_value: number | null;
  first_order_at: number | null;
  last_order_at: number | null;
  average_days_between_orders: number | null;
  expected_next_order_at: number | null;
  days_since_last_order: number | null;
  favourite_category: string | null;
  channels_used: number;
  rfm_stage: string | null;
  rfm_recency: number | null;
  rfm_frequency: number | null;
  rfm_monetary: number | null;
}

export function visibleEvents(f: ProfileFacts, now: number): EventFact[] {
  // events are sorted: cut at the first one after now
  let hi = f.events.length;
  let lo = 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (f.events[mid]!.ts <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo === f.events.length ? f.events : f.events.slice(0, lo);
}

/** The computed properties at `now`. Money is in minor units of the person's orders' currency. */
export function computeProperties(f: ProfileFacts, now: number): Computed {
  const events = visibleEvents(f, now);
  const orders: number[] = [];
  let spent = 0;
  let completedRevenue = 0;
  const categories = new Map<string, number>();
  const channels = new Set<string>();
  for (const e of events) {
    if (e.internal) continue;
    if (!NOT_CHANNELS.has(e.channel)) channels.add(e.channel);
    if (e.event === 'Order Completed') {
      orders.push(e.ts);
      completedRevenue += e.revenueMinor ?? 0;
      const products = e.properties.products;
      if (Array.isArray(products)) {
        for (const p of products) {
          const c = p && typeof p === 'object' ? (p as Record<string, unknown>).category : undefined;
          if (typeof c === 'string' && c) categories.set(c, (categories.get(c) ?? 0) + 1);
        }
      }
    }
    if (e.event === 'Order Completed' || e.event === 'Order Refunded') spent += e.revenueMinor ?? 0;
  }
  const n = orders.length;
  const first = n ? orders[0]! : null;
  const last = n ? orders[n - 1]! : null;
  const avgGapDays = n >= 2 ? (last! - first!) / (n - 1) / DAY : null;
  let favourite: string | null = null;
  let best = 0;
  for (const [c, k] of categories) {
    if (k > best || (k === best && favourite !== null && c < favourite)) {
      favourite = c;
      best = k;
    }
  }
  return {
    orders: n,
    total_spent: spent,
    average_order_value: n ? Math.round(completedRevenue / n) : null,
    first_order_at: first,
    last_order_at: last,
    average_days_between_orders: avgGapDays,
    expected_next_order_at: last !== null && avgGapDays !== null ? last + Math.round(avgGapDays * DAY) : null,
    days_since_last_order: last !== null ? Math.floor((now - last) / DAY) : null,
    favourite_category: favourite,
    channels_used: channels.size,
    rfm_stage: f.rfm?.stage ?? null,
    rfm_recency: f.rfm?.r ?? null,
    rfm_frequency: f.rfm?.f ?? null,
    rfm_monetary: f.rfm?.m ?? null,
  };
}
