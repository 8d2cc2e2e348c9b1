// CSV import end to end on both backends: orders, customers and events files made here, the rejects file and the
// fix-and-reimport round trip, idempotent re-runs, mapping errors, the CLI, and the first 5,000 lines of the real UCI
// Online Retail data checked against counts computed independently in this file.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import type { Runtime } from '../src/app/runtime.ts';
import { csvLine, parseCsv, readCsv } from '../src/importer/csv.ts';
import { MappingError, importFile, type ImportOptions } from '../src/importer/import.ts';
import { runImportCli } from '../src/importer/cli.ts';
import { runDemoCli } from '../src/importer/demo.ts';
import { simulateActivity } from '../src/importer/activity.ts';
import { lookupProfile, readProfile } from '../src/profiles/read.ts';
import { bootstrapDefaultWorkspace, createWorkspace } from '../src/workspaces/keys.ts';
import { BACKENDS, openTestRuntime, tempDir } from './helpers.ts';

const UCI_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../datasets/online-retail/online_retail.csv.br');

const ORDERS = [
  'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country',
  '536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,2010-12-01 08:26:00,2.55,17850,United Kingdom',
  '536365,71053,"WHITE METAL LANTERN, LARGE",6,2010-12-01 08:26:00,3.39,17850,United Kingdom',
  'C536379,D,Discount,-1,2010-12-01 09:41:00,27.50,14527,United Kingdom',
  '536370,22728,"ALARM CLOCK ""BAKELIKE"" PINK",24,2011-03-27 10:16:00,3.75,12583,France',
  '536380,PADS,PADS TO MATCH ALL CUSHIONS,5,2011-10-30 01:30:00,0.001,,United Kingdom',
  '536381,X1,Bad quantity,abc,2011-01-01 10:00:00,1.00,12345,Germany',
  '536381,X2,Good line of a bad order,1,2011-01-01 10:00:00,2.00,12345,Germany',
  '536382,X3,Bad date,1,2011-02-30 10:00:00,1.00,12346,Germany',
  ',X4,No invoice,1,2011-01-01 10:00:00,1.00,12347,Germany',
  '536383,X5,Too few fields,1',
  '536365,22752,SET 7 BABUSHKA NESTING BOXES,2,2010-12-01 08:26:00,7.65,17850,United Kingdom',
].join('\r\n');

const CUSTOMERS = [
  'customer_id,email,phone,first_name,last_name,Country,Plan',
  'c1,ann@example.com,+44 20 7946 0958,Ann,Lee,United Kingdom,gold',
  'c2,not-an-email,,Bob,,France,silver',
  'c3,,07700 900123,Cy,,United Kingdom,',
  ',,,,,Germany,',
  ',dee@example.com,,Dee,,Spain,',
  'c1,,,Annie,,United Kingdom,platinum',
].join('\n');

const EVENTS = [
  'type,event,user_id,anonymous_id,timestamp,name,plan_value,properties',
  'track,Signed Up,u1,,2011-05-01T10:00:00Z,,12.5,"{""source"":""ad""}"',
  'page,,,anon-1,2011-05-01 11:00:00,Pricing,,',
  'identify,,u1,anon-1,2011-05-01 11:05:00,,,',
  'track,,u2,,2011-05-01 12:00:00,,,',
  'bogus,X,u3,,,,,',
  'track,Order Completed,u2,,2011-05-02 09:00:00,,,"{""total"":""19.99"",""currency"":""EUR""}"',
  'track,Signed Up,u1,,2011-05-01T10:00:00Z,,12.5,"{""source"":""ad""}"',
  'track,Broken,u4,,2011-05-01 12:00:00,,,{not json}',
].join('\n');

describe.each(BACKENDS)('CSV import (%s)', (backend) => {
  let rt: Runtime;
  let cleanup: () => Promise<void>;
  const dir = tempDir('omnia-import-');
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };
  let wsN = 0;
  const workspace = async () => (await createWorkspace(rt.store, 'import test', `imp_${backend}_${++wsN}`)).id;
  const run = (opts: Omit<ImportOptions, 'workspaceId'> & { workspaceId: string }) => importFile(rt, opts);
  const q = async <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => (await query.execute(rt.store.db)).rows as T[];
  const events = (ws: string) =>
    q<{ message_id: string; type: string; event: string | null; user_id: string | null; anonymous_id: string | null; timestamp: number; revenue_minor: number | null; currency: string | null; channel: string; properties: unknown; context: unknown }>(
      sql`SELECT message_id, type, event, user_id, anonymous_id, timestamp, revenue_minor, currency, channel, properties, context FROM events WHERE workspace_id = ${ws} AND internal = 0 ORDER BY seq`,
    );
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as any;

  beforeAll(async () => {
    const t = await openTestRuntime(backend);
    rt = t.rt;
    cleanup = t.cleanup;
    await bootstrapDefaultWorkspace(rt.store, {});
  });
  afterAll(async () => {
    await cleanup?.();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('orders: one event per invoice, refunds, guests, exact totals, DST; bad rows to the rejects file; re-run writes nothing', async () => {
    const ws = await workspace();
    const rejects = path.join(dir, `orders-rejects-${backend}.csv`);
    const f = file('orders.csv', ORDERS);
    const s = await run({ kind: 'orders', file: f, workspaceId: ws, rejectsFile: rejects, currency: 'GBP', timezone: 'Europe/London' });
    expect(s).toMatchObject({ rowsRead: 11, rowsOk: 6, rowsRejected: 5, events: 4, eventsWritten: 4, duplicates: 0, rejectsFile: rejects });
    expect(s.byEvent).toEqual({ 'Order Completed': 3, 'Order Refunded': 1 });
    expect(s.revenueMinor).toEqual({ GBP: 5094 - 2750 + 9000 + 1 });

    const rows = await events(ws);
    const by = Object.fromEntries(rows.map((r) => [r.message_id, r]));
    expect(Object.keys(by).sort()).toEqual(['import:order:536365', 'import:order:536370', 'import:order:536380', 'import:order:C536379']);
    const o = by['import:order:536365']!;
    expect(o).toMatchObject({ type: 'track', event: 'Order Completed', user_id: '17850', anonymous_id: null, revenue_minor: 5094, currency: 'GBP', channel: 'import' });
    expect(new Date(o.timestamp).toISOString()).toBe('2010-12-01T08:26:00.000Z');
    const props = json(o.properties);
    expect(props).toMatchObject({ order_id: '536365', total: 50.94, currency: 'GBP' });
    expect(props.products).toEqual([
      { product_id: '85123A', sku: '85123A', name: 'WHITE HANGING HEART T-LIGHT HOLDER', price: 2.55, quantity: 6 },
      { product_id: '71053', sku: '71053', name: 'WHITE METAL LANTERN, LARGE', price: 3.39, quantity: 6 },
      { product_id: '22752', sku: '22752', name: 'SET 7 BABUSHKA NESTING BOXES', price: 7.65, quantity: 2 },
    ]);
    expect(json(o.context).traits).toEqual({ country: 'United Kingdom' });
    expect(by['import:order:C536379']).toMatchObject({ event: 'Order Refunded', revenue_minor: -2750, user_id: '14527' });
    // 10:16 on the day clocks go forward is BST; 01:30 on the day they go back is the first (BST) 01:30.
    expect(new Date(by['import:order:536370']!.timestamp).toISOString()).toBe('2011-03-27T09:16:00.000Z');
    expect(json(by['import:order:536370']!.properties).products[0].name).toBe('ALARM CLOCK "BAKELIKE" PINK');
    expect(by['import:order:536380']).toMatchObject({ user_id: null, anonymous_id: 'guest:536380', revenue_minor: 1 });
    expect(new Date(by['import:order:536380']!.timestamp).toISOString()).toBe('2011-10-30T00:30:00.000Z');

    // Profiles exist once the import returns.
    const pid = await lookupProfile(rt.store.db, ws, 'user_id', '17850');
    const profile = await readProfile(rt.store.db, ws, pid!);
    expect(profile!.computed).toMatchObject({ orders: 1, totalSpent: [{ amountMinor: 5094, currency: 'GBP' }] });
    expect(await lookupProfile(rt.store.db, ws, 'anonymous_id', 'guest:536380')).toBeTruthy();

    const rej = parseCsv(fs.readFileSync(rejects));
    expect(rej[0]).toEqual([...ORDERS.split('\r\n')[0]!.split(','), 'reason']);
    const reasons = rej.slice(1).map((r) => `${r[0]}|${r.at(-1)}`);
    expect(reasons).toEqual([
      expect.stringMatching(/^536381\|line 7: quantity: "abc" is not a number/),
      expect.stringMatching(/^536381\|line 8: order 536381 has a rejected line \(line 7/),
      expect.stringMatching(/^536382\|line 9: timestamp: .*not a valid date/),
      expect.stringMatching(/^\|line 10: order_id: empty/),
      expect.stringMatching(/^536383\|line 11: has 4 fields; the header has 8/),
    ]);

    // The same file again: nothing new.
    const again = await run({ kind: 'orders', file: f, workspaceId: ws, rejectsFile: rejects, currency: 'GBP', timezone: 'Europe/London' });
    expect(again).toMatchObject({ rowsRead: 11, rowsOk: 6, events: 4, eventsWritten: 0, duplicates: 4 });
    expect((await events(ws)).length).toBe(4);

    // Fix the rejects file and import it: the two repaired orders arrive complete.
    const fixed = fs.readFileSync(rejects, 'utf8').replace(',abc,', ',3,').replace('2011-02-30', '2011-02-28');
    const s2 = await run({ kind: 'orders', file: file('fixed.csv', fixed), workspaceId: ws, rejectsFile: path.join(dir, `fixed-rejects-${backend}.csv`), currency: 'GBP', timezone: 'Europe/London' });
    expect(s2).toMatchObject({ rowsRead: 5, rowsOk: 3, rowsRejected: 2, eventsWritten: 2 });
    expect(s2.unusedColumns).toEqual(['reason']);
    const repaired = (await events(ws)).find((e) => e.message_id === 'import:order:536381')!;
    expect(repaired.revenue_minor).toBe(300 + 200);
    // The rejects of a rejects file have the same columns, with the new reasons.
    const again2 = parseCsv(fs.readFileSync(path.join(dir, `fixed-rejects-${backend}.csv`)));
    expect(again2[0]).toEqual(rej[0]);
    expect(again2.slice(1).map((r) => r.at(-1))).toEqual([expect.stringMatching(/^line 5: order_id: empty/), expect.stringMatching(/^line 6: price: "" is not a plain decimal number/)]);
  });

  it('customers: one identify per customer with the mapped traits; re-run is a no-op, changed traits are new', async () => {
    const ws = await workspace();
    const f = file('customers.csv', CUSTOMERS);
    const opts = { kind: 'customers' as const, file: f, workspaceId: ws, rejectsFile: path.join(dir, `cust-rejects-${backend}.csv`), map: 'traits.plan=Plan' };
    const s = await run(opts);
    expect(s).toMatchObject({ rowsRead: 6, rowsOk: 4, rowsRejected: 1, rowsSkipped: 1, events: 3, eventsWritten: 3 });
    expect(s.byEvent).toEqual({ identify: 3 });
    const rej = parseCsv(fs.readFileSync(opts.rejectsFile));
    expect(rej[1]!.at(-1)).toMatch(/^line 3: email: "not-an-email" is not an e-mail address/);

    const c1 = await readProfile(rt.store.db, ws, (await lookupProfile(rt.store.db, ws, 'user_id', 'c1'))!);
    expect(c1!.traits).toEqual({ email: 'ann@example.com', phone: '+44 20 7946 0958', firstName: 'Annie', lastName: 'Lee', country: 'United Kingdom', plan: 'platinum' });
    expect(c1!.identifiers.map((i) => i.kind).sort()).toEqual(['email', 'phone', 'user_id']);
    // A national number is read with the customer's country.
    expect(await lookupProfile(rt.store.db, ws, 'phone', '+447700900123')).toBe(await lookupProfile(rt.store.db, ws, 'user_id', 'c3'));
    // No userId: the e-mail is the identity.
    expect(await lookupProfile(rt.store.db, ws, 'email', 'dee@example.com')).toBeTruthy();

    expect(await run(opts)).toMatchObject({ events: 3, eventsWritten: 0, duplicates: 3 });
    const changed = file('customers2.csv', CUSTOMERS.replace('platinum', 'diamond'));
    expect(await run({ ...opts, file: changed })).toMatchObject({ events: 3, eventsWritten: 1, duplicates: 2 });
    const c1b = await readProfile(rt.store.db, ws, (await lookupProfile(rt.store.db, ws, 'user_id', 'c1'))!);
    expect(c1b!.traits.plan).toBe('diamond');
  });

  it('events: any call type, JSON and mapped properties, derived idempotent messageIds', async () => {
    const ws = await workspace();
    const f = file('events.csv', EVENTS);
    const opts = { kind: 'events' as const, file: f, workspaceId: ws, rejectsFile: path.join(dir, `ev-rejects-${backend}.csv`), map: ['properties.plan=plan_value'], timezone: 'Europe/London' };
    const s = await run(opts);
    expect(s).toMatchObject({ rowsRead: 8, rowsOk: 5, rowsRejected: 3, events: 5, eventsWritten: 5 });
    expect(s.revenueMinor).toEqual({ EUR: 1999 });
    const reasons = parseCsv(fs.readFileSync(opts.rejectsFile)).slice(1).map((r) => r.at(-1));
    expect(reasons).toEqual([expect.stringMatching(/^line 5: event/), expect.stringMatching(/^line 6: type: "bogus" is not one of/), expect.stringMatching(/^line 9: properties: not a JSON object/)]);

    const rows = await events(ws);
    expect(rows.map((r) => `${r.type}:${r.event ?? ''}`)).toEqual(['track:Signed Up', 'page:Pricing', 'identify:', 'track:Order Completed', 'track:Signed Up']);
    expect(json(rows[0]!.properties)).toEqual({ source: 'ad', plan: 12.5 });
    expect(rows[0]!.message_id).not.toBe(rows[4]!.message_id); // identical rows are two events
    expect(rows[1]!.channel).toBe('web');
    expect(new Date(rows[1]!.timestamp).toISOString()).toBe('2011-05-01T10:00:00.000Z'); // 11:00 BST
    // The identify linked the anonymous page view to u1.
    expect(await lookupProfile(rt.store.db, ws, 'anonymous_id', 'anon-1')).toBe(await lookupProfile(rt.store.db, ws, 'user_id', 'u1'));

    expect(await run(opts)).toMatchObject({ events: 5, eventsWritten: 0, duplicates: 5 });
  });

  it('a --map naming a column the file does not have is a clear error, and nothing is written', async () => {
    const ws = await workspace();
    const f = file('orders-map.csv', ORDERS);
    const attempt = run({ kind: 'orders', file: f, workspaceId: ws, rejectsFile: null, map: 'customer_id=CustomerIDX,email=Email' });
    await expect(attempt).rejects.toThrow(MappingError);
    await expect(run({ kind: 'orders', file: f, workspaceId: ws, rejectsFile: null, map: 'customer_id=CustomerIDX' })).rejects.toThrow(
      /--map customer_id=CustomerIDX: the file has no column "CustomerIDX". Its columns are: "InvoiceNo", "StockCode"/,
    );
    expect((await events(ws)).length).toBe(0);
  });

  it('the first 5,000 lines of UCI Online Retail: profiles, orders, countries and revenue match an independent count', async () => {
    const ws = await workspace();
    const lines: string[] = [];
    let header: string[] = [];
    const data: string[][] = [];
    outer: for await (const b of readCsv(UCI_FILE)) {
      for (const r of b.rows) {
        if (!header.length) header = r;
        else data.push(r);
        if (data.length === 5000) break outer;
      }
    }
    lines.push(csvLine(header), ...data.map((r) => csvLine(r)));
    const f = file('uci-5000.csv', lines.join(''));

    // Independent count: plain JS numbers, prices in thousandths (the data has at most 3 decimals).
    const col = Object.fromEntries(header.map((h, i) => [h, i]));
    const customers = new Set<string>();
    const countries = new Set<string>();
    const invoices = new Map<string, { milli: number; customer: string }>();
    for (const r of data) {
      const inv = r[col.InvoiceNo]!;
      const cust = r[col.CustomerID]!;
      if (cust) customers.add(cust);
      countries.add(r[col.Country]!);
      const e = invoices.get(inv) ?? { milli: 0, customer: cust };
      e.milli += Math.round(Number(r[col.UnitPrice]) * 1000) * Number(r[col.Quantity]);
      invoices.set(inv, e);
    }
    let revenue = 0;
    for (const e of invoices.values()) revenue += Math.sign(e.milli) * Math.floor((Math.abs(e.milli) + 5) / 10);
    const guests = [...invoices.values()].filter((e) => !e.customer).length;
    const refunds = [...invoices.keys()].filter((k) => k.startsWith('C')).length;

    const opts = { file: f, workspaceId: ws, rejectsFile: null, currency: 'GBP', timezone: 'Europe/London' } as const;
    const cs = await run({ ...opts, kind: 'customers' });
    expect(cs).toMatchObject({ rowsRead: 5000, rowsRejected: 0, events: customers.size });
    const os = await run({ ...opts, kind: 'orders' });
    expect(os).toMatchObject({ rowsRead: 5000, rowsOk: 5000, rowsRejected: 0, events: invoices.size, eventsWritten: invoices.size });
    expect(os.byEvent['Order Refunded']).toBe(refunds);

    const [orders] = await q<{ n: number; revenue: number; countries: number }>(
      rt.store.dialect === 'postgres'
        ? sql`SELECT COUNT(*) AS n, SUM(revenue_minor) AS revenue, COUNT(DISTINCT context->'traits'->>'country') AS countries FROM events WHERE workspace_id = ${ws} AND event IN ('Order Completed', 'Order Refunded')`
        : sql`SELECT COUNT(*) AS n, SUM(revenue_minor) AS revenue, COUNT(DISTINCT json_extract(context, '$.traits.country')) AS countries FROM events WHERE workspace_id = ${ws} AND event IN ('Order Completed', 'Order Refunded')`,
    );
    expect(Number(orders!.n)).toBe(invoices.size);
    expect(Number(orders!.revenue)).toBe(revenue);
    expect(Number(orders!.countries)).toBe(countries.size);
    const [profiles] = await q<{ customers: number; all: number }>(sql`
      SELECT (SELECT COUNT(DISTINCT p.canonical_id) FROM identifiers i JOIN profiles p ON p.workspace_id = i.workspace_id AND p.id = i.profile_id
              WHERE i.workspace_id = ${ws} AND i.kind = 'user_id') AS customers,
             (SELECT COUNT(DISTINCT canonical_id) FROM profiles WHERE workspace_id = ${ws}) AS "all"`);
    expect(Number(profiles!.customers)).toBe(customers.size);
    expect(Number(profiles!.all)).toBe(customers.size + guests);
    const [unattributed] = await q<{ n: number }>(sql`SELECT COUNT(*) AS n FROM events WHERE workspace_id = ${ws} AND profile_id IS NULL`);
    expect(Number(unattributed!.n)).toBe(0);
  });
});

describe('omnia import (CLI)', () => {
  const dir = tempDir('omnia-import-cli-');
  const keys = ['OMNIA_DATA_DIR', 'DATABASE_URL', 'OMNIA_WRITE_KEY', 'OMNIA_ADMIN_KEY'] as const;
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  beforeAll(() => {
    for (const k of keys) delete process.env[k];
    process.env.OMNIA_DATA_DIR = dir;
  });
  afterAll(() => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const capture = async (args: string[], cli: (args: string[]) => Promise<number> = runImportCli) => {
    const out: string[] = [];
    const err: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
    const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
    try {
      const code = await cli(args);
      return { code, out: out.join('\n'), err: err.join('\n') };
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };

  it('imports a gzip file and prints the summary; a bad --map exits 2 with the reason', async () => {
    const { gzipSync } = await import('node:zlib');
    const f = path.join(dir, 'orders.csv.gz');
    fs.writeFileSync(f, gzipSync(ORDERS));
    const rejects = path.join(dir, 'rejects.csv');
    const ok = await capture(['orders', f, '--currency', 'GBP', '--timezone', 'Europe/London', '--rejects', rejects]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/rows read\s+11/);
    expect(ok.out).toMatch(/rows rejected\s+5 {2}→ .*rejects\.csv/);
    expect(ok.out).toMatch(/events written\s+4/);
    expect(ok.out).toMatch(/revenue\s+113\.45 GBP/);
    // New orders restage RFM at once (not at the next daily run).
    expect(ok.out).toMatch(/RFM stages recomputed: [1-9]\d* customers/);
    const again = await capture(['orders', f, '--currency', 'GBP', '--timezone', 'Europe/London', '--rejects', rejects]);
    expect(again.out).toMatch(/duplicates skipped\s+4/);

    const bad = await capture(['orders', f, '--map', 'customer_id=Client']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--map customer_id=Client: the file has no column "Client"/);
    const usage = await capture(['products', f]);
    expect(usage.code).toBe(2);
    expect((await capture(['orders', f, '--timezone', 'Mars/Olympus'])).err).toMatch(/not an IANA time zone/);
    expect((await capture(['orders', path.join(dir, 'missing.csv')])).err).toMatch(/cannot read/);
  });

  it('omnia demo on a slice of the data set: loads, checks against the published figures, and a re-run adds nothing', async () => {
    const lines: string[] = [];
    outer: for await (const b of readCsv(UCI_FILE)) {
      for (const r of b.rows) {
        lines.push(csvLine(r));
        if (lines.length > 3000) break outer;
      }
    }
    const f = path.join(dir, 'slice.csv');
    fs.writeFileSync(f, lines.join(''));
    process.env.OMNIA_DATA_DIR = path.join(dir, 'demo'); // a store of its own
    const first = await capture(['--file', f], runDemoCli);
    expect(first.code).toBe(1); // a slice cannot match the full data set's figures
    expect(first.out).toMatch(/file rows read\s+3,000 \(published: 541,909\)\s+MISMATCH/);
    expect(first.out).toMatch(/customers\s+\d+\s+4,372\s+MISMATCH/);
    expect(first.out).toMatch(/simulated web\s+[1-9]/);
    const written = Number(/events written\s+([\d,]+) new/.exec(first.out)![1]!.replace(/,/g, ''));
    expect(written).toBeGreaterThan(3000 / 20);
    const second = await capture(['--file', f], runDemoCli);
    expect(second.out).toMatch(new RegExp(`events written\\s+0 new, ${written.toLocaleString('en-US')} already there`));
  });
});

describe('simulated demo activity', () => {
  it('is deterministic and only uses customers with orders', () => {
    const order = (orderId: string, userId: string | null, t: number) => ({
      orderId,
      userId,
      anonymousId: userId ? null : `guest:${orderId}`,
      timestamp: t,
      refund: false,
      totalMinor: 1234,
      currency: 'GBP',
      country: 'United Kingdom',
      products: [
        { sku: 'A1', name: 'Mug', price: 2.5, quantity: 2 },
        { sku: 'B2', name: 'Lamp', price: 7.45, quantity: 1 },
      ],
    });
    const orders = Array.from({ length: 60 }, (_, i) => order(`${1000 + i}`, i % 5 === 0 ? null : `c${i % 7}`, Date.UTC(2011, 0, 1 + i, 10)));
    const a = simulateActivity(orders);
    const b = simulateActivity([...orders].reverse());
    expect(a).toEqual(b);
    expect(new Set(a.map((c) => c.call.messageId)).size).toBe(a.length);
    const users = new Set(a.map((c) => c.call.userId).filter(Boolean));
    for (const u of users) expect(u).toMatch(/^c[0-6]$/);
    const names = new Set(a.map((c) => (c.call.event as string) ?? c.type));
    expect(names).toContain('Email Opened');
    expect(names).toContain('Product Viewed');
    for (const c of a) if (String(c.call.event ?? '').startsWith('Email')) expect(c.call.context).toEqual({ channel: 'email' });
  });
});
