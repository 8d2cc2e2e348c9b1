// Time-zone arithmetic for the arbiter, on Intl alone (no tz database of our own).
//
// The one expensive primitive is the zone's UTC offset at an instant (Intl.DateTimeFormat#formatToParts, ~3 µs).
// Offsets are cached per zone and per 15-minute UTC block: modern zones only change offset at quarter-hour UTC
// instants (whole-hour and half-hour zones, Nepal's +05:45, Chatham's +12:45), and a block whose two ends disagree
// (historical local mean time, odd transition instants) is marked and always computed exactly. Everything else —
// wall-clock fields, local day numbers, weeks — is integer arithmetic on (instant + offset).
//
// Wall time → instant: around a DST change a wall-clock time can exist twice (clocks go back) or not at all (clocks
// go forward). `possibleInstants` gives all of them; `zonedTimeToUtc` resolves like Temporal's `disambiguation`
// ('compatible' = the earlier of two, and for a skipped time the instant the clock would show had it not jumped);
// `nextInstantAtLocal` answers the question deferrals ask: the first instant at or after `from` at which the local
// clock reads (or has just passed) a given wall time.

import { formatter } from '../../importer/time.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
const BLOCK = 15 * MINUTE;

const validity = new Map<string, boolean>();

// One cached formatter per zone, shared with the importer's local-time parsing.
export { formatter };

/** Whether Intl knows the zone (IANA names, case-insensitive, and fixed forms like 'UTC', 'Etc/GMT+5'). */
export function isValidTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone === '') return false;
  let ok = validity.get(zone);
  if (ok === undefined) {
    try {
      formatter(zone);
      ok = true;
    } catch {
      ok = false;
    }
    if (validity.size > 10_000) validity.clear();
    validity.set(zone, ok);
  }
  return ok;
}

export interface LocalParts {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
  /** local = utc + offsetMs */
  offsetMs: number;
  /** days since 1970-01-01 of the local calendar date */
  dayNumber: number;
  /** hour * 60 + minute */
  minuteOfDay: number;
}

/** The zone's offset straight from Intl (no cache): local = utc + offset, in ms. */
export function rawOffsetMs(ts: number, zone: string): number {
  const parts = formatter(zone).formatToParts(ts);
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of parts) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
    }
  }
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

interface ZoneCache {
  zone: string;
  fixed: boolean;
  blocks: Map<number, number>;
  /** the last block looked up and its offset (most lookups repeat the previous block) */
  lastBlock: number;
  lastOffset: number;
}
const zoneCaches = new Map<string, ZoneCache>();
const MIXED = Number.NaN;
let lastZone: ZoneCache | null = null;

function zoneCache(zone: string): ZoneCache {
  if (lastZone !== null && lastZone.zone === zone) return lastZone;
  let c = zoneCaches.get(zone);
  if (!c) {
    const upper = zone.toUpperCase();
    c = { zone, fixed: upper === 'UTC' || upper === 'ETC/UTC' || upper === 'GMT' || upper === 'ETC/GMT', blocks: new Map(), lastBlock: Number.NaN, lastOffset: 0 };
    zoneCaches.set(zone, c);
  }
  lastZone = c;
  return c;
}

/** The zone's offset at an instant (local = utc + offset, in ms), cached per 15-minute UTC block. */
export function offsetMs(ts: number, zone: string): number {
  const c = zoneCache(zone);
  if (c.fixed) return 0;
  const b = Math.floor(ts / BLOCK);
  let o: number | undefined;
  if (b === c.lastBlock) o = c.lastOffset;
  else {
    o = c.blocks.get(b);
    if (o === undefined) {
      const lo = rawOffsetMs(b * BLOCK, zone);
      const hi = rawOffsetMs(b * BLOCK + BLOCK - 1, zone);
      o = lo === hi ? lo : MIXED;
      if (c.blocks.size > 500_000) c.blocks.clear();
      c.blocks.set(b, o);
    }
    c.lastBlock = b;
    c.lastOffset = o;
  }
  return o === o ? o : rawOffsetMs(ts, zone); // NaN (mixed block): exact every time
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The date of a day number (inverse of daysFromCivil). */
export function civilFromDays(n: number): { year: number; month: number; day: number } {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

/** 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOfDay(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

/** Monday-based week index: equal for two day numbers iff they fall in the same Monday–Sunday week. */
export function weekOfDay(dayNumber: number): number {
  return Math.floor((dayNumber + 3) / 7);
}

/** The day number of the Monday starting a week index. */
export function mondayOfWeek(week: number): number {
  return week * 7 - 3;
}

/** Local calendar day number of an instant (allocation-free). */
export function localDayNumber(ts: number, zone: string): number {
  return Math.floor((ts + offsetMs(ts, zone)) / DAY);
}

/** Local wall-clock fields of an instant in a zone. */
export function localParts(ts: number, zone: string): LocalParts {
  const off = offsetMs(ts, zone);
  const wall = ts + off;
  const dayNumber = Math.floor(wall / DAY);
  const msOfDay = wall - dayNumber * DAY;
  const { year, month, day } = civilFromDays(dayNumber);
  const minuteOfDay = Math.floor(msOfDay / MINUTE);
  return {
    year,
    month,
    day,
    hour: Math.floor(minuteOfDay / 60),
    minute: minuteOfDay % 60,
    second: Math.floor((msOfDay % MINUTE) / 1000),
    weekday: weekdayOfDay(dayNumber),
    offsetMs: off,
    dayNumber,
    minuteOfDay,
  };
}

/**
 * Every instant at which the zone's clock reads y-m-d hh:mm (0, 1 or 2 of them), ascending. Fields overflow like
 * Date.UTC's (day 32, hour 24 roll over), month is 1-based.
 */
export function possibleInstants(y: number, m: number, d: number, hh: number, mm: number, zone: string): number[] {
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  return possibleInstantsOfWall(wall, zone);
}

function possibleInstantsOfWall(wall: number, zone: string): number[] {
  const before = offsetMs(wall - DAY, zone);
  const after = offsetMs(wall + DAY, zone);
  if (before === after) {
    const c = wall - before;
    if (c + offsetMs(c, zone) === wall) return [c];
    // Two transitions within a day of each other: probe with the offset at the wall time itself too.
    const out = new Set<number>();
    for (const o of [before, offsetMs(wall, zone), offsetMs(wall - offsetMs(wall, zone), zone)]) {
      const x = wall - o;
      if (x + offsetMs(x, zone) === wall) out.add(x);
    }
    return [...out].sort((a, b) => a - b);
  }
  const out: number[] = [];
  for (const c of [wall - before, wall - after].sort((a, b) => a - b)) {
    if (c + offsetMs(c, zone) === wall && !out.includes(c)) out.push(c);
  }
  return out;
}

/**
 * The instant of a wall-clock time. 'compatible' (default): the earlier of two, and for a skipped time the instant
 * the clock would show had it not jumped (02:30 on New York's spring-forward day → 03:30 EDT); 'earlier'/'later'
 * choose among two, and for a skipped time read it with the offset after / before the jump, as Temporal does.
 */
export function zonedTimeToUtc(
  y: number,
  m: number,
  d: number,
  hh: number,
  mm: number,
  zone: string,
  disambiguation: 'compatible' | 'earlier' | 'later' = 'compatible',
): number {
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  const xs = possibleInstantsOfWall(wall, zone);
  if (xs.length === 1) return xs[0]!;
  if (xs.length === 2) return disambiguation === 'later' ? xs[1]! : xs[0]!;
  const before = offsetMs(wall - DAY, zone);
  const after = offsetMs(wall + DAY, zone);
  return disambiguation === 'earlier' ? wall - after : wall - before;
}

/**
 * The first instant ≥ `from` at which the zone's clock reads the wall time y-m-d hh:mm — or, if that wall time is
 * skipped by a DST jump, the instant of the jump (the first moment the clock is past it). NaN when every occurrence
 * lies before `from`.
 */
export function nextInstantAtLocal(from: number, y: number, m: number, d: number, hh: number, mm: number, zone: string): number {
  return nextInstantAtWall(from, Date.UTC(y, m - 1, d, hh, mm), zone);
}

/** As nextInstantAtLocal, with the wall time given as ms since 1970-01-01 of wall-clock time. */
export function nextInstantAtWall(from: number, wall: number, zone: string): number {
  const xs = possibleInstantsOfWall(wall, zone);
  if (xs.length > 0) {
    for (const x of xs) if (x >= from) return x;
    return Number.NaN;
  }
  // Skipped: find the jump between lo (clock still before `wall`) and hi (clock already past it).
  const before = offsetMs(wall - DAY, zone);
  const after = offsetMs(wall + DAY, zone);
  let lo = Math.min(wall - after, wall - before);
  let hi = Math.max(wall - after, wall - before);
  // Invariant: clock(lo) < wall ≤ clock(hi) — find the smallest hi.
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + offsetMs(mid, zone) >= wall) hi = mid;
    else lo = mid;
  }
  return hi >= from ? hi : Number.NaN;
}

/** The instant the local day `dayNumber` begins (its first instant; midnight, or the jump if midnight is skipped). */
export function startOfLocalDay(dayNumber: number, zone: string, from = -Infinity): number {
  return nextInstantAtWall(from, dayNumber * DAY, zone);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** 'YYYY-MM-DD' of a day number. */
export function formatDay(dayNumber: number): string {
  const { year, month, day } = civilFromDays(dayNumber);
  return `${year}-${pad2(month)}-${pad2(day)}`;
}

/** 'HH:MM' of a minute of the day (1440 → '24:00'). */
export function formatMinute(minuteOfDay: number): string {
  return `${pad2(Math.floor(minuteOfDay / 60))}:${pad2(minuteOfDay % 60)}`;
}

const labels = new Map<string, Map<number, string>>();

/** An instant as local ISO time with its offset, to the minute: '2026-03-05T00:00+01:00' (memoised: deferrals repeat). */
export function formatLocal(ts: number, zone: string): string {
  let m = labels.get(zone);
  if (!m) {
    m = new Map();
    labels.set(zone, m);
  }
  let s = m.get(ts);
  if (s === undefined) {
    s = formatLocalUncached(ts, zone);
    if (m.size > 50_000) m.clear();
    m.set(ts, s);
  }
  return s;
}

function formatLocalUncached(ts: number, zone: string): string {
  const p = localParts(ts, zone);
  const offMin = Math.round(p.offsetMs / MINUTE);
  const sign = offMin < 0 ? '-' : '+';
  const a = Math.abs(offMin);
  return `${formatDay(p.dayNumber)}T${pad2(p.hour)}:${pad2(p.minute)}${sign}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}
