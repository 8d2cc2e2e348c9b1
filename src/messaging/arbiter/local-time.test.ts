import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DAY,
  MINUTE,
  civilFromDays,
  daysFromCivil,
  formatLocal,
  isValidTimeZone,
  localParts,
  mondayOfWeek,
  nextInstantAtLocal,
  offsetMs,
  possibleInstants,
  rawOffsetMs,
  startOfLocalDay,
  weekOfDay,
  weekdayOfDay,
  zonedTimeToUtc,
} from './local-time.ts';

const ZONES = [
  'Europe/London',
  'America/New_York',
  'America/Los_Angeles',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/Santiago',
  'UTC',
];

/** An independent reading of the wall clock: a fresh formatter with weekday, nothing shared with the code under test. */
const refFormatters = new Map<string, Intl.DateTimeFormat>();
function ref(ts: number, zone: string) {
  let f = refFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    refFormatters.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!),
  };
}

const Y2026 = Date.UTC(2026, 0, 1);
const Y2027 = Date.UTC(2027, 0, 1);
const STEP = 15 * MINUTE;

describe('civil calendar arithmetic', () => {
  it('daysFromCivil / civilFromDays round-trip and agree with Date', () => {
    for (let n = -800_000; n <= 800_000; n += 97) {
      const { year, month, day } = civilFromDays(n);
      expect(daysFromCivil(year, month, day)).toBe(n);
      const d = new Date(n * DAY);
      expect([year, month, day]).toEqual([d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]);
      expect(weekdayOfDay(n)).toBe(d.getUTCDay());
    }
  });
  it('weeks start on Monday', () => {
    const mon = daysFromCivil(2026, 3, 2); // a Monday
    expect(weekdayOfDay(mon)).toBe(1);
    for (let i = 0; i < 7; i++) expect(weekOfDay(mon + i)).toBe(weekOfDay(mon));
    expect(weekOfDay(mon - 1)).toBe(weekOfDay(mon) - 1);
    expect(weekOfDay(mon + 7)).toBe(weekOfDay(mon) + 1);
    expect(mondayOfWeek(weekOfDay(mon + 5))).toBe(mon);
  });
});

describe('localParts', () => {
  it.each(ZONES)('matches Intl every 15 minutes (plus a few seconds) through 2026 in %s', (zone) => {
    for (let t = Y2026; t < Y2027; t += STEP) {
      for (const ts of [t, t + 7 * MINUTE + 13_456]) {
        const p = localParts(ts, zone);
        const r = ref(ts, zone);
        if (p.year !== r.year || p.month !== r.month || p.day !== r.day || p.hour !== r.hour || p.minute !== r.minute || p.second !== r.second || p.weekday !== r.weekday) {
          expect({ ts: new Date(ts).toISOString(), ...p }).toMatchObject({ ts: new Date(ts).toISOString(), ...r });
        }
        if (p.offsetMs !== rawOffsetMs(ts, zone)) expect(p.offsetMs).toBe(rawOffsetMs(ts, zone));
      }
    }
  });

  it('is exact for historical offsets that are not whole quarter hours (local mean time)', () => {
    // Amsterdam kept +00:19:32 until 1937; Kolkata was +05:53:28 before 1942-ish; random instants in those decades.
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1890, 0, 1), max: Date.UTC(1945, 0, 1) }), fc.constantFrom('Europe/Amsterdam', 'Asia/Kolkata', 'America/New_York'), (ts, zone) => {
        expect(offsetMs(ts, zone)).toBe(rawOffsetMs(ts, zone));
      }),
      { numRuns: 2000 },
    );
  });

  it('known offsets', () => {
    expect(formatLocal(Date.UTC(2026, 2, 4, 7, 30), 'America/Los_Angeles')).toBe('2026-03-03T23:30-08:00');
    expect(formatLocal(Date.UTC(2026, 2, 4, 18, 30), 'Asia/Kolkata')).toBe('2026-03-05T00:00+05:30');
    expect(formatLocal(Date.UTC(2026, 0, 15, 12, 0), 'Australia/Lord_Howe')).toBe('2026-01-15T23:00+11:00');
    expect(formatLocal(Date.UTC(2026, 5, 15, 12, 0), 'Australia/Lord_Howe')).toBe('2026-06-15T22:30+10:30');
    expect(formatLocal(Date.UTC(2026, 5, 15, 12, 0), 'Asia/Kathmandu')).toBe('2026-06-15T17:45+05:45');
  });
});

describe('zonedTimeToUtc / possibleInstants', () => {
  it.each(ZONES)('round-trips every 15-minute instant of 2026 in %s', (zone) => {
    for (let ts = Y2026; ts < Y2027; ts += STEP) {
      const p = localParts(ts, zone);
      const xs = possibleInstants(p.year, p.month, p.day, p.hour, p.minute, zone);
      if (!xs.includes(ts)) expect({ at: new Date(ts).toISOString(), xs }).toEqual({ at: new Date(ts).toISOString(), xs: [ts] });
      const e = zonedTimeToUtc(p.year, p.month, p.day, p.hour, p.minute, zone, 'earlier');
      const l = zonedTimeToUtc(p.year, p.month, p.day, p.hour, p.minute, zone, 'later');
      expect(e <= ts && ts <= l).toBe(true);
    }
  });

  it.each(ZONES)('every 15-minute wall time of 2026 in %s maps to instants showing it, or to the jump over it', (zone) => {
    for (let wall = Y2026; wall < Y2027; wall += STEP) {
      const d = new Date(wall);
      const [y, m, dd, hh, mm] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
      const xs = possibleInstants(y, m, dd, hh, mm, zone);
      for (const x of xs) {
        const p = localParts(x, zone);
        expect([p.year, p.month, p.day, p.hour, p.minute]).toEqual([y, m, dd, hh, mm]);
      }
      expect(xs.length).toBeLessThanOrEqual(2);
      if (xs.length === 2) expect(xs[0]! < xs[1]!).toBe(true);
      if (xs.length === 0) {
        // A skipped wall time: the first instant past it is the jump; the clock just before it reads earlier.
        const jump = nextInstantAtLocal(-Infinity, y, m, dd, hh, mm, zone);
        expect(jump + offsetMs(jump, zone)).toBeGreaterThan(wall);
        expect(jump - 1 + offsetMs(jump - 1, zone)).toBeLessThan(wall);
        const c = zonedTimeToUtc(y, m, dd, hh, mm, zone);
        expect(c).toBeGreaterThanOrEqual(jump);
      }
    }
  });

  it('DST edges, 2026', () => {
    // London springs forward at 01:00 GMT on 29 March: 01:30 does not exist; 'compatible' reads it as 02:30 BST.
    expect(possibleInstants(2026, 3, 29, 1, 30, 'Europe/London')).toEqual([]);
    expect(zonedTimeToUtc(2026, 3, 29, 1, 30, 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(nextInstantAtLocal(0, 2026, 3, 29, 1, 30, 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 1, 0));
    // New York falls back on 1 November: 01:30 happens twice.
    expect(possibleInstants(2026, 11, 1, 1, 30, 'America/New_York')).toEqual([Date.UTC(2026, 10, 1, 5, 30), Date.UTC(2026, 10, 1, 6, 30)]);
    expect(zonedTimeToUtc(2026, 11, 1, 1, 30, 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 5, 30));
    expect(zonedTimeToUtc(2026, 11, 1, 1, 30, 'America/New_York', 'later')).toBe(Date.UTC(2026, 10, 1, 6, 30));
    expect(nextInstantAtLocal(Date.UTC(2026, 10, 1, 6, 0), 2026, 11, 1, 1, 30, 'America/New_York')).toBe(Date.UTC(2026, 10, 1, 6, 30));
    // New York springs forward on 8 March at 02:00 EST (07:00Z).
    expect(nextInstantAtLocal(0, 2026, 3, 8, 2, 30, 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 7, 0));
    // Lord Howe: +10:30 → +11:00 at 02:00 on 4 October 2026 (15:30Z on the 3rd), a 30-minute gap.
    expect(possibleInstants(2026, 10, 4, 2, 15, 'Australia/Lord_Howe')).toEqual([]);
    expect(nextInstantAtLocal(0, 2026, 10, 4, 2, 15, 'Australia/Lord_Howe')).toBe(Date.UTC(2026, 9, 3, 15, 30));
    // …and back at 02:00 on 5 April 2026: 01:45 happens twice, 30 minutes apart.
    const twice = possibleInstants(2026, 4, 5, 1, 45, 'Australia/Lord_Howe');
    expect(twice).toHaveLength(2);
    expect(twice[1]! - twice[0]!).toBe(30 * MINUTE);
    // Kolkata never changes.
    expect(zonedTimeToUtc(2026, 7, 1, 8, 0, 'Asia/Kolkata')).toBe(Date.UTC(2026, 6, 1, 2, 30));
  });

  it('start of a local day', () => {
    expect(startOfLocalDay(daysFromCivil(2026, 3, 4), 'America/Los_Angeles')).toBe(Date.UTC(2026, 2, 4, 8, 0));
    expect(startOfLocalDay(daysFromCivil(2026, 3, 29), 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 0, 0));
    expect(startOfLocalDay(daysFromCivil(2026, 3, 30), 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 23, 0));
    // Santiago springs forward at 00:00 (→ 01:00) on 6 September 2026: that day begins at the jump.
    const sep6 = startOfLocalDay(daysFromCivil(2026, 9, 6), 'America/Santiago');
    expect(formatLocal(sep6, 'America/Santiago')).toBe('2026-09-06T01:00-03:00');
  });

  it('time zone validity', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
    expect(isValidTimeZone(null)).toBe(false);
  });
});
