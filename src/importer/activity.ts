// Simulated engagement around real orders, for the demo: web sessions before orders (Page / Product Viewed / Product
// Added / Cart Viewed / Checkout Started, often anonymous until the shopper logs in and an identify links the
// cookie), browsing sessions that end in abandoned carts, and newsletter engagement (Email Opened / Email Link
// Clicked). Deterministic: every customer draws from its own seeded PRNG, and every call has a fixed messageId, so
// running the demo again produces the very same calls (and writes none of them twice).
import { createHash } from 'node:crypto';
import type { ImportedOrder } from './import.ts';

/** mulberry32: a small, fast, seedable PRNG (not for anything secret). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedOf(s: string): number {
  return createHash('sha1').update(s).digest().readUInt32LE(0);
}

export interface SimCall {
  type: 'track' | 'page' | 'identify';
  call: Record<string, unknown>;
}

export interface ActivityOptions {
  /** Share of a customer's orders preceded by a tracked web session. */
  sessionRate?: number;
  /** Browsing sessions without an order per customer (average). */
  browseSessions?: number;
  /** First and last newsletter send (UTC ms); weekly in between. */
  campaignsFrom?: number;
  campaignsTo?: number;
}

interface Product {
  sku: string;
  name: string;
  price: number;
}

const SITE = 'https://shop.demo.omnia.test';
const MIN = 60_000;
const DAY = 86_400_000;
const WEB_CONTEXT = { channel: 'web', library: { name: 'analytics.js', version: 'demo' } };
const EMAIL_CONTEXT = { channel: 'email' };

const SUBJECTS = [
  'New in: Christmas decorations',
  'Back in stock: jumbo bags',
  'Our bestsellers this week',
  'Free delivery on orders over £50',
  'Spring garden collection',
  'Vintage kitchenware is back',
  'Party supplies for every occasion',
  'Gift ideas under £10',
];

/** Generates the simulated calls; `orders` as the importer saw them (only customers' completed orders are used). */
export function simulateActivity(orders: ImportedOrder[], opts: ActivityOptions = {}): SimCall[] {
  const sessionRate = opts.sessionRate ?? 0.15;
  const browseSessions = opts.browseSessions ?? 0.5;
  const byCustomer = new Map<string, ImportedOrder[]>();
  const catalog = new Map<string, Product>();
  let minT = Infinity;
  let maxT = -Infinity;
  for (const o of orders) {
    minT = Math.min(minT, o.timestamp);
    maxT = Math.max(maxT, o.timestamp);
    if (o.refund || !o.userId) continue;
    let list = byCustomer.get(o.userId);
    if (!list) byCustomer.set(o.userId, (list = []));
    list.push(o);
    for (const p of o.products) if (p.sku && p.price > 0 && !catalog.has(p.sku)) catalog.set(p.sku, { sku: p.sku, name: p.name, price: p.price });
  }
  const products = [...catalog.values()].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  const campaigns = weeklyCampaigns(opts.campaignsFrom ?? minT, opts.campaignsTo ?? maxT);
  const out: SimCall[] = [];
  const customers = [...byCustomer.keys()].sort();
  for (const userId of customers) {
    const list = byCustomer.get(userId)!.sort((a, b) => a.timestamp - b.timestamp);
    const rand = prng(seedOf(`demo:${userId}`));
    const pick = <T>(a: T[]): T => a[Math.floor(rand() * a.length)]!;
    let device: string | null = null; // the cookie of the customer's usual browser, once they logged in on it
    let session = 0;

    const webSession = (start: number, items: Product[], order: ImportedOrder | null) => {
      session++;
      const sid = `demo:web:${userId}:${session}`;
      // A new device is anonymous until the shopper logs in; the login identify links it to the customer.
      const fresh = device === null || rand() < 0.3;
      const anonymousId = fresh ? `anon-${createHash('sha1').update(sid).digest('hex').slice(0, 20)}` : device!;
      let t = start;
      let n = 0;
      let loggedIn = !fresh;
      const step = () => (t += Math.floor((20 + rand() * 100) * 1000));
      const base = () => ({ messageId: `${sid}:${++n}`, anonymousId, ...(loggedIn ? { userId } : {}), timestamp: new Date(step()).toISOString() });
      out.push({ type: 'page', call: { ...base(), name: 'Home', properties: { path: '/', url: `${SITE}/`, title: 'Home' }, context: WEB_CONTEXT } });
      for (const p of items.slice(0, 3)) {
        out.push({ type: 'track', call: { ...base(), event: 'Product Viewed', properties: productProps(p), context: { ...WEB_CONTEXT, page: { url: `${SITE}/p/${encodeURIComponent(p.sku)}` } } } });
      }
      if (!loggedIn && (order || rand() < 0.5)) {
        out.push({ type: 'identify', call: { ...base(), userId, traits: {}, context: WEB_CONTEXT } });
        loggedIn = true;
        device ??= anonymousId;
      }
      const added = order ? items.slice(0, 2) : rand() < 0.45 ? items.slice(0, 1) : [];
      for (const p of added) out.push({ type: 'track', call: { ...base(), event: 'Product Added', properties: { ...productProps(p), quantity: 1 }, context: WEB_CONTEXT } });
      if (added.length) out.push({ type: 'track', call: { ...base(), event: 'Cart Viewed', properties: { products: added.map(productProps) }, context: WEB_CONTEXT } });
      if (order) {
        const value = order.totalMinor / 100;
        out.push({
          type: 'track',
          call: { ...base(), event: 'Checkout Started', properties: { order_id: order.orderId, value, currency: order.currency, products: items.slice(0, 5).map(productProps) }, context: WEB_CONTEXT },
        });
      }
    };

    for (const o of list) {
      if (rand() >= sessionRate) continue;
      const items = o.products.filter((p) => p.sku && p.price > 0).map((p) => ({ sku: p.sku, name: p.name, price: p.price }));
      if (!items.length) continue;
      webSession(o.timestamp - Math.floor((8 + rand() * 30) * MIN), items, o);
    }
    const first = list[0]!.timestamp;
    const browses = Math.floor(rand() * (browseSessions * 2 + 1));
    for (let b = 0; b < browses && products.length; b++) {
      const start = first + Math.floor(rand() * Math.max(DAY, maxT - first));
      webSession(start, [pick(products), pick(products), pick(products)], null);
    }

    // Newsletter: subscribed from the first order; each customer has their own appetite for opening and clicking.
    const openRate = 0.02 + 0.18 * rand() ** 2;
    for (const c of campaigns) {
      if (c.at < first) continue;
      if (rand() >= openRate) continue;
      const opened = c.at + Math.floor(rand() ** 3 * 2 * DAY) + MIN;
      const props = { campaign_id: c.id, campaign_name: c.name, email_id: `${c.id}:${userId}`, email_subject: c.subject };
      out.push({ type: 'track', call: { messageId: `demo:email:${c.id}:${userId}:open`, userId, event: 'Email Opened', timestamp: new Date(opened).toISOString(), properties: props, context: EMAIL_CONTEXT } });
      if (rand() < 0.25) {
        const p = pick(products);
        out.push({
          type: 'track',
          call: {
            messageId: `demo:email:${c.id}:${userId}:click`,
            userId,
            event: 'Email Link Clicked',
            timestamp: new Date(opened + Math.floor((5 + rand() * 120) * 1000)).toISOString(),
            properties: { ...props, link_url: `${SITE}/p/${encodeURIComponent(p.sku)}?utm_source=newsletter&utm_campaign=${c.id}` },
            context: EMAIL_CONTEXT,
          },
        });
      }
    }
  }
  return out;
}

function productProps(p: Product): Record<string, unknown> {
  return { product_id: p.sku, sku: p.sku, name: p.name, price: p.price };
}

function weeklyCampaigns(from: number, to: number): { id: string; name: string; subject: string; at: number }[] {
  const out = [];
  // Thursdays, 10:00 UTC.
  const d = new Date(from);
  d.setUTCHours(10, 0, 0, 0);
  while (d.getUTCDay() !== 4) d.setUTCDate(d.getUTCDate() + 1);
  for (let i = 0; d.getTime() <= to; i++, d.setUTCDate(d.getUTCDate() + 7)) {
    const day = d.toISOString().slice(0, 10);
    out.push({ id: `newsletter-${day}`, name: `Newsletter ${day}`, subject: SUBJECTS[i % SUBJECTS.length]!, at: d.getTime() });
  }
  return out;
}
