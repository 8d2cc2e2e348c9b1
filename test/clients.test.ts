// The real Segment/RudderStack server-side client libraries against a running Omnia, on both backends. Each library is
// pointed at the test server, sends identify (with traits) + track + page, is flushed until every call's callback
// reports delivery, and then the admin API must show the traits on the profile and every event in its timeline.
//
// How each library sends (read from node_modules):
// - @segment/analytics-node v3: fetch, POST {host}{path} (default /v1/batch), JSON, Basic auth + writeKey in the body,
//   batch-level sentAt, per-event `timestamp`. Delivery: per-call callback (err, ctx) / closeAndFlush().
// - analytics-node v6 (legacy): axios 0.27, POST {host}/v1/batch, JSON, Basic auth, per-event `timestamp`, batch-level
//   sentAt. The first call is flushed at once, later ones at flushAt/flushInterval or flush(). Delivery: per-call callback.
// - @rudderstack/rudder-sdk-node v3: axios 1.x, POST {dataPlaneUrl}/v1/batch, gzip by default (Content-Encoding: gzip
//   with axios' default Content-Type application/x-www-form-urlencoded for a Buffer), per-event originalTimestamp and
//   sentAt, identify traits copied into context.traits. Delivery: per-call callback.
import { createRequire } from 'node:module';
import { Analytics as SegmentAnalytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

// Neither legacy library ships types; require() keeps strict TypeScript happy without a declaration file.
const require = createRequire(import.meta.url);
const LegacyAnalytics = require('analytics-node') as new (writeKey: string, options?: Record<string, unknown>) => any;
const RudderAnalytics = require('@rudderstack/rudder-sdk-node') as new (writeKey: string, options?: Record<string, unknown>) => any;
// The axios the RudderStack SDK resolves (1.x), required from the SDK's own location.
const axios = createRequire(require.resolve('@rudderstack/rudder-sdk-node'))('axios') as { create(): any };

type Send = (method: 'identify' | 'track' | 'page', msg: Record<string, unknown>) => Promise<void>;

/** Wraps a callback-style client call into a promise that settles when the library reports delivery (or failure). */
function callbackSender(client: any): Send {
  return (method, msg) =>
    new Promise<void>((resolve, reject) => {
      client[method](msg, (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()));
    });
}

interface Scenario {
  userId: string;
  anonymousId: string;
  ids: { identify: string; track: string; page: string };
}

const scenario = (lib: string, backend: string): Scenario => {
  const tag = `${lib}-${backend}-${Math.random().toString(36).slice(2, 8)}`;
  return { userId: `user-${tag}`, anonymousId: `anon-${tag}`, ids: { identify: `id-${tag}`, track: `tr-${tag}`, page: `pg-${tag}` } };
};

/** Sends the three calls through the library; resolves once all three were delivered. */
async function sendScenario(send: Send, s: Scenario, email: string, flush: () => Promise<unknown>): Promise<void> {
  const delivered = Promise.all([
    send('identify', { userId: s.userId, anonymousId: s.anonymousId, messageId: s.ids.identify, traits: { email, name: 'Client Test', plan: 'pro' } }),
    send('track', {
      userId: s.userId,
      anonymousId: s.anonymousId,
      messageId: s.ids.track,
      event: 'Order Completed',
      properties: { order_id: `o-${s.ids.track}`, total: 42.5, currency: 'EUR' },
    }),
    send('page', { userId: s.userId, anonymousId: s.anonymousId, messageId: s.ids.page, name: 'Pricing', properties: { path: '/pricing' } }),
  ]);
  await flush();
  await delivered;
}

describe.each(BACKENDS)('client libraries against Omnia (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  // pageChannel: page calls are the web touchpoint whatever library sent them (RudderStack's SDK sets the top-level
  // `channel: "server"` on every message; Omnia reads only context/properties.channel as the sender's choice).
  const verify = async (s: Scenario, email: string, pageChannel = 'web') => {
    await o.settle();
    const lookup = await o.api('GET', `/api/profiles/lookup?userId=${encodeURIComponent(s.userId)}`);
    expect(lookup.status, JSON.stringify(lookup.body)).toBe(200);
    const profile = lookup.body;
    expect(profile.traits).toMatchObject({ email, name: 'Client Test', plan: 'pro' });
    expect(profile.identifiers.map((i: any) => `${i.kind}:${i.value}`)).toEqual(
      expect.arrayContaining([`user_id:${s.userId}`, `email:${email.toLowerCase()}`, `anonymous_id:${s.anonymousId}`]),
    );
    // The email finds the same person.
    expect((await o.api('GET', `/api/profiles/lookup?email=${encodeURIComponent(email)}`)).body.id).toBe(profile.id);
    const tl = await o.api('GET', `/api/profiles/${profile.id}/events?limit=500&internal=false`);
    expect(tl.status).toBe(200);
    const byId = new Map<string, any>(tl.body.events.map((e: any) => [e.messageId, e]));
    expect([...byId.keys()].sort()).toEqual(Object.values(s.ids).sort());
    expect(byId.get(s.ids.identify)).toMatchObject({ type: 'identify', traits: { email, plan: 'pro' } });
    expect(byId.get(s.ids.track)).toMatchObject({ type: 'track', event: 'Order Completed', properties: { total: 42.5, currency: 'EUR' } });
    expect(byId.get(s.ids.page)).toMatchObject({ type: 'page', event: 'Pricing', channel: pageChannel, properties: { path: '/pricing' } });
    // Revenue was extracted from the tracked order.
    expect(profile.computed.orders).toBe(1);
    expect(profile.computed.totalSpent).toEqual([{ amountMinor: 4250, currency: 'EUR' }]);
    // The client's timestamps are kept (corrected for skew): within a minute of now, not 0 or in the future.
    for (const e of tl.body.events) {
      expect(Math.abs(e.timestamp - Date.now())).toBeLessThan(60_000);
      expect(e.timestamp).toBeLessThanOrEqual(e.receivedAt + 1000);
    }
  };

  it('@segment/analytics-node v3 (fetch, JSON, /v1/batch)', async () => {
    const s = scenario('segment3', backend);
    const errors: unknown[] = [];
    const analytics = new SegmentAnalytics({ writeKey: o.writeKey, host: o.url, path: '/v1/batch', flushAt: 10, flushInterval: 50, maxRetries: 1 });
    analytics.on('error', (e) => errors.push(e));
    const statuses: number[] = [];
    analytics.on('http_response', (r) => statuses.push(r.status));
    const send: Send = (method, msg) =>
      new Promise<void>((resolve, reject) => {
        const cb = (err?: unknown) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve());
        (analytics[method] as (m: any, cb: (err?: unknown) => void) => void)(msg, cb);
      });
    await sendScenario(send, s, 'Segment.Three@Example.com', () => analytics.closeAndFlush({ timeout: 15_000 }));
    expect(errors).toEqual([]);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((st) => st === 200)).toBe(true);
    await verify(s, 'Segment.Three@Example.com');
  });

  it('analytics-node v6, the legacy library (axios, JSON)', async () => {
    const s = scenario('legacy6', backend);
    const analytics = new LegacyAnalytics(o.writeKey, { host: o.url, flushAt: 10, flushInterval: 50, retryCount: 0 });
    await sendScenario(callbackSender(analytics), s, 'legacy.six@example.com', async () => {
      // flush() sends at most flushAt items per call; the very first call was already sent on enqueue.
      while (analytics.queue.length) await analytics.flush();
    });
    await verify(s, 'legacy.six@example.com');
  });

  it.each([
    ['gzip (default)', {}],
    ['gzip: false', { gzip: false }],
  ])('@rudderstack/rudder-sdk-node v3, %s', async (label, extra) => {
    const s = scenario(`rudder-${label.startsWith('gzip:') ? 'plain' : 'gzip'}`, backend);
    // Our own axios instance (the one the SDK would create) with an interceptor, to see what actually goes on the wire.
    const axiosInstance = axios.create();
    const sent: { encoding: unknown; contentType: unknown }[] = [];
    axiosInstance.interceptors.request.use((cfg: any) => {
      const h = cfg.headers?.toJSON ? cfg.headers.toJSON() : cfg.headers;
      sent.push({ encoding: h['Content-Encoding'], contentType: h['Content-Type'] });
      return cfg;
    });
    const analytics = new RudderAnalytics(o.writeKey, { dataPlaneUrl: o.url, flushAt: 10, flushInterval: 50, retryCount: 0, logLevel: 'error', axiosInstance, ...extra });
    const email = `rudder.${label.startsWith('gzip:') ? 'plain' : 'gzip'}@example.com`;
    await sendScenario(callbackSender(analytics), s, email, async () => {
      while (analytics.queue.length) await analytics.flush();
    });
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) expect(r.encoding).toBe('gzip' in extra ? undefined : 'gzip');
    await verify(s, email, 'web');
  });

  it('a client given a wrong write key is refused with 401 and nothing is stored', async () => {
    const count = async () => Number((await o.rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    // errorHandler: without it the library also rethrows from its internal flush promise (an unhandled rejection).
    const analytics = new LegacyAnalytics('omw_wrong_key', { host: o.url, flushAt: 1, retryCount: 0, errorHandler: () => {} });
    const err = await callbackSender(analytics)('track', { userId: 'nobody', event: 'Nope' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as { response?: { status?: number } }).response?.status).toBe(401);
    await o.settle();
    expect(await count()).toBe(before);
  });
});
