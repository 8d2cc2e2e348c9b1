// CSV → Segment calls → the event log. Every row goes through the same validation as the HTTP API (normalizeCall),
// then is bulk-written with a messageId derived from the data, so running the same import again writes nothing new.
//
//   customers: one `identify` per customer (rows of the same customer are combined, later values win)
//   orders:    order lines grouped by order id → one `Order Completed` (or `Order Refunded`) per order
//   events:    one call per row (track unless a `type` column says otherwise)
//
// Rows that cannot be imported are written to a rejects CSV: the original row plus a `reason` column. For orders a
// bad line rejects its whole order (the other lines say why), so fixing the rejects file and importing it again loads
// complete orders.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { IdentityProcessor } from '../identity/processor.ts';
import { countryCode, normalizeEmail, normalizePhone } from '../identity/extract.ts';
import { type EventRow, MAX_EVENT_BYTES, currencyDigits, isCallType, normalizeCall } from '../ingest/normalize.ts';
import { CallTypes, type CallType } from '../schema/events.ts';
import { bulkInsertEvents } from '../store/bulk.ts';
import { type Store, sql } from '../store/db.ts';
import { CsvFileWriter, type CsvBatch, readCsv } from './csv.ts';
import { type ImportKind, type Mapping, MappingError, cellValue, checkHeader, parseMapArg, resolveMapping } from './mapping.ts';
import { decimalToNumber, minorToMajor, parseDecimal, toMinor } from './money.ts';
import type { Progress } from './progress.ts';
import { type DateOrder, DateTimeReader, isValidTimeZone } from './time.ts';

export { MappingError };

export class ImportError extends Error {}

export interface ImportOptions {
  kind: ImportKind;
  file: string;
  workspaceId: string;
  /** `--map` text ("field=Column,…") or parsed pairs. */
  map?: string | string[] | [string, string][];
  /** Where rejected rows go; default rejects-<file name>.csv in the working directory; null: nowhere. */
  rejectsFile?: string | null;
  /** Currency of amounts when no column says (default USD, as the API). */
  currency?: string;
  /** Time zone of date-times without an offset (default UTC). */
  timezone?: string;
  dateOrder?: DateOrder;
  /** context.channel of the calls (customers/orders default "import"; events: inferred unless given). */
  channel?: string;
  /** Orders whose id starts with this and whose quantities are all negative are refunds (default "C", as UCI). */
  refundPrefix?: string;
  /** Events per bulk write. */
  batchSize?: number;
  progress?: Progress;
  /** Attribute the new events to profiles before returning (needs `processor`). Default true. */
  drain?: boolean;
  receivedAt?: number;
  /** Adds traits to each customer's identify (the demo's synthetic e-mail). */
  customerTraits?: (customerId: string, traits: Record<string, unknown>) => void;
  /** Sees every order written (the demo builds its simulated activity from them). */
  onOrder?: (order: ImportedOrder) => void;
}

export interface ImportedOrder {
  orderId: string;
  userId: string | null;
  anonymousId: string | null;
  timestamp: number;
  refund: boolean;
  totalMinor: number;
  currency: string;
  country: string | null;
  products: { sku: string; name: string; price: number; quantity: number }[];
}

export interface ImportSummary {
  kind: ImportKind;
  file: string;
  workspaceId: string;
  rowsRead: number;
  rowsOk: number;
  rowsRejected: number;
  /** Customers import: rows with no customer id, e-mail or phone (guest order lines), not imported. */
  rowsSkipped: number;
  /** Calls that passed validation (written + duplicates). */
  events: number;
  eventsWritten: number;
  duplicates: number;
  /** Per event name (orders) or call type. */
  byEvent: Record<string, number>;
  /** Sum of revenue_minor of the calls built, per currency. */
  revenueMinor: Record<string, number>;
  /** Orders whose products list was cut to stay under the 32 KB event limit (total and order_id are complete). */
  truncatedOrders: number;
  rejectsFile: string | null;
  /** Columns of the file that no field uses. */
  unusedColumns: string[];
  importSeconds: number;
  attributeSeconds: number;
  attributed: number;
}

interface Ctx {
  opts: ImportOptions;
  store: Store;
  tz: DateTimeReader;
  currency: string;
  receivedAt: number;
  summary: ImportSummary;
  rejects: CsvFileWriter | null;
  header: string[];
  pending: EventRow[];
  inflight: Promise<void> | null;
  batchSize: number;
  /** Index of a `reason` column (the file is a rejects file), or -1. */
  reasonColumn: number;
}

const sha = (s: string, n = 16) => createHash('sha1').update(s).digest('hex').slice(0, n);
const MAX_ID = 200; // messageIds are at most 256 characters; keep room for the prefix

export function defaultRejectsFile(file: string): string {
  const base = path.basename(file).replace(/(\.(gz|gzip|br))$/i, '').replace(/\.(csv|tsv|txt)$/i, '');
  return path.resolve(`rejects-${base}.csv`);
}

export async function importFile(target: { store: Store; processor?: IdentityProcessor }, opts: ImportOptions): Promise<ImportSummary> {
  const t0 = Date.now();
  const timezone = opts.timezone ?? 'UTC';
  if (!isValidTimeZone(timezone)) throw new ImportError(`--timezone ${timezone}: not an IANA time zone (e.g. Europe/London, America/New_York, UTC)`);
  const currency = (opts.currency ?? 'USD').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) throw new ImportError(`--currency ${opts.currency}: expected an ISO 4217 code such as GBP`);
  const overrides = Array.isArray(opts.map) && Array.isArray(opts.map[0]) ? (opts.map as [string, string][]) : parseMapArg(opts.map as string | string[] | undefined);
  const rejectsPath = opts.rejectsFile === null ? null : (opts.rejectsFile ?? defaultRejectsFile(opts.file));

  const summary: ImportSummary = {
    kind: opts.kind,
    file: opts.file,
    workspaceId: opts.workspaceId,
    rowsRead: 0,
    rowsOk: 0,
    rowsRejected: 0,
    rowsSkipped: 0,
    events: 0,
    eventsWritten: 0,
    duplicates: 0,
    byEvent: {},
    revenueMinor: {},
    truncatedOrders: 0,
    rejectsFile: null,
    unusedColumns: [],
    importSeconds: 0,
    attributeSeconds: 0,
    attributed: 0,
  };
  const ctx: Ctx = {
    opts,
    store: target.store,
    tz: new DateTimeReader(timezone, opts.dateOrder ?? 'ymd'),
    currency,
    receivedAt: opts.receivedAt ?? Date.now(),
    summary,
    rejects: null,
    header: [],
    pending: [],
    inflight: null,
    batchSize: opts.batchSize ?? 5_000,
    reasonColumn: -1,
  };

  let size: number;
  try {
    size = (await fs.promises.stat(opts.file)).size;
  } catch {
    throw new ImportError(`cannot read ${opts.file}: no such file`);
  }
  const mapping = await readHeader(opts.file, opts.kind, overrides);
  summary.unusedColumns = mapping.unused;
  ctx.header = mapping.header;
  // A rejects file imported again keeps its shape: its own reason column gets the new reason.
  ctx.reasonColumn = mapping.header.indexOf('reason');
  if (rejectsPath) ctx.rejects = new CsvFileWriter(rejectsPath, ctx.reasonColumn >= 0 ? mapping.header : [...mapping.header, 'reason']);
  try {
    if (opts.kind === 'orders') await importOrders(ctx, mapping, size);
    else if (opts.kind === 'customers') await importCustomers(ctx, mapping, size);
    else await importEvents(ctx, mapping, size);
    await flush(ctx, true);
  } finally {
    await ctx.inflight?.catch(() => {});
    ctx.rejects?.close();
    opts.progress?.end();
  }
  if (ctx.rejects && ctx.rejects.count > 0) summary.rejectsFile = ctx.rejects.file;
  summary.importSeconds = (Date.now() - t0) / 1000;

  if (opts.drain !== false && target.processor) {
    const t1 = Date.now();
    summary.attributed = await attributeAll(target.store, target.processor, opts.progress);
    summary.attributeSeconds = (Date.now() - t1) / 1000;
  }
  if (summary.eventsWritten > 0) await refreshPlannerStats(target.store);
  return summary;
}

/**
 * Updates the query planner's statistics after a bulk load. Without them SQLite guesses join orders, and one of the
 * identity processor's lookups (a cluster's userIds) then walks every user_id identifier: ~10 ms per merge once a
 * few thousand customers are loaded, instead of a fraction of a millisecond.
 */
export async function refreshPlannerStats(store: Store): Promise<void> {
  if (store.sqlite) {
    await store.exclusiveSqlite((db) => {
      db.pragma('analysis_limit = 1000');
      db.exec('ANALYZE');
    });
  } else {
    await sql`ANALYZE events`.execute(store.db);
    await sql`ANALYZE identifiers`.execute(store.db);
    await sql`ANALYZE profiles`.execute(store.db);
  }
}

/** Runs the identity processor until every event in the store has a profile, showing progress. */
export async function attributeAll(store: Store, processor: IdentityProcessor, progress?: Progress): Promise<number> {
  const left = await store.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('profile_id', 'is', null)
    .executeTakeFirstOrThrow();
  const total = Number(left.n);
  let done = 0;
  progress?.start('profiles', total, 'events');
  try {
    for (;;) {
      const n = await processor.runBatch();
      if (n === 0) break;
      done += n;
      progress?.update(done, done);
    }
    await processor.drain();
  } finally {
    progress?.end();
  }
  return done;
}

async function readHeader(file: string, kind: ImportKind, overrides: [string, string][]): Promise<Mapping> {
  for await (const batch of readCsv(file)) {
    const header = batch.rows[0]!.map((h) => h.trim());
    checkHeader(header);
    return resolveMapping(kind, header, overrides);
  }
  throw new MappingError(`${file} is empty: expected a header line naming the columns`);
}

/** Iterates the data rows (after the header) with their line numbers, reporting progress. */
async function* dataRows(ctx: Ctx, size: number, label: string, count: boolean): AsyncGenerator<CsvBatch> {
  let bytes = 0;
  let first = true;
  let rows = 0;
  const progress = ctx.opts.progress;
  progress?.start(label, size, 'rows');
  for await (const batch of readCsv(ctx.opts.file, { onBytes: (b) => (bytes = b) })) {
    if (first) {
      batch.rows.shift();
      batch.lines.shift();
      first = false;
    }
    if (count) ctx.summary.rowsRead += batch.rows.length;
    rows += batch.rows.length;
    yield batch;
    progress?.update(bytes, rows);
  }
  progress?.end();
}

function reject(ctx: Ctx, row: string[], line: number, reason: string): void {
  ctx.summary.rowsRejected++;
  if (!ctx.rejects) return;
  const padded = row.length < ctx.header.length ? [...row, ...Array(ctx.header.length - row.length).fill('')] : [...row];
  const text = `line ${line}: ${reason}`;
  if (ctx.reasonColumn >= 0) {
    padded[ctx.reasonColumn] = text;
    ctx.rejects.write(padded);
  } else ctx.rejects.write([...padded, text]);
}

function shapeError(ctx: Ctx, row: string[]): string | null {
  if (row.length !== ctx.header.length) return `has ${row.length} fields; the header has ${ctx.header.length}`;
  for (const c of row) if (c.includes('\u0000')) return 'contains a NUL character';
  return null;
}

async function emit(ctx: Ctx, row: EventRow): Promise<void> {
  const s = ctx.summary;
  s.events++;
  const key = row.event ?? row.type;
  s.byEvent[key] = (s.byEvent[key] ?? 0) + 1;
  if (row.revenue_minor !== null && row.currency) s.revenueMinor[row.currency] = (s.revenueMinor[row.currency] ?? 0) + row.revenue_minor;
  ctx.pending.push(row);
  if (ctx.pending.length >= ctx.batchSize) await flush(ctx);
}

/**
 * Hands the pending rows to the bulk writer without waiting for it, so the next batch is parsed while this one is
 * written (PostgreSQL works in parallel; SQLite writes synchronously anyway). One write in flight at a time keeps the
 * order of the log. `final` waits for it.
 */
async function flush(ctx: Ctx, final = false): Promise<void> {
  if (ctx.inflight) await ctx.inflight;
  ctx.inflight = null;
  if (ctx.pending.length > 0) {
    const rows = ctx.pending;
    ctx.pending = [];
    const write = bulkInsertEvents(ctx.store, rows).then((r) => {
      ctx.summary.eventsWritten += r.inserted;
      ctx.summary.duplicates += r.duplicates;
    });
    write.catch(() => {}); // observed when awaited next
    ctx.inflight = write;
  }
  if (final && ctx.inflight) {
    await ctx.inflight;
    ctx.inflight = null;
  }
}

const errText = (e: { field: string; message: string }) => (e.field ? `${e.field}: ${e.message}` : e.message);

function normalize(ctx: Ctx, type: CallType, call: Record<string, unknown>) {
  return normalizeCall(type, call, { workspaceId: ctx.opts.workspaceId, receivedAt: ctx.receivedAt });
}

function cell(row: string[], m: Mapping, field: string): string {
  const i = m.fields.get(field);
  return i === undefined ? '' : (row[i] ?? '').trim();
}

function checkEmail(v: string): string | null {
  return v === '' || normalizeEmail(v) ? null : `email: "${v}" is not an e-mail address`;
}

function checkPhone(v: string, country: string): string | null {
  return v === '' || normalizePhone(v, countryCode(country)) ? null : `phone: "${v}" is not a possible phone number${country ? ` in ${country}` : ''} (use +<country code>…)`;
}

function checkId(field: string, v: string): string | null {
  return v.length > 512 ? `${field}: longer than 512 characters` : null;
}

function extrasInto(row: string[], m: Mapping, target: string, into: Record<string, unknown>): void {
  for (const x of m.extras) {
    if (x.target !== target) continue;
    const v = cellValue((row[x.index] ?? '').trim());
    if (v !== undefined) into[x.key] = v;
  }
}

// ---------------------------------------------------------------------------------------------------- orders

interface OrderLine {
  row: string[];
  line: number;
  error: string | null;
  sku: string;
  name: string;
  quantity: bigint;
  price: bigint;
  timestamp: number;
}

interface OpenOrder {
  id: string;
  expected: number;
  lines: OrderLine[];
}

async function importOrders(ctx: Ctx, m: Mapping, size: number): Promise<void> {
  const idIdx = m.fields.get('order_id')!;
  // Pass 1 counts each order's lines, so pass 2 can write an order the moment its last line is read: memory holds only
  // the orders still open, and lines of one order need not be next to each other in the file.
  const expected = new Map<string, number>();
  for await (const b of dataRows(ctx, size, 'scan orders', false)) {
    for (const row of b.rows) {
      const id = (row[idIdx] ?? '').trim();
      if (id) expected.set(id, (expected.get(id) ?? 0) + 1);
    }
  }
  const open = new Map<string, OpenOrder>();
  for await (const b of dataRows(ctx, size, 'import orders', true)) {
    for (let k = 0; k < b.rows.length; k++) {
      const row = b.rows[k]!;
      const line = b.lines[k]!;
      const id = (row[idIdx] ?? '').trim();
      if (!id) {
        reject(ctx, row, line, `order_id: empty (column "${m.header[idIdx]}")`);
        continue;
      }
      let o = open.get(id);
      if (!o) open.set(id, (o = { id, expected: expected.get(id) ?? 1, lines: [] }));
      o.lines.push(parseOrderLine(ctx, m, row, line));
      if (o.lines.length >= o.expected) {
        open.delete(id);
        expected.delete(id);
        await finishOrder(ctx, m, o);
      }
    }
  }
  // Only when the file changed between the passes.
  for (const o of open.values()) await finishOrder(ctx, m, o);
}

function parseOrderLine(ctx: Ctx, m: Mapping, row: string[], line: number): OrderLine {
  const l: OrderLine = { row, line, error: shapeError(ctx, row), sku: '', name: '', quantity: 0n, price: 0n, timestamp: 0 };
  if (l.error) return l;
  l.sku = cell(row, m, 'sku');
  l.name = cell(row, m, 'name');
  const q = cell(row, m, 'quantity');
  const p = cell(row, m, 'price');
  const quantity = parseDecimal(q);
  const price = parseDecimal(p);
  const ts = ctx.tz.parse(cell(row, m, 'timestamp'));
  const country = cell(row, m, 'country');
  l.error =
    (quantity === null ? `quantity: "${q}" is not a number` : null) ??
    (price === null ? `price: "${p}" is not a plain decimal number` : null) ??
    (ts.error ? `timestamp: ${ts.error}` : null) ??
    checkId('customer_id', cell(row, m, 'customer_id')) ??
    checkEmail(cell(row, m, 'email')) ??
    checkPhone(cell(row, m, 'phone'), country);
  const cur = cell(row, m, 'currency');
  if (!l.error && cur && !/^[A-Za-z]{3}$/.test(cur)) l.error = `currency: "${cur}" is not an ISO 4217 code`;
  l.quantity = quantity ?? 0n;
  l.price = price ?? 0n;
  l.timestamp = ts.ms ?? 0;
  return l;
}

async function finishOrder(ctx: Ctx, m: Mapping, o: OpenOrder): Promise<void> {
  const bad = o.lines.find((l) => l.error);
  if (bad) {
    for (const l of o.lines) reject(ctx, l.row, l.line, l === bad ? bad.error! : `order ${o.id} has a rejected line (line ${bad.line}: ${bad.error})`);
    return;
  }
  const first = (field: string) => {
    for (const l of o.lines) {
      const v = cell(l.row, m, field);
      if (v) return v;
    }
    return '';
  };
  const customerId = first('customer_id');
  const currency = (first('currency') || ctx.currency).toUpperCase();
  const digits = currencyDigits(currency);
  let amount = 0n;
  let timestamp = Infinity;
  for (const l of o.lines) {
    amount += l.price * l.quantity;
    timestamp = Math.min(timestamp, l.timestamp);
  }
  const totalMinor = toMinor(amount, digits);
  const refundPrefix = ctx.opts.refundPrefix ?? 'C';
  const refund = refundPrefix !== '' && o.id.startsWith(refundPrefix) && o.lines.every((l) => l.quantity < 0n);

  const traits: Record<string, unknown> = {};
  const country = first('country');
  if (country) traits.country = country;
  if (first('email')) traits.email = first('email');
  if (first('phone')) traits.phone = first('phone');
  extrasInto(o.lines[0]!.row, m, 'traits', traits);
  const properties: Record<string, unknown> = { order_id: o.id, total: minorToMajor(totalMinor, digits), currency, products: [] };
  extrasInto(o.lines[0]!.row, m, 'properties', properties);
  const call: Record<string, unknown> = {
    messageId: `import:order:${o.id.length > MAX_ID ? sha(o.id, 32) : o.id}`,
    event: refund ? 'Order Refunded' : 'Order Completed',
    ...(customerId ? { userId: customerId } : { anonymousId: `guest:${o.id}` }),
    timestamp: new Date(timestamp).toISOString(),
    properties,
    context: { channel: ctx.opts.channel ?? 'import', traits },
  };

  // Products, as many as fit the API's 32 KB event limit (an order of a thousand lines does not).
  const products: Record<string, unknown>[] = [];
  let bytes = Buffer.byteLength(JSON.stringify(call)) + 64;
  let truncated = false;
  for (const l of o.lines) {
    const p: Record<string, unknown> = {};
    if (l.sku) {
      p.product_id = l.sku;
      p.sku = l.sku;
    }
    if (l.name) p.name = l.name;
    p.price = decimalToNumber(l.price);
    p.quantity = decimalToNumber(l.quantity);
    const b = Buffer.byteLength(JSON.stringify(p)) + 1;
    if (bytes + b > MAX_EVENT_BYTES) {
      truncated = true;
      break;
    }
    bytes += b;
    products.push(p);
  }
  properties.products = products;
  if (truncated) {
    properties.products_truncated = true;
    properties.product_lines = o.lines.length;
    ctx.summary.truncatedOrders++;
  }

  const res = normalize(ctx, 'track', call);
  if (!res.ok) {
    for (const l of o.lines) reject(ctx, l.row, l.line, `order ${o.id}: ${errText(res.error)}`);
    return;
  }
  if (res.row.revenue_minor !== totalMinor) {
    // Cannot happen for totals below 2^53 minor units; kept as a guard so revenue is never silently wrong.
    for (const l of o.lines) reject(ctx, l.row, l.line, `order ${o.id}: total ${totalMinor} minor units cannot be carried exactly`);
    return;
  }
  ctx.summary.rowsOk += o.lines.length;
  await emit(ctx, res.row);
  ctx.opts.onOrder?.({
    orderId: o.id,
    userId: res.row.user_id,
    anonymousId: res.row.anonymous_id,
    timestamp,
    refund,
    totalMinor,
    currency,
    country: country || null,
    products: o.lines.map((l) => ({ sku: l.sku, name: l.name, price: decimalToNumber(l.price), quantity: decimalToNumber(l.quantity) })),
  });
}

// ------------------------------------------------------------------------------------------------- customers

interface Customer {
  userId: string | null;
  anonymousId: string | null;
  traits: Record<string, unknown>;
  timestamp: number | null;
  lastRow: string[];
  lines: number[];
}

const CUSTOMER_TRAITS: [string, string][] = [
  ['email', 'email'],
  ['phone', 'phone'],
  ['name', 'name'],
  ['first_name', 'firstName'],
  ['last_name', 'lastName'],
  ['country', 'country'],
  ['city', 'city'],
];

async function importCustomers(ctx: Ctx, m: Mapping, size: number): Promise<void> {
  const customers = new Map<string, Customer>();
  for await (const b of dataRows(ctx, size, 'import customers', true)) {
    for (let k = 0; k < b.rows.length; k++) {
      const row = b.rows[k]!;
      const line = b.lines[k]!;
      const shape = shapeError(ctx, row);
      if (shape) {
        reject(ctx, row, line, shape);
        continue;
      }
      const userId = cell(row, m, 'customer_id');
      const anonymousId = cell(row, m, 'anonymous_id');
      const email = cell(row, m, 'email');
      const phone = cell(row, m, 'phone');
      const country = cell(row, m, 'country');
      const tsCell = cell(row, m, 'timestamp');
      const ts = tsCell ? ctx.tz.parse(tsCell) : { ms: undefined };
      const error =
        checkId('customer_id', userId) ??
        checkId('anonymous_id', anonymousId) ??
        checkEmail(email) ??
        checkPhone(phone, country) ??
        (ts.error ? `timestamp: ${ts.error}` : null);
      if (error) {
        reject(ctx, row, line, error);
        continue;
      }
      const key = userId ? `u:${userId}` : email ? `e:${normalizeEmail(email)}` : phone ? `p:${normalizePhone(phone, countryCode(country))}` : anonymousId ? `a:${anonymousId}` : null;
      if (!key) {
        ctx.summary.rowsSkipped++;
        continue;
      }
      let c = customers.get(key);
      if (!c) customers.set(key, (c = { userId: userId || null, anonymousId: anonymousId || null, traits: {}, timestamp: null, lastRow: row, lines: [] }));
      if (!c.anonymousId && anonymousId) c.anonymousId = anonymousId;
      for (const [field, trait] of CUSTOMER_TRAITS) {
        const v = cell(row, m, field);
        if (v) c.traits[trait] = v;
      }
      extrasInto(row, m, 'traits', c.traits);
      if (ts.ms !== undefined) c.timestamp = Math.max(c.timestamp ?? -Infinity, ts.ms);
      c.lastRow = row;
      c.lines.push(line);
    }
  }
  for (const [key, c] of customers) {
    if (c.userId) ctx.opts.customerTraits?.(c.userId, c.traits);
    const call: Record<string, unknown> = {
      ...(c.userId ? { userId: c.userId } : {}),
      ...(c.anonymousId ? { anonymousId: c.anonymousId } : {}),
      traits: c.traits,
      ...(c.timestamp !== null ? { timestamp: new Date(c.timestamp).toISOString() } : {}),
      context: { channel: ctx.opts.channel ?? 'import' },
    };
    // The id says who, the hash what: the same data again is a duplicate, changed traits are a new identify.
    const who = key.length > MAX_ID ? sha(key, 32) : key.slice(2);
    call.messageId = `import:customer:${key[0] === 'u' ? '' : `${key[0]}:`}${who}:${sha(JSON.stringify(call), 12)}`;
    const res = normalize(ctx, 'identify', call);
    if (!res.ok) {
      ctx.summary.rowsRejected += c.lines.length - 1;
      reject(ctx, c.lastRow, c.lines.at(-1)!, `${errText(res.error)} (customer on lines ${c.lines.slice(0, 10).join(', ')}${c.lines.length > 10 ? ', …' : ''})`);
      continue;
    }
    ctx.summary.rowsOk += c.lines.length;
    await emit(ctx, res.row);
  }
}

// ---------------------------------------------------------------------------------------------------- events

const TRAIT_TYPES = new Set(['identify', 'group']);

async function importEvents(ctx: Ctx, m: Mapping, size: number): Promise<void> {
  const used = new Set<number>([...m.fields.values(), ...m.extras.map((x) => x.index)]);
  // Columns no field uses become properties/traits; not the reason column of a rejects file being imported again.
  const free = m.header.map((h, i) => [h, i] as const).filter(([, i]) => !used.has(i) && i !== ctx.reasonColumn);
  const seen = new Map<string, number>();
  for await (const b of dataRows(ctx, size, 'import events', true)) {
    for (let k = 0; k < b.rows.length; k++) {
      const row = b.rows[k]!;
      const line = b.lines[k]!;
      const built = buildEvent(ctx, m, row, free);
      if (typeof built === 'string') {
        reject(ctx, row, line, built);
        continue;
      }
      const { type, call } = built;
      if (!call.messageId) {
        // Derived from the row's content: the same file imported again gives the same ids; identical rows are told
        // apart by their occurrence.
        const h = sha(row.join('\u0000'), 20);
        const n = (seen.get(h) ?? 0) + 1;
        seen.set(h, n);
        call.messageId = `import:event:${h}${n > 1 ? `:${n}` : ''}`;
      }
      const res = normalize(ctx, type, call);
      if (!res.ok) {
        reject(ctx, row, line, errText(res.error));
        continue;
      }
      ctx.summary.rowsOk++;
      await emit(ctx, res.row);
    }
  }
}

function jsonObject(field: string, v: string): Record<string, unknown> | string {
  if (v === '') return {};
  try {
    const o = JSON.parse(v);
    if (o && typeof o === 'object' && !Array.isArray(o)) return o as Record<string, unknown>;
  } catch {
    /* reported below */
  }
  return `${field}: not a JSON object`;
}

function buildEvent(ctx: Ctx, m: Mapping, row: string[], free: (readonly [string, number])[]): { type: CallType; call: Record<string, unknown> } | string {
  const shape = shapeError(ctx, row);
  if (shape) return shape;
  const typeCell = cell(row, m, 'type').toLowerCase() || 'track';
  if (!isCallType(typeCell)) return `type: "${typeCell}" is not one of ${CallTypes.join(', ')}`;
  const type = typeCell;
  const props = jsonObject('properties', cell(row, m, 'properties'));
  const traits = jsonObject('traits', cell(row, m, 'traits'));
  const context = jsonObject('context', cell(row, m, 'context'));
  for (const v of [props, traits, context]) if (typeof v === 'string') return v;
  const p = props as Record<string, unknown>;
  const t = traits as Record<string, unknown>;
  const c = { ...(context as Record<string, unknown>) };
  extrasInto(row, m, 'properties', p);
  extrasInto(row, m, 'traits', t);
  extrasInto(row, m, 'context', c);
  const rest = TRAIT_TYPES.has(type) ? t : type === 'alias' ? null : p;
  if (rest) {
    for (const [h, i] of free) {
      const v = cellValue((row[i] ?? '').trim());
      if (v !== undefined && !(h in rest)) rest[h] = v;
    }
  }
  const channel = cell(row, m, 'channel') || ctx.opts.channel;
  if (channel) c.channel = channel;
  if (Object.keys(t).length && !TRAIT_TYPES.has(type)) c.traits = { ...((c.traits as Record<string, unknown>) ?? {}), ...t };

  const call: Record<string, unknown> = { context: c };
  const set = (key: string, field: string) => {
    const v = cell(row, m, field);
    if (v) call[key] = v;
  };
  set('messageId', 'message_id');
  set('userId', 'user_id');
  set('anonymousId', 'anonymous_id');
  if (type === 'track') set('event', 'event');
  if (type === 'page' || type === 'screen') set('name', 'name');
  if (type === 'group') set('groupId', 'group_id');
  if (type === 'alias') set('previousId', 'previous_id');
  if (TRAIT_TYPES.has(type)) call.traits = t;
  else if (type !== 'alias') call.properties = p;
  const tsCell = cell(row, m, 'timestamp');
  if (tsCell) {
    const ts = ctx.tz.parse(tsCell);
    if (ts.error) return `timestamp: ${ts.error}`;
    call.timestamp = new Date(ts.ms!).toISOString();
  }
  return { type, call };
}
