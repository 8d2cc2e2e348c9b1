import { describe, expect, it } from 'vitest';
import { CLICK_WINDOW_MS, DAY_MS, OPEN_WINDOW_MS, type Order, type Touch, attribute, channelSpread, dayKey, days, totalsBy, touchOf } from './attribution.ts';

const T = Date.UTC(2026, 2, 10, 12);
const H = 3600_000;
const order = (profileId: string, at = T, revenueMinor = 1000, channel = 'web'): Order => ({ profileId, at, revenueMinor, channel });
const touch = (profileId: string, kind: 'click' | 'open', channel: string, at: number): Touch => ({ profileId, kind, channel, at });

describe('attribute (last touch: click in 5 days, else open in 1 day)', () => {
  it.each([
    ['no touches', [], null],
    ['a click an hour before', [touch('a', 'click', 'email', T - H)], 'email'],
    ['a click just inside the window', [touch('a', 'click', 'sms', T - CLICK_WINDOW_MS)], 'sms'],
    ['a click just outside the window', [touch('a', 'click', 'sms', T - CLICK_WINDOW_MS - 1)], null],
    ['a touch after the order', [touch('a', 'click', 'email', T + 1)], null],
    ['a touch at the same instant', [touch('a', 'click', 'email', T)], null],
    ['the latest click wins', [touch('a', 'click', 'email', T - 3 * H), touch('a', 'click', 'sms', T - H)], 'sms'],
    ['a click beats a later open', [touch('a', 'click', 'sms', T - 3 * H), touch('a', 'open', 'email', T - H)], 'sms'],
    ['an open in a day, no click', [touch('a', 'open', 'push', T - 2 * H)], 'push'],
    ['an open older than a day', [touch('a', 'open', 'email', T - OPEN_WINDOW_MS - 1)], null],
    ['a stale click, then a fresh open', [touch('a', 'click', 'sms', T - 6 * DAY_MS), touch('a', 'open', 'email', T - H)], 'email'],
    ["someone else's click", [touch('b', 'click', 'email', T - H)], null],
  ] as [string, Touch[], string | null][])('%s', (_n, touches, want) => {
    expect(attribute([order('a')], touches)).toEqual([want]);
  });

  it('credits each order by its own instant', () => {
    const touches = [touch('a', 'click', 'email', T - H)];
    expect(attribute([order('a', T - 2 * H), order('a', T), order('a', T + CLICK_WINDOW_MS)], touches)).toEqual([null, 'email', null]);
  });
});

describe('touchOf', () => {
  it.each([
    ['Message Clicked', 'sms', {}, { kind: 'click', channel: 'sms' }],
    ['Message Opened', 'email', {}, { kind: 'open', channel: 'email' }],
    ['Message Opened', 'email', { human: false }, null],
    ['Message Clicked', 'email', { human: true }, { kind: 'click', channel: 'email' }],
    ['Email Link Clicked', 'server', {}, { kind: 'click', channel: 'email' }],
    ['Email Opened', 'web', {}, { kind: 'open', channel: 'email' }],
    ['Product Viewed', 'web', {}, null],
    ['Message Sent', 'email', {}, null],
  ] as [string, string, Record<string, unknown>, { kind: string; channel: string } | null][])('%s on %s %j', (event, channel, props, want) => {
    const t = touchOf('p', event, channel, T, props);
    expect(t && { kind: t.kind, channel: t.channel }).toEqual(want);
  });
});

describe('channelSpread', () => {
  it('counts people by their channels, ignores server and import, and compares order values', () => {
    const act = [
      { profileId: 'a', channel: 'web' },
      { profileId: 'a', channel: 'email' },
      { profileId: 'b', channel: 'store' },
      { profileId: 'b', channel: 'server' },
      { profileId: 'c', channel: 'import' },
      { profileId: 'd', channel: 'web' },
      { profileId: 'd', channel: 'app' },
      { profileId: 'd', channel: 'store' },
    ];
    const s = channelSpread(act, [order('a', T, 9000), order('d', T, 3000), order('b', T, 2000), order('b', T, 1000)]);
    expect(s.active).toBe(4);
    expect(s.multiChannel).toBe(2);
    expect(s.multiChannelShare).toBe(0.5);
    expect(s.byChannelCount).toEqual({ '1': 2, '2': 1, '3+': 1 });
    expect(s.averageOrderMinor).toEqual({ multiChannel: 6000, singleChannel: 1500 });
    expect(s.buyers).toEqual({ multiChannel: 2, singleChannel: 2 });
  });
  it('is empty without activity', () => {
    expect(channelSpread([], [])).toMatchObject({ active: 0, multiChannel: 0, multiChannelShare: 0, averageOrderMinor: { multiChannel: null, singleChannel: null } });
  });
});

describe('totalsBy and days', () => {
  it('sums by key, largest revenue first', () => {
    expect(totalsBy([{ key: 'web', revenueMinor: 100 }, { key: 'store', revenueMinor: 500 }, { key: 'web', revenueMinor: 50 }])).toEqual([
      { key: 'store', orders: 1, revenueMinor: 500 },
      { key: 'web', orders: 2, revenueMinor: 150 },
    ]);
  });
  it('lists the local days of a period', () => {
    const from = Date.UTC(2026, 2, 1, 0);
    expect(days(from, from + 3 * DAY_MS, 0)).toEqual(['2026-03-01', '2026-03-02', '2026-03-03']);
    // UTC−5: 1 March 00:00 UTC is still 28 February there.
    expect(days(from, from + DAY_MS, -300)).toEqual(['2026-02-28', '2026-03-01']);
    expect(dayKey(Date.UTC(2026, 2, 1, 23, 30), 60)).toBe('2026-03-02');
    expect(days(from, from + 1000 * DAY_MS, 0).length).toBe(400);
  });
});
