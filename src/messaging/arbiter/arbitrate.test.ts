import { describe, expect, it } from 'vitest';
import { arbitrate, type Decision, type MessageIntent, type PersonState } from './arbitrate.ts';
import type { ArbiterPolicy } from './policy.ts';
import { nextAllowedTime } from './quiet.ts';
import { msg, person, policy, sent, utc } from './test-helpers.ts';

interface Case {
  name: string;
  policy: ArbiterPolicy;
  person: PersonState;
  pending: MessageIntent[];
  now: number;
  /** per pending message, in `pending` order; `reason` entries are substrings the reason must contain */
  expect: Expected[];
}

interface Expected {
  id?: string;
  action?: Decision['action'];
  channel?: string;
  until?: number;
  code?: string;
  reroutedFrom?: string;
  reason?: string[];
}

const SMS_QUIET = { channel: 'sms' as const, start: '21:00', end: '08:00' };
const DAILY2 = { scope: 'all' as const, period: 'day' as const, max: 2 };

const CASES: Case[] = [
  // ---- acceptance ---------------------------------------------------------------------------------------------
  {
    name: 'acceptance 1: over the daily cap → deferred to the next LOCAL day (Los Angeles; 07:30Z is still the previous local day)',
    policy: policy({ caps: [DAILY2] }),
    // 17:00Z and 02:00Z (next UTC day) are both 3 March in Los Angeles; counting UTC days would see only one today.
    person: person({ timeZone: 'America/Los_Angeles', recent: sent('email', '2026-03-03T17:00', '2026-03-04T02:00') }),
    pending: [msg({ id: 'a', channel: 'email' })],
    now: utc('2026-03-04T07:30'),
    expect: [
      {
        id: 'a',
        action: 'defer',
        channel: 'email',
        until: utc('2026-03-04T08:00'),
        reason: ['deferred: 2 of 2 marketing messages already sent on 2026-03-03 (America/Los_Angeles); next local day starts 2026-03-04T00:00-08:00'],
      },
    ],
  },
  {
    name: 'acceptance 2: SMS due at 23:00 local with SMS quiet hours 21:00–08:00 → held until 08:00 in their zone',
    policy: policy({ quietHours: [SMS_QUIET] }),
    person: person({ timeZone: 'America/New_York' }),
    pending: [msg({ id: 's', channel: 'sms' })],
    now: utc('2026-03-04T04:00'), // 23:00 EST on 3 March
    expect: [{ id: 's', action: 'defer', channel: 'sms', until: utc('2026-03-04T13:00'), reason: ['quiet hours 21:00–08:00 for sms', 'it is 23:00 in America/New_York', 'allowed from 2026-03-04T08:00-05:00'] }],
  },
  {
    name: "acceptance 3a: 'best' falls back from push (subscription expired: unreachable) to SMS",
    policy: policy(),
    person: person({ reachable: { push: false, sms: true, email: true } }),
    pending: [msg({ id: 'b', channel: 'best' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'b', action: 'send', channel: 'sms', reroutedFrom: 'push', reason: ['rerouted from push to sms', 'push is not reachable'] }],
  },
  {
    name: "acceptance 3b: 'best' falls back from push (already tried: excluded) to SMS",
    policy: policy(),
    person: person(),
    pending: [msg({ id: 'b', channel: 'best', exclude: ['push'] })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'b', action: 'send', channel: 'sms', reroutedFrom: 'push', reason: ['rerouted from push to sms', 'push was already tried'] }],
  },
  // ---- channel resolution -------------------------------------------------------------------------------------
  {
    name: "'best' uses the preferred channel when it is eligible",
    policy: policy(),
    person: person({ preferredChannel: 'email' }),
    pending: [msg({ id: 'b', channel: 'best' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'b', action: 'send', channel: 'email', reroutedFrom: undefined, reason: ['preferred channel'] }],
  },
  {
    name: "'best' skips a preferred channel without SMS opt-in and a suppressed one, down to email (soft opt-in)",
    policy: policy(),
    person: person({ preferredChannel: 'sms', consents: { sms: 'never_asked', email: 'never_asked' }, suppressed: { push: 'complained' } }),
    pending: [msg({ id: 'b', channel: 'best' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'b', action: 'send', channel: 'email', reroutedFrom: 'sms', reason: ['rerouted from the preferred channel sms to email', 'needs an explicit opt-in', 'push is suppressed (complained)'] }],
  },
  {
    name: "'best' with nothing eligible → no_channel listing why",
    policy: policy(),
    person: person({ reachable: { email: true }, consents: { email: 'unsubscribed' } }),
    pending: [msg({ id: 'b', channel: 'best' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'b', action: 'skip', code: 'no_channel', reason: ['push is not reachable', 'sms is not reachable', 'unsubscribed from "promo" on email'] }],
  },
  {
    name: 'a named channel: unreachable, suppressed, unsubscribed, no consent, excluded',
    policy: policy(),
    person: person({ reachable: { email: true, sms: true, push: false, webhook: true, onsite: true }, suppressed: { email: 'bounced' }, consents: { 'webhook:promo': 'unsubscribed', sms: 'never_asked' } }),
    pending: [msg({ id: '1', channel: 'push' }), msg({ id: '2', channel: 'email' }), msg({ id: '3', channel: 'webhook' }), msg({ id: '4', channel: 'sms' }), msg({ id: '5', channel: 'onsite', exclude: ['onsite'] })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: '1', action: 'skip', code: 'unreachable' },
      { id: '2', action: 'skip', code: 'suppressed', reason: ['bounced'] },
      { id: '3', action: 'skip', code: 'unsubscribed' },
      { id: '4', action: 'skip', code: 'no_consent', reason: ['explicit opt-in'] },
      { id: '5', action: 'skip', code: 'no_channel', reason: ['already tried'] },
    ],
  },
  {
    name: 'consent defaults: email/push/onsite/webhook marketing go on never_asked, SMS needs subscribed; policy may require opt-in for email',
    policy: policy({ consentRequired: { email: 'subscribed', sms: 'subscribed', push: 'not_unsubscribed', onsite: 'not_unsubscribed', webhook: 'not_unsubscribed' } }),
    person: person({ consents: { email: 'never_asked', push: 'never_asked', sms: 'subscribed' } }),
    pending: [msg({ id: 'e', channel: 'email' }), msg({ id: 'p', channel: 'push' }), msg({ id: 's', channel: 'sms' })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 'e', action: 'skip', code: 'no_consent' },
      { id: 'p', action: 'send', channel: 'push' },
      { id: 's', action: 'send', channel: 'sms' },
    ],
  },
  {
    name: 'support conversation open: marketing skipped, transactional sent',
    policy: policy(),
    person: person({ supportOpen: true }),
    pending: [msg({ id: 'm' }), msg({ id: 't', transactional: true, topic: 'order-receipt' })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 'm', action: 'skip', code: 'support_open' },
      { id: 't', action: 'send', channel: 'email' },
    ],
  },
  // ---- priority contention ------------------------------------------------------------------------------------
  {
    name: 'priority contention (defer): 1 slot left, 3 messages → highest sent, others deferred to the next local day',
    policy: policy({ caps: [DAILY2] }),
    person: person({ timeZone: 'Europe/Berlin', recent: sent('push', '2026-03-04T07:00') }),
    pending: [msg({ id: 'low', priority: 10 }), msg({ id: 'high', priority: 90 }), msg({ id: 'mid', priority: 50, channel: 'push' })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 'low', action: 'defer', until: utc('2026-03-04T23:00'), reason: ['2 of 2 marketing messages already sent on 2026-03-04 (Europe/Berlin), 1 of them just now in this batch; next local day starts 2026-03-05T00:00+01:00'] },
      { id: 'high', action: 'send', channel: 'email', reason: ['all/day 2 of 2'] },
      { id: 'mid', action: 'defer', channel: 'push', until: utc('2026-03-04T23:00') },
    ],
  },
  {
    name: 'priority contention (drop): others skipped over_cap; equal priority → earlier notBefore, then id',
    policy: policy({ caps: [DAILY2], overCap: 'drop' }),
    person: person({ recent: sent('push', '2026-03-04T07:00') }),
    pending: [msg({ id: 'b', priority: 50 }), msg({ id: 'a', priority: 50 }), msg({ id: 'c', priority: 50, notBefore: utc('2026-03-04T11:00') })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 'b', action: 'skip', code: 'over_cap', reason: ['2 of 2 marketing messages already sent on 2026-03-04 (UTC)'] },
      { id: 'a', action: 'skip', code: 'over_cap' },
      { id: 'c', action: 'send' },
    ],
  },
  {
    name: 'a channel cap only counts its channel; transactional sends never count',
    policy: policy({ caps: [{ scope: 'sms', period: 'day', max: 1 }, { scope: 'all', period: 'day', max: 5 }] }),
    person: person({ recent: [...sent('sms', '2026-03-04T08:00'), { at: utc('2026-03-04T09:00'), channel: 'email', marketing: false }] }),
    pending: [msg({ id: 's', channel: 'sms', priority: 90 }), msg({ id: 'e', channel: 'email' }), msg({ id: 't', channel: 'sms', transactional: true, topic: 'otp' })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 's', action: 'defer', channel: 'sms', until: utc('2026-03-05T00:00'), reason: ['1 of 1 marketing sms messages already sent'] },
      { id: 'e', action: 'send', reason: ['all/day 2 of 5'] },
      { id: 't', action: 'send', channel: 'sms' },
    ],
  },
  {
    name: 'a cap of 0 skips (deferring would never end)',
    policy: policy({ caps: [{ scope: 'push', period: 'week', max: 0 }] }),
    person: person(),
    pending: [msg({ id: 'p', channel: 'push' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'p', action: 'skip', code: 'over_cap', reason: ['allows 0 marketing push messages per week'] }],
  },
  // ---- weekly cap ---------------------------------------------------------------------------------------------
  {
    name: 'weekly cap (weeks start Monday, local): deferred to next Monday 00:00 local',
    policy: policy({ caps: [{ scope: 'all', period: 'week', max: 3 }] }),
    // Sunday 1 March 23:30 Berlin = 22:30Z is the previous week; the three after it are this week (from Mon 2 March).
    person: person({ timeZone: 'Europe/Berlin', recent: sent('email', '2026-03-01T22:30', '2026-03-01T23:30', '2026-03-02T10:00', '2026-03-03T10:00') }),
    pending: [msg({ id: 'w' })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'w', action: 'defer', until: utc('2026-03-08T23:00'), reason: ['3 of 3 marketing messages already sent in the week of 2026-03-02 (Europe/Berlin); next local week starts 2026-03-09T00:00+01:00'] }],
  },
  {
    name: 'a cap deferral landing in quiet hours goes on to the end of quiet hours',
    policy: policy({ caps: [DAILY2], quietHours: [SMS_QUIET] }),
    person: person({ timeZone: 'Asia/Kolkata', recent: sent('sms', '2026-03-04T04:00', '2026-03-04T05:00') }),
    pending: [msg({ id: 's', channel: 'sms' })],
    now: utc('2026-03-04T06:00'), // 11:30 IST
    expect: [{ id: 's', action: 'defer', until: utc('2026-03-05T02:30'), reason: ['next local day starts 2026-03-05T00:00+05:30', '2026-03-05T00:00+05:30 is inside them', 'allowed from 2026-03-05T08:00+05:30'] }],
  },
  // ---- transactional ------------------------------------------------------------------------------------------
  {
    name: 'transactional bypasses caps, quiet hours and needs no opt-in',
    policy: policy({ caps: [{ scope: 'all', period: 'day', max: 0 }], quietHours: [SMS_QUIET] }),
    person: person({ timeZone: 'America/New_York', consents: { sms: 'never_asked' } }),
    pending: [msg({ id: 't', channel: 'sms', transactional: true, topic: 'pickup-ready' })],
    now: utc('2026-03-04T04:00'),
    expect: [{ id: 't', action: 'send', channel: 'sms', reason: ['transactional'] }],
  },
  {
    name: 'transactional held by quiet hours when the policy says so',
    policy: policy({ quietHours: [SMS_QUIET], quietHoursForTransactional: true }),
    person: person({ timeZone: 'America/New_York' }),
    pending: [msg({ id: 't', channel: 'sms', transactional: true, topic: 'pickup-ready' })],
    now: utc('2026-03-04T04:00'),
    expect: [{ id: 't', action: 'defer', until: utc('2026-03-04T13:00') }],
  },
  {
    name: "transactional: only an unsubscribe from that exact topic blocks (not the 'all' fallback)",
    policy: policy(),
    person: person({ consents: { email: 'unsubscribed' }, exact: { 'email:order-receipt': 'never_asked', 'email:password-reset': 'unsubscribed' } }),
    pending: [msg({ id: 'r', transactional: true, topic: 'order-receipt' }), msg({ id: 'p', transactional: true, topic: 'password-reset' }), msg({ id: 'm' })],
    now: utc('2026-03-04T12:00'),
    expect: [
      { id: 'r', action: 'send' },
      { id: 'p', action: 'skip', code: 'unsubscribed' },
      { id: 'm', action: 'skip', code: 'unsubscribed' },
    ],
  },
  // ---- quiet hours ---------------------------------------------------------------------------------------------
  {
    name: "country-specific SMS hours: France 20:00–08:00 and all of Sunday; not applied to a US person",
    policy: policy({
      quietHours: [
        { channel: 'sms', start: '20:00', end: '08:00', countries: ['FR'] },
        { channel: 'sms', start: '00:00', end: '24:00', countries: ['FR'], days: [0] },
      ],
    }),
    person: person({ timeZone: 'Europe/Paris', country: 'fr' }),
    pending: [msg({ id: 'fr', channel: 'sms' })],
    now: utc('2026-03-07T20:30'), // Saturday 21:30 in Paris
    expect: [{ id: 'fr', action: 'defer', until: utc('2026-03-09T07:00'), reason: ['quiet hours 20:00–08:00 for sms in FR', 'allowed from 2026-03-09T08:00+01:00'] }],
  },
  {
    name: 'country-specific rule does not apply elsewhere (nor to a person without a country)',
    policy: policy({ quietHours: [{ channel: 'sms', start: '20:00', end: '08:00', countries: ['FR'] }] }),
    person: person({ timeZone: 'Europe/Paris', country: 'US' }),
    pending: [msg({ id: 'us', channel: 'sms' })],
    now: utc('2026-03-07T20:30'),
    expect: [{ id: 'us', action: 'send', channel: 'sms' }],
  },
  {
    name: "'all'-channel and channel rules both apply: the deferral waits for the later end",
    policy: policy({ quietHours: [{ channel: 'all', start: '22:00', end: '07:00' }, { channel: 'push', start: '06:00', end: '09:30' }] }),
    person: person({ timeZone: 'Europe/Berlin' }),
    pending: [msg({ id: 'p', channel: 'push' }), msg({ id: 'e', channel: 'email' })],
    now: utc('2026-03-04T22:00'), // 23:00 Berlin
    expect: [
      { id: 'p', action: 'defer', until: utc('2026-03-05T08:30') },
      { id: 'e', action: 'defer', until: utc('2026-03-05T06:00') },
    ],
  },
  {
    name: 'days: a Friday 21:00–08:00 window covers Saturday morning but not Thursday night',
    policy: policy({ quietHours: [{ channel: 'email', start: '21:00', end: '08:00', days: [5] }] }),
    person: person(),
    pending: [msg({ id: 'sat', notBefore: utc('2026-03-07T07:00') }), msg({ id: 'thu' })],
    now: utc('2026-03-05T23:00'), // Thursday 23:00
    expect: [
      { id: 'sat', action: 'defer', until: utc('2026-03-07T08:00'), reason: ['scheduled for 2026-03-07T07:00+00:00', 'inside them'] },
      { id: 'thu', action: 'send' },
    ],
  },
  {
    name: 'notBefore in the future: deferred to notBefore',
    policy: policy({ quietHours: [SMS_QUIET] }),
    person: person(),
    pending: [msg({ id: 'n', channel: 'sms', notBefore: utc('2026-03-04T15:00') })],
    now: utc('2026-03-04T12:00'),
    expect: [{ id: 'n', action: 'defer', until: utc('2026-03-04T15:00'), reason: ['scheduled for 2026-03-04T15:00+00:00'] }],
  },
  // ---- DST edges -----------------------------------------------------------------------------------------------
  {
    name: 'DST London spring-forward: 23:00 GMT → 08:00 BST (07:00Z)',
    policy: policy({ quietHours: [SMS_QUIET] }),
    person: person({ timeZone: 'Europe/London' }),
    pending: [msg({ channel: 'sms', id: 'l' })],
    now: utc('2026-03-28T23:00'),
    expect: [{ id: 'l', action: 'defer', until: utc('2026-03-29T07:00'), reason: ['allowed from 2026-03-29T08:00+01:00'] }],
  },
  {
    name: 'DST New York fall-back: 23:00 EDT → 08:00 EST (13:00Z)',
    policy: policy({ quietHours: [SMS_QUIET] }),
    person: person({ timeZone: 'America/New_York' }),
    pending: [msg({ channel: 'sms', id: 'n' })],
    now: utc('2026-11-01T03:00'),
    expect: [{ id: 'n', action: 'defer', until: utc('2026-11-01T13:00'), reason: ['allowed from 2026-11-01T08:00-05:00'] }],
  },
  {
    name: 'DST New York spring-forward: a window ending at 02:30 (skipped) ends at the jump, 03:00 EDT',
    policy: policy({ quietHours: [{ channel: 'all', start: '00:00', end: '02:30' }] }),
    person: person({ timeZone: 'America/New_York' }),
    pending: [msg({ id: 'j' })],
    now: utc('2026-03-08T06:30'), // 01:30 EST
    expect: [{ id: 'j', action: 'defer', until: utc('2026-03-08T07:00'), reason: ['allowed from 2026-03-08T03:00-04:00'] }],
  },
  {
    name: "DST Lord Howe's 30-minute spring-forward: a window ending at 02:15 ends at the jump (02:30 +11:00)",
    policy: policy({ quietHours: [{ channel: 'all', start: '00:00', end: '02:15' }] }),
    person: person({ timeZone: 'Australia/Lord_Howe' }),
    pending: [msg({ id: 'h' })],
    now: utc('2026-10-03T14:30'), // 01:00 +10:30
    expect: [{ id: 'h', action: 'defer', until: utc('2026-10-03T15:30'), reason: ['allowed from 2026-10-04T02:30+11:00'] }],
  },
  {
    name: 'DST London: over the daily cap on the spring-forward eve → next day starts 00:00 GMT',
    policy: policy({ caps: [{ scope: 'all', period: 'day', max: 1 }] }),
    person: person({ timeZone: 'Europe/London', recent: sent('email', '2026-03-28T09:00') }),
    pending: [msg({ id: 'c' })],
    now: utc('2026-03-28T20:00'),
    expect: [{ id: 'c', action: 'defer', until: utc('2026-03-29T00:00') }],
  },
  {
    name: 'Kolkata +05:30: 22:00 IST → 08:00 IST (02:30Z); invalid person zone falls back to the workspace zone',
    policy: policy({ quietHours: [SMS_QUIET], defaultTimeZone: 'Asia/Kolkata' }),
    person: person({ timeZone: 'Not/AZone' }),
    pending: [msg({ id: 'k', channel: 'sms' })],
    now: utc('2026-03-04T16:30'),
    expect: [{ id: 'k', action: 'defer', until: utc('2026-03-05T02:30'), reason: ['Asia/Kolkata, the workspace zone'] }],
  },
];

describe('arbitrate: scenarios', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const got = arbitrate(c.pending, c.person, c.policy, c.now);
    expect(got).toHaveLength(c.expect.length);
    c.expect.forEach((e, i) => {
      const d = got[i]!;
      const { reason, ...fields } = e;
      expect(d, JSON.stringify(d)).toMatchObject(Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)));
      if ('reroutedFrom' in e && e.reroutedFrom === undefined) expect((d as { reroutedFrom?: string }).reroutedFrom).toBeUndefined();
      for (const r of reason ?? []) expect(d.reason).toContain(r);
      expect(d.reason.length).toBeGreaterThan(0);
    });
  });

  it('does not mutate its inputs and is deterministic', () => {
    const p = person({ recent: sent('email', '2026-03-04T07:00') });
    const pending = [msg({ id: 'x', priority: 1 }), msg({ id: 'y', priority: 2 })];
    const before = JSON.stringify({ pending, recent: p.recent });
    const a = arbitrate(pending, p, policy({ caps: [DAILY2] }), utc('2026-03-04T12:00'));
    const b = arbitrate(pending, p, policy({ caps: [DAILY2] }), utc('2026-03-04T12:00'));
    expect(JSON.stringify({ pending, recent: p.recent })).toBe(before);
    expect(a).toEqual(b);
  });
});

describe('nextAllowedTime', () => {
  const pol = policy({ quietHours: [SMS_QUIET, { channel: 'sms', start: '20:00', end: '09:00', countries: ['FR'] }] });
  it('returns the time itself when allowed', () => {
    expect(nextAllowedTime(utc('2026-03-04T12:00'), 'sms', { timeZone: 'UTC' }, pol)).toBe(utc('2026-03-04T12:00'));
    expect(nextAllowedTime(utc('2026-03-04T23:00'), 'email', { timeZone: 'UTC' }, pol)).toBe(utc('2026-03-04T23:00'));
  });
  it('applies the country rule and the zone', () => {
    expect(nextAllowedTime(utc('2026-03-04T23:00'), 'sms', { timeZone: 'UTC' }, pol)).toBe(utc('2026-03-05T08:00'));
    expect(nextAllowedTime(utc('2026-03-04T23:00'), 'sms', { timeZone: 'UTC', country: 'FR' }, pol)).toBe(utc('2026-03-05T09:00'));
    expect(nextAllowedTime(utc('2026-03-04T23:00'), 'sms', { timeZone: 'Asia/Tokyo' }, pol)).toBe(utc('2026-03-04T23:00')); // 08:00 JST
    expect(nextAllowedTime(utc('2026-03-04T22:59'), 'sms', { timeZone: 'Asia/Tokyo' }, pol)).toBe(utc('2026-03-04T23:00'));
  });
  it('a fall-back night repeats the quiet hour: 01:10 EST (second time) waits until 01:30 EST', () => {
    const p = policy({ quietHours: [{ channel: 'all', start: '21:00', end: '01:30' }] });
    expect(nextAllowedTime(utc('2026-11-01T05:10'), 'email', { timeZone: 'America/New_York' }, p)).toBe(utc('2026-11-01T05:30')); // 01:10 EDT → 01:30 EDT
    expect(nextAllowedTime(utc('2026-11-01T06:10'), 'email', { timeZone: 'America/New_York' }, p)).toBe(utc('2026-11-01T06:30')); // 01:10 EST → 01:30 EST
  });
});
