// Property: for random policies, people and batches, no 'send' breaks a cap, quiet hours or eligibility, and every
// deferral's `until` is after now, after notBefore, and a time at which quiet hours allow sending — all checked against
// an independent reading of the local clock (a fresh Intl formatter) and a direct reading of the rules.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHANNELS, type ChannelName } from '../types.ts';
import { arbitrate, type ConsentState, type MessageIntent, type PersonState } from './arbitrate.ts';
import { type ArbiterPolicy, type QuietHours, validatePolicy } from './policy.ts';
import { utc } from './test-helpers.ts';

const ZONES = ['Europe/London', 'America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Europe/Paris', 'Pacific/Chatham', 'UTC'];
const COUNTRIES = ['US', 'FR', 'GB'];
const DAY = 86_400_000;
const MIN = 60_000;

const fmts = new Map<string, Intl.DateTimeFormat>();
function wall(ts: number, zone: string): { day: number; weekday: number; minute: number } {
  let f = fmts.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric' });
    fmts.set(zone, f);
  }
  const p = Object.fromEntries(f.formatToParts(ts).map((x) => [x.type, x.value]));
  const day = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day)) / DAY;
  return { day, weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday!), minute: Number(p.hour) * 60 + Number(p.minute) };
}
const mins = (s: string) => (s === '24:00' ? 1440 : Number(s.slice(0, 2)) * 60 + Number(s.slice(3)));
const week = (day: number) => Math.floor((day + 3) / 7);

function refForbids(q: QuietHours, ts: number, zone: string): boolean {
  const w = wall(ts, zone);
  const s = mins(q.start);
  const e = mins(q.end);
  const on = (wd: number) => !q.days || q.days.includes(wd);
  if (s < e) return w.minute >= s && w.minute < e && on(w.weekday);
  return (w.minute >= s && on(w.weekday)) || (w.minute < e && on((w.weekday + 6) % 7));
}
function refQuiet(policy: ArbiterPolicy, channel: ChannelName, country: string | null, ts: number, zone: string): boolean {
  return policy.quietHours.some((q) => (q.channel === 'all' || q.channel === channel) && (!q.countries || (country !== null && q.countries.includes(country))) && refForbids(q, ts, zone));
}

const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const channelArb = fc.constantFrom(...CHANNELS);
const quietArb = fc
  .record(
    {
      channel: fc.constantFrom<'all' | ChannelName>('all', ...CHANNELS),
      start: fc.integer({ min: 0, max: 1439 }),
      len: fc.integer({ min: 1, max: 1200 }),
      countries: fc.option(fc.subarray(COUNTRIES, { minLength: 1 }), { nil: undefined }),
      days: fc.option(fc.subarray([0, 1, 2, 3, 4, 5, 6], { minLength: 1 }), { nil: undefined }),
    },
    { requiredKeys: ['channel', 'start', 'len'] },
  )
  .map(({ channel, start, len, countries, days }) => {
    const endM = (start + len) % 1440;
    const q: QuietHours = { channel, start: hhmm(start), end: endM === 0 ? '24:00' : hhmm(endM) };
    if (countries) q.countries = countries;
    if (days) q.days = days;
    return q;
  });
const policyArb = fc
  .record({
    caps: fc.uniqueArray(fc.record({ scope: fc.constantFrom<'all' | ChannelName>('all', ...CHANNELS), period: fc.constantFrom<'day' | 'week'>('day', 'week'), max: fc.integer({ min: 0, max: 4 }) }), {
      maxLength: 3,
      selector: (c) => `${c.scope}/${c.period}`,
    }),
    quietHours: fc.array(quietArb, { maxLength: 3 }),
    overCap: fc.constantFrom<'defer' | 'drop'>('defer', 'drop'),
    fallbackOrder: fc.shuffledSubarray([...CHANNELS], { minLength: 1 }),
    defaultTimeZone: fc.constantFrom(...ZONES),
    quietHoursForTransactional: fc.boolean(),
    consentRequired: fc.record({ email: fc.constantFrom('subscribed', 'not_unsubscribed'), sms: fc.constantFrom('subscribed', 'not_unsubscribed') }),
  })
  .map((p) => validatePolicy(p))
  .filter((r) => r.ok)
  .map((r) => (r as { ok: true; value: ArbiterPolicy }).value);

// Instants near DST changes in the zones above, and anywhere in 2026.
const BASES = ['2026-03-08T07:00', '2026-03-29T01:00', '2026-10-25T01:00', '2026-11-01T06:00', '2026-04-04T15:00', '2026-10-03T15:30', '2026-09-27T14:00'].map(utc);
const nowArb = fc.oneof(
  fc.tuple(fc.constantFrom(...BASES), fc.integer({ min: -36 * 60, max: 36 * 60 })).map(([b, m]) => b + m * MIN),
  fc.integer({ min: utc('2026-01-01T00:00'), max: utc('2027-01-01T00:00') }),
);
const consentArb = fc.constantFrom<ConsentState>('subscribed', 'unsubscribed', 'never_asked');

const caseArb = fc.tuple(policyArb, nowArb).chain(([policy, now]) =>
  fc.record({
    policy: fc.constant(policy),
    now: fc.constant(now),
    person: fc.record({
      timeZone: fc.constantFrom<string | null>(...ZONES, 'Bogus/Zone', null),
      country: fc.constantFrom<string | null>(null, ...COUNTRIES),
      reachable: fc.record(Object.fromEntries(CHANNELS.map((c) => [c, fc.boolean()])) as Record<ChannelName, fc.Arbitrary<boolean>>),
      consents: fc.record(Object.fromEntries(CHANNELS.map((c) => [c, consentArb])) as Record<ChannelName, fc.Arbitrary<ConsentState>>),
      suppressed: fc.subarray([...CHANNELS]),
      supportOpen: fc.boolean(),
      preferredChannel: fc.option(channelArb, { nil: null }),
      recent: fc.array(fc.record({ at: fc.integer({ min: now - 10 * DAY, max: now }), channel: channelArb, marketing: fc.boolean() }), { maxLength: 10 }),
    }),
    pending: fc.uniqueArray(
      fc.record(
        {
          id: fc.string({ minLength: 1, maxLength: 4 }),
          channel: fc.constantFrom<ChannelName | 'best'>('best', ...CHANNELS),
          topic: fc.constantFrom('promo', 'news', 'receipt'),
          transactional: fc.boolean(),
          priority: fc.integer({ min: 0, max: 100 }),
          notBefore: fc.option(fc.integer({ min: now - DAY, max: now + 2 * DAY }), { nil: undefined }),
          exclude: fc.option(fc.subarray([...CHANNELS]), { nil: undefined }),
        },
        { requiredKeys: ['id', 'channel', 'topic', 'transactional', 'priority'] },
      ),
      { minLength: 1, maxLength: 6, selector: (m) => m.id },
    ),
  }),
);

describe('arbitrate: properties', () => {
  it('no send breaks a cap, quiet hours or eligibility; every deferral lands at an allowed time after now', () => {
    fc.assert(
      fc.property(caseArb, ({ policy, now, person: spec, pending }) => {
        const person: PersonState = {
          profileId: 'p',
          timeZone: spec.timeZone,
          country: spec.country,
          reachable: spec.reachable,
          consent: (ch) => spec.consents[ch],
          suppressed: Object.fromEntries(spec.suppressed.map((c) => [c, 'bounced'])),
          supportOpen: spec.supportOpen,
          preferredChannel: spec.preferredChannel,
          recent: spec.recent,
        };
        const zone = spec.timeZone && ZONES.includes(spec.timeZone) ? spec.timeZone : policy.defaultTimeZone;
        const decisions = arbitrate(pending as MessageIntent[], person, policy, now);
        expect(decisions.map((d) => d.id)).toEqual(pending.map((m) => m.id));
        const nowWall = wall(now, zone);
        const sentMarketing: ChannelName[] = [];
        decisions.forEach((d, i) => {
          const m = pending[i]!;
          const quietApplies = !m.transactional || policy.quietHoursForTransactional;
          if (d.action === 'skip') {
            if (m.transactional) expect(['over_cap', 'support_open']).not.toContain(d.code);
            return;
          }
          // Eligibility of the chosen channel.
          const ch = d.channel;
          if (m.channel !== 'best') expect(ch).toBe(m.channel);
          expect(spec.reachable[ch]).toBe(true);
          expect(spec.suppressed).not.toContain(ch);
          expect(m.exclude ?? []).not.toContain(ch);
          if (!m.transactional) {
            expect(spec.supportOpen).toBe(false);
            expect(spec.consents[ch]).not.toBe('unsubscribed');
            if (policy.consentRequired[ch] === 'subscribed') expect(spec.consents[ch]).toBe('subscribed');
          }
          if (d.action === 'send') {
            expect(m.notBefore === undefined || m.notBefore <= now).toBe(true);
            if (quietApplies) expect(refQuiet(policy, ch, spec.country, now, zone), d.reason).toBe(false);
            if (!m.transactional) sentMarketing.push(ch);
          } else {
            expect(d.until).toBeGreaterThan(now);
            if (m.notBefore !== undefined) expect(d.until).toBeGreaterThanOrEqual(m.notBefore);
            if (quietApplies) expect(refQuiet(policy, ch, spec.country, d.until, zone), d.reason).toBe(false);
            if (!m.transactional && policy.overCap === 'defer') {
              // At `until` the sends already made leave room under every cap counting the channel.
              const u = wall(d.until, zone);
              for (const cap of policy.caps) {
                if (cap.scope !== 'all' && cap.scope !== ch) continue;
                const n = spec.recent.filter((r) => r.marketing && (cap.scope === 'all' || r.channel === cap.scope) && (cap.period === 'day' ? wall(r.at, zone).day === u.day : week(wall(r.at, zone).day) === week(u.day))).length;
                expect(n, d.reason).toBeLessThan(cap.max);
              }
            }
          }
        });
        // Caps at now: recent + this batch's marketing sends within the local day/week of now.
        for (const cap of policy.caps) {
          const inBatch = sentMarketing.filter((c) => cap.scope === 'all' || c === cap.scope).length;
          if (inBatch === 0) continue;
          const n = spec.recent.filter((r) => r.marketing && (cap.scope === 'all' || r.channel === cap.scope) && (cap.period === 'day' ? wall(r.at, zone).day === nowWall.day : week(wall(r.at, zone).day) === week(nowWall.day))).length;
          expect(n + inBatch, JSON.stringify({ cap, n, inBatch })).toBeLessThanOrEqual(cap.max);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
