// Pure: does a person match a condition at `now`, and when could that answer next change with no new input?
// The second half is what makes time conditions exact: the runtime schedules a timer at `next` (to the millisecond),
// so "no purchase in 30 days" flips at t + 30 d, not at the next daily sweep.
import { countryCode } from '../identity/extract.ts';
import { type Condition, type CustomProperty, type PropertyFilter, type Window, windowMs } from './definition.ts';
import { DAY, type Computed, type EventFact, type ProfileFacts, computeProperties, visibleEvents } from './facts.ts';

export interface Result {
  value: boolean;
  /** Earliest time > now at which `value` may change without new events; null if never. */
  next: number | null;
}

const minNext = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

interface Ctx {
  now: number;
  facts: ProfileFacts;
  computed?: Computed;
}

export function evaluate(c: Condition, facts: ProfileFacts, now: number): Result {
  return evalNode(c, { now, facts });
}

function evalNode(c: Condition, ctx: Ctx): Result {
  switch (c.kind) {
    case 'and':
    case 'or': {
      let next: number | null = null;
      let value = c.kind === 'and';
      for (const child of c.conditions) {
        const r = evalNode(child, ctx);
        next = minNext(next, r.next);
        if (c.kind === 'and') value = value && r.value;
        else value = value || r.value;
      }
      return { value, next };
    }
    case 'not': {
      const r = evalNode(c.condition, ctx);
      return { value: !r.value, next: r.next };
    }
    case 'trait':
      return compare(c, getPath(ctx.facts.traits, c.trait), ctx.now);
    case 'computed': {
      if (c.property.startsWith('custom.')) {
        const def = ctx.facts.custom?.[c.property.slice(7)];
        if (!def) return { value: false, next: null };
        const cv = computeCustom(def, ctx.facts, ctx.now);
        const r = compare(c, cv.value === null ? undefined : [cv.value], ctx.now);
        return { value: r.value, next: minNext(r.next, cv.next) };
      }
      ctx.computed ??= computeProperties(ctx.facts, ctx.now);
      const value = ctx.computed[c.property as keyof Computed];
      const r = compare(c, value === null ? undefined : [value], ctx.now);
      return { value: r.value, next: minNext(r.next, computedNext(c.property, ctx)) };
    }
    case 'event':
      return evalEvent(c, ctx);
    case 'first_performed':
    case 'last_performed': {
      const all = matching(ctx.facts.events, c.event, c.filters, false, undefined);
      const visible = all.filter((e) => e.ts <= ctx.now);
      const future = all.find((e) => e.ts > ctx.now)?.ts ?? null;
      if (!visible.length) return { value: false, next: future };
      const ts = c.kind === 'first_performed' ? visible[0]!.ts : visible[visible.length - 1]!.ts;
      const r = compareDate(c.op, ts, c.value, c.window, ctx.now);
      // A future event changes last_performed when it becomes visible.
      return { value: r.value, next: minNext(r.next, c.kind === 'last_performed' ? future : null) };
    }
    case 'geo':
      return { value: evalGeo(c, ctx.facts), next: null };
    case 'reachable': {
      if (!ctx.facts.addresses.has(c.channel)) return { value: false, next: null };
      const topics = ctx.facts.consent[c.channel] ?? {};
      // The newer of the topic's own choice and the channel-wide one wins (as the messaging arbiter decides).
      const at = ctx.facts.consentAt?.[c.channel] ?? {};
      const own = c.topic ? topics[c.topic] : undefined;
      const useAll = own === undefined || (topics.all !== undefined && c.topic !== undefined && (at.all ?? -1) > (at[c.topic] ?? -1));
      const state = (useAll ? topics.all : own) ?? own ?? 'never_asked';
      return { value: c.require === 'subscribed' ? state === 'subscribed' : state !== 'unsubscribed', next: null };
    }
    case 'engagement': {
      const r = evalEvent(
        {
          kind: 'event',
          event: ENGAGEMENT_EVENTS[c.action as keyof typeof ENGAGEMENT_EVENTS],
          op: 'performed',
          window: c.window,
          internal: true,
          // Machine opens and clicks (privacy proxies, link scanners) are recorded with human: false and not counted.
          filters: [...(c.channel ? [{ path: 'channel', op: 'eq' as const, value: c.channel }] : []), { path: 'human', op: 'neq' as const, value: false }],
        },
        ctx,
      );
      return c.negate ? { value: !r.value, next: r.next } : r;
    }
    case 'segment': {
      const v = ctx.facts.segments.has(c.segmentId);
      return { value: c.negate ? !v : v, next: null };
    }
    case 'list': {
      const v = ctx.facts.lists.has(c.listId);
      return { value: c.negate ? !v : v, next: null };
    }
  }
}

/** Omnia's own message lifecycle events, written by the messaging module with properties.channel. */
export const ENGAGEMENT_EVENTS = {
  delivered: 'Message Delivered',
  opened: 'Message Opened',
  clicked: 'Message Clicked',
  replied: 'Message Replied',
  converted: 'Message Converted',
} as const;

/** A condition on "Page Viewed" / "Screen Viewed" matches every page / screen call, whatever its name. */
function named(e: EventFact, name: string): boolean {
  return e.event === name || (name === 'Page Viewed' && e.type === 'page') || (name === 'Screen Viewed' && e.type === 'screen');
}

function matching(events: EventFact[], name: string, filters: PropertyFilter[] | undefined, internal: boolean, channel: string | undefined): EventFact[] {
  return events.filter(
    (e) =>
      named(e, name) &&
      e.internal === internal &&
      (channel === undefined || e.channel === channel) &&
      (filters ?? []).every((f) => compare(f, getPath(e.properties, f.path), e.ts).value),
  );
}

function evalEvent(c: Extract<Condition, { kind: 'event' }>, ctx: Ctx): Result {
  const all = matching(ctx.facts.events, c.event, c.filters, c.internal ?? false, c.channel);
  const now = ctx.now;
  const w = c.window ? windowMs(c.window) : null;
  let count = 0;
  let next: number | null = null;
  for (const e of all) {
    if (e.ts > now) {
      next = minNext(next, e.ts); // enters when its time comes
      continue;
    }
    if (w === null) count++;
    else if (e.ts > now - w) {
      count++;
      next = minNext(next, e.ts + w); // leaves the rolling window
    }
  }
  let value: boolean;
  if (c.op === 'performed') value = count >= 1;
  else if (c.op === 'not_performed') value = count === 0;
  else {
    const k = c.count!.value;
    value = c.count!.op === 'gte' ? count >= k : c.count!.op === 'lte' ? count <= k : count === k;
  }
  return { value, next };
}

const EARTH_KM = 6371;
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

function evalGeo(c: Extract<Condition, { kind: 'geo' }>, f: ProfileFacts): boolean {
  const loc = f.location;
  const norm = (x: string) => (countryCode(x) ?? x).toLowerCase();
  if (c.country && !(loc.country && c.country.some((x) => norm(x) === norm(loc.country!)))) return false;
  if (c.city && !(loc.city && c.city.some((x) => x.toLowerCase() === loc.city!.toLowerCase()))) return false;
  if (c.near) {
    if (loc.lat === undefined || loc.lon === undefined) return false;
    const at = 'location' in c.near ? f.locations?.[c.near.location] : c.near;
    if (!at || haversineKm(at.lat, at.lon, loc.lat, loc.lon) > c.near.km) return false;
  }
  return true;
}

/** Values at a dotted path; `a[].b` fans out over the array a. Missing → []. */
export function getPath(obj: unknown, path: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const part of path.split('.')) {
    const fan = part.endsWith('[]');
    const key = fan ? part.slice(0, -2) : part;
    const out: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      const x = (v as Record<string, unknown>)[key];
      if (x === undefined) continue;
      if (fan) {
        if (Array.isArray(x)) out.push(...x);
      } else out.push(x);
    }
    cur = out;
  }
  return cur;
}

function toTime(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

function toNumber(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

const lower = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);

function scalarEq(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na !== null && nb !== null && (typeof a === 'number' || typeof b === 'number')) return na === nb;
  return a === b;
}

function orderCompare(a: unknown, b: unknown): number | null {
  const na = toNumber(a);
  const nb = toNumber(b);
  if (na !== null && nb !== null) return na - nb;
  const ta = toTime(a);
  const tb = toTime(b);
  if (ta !== null && tb !== null) return ta - tb;
  return null;
}

/**
 * One comparison over the values found at a path (any value satisfying it matches; negative operators require that
 * none does). Wrongly typed values simply do not match.
 */
export function compare(c: { op: string; value?: unknown; window?: Window }, values: unknown[] | unknown, now: number): Result {
  const vals = (Array.isArray(values) ? values : values === undefined ? [] : [values]).filter((v) => v !== undefined && v !== null);
  const want = c.value;
  switch (c.op) {
    case 'exists':
      return { value: vals.length > 0, next: null };
    case 'not_exists':
      return { value: vals.length === 0, next: null };
    case 'eq':
      return { value: vals.some((v) => scalarEq(v, want)), next: null };
    case 'neq':
      return { value: !vals.some((v) => scalarEq(v, want)), next: null };
    case 'in':
      return { value: vals.some((v) => (want as unknown[]).some((w) => scalarEq(v, w))), next: null };
    case 'not_in':
      return { value: !vals.some((v) => (want as unknown[]).some((w) => scalarEq(v, w))), next: null };
    case 'contains':
      return { value: vals.some((v) => (Array.isArray(v) ? v.some((x) => scalarEq(x, want)) : typeof v === 'string' && v.toLowerCase().includes(String(lower(want))))), next: null };
    case 'not_contains':
      return { value: !vals.some((v) => (Array.isArray(v) ? v.some((x) => scalarEq(x, want)) : typeof v === 'string' && v.toLowerCase().includes(String(lower(want))))), next: null };
    case 'starts_with':
      return { value: vals.some((v) => typeof v === 'string' && v.toLowerCase().startsWith(String(lower(want)))), next: null };
    case 'ends_with':
      return { value: vals.some((v) => typeof v === 'string' && v.toLowerCase().endsWith(String(lower(want)))), next: null };
    case 'matches': {
      const re = new RegExp(String(want), 'i');
      return { value: vals.some((v) => typeof v === 'string' && v.length <= 10_000 && re.test(v)), next: null };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return {
        value: vals.some((v) => {
          const d = orderCompare(v, want);
          if (d === null) return false;
          return c.op === 'gt' ? d > 0 : c.op === 'gte' ? d >= 0 : c.op === 'lt' ? d < 0 : d <= 0;
        }),
        next: null,
      };
    case 'between': {
      const [lo, hi] = want as [number, number];
      return { value: vals.some((v) => (toNumber(v) ?? NaN) >= lo && (toNumber(v) ?? NaN) <= hi), next: null };
    }
    default: {
      // date operators: any value satisfying; next = earliest change over all values
      let value = false;
      let next: number | null = null;
      for (const v of vals) {
        const t = toTime(v);
        if (t === null) continue;
        const r = compareDate(c.op, t, want, c.window, now);
        value = value || r.value;
        next = minNext(next, r.next);
      }
      return { value, next };
    }
  }
}

/** Date operators on one time value t. */
export function compareDate(op: string, t: number, value: unknown, window: Window | undefined, now: number): Result {
  const after = (x: number | null) => (x !== null && x > now ? x : null);
  switch (op) {
    case 'before': {
      const x = toTime(value);
      return { value: x !== null && t < x, next: null };
    }
    case 'after': {
      const x = toTime(value);
      return { value: x !== null && t > x, next: null };
    }
    case 'within_last':
    case 'not_within_last': {
      // t in (now - w, now]
      const w = windowMs(window!);
      const inside = t <= now && t > now - w;
      const next = after(t) ?? after(t + w);
      return { value: op === 'within_last' ? inside : !inside, next };
    }
    case 'within_next': {
      // t in [now, now + w]
      const w = windowMs(window!);
      const inside = t >= now && t <= now + w;
      return { value: inside, next: after(t - w) ?? after(t + 1) };
    }
    case 'anniversary_within': {
      // the next anniversary (same month and day, UTC) starts within w, or is today
      const w = windowMs(window!);
      const start = nextAnniversaryStart(t, now);
      const inside = now >= start - w && now < start + DAY;
      return { value: inside, next: now < start - w ? start - w : start + DAY };
    }
    default:
      return { value: false, next: null };
  }
}

/** Start (00:00 UTC) of the anniversary day of t that is today or next; 29 Feb falls on 28 Feb in other years. */
export function nextAnniversaryStart(t: number, now: number): number {
  const d = new Date(t);
  const n = new Date(now);
  const at = (year: number) => {
    const m = d.getUTCMonth();
    let day = d.getUTCDate();
    const last = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
    if (day > last) day = last;
    return Date.UTC(year, m, day);
  };
  const thisYear = at(n.getUTCFullYear());
  return now < thisYear + DAY ? thisYear : at(n.getUTCFullYear() + 1);
}

/**
 * A user-defined computed property at `now`: the aggregate over matching events in the window (null when there are
 * none, except count/distinct_count which are 0), and when it next changes (an event leaving the window or arriving).
 */
export function computeCustom(def: CustomProperty, facts: ProfileFacts, now: number): { value: number | string | boolean | null; next: number | null } {
  const w = def.window ? windowMs(def.window) : null;
  let next: number | null = null;
  const values: unknown[] = [];
  let count = 0;
  for (const e of matching(facts.events, def.event, def.filters, false, undefined)) {
    if (e.ts > now) {
      next = minNext(next, e.ts);
      continue;
    }
    if (w !== null) {
      if (e.ts <= now - w) continue;
      next = minNext(next, e.ts + w);
    }
    count++;
    if (def.path) values.push(...getPath(e.properties, def.path));
  }
  const nums = values.map((v) => (typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN)).filter(Number.isFinite);
  let value: number | string | boolean | null;
  switch (def.agg) {
    case 'count':
      value = count;
      break;
    case 'distinct_count':
      value = new Set(values.map((v) => JSON.stringify(v))).size;
      break;
    case 'sum':
      value = nums.length ? nums.reduce((a, b) => a + b, 0) : null;
      break;
    case 'avg':
      value = nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
      break;
    case 'min':
      value = nums.length ? Math.min(...nums) : null;
      break;
    case 'max':
      value = nums.length ? Math.max(...nums) : null;
      break;
    case 'first':
    case 'last': {
      const v = def.agg === 'first' ? values[0] : values[values.length - 1];
      value = v === undefined || v === null || typeof v === 'object' ? null : (v as string | number | boolean);
      break;
    }
    default:
      value = null;
  }
  return { value, next };
}

/** When a time-dependent computed property changes value with no new input. */
function computedNext(property: string, ctx: Ctx): number | null {
  const cp = ctx.computed!;
  if (property === 'days_since_last_order' && cp.last_order_at !== null) {
    const k = Math.floor((ctx.now - cp.last_order_at) / DAY);
    return cp.last_order_at + (k + 1) * DAY;
  }
  // Future-dated orders change every order-derived property when they become visible.
  const upcoming = ctx.facts.events.find((e) => e.ts > ctx.now && !e.internal);
  return upcoming ? upcoming.ts : null;
}

export { visibleEvents };

export interface Explanation {
  kind: string;
  value: boolean;
  /** a short human reading of the leaf ("Order Completed count gte 3 in 90 days") */
  label?: string;
  children?: Explanation[];
}

/** Why a person matches (or not): the condition tree with each node's value at `now`. */
export function explain(c: Condition, facts: ProfileFacts, now: number): Explanation {
  const ctx: Ctx = { now, facts };
  const walk = (n: Condition): Explanation => {
    switch (n.kind) {
      case 'and':
      case 'or': {
        const children = n.conditions.map(walk);
        return { kind: n.kind, value: n.kind === 'and' ? children.every((x) => x.value) : children.some((x) => x.value), children };
      }
      case 'not': {
        const child = walk(n.condition);
        return { kind: 'not', value: !child.value, children: [child] };
      }
      default:
        return { kind: n.kind, value: evalNode(n, ctx).value, label: labelOf(n) };
    }
  };
  return walk(c);
}

function labelOf(n: Condition): string {
  const w = (x?: Window) => (x ? ` in last ${x.amount} ${x.unit}` : '');
  switch (n.kind) {
    case 'trait':
      return `trait ${n.trait} ${n.op}${n.value !== undefined ? ` ${JSON.stringify(n.value)}` : ''}${w(n.window)}`;
    case 'computed':
      return `${n.property} ${n.op}${n.value !== undefined ? ` ${JSON.stringify(n.value)}` : ''}${w(n.window)}`;
    case 'event':
      return `${n.event} ${n.op}${n.count ? ` ${n.count.op} ${n.count.value}` : ''}${w(n.window)}${n.filters?.length ? ` where ${n.filters.map((f) => `${f.path} ${f.op} ${JSON.stringify(f.value)}`).join(' and ')}` : ''}`;
    case 'first_performed':
    case 'last_performed':
      return `${n.kind.replace('_', ' ')} ${n.event} ${n.op}${n.value ? ` ${n.value}` : ''}${w(n.window)}`;
    case 'geo':
      return `geo ${[n.country && `country in ${n.country.join(', ')}`, n.city && `city in ${n.city.join(', ')}`, n.near && `within ${n.near.km} km of ${'location' in n.near ? n.near.location : `${n.near.lat},${n.near.lon}`}`].filter(Boolean).join(' and ')}`;
    case 'reachable':
      return `reachable on ${n.channel}${n.topic ? ` (${n.topic})` : ''}`;
    case 'engagement':
      return `${n.negate ? 'not ' : ''}${n.action}${n.channel ? ` on ${n.channel}` : ''}${w(n.window)}`;
    case 'segment':
      return `${n.negate ? 'not ' : ''}in segment ${n.segmentId}`;
    case 'list':
      return `${n.negate ? 'not ' : ''}in list ${n.listId}`;
    default:
      return n.kind;
  }
}
