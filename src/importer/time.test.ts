import { describe, expect, it } from 'vitest';
import { DateTimeReader, parseLocalDateTime, zonedTimeToUtc } from './time.ts';

const iso = (v: string, tz = 'Europe/London', order?: 'ymd' | 'mdy' | 'dmy') => {
  const r = parseLocalDateTime(v, tz, order);
  return r.ms === undefined ? r.error : new Date(r.ms).toISOString();
};

describe('local date-times → UTC', () => {
  it('reads London winter (GMT) and summer (BST) times', () => {
    expect(iso('2010-12-01 08:26:00')).toBe('2010-12-01T08:26:00.000Z');
    expect(iso('2011-08-12 14:51:00')).toBe('2011-08-12T13:51:00.000Z');
  });

  it('handles the spring-forward gap (2011-03-27, 01:00 → 02:00) like Temporal "compatible"', () => {
    expect(iso('2011-03-27 00:59:00')).toBe('2011-03-27T00:59:00.000Z');
    expect(iso('2011-03-27 01:30:00')).toBe('2011-03-27T01:30:00.000Z'); // does not exist: read as 02:30 BST
    expect(iso('2011-03-27 02:00:00')).toBe('2011-03-27T01:00:00.000Z');
    expect(iso('2011-03-27 10:16:00')).toBe('2011-03-27T09:16:00.000Z');
  });

  it('takes the earlier instant in the fall-back hour (2011-10-30, 02:00 → 01:00)', () => {
    expect(iso('2011-10-30 00:59:00')).toBe('2011-10-29T23:59:00.000Z');
    expect(iso('2011-10-30 01:30:00')).toBe('2011-10-30T00:30:00.000Z'); // 01:30 BST, not 01:30 GMT
    expect(iso('2011-10-30 02:00:00')).toBe('2011-10-30T02:00:00.000Z');
  });

  it('works for other zones and hemispheres', () => {
    expect(iso('2011-07-04 12:00', 'America/New_York')).toBe('2011-07-04T16:00:00.000Z');
    expect(iso('2011-01-04 12:00', 'America/New_York')).toBe('2011-01-04T17:00:00.000Z');
    expect(iso('2011-01-04 12:00', 'Australia/Sydney')).toBe('2011-01-04T01:00:00.000Z');
    expect(iso('2011-01-04 12:00', 'Asia/Kolkata')).toBe('2011-01-04T06:30:00.000Z');
    expect(iso('2011-01-04 12:00', 'UTC')).toBe('2011-01-04T12:00:00.000Z');
    expect(new Date(zonedTimeToUtc(2011, 2, 13, 2, 30, 0, 0, 'America/New_York')).toISOString()).toBe('2011-03-13T07:30:00.000Z');
  });

  it('agrees with Intl on every quarter hour of a year in London', () => {
    const fmt = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/London', dateStyle: 'short', timeStyle: 'medium' });
    for (let t = Date.UTC(2011, 0, 1); t < Date.UTC(2012, 0, 1); t += 15 * 60_000) {
      const local = fmt.format(new Date(t)); // "2011-03-27 02:15:00"
      const back = parseLocalDateTime(local, 'Europe/London').ms!;
      // Within the repeated hour the earlier instant is chosen; everywhere else the conversion is exact.
      if (back !== t) expect(t - back).toBe(3_600_000);
    }
  });

  it('takes instants with an offset as they are', () => {
    expect(iso('2011-06-01T10:00:00Z')).toBe('2011-06-01T10:00:00.000Z');
    expect(iso('2011-06-01 10:00:00+02:00')).toBe('2011-06-01T08:00:00.000Z');
  });

  it('reads date-only cells, fractions of seconds and slashed dates', () => {
    expect(iso('2011-01-05')).toBe('2011-01-05T00:00:00.000Z');
    expect(iso('2011-01-05T10:00:00.250')).toBe('2011-01-05T10:00:00.250Z');
    expect(iso('12/1/2010 8:26', 'Europe/London', 'mdy')).toBe('2010-12-01T08:26:00.000Z');
    expect(iso('1/12/2010 8:26', 'Europe/London', 'dmy')).toBe('2010-12-01T08:26:00.000Z');
    expect(iso('13/1/2010 8:26')).toBe('2010-01-13T08:26:00.000Z'); // only one reading possible
    expect(iso('2010/12/01 08:26')).toBe('2010-12-01T08:26:00.000Z');
  });

  it('explains what it cannot read', () => {
    expect(iso('12/1/2010 8:26')).toMatch(/ambiguous.*--date-format/);
    expect(iso('2011-02-30 10:00')).toMatch(/not a valid date/);
    expect(iso('yesterday')).toMatch(/not a date-time/);
    expect(iso('')).toMatch(/empty/);
    expect(iso('2011-01-01 25:00')).toMatch(/not a valid/);
  });

  it('caches repeated cells', () => {
    const r = new DateTimeReader('Europe/London');
    expect(r.parse('2011-06-01 10:00')).toBe(r.parse('2011-06-01 10:00'));
  });
});
