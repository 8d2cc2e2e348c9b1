// `omnia demo`: loads the UCI Online Retail data set (datasets/online-retail) into the default workspace — customers,
// every order, and simulated web and e-mail activity around them — then reads the totals back from the store and
// checks them against the data set's published figures. Idempotent: a second run writes nothing.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RawBuilder } from 'kysely';
import { loadConfig } from '../app/config.ts';
import { openRuntime } from '../app/runtime.ts';
import { normalizeCall, type EventRow } from '../ingest/normalize.ts';
import { bulkInsertEvents } from '../store/bulk.ts';
import { type Store, sql } from '../store/db.ts';
import { DEFAULT_WORKSPACE, bootstrapDefaultWorkspace } from '../workspaces/keys.ts';
import { simulateActivity } from './activity.ts';
import { formatMinor } from './cli.ts';
import { type ImportSummary, type ImportedOrder, attributeAll, importFile, refreshPlannerStats } from './import.ts';
import { Progress } from './progress.ts';
import { recomputeRfm } from '../segments/rfm.ts';

export const DEMO_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../datasets/online-retail/online_retail.csv.br');

/** The data set's published figures (UCI ML Repository #352; every row, cancellations and guest orders included). */
export const PUBLISHED = {
  rows: 541_909,
  customers: 4_372,
  countries: 38,
  invoices: 25_900,
  revenueMinor: 974_774_793,
  currency: 'GBP',
};

const DEMO_USAGE = `usage: omnia demo [--file online_retail.csv.br] [--no-activity]

Loads the UCI Online Retail data set (4,372 customers, 25,900 invoices, 2010-12 to 2011-12) into the default
workspace, with simulated web and e-mail activity, and checks the totals. Safe to run again.`;

export const demoEmail = (customerId: string) => `customer-${customerId}@demo.omnia.test`;

export interface DemoTotals {
  customers: number;
  countries: number;
  invoices: number;
  completed: number;
  refunded: number;
  /** In GBP; orders in another currency are counted in otherCurrency. */
  revenueMinor: number;
  otherCurrency: number;
  profiles: number;
  events: number;
  webEvents: number;
  emailEvents: number;
  merges: number;
}

/** Totals read back from the store with SQL (not from what the importer thinks it wrote). */
export async function demoTotals(store: Store, ws = DEFAULT_WORKSPACE): Promise<DemoTotals> {
  const country = store.dialect === 'postgres' ? sql`context->'traits'->>'country'` : sql`json_extract(context, '$.traits.country')`;
  const one = async <T>(q: RawBuilder<T>) => (await q.execute(store.db)).rows[0]!;
  const customers = await one<{ n: number }>(sql`
    SELECT COUNT(DISTINCT p.canonical_id) AS n FROM identifiers i
    JOIN profiles p ON p.workspace_id = i.workspace_id AND p.id = i.profile_id
    WHERE i.workspace_id = ${ws} AND i.kind = 'user_id'
      AND i.value IN (SELECT user_id FROM events WHERE workspace_id = ${ws} AND message_id LIKE 'import:customer:%')`);
  const orders = await one<{ invoices: number; completed: number; refunded: number; revenue: number | null; other: number; countries: number }>(sql`
    SELECT COUNT(*) AS invoices,
           SUM(CASE WHEN event = 'Order Completed' THEN 1 ELSE 0 END) AS completed,
           SUM(CASE WHEN event = 'Order Refunded' THEN 1 ELSE 0 END) AS refunded,
           SUM(CASE WHEN currency = ${PUBLISHED.currency} THEN revenue_minor ELSE 0 END) AS revenue,
           SUM(CASE WHEN currency = ${PUBLISHED.currency} THEN 0 ELSE 1 END) AS other,
           COUNT(DISTINCT ${country}) AS countries
    FROM events WHERE workspace_id = ${ws} AND message_id LIKE 'import:order:%'`);
  const all = await one<{ events: number; web: number; email: number }>(sql`
    SELECT COUNT(*) AS events,
           SUM(CASE WHEN channel = 'web' AND message_id LIKE 'demo:%' THEN 1 ELSE 0 END) AS web,
           SUM(CASE WHEN channel = 'email' THEN 1 ELSE 0 END) AS email
    FROM events WHERE workspace_id = ${ws}`);
  const profiles = await one<{ n: number }>(sql`SELECT COUNT(DISTINCT canonical_id) AS n FROM profiles WHERE workspace_id = ${ws}`);
  const merges = await one<{ n: number }>(sql`SELECT COUNT(*) AS n FROM merges WHERE workspace_id = ${ws} AND undone_at IS NULL`);
  return {
    customers: Number(customers.n),
    countries: Number(orders.countries),
    invoices: Number(orders.invoices),
    completed: Number(orders.completed ?? 0),
    refunded: Number(orders.refunded ?? 0),
    revenueMinor: Number(orders.revenue ?? 0),
    otherCurrency: Number(orders.other ?? 0),
    profiles: Number(profiles.n),
    events: Number(all.events),
    webEvents: Number(all.web ?? 0),
    emailEvents: Number(all.email ?? 0),
    merges: Number(merges.n),
  };
}

export async function runDemoCli(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { file: { type: 'string' }, 'no-activity': { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${DEMO_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(DEMO_USAGE);
    return 0;
  }
  const file = values.file ?? DEMO_FILE;
  if (!fs.existsSync(file)) {
    console.error(`omnia demo: ${file} not found`);
    return 2;
  }
  const t0 = Date.now();
  const config = loadConfig();
  const rt = await openRuntime({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, workers: false });
  try {
    const { generated } = await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
    for (const g of generated) console.error(`first run: created the default workspace's ${g.kind} key (shown once, store it now): ${g.key}`);
    const where = rt.store.dialect === 'sqlite' ? `SQLite in ${path.resolve(config.dataDir)}` : 'PostgreSQL';
    console.log(`Omnia demo: UCI Online Retail → workspace "${DEFAULT_WORKSPACE}" (${where})`);
    const progress = new Progress();
    const common = {
      file,
      workspaceId: DEFAULT_WORKSPACE,
      currency: 'GBP',
      timezone: 'Europe/London',
      rejectsFile: null,
      progress,
      drain: false,
    } as const;

    const customers = await importFile(rt, { ...common, kind: 'customers', customerTraits: (id, traits) => void (traits.email = demoEmail(id)) });
    const orders: ImportedOrder[] = [];
    const orderSummary = await importFile(rt, { ...common, kind: 'orders', channel: 'web', onOrder: (o) => orders.push({ ...o, products: o.products.slice(0, 5) }) });

    // Customers and orders get their profiles first, and the planner its statistics, before the activity's identity
    // links (merges) are worked through.
    const timer = () => {
      const t = Date.now();
      return () => (Date.now() - t) / 1000;
    };
    let attrTime = timer();
    let attributed = await attributeAll(rt.store, rt.processor, progress);
    let attrSeconds = attrTime();
    await refreshPlannerStats(rt.store);
    let activity = { events: 0, written: 0, rejected: 0, seconds: 0 };
    if (!values['no-activity']) {
      const actTime = timer();
      activity = { ...(await loadActivity(rt.store, orders, progress)), seconds: 0 };
      activity.seconds = actTime();
      attrTime = timer();
      attributed += await attributeAll(rt.store, rt.processor, progress);
      attrSeconds += attrTime();
      await refreshPlannerStats(rt.store);
    }

    // RFM is otherwise recomputed once a day: a server started before the demo would show no stages until then.
    const stages = await recomputeRfm(rt.store, DEFAULT_WORKSPACE, Date.now());
    const totals = await demoTotals(rt.store);
    const seconds = (Date.now() - t0) / 1000;
    console.log(report(customers, orderSummary, activity, totals, attributed, attrSeconds, seconds));
    console.log(rfmLine(stages));
    const ok = totals.customers === PUBLISHED.customers && totals.countries === PUBLISHED.countries && totals.invoices === PUBLISHED.invoices && totals.revenueMinor === PUBLISHED.revenueMinor;
    return ok ? 0 : 1;
  } finally {
    await rt.close();
  }
}

/** "RFM stages: 4,338 customers (Lost 2,811, Hibernating 903, …)", the largest stages first. */
export function rfmLine(stages: Record<string, number>): string {
  const n = Object.values(stages).reduce((a, b) => a + b, 0);
  const top = Object.entries(stages).filter(([, k]) => k > 0).sort((a, b) => b[1] - a[1]).map(([s, k]) => `${s} ${k.toLocaleString('en-US')}`);
  return `  RFM stages: ${n.toLocaleString('en-US')} customers${top.length ? ` (${top.join(', ')})` : ''}`;
}

async function loadActivity(store: Store, orders: ImportedOrder[], progress: Progress) {
  const calls = simulateActivity(orders);
  const receivedAt = Date.now();
  const rows: EventRow[] = [];
  let rejected = 0;
  progress.start('simulated activity', calls.length, 'events');
  for (const c of calls) {
    const r = normalizeCall(c.type, c.call, { workspaceId: DEFAULT_WORKSPACE, receivedAt });
    if (r.ok) rows.push(r.row);
    else rejected++;
  }
  let written = 0;
  for (let i = 0; i < rows.length; i += 10_000) {
    written += (await bulkInsertEvents(store, rows.slice(i, i + 10_000))).inserted;
    const done = Math.min(i + 10_000, rows.length);
    progress.update(done, done);
  }
  progress.end();
  return { events: rows.length, written, rejected };
}

function report(
  customers: ImportSummary,
  orders: ImportSummary,
  activity: { events: number; written: number; rejected: number; seconds: number },
  t: DemoTotals,
  attributed: number,
  attrSeconds: number,
  seconds: number,
): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const written = customers.eventsWritten + orders.eventsWritten + activity.written;
  const dup = customers.duplicates + orders.duplicates + (activity.events - activity.written);
  const rej = customers.rowsRejected + orders.rowsRejected + activity.rejected;
  const row = (label: string, store: string, published: string, ok: boolean | null) =>
    `  ${label.padEnd(24)}${store.padStart(18)}${published.padStart(18)}   ${ok === null ? '' : ok ? 'OK' : 'MISMATCH'}`;
  const money = (m: number) => formatMinor(m, PUBLISHED.currency);
  return [
    `  file rows read          ${n(orders.rowsRead)} (published: ${n(PUBLISHED.rows)})  ${orders.rowsRead === PUBLISHED.rows ? 'OK' : 'MISMATCH'}`,
    `  events written          ${n(written)} new, ${n(dup)} already there${rej ? `, ${n(rej)} rejected` : ''}` +
      `  (customers ${n(customers.events)}, orders ${n(orders.events)}, simulated activity ${n(activity.events)})`,
    `  time                    customers ${customers.importSeconds.toFixed(1)} s, orders ${orders.importSeconds.toFixed(1)} s, ` +
      `simulated activity ${activity.seconds.toFixed(1)} s, profiles for ${n(attributed)} events ${attrSeconds.toFixed(1)} s`,
    '',
    row('read back from store', 'store', 'published', null),
    row('customers', n(t.customers), n(PUBLISHED.customers), t.customers === PUBLISHED.customers),
    row('countries', n(t.countries), n(PUBLISHED.countries), t.countries === PUBLISHED.countries),
    row('orders (invoices)', n(t.invoices), n(PUBLISHED.invoices), t.invoices === PUBLISHED.invoices),
    row('  completed / refunded', `${n(t.completed)} / ${n(t.refunded)}`, '', null),
    row('revenue', money(t.revenueMinor), money(PUBLISHED.revenueMinor), t.revenueMinor === PUBLISHED.revenueMinor),
    ...(t.otherCurrency
      ? [`  (${n(t.otherCurrency)} orders are in another currency: imported earlier with \`omnia import\` without --currency GBP)`]
      : []),
    row('profiles (all)', n(t.profiles), '', null),
    row('events (all)', n(t.events), '', null),
    row('  simulated web', n(t.webEvents), '', null),
    row('  e-mail engagement', n(t.emailEvents), '', null),
    row('identity merges', n(t.merges), '', null),
    '',
    `  done in ${seconds.toFixed(1)} s. Data: UCI ML Repository #352 "Online Retail", Chen, Sain & Guo (2012), CC BY 4.0.`,
  ].join('\n');
}
