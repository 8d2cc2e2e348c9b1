// Unit tests (no server, no store) for the pure normalisation of a Segment call into an event-log row.
import { describe, expect, it } from 'vitest';
import type { AnyCall, CallType } from '../schema/events.ts';
import { MAX_EVENT_BYTES, correctedTimestamp, currencyDigits, inferChannel, isCallType, normalizeCall, orderRevenue } from './normalize.ts';

const RECEIVED = Date.parse('2024-06-01T12:00:00.000Z');
const ctx = { workspaceId: 'ws_test', receivedAt: RECEIVED };
const T = (iso: string) => Date.parse(iso);

describe('correctedTimestamp', () => {
  const cases: [string, Partial<AnyCall>, string | undefined, number | { field: string }][] = [
    ['no time at all → receivedAt', {}, undefined, RECEIVED],
    ['timestamp only → kept as is', { timestamp: '2024-05-01T00:00:00.000Z' }, undefined, T('2024-05-01T00:00:00.000Z')],
    ['originalTimestamp only → kept as is', { originalTimestamp: '2024-05-01T00:00:00.000Z' }, undefined, T('2024-05-01T00:00:00.000Z')],
    ['sentAt only → receivedAt', { sentAt: '2030-01-01T00:00:00.000Z' }, undefined, RECEIVED],
    [
      'originalTimestamp + sentAt → receivedAt - (sentAt - originalTimestamp)',
      { originalTimestamp: '2024-06-01T15:00:00.000Z', sentAt: '2024-06-01T15:00:05.000Z' },
      undefined,
      RECEIVED - 5000,
    ],
    [
      'timestamp + sentAt (server libraries) → corrected the same way',
      { timestamp: '2024-06-01T09:59:00.000Z', sentAt: '2024-06-01T10:00:00.000Z' },
      undefined,
      RECEIVED - 60_000,
    ],
    [
      'originalTimestamp wins over timestamp',
      { originalTimestamp: '2024-06-01T10:00:00.000Z', timestamp: '2000-01-01T00:00:00.000Z', sentAt: '2024-06-01T10:00:02.000Z' },
      undefined,
      RECEIVED - 2000,
    ],
    ["the batch's sentAt applies to an event without one", { originalTimestamp: '2024-06-01T10:00:00.000Z' }, '2024-06-01T10:00:30.000Z', RECEIVED - 30_000],
    [
      "an event's own sentAt wins over the batch's",
      { originalTimestamp: '2024-06-01T10:00:00.000Z', sentAt: '2024-06-01T10:00:01.000Z' },
      '2024-06-01T10:00:30.000Z',
      RECEIVED - 1000,
    ],
    ['time zone offsets are honoured', { timestamp: '2024-05-01T02:00:00.000+02:00' }, undefined, T('2024-05-01T00:00:00.000Z')],
    [
      'offsets on both sides cancel out',
      { originalTimestamp: '2024-06-01T12:00:00.000+02:00', sentAt: '2024-06-01T10:00:10.000Z' },
      undefined,
      RECEIVED - 10_000,
    ],
    ['millisecond precision is kept', { timestamp: '2024-05-01T00:00:00.123Z' }, undefined, T('2024-05-01T00:00:00.123Z')],
    ['invalid timestamp → field error', { timestamp: 'yesterday' }, undefined, { field: 'timestamp' }],
    ['invalid originalTimestamp → field error', { originalTimestamp: 'soon' }, undefined, { field: 'originalTimestamp' }],
    ['invalid sentAt → field error', { timestamp: '2024-05-01T00:00:00.000Z', sentAt: 'later' }, undefined, { field: 'sentAt' }],
    ['invalid batch sentAt → field error', { timestamp: '2024-05-01T00:00:00.000Z' }, 'whenever', { field: 'sentAt' }],
    ['invalid sentAt is an error even without a timestamp', { sentAt: 'nope' }, undefined, { field: 'sentAt' }],
    // Not ISO-8601: Date.parse would read "5" as 2001-05-01 and "1" as 2001-01-01.
    ['a bare number string is not an ISO-8601 date-time', { timestamp: '5' }, undefined, { field: 'timestamp' }],
    ['free text that Date.parse happens to accept is not ISO-8601', { timestamp: 'Tuesday 12' }, undefined, { field: 'timestamp' }],
  ];
  it.each(cases)('%s', (_name, call, batchSentAt, expected) => {
    const got = correctedTimestamp(call as AnyCall, RECEIVED, batchSentAt);
    if (typeof expected === 'number') expect(got).toBe(expected);
    else expect(got).toMatchObject({ field: expected.field, message: expect.stringMatching(/ISO-8601/) });
  });
});

describe('inferChannel', () => {
  const cases: [string, CallType, Partial<AnyCall>, string][] = [
    ['context.channel', 'track', { context: { channel: 'email' } }, 'email'],
    ['context.channel is case-insensitive', 'track', { context: { channel: 'SMS' } }, 'sms'],
    ['properties.channel', 'track', { properties: { channel: 'social' } }, 'social'],
    ['top-level channel "server" is the library speaking, not the sender (RudderStack)', 'page', { channel: 'server' }, 'web'],
    ['top-level channel browser → web', 'track', { channel: 'browser' }, 'web'],
    ['top-level channel mobile → app', 'track', { channel: 'mobile' }, 'app'],
    ['context.channel wins over properties.channel', 'track', { context: { channel: 'push' }, properties: { channel: 'chat' } }, 'push'],
    ['alias browser → web', 'track', { context: { channel: 'browser' } }, 'web'],
    ['alias mobile → app', 'track', { context: { channel: 'Mobile' } }, 'app'],
    ['alias pos → store', 'track', { context: { channel: 'pos' } }, 'store'],
    ['an explicit channel wins over the call type', 'page', { context: { channel: 'email' } }, 'email'],
    ['unknown explicit channel → inferred (page → web)', 'page', { context: { channel: 'carrier-pigeon' } }, 'web'],
    ['non-string explicit channel → inferred', 'screen', { context: { channel: 5 } }, 'app'],
    ['page → web', 'page', {}, 'web'],
    ['screen → app', 'screen', {}, 'app'],
    ['analytics.js library → web', 'track', { context: { library: { name: 'analytics.js', version: '4' } } }, 'web'],
    ['analytics-next → web', 'identify', { context: { library: { name: '@segment/analytics-next' } } }, 'web'],
    ['rudder-sdk-js → web', 'track', { context: { library: { name: 'rudder-sdk-js' } } }, 'web'],
    ['analytics-ios → app', 'track', { context: { library: { name: 'analytics-ios' } } }, 'app'],
    ['analytics-android → app', 'track', { context: { library: { name: 'analytics-android' } } }, 'app'],
    ['analytics-react-native → app', 'track', { context: { library: { name: 'analytics-react-native' } } }, 'app'],
    ['analytics-swift → app', 'track', { context: { library: { name: 'analytics-swift' } } }, 'app'],
    ['analytics-node → server', 'track', { context: { library: { name: 'analytics-node' } } }, 'server'],
    ['@segment/analytics-node → server', 'track', { context: { library: { name: '@segment/analytics-node' } } }, 'server'],
    ['no hint at all → server', 'identify', {}, 'server'],
    ['library name not a string → server', 'track', { context: { library: { name: 7 } } }, 'server'],
  ];
  it.each(cases)('%s', (_name, type, call, expected) => {
    expect(inferChannel(type, call as AnyCall)).toBe(expected);
  });
});

describe('orderRevenue', () => {
  const cases: [string, string | null, Record<string, unknown>, { minor: number; currency: string } | null][] = [
    ['not an order event', 'Product Viewed', { total: 10 }, null],
    ['no event name', null, { total: 10 }, null],
    ['total in USD by default', 'Order Completed', { total: 12.34 }, { minor: 1234, currency: 'USD' }],
    ['total as a string', 'Order Completed', { total: '12.34', currency: 'EUR' }, { minor: 1234, currency: 'EUR' }],
    ['lower-case currency', 'Order Completed', { total: 5, currency: 'gbp' }, { minor: 500, currency: 'GBP' }],
    ['invalid currency → USD', 'Order Completed', { total: 5, currency: 'EURO' }, { minor: 500, currency: 'USD' }],
    ['revenue when there is no total', 'Order Completed', { revenue: 7.5 }, { minor: 750, currency: 'USD' }],
    ['total wins over revenue', 'Order Completed', { total: 10, revenue: 8 }, { minor: 1000, currency: 'USD' }],
    ['unparseable total falls back to revenue', 'Order Completed', { total: 'abc', revenue: 3 }, { minor: 300, currency: 'USD' }],
    ['blank string total is no total', 'Order Completed', { total: '  ', revenue: 3 }, { minor: 300, currency: 'USD' }],
    ['zero-decimal currency (JPY)', 'Order Completed', { total: 1200, currency: 'JPY' }, { minor: 1200, currency: 'JPY' }],
    ['three-decimal currency (KWD)', 'Order Completed', { total: 1.234, currency: 'KWD' }, { minor: 1234, currency: 'KWD' }],
    ['float rounding (19.99)', 'Order Completed', { total: 19.99 }, { minor: 1999, currency: 'USD' }],
    ['float rounding (0.1 + 0.2)', 'Order Completed', { total: 0.1 + 0.2 }, { minor: 30, currency: 'USD' }],
    ['zero total is an order of 0', 'Order Completed', { total: 0 }, { minor: 0, currency: 'USD' }],
    [
      'sum of products (price × quantity, quantity 1 by default)',
      'Order Completed',
      { products: [{ price: 10, quantity: 2 }, { price: 5.5 }, { price: '1.25', quantity: '4' }] },
      { minor: 3050, currency: 'USD' },
    ],
    ['products without prices sum to 0', 'Order Completed', { products: [{ sku: 'a' }, null] }, { minor: 0, currency: 'USD' }],
    ['no amount at all', 'Order Completed', { order_id: 'x' }, null],
    ['refund counts negative', 'Order Refunded', { total: 10, currency: 'EUR' }, { minor: -1000, currency: 'EUR' }],
    ['a refund already negative stays negative', 'Order Refunded', { total: -10 }, { minor: -1000, currency: 'USD' }],
    ['refund of products', 'Order Refunded', { products: [{ price: 2, quantity: 3 }] }, { minor: -600, currency: 'USD' }],
  ];
  it.each(cases)('%s', (_name, event, props, expected) => {
    expect(orderRevenue(event, props)).toEqual(expected);
  });

  it('currencyDigits', () => {
    expect([currencyDigits('USD'), currencyDigits('JPY'), currencyDigits('KWD'), currencyDigits('EUR')]).toEqual([2, 0, 3, 2]);
  });

  it.each([[1e17], [-1e20], ['99999999999999999999']])('an absurd total (%s) gives a safe integer or no revenue, never an unstorable number', (total) => {
    // revenue_minor is an int8 column: a number past 2^53 (or 2^63) cannot be stored exactly, or at all.
    const r = orderRevenue('Order Completed', { total });
    expect(r === null || Number.isSafeInteger(r.minor)).toBe(true);
  });
});

describe('isCallType', () => {
  it.each([
    ['identify', true],
    ['track', true],
    ['page', true],
    ['screen', true],
    ['group', true],
    ['alias', true],
    ['batch', false],
    ['Track', false],
    ['', false],
    [undefined, false],
    [5, false],
  ])('%s → %s', (t, ok) => expect(isCallType(t)).toBe(ok));
});

describe('normalizeCall', () => {
  const ok = (type: CallType, raw: unknown, extra: Partial<typeof ctx> & { batchSentAt?: string; batchContext?: Record<string, unknown> } = {}) => {
    const n = normalizeCall(type, raw, { ...ctx, ...extra });
    if (!n.ok) throw new Error(`expected ok, got ${JSON.stringify(n.error)}`);
    return n.row;
  };
  const fail = (type: CallType, raw: unknown) => {
    const n = normalizeCall(type, raw, ctx);
    if (n.ok) throw new Error(`expected an error, got ${JSON.stringify(n.row)}`);
    return n.error;
  };

  it('a track call → a full row', () => {
    const row = ok('track', {
      messageId: 'm-1',
      userId: 'u-1',
      anonymousId: 'a-1',
      event: 'Order Completed',
      properties: { total: 20, currency: 'EUR' },
      context: { ip: '1.2.3.4', traits: { email: 'x@example.com' } },
      timestamp: '2024-05-01T00:00:00.000Z',
    });
    expect(row).toEqual({
      workspace_id: 'ws_test',
      message_id: 'm-1',
      type: 'track',
      event: 'Order Completed',
      user_id: 'u-1',
      anonymous_id: 'a-1',
      channel: 'server',
      internal: 0,
      timestamp: T('2024-05-01T00:00:00.000Z'),
      received_at: RECEIVED,
      properties: JSON.stringify({ total: 20, currency: 'EUR' }),
      traits: JSON.stringify({ email: 'x@example.com' }),
      context: JSON.stringify({ ip: '1.2.3.4', traits: { email: 'x@example.com' } }),
      revenue_minor: 2000,
      currency: 'EUR',
    });
  });

  type RowCase = [string, CallType, Record<string, unknown>, Record<string, unknown>];
  const rowCases: RowCase[] = [
    ['identify keeps its traits', 'identify', { userId: 'u', traits: { plan: 'pro' } }, { type: 'identify', event: null, traits: '{"plan":"pro"}', properties: '{}' }],
    [
      'identify ignores context.traits for its own traits',
      'identify',
      { userId: 'u', traits: { a: 1 }, context: { traits: { b: 2 } } },
      { traits: '{"a":1}' },
    ],
    ['track takes context.traits as traits', 'track', { userId: 'u', event: 'E', traits: { ignored: true }, context: { traits: { b: 2 } } }, { traits: '{"b":2}' }],
    ['numeric userId becomes a string', 'track', { userId: 42, event: 'E' }, { user_id: '42' }],
    ['numeric anonymousId becomes a string', 'track', { anonymousId: 7, event: 'E' }, { anonymous_id: '7', user_id: null }],
    ['null userId with an anonymousId', 'identify', { userId: null, anonymousId: 'a' }, { user_id: null, anonymous_id: 'a' }],
    ['page: name is the event, category copied into properties', 'page', { anonymousId: 'a', name: 'Home', category: 'Docs' }, { event: 'Home', properties: '{"category":"Docs"}', channel: 'web' }],
    ['page: properties.category wins over category', 'page', { anonymousId: 'a', category: 'X', properties: { category: 'Y' } }, { event: null, properties: '{"category":"Y"}' }],
    ['page without name → event null', 'page', { anonymousId: 'a' }, { event: null, properties: '{}' }],
    ['screen: name is the event', 'screen', { anonymousId: 'a', name: 'Cart' }, { event: 'Cart', channel: 'app' }],
    ['group: groupId in properties, group traits kept', 'group', { userId: 'u', groupId: 99, traits: { name: 'Acme' } }, { properties: '{"groupId":"99"}', traits: '{"name":"Acme"}' }],
    ['alias: previousId in properties', 'alias', { userId: 'u', previousId: 'anon-1' }, { properties: '{"previousId":"anon-1"}', user_id: 'u', anonymous_id: null }],
    ['track identified only by context.traits.email', 'track', { event: 'E', context: { traits: { email: 'a@b.co' } } }, { user_id: null, anonymous_id: null }],
    ['identify identified only by traits.phone', 'identify', { traits: { phone: '+447700900123' } }, { user_id: null }],
    ['track identified only by context.externalIds', 'track', { event: 'E', context: { externalIds: [{ id: 'c1', type: 'shopify' }] } }, { user_id: null }],
    ['Order Refunded gets negative revenue', 'track', { userId: 'u', event: 'Order Refunded', properties: { total: 5 } }, { revenue_minor: -500, currency: 'USD' }],
    ['a non-order event has no revenue', 'track', { userId: 'u', event: 'Viewed', properties: { total: 5 } }, { revenue_minor: null, currency: null }],
  ];
  it.each(rowCases)('%s', (_name, type, raw, expected) => {
    expect(ok(type, raw)).toMatchObject(expected);
  });

  it('a missing messageId is assigned, different each time', () => {
    const a = ok('track', { userId: 'u', event: 'E' });
    const b = ok('track', { userId: 'u', event: 'E' });
    expect(a.message_id).toMatch(/^omnia-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a.message_id).not.toBe(b.message_id);
  });

  it("the batch's context is merged under the event's own", () => {
    const row = ok('track', { userId: 'u', event: 'E', context: { locale: 'fr', ip: '9.9.9.9' } }, { batchContext: { ip: '1.1.1.1', library: { name: 'x' } } });
    expect(JSON.parse(row.context)).toEqual({ ip: '9.9.9.9', library: { name: 'x' }, locale: 'fr' });
  });

  it("the batch's sentAt corrects the event's timestamp", () => {
    const row = ok('track', { userId: 'u', event: 'E', originalTimestamp: '2024-06-01T10:00:00.000Z' }, { batchSentAt: '2024-06-01T10:00:03.000Z' });
    expect(row.timestamp).toBe(RECEIVED - 3000);
    expect(row.received_at).toBe(RECEIVED);
  });

  it('the input object is not mutated', () => {
    const raw = { anonymousId: 'a', name: 'Home', category: 'Docs', properties: { path: '/' } };
    const copy = structuredClone(raw);
    ok('page', raw);
    expect(raw).toEqual(copy);
  });

  const pad = (bytes: number, unit = 'x') => {
    // An event whose JSON is exactly `bytes` long (unit is 1 or 2 bytes in UTF-8).
    const base = { userId: 'u', event: 'E', properties: { p: '' } };
    const baseLen = Buffer.byteLength(JSON.stringify(base));
    const per = Buffer.byteLength(unit);
    const n = Math.floor((bytes - baseLen) / per);
    const rest = bytes - baseLen - n * per;
    return { ...base, properties: { p: unit.repeat(n) + 'x'.repeat(rest) } };
  };
  it('an event of exactly 32KB is accepted, one byte more is refused', () => {
    expect(Buffer.byteLength(JSON.stringify(pad(MAX_EVENT_BYTES)))).toBe(MAX_EVENT_BYTES);
    expect(normalizeCall('track', pad(MAX_EVENT_BYTES), ctx).ok).toBe(true);
    expect(fail('track', pad(MAX_EVENT_BYTES + 1))).toMatchObject({ field: '(event)', message: expect.stringMatching(/32KB/) });
  });
  it('the 32KB limit counts UTF-8 bytes, not characters', () => {
    const e = pad(MAX_EVENT_BYTES + 2, 'é');
    expect(JSON.stringify(e).length).toBeLessThan(MAX_EVENT_BYTES);
    expect(fail('track', e).field).toBe('(event)');
  });

  const errorCases: [string, CallType, unknown, string][] = [
    ['null', 'track', null, '(event)'],
    ['an array', 'track', [{ userId: 'u', event: 'E' }], '(event)'],
    ['a string', 'identify', 'hello', '(event)'],
    ['a number', 'identify', 5, '(event)'],
    ['track without event', 'track', { userId: 'u' }, 'event'],
    ['track with event ""', 'track', { userId: 'u', event: '' }, 'event'],
    ['track with event 5', 'track', { userId: 'u', event: 5 }, 'event'],
    ['event name over 256 chars', 'track', { userId: 'u', event: 'e'.repeat(257) }, 'event'],
    ['identify traits "x"', 'identify', { userId: 'u', traits: 'x' }, 'traits'],
    ['properties as an array', 'track', { userId: 'u', event: 'E', properties: [] }, 'properties'],
    ['context as a string', 'track', { userId: 'u', event: 'E', context: 'web' }, 'context'],
    ['userId as an object', 'track', { userId: {}, event: 'E' }, 'userId'],
    ['userId as a boolean', 'track', { userId: true, event: 'E' }, 'userId'],
    ['messageId ""', 'track', { userId: 'u', event: 'E', messageId: '' }, 'messageId'],
    ['messageId as a number', 'track', { userId: 'u', event: 'E', messageId: 5 }, 'messageId'],
    ['messageId over 256 chars', 'track', { userId: 'u', event: 'E', messageId: 'm'.repeat(257) }, 'messageId'],
    ['timestamp as a number', 'track', { userId: 'u', event: 'E', timestamp: 1717243200000 }, 'timestamp'],
    ['timestamp "yesterday"', 'track', { userId: 'u', event: 'E', timestamp: 'yesterday' }, 'timestamp'],
    ['no identity at all', 'track', { event: 'E' }, 'userId'],
    ['an email without @ is no identity', 'track', { event: 'E', context: { traits: { email: 'nope' } } }, 'userId'],
    ['a 3-char phone is no identity', 'identify', { traits: { phone: '123' } }, 'userId'],
    ['empty externalIds is no identity', 'track', { event: 'E', context: { externalIds: [] } }, 'userId'],
    ['empty userId and no anonymousId', 'identify', { userId: '' }, 'userId'],
    ['empty userId even with an anonymousId (the schema wants a non-empty id or null)', 'track', { userId: '', anonymousId: 'a', event: 'E' }, 'userId'],
    ['alias without previousId', 'alias', { userId: 'u' }, 'previousId'],
    ['alias without userId', 'alias', { previousId: 'p' }, 'userId'],
    ['group without groupId', 'group', { userId: 'u' }, 'groupId'],
    ['page name as a number', 'page', { anonymousId: 'a', name: 5 }, 'name'],
  ];
  it.each(errorCases)('refuses %s (field %s)', (_name, type, raw, field) => {
    const e = fail(type, raw);
    expect(e.field).toBe(field);
    expect(e.message.length).toBeGreaterThan(0);
  });
});
