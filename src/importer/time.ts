// Local date-times (as spreadsheets and shop exports write them: "2010-12-01 08:26:00", no offset) → UTC instants,
// in an IANA time zone, with daylight saving time handled through Intl (no tz database of our own).
//
// Around a DST change a wall-clock time can exist twice (autumn, clocks go back) or not at all (spring, clocks go
// forward). We resolve both as Temporal's `disambiguation: 'compatible'` does: the earlier of two instants, and for
// a skipped time the instant the clock would show had it not jumped (01:30 on the spring-forward day in London →
// 02:30 BST = 01:30 UTC).

const formatters = new Map<string, Intl.DateTimeFormat>();

/** A cached Intl.DateTimeFormat giving a zone's wall-clock parts (throws RangeError for an unknown zone). */
export function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at an instant, in ms (local = utc + offset). */
export function zoneOffset(utcMs: number, tz: string): number {
  const parts = formatter(tz).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const hourCache = new Map<string, number>();

/** The offset at the start of the UTC hour holding `utcMs`: only ever used a day away from the time converted. */
function hourOffset(utcMs: number, tz: string): number {
  const h = Math.floor(utcMs / HOUR);
  const key = `${tz}\u0000${h}`;
  let o = hourCache.get(key);
  if (o === undefined) {
    o = zoneOffset(h * HOUR, tz);
    if (hourCache.size > 200_000) hourCache.clear();
    hourCache.set(key, o);
  }
  return o;
}

/** The UTC instant of a wall-clock time in `tz` (fields as Date.UTC takes them: month 0-based). */
export function zonedTimeToUtc(y: number, mon: number, d: number, h: number, mi: number, s: number, ms: number, tz: string): number {
  const wall = Date.UTC(y, mon, d, h, mi, s, ms);
  if (tz === 'UTC' || tz === 'Etc/UTC') return wall;
  // Offsets a day either side bracket any transition near this time (zones change at most once a day). Away from a
  // transition both are the same and that is the answer; the probes are cached per hour (imports repeat days).
  if (hourOffset(wall - DAY, tz) === hourOffset(wall + DAY, tz)) return wall - hourOffset(wall - DAY, tz);
  const before = zoneOffset(wall - DAY, tz);
  const after = zoneOffset(wall + DAY, tz);
  const c1 = wall - before;
  const c2 = wall - after;
  const ok1 = zoneOffset(c1, tz) === before;
  const ok2 = zoneOffset(c2, tz) === after;
  if (ok1 && ok2) return Math.min(c1, c2); // the usual case (c1 === c2), or a repeated hour: the earlier instant
  if (ok1) return c1;
  if (ok2) return c2;
  return c1; // a skipped time: read with the offset in force before the jump
}

export type DateOrder = 'ymd' | 'mdy' | 'dmy';

const ISO_LOCAL = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const SLASHED = /^(\d{1,4})[/.](\d{1,2})[/.](\d{1,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/i;

export interface ParsedTime {
  ms?: number;
  error?: string;
}

/**
 * Parses a date-time cell. With an explicit offset or Z (ISO 8601) it is an instant; otherwise it is a wall-clock
 * time in `tz`. Slashed dates (12/1/2010 8:26) need the day/month order: `order` 'mdy' or 'dmy' ('ymd' accepts a
 * slashed date only when the day and month cannot be confused).
 */
export function parseLocalDateTime(value: string, tz: string, order: DateOrder = 'ymd'): ParsedTime {
  const v = value.trim();
  if (v === '') return { error: 'is empty' };
  if (HAS_OFFSET.test(v) && /^\d{4}-\d{2}-\d{2}[T ]/.test(v)) {
    const t = Date.parse(v.replace(' ', 'T'));
    return Number.isFinite(t) ? { ms: t } : { error: `"${v}" is not a date-time` };
  }
  let y: number, mo: number, d: number, h = 0, mi = 0, s = 0, frac = 0;
  let m = ISO_LOCAL.exec(v);
  if (m) {
    [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    h = Number(m[4] ?? 0);
    mi = Number(m[5] ?? 0);
    s = Number(m[6] ?? 0);
    frac = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  } else if ((m = SLASHED.exec(v))) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    const c = Number(m[3]);
    h = Number(m[4] ?? 0);
    mi = Number(m[5] ?? 0);
    s = Number(m[6] ?? 0);
    if (m[1]!.length === 4) [y, mo, d] = [a, b, c];
    else {
      y = c < 100 ? 2000 + c : c;
      let o = order;
      if (o === 'ymd') {
        if (a > 12 && b <= 12) o = 'dmy';
        else if (b > 12 && a <= 12) o = 'mdy';
        else if (a === b) o = 'mdy';
        else return { error: `"${v}" is ambiguous (day/month or month/day?): pass --date-format mdy or dmy` };
      }
      [mo, d] = o === 'mdy' ? [a, b] : [b, a];
    }
  } else return { error: `"${v}" is not a date-time (expected YYYY-MM-DD HH:MM[:SS], or ISO 8601 with an offset)` };
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return { error: `"${v}" is not a valid date-time` };
  const probe = new Date(Date.UTC(y, mo - 1, d));
  if (probe.getUTCDate() !== d) return { error: `"${v}" is not a valid date` };
  return { ms: zonedTimeToUtc(y, mo - 1, d, h, mi, Math.min(s, 59), frac, tz) };
}

/** Caches parsed cells: exports repeat the same timestamp on every line of an order. */
export class DateTimeReader {
  private cache = new Map<string, ParsedTime>();
  constructor(
    readonly tz: string,
    readonly order: DateOrder = 'ymd',
  ) {}

  parse(value: string): ParsedTime {
    let r = this.cache.get(value);
    if (!r) {
      r = parseLocalDateTime(value, this.tz, this.order);
      if (this.cache.size > 100_000) this.cache.clear();
      this.cache.set(value, r);
    }
    return r;
  }
}
