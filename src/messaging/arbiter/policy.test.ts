import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, validatePolicy } from './policy.ts';

describe('validatePolicy', () => {
  it('accepts the default policy and fills missing fields from it', () => {
    const r = validatePolicy(DEFAULT_POLICY);
    expect(r).toEqual({ ok: true, value: { ...DEFAULT_POLICY, caps: [...DEFAULT_POLICY.caps], quietHours: [...DEFAULT_POLICY.quietHours] } });
    const partial = validatePolicy({ caps: [], consentRequired: { email: 'subscribed' } });
    expect(partial.ok).toBe(true);
    if (partial.ok) {
      expect(partial.value.caps).toEqual([]);
      expect(partial.value.quietHours).toEqual(DEFAULT_POLICY.quietHours);
      expect(partial.value.consentRequired).toEqual({ email: 'subscribed', sms: 'subscribed', push: 'not_unsubscribed', onsite: 'not_unsubscribed', webhook: 'not_unsubscribed' });
    }
  });

  it('accepts wrapping windows, 24:00 ends, countries (normalised to upper case) and days', () => {
    const r = validatePolicy({
      quietHours: [
        { channel: 'sms', start: '20:00', end: '08:00', countries: ['fr'] },
        { channel: 'sms', start: '00:00', end: '24:00', countries: ['FR'], days: [0] },
      ],
    });
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.quietHours[0]!.countries).toEqual(['FR']);
  });

  const BAD: [string, unknown, string][] = [
    ['not an object', 42, ''],
    ['unknown top-level field', { capz: [] }, 'capz'],
    ['caps not an array', { caps: {} }, 'caps'],
    ['negative max', { caps: [{ scope: 'all', period: 'day', max: -1 }] }, 'caps[0].max'],
    ['fractional max', { caps: [{ scope: 'all', period: 'day', max: 1.5 }] }, 'caps[0].max'],
    ['unknown cap scope', { caps: [{ scope: 'fax', period: 'day', max: 1 }] }, 'caps[0].scope'],
    ['unknown cap period', { caps: [{ scope: 'sms', period: 'month', max: 1 }] }, 'caps[0].period'],
    ['duplicate cap', { caps: [{ scope: 'sms', period: 'day', max: 1 }, { scope: 'all', period: 'day', max: 3 }, { scope: 'sms', period: 'day', max: 2 }] }, 'caps[2]'],
    ['unknown cap field', { caps: [{ scope: 'sms', period: 'day', max: 1, per: 'x' }] }, 'caps[0].per'],
    ['bad start', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:00' }, { channel: 'sms', start: '9:00', end: '10:00' }] }, 'quietHours[1].start'],
    ['hour 24 as a start', { quietHours: [{ channel: 'sms', start: '24:00', end: '08:00' }] }, 'quietHours[0].start'],
    ['bad minutes', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:60' }] }, 'quietHours[0].end'],
    ['empty window', { quietHours: [{ channel: 'sms', start: '21:00', end: '21:00' }] }, 'quietHours[0].end'],
    ['unknown quiet channel', { quietHours: [{ channel: 'pager', start: '21:00', end: '08:00' }] }, 'quietHours[0].channel'],
    ['bad country', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:00', countries: ['USA'] }] }, 'quietHours[0].countries[0]'],
    ['empty countries', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:00', countries: [] }] }, 'quietHours[0].countries'],
    ['bad weekday', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:00', days: [7] }] }, 'quietHours[0].days[0]'],
    ['duplicate weekday', { quietHours: [{ channel: 'sms', start: '21:00', end: '08:00', days: [1, 1] }] }, 'quietHours[0].days[1]'],
    ['always quiet', { quietHours: [{ channel: 'all', start: '08:00', end: '08:01' }, { channel: 'sms', start: '08:01', end: '08:00' }] }, 'quietHours'],
    ['bad overCap', { overCap: 'queue' }, 'overCap'],
    ['unknown fallback channel', { fallbackOrder: ['push', 'carrier-pigeon'] }, 'fallbackOrder[1]'],
    ['duplicate fallback channel', { fallbackOrder: ['push', 'sms', 'push'] }, 'fallbackOrder[2]'],
    ['empty fallback order', { fallbackOrder: [] }, 'fallbackOrder'],
    ['unknown time zone', { defaultTimeZone: 'Europe/Atlantis' }, 'defaultTimeZone'],
    ['non-boolean quietHoursForTransactional', { quietHoursForTransactional: 'yes' }, 'quietHoursForTransactional'],
    ['unknown consent channel', { consentRequired: { fax: 'subscribed' } }, 'consentRequired.fax'],
    ['bad consent rule', { consentRequired: { email: 'double_opt_in' } }, 'consentRequired.email'],
  ];
  it.each(BAD)('rejects %s, naming the field', (_name, input, field) => {
    const r = validatePolicy(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => e.field)).toContain(field);
      for (const e of r.errors) expect(e.message.length).toBeGreaterThan(5);
    }
  });

  it('reports every error at once', () => {
    const r = validatePolicy({ caps: [{ scope: 'all', period: 'day', max: -1 }], quietHours: [{ channel: 'sms', start: 'x', end: 'y' }], defaultTimeZone: 'Nowhere' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['caps[0].max', 'defaultTimeZone', 'quietHours[0].end', 'quietHours[0].start']);
  });
});
