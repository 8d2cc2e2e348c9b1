// The overview's figures for a period: revenue and orders by channel (where the order was placed) and by the message
// channel it is attributed to, active people and how many were active on 2+ channels, messages sent / delivered /
// opened / clicked per channel, and journey conversions. Everything is read from the one event log (orders, page
// views, Omnia's own lifecycle events) and journey_runs, through the events_time index; the decisions are pure
// (attribution.ts).
import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { fromJson } from '../store/json.ts';
import { PURCHASE_EVENTS } from '../journeys/catalog.ts';
import { LIFECYCLE } from '../messaging/lifecycle.ts';
import { CLICK_EVENTS, ENGAGEMENT_EVENTS, CLICK_WINDOW_MS, OPEN_EVENTS, type Order, type Touch, attribute, channelSpread, dayKey, days, totalsBy, touchOf } from './attribution.ts';

export interface OverviewQuery {
  from: number;
  to: number;
  /** Minutes east of UTC for the day buckets (the browser's -getTimezoneOffset()). */
  offsetMin: number;
}

const MESSAGE_EVENTS = [LIFECYCLE.sent, LIFECYCLE.delivered, LIFECYCLE.opened, LIFECYCLE.clicked, LIFECYCLE.bounced, LIFECYCLE.failed, LIFECYCLE.unsubscribed];
const MESSAGE_FIELD: Record<string, string> = {
  [LIFECYCLE.sent]: 'sent',
  [LIFECYCLE.delivered]: 'delivered',
  [LIFECYCLE.opened]: 'opened',
  [LIFECYCLE.clicked]: 'clicked',
  [LIFECYCLE.bounced]: 'bounced',
  [LIFECYCLE.failed]: 'failed',
  [LIFECYCLE.unsubscribed]: 'unsubscribed',
};

export async function overview(store: Store, ws: string, q: OverviewQuery) {
  const db = store.db;
  const pg = store.dialect === 'postgres';
  const { from, to } = q;
  // Events point at the profile they were attributed to; a merged-away profile answers as its survivor.
  const base = () =>
    db
      .selectFrom('events as e')
      .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'e.workspace_id').onRef('p.id', '=', 'e.profile_id'))
      .where('e.workspace_id', '=', ws);

  const [activity, orderRows, touchRows, messageRows, latest, journeyRows] = await Promise.all([
    base()
      .select(['p.canonical_id as pid', 'e.channel'])
      .where('e.timestamp', '>=', from)
      .where('e.timestamp', '<', to)
      .where((eb) => eb.or([eb('e.internal', '=', 0), eb('e.event', 'in', ENGAGEMENT_EVENTS)]))
      .groupBy(['p.canonical_id', 'e.channel'])
      .execute(),
    base()
      .select(['p.canonical_id as pid', 'e.channel', 'e.timestamp', 'e.revenue_minor', 'e.currency'])
      .where('e.timestamp', '>=', from)
      .where('e.timestamp', '<', to)
      .where('e.internal', '=', 0)
      .where('e.event', 'in', PURCHASE_EVENTS)
      .execute(),
    base()
      .select(['p.canonical_id as pid', 'e.event', 'e.channel', 'e.timestamp', 'e.properties'])
      .where('e.timestamp', '>=', from - CLICK_WINDOW_MS)
      .where('e.timestamp', '<', to)
      .where('e.event', 'in', [...CLICK_EVENTS, ...OPEN_EVENTS])
      .execute(),
    // One lifecycle event per message and stage, except opens and clicks (people open twice): distinct messages.
    db
      .selectFrom('events')
      .select(['channel', 'event', sql<number>`count(distinct ${pg ? sql`properties->>'messageId'` : sql`json_extract(properties, '$.messageId')`})`.as('n')])
      .where('workspace_id', '=', ws)
      .where('timestamp', '>=', from)
      .where('timestamp', '<', to)
      .where('internal', '=', 1)
      .where('event', 'in', MESSAGE_EVENTS)
      .groupBy(['channel', 'event'])
      .execute(),
    db.selectFrom('events').select(sql<number | null>`max(timestamp)`.as('at')).where('workspace_id', '=', ws).where('internal', '=', 0).executeTakeFirst(),
    db
      .selectFrom('journey_runs as r')
      .innerJoin('journeys as j', (jn) => jn.onRef('j.workspace_id', '=', 'r.workspace_id').onRef('j.id', '=', 'r.journey_id'))
      .select([
        'r.journey_id',
        'j.name',
        sql<number>`sum(case when r.entered_at >= ${from} and r.entered_at < ${to} then 1 else 0 end)`.as('entered'),
        sql<number>`sum(case when r.converted_at >= ${from} and r.converted_at < ${to} and r.holdout = 0 then 1 else 0 end)`.as('converted'),
        sql<number>`sum(case when r.converted_at >= ${from} and r.converted_at < ${to} and r.holdout = 0 then coalesce(r.revenue_minor, 0) else 0 end)`.as('revenue'),
      ])
      .where('r.workspace_id', '=', ws)
      .where((eb) => eb.or([eb.and([eb('r.entered_at', '>=', from), eb('r.entered_at', '<', to)]), eb.and([eb('r.converted_at', '>=', from), eb('r.converted_at', '<', to)])]))
      .groupBy(['r.journey_id', 'j.name'])
      .execute(),
  ]);

  // Revenue is summed in the workspace's main currency (the one most orders use); orders in others are counted apart.
  const currencies = new Map<string, number>();
  for (const o of orderRows) if (o.currency) currencies.set(o.currency, (currencies.get(o.currency) ?? 0) + 1);
  const currency = [...currencies.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null;
  const orders: Order[] = [];
  let otherCurrencyOrders = 0;
  for (const o of orderRows) {
    if (currency && o.currency && o.currency !== currency) {
      otherCurrencyOrders++;
      continue;
    }
    orders.push({ profileId: o.pid, channel: o.channel, at: Number(o.timestamp), revenueMinor: Number(o.revenue_minor ?? 0) });
  }
  const touches: Touch[] = [];
  for (const t of touchRows) {
    const touch = touchOf(t.pid, t.event ?? '', t.channel, Number(t.timestamp), fromJson<Record<string, unknown>>(t.properties) ?? {});
    if (touch) touches.push(touch);
  }
  const credited = attribute(orders, touches);

  const dayList = days(from, to, q.offsetMin);
  const daily = new Map(dayList.map((d) => [d, { day: d, orders: 0, revenueMinor: 0, byChannel: {} as Record<string, number> }]));
  for (const o of orders) {
    const d = daily.get(dayKey(o.at, q.offsetMin));
    if (!d) continue;
    d.orders++;
    d.revenueMinor += o.revenueMinor;
    d.byChannel[o.channel] = (d.byChannel[o.channel] ?? 0) + o.revenueMinor;
  }

  const messages = new Map<string, Record<string, number>>();
  for (const m of messageRows) {
    let e = messages.get(m.channel);
    if (!e) messages.set(m.channel, (e = { sent: 0, delivered: 0, opened: 0, clicked: 0, bounced: 0, failed: 0, unsubscribed: 0 }));
    e[MESSAGE_FIELD[m.event ?? ''] ?? 'other'] = Number(m.n);
  }

  const total = orders.reduce((a, o) => ({ orders: a.orders + 1, revenueMinor: a.revenueMinor + o.revenueMinor }), { orders: 0, revenueMinor: 0 });
  const attributedRows = orders.flatMap((o, i) => (credited[i] ? [{ key: credited[i]!, revenueMinor: o.revenueMinor }] : []));
  return {
    from,
    to,
    currency,
    latestActivityAt: latest?.at == null ? null : Number(latest.at),
    revenue: {
      total,
      otherCurrencyOrders,
      byChannel: totalsBy(orders.map((o) => ({ key: o.channel, revenueMinor: o.revenueMinor }))).map(({ key, ...r }) => ({ channel: key, ...r })),
      attributed: totalsBy(attributedRows).map(({ key, ...r }) => ({ channel: key, ...r })),
      daily: [...daily.values()],
    },
    customers: channelSpread(
      activity.map((a) => ({ profileId: a.pid, channel: a.channel })),
      orders,
    ),
    messages: [...messages.entries()].map(([channel, c]) => ({ channel, ...c }) as { channel: string } & Record<string, number>).sort((a, b) => (b.sent ?? 0) - (a.sent ?? 0) || a.channel.localeCompare(b.channel)),
    journeys: journeyRows
      .map((j) => ({ journeyId: j.journey_id, name: j.name, entered: Number(j.entered), converted: Number(j.converted), revenueMinor: Number(j.revenue) }))
      .sort((a, b) => b.converted - a.converted || b.entered - a.entered),
  };
}

export type Overview = Awaited<ReturnType<typeof overview>>;
