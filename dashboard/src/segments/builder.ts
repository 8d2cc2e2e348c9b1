// The condition builder's model: rows of the common condition kinds, to and from the segment definition JSON
// (src/segments/definition.ts). A definition the rows cannot express exactly (nesting, geo, engagement, lists,
// first/last performed…) stays in the JSON editor: fromDefinition answers null.

export const OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'matches', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export const DATE_OPS = ['before', 'after', 'within_last', 'not_within_last', 'within_next', 'anniversary_within'] as const;
export const WINDOW_OPS = new Set(['within_last', 'not_within_last', 'within_next', 'anniversary_within']);
export const NO_VALUE_OPS = new Set(['exists', 'not_exists', ...WINDOW_OPS]);
export const UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;
export const REACH_CHANNELS = ['email', 'sms', 'push', 'webpush', 'whatsapp'] as const;
export const RFM_STAGES = ['Champions', 'Loyal', 'Potential loyalist', 'New', 'Promising', 'Needs attention', 'About to sleep', "Can't lose them", 'At risk', 'Hibernating', 'Lost'];
export const COMPUTED = [
  'orders',
  'total_spent',
  'average_order_value',
  'first_order_at',
  'last_order_at',
  'average_days_between_orders',
  'expected_next_order_at',
  'days_since_last_order',
  'favourite_category',
  'channels_used',
  'rfm_recency',
  'rfm_frequency',
  'rfm_monetary',
];
export const OP_LABEL: Record<string, string> = {
  eq: 'is', neq: 'is not', in: 'is one of', not_in: 'is none of', contains: 'contains', not_contains: 'does not contain',
  starts_with: 'starts with', ends_with: 'ends with', matches: 'matches regex', exists: 'is set', not_exists: 'is not set',
  gt: '>', gte: '≥', lt: '<', lte: '≤', between: 'between', before: 'before', after: 'after', within_last: 'within the last',
  not_within_last: 'not within the last', within_next: 'within the next', anniversary_within: 'anniversary within',
};

export interface Win {
  amount: string;
  unit: string;
}
export interface Filter {
  path: string;
  op: string;
  value: string;
}

export type Row = { key: number; negate: boolean } & (
  | { kind: 'trait'; trait: string; op: string; value: string; window: Win }
  | { kind: 'event'; event: string; op: 'performed' | 'not_performed' | 'count'; countOp: 'gte' | 'lte' | 'eq'; countValue: string; windowOn: boolean; window: Win; filters: Filter[] }
  | { kind: 'segment'; segmentId: string }
  | { kind: 'reachable'; channel: string; topic: string; require: 'reachable' | 'subscribed' }
  | { kind: 'rfm'; stages: string[] }
  | { kind: 'computed'; property: string; op: string; value: string; window: Win }
);
export type RowKind = Row['kind'];
export const ROW_KINDS: { kind: RowKind; label: string }[] = [
  { kind: 'event', label: 'Did an event' },
  { kind: 'trait', label: 'Has a trait' },
  { kind: 'computed', label: 'Computed property' },
  { kind: 'rfm', label: 'RFM stage' },
  { kind: 'reachable', label: 'Reachable on a channel' },
  { kind: 'segment', label: 'In another segment' },
];

let keys = 0;
const win = (): Win => ({ amount: '30', unit: 'days' });

export function newRow(kind: RowKind): Row {
  const base = { key: ++keys, negate: false };
  switch (kind) {
    case 'trait':
      return { ...base, kind, trait: '', op: 'eq', value: '', window: win() };
    case 'event':
      return { ...base, kind, event: '', op: 'performed', countOp: 'gte', countValue: '1', windowOn: true, window: win(), filters: [] };
    case 'segment':
      return { ...base, kind, segmentId: '' };
    case 'reachable':
      return { ...base, kind, channel: 'email', topic: '', require: 'reachable' };
    case 'rfm':
      return { ...base, kind, stages: [] };
    case 'computed':
      return { ...base, kind, property: 'orders', op: 'gte', value: '1', window: win() };
  }
}

/** A typed value from the text box: numbers and true/false/null are typed; "quoted" text stays text. */
export function parseScalar(s: string): string | number | boolean | null {
  const t = s.trim();
  if (/^".*"$/.test(t)) return t.slice(1, -1);
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (t !== '' && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return s;
}
const scalarText = (v: unknown): string => (typeof v === 'string' ? (/^(-?\d+(\.\d+)?|true|false|null)$/.test(v.trim()) ? `"${v}"` : v) : v === null ? 'null' : String(v));

function comparison(op: string, value: string, window: Win): Record<string, unknown> {
  if (WINDOW_OPS.has(op)) return { op, window: { amount: Number(window.amount), unit: window.unit } };
  if (op === 'exists' || op === 'not_exists') return { op };
  if (op === 'in' || op === 'not_in') return { op, value: value.split(',').map((x) => parseScalar(x.trim())).filter((x) => x !== '') };
  if (op === 'between') return { op, value: value.split(',').map((x) => Number(x.trim())) };
  if (op === 'before' || op === 'after') return { op, value: value.trim() };
  return { op, value: parseScalar(value) };
}
function comparisonText(c: { op: string; value?: unknown; window?: { amount: number; unit: string } }): { value: string; window: Win } | null {
  const window = c.window ? { amount: String(c.window.amount), unit: c.window.unit } : win();
  if (c.window && !WINDOW_OPS.has(c.op)) return null;
  if (c.window && !(UNITS as readonly string[]).includes(c.window.unit)) return null;
  if (c.value === undefined) return { value: '', window };
  if (Array.isArray(c.value)) return { value: c.value.map(scalarText).join(', '), window };
  if (typeof c.value === 'object' && c.value !== null) return null;
  return { value: scalarText(c.value), window };
}

export function toCondition(r: Row): Record<string, unknown> {
  let c: Record<string, unknown>;
  switch (r.kind) {
    case 'trait':
      c = { kind: 'trait', trait: r.trait.trim(), ...comparison(r.op, r.value, r.window) };
      break;
    case 'computed':
      c = { kind: 'computed', property: r.property, ...comparison(r.op, r.value, r.window) };
      break;
    case 'event':
      c = {
        kind: 'event',
        event: r.event.trim(),
        op: r.op,
        ...(r.op === 'count' ? { count: { op: r.countOp, value: Number(r.countValue) } } : {}),
        ...(r.windowOn ? { window: { amount: Number(r.window.amount), unit: r.window.unit } } : {}),
        ...(r.filters.length ? { filters: r.filters.map((f) => ({ path: f.path.trim(), ...comparison(f.op, f.value, win()) })) } : {}),
      };
      break;
    case 'segment':
      return { kind: 'segment', segmentId: r.segmentId, ...(r.negate ? { negate: true } : {}) };
    case 'reachable':
      c = { kind: 'reachable', channel: r.channel, ...(r.topic.trim() ? { topic: r.topic.trim() } : {}), ...(r.require === 'subscribed' ? { require: 'subscribed' } : {}) };
      break;
    case 'rfm':
      c = { kind: 'computed', property: 'rfm_stage', op: 'in', value: r.stages };
      break;
  }
  return r.negate ? { kind: 'not', condition: c } : c;
}

export interface Built {
  match: 'and' | 'or';
  rows: Row[];
}

export function toDefinition(b: Built) {
  return { kind: b.match, conditions: b.rows.map(toCondition) };
}

function rowOf(c: any, negate: boolean): Row | null {
  const base = { key: ++keys, negate };
  const allowed = (keysAllowed: string[]) => Object.keys(c).every((k) => keysAllowed.includes(k));
  switch (c?.kind) {
    case 'not':
      return negate ? null : c.condition?.kind === 'segment' ? null : rowOf(c.condition, true);
    case 'trait': {
      if (!allowed(['kind', 'trait', 'op', 'value', 'window'])) return null;
      const t = comparisonText(c);
      return t ? { ...base, kind: 'trait', trait: c.trait, op: c.op, ...t } : null;
    }
    case 'computed': {
      if (!allowed(['kind', 'property', 'op', 'value', 'window'])) return null;
      if (c.property === 'rfm_stage') {
        const stages = c.op === 'in' && Array.isArray(c.value) ? c.value : c.op === 'eq' && typeof c.value === 'string' ? [c.value] : null;
        return stages && stages.every((s: unknown) => typeof s === 'string') ? { ...base, kind: 'rfm', stages } : null;
      }
      const t = comparisonText(c);
      return t && COMPUTED.includes(c.property) ? { ...base, kind: 'computed', property: c.property, op: c.op, ...t } : null;
    }
    case 'event': {
      if (!allowed(['kind', 'event', 'op', 'count', 'window', 'filters'])) return null;
      if (c.window && !(UNITS as readonly string[]).includes(c.window.unit)) return null;
      const filters: Filter[] = [];
      for (const f of c.filters ?? []) {
        const t = comparisonText(f);
        if (!t || f.window) return null;
        filters.push({ path: f.path, op: f.op, value: t.value });
      }
      return {
        ...base,
        kind: 'event',
        event: c.event,
        op: c.op,
        countOp: c.count?.op ?? 'gte',
        countValue: String(c.count?.value ?? 1),
        windowOn: !!c.window,
        window: c.window ? { amount: String(c.window.amount), unit: c.window.unit } : win(),
        filters,
      };
    }
    case 'segment':
      return negate || !allowed(['kind', 'segmentId', 'negate']) ? null : { ...base, negate: !!c.negate, kind: 'segment', segmentId: c.segmentId };
    case 'reachable':
      return allowed(['kind', 'channel', 'topic', 'require']) ? { ...base, kind: 'reachable', channel: c.channel, topic: c.topic ?? '', require: c.require === 'subscribed' ? 'subscribed' : 'reachable' } : null;
    default:
      return null;
  }
}

/** The builder's view of a definition, or null when only the JSON editor can show it faithfully. */
export function fromDefinition(def: any): Built | null {
  if (def && (def.kind === 'and' || def.kind === 'or') && Array.isArray(def.conditions)) {
    const rows = def.conditions.map((c: unknown) => rowOf(c, false));
    return rows.every(Boolean) ? { match: def.kind, rows } : null;
  }
  const one = rowOf(def, false);
  return one ? { match: 'and', rows: [one] } : null;
}

/**
 * Where an API error path (definition.conditions.1.count.value) falls in the builder: the row and the field inside
 * it (count.value), with `not` wrappers looked through.
 */
export function locate(field: string | undefined, built: Built | null): { row: number; path: string } | null {
  if (!field || !built) return null;
  const m = /^definition\.conditions\.(\d+)(?:\.(.*))?$/.exec(field);
  if (!m) return null;
  const row = Number(m[1]);
  let path = m[2] ?? '';
  if (built.rows[row]?.negate && built.rows[row]!.kind !== 'segment') path = path.replace(/^condition\.?/, '');
  return { row, path };
}

/** Strips the path the API puts before its message ("definition.conditions.0.window.amount: …"). */
export const bare = (message: string) => message.replace(/^definition(\.[\w$[\]-]+)*: /, '');
