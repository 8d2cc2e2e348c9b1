// The web push adapter end to end, no mocks: web-push encrypts and signs, a local push service checks the VAPID JWT,
// and the test decrypts the aes128gcm body with the subscriber's private key.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelAdapter, PushSubscriptionJson, SendRequest } from '../../src/messaging/types.ts';
import { classifyPushError, createWebPushAdapter, generateVapidKeys, subscriptionProblem, validateWebPushConfig } from '../../src/channels/push.ts';
import { createChannelAdapter, validateProviderConfig } from '../../src/channels/index.ts';
import { type TestPushService, createSubscriber, decryptAes128gcm, startPushService } from '../support/push-service.ts';

function push(to: SendRequest['to'], messageId = 'msg_push_1', topic = 'marketing'): SendRequest {
  return {
    messageId,
    workspaceId: 'ws_1',
    profileId: 'pr_1',
    to,
    topic,
    content: { channel: 'push', push: { title: 'Back in stock', body: 'The Trail Runner 2 in size 42 is back — 20% off today', icon: 'https://shop.example/icon.png', url: 'https://shop.example/p/trail-runner-2', data: { sku: 'TR2-42', n: 1 } } },
  };
}

let service: TestPushService;
let adapter: ChannelAdapter;
const vapid = { subject: 'mailto:ops@shop.example', ...generateVapidKeys() };

beforeEach(async () => {
  service = await startPushService();
  adapter = createWebPushAdapter({ vapid, allowPrivateNetwork: true, ttlSeconds: 3600 });
});
afterEach(async () => {
  await adapter.close();
  await service.close();
});

describe('web push adapter', () => {
  it('delivers a VAPID-signed aes128gcm message that the subscriber decrypts to the JSON payload', async () => {
    const sub = createSubscriber(service.origin);
    const r = await adapter.send(push(sub.subscription));
    expect(r.status).toBe('sent');
    expect(r.status === 'sent' && r.providerId).toMatch(new RegExp(`^${service.origin}/message/`));
    expect(service.requests).toHaveLength(1);
    const req = service.requests[0]!;
    expect(req.vapid).toMatchObject({ ok: true, publicKey: vapid.publicKey, claims: { aud: service.origin, sub: 'mailto:ops@shop.example' } });
    expect(req.headers['content-encoding']).toBe('aes128gcm');
    expect(req.headers.ttl).toBe('3600');
    expect(req.headers.urgency).toBe('normal');
    expect(req.headers.topic).toBeUndefined();
    const payload = JSON.parse(decryptAes128gcm(req.body, sub).toString('utf8'));
    expect(payload).toEqual({
      title: 'Back in stock',
      body: 'The Trail Runner 2 in size 42 is back — 20% off today',
      icon: 'https://shop.example/icon.png',
      url: 'https://shop.example/p/trail-runner-2',
      data: { sku: 'TR2-42', n: 1 },
      messageId: 'msg_push_1',
    });
    // Another subscriber's key cannot read it.
    expect(() => decryptAes128gcm(req.body, createSubscriber(service.origin))).toThrow();
  });

  it('sends the topic when collapsing by topic, and the configured urgency', async () => {
    const a = createWebPushAdapter({ vapid, allowPrivateNetwork: true, collapseByTopic: true, urgency: 'high' });
    const sub = createSubscriber(service.origin);
    expect((await a.send(push(sub.subscription, 'm1', 'order-updates'))).status).toBe('sent');
    expect((await a.send(push(sub.subscription, 'm2', 'a topic with spaces that is much longer than 32'))).status).toBe('sent');
    await a.close();
    expect(service.requests.map((r) => r.headers.topic)).toEqual(['order-updates', expect.stringMatching(/^[A-Za-z0-9_-]{32}$/)]);
    expect(service.requests[0]!.headers.urgency).toBe('high');
  });

  it('maps 410 and 404 to expired, 429/5xx to transient, 400/403/413 to permanent', async () => {
    const cases: [number, object][] = [
      [410, { status: 'permanent', expired: true }],
      [404, { status: 'permanent', expired: true }],
      [429, { status: 'transient', retryAfterMs: 30_000 }],
      [503, { status: 'transient' }],
      [400, { status: 'permanent' }],
      [403, { status: 'permanent' }],
      [413, { status: 'permanent' }],
    ];
    for (const [status, expected] of cases) {
      const sub = createSubscriber(service.origin);
      service.respond(sub.subscription.endpoint.split('/').pop()!, status, status === 429 ? { 'retry-after': '30' } : {});
      const r = await adapter.send(push(sub.subscription));
      expect(r, String(status)).toMatchObject(expected);
      if (status !== 404 && status !== 410) expect(r.status === 'permanent' && r.expired, String(status)).toBeFalsy();
    }
  });

  it('rejects bad subscription shapes without a request', async () => {
    const good = createSubscriber(service.origin).subscription;
    const bad: unknown[] = [
      'https://push.example/x',
      { endpoint: good.endpoint },
      { ...good, endpoint: 'not a url' },
      { ...good, keys: { ...good.keys, p256dh: good.keys.p256dh.slice(0, 40) } },
      { ...good, keys: { ...good.keys, p256dh: Buffer.alloc(65, 3).toString('base64url') } },
      { ...good, keys: { ...good.keys, auth: Buffer.alloc(8).toString('base64url') } },
      { ...good, keys: { ...good.keys, auth: 'not base64url!' } },
    ];
    for (const to of bad) {
      const r = await adapter.send(push(to as PushSubscriptionJson));
      expect(r.status, JSON.stringify(to)).toBe('permanent');
      expect(r.status === 'permanent' && r.error).toMatch(/invalid push subscription/);
    }
    expect(service.requests).toHaveLength(0);
  });

  it('without allowPrivateNetwork refuses http and private endpoints', async () => {
    const strict = createWebPushAdapter({ vapid });
    const sub = createSubscriber(service.origin);
    const http = await strict.send(push(sub.subscription));
    expect(http.status === 'permanent' && http.error).toMatch(/must be https/);
    expect(subscriptionProblem({ ...sub.subscription, endpoint: 'https://127.0.0.1/push/x' })).toBeNull();
    const loop = await strict.send(push({ ...sub.subscription, endpoint: 'https://127.0.0.1:9/push/x' }));
    expect(loop.status === 'permanent' && loop.error).toMatch(/refused.*loopback/);
    // A name resolving to a private address is refused at connect time (DNS answer checked by the socket's lookup).
    const resolving = createWebPushAdapter({ vapid }, { resolver: async () => [{ address: '10.0.0.8', family: 4 }] });
    const named = await resolving.send(push({ ...sub.subscription, endpoint: 'https://push.internal.example/push/x' }));
    expect(named.status === 'permanent' && named.error).toMatch(/refused.*private/);
    await strict.close();
    await resolving.close();
    expect(service.requests).toHaveLength(0);
  });

  it('is transient when the push service is unreachable; refuses payloads over 4 KB', async () => {
    const sub = createSubscriber('http://127.0.0.1:1');
    expect((await adapter.send(push(sub.subscription))).status).toBe('transient');
    const big = push(createSubscriber(service.origin).subscription);
    (big.content as { push: { body: string } }).push.body = 'x'.repeat(5000);
    const r = await adapter.send(big);
    expect(r.status === 'permanent' && r.error).toMatch(/payload/);
    expect(classifyPushError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).status).toBe('transient');
  });

  it('validates configs naming the bad field; health and the factory', async () => {
    expect(await adapter.health()).toMatchObject({ ok: true });
    const bad = validateWebPushConfig({ vapid: { subject: 'ops@shop.example', publicKey: 'abc', privateKey: vapid.privateKey }, ttlSeconds: -1 });
    expect(bad.ok ? [] : bad.errors.map((e) => e.field)).toEqual(['vapid.subject', 'vapid.publicKey', 'ttlSeconds']);
    expect(validateProviderConfig({ channel: 'push', vapid })).toMatchObject({ ok: true, value: { channel: 'push', provider: 'webpush' } });
    expect(validateProviderConfig({ channel: 'push', provider: 'fcm', vapid })).toMatchObject({ ok: false, errors: [{ field: 'provider' }] });
    expect(validateProviderConfig({ channel: 'fax' })).toMatchObject({ ok: false, errors: [{ field: 'channel' }] });
    const a = createChannelAdapter('push', 'webpush', { channel: 'push', provider: 'webpush', vapid, allowPrivateNetwork: true });
    const sub = createSubscriber(service.origin);
    expect((await a.send(push(sub.subscription))).status).toBe('sent');
    await a.close();
  });
});
