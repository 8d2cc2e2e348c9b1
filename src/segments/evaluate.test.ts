// The pure evaluator: every condition kind, its value at `now`, and the exact next time it can change.
import { describe, expect, it } from 'vitest';
import { type Condition, checkDefinition } from './definition.ts';
import { compareDate, computeCustom, evaluate, explain, nextAnniversaryStart } from './evaluate.ts';
import { DAY, type EventFact, type ProfileFacts, computeProperties } from './facts.ts';
import { quintileScores, rfmStage, scoreRfm } from './rfm.ts';

const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);

function ev(event: string, ts: number, properties: Record<string, unknown> = {}, extra: Partial<EventFact> = {}): EventFact {
  return { event, type: 'track', ts, channel: 'web', internal: false, properties, revenueMinor: null, currency: null, ...extra };
}

function facts(p: Partial<ProfileFacts> = {}): ProfileFacts {
  const f: ProfileFacts = { profileId: 'p1', traits: {}, events: [], consent: {}, addresses: new Set(), location: {}, segments: new Set(), lists: new Set(), ...p };
  f.events.sort((a, b) => a.ts - b.ts);
  return f;
}

const order = (ts: number, total: number, category = 'Candles') =>
  ev('Order Completed', ts, { total, products: [{ category, price: total }] }, { revenueMinor: total * 100, currency: 'EUR' });

describe('evaluate', () => {
  const cases: { name: string; c: Condition; f: ProfileFacts; now?: number; value: boolean; next?: number | null }[] = [
    { name: 'trait eq is case-insensitive', c: { kind: 'trait', trait: 'plan', op: 'eq', value: 'GOLD' }, f: facts({ traits: { plan: 'gold' } }), value: true, next: null },
    { name: 'trait in', c: { kind: 'trait', trait: 'plan', op: 'in', value: ['a', 'b'] }, f: facts({ traits: { plan: 'c' } }), value: false },
    { name: 'trait gt numeric string', c: { kind: 'trait', trait: 'age', op: 'gt', value: 30 }, f: facts({ traits: { age: '41' } }), value: true },
    { name: 'trait wrong type never matches', c: { kind: 'trait', trait: 'age', op: 'gt', value: 30 }, f: facts({ traits: { age: { x: 1 } } }), value: false },
    { name: 'trait exists', c: { kind: 'trait', trait: 'address.city', op: 'exists' }, f: facts({ traits: { address: { city: 'Leeds' } } }), value: true },
    { name: 'trait not_exists', c: { kind: 'trait', trait: 'nope', op: 'not_exists' }, f: facts(), value: true },
    { name: 'trait starts_with', c: { kind: 'trait', trait: 'email', op: 'starts_with', value: 'ANN' }, f: facts({ traits: { email: 'ann@x.com' } }), value: true },
    { name: 'trait matches regex', c: { kind: 'trait', trait: 'email', op: 'matches', value: '@x\\.com$' }, f: facts({ traits: { email: 'ann@x.com' } }), value: true },
    {
      name: 'birthday anniversary within 7 days (enters today, leaves after the day)',
      c: { kind: 'trait', trait: 'birthday', op: 'anniversary_within', window: { amount: 7, unit: 'days' } },
      f: facts({ traits: { birthday: '1990-01-15' } }),
      value: true,
      next: Date.UTC(2026, 0, 16),
    },
    {
      name: 'birthday far away: enters exactly 7 days before',
      c: { kind: 'trait', trait: 'birthday', op: 'anniversary_within', window: { amount: 7, unit: 'days' } },
      f: facts({ traits: { birthday: '1990-03-01' } }),
      value: false,
      next: Date.UTC(2026, 2, 1) - 7 * DAY,
    },
    {
      name: 'performed within 30 days: leaves exactly 30 days after the purchase',
      c: { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 30, unit: 'days' } },
      f: facts({ events: [order(T0 - 5 * DAY, 10)] }),
      value: true,
      next: T0 - 5 * DAY + 30 * DAY,
    },
    {
      name: 'not performed within 30 days',
      c: { kind: 'event', event: 'Order Completed', op: 'not_performed', window: { amount: 30, unit: 'days' } },
      f: facts({ events: [order(T0 - 31 * DAY, 10)] }),
      value: true,
      next: null,
    },
    {
      name: 'count ≥ 3 in 90 days with a nested product filter',
      c: {
        kind: 'event',
        event: 'Order Completed',
        op: 'count',
        count: { op: 'gte', value: 3 },
        window: { amount: 90, unit: 'days' },
        filters: [
          { path: 'products[].category', op: 'eq', value: 'candles' },
          { path: 'total', op: 'gt', value: 50 },
        ],
      },
      f: facts({ events: [order(T0 - 80 * DAY, 60), order(T0 - 10 * DAY, 70), order(T0 - DAY, 55), order(T0 - DAY, 20), order(T0 - 2 * DAY, 80, 'Soap')] }),
      value: true,
      next: T0 - 80 * DAY + 90 * DAY,
    },
    {
      name: 'count = 0 ever',
      c: { kind: 'event', event: 'Product Viewed', op: 'count', count: { op: 'eq', value: 0 } },
      f: facts({ events: [order(T0 - DAY, 5)] }),
      value: true,
      next: null,
    },
    {
      name: 'a future-dated event enters when its time comes',
      c: { kind: 'event', event: 'Order Completed', op: 'performed' },
      f: facts({ events: [order(T0 + 3600_000, 5)] }),
      value: false,
      next: T0 + 3600_000,
    },
    {
      name: 'Page Viewed matches every page call',
      c: { kind: 'event', event: 'Page Viewed', op: 'performed' },
      f: facts({ events: [ev('Home', T0 - 1000, {}, { type: 'page' })] }),
      value: true,
    },
    {
      name: 'last performed not within 14 days (lapsed)',
      c: { kind: 'last_performed', event: 'Order Completed', op: 'not_within_last', window: { amount: 14, unit: 'days' } },
      f: facts({ events: [order(T0 - 20 * DAY, 5), order(T0 - 16 * DAY, 5)] }),
      value: true,
      next: null,
    },
    {
      name: 'first performed before a date',
      c: { kind: 'first_performed', event: 'Order Completed', op: 'before', value: '2025-01-01T00:00:00Z' },
      f: facts({ events: [order(Date.UTC(2024, 5, 1), 5), order(T0 - DAY, 5)] }),
      value: true,
    },
    { name: 'geo country by name or code', c: { kind: 'geo', country: ['Germany'] }, f: facts({ location: { country: 'DE' } }), value: true },
    { name: 'geo near a store (Berlin, 10 km)', c: { kind: 'geo', near: { lat: 52.52, lon: 13.405, km: 10 } }, f: facts({ location: { lat: 52.5, lon: 13.45 } }), value: true },
    { name: 'geo near: far away', c: { kind: 'geo', near: { lat: 52.52, lon: 13.405, km: 10 } }, f: facts({ location: { lat: 48.1, lon: 11.6 } }), value: false },
    { name: 'reachable by email: address, not unsubscribed', c: { kind: 'reachable', channel: 'email' }, f: facts({ addresses: new Set(['email']) }), value: true },
    {
      name: 'reachable by email for marketing: unsubscribed',
      c: { kind: 'reachable', channel: 'email', topic: 'marketing' },
      f: facts({ addresses: new Set(['email']), consent: { email: { marketing: 'unsubscribed' } } }),
      value: false,
    },
    {
      name: 'reachable for marketing: a newer channel-wide opt-out beats an older topic subscription',
      c: { kind: 'reachable', channel: 'email', topic: 'marketing' },
      f: facts({ addresses: new Set(['email']), consent: { email: { marketing: 'subscribed', all: 'unsubscribed' } }, consentAt: { email: { marketing: 1, all: 2 } } }),
      value: false,
    },
    {
      name: 'reachable for marketing: a newer topic subscription beats an older channel-wide opt-out',
      c: { kind: 'reachable', channel: 'email', topic: 'marketing' },
      f: facts({ addresses: new Set(['email']), consent: { email: { marketing: 'subscribed', all: 'unsubscribed' } }, consentAt: { email: { marketing: 2, all: 1 } } }),
      value: true,
    },
    { name: 'reachable requires an address', c: { kind: 'reachable', channel: 'sms' }, f: facts({ consent: { sms: { all: 'subscribed' } } }), value: false },
    {
      name: 'engagement: opened an email in 7 days',
      c: { kind: 'engagement', action: 'opened', channel: 'email', window: { amount: 7, unit: 'days' } },
      f: facts({ events: [ev('Message Opened', T0 - DAY, { channel: 'email' }, { internal: true, channel: 'email' })] }),
      value: true,
      next: T0 + 6 * DAY,
    },
    {
      name: 'engagement: a privacy-proxy open (human: false) is not an open',
      c: { kind: 'engagement', action: 'opened', channel: 'email', window: { amount: 7, unit: 'days' } },
      f: facts({ events: [ev('Message Opened', T0 - DAY, { channel: 'email', human: false, filtered: 'privacy_proxy' }, { internal: true, channel: 'email' })] }),
      value: false,
    },
    {
      name: 'engagement ignores client events with the same name',
      c: { kind: 'engagement', action: 'opened', channel: 'email' },
      f: facts({ events: [ev('Message Opened', T0 - DAY, { channel: 'email' })] }),
      value: false,
    },
    {
      name: 'computed: total spent > 100.00',
      c: { kind: 'computed', property: 'total_spent', op: 'gt', value: 10000 },
      f: facts({ events: [order(T0 - DAY, 60), order(T0 - 2 * DAY, 50)] }),
      value: true,
    },
    {
      name: 'computed: days since last order ≥ 3 flips at the next whole day',
      c: { kind: 'computed', property: 'days_since_last_order', op: 'gte', value: 3 },
      f: facts({ events: [order(T0 - 2.5 * DAY, 60)] }),
      value: false,
      next: T0 - 2.5 * DAY + 3 * DAY,
    },
    { name: 'segment reference', c: { kind: 'segment', segmentId: 's1' }, f: facts({ segments: new Set(['s1']) }), value: true },
    { name: 'list, negated', c: { kind: 'list', listId: 'l1', negate: true }, f: facts({ lists: new Set(['l1']) }), value: false },
    {
      name: 'and/or/not: next is the earliest child change',
      c: {
        kind: 'and',
        conditions: [
          { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 10, unit: 'days' } },
          { kind: 'not', condition: { kind: 'event', event: 'Product Viewed', op: 'performed', window: { amount: 1, unit: 'days' } } },
        ],
      },
      f: facts({ events: [order(T0 - 2 * DAY, 5), ev('Product Viewed', T0 - 3600_000)] }),
      value: false,
      next: T0 - 3600_000 + DAY,
    },
  ];
  for (const t of cases) {
    it(t.name, () => {
      expect(checkDefinition(t.c)).toBeNull();
      const r = evaluate(t.c, t.f, t.now ?? T0);
      expect(r.value).toBe(t.value);
      if (t.next !== undefined) expect(r.next).toBe(t.next);
    });
  }

  it('value is constant between now and next, and may change at next (windows)', () => {
    const c: Condition = { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 2 }, window: { amount: 7, unit: 'days' } };
    const f = facts({ events: [order(T0 - 6 * DAY, 1), order(T0 - 2 * DAY, 1), order(T0 + DAY, 1)] });
    let now = T0;
    const seen: [number, boolean][] = [];
    for (let i = 0; i < 10; i++) {
      const r = evaluate(c, f, now);
      seen.push([now, r.value]);
      if (r.next === null) break;
      expect(evaluate(c, f, r.next - 1).value).toBe(r.value);
      now = r.next;
    }
    // at +1d one purchase leaves the window as another enters: the timer fires, the answer stays true
    expect(seen.map((s) => s[1])).toEqual([true, true, false, false]);
  });

  it('explain shows every leaf with its value', () => {
    const c: Condition = { kind: 'or', conditions: [{ kind: 'trait', trait: 'vip', op: 'eq', value: true }, { kind: 'geo', country: ['FR'] }] };
    const x = explain(c, facts({ location: { country: 'FR' } }), T0);
    expect(x.value).toBe(true);
    expect(x.children!.map((k) => [k.kind, k.value])).toEqual([
      ['trait', false],
      ['geo', true],
    ]);
    expect(x.children![1]!.label).toContain('country in FR');
  });
});

describe('checkDefinition rejects bad definitions with the path', () => {
  const bad: [string, unknown, string][] = [
    ['unknown kind', { kind: 'magic' }, 'kind'],
    ['unknown field', { kind: 'trait', trait: 'x', op: 'eq', value: 1, extra: true }, 'extra'],
    ['window ≤ 0', { kind: 'event', event: 'E', op: 'performed', window: { amount: 0, unit: 'days' } }, 'window'],
    ['count without count', { kind: 'event', event: 'E', op: 'count' }, 'count'],
    ['gt with a string', { kind: 'trait', trait: 'x', op: 'gt', value: 'abc' }, 'value'],
    ['in without array', { kind: 'trait', trait: 'x', op: 'in', value: 'a' }, 'value'],
    ['runaway regex', { kind: 'trait', trait: 'x', op: 'matches', value: '(a+)+$' }, 'value'],
    ['deep nesting', nest(12), ''],
    ['unknown computed property', { kind: 'computed', property: 'iq', op: 'gt', value: 1 }, 'property'],
    ['nested error path', { kind: 'and', conditions: [{ kind: 'trait', trait: 'a', op: 'exists' }, { kind: 'event', event: 'E', op: 'performed', window: { amount: -1, unit: 'days' } }] }, 'conditions.1'],
  ];
  for (const [name, def, pathPart] of bad) {
    it(name, () => {
      const e = checkDefinition(def);
      expect(e).not.toBeNull();
      expect(e!.path).toContain(pathPart);
    });
  }
  function nest(n: number): unknown {
    let c: unknown = { kind: 'trait', trait: 'a', op: 'exists' };
    for (let i = 0; i < n; i++) c = { kind: 'not', condition: c };
    return c;
  }
});

describe('user-defined computed properties', () => {
  const f = facts({ events: [order(T0 - 5 * DAY, 30), order(T0 - 2 * DAY, 25), order(T0 - DAY, 10, 'Soap'), order(T0 + DAY, 99)] });
  const cases: [string, import('./definition.ts').CustomProperty, unknown, number | null][] = [
    ['sum in 3 days', { event: 'Order Completed', agg: 'sum', path: 'total', window: { amount: 3, unit: 'days' } }, 35, T0 - 2 * DAY + 3 * DAY],
    ['count ever (future order not yet)', { event: 'Order Completed', agg: 'count' }, 3, T0 + DAY],
    ['max of candle totals', { event: 'Order Completed', agg: 'max', path: 'total', filters: [{ path: 'products[].category', op: 'eq', value: 'Candles' }] }, 30, T0 + DAY],
    ['last category', { event: 'Order Completed', agg: 'last', path: 'products[].category' }, 'Soap', T0 + DAY],
    ['distinct categories', { event: 'Order Completed', agg: 'distinct_count', path: 'products[].category' }, 2, T0 + DAY],
    ['avg of nothing is null', { event: 'Refund', agg: 'avg', path: 'total' }, null, null],
  ];
  for (const [name, def, value, next] of cases) {
    it(name, () => {
      const r = computeCustom(def, f, T0);
      expect(r.value).toBe(value);
      expect(r.next).toBe(next);
    });
  }
  it('usable in a condition', () => {
    const withDef = { ...f, custom: { spend3d: cases[0]![1] } };
    expect(evaluate({ kind: 'computed', property: 'custom.spend3d', op: 'gte', value: 35 }, withDef, T0)).toEqual({ value: true, next: T0 + DAY });
  });
});

describe('computed properties', () => {
  it('orders, spend, AOV, cadence, expected next order, favourite category, channels', () => {
    const f = facts({
      events: [order(T0 - 30 * DAY, 10, 'Soap'), order(T0 - 20 * DAY, 20, 'Candles'), order(T0 - 10 * DAY, 30, 'Candles'), ev('Page Viewed', T0 - DAY, {}, { channel: 'app' })],
    });
    const c = computeProperties(f, T0);
    expect(c).toMatchObject({
      orders: 3,
      total_spent: 6000,
      average_order_value: 2000,
      first_order_at: T0 - 30 * DAY,
      last_order_at: T0 - 10 * DAY,
      average_days_between_orders: 10,
      expected_next_order_at: T0,
      days_since_last_order: 10,
      favourite_category: 'Candles',
      channels_used: 2,
    });
  });

  it.each([
    { name: 'web and store', channels: ['web', 'store'], used: 2 },
    { name: 'a backend call is not a channel the person used', channels: ['web', 'server'], used: 1 },
    { name: 'nor is an imported order', channels: ['import', 'store', 'import'], used: 1 },
    { name: 'only server calls and imports: no channel', channels: ['server', 'import'], used: 0 },
    { name: 'chat, app, web', channels: ['chat', 'app', 'web', 'web'], used: 3 },
  ])('channels_used: $name', ({ channels, used }) => {
    const f = facts({ events: channels.map((channel, i) => ev('Page Viewed', T0 - (i + 1) * DAY, {}, { channel })) });
    expect(computeProperties(f, T0).channels_used).toBe(used);
  });
});

describe('RFM', () => {
  it('the stage grid covers every (R, FM) cell with the documented stages', () => {
    const grid: string[][] = [];
    for (let r = 5; r >= 1; r--) grid.push([1, 2, 3, 4, 5].map((fm) => rfmStage(r, fm)));
    expect(grid).toEqual([
      ['New', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
      ['Promising', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
      ['About to sleep', 'About to sleep', 'Needs attention', 'Loyal', 'Loyal'],
      ['Hibernating', 'Hibernating', 'At risk', 'At risk', 'At risk'],
      ['Lost', 'Lost', 'At risk', 'At risk', "Can't lose them"],
    ]);
  });
  it('quintiles: ties share a score; extremes are 1 and 5', () => {
    expect(quintileScores([1, 1, 1, 1, 2, 3, 4, 5, 6, 7])).toEqual([1, 1, 1, 1, 3, 3, 4, 4, 5, 5]);
    expect(quintileScores([5])).toEqual([1]);
  });
  it('a recent, frequent, big spender is a Champion; an old one-off is Lost', () => {
    const customers = Array.from({ length: 10 }, (_, i) => ({ profileId: `c${i}`, lastOrder: T0 - i * 30 * DAY, orders: 10 - i, spent: (10 - i) * 1000 }));
    const rows = scoreRfm(customers, T0);
    expect(rows[0]!.stage).toBe('Champions');
    expect(rows[9]!.stage).toBe('Lost');
  });
  it('compareDate within_last boundaries are exact', () => {
    const w = { amount: 1, unit: 'days' as const };
    expect(compareDate('within_last', T0 - DAY + 1, undefined, w, T0).value).toBe(true);
    expect(compareDate('within_last', T0 - DAY, undefined, w, T0).value).toBe(false);
    expect(nextAnniversaryStart(Date.UTC(2000, 1, 29), Date.UTC(2026, 1, 1))).toBe(Date.UTC(2026, 1, 28));
  });
});
