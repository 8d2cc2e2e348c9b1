// Where things fall in the builder's rows: an API error path (definition.conditions.1.conditions.0.window.amount) →
// the row (by its position, "1.0") and the field inside it; the fields each row shows, in the API's names; and
// whether the rows are complete enough to ask for a live count.
import { type Built, NATIVE_NEGATE, type Row, WINDOW_OPS } from './builder.ts';

export interface Located {
  /** the row's position: indexes from the root, joined with dots ("2" or "2.0") */
  at: string;
  /** the field inside the row, relative to the condition ("window.amount"), '' for the row itself */
  path: string;
}

/** Where an API error path falls: the row and the field inside it, with `not` wrappers looked through. */
export function locate(field: string | undefined, built: Built | null): Located | null {
  if (!field || !built || !/^definition(\.|$)/.test(field)) return null;
  let rest = field.replace(/^definition\.?/, '');
  // A one-condition definition is saved as that condition: its paths have no conditions.0 in front.
  if (built.single && built.rows.length === 1) rest = rest ? `conditions.0.${rest}` : 'conditions.0';
  let rows = built.rows;
  const at: number[] = [];
  for (;;) {
    const m = /^conditions\.(\d+)(?:\.(.*))?$/.exec(rest);
    if (!m) return at.length ? { at: at.join('.'), path: rest } : null;
    const r = rows[Number(m[1])];
    if (!r) return at.length ? { at: at.join('.'), path: '' } : null;
    at.push(Number(m[1]));
    rest = m[2] ?? '';
    if (r.negate && !NATIVE_NEGATE.has(r.kind)) rest = rest.replace(/^condition(\.|$)/, '');
    if (r.kind === 'group' && /^conditions\.\d+/.test(rest)) {
      rows = r.rows;
      continue;
    }
    return { at: at.join('.'), path: rest };
  }
}

/** Strips the path the API puts before its message ("definition.conditions.0.window.amount: …"). */
export const bare = (message: string) => message.replace(/^definition(\.[\w$[\]-]+)*: /, '');

const filterFields = (n: number) => Array.from({ length: n }, (_, i) => [`filters.${i}.path`, `filters.${i}.op`, `filters.${i}.value`, `filters.${i}.window.amount`, `filters.${i}.window.unit`]).flat();

/** The fields of a row in display order, as the API names them relative to the condition. */
export function fieldsOf(r: Row): string[] {
  switch (r.kind) {
    case 'trait':
      return ['trait', 'op', 'value', 'window.amount', 'window.unit'];
    case 'computed':
      return ['property', 'op', 'value', 'window.amount', 'window.unit'];
    case 'event':
      return ['event', 'op', 'count.op', 'count.value', 'count', 'window.amount', 'window.unit', ...filterFields(r.filters.length), 'channel', 'internal'];
    case 'when':
      return ['event', 'op', 'value', 'window.amount', 'window.unit', ...filterFields(r.filters.length)];
    case 'geo':
      return ['country', 'city', 'near.location', 'near.lat', 'near.lon', 'near.km'];
    case 'engagement':
      return ['action', 'channel', 'window.amount', 'window.unit'];
    case 'segment':
      return ['segmentId'];
    case 'list':
      return ['listId'];
    case 'reachable':
      return ['channel', 'topic', 'require'];
    case 'rfm':
      return ['value'];
    case 'group':
      return [];
  }
}

/** Which shown field an error path belongs to (the field itself, a part of it, or the object holding it). */
export function claimedField(r: Row, path: string): string | undefined {
  const claims = (f: string) => path === f || path.startsWith(`${f}.`) || f.startsWith(`${path}.`);
  // near is a union: the API names `near` itself; the distance is the field most often wrong.
  if (r.kind === 'geo' && path === 'near') return 'near.km';
  return fieldsOf(r).find(claims);
}

/** Rows not filled in enough to count (no event name, no stage…): the live count waits instead of showing errors. */
export function incomplete(rows: Row[]): boolean {
  return rows.some((r) => {
    switch (r.kind) {
      case 'group':
        return !r.rows.length || incomplete(r.rows);
      case 'trait':
        return !r.trait.trim();
      case 'event':
      case 'when':
        return !r.event.trim() || (r.kind === 'when' && !WINDOW_OPS.has(r.op) && !r.value.trim());
      case 'segment':
        return !r.segmentId;
      case 'list':
        return !r.listId;
      case 'rfm':
        return !r.stages.length;
      case 'geo':
        if (r.near === 'location') return !r.location.trim() || !r.km.trim();
        if (r.near === 'point') return !r.lat.trim() || !r.lon.trim() || !r.km.trim();
        return !r.countries.trim() && !r.cities.trim();
      default:
        return false;
    }
  });
}
