// Pure decisions of the overview: which message (if any) an order is credited to, how people spread over channels,
// and the day buckets of a period. No I/O: src/analytics/overview.ts reads the facts and calls these.
//
// Attribution is last touch, the way Klaviyo and Omnisend report "attributed revenue" by default: an order is credited
// to the channel of the person's latest human click on a message in the CLICK_WINDOW before the order; failing a
// click, to their latest human open in the OPEN_WINDOW. Machine opens and clicks (privacy proxies, link scanners:
// properties.human === false) never count. Segment-spec email events sent by other tools (Email Opened, Email Link
// Clicked) count as email touches, so imported engagement is credited too.

import { NOT_CHANNELS } from '../ingest/channels.ts';

export { NOT_CHANNELS };

export const CLICK_WINDOW_MS = 5 * 24 * 3600_000;
export const OPEN_WINDOW_MS = 24 * 3600_000;
export const DAY_MS = 24 * 3600_000;

export interface Touch {
  profileId: string;
  kind: 'click' | 'open';
  channel: string;
  at: number;
}

export interface Order {
  profileId: string;
  channel: string;
  at: number;
  revenueMinor: number;
}

/** Omnia's own events that are the person's activity on a message channel (an email click is being on email). */
export const ENGAGEMENT_EVENTS = ['Message Opened', 'Message Clicked', 'Message Replied'];

export const CLICK_EVENTS = ['Message Clicked', 'Email Link Clicked'];
export const OPEN_EVENTS = ['Message Opened', 'Email Opened'];

/** A touch from an engagement event row, or null when it is not one (a machine open, an unknown event). */
export function touchOf(profileId: string, event: string, channel: string, at: number, properties: Record<string, unknown>): Touch | null {
  if (properties.human === false) return null;
  const kind = CLICK_EVENTS.includes(event) ? 'click' : OPEN_EVENTS.includes(event) ? 'open' : null;
  if (!kind) return null;
  // Segment's email events arrive from the sender's server: their channel is the library's, the touch is email.
  const ch = event.startsWith('Email ') ? 'email' : typeof properties.channel === 'string' ? properties.channel : channel;
  return { profileId, kind, channel: ch, at };
}

/**
 * The channel each order is credited to (null: not attributed), in the orders' order. Touches of any order; each
 * order looks only at touches strictly before it.
 */
export function attribute(orders: Order[], touches: Touch[]): (string | null)[] {
  const byProfile = new Map<string, Touch[]>();
  for (const t of touches) {
    let l = byProfile.get(t.profileId);
    if (!l) byProfile.set(t.profileId, (l = []));
    l.push(t);
  }
  for (const l of byProfile.values()) l.sort((a, b) => b.at - a.at);
  return orders.map((o) => {
    const l = byProfile.get(o.profileId);
    if (!l) return null;
    let open: Touch | null = null;
    for (const t of l) {
      if (t.at >= o.at) continue;
      if (t.kind === 'click') {
        if (o.at - t.at <= CLICK_WINDOW_MS) return t.channel;
        break; // sorted newest first: every later touch is older still
      }
      if (!open && o.at - t.at <= OPEN_WINDOW_MS) open = t;
    }
    return open?.channel ?? null;
  });
}

/** Totals per key, in descending order of revenue then orders. */
export function totalsBy<K extends string>(rows: { key: K; revenueMinor: number }[]): { key: K; orders: number; revenueMinor: number }[] {
  const m = new Map<K, { key: K; orders: number; revenueMinor: number }>();
  for (const r of rows) {
    let e = m.get(r.key);
    if (!e) m.set(r.key, (e = { key: r.key, orders: 0, revenueMinor: 0 }));
    e.orders++;
    e.revenueMinor += r.revenueMinor;
  }
  return [...m.values()].sort((a, b) => b.revenueMinor - a.revenueMinor || b.orders - a.orders || a.key.localeCompare(b.key));
}

/**
 * How active people spread over channels: people active in the period, those active on 2 or more, and the average
 * order value of multi-channel vs single-channel buyers (the omnichannel question: are they worth more?).
 */
export function channelSpread(activity: { profileId: string; channel: string }[], orders: Order[]) {
  const channels = new Map<string, Set<string>>();
  for (const a of activity) {
    let s = channels.get(a.profileId);
    if (!s) channels.set(a.profileId, (s = new Set()));
    // A server-side call or an import is the person's activity, but not a channel they chose.
    if (!NOT_CHANNELS.has(a.channel)) s.add(a.channel);
  }
  const byCount: Record<'1' | '2' | '3+', number> = { '1': 0, '2': 0, '3+': 0 };
  let multi = 0;
  for (const s of channels.values()) {
    if (s.size >= 2) multi++;
    byCount[s.size >= 3 ? '3+' : s.size === 2 ? '2' : '1']++; // no channel but a server call counts as one
  }
  const aov = { multi: { orders: 0, revenueMinor: 0 }, single: { orders: 0, revenueMinor: 0 } };
  for (const o of orders) {
    const g = (channels.get(o.profileId)?.size ?? 1) >= 2 ? aov.multi : aov.single;
    g.orders++;
    g.revenueMinor += o.revenueMinor;
  }
  const avg = (g: { orders: number; revenueMinor: number }) => (g.orders ? Math.round(g.revenueMinor / g.orders) : null);
  const active = channels.size;
  return {
    active,
    multiChannel: multi,
    multiChannelShare: active ? multi / active : 0,
    byChannelCount: byCount,
    averageOrderMinor: { multiChannel: avg(aov.multi), singleChannel: avg(aov.single) },
    buyers: { multiChannel: aov.multi.orders, singleChannel: aov.single.orders },
  };
}

/** Day buckets (UTC offset `offsetMin`, as the browser's getTimezoneOffset() negated) from `from` to `to`. */
export function dayKey(at: number, offsetMin: number): string {
  return new Date(at + offsetMin * 60_000).toISOString().slice(0, 10);
}

export function days(from: number, to: number, offsetMin: number): string[] {
  const out: string[] = [];
  for (let t = from; t < to && out.length < 400; t += DAY_MS) {
    const d = dayKey(t, offsetMin);
    if (out[out.length - 1] !== d) out.push(d);
  }
  const last = dayKey(Math.max(from, to - 1), offsetMin);
  if (out[out.length - 1] !== last && out.length < 400) out.push(last);
  return out;
}
