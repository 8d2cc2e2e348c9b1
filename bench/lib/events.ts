// Deterministic, realistic Segment traffic for the ingestion benchmarks: the shapes analytics-node / analytics.js
// send for an e-commerce site (track with product/order properties, identify with traits), ~400-600 bytes per event,
// a few thousand distinct userIds with one to three devices (anonymousIds) each.
//
// Bodies are generated once, as JSON text with a fixed-width placeholder inside every messageId. Each time a body
// is sent the placeholder is replaced with a fresh token (see `BodyPool.next`), so every event ever sent has a
// unique messageId even though the pool is small and cycled.

/** Placeholder inside messageIds; replaced by an 8-character token per use of a body. */
export const TOKEN = '@@@@@@@@';
export const TOKEN_LEN = TOKEN.length;

/**
 * messageId style. Default: random, like analytics-node ≤ 6 and analytics.js (`node-<md5>-<uuid>`), so inserts land
 * all over the unique (workspace_id, message_id) index. BENCH_MESSAGE_IDS=time: time-ordered like
 * @segment/analytics-node (`node-next-<ms>-<uuid>`), so inserts append to the index.
 */
export const TIME_ORDERED_IDS = process.env.BENCH_MESSAGE_IDS === 'time';

/** Small, fast, seedable PRNG (mulberry32): the same seed gives the same traffic in every process. */
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

export interface TrafficOptions {
  seed?: number;
  /** Distinct userIds (default 3000). */
  users?: number;
  /** Share of identify calls (default 0.15); the rest are track calls. */
  identifyShare?: number;
}

const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis', 'Frances', 'John', 'Radia', 'Edsger', 'Sophie', 'Tim', 'Hedy', 'Guido'];
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Torvalds', 'Liskov', 'Thompson', 'Hamilton', 'Ritchie', 'Allen', 'McCarthy', 'Perlman', 'Dijkstra', 'Wilson', 'Berners-Lee', 'Lamarr', 'van Rossum'];
const CATEGORIES = ['Home & Garden', 'Kitchen', 'Lighting', 'Gifts', 'Stationery', 'Toys', 'Bags', 'Christmas'];
const PRODUCTS = [
  'WHITE HANGING HEART T-LIGHT HOLDER',
  'WHITE METAL LANTERN',
  'CREAM CUPID HEARTS COAT HANGER',
  'KNITTED UNION FLAG HOT WATER BOTTLE',
  'RED WOOLLY HOTTIE WHITE HEART.',
  'SET 7 BABUSHKA NESTING BOXES',
  'GLASS STAR FROSTED T-LIGHT HOLDER',
  'HAND WARMER UNION JACK',
  'ASSORTED COLOUR BIRD ORNAMENT',
  'JUMBO BAG RED RETROSPOT',
  'LUNCH BAG RED RETROSPOT',
  'REGENCY CAKESTAND 3 TIER',
];
const TRACK_EVENTS: [string, number][] = [
  ['Product Viewed', 0.4],
  ['Product Added', 0.15],
  ['Products Searched', 0.1],
  ['Cart Viewed', 0.1],
  ['Checkout Started', 0.08],
  ['Order Completed', 0.07],
  ['Product List Viewed', 0.1],
];
const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Version/17.5 Safari/605.1.15',
];
const TIMEZONES = ['Europe/London', 'Europe/Paris', 'America/New_York', 'Europe/Berlin', 'Australia/Sydney'];

function hex(rnd: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ((rnd() * 16) | 0).toString(16);
  return s;
}

function uuidFrom(rnd: () => number): string {
  return `${hex(rnd, 8)}-${hex(rnd, 4)}-4${hex(rnd, 3)}-a${hex(rnd, 3)}-${hex(rnd, 12)}`;
}

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[(rnd() * xs.length) | 0]!;
}

function weighted(rnd: () => number, xs: [string, number][]): string {
  let r = rnd();
  for (const [v, w] of xs) {
    if ((r -= w) < 0) return v;
  }
  return xs[xs.length - 1]![0];
}

/**
 * Generates Segment calls (as plain objects) with `TOKEN` inside each messageId. Users are `usr_<n>`; each has one to
 * three devices whose anonymousIds are stable, so the identity processor links devices to people as in real traffic.
 */
export class Traffic {
  private readonly rnd: () => number;
  private readonly users: number;
  private readonly identifyShare: number;
  private readonly devices: string[][] = [];
  private seq = 0;
  private readonly base = Date.UTC(2024, 5, 1);

  constructor(opts: TrafficOptions = {}) {
    this.rnd = prng(opts.seed ?? 42);
    this.users = opts.users ?? 3000;
    this.identifyShare = opts.identifyShare ?? 0.15;
    for (let u = 0; u < this.users; u++) {
      const n = 1 + ((this.rnd() * 3) | 0);
      this.devices.push(Array.from({ length: n }, () => uuidFrom(this.rnd)));
    }
  }

  event(): Record<string, unknown> {
    const rnd = this.rnd;
    const u = (rnd() * this.users) | 0;
    const userId = `usr_${String(u).padStart(5, '0')}`;
    const anonymousId = pick(rnd, this.devices[u]!);
    const ts = new Date(this.base + this.seq * 1000 + ((rnd() * 1000) | 0)).toISOString();
    // Random like analytics-node's `node-<md5>-<uuid>` (so inserts land all over the unique index, as in real
    // traffic), plus the per-use token that keeps every sent copy unique.
    const messageId = TIME_ORDERED_IDS ? `node-next-${TOKEN}-${String(this.seq).padStart(8, '0')}` : `node-${hex(rnd, 32)}-${TOKEN}`;
    this.seq++;
    const web = rnd() < 0.7;
    const context: Record<string, unknown> = web
      ? {
          library: { name: 'analytics.js', version: '2.11.1' },
          ip: `81.${(rnd() * 255) | 0}.${(rnd() * 255) | 0}.${(rnd() * 255) | 0}`,
          userAgent: pick(rnd, USER_AGENTS),
          locale: 'en-GB',
          timezone: pick(rnd, TIMEZONES),
          page: { path: '/products' },
        }
      : { library: { name: 'analytics-node', version: '6.2.0' }, ip: `10.0.${(rnd() * 255) | 0}.${(rnd() * 255) | 0}` };
    if (rnd() < this.identifyShare) {
      const first = pick(rnd, FIRST);
      const last = pick(rnd, LAST);
      const traits: Record<string, unknown> = {
        email: `${first}.${last}.${u}@example.com`.toLowerCase(),
        firstName: first,
        lastName: last,
        plan: pick(rnd, ['free', 'plus', 'pro']),
        country: 'GB',
        createdAt: new Date(this.base - u * 86_400_000).toISOString(),
      };
      if (u % 3 === 0) traits.phone = `+44 7700 9${String(u).padStart(5, '0')}`;
      return { type: 'identify', messageId, userId, anonymousId, traits, context, timestamp: ts, integrations: {} };
    }
    const event = weighted(rnd, TRACK_EVENTS);
    const price = Math.round(rnd() * 5000) / 100;
    const quantity = 1 + ((rnd() * 4) | 0);
    let properties: Record<string, unknown>;
    if (event === 'Order Completed') {
      properties = {
        order_id: `ord_${hex(rnd, 10)}`,
        total: Math.round(price * quantity * 100) / 100,
        currency: 'GBP',
        products: [{ product_id: `p_${(rnd() * 4000) | 0}`, price, quantity }],
      };
    } else if (event === 'Products Searched') {
      properties = { query: pick(rnd, ['lantern', 'heart', 'bag', 'cake stand', 'bird']) };
    } else {
      properties = {
        product_id: `p_${(rnd() * 4000) | 0}`,
        sku: `${10000 + ((rnd() * 90000) | 0)}`,
        name: pick(rnd, PRODUCTS),
        category: pick(rnd, CATEGORIES),
        price,
        quantity,
        currency: 'GBP',
      };
    }
    // Logged-out browsing: some web events carry only the anonymousId.
    const call: Record<string, unknown> = { type: 'track', event, messageId, properties, context, timestamp: ts, integrations: {} };
    if (!web || rnd() < 0.75) call.userId = userId;
    call.anonymousId = anonymousId;
    return call;
  }

  /** A /v1/batch body as analytics-node sends it. */
  batch(n: number): string {
    const batch = Array.from({ length: n }, () => this.event());
    return JSON.stringify({ batch, sentAt: new Date(this.base + this.seq * 1000).toISOString() });
  }

  /** A /v1/track body (single event, no type field needed but harmless). */
  single(): string {
    for (;;) {
      const e = this.event();
      if (e.type !== 'track') continue;
      return JSON.stringify({ ...e, sentAt: e.timestamp });
    }
  }
}

/**
 * A pool of bodies cycled forever; every use substitutes a fresh 8-character token for each TOKEN, so messageIds are
 * unique across the whole run (`prefix` (2 chars) + a 6-character base-36 counter).
 */
export class BodyPool {
  private readonly parts: string[][];
  private n = 0;

  constructor(
    bodies: string[],
    private readonly prefix: string,
  ) {
    if (prefix.length !== 2) throw new Error('prefix must be 2 characters');
    this.parts = bodies.map((b) => b.split(TOKEN));
  }

  get size(): number {
    return this.parts.length;
  }

  next(): string {
    const i = this.n % this.parts.length;
    const use = Math.floor(this.n / this.parts.length);
    this.n++;
    const token = this.prefix + use.toString(36).padStart(6, '0');
    return this.parts[i]!.join(token);
  }
}

/** Mean byte size of the events in a batch body (for the report). */
export function meanEventBytes(body: string): number {
  const b = JSON.parse(body) as { batch: unknown[] };
  return Math.round(b.batch.reduce<number>((s, e) => s + Buffer.byteLength(JSON.stringify(e)), 0) / b.batch.length);
}
