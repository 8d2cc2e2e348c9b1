// The condition builder's model: rows for every condition kind of the segment language (src/segments/definition.ts),
// nested and/or groups and NOT per row, to and from the definition JSON. A definition the rows cannot express
// exactly (a double NOT, `not` around a condition that has its own negate, values with commas…) stays in the JSON
// editor: fromDefinition answers null rather than show something that would save differently.
// The journey editor (journeys/Conditions.tsx) uses the same rows; ROW_KINDS stays the list it offers.

export const OPS = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'matches', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export const DATE_OPS = ['before', 'after', 'within_last', 'not_within_last', 'within_next', 'anniversary_within'] as const;
/** first_performed / last_performed take only these (schema: DateOps without within_next, anniversary_within). */
export const WHEN_OPS = ['before', 'after', 'within_last', 'not_within_last'] as const;
export const WINDOW_OPS = new Set(['within_last', 'not_within_last', 'within_next', 'anniversary_within']);
export const NO_VALUE_OPS = new Set(['exists', 'not_exists', ...WINDOW_OPS]);
export const UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks'] as const;
export const REACH_CHANNELS = ['email', 'sms', 'push', 'webpush', 'whatsapp'] as const;
export const ENGAGE_ACTIONS = ['delivered', 'opened', 'clicked', 'replied', 'converted'] as const;
export const ENGAGE_CHANNELS = ['email', 'sms', 'push', 'webpush', 'onsite', 'whatsapp'] as const;
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
  window?: Win;
}

type Leaf =
  | { kind: 'trait'; trait: string; op: string; value: string; window: Win }
  | { kind: 'event'; event: string; op: 'performed' | 'not_performed' | 'count'; countOp: 'gte' | 'lte' | 'eq'; countValue: string; windowOn: boolean; window: Win; filters: Filter[]; channel?: string; internal?: boolean }
  | { kind: 'when'; which: 'first_performed' | 'last_performed'; event: string; op: string; value: string; window: Win; filters: Filter[] }
  | { kind: 'geo'; countries: string; cities: string; near: 'none' | 'location' | 'point'; location: string; lat: string; lon: string; km: string }
  | { kind: 'engagement'; action: string; channel: string; windowOn: boolean; window: Win }
  | { kind: 'segment'; segmentId: string }
  | { kind: 'list'; listId: string }
  | { kind: 'reachable'; channel: string; topic: string; require: 'reachable' | 'subscribed' }
  | { kind: 'rfm'; stages: string[] }
  | { kind: 'computed'; property: string; op: string; value: string; window: Win };
export type Group = { key: number; negate: boolean; kind: 'group'; match: 'and' | 'or'; rows: Row[] };
/** `negate` is a NOT around the condition, or the condition's own `negate` for segment, list and engagement. */
export type Row = ({ key: number; negate: boolean } & Leaf) | Group;
export type RowKind = Row['kind'];
/** Kinds with their own `negate` field: the NOT box sets it instead of wrapping them in `not`. */
export const NATIVE_NEGATE = new Set<RowKind>(['segment', 'list', 'engagement']);

/** The kinds the journey editor's rows offer (it edits the others in JSON). */
export const ROW_KINDS: { kind: RowKind; label: string }[] = [
  { kind: 'event', label: 'Did an event' },
  { kind: 'trait', label: 'Has a trait' },
  { kind: 'computed', label: 'Computed property' },
  { kind: 'rfm', label: 'RFM stage' },
  { kind: 'reachable', label: 'Reachable on a channel' },
  { kind: 'segment', label: 'In another segment' },
];
/** Every kind the segment builder offers, in its "add condition" order. */
export const BUILDER_KINDS: { kind: RowKind; label: string }[] = [
  ...ROW_KINDS.slice(0, 1),
  { kind: 'when', label: 'First or last time they did an event' },
  ...ROW_KINDS.slice(1),
  { kind: 'engagement', label: 'Engaged with a message' },
  { kind: 'geo', label: 'Where they are' },
  { kind: 'list', label: 'In a list' },
];
export const kindLabel = (k: RowKind) => (k === 'group' ? 'Group' : (BUILDER_KINDS.find((x) => x.kind === k)?.label ?? k));

let keys = 0;
const win = (): Win => ({ amount: '30', unit: 'days' });

export function newRow(kind: RowKind): Row {
  const base = { key: ++keys, negate: false };
  switch (kind) {
    case 'trait':
      return { ...base, kind, trait: '', op: 'eq', value: '', window: win() };
    case 'event':
      return { ...base, kind, event: '', op: 'performed', countOp: 'gte', countValue: '1', windowOn: true, window: win(), filters: [] };
    case 'when':
      return { ...base, kind, which: 'last_performed', event: '', op: 'within_last', value: '', window: win(), filters: [] };
    case 'geo':
      return { ...base, kind, countries: '', cities: '', near: 'none', location: '', lat: '', lon: '', km: '10' };
    case 'engagement':
      return { ...base, kind, action: 'opened', channel: 'email', windowOn: true, window: win() };
    case 'segment':
      return { ...base, kind, segmentId: '' };
    case 'list':
      return { ...base, kind, listId: '' };
    case 'reachable':
      return { ...base, kind, channel: 'email', topic: '', require: 'reachable' };
    case 'rfm':
      return { ...base, kind, stages: [] };
    case 'computed':
      return { ...base, kind, property: 'orders', op: 'gte', value: '1', window: win() };
    case 'group':
      return { ...base, kind, match: 'or', rows: [] };
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
/** An empty box is NaN (sent as null, so the API names the field) rather than Number('') = 0, a silent default. */
const number = (s: string) => (s.trim() === '' ? Number.NaN : Number(s));
const windowOf = (w: Win) => ({ amount: number(w.amount), unit: w.unit });
const winText = (w: { amount: number; unit: string }): Win => ({ amount: String(w.amount), unit: w.unit });
const okUnit = (w: unknown) => !w || (typeof w === 'object' && (UNITS as readonly string[]).includes((w as Win).unit) && typeof (w as { amount: unknown }).amount === 'number');

function comparison(op: string, value: string, window: Win): Record<string, unknown> {
  if (WINDOW_OPS.has(op)) return { op, window: windowOf(window) };
  if (op === 'exists' || op === 'not_exists') return { op };
  if (op === 'in' || op === 'not_in') return { op, value: value.split(',').map((x) => parseScalar(x.trim())).filter((x) => x !== '') };
  if (op === 'between') return { op, value: value.split(',').map((x) => number(x)) };
  if (op === 'before' || op === 'after') return { op, value: value.trim() };
  return { op, value: parseScalar(value) };
}
function comparisonText(c: { op: string; value?: unknown; window?: { amount: number; unit: string } }): { value: string; window: Win } | null {
  const window = c.window ? winText(c.window) : win();
  if (c.window && !WINDOW_OPS.has(c.op)) return null;
  if (!okUnit(c.window)) return null;
  if (WINDOW_OPS.has(c.op) && !c.window) return null;
  if (c.value === undefined) return { value: '', window };
  if (NO_VALUE_OPS.has(c.op)) return null; // a value the rows would drop
  if (Array.isArray(c.value)) {
    // in / not_in / between only, and no element the comma-separated box would split or retype
    if (!['in', 'not_in', 'between'].includes(c.op)) return null;
    if (c.value.some((v) => (typeof v === 'string' && (v.includes(',') || v.trim() !== v || v === '')) || (typeof v === 'object' && v !== null))) return null;
    return { value: c.value.map(scalarText).join(', '), window };
  }
  if (typeof c.value === 'object' && c.value !== null) return null;
  if (['in', 'not_in', 'between'].includes(c.op)) return null;
  return { value: scalarText(c.value), window };
}
const filtersOf = (fs: Filter[]) => (fs.length ? { filters: fs.map((f) => ({ path: f.path.trim(), ...comparison(f.op, f.value, f.window ?? win()) })) } : {});
function filtersText(list: unknown): Filter[] | null {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return null;
  const out: Filter[] = [];
  for (const f of list) {
    if (!f || typeof f !== 'object' || !Object.keys(f).every((k) => ['path', 'op', 'value', 'window'].includes(k))) return null;
    const t = comparisonText(f);
    if (!t || typeof f.path !== 'string') return null;
    out.push({ path: f.path, op: f.op, value: t.value, ...(f.window ? { window: t.window } : {}) });
  }
  return out;
}
const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export function toCondition(r: Row): Record<string, unknown> {
  let c: Record<string, unknown>;
  switch (r.kind) {
    case 'group':
      c = { kind: r.match, conditions: r.rows.map(toCondition) };
      break;
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
        ...(r.op === 'count' ? { count: { op: r.countOp, value: number(r.countValue) } } : {}),
        ...(r.windowOn ? { window: windowOf(r.window) } : {}),
        ...filtersOf(r.filters),
        ...(r.internal ? { internal: true } : {}),
        ...(r.channel?.trim() ? { channel: r.channel.trim() } : {}),
      };
      break;
    case 'when':
      c = { kind: r.which, event: r.event.trim(), ...comparison(r.op, r.value, r.window), ...filtersOf(r.filters) };
      break;
    case 'geo': {
      const km = number(r.km);
      c = {
        kind: 'geo',
        ...(list(r.countries).length ? { country: list(r.countries) } : {}),
        ...(list(r.cities).length ? { city: list(r.cities) } : {}),
        ...(r.near === 'location' ? { near: { location: r.location.trim(), km } } : r.near === 'point' ? { near: { lat: number(r.lat), lon: number(r.lon), km } } : {}),
      };
      break;
    }
    case 'engagement':
      return { kind: 'engagement', action: r.action, ...(r.channel ? { channel: r.channel } : {}), ...(r.windowOn ? { window: windowOf(r.window) } : {}), ...(r.negate ? { negate: true } : {}) };
    case 'segment':
      return { kind: 'segment', segmentId: r.segmentId, ...(r.negate ? { negate: true } : {}) };
    case 'list':
      return { kind: 'list', listId: r.listId, ...(r.negate ? { negate: true } : {}) };
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
  /** The definition was one condition, not a list: saved back as that condition while there is one row. */
  single?: boolean;
}

export function toDefinition(b: Built) {
  if (b.single && b.rows.length === 1) return toCondition(b.rows[0]!);
  return { kind: b.match, conditions: b.rows.map(toCondition) };
}

const strings = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && s.trim() === s && s !== '' && !s.includes(','));

function rowOf(c: any, negate: boolean, depth = 0): Row | null {
  if (!c || typeof c !== 'object' || depth > 20) return null;
  const base = { key: ++keys, negate };
  const allowed = (keysAllowed: string[]) => Object.keys(c).every((k) => keysAllowed.includes(k));
  switch (c.kind) {
    case 'not':
      // NOT(NOT x) and NOT around a kind with its own negate would not save back the same: JSON only.
      if (negate || !allowed(['kind', 'condition']) || NATIVE_NEGATE.has(c.condition?.kind)) return null;
      return rowOf(c.condition, true, depth + 1);
    case 'and':
    case 'or': {
      if (!allowed(['kind', 'conditions']) || !Array.isArray(c.conditions)) return null;
      const rows = c.conditions.map((x: unknown) => rowOf(x, false, depth + 1));
      return rows.every(Boolean) ? { ...base, kind: 'group', match: c.kind, rows } : null;
    }
    case 'trait': {
      if (!allowed(['kind', 'trait', 'op', 'value', 'window']) || typeof c.trait !== 'string') return null;
      const t = comparisonText(c);
      return t ? { ...base, kind: 'trait', trait: c.trait, op: c.op, ...t } : null;
    }
    case 'computed': {
      if (!allowed(['kind', 'property', 'op', 'value', 'window'])) return null;
      if (c.property === 'rfm_stage') {
        const stages = c.op === 'in' && Array.isArray(c.value) ? c.value : null;
        return stages && stages.every((s: unknown) => typeof s === 'string') ? { ...base, kind: 'rfm', stages } : null;
      }
      const t = comparisonText(c);
      const known = COMPUTED.includes(c.property) || (typeof c.property === 'string' && c.property.startsWith('custom.'));
      return t && known ? { ...base, kind: 'computed', property: c.property, op: c.op, ...t } : null;
    }
    case 'event': {
      if (!allowed(['kind', 'event', 'op', 'count', 'window', 'filters', 'internal', 'channel']) || !okUnit(c.window)) return null;
      if (c.internal === false || c.channel === '') return null; // would be dropped on save
      if (!!c.count !== (c.op === 'count')) return null;
      const filters = filtersText(c.filters);
      if (!filters || (c.filters && !c.filters.length)) return null;
      return {
        ...base,
        kind: 'event',
        event: c.event,
        op: c.op,
        countOp: c.count?.op ?? 'gte',
        countValue: String(c.count?.value ?? 1),
        windowOn: !!c.window,
        window: c.window ? winText(c.window) : win(),
        filters,
        ...(c.internal ? { internal: true } : {}),
        ...(c.channel ? { channel: c.channel } : {}),
      };
    }
    case 'first_performed':
    case 'last_performed': {
      if (!allowed(['kind', 'event', 'op', 'value', 'window', 'filters']) || !(WHEN_OPS as readonly string[]).includes(c.op)) return null;
      const t = comparisonText(c);
      const filters = filtersText(c.filters);
      if (!t || !filters || (c.filters && !c.filters.length)) return null;
      return { ...base, kind: 'when', which: c.kind, event: c.event, op: c.op, ...t, filters };
    }
    case 'geo': {
      if (!allowed(['kind', 'country', 'city', 'near'])) return null;
      if ((c.country !== undefined && !strings(c.country)) || (c.city !== undefined && !strings(c.city))) return null;
      const n = c.near;
      const point = n && typeof n === 'object' && Object.keys(n).sort().join() === 'km,lat,lon';
      const loc = n && typeof n === 'object' && Object.keys(n).sort().join() === 'km,location';
      if (n !== undefined && !point && !loc) return null;
      return {
        ...base,
        kind: 'geo',
        countries: (c.country ?? []).join(', '),
        cities: (c.city ?? []).join(', '),
        near: point ? 'point' : loc ? 'location' : 'none',
        location: loc ? String(n.location) : '',
        lat: point ? String(n.lat) : '',
        lon: point ? String(n.lon) : '',
        km: n ? String(n.km) : '10',
      };
    }
    case 'engagement':
      if (!allowed(['kind', 'action', 'channel', 'window', 'negate']) || !okUnit(c.window) || c.negate === false) return null;
      return { ...base, negate: !!c.negate, kind: 'engagement', action: c.action, channel: c.channel ?? '', windowOn: !!c.window, window: c.window ? winText(c.window) : win() };
    case 'segment':
      return !allowed(['kind', 'segmentId', 'negate']) || c.negate === false ? null : { ...base, negate: !!c.negate, kind: 'segment', segmentId: c.segmentId };
    case 'list':
      return !allowed(['kind', 'listId', 'negate']) || c.negate === false ? null : { ...base, negate: !!c.negate, kind: 'list', listId: c.listId };
    case 'reachable':
      if (!allowed(['kind', 'channel', 'topic', 'require']) || c.topic === '' || c.require === 'reachable') return null;
      return { ...base, kind: 'reachable', channel: c.channel, topic: c.topic ?? '', require: c.require === 'subscribed' ? 'subscribed' : 'reachable' };
    default:
      return null;
  }
}

/** The builder's view of a definition, or null when only the JSON editor can show it faithfully. */
export function fromDefinition(def: any): Built | null {
  const one = rowOf(def, false);
  if (!one) return null;
  // The root and/or is the "match all / any" choice; a NOT around it is shown as a NOT group.
  if (one.kind === 'group' && !one.negate) return { match: one.match, rows: one.rows };
  return { match: 'and', rows: [one], single: true };
}
