// Which CSV column feeds which field of the Segment calls an import builds. Every field has default column names
// (matched ignoring case, spaces, '_' and '-'); the defaults fit the UCI Online Retail file. `--map field=Column,…`
// overrides them, `--map field=` turns a default off, and `traits.x=Col` / `properties.x=Col` / `context.x=Col`
// carry any other column into the call.

export type ImportKind = 'customers' | 'orders' | 'events';
export const IMPORT_KINDS: readonly ImportKind[] = ['customers', 'orders', 'events'];

export interface FieldSpec {
  name: string;
  columns: string[];
  required?: boolean;
  help: string;
}

const customer_id: FieldSpec = {
  name: 'customer_id',
  columns: ['CustomerID', 'customer_id', 'user_id', 'userId', 'customer'],
  help: 'your id for the customer (the userId)',
};
const email: FieldSpec = { name: 'email', columns: ['email', 'email_address', 'e-mail'], help: 'e-mail address' };
const phone: FieldSpec = { name: 'phone', columns: ['phone', 'phone_number', 'mobile', 'telephone'], help: 'phone number' };
const country: FieldSpec = { name: 'country', columns: ['Country', 'country_code'], help: 'country (trait)' };

export const FIELDS: Record<ImportKind, FieldSpec[]> = {
  customers: [
    { ...customer_id, columns: [...customer_id.columns, 'id'] },
    { name: 'anonymous_id', columns: ['anonymous_id', 'anonymousId'], help: 'a device/cookie id to link to the customer' },
    email,
    phone,
    { name: 'name', columns: ['name', 'full_name'], help: 'full name' },
    { name: 'first_name', columns: ['first_name', 'firstname', 'given_name'], help: 'first name (trait firstName)' },
    { name: 'last_name', columns: ['last_name', 'lastname', 'surname', 'family_name'], help: 'last name (trait lastName)' },
    country,
    { name: 'city', columns: ['city', 'town'], help: 'city' },
    {
      name: 'timestamp',
      columns: ['updated_at', 'created_at', 'signup_date', 'InvoiceDate', 'timestamp'],
      help: 'when these traits were true (the latest per customer is used)',
    },
  ],
  orders: [
    { name: 'order_id', columns: ['InvoiceNo', 'Invoice', 'order_id', 'order_number', 'order'], required: true, help: 'order/invoice number (lines are grouped by it)' },
    { name: 'sku', columns: ['StockCode', 'sku', 'product_id'], help: 'product code' },
    { name: 'name', columns: ['Description', 'product_name', 'product', 'title'], help: 'product name' },
    { name: 'quantity', columns: ['Quantity', 'qty'], required: true, help: 'units on the line (negative on returns)' },
    { name: 'price', columns: ['UnitPrice', 'Price', 'unit_price'], required: true, help: 'unit price in major units (2.55)' },
    { name: 'timestamp', columns: ['InvoiceDate', 'order_date', 'created_at', 'date', 'timestamp'], required: true, help: 'order date-time (local time in --timezone unless it has an offset)' },
    customer_id,
    email,
    phone,
    country,
    { name: 'currency', columns: ['currency', 'currency_code'], help: 'ISO 4217 code (else --currency)' },
  ],
  events: [
    { name: 'type', columns: ['type'], help: 'track (default), identify, page, screen, group or alias' },
    { name: 'event', columns: ['event', 'event_name'], help: 'event name (track)' },
    { name: 'name', columns: ['name', 'page_name', 'screen_name'], help: 'page/screen name' },
    { ...customer_id, name: 'user_id', columns: ['user_id', 'userId', 'CustomerID', 'customer_id'] },
    { name: 'anonymous_id', columns: ['anonymous_id', 'anonymousId'], help: 'anonymous (device/cookie) id' },
    { name: 'message_id', columns: ['message_id', 'messageId'], help: 'idempotency key (else derived from the row)' },
    { name: 'timestamp', columns: ['timestamp', 'time', 'created_at', 'date'], help: 'when it happened' },
    { name: 'channel', columns: ['channel'], help: 'web, app, server, store, email, sms, push, …' },
    { name: 'group_id', columns: ['group_id', 'groupId'], help: 'group calls' },
    { name: 'previous_id', columns: ['previous_id', 'previousId'], help: 'alias calls' },
    { name: 'properties', columns: ['properties'], help: 'a JSON object of properties' },
    { name: 'traits', columns: ['traits'], help: 'a JSON object of traits' },
    { name: 'context', columns: ['context'], help: 'a JSON object merged into context' },
  ],
};

const EXTRA_PREFIX: Record<ImportKind, string[]> = {
  customers: ['traits.'],
  orders: ['traits.', 'properties.'],
  events: ['traits.', 'properties.', 'context.'],
};

export class MappingError extends Error {}

export interface ExtraColumn {
  /** 'traits' | 'properties' | 'context' */
  target: string;
  key: string;
  index: number;
}

export interface Mapping {
  kind: ImportKind;
  header: string[];
  /** field → column index */
  fields: Map<string, number>;
  extras: ExtraColumn[];
  /** Columns no field uses. */
  unused: string[];
}

const norm = (s: string) => s.toLowerCase().replace(/[\s_\-.]/g, '');

/** Parses `--map` text: "field=Column,field2=Column 2" (a value may be quoted: field="A, B"). */
export function parseMapArg(text: string | string[] | undefined): [string, string][] {
  const parts = (Array.isArray(text) ? text : text ? [text] : []).flatMap((t) => splitPairs(t));
  return parts.map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new MappingError(`--map "${p}": expected field=Column`);
    return [p.slice(0, eq).trim(), unquote(p.slice(eq + 1).trim())];
  });
}

function splitPairs(t: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (const ch of t) {
    if (ch === '"') q = !q;
    if (ch === ',' && !q) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

const unquote = (s: string) => (s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s);

function findColumn(header: string[], name: string): number {
  const exact = header.indexOf(name);
  if (exact >= 0) return exact;
  const n = norm(name);
  return header.findIndex((h) => norm(h) === n);
}

/** Resolves the mapping against the file's header; throws MappingError with a message meant for the user. */
export function resolveMapping(kind: ImportKind, header: string[], overrides: [string, string][] = []): Mapping {
  const specs = FIELDS[kind];
  const byName = new Map(specs.map((s) => [s.name, s]));
  const fields = new Map<string, number>();
  const extras: ExtraColumn[] = [];
  const explicit = new Map<string, string>();
  const cols = () => header.map((h) => `"${h}"`).join(', ');

  for (let [field, column] of overrides) {
    const isField = (f: string) => byName.has(f) || EXTRA_PREFIX[kind].some((p) => f.startsWith(p) && f.length > p.length);
    // Accept Column=field too, when that is the only reading that makes sense.
    if (!isField(field) && isField(column) && findColumn(header, field) >= 0) [field, column] = [column, field];
    if (!isField(field)) {
      throw new MappingError(
        `--map ${field}=${column}: "${field}" is not a field of a ${kind} import. Fields: ${specs.map((s) => s.name).join(', ')}, or ${EXTRA_PREFIX[kind].map((p) => `${p}<name>`).join(' / ')}`,
      );
    }
    if (column !== '' && findColumn(header, column) < 0) {
      throw new MappingError(`--map ${field}=${column}: the file has no column "${column}". Its columns are: ${cols()}`);
    }
    explicit.set(field, column);
  }

  for (const spec of specs) {
    let idx = -1;
    if (explicit.has(spec.name)) {
      const c = explicit.get(spec.name)!;
      idx = c === '' ? -1 : findColumn(header, c);
    } else {
      for (const c of spec.columns) {
        idx = findColumn(header, c);
        if (idx >= 0) break;
      }
    }
    if (idx >= 0) fields.set(spec.name, idx);
    else if (spec.required) {
      throw new MappingError(
        `no column for "${spec.name}" (${spec.help}): looked for ${spec.columns.map((c) => `"${c}"`).join(', ')}. ` +
          `Its columns are: ${cols()}. Name one with --map ${spec.name}=Column`,
      );
    }
  }
  for (const [field, column] of explicit) {
    if (byName.has(field) || column === '') continue;
    const dot = field.indexOf('.');
    extras.push({ target: field.slice(0, dot), key: field.slice(dot + 1), index: findColumn(header, column) });
  }
  const used = new Set([...fields.values(), ...extras.map((e) => e.index)]);
  return { kind, header, fields, extras, unused: header.filter((_, i) => !used.has(i)) };
}

/** Header cells must be distinct and non-empty to be mapped by name. */
export function checkHeader(header: string[]): void {
  if (header.length === 0 || header.every((h) => h.trim() === '')) throw new MappingError('the file is empty or has no header line');
  const seen = new Set<string>();
  for (const h of header) {
    if (seen.has(h) && h !== '') throw new MappingError(`the header names column "${h}" twice`);
    seen.add(h);
  }
}

/** A cell as a JSON value for properties/traits: numbers and booleans as such, '' as absent. */
export function cellValue(s: string): unknown {
  if (s === '') return undefined;
  if (/^-?(0|[1-9]\d{0,14})(\.\d+)?$/.test(s)) return Number(s);
  if (s === 'true' || s === 'false') return s === 'true';
  return s;
}
