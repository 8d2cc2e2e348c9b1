// The generator of `segment-recompute`, run as a CHILD PROCESS (forked with IPC) so that the process that then
// measures the recompute holds nothing of it (its RSS is Omnia's, not the generator's). It opens the store (migrations
// run here), creates the workspace, loads the generated profiles, identifiers and events, inserts the 5 segments, and
// on PostgreSQL runs VACUUM ANALYZE (what autovacuum would do after a bulk load). See docs/benchmarks.md.
import { performance } from 'node:perf_hooks';
import { fmtInt, log } from './common.ts';
import { EVENT_COLS, IDENTIFIER_COLS, PROFILE_COLS, exec, idAt, insertRows, insertSegment, markRfmDone, prng, withoutIndexes } from './segments-data.ts';
import { openStore, type Store } from '../../src/store/db.ts';
import { DEFAULT_WORKSPACE, createWorkspace } from '../../src/workspaces/keys.ts';

export interface GenRequest {
  cmd: 'load';
  label: string;
  databaseUrl?: string;
  dataDir?: string;
  profiles: number;
  events: number;
  now: number;
}

export interface GenDone {
  type: 'done';
  loadS: number;
  indexS: number;
  vacuumS: number;
}

const DAY = 86_400_000;
const SEED = 777;
const COUNTRIES: [string, number][] = [
  ['GB', 0.3],
  ['DE', 0.2],
  ['FR', 0.15],
  ['US', 0.15],
  ['NL', 0.1],
  ['ES', 0.1],
];
const CATEGORIES = ['Candles', 'Home & Garden', 'Kitchen', 'Lighting', 'Gifts', 'Stationery', 'Toys'];
const PAGES = ['Home', 'Category', 'Product', 'Cart', 'Checkout', 'Search'];
const UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15';
const FIRST = ['Ada', 'Grace', 'Alan', 'Linus', 'Barbara', 'Ken', 'Margaret', 'Dennis'];

/** The 5 segments recomputed. */
export const RECOMPUTE_SEGMENTS: { name: string; definition: unknown }[] = [
  {
    name: 'Candle lovers: 2+ candle orders in 90 days',
    definition: {
      kind: 'event',
      event: 'Order Completed',
      op: 'count',
      count: { op: 'gte', value: 2 },
      window: { amount: 90, unit: 'days' },
      filters: [{ path: 'products[].category', op: 'eq', value: 'Candles' }],
    },
  },
  { name: 'High spenders (total_spent > 500)', definition: { kind: 'computed', property: 'total_spent', op: 'gt', value: 50_000 } },
  {
    name: 'Browsed, not bought (30 days)',
    definition: {
      kind: 'and',
      conditions: [
        { kind: 'event', event: 'Product Viewed', op: 'performed', window: { amount: 30, unit: 'days' } },
        { kind: 'event', event: 'Order Completed', op: 'not_performed', window: { amount: 30, unit: 'days' } },
      ],
    },
  },
  {
    name: 'German customers who ordered in the last 30 days',
    definition: {
      kind: 'and',
      conditions: [
        { kind: 'trait', trait: 'country', op: 'eq', value: 'DE' },
        { kind: 'computed', property: 'days_since_last_order', op: 'lte', value: 30 },
      ],
    },
  },
  { name: 'On the site this week', definition: { kind: 'last_performed', event: 'Page Viewed', op: 'within_last', window: { amount: 7, unit: 'days' } } },
];


function pick<T>(rnd: () => number, xs: [T, number][]): T {
  let u = rnd();
  for (const [x, w] of xs) if ((u -= w) < 0) return x;
  return xs[xs.length - 1]![0];
}

/** Generates and loads the workspace; returns the seconds spent (rows, then index rebuild). */
async function load(store: Store, P: number, E: number, now: number): Promise<{ loadS: number; indexS: number }> {
  const ws = DEFAULT_WORKSPACE;
  const rnd = prng(SEED);
  const t0 = performance.now();
  // Profiles, in id order (ids are time-ordered like newId; created over the last two years).
  const people: { id: string; idx: number; created: number }[] = [];
  for (let i = 0; i < P; i++) {
    const created = now - 730 * DAY + Math.floor(rnd() * 700 * DAY);
    people.push({ id: idAt('prf', created, rnd), idx: i, created });
  }
  const ids = people.map((p) => p.id);
  people.sort((a, b) => (a.id < b.id ? -1 : 1));
  const CH = 50_000;
  for (let from = 0; from < P; from += CH) {
    const prof: unknown[][] = [];
    const idents: unknown[][] = [];
    for (const p of people.slice(from, from + CH)) {
      const t = p.created;
      const traits = { country: { v: pick(rnd, COUNTRIES), t }, plan: { v: rnd() < 0.1 ? 'gold' : 'basic', t }, first_name: { v: FIRST[p.idx % FIRST.length], t } };
      prof.push([ws, p.id, p.id, t, t, now - Math.floor(rnd() * 30 * DAY), JSON.stringify(traits), null]);
      idents.push([ws, 'user_id', `u${p.idx}`, p.id, t], [ws, 'email', `u${p.idx}@example.com`, p.id, t]);
    }
    await insertRows(store, 'profiles', PROFILE_COLS, prof);
    await insertRows(store, 'identifiers', IDENTIFIER_COLS, idents);
  }
  people.length = 0;
  log(`    ${fmtInt(P)} profiles + ${fmtInt(2 * P)} identifiers in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

  // Events, day by day in time order.
  const regulars = Math.max(1, Math.floor(P * 0.2));
  let seq = 0;
  let lastLog = performance.now();
  const { rebuildS } = await withoutIndexes(store, 'events', async () => {
    let batch: unknown[][] = [];
    for (let d = 0; d < 365; d++) {
      const n = Math.floor(((d + 1) * E) / 365) - Math.floor((d * E) / 365);
      const dayStart = now - (365 - d) * DAY;
      const times: number[] = [];
      for (let k = 0; k < n; k++) times.push(dayStart + Math.floor(rnd() * DAY));
      times.sort((a, b) => a - b);
      for (const ts of times) {
        const idx = rnd() < 0.5 ? Math.floor(rnd() * P) : Math.floor(rnd() * regulars);
        const pid = ids[idx]!;
        const u = rnd();
        const msg = `ajs-${seq++}-${Math.floor(rnd() * 2 ** 31).toString(36)}`;
        const ctx: Record<string, unknown> = { ip: `198.51.100.${idx % 250}`, library: { name: 'analytics.js', version: '2.11.1' }, locale: 'en-GB', userAgent: UA };
        let type = 'track';
        let event: string;
        let props: Record<string, unknown>;
        let revenue: number | null = null;
        let channel = 'web';
        const product = () => {
          const id = Math.floor(rnd() * 5000);
          return { product_id: `p${id}`, sku: `SKU-${id}`, category: rnd() < 0.15 ? 'Candles' : CATEGORIES[1 + (id % (CATEGORIES.length - 1))]!, price: 2 + (id % 40), quantity: 1 + Math.floor(rnd() * 3) };
        };
        if (u < 0.4) {
          type = 'page';
          event = PAGES[Math.floor(rnd() * PAGES.length)]!;
          const p = `/${event.toLowerCase()}/${Math.floor(rnd() * 1000)}`;
          props = { path: p, url: `https://shop.example.com${p}`, title: `${event} | Shop`, referrer: 'https://www.google.com/' };
          ctx.page = { path: p, url: `https://shop.example.com${p}` };
        } else if (u < 0.7) {
          event = 'Product Viewed';
          const p = product();
          props = { product_id: p.product_id, sku: p.sku, category: p.category, name: `Product ${p.product_id}`, price: p.price, currency: 'EUR' };
        } else if (u < 0.82) {
          event = 'Cart Viewed';
          props = { cart_id: `c${idx}`, products: Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => { const p = product(); return { product_id: p.product_id, quantity: p.quantity }; }) };
        } else if (u < 0.92) {
          event = 'Product Added';
          const p = product();
          props = { cart_id: `c${idx}`, ...p };
        } else {
          event = 'Order Completed';
          channel = 'server';
          const products = Array.from({ length: 1 + Math.floor(rnd() * 4) }, product);
          const total = products.reduce((s, p) => s + p.price * p.quantity, 0);
          props = { order_id: `o${seq}`, total, currency: 'EUR', products };
          revenue = total * 100;
        }
        batch.push([
          ws,
          msg,
          pid,
          type,
          event,
          `u${idx}`,
          `a${idx}`,
          channel,
          0,
          ts,
          ts + 150,
          JSON.stringify(props),
          '{}',
          JSON.stringify(ctx),
          revenue,
          revenue === null ? null : 'EUR',
        ]);
        if (batch.length >= 100_000) {
          await insertRows(store, 'events', EVENT_COLS, batch);
          batch = [];
          if (performance.now() - lastLog > 30_000) {
            lastLog = performance.now();
            log(`    ${fmtInt(seq)} events (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
          }
        }
      }
    }
    await insertRows(store, 'events', EVENT_COLS, batch);
    log(`    ${fmtInt(seq)} events loaded (${((performance.now() - t0) / 1000).toFixed(0)} s); rebuilding the events indexes`);
  });
  const loadS = (performance.now() - t0) / 1000 - rebuildS;
  return { loadS, indexS: rebuildS };
}


async function main(m: GenRequest): Promise<GenDone> {
  const store = await openStore(m.databaseUrl ? { databaseUrl: m.databaseUrl } : { dataDir: m.dataDir });
  store.pool?.on('error', () => {});
  try {
    await createWorkspace(store, 'Default workspace', DEFAULT_WORKSPACE);
    const { loadS, indexS } = await load(store, m.profiles, m.events, m.now);
    const rnd = prng(SEED + 1);
    for (const s of RECOMPUTE_SEGMENTS) await insertSegment(store, DEFAULT_WORKSPACE, idAt('seg', m.now - DAY, rnd), s.name, s.definition, m.now - DAY);
    await markRfmDone(store);
    let vacuumS = 0;
    if (!store.sqlite) {
      const t = performance.now();
      await exec(store, 'VACUUM ANALYZE');
      vacuumS = (performance.now() - t) / 1000;
    } else {
      await store.exclusiveSqlite((db) => db.pragma('wal_checkpoint(TRUNCATE)'));
    }
    return { type: 'done', loadS, indexS, vacuumS };
  } finally {
    await store.close();
  }
}

process.on('message', (raw) => {
  const m = raw as GenRequest;
  if (m.cmd !== 'load') return;
  main(m).then(
    (r) => process.send!(r, () => process.exit(0)),
    (e: unknown) => process.send!({ type: 'error', message: String((e as Error)?.stack ?? e) }, () => process.exit(1)),
  );
});
