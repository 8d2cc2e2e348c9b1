// Outbound webhooks on both backends, against a real HTTP receiver on 127.0.0.1 (the only address that ever receives
// traffic here): a purchase → segment.entered, signed and verifiable; retries with backoff on an injected clock;
// 410 disables; the SSRF guard at save time and at delivery time (IP literals, real `localhost` DNS, and a resolver that
// changes its answer); secrets encrypted at rest; rotation; workspace isolation; several workers, each row once.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSecrets, openSecrets } from '../src/app/secrets.ts';
import { KEY_FILE, SETTINGS_KEY } from '../src/app/secrets.ts';
import { checkEventFilter, matchesEventFilter } from '../src/webhooks/events.ts';
import { verifySignature } from '../src/webhooks/sign.ts';
import { classifyAddress } from '../src/webhooks/ssrf.ts';
import { forgetWebhookDeliveries } from '../src/webhooks/service.ts';
import { BACKENDS, type Backend, type TestOmnia, openTestRuntime, startTestOmnia } from './helpers.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local receiver: answers each path from its script (status codes in order; the last one repeats). */
async function startReceiver() {
  const requests: Received[] = [];
  const scripts = new Map<string, (number | { status: number; headers?: Record<string, string>; hang?: boolean; delayMs?: number })[]>();
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const p = req.url ?? '/';
      requests.push({ path: p, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const script = scripts.get(p) ?? [200];
      const step = script.length > 1 ? script.shift()! : script[0]!;
      const s = typeof step === 'number' ? { status: step } : step;
      if (s.hang) return; // never answers
      setTimeout(() => {
        res.writeHead(s.status, { 'content-type': 'text/plain', ...s.headers });
        res.end(`answer ${s.status}`);
      }, s.delayMs ?? 0);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    at: (p: string) => requests.filter((r) => r.path === p),
    script: (p: string, steps: (number | { status: number; headers?: Record<string, string>; hang?: boolean; delayMs?: number })[]) => scripts.set(p, steps),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const hmac = (secret: string, id: string, ts: string, body: string) => createHmac('sha256', secret).update(`${id}.${ts}.${body}`).digest('hex');

describe('SSRF address classification', () => {
  it('refuses loopback, private, link-local, CGNAT, ULA, multicast, unspecified, mapped and tunnelled private addresses', () => {
    const blocked = [
      '127.0.0.1',
      '127.255.255.254',
      '10.0.0.1',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '100.127.255.255',
      '0.0.0.0',
      '224.0.0.1',
      '239.255.255.250',
      '255.255.255.255',
      '::',
      '::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '64:ff9b::10.0.0.1',
      '2002:7f00:1::1',
      'fc00::1',
      'fd12:3456::1',
      'fe80::1',
      'fe80::1%eth0',
      'ff02::1',
      '::127.0.0.1',
      '2001:db8::1',
      '2001::1',
    ];
    for (const ip of blocked) expect(classifyAddress(ip), ip).not.toBeNull();
    const allowed = ['93.184.216.34', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'];
    for (const ip of allowed) expect(classifyAddress(ip), ip).toBeNull();
    expect(classifyAddress('169.254.169.254')).toContain('link-local');
    expect(classifyAddress('100.64.0.1')).toContain('carrier-grade NAT');
  });

  it('event filters: exact types and families; unknown ones are named', () => {
    expect(checkEventFilter('segment.entered')).toBeNull();
    expect(checkEventFilter('segment.*')).toBeNull();
    expect(checkEventFilter('segment.exploded')).toContain('unknown event type');
    expect(checkEventFilter('message.*')).toContain('unknown event family');
    expect(matchesEventFilter(['segment.*'], 'segment.left')).toBe(true);
    expect(matchesEventFilter(['segment.entered'], 'segment.left')).toBe(false);
  });

  it('secrets: AES-GCM bound to a context; tampering and another key are detected; an old key can stay decrypt-only', () => {
    const a = makeSecrets('a-long-enough-secret-1', 'env');
    const enc = a.encrypt('whsec_hello', 'webhook:ws:1');
    expect(enc).toMatch(/^enc:v1:[0-9a-f]{12}:/);
    expect(enc).not.toContain('hello');
    expect(a.decrypt(enc, 'webhook:ws:1')).toBe('whsec_hello');
    expect(() => a.decrypt(enc, 'webhook:ws:2')).toThrow(/authentication/);
    const raw = Buffer.from(enc.split(':')[3]!, 'base64url');
    raw[14]! ^= 1;
    expect(() => a.decrypt(`enc:v1:${a.keyId}:${raw.toString('base64url')}`, 'webhook:ws:1')).toThrow(/authentication/);
    const b = makeSecrets('a-long-enough-secret-2', 'env');
    expect(() => b.decrypt(enc, 'webhook:ws:1')).toThrow(/does not have/);
    const b2 = makeSecrets('a-long-enough-secret-2', 'env', ['a-long-enough-secret-1']);
    expect(b2.decrypt(enc, 'webhook:ws:1')).toBe('whsec_hello');
    expect(b2.encrypt('x', 'c')).toContain(`:${b.keyId}:`);
  });
});

describe.each(BACKENDS)('webhooks (%s)', (backend) => {
  let o: TestOmnia;
  let rx: Awaited<ReturnType<typeof startReceiver>>;
  let now = Date.UTC(2026, 2, 1, 9, 0, 0);
  const iso = (t: number) => new Date(t).toISOString();

  beforeAll(async () => {
    rx = await startReceiver();
    o = await startTestOmnia(backend, { clock: () => now });
  });
  afterAll(async () => {
    await o?.close();
    await rx?.close();
  });

  const segment = async (name: string, event: string) => {
    const r = await o.api('POST', '/api/segments?wait=true', { name, definition: { kind: 'event', event, op: 'performed', window: { amount: 30, unit: 'days' } } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body.id as string;
  };
  const hook = async (body: Record<string, unknown>) => {
    const r = await o.api('POST', '/api/webhooks', { allowPrivateNetwork: true, ...body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body as { id: string; secret: string; [k: string]: unknown };
  };
  const buy = async (userId: string, event = 'Order Completed', traits: Record<string, unknown> = {}) => {
    if (Object.keys(traits).length) await o.track('/v1/identify', { userId, traits, timestamp: iso(now) });
    expect((await o.track('/v1/track', { userId, event, properties: { total: 40, currency: 'EUR' }, timestamp: iso(now) })).status).toBe(200);
    await o.settle();
    await o.rt.webhooks.drain();
  };
  const deliveries = async (id: string) => (await o.api('GET', `/api/webhooks/${id}/deliveries`)).body.deliveries as any[];

  it('a purchase enters a segment and the receiver gets a signed segment.entered; filters keep other hooks quiet', async () => {
    const seg = await segment('Buyers', 'Order Completed');
    const other = await segment('Returners', 'Order Refunded');
    const h = await hook({ url: `${rx.url}/ok`, events: ['segment.entered'], segmentIds: [seg], description: 'CRM sync' });
    expect(h.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(h).toMatchObject({ enabled: true, allowPrivateNetwork: true, events: ['segment.entered'], segmentIds: [seg], description: 'CRM sync' });
    // Quiet: wrong event type, and wrong segment.
    const leftOnly = await hook({ url: `${rx.url}/left-only`, events: ['segment.left'] });
    const otherSeg = await hook({ url: `${rx.url}/other-seg`, events: ['segment.*'], segmentIds: [other] });
    expect((await o.api('GET', `/api/webhooks/${h.id}`)).body.secret).toBeUndefined();

    await buy('wh-buyer-1', 'Order Completed', { email: 'wh-buyer-1@example.com' });
    const got = rx.at('/ok');
    expect(got).toHaveLength(1);
    const req = got[0]!;
    const body = JSON.parse(req.body);
    const profileId = (await o.api('GET', '/api/profiles/lookup?userId=wh-buyer-1')).body.id;
    expect(body).toMatchObject({
      type: 'segment.entered',
      workspaceId: 'default',
      createdAt: iso(now),
      data: { segment: { id: seg, name: 'Buyers' }, profile: { id: profileId, userId: 'wh-buyer-1', email: 'wh-buyer-1@example.com' }, at: iso(now), cause: 'event' },
    });
    expect(body.id).toMatch(/^evt_/);
    expect(Object.keys(body)).toEqual(['id', 'type', 'createdAt', 'workspaceId', 'data']);
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['omnia-webhook-id']).toBe(body.id);
    expect(req.headers['omnia-webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    const sig = req.headers['omnia-signature'] as string;
    expect(sig).toBe(`v1=${hmac(h.secret, body.id, String(Math.floor(now / 1000)), req.body)}`);
    expect(verifySignature(h.secret, { id: body.id, timestamp: String(Math.floor(now / 1000)), signature: sig }, req.body, Math.floor(now / 1000))).toBe(true);
    expect(verifySignature(`${h.secret}x`, { id: body.id, timestamp: String(Math.floor(now / 1000)), signature: sig }, req.body, Math.floor(now / 1000))).toBe(false);
    expect(rx.at('/left-only')).toHaveLength(0);
    expect(rx.at('/other-seg')).toHaveLength(0);

    const [d] = await deliveries(h.id);
    expect(d).toMatchObject({ eventId: body.id, type: 'segment.entered', status: 'delivered', attemptCount: 1, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    expect(d.attempts).toHaveLength(1);
    expect(d.attempts[0]).toMatchObject({ attempt: 1, statusCode: 200, error: null, response: 'answer 200' });
    expect(typeof d.attempts[0].durationMs).toBe('number');
    // GDPR: the person's deliveries (their identifiers are in the payload) can be erased with them.
    expect(await forgetWebhookDeliveries(o.rt.store.db, 'default', [profileId])).toBe(1);
    expect(await deliveries(h.id)).toEqual([]);
    expect(await o.rt.store.db.selectFrom('webhook_attempts').select('delivery_id').where('delivery_id', '=', d.id).execute()).toEqual([]);
    expect(await deliveries(leftOnly.id)).toEqual([]);
    expect(await deliveries(otherSeg.id)).toEqual([]);
    for (const id of [h.id, leftOnly.id, otherSeg.id]) expect((await o.api('DELETE', `/api/webhooks/${id}`)).status).toBe(200);
    expect((await o.api('GET', `/api/webhooks/${h.id}`)).status).toBe(404);
  });

  it('500 then 200: retried after the backoff (injected clock), same id and body, both attempts recorded', async () => {
    const seg = await segment('Flaky buyers', 'Flaky Purchase');
    const h = await hook({ url: `${rx.url}/flaky`, events: ['segment.*'], segmentIds: [seg] });
    rx.script('/flaky', [500, 200]);
    const t0 = now;
    await buy('wh-flaky-1', 'Flaky Purchase');
    expect(rx.at('/flaky')).toHaveLength(1);
    let [d] = await deliveries(h.id);
    expect(d).toMatchObject({ status: 'pending', attemptCount: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(d.nextAttemptAt).toBeGreaterThanOrEqual(t0 + 30_000);
    expect(d.nextAttemptAt).toBeLessThanOrEqual(t0 + 36_000);

    await o.rt.webhooks.drain(); // not due yet
    now += 29_000;
    await o.rt.webhooks.drain();
    expect(rx.at('/flaky')).toHaveLength(1);
    now += 8_000; // past 30 s + 20 % jitter
    await o.rt.webhooks.drain();
    const got = rx.at('/flaky');
    expect(got).toHaveLength(2);
    expect(got[1]!.body).toBe(got[0]!.body);
    expect(got[1]!.headers['omnia-webhook-id']).toBe(got[0]!.headers['omnia-webhook-id']);
    expect(got[1]!.headers['omnia-webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    expect(got[1]!.headers['omnia-signature']).toBe(`v1=${hmac(h.secret, got[1]!.headers['omnia-webhook-id'] as string, String(Math.floor(now / 1000)), got[1]!.body)}`);
    [d] = await deliveries(h.id);
    expect(d).toMatchObject({ status: 'delivered', attemptCount: 2, lastStatusCode: 200, lastError: null });
    expect(d.attempts.map((a: any) => [a.attempt, a.statusCode, a.error])).toEqual([
      [1, 500, 'HTTP 500'],
      [2, 200, null],
    ]);
    expect(d.attempts[1].at).toBe(now);
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it('gives up after the last retry; a manual retry sends once more', async () => {
    const seg = await segment('Down buyers', 'Down Purchase');
    const h = await hook({ url: `${rx.url}/down`, events: ['segment.entered'], segmentIds: [seg] });
    rx.script('/down', [503]);
    await buy('wh-down-1', 'Down Purchase');
    for (const wait of [30_000, 120_000, 600_000, 3_600_000, 21_600_000]) {
      now += Math.round(wait * 1.2) + 1000;
      await o.rt.webhooks.drain();
    }
    expect(rx.at('/down')).toHaveLength(6);
    let [d] = await deliveries(h.id);
    expect(d).toMatchObject({ status: 'failed', attemptCount: 6, lastStatusCode: 503 });
    now += 86_400_000;
    await o.rt.webhooks.drain();
    expect(rx.at('/down')).toHaveLength(6);
    rx.script('/down', [200]);
    const retried = await o.api('POST', `/api/webhooks/${h.id}/deliveries/${d.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.delivery).toMatchObject({ status: 'delivered', attemptCount: 7, lastStatusCode: 200 });
    expect(rx.at('/down')).toHaveLength(7);
    [d] = await deliveries(h.id);
    expect(d.attempts).toHaveLength(7);
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it('410 Gone disables the subscription; nothing more is sent until it is enabled again', async () => {
    const seg = await segment('Gone buyers', 'Gone Purchase');
    const h = await hook({ url: `${rx.url}/gone`, events: ['segment.entered'], segmentIds: [seg] });
    rx.script('/gone', [410]);
    await buy('wh-gone-1', 'Gone Purchase');
    expect(rx.at('/gone')).toHaveLength(1);
    const after = (await o.api('GET', `/api/webhooks/${h.id}`)).body;
    expect(after.enabled).toBe(false);
    expect(after.disabledReason).toContain('410');
    const [d] = await deliveries(h.id);
    expect(d).toMatchObject({ status: 'failed', attemptCount: 1, lastStatusCode: 410 });
    await buy('wh-gone-2', 'Gone Purchase');
    now += 3_600_000;
    await o.rt.webhooks.drain();
    expect(rx.at('/gone')).toHaveLength(1);
    expect(await deliveries(h.id)).toHaveLength(1);
    const re = await o.api('PATCH', `/api/webhooks/${h.id}`, { enabled: true });
    expect(re.body).toMatchObject({ enabled: true, disabledReason: null });
    rx.script('/gone', [200]);
    await buy('wh-gone-3', 'Gone Purchase');
    expect(rx.at('/gone')).toHaveLength(2);
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it('refuses private destinations without allowPrivateNetwork, and bad input, naming the field; nothing is saved', async () => {
    const before = (await o.api('GET', '/api/webhooks')).body.webhooks.length;
    const seen = rx.connections();
    const privateUrls = [
      'https://127.0.0.1/hook',
      'https://10.0.0.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://[::1]/hook',
      'https://localhost/hook',
      `https://localhost:${rx.port}/hook`,
      'https://[::ffff:127.0.0.1]/hook',
      'https://2130706433/hook', // 127.0.0.1 as one number
      'https://0x7f.1/hook',
      'https://0.0.0.0/hook',
      'https://100.64.0.1/hook',
      'https://172.16.5.4/hook',
      'https://192.168.0.10/hook',
      'https://[fd00::1]/hook',
      'https://[fe80::1]/hook',
      'https://224.0.0.1/hook',
    ];
    for (const url of privateUrls) {
      const r = await o.api('POST', '/api/webhooks', { url, events: ['segment.entered'] });
      expect(r.status, url).toBe(400);
      expect(r.body.error.field, url).toBe('url');
      expect(r.body.error.message, url).toContain('allowPrivateNetwork');
    }
    const bad: [Record<string, unknown>, string][] = [
      [{ url: 'not a url', events: ['segment.entered'] }, 'url'],
      [{ url: 'ftp://example.com/x', events: ['segment.entered'] }, 'url'],
      [{ url: 'http://example.com/x', events: ['segment.entered'] }, 'url'],
      [{ url: 'https://user:pw@example.com/x', events: ['segment.entered'] }, 'url'],
      [{ events: ['segment.entered'] }, 'url'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true, events: ['segment.exploded'] }, 'events.0'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true, events: ['segment.entered', 'message.*'] }, 'events.1'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true, events: [] }, 'events'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true }, 'events'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true, events: ['segment.entered'], segmentIds: ['seg_missing'] }, 'segmentIds.0'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: 'yes', events: ['segment.entered'] }, 'allowPrivateNetwork'],
      [{ url: `${rx.url}/x`, allowPrivateNetwork: true, events: ['segment.entered'], colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of bad) {
      const r = await o.api('POST', '/api/webhooks', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.field, JSON.stringify(body)).toBe(field);
    }
    expect((await o.api('GET', '/api/webhooks')).body.webhooks.length).toBe(before);

    // Turning the flag off on a private destination is refused too, and changes nothing.
    const h = await hook({ url: `${rx.url}/private`, events: ['segment.entered'] });
    const off = await o.api('PATCH', `/api/webhooks/${h.id}`, { allowPrivateNetwork: false });
    expect(off.status).toBe(400);
    expect(off.body.error.field).toBe('url');
    expect((await o.api('GET', `/api/webhooks/${h.id}`)).body.allowPrivateNetwork).toBe(true);
    expect((await o.api('PATCH', `/api/webhooks/${h.id}`, { events: ['nope.*'] })).body.error.field).toBe('events.0');
    expect(rx.connections()).toBe(seen);
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it('delivery re-checks the destination: a host that now resolves privately, or a flag removed, is refused without connecting', async () => {
    const svc = o.rt.webhooks;
    const original = svc.config.resolve;
    const asked: string[] = [];
    let answer = '93.184.216.34'; // public at save time …
    svc.config.resolve = async (host) => {
      asked.push(host);
      if (host !== 'hooks.example.test') throw Object.assign(new Error('unexpected lookup'), { code: 'ENOTFOUND' });
      return [{ address: answer, family: 4 }];
    };
    try {
      const h = await hook({ url: `https://hooks.example.test:${rx.port}/rebind`, allowPrivateNetwork: false, events: ['segment.entered'] });
      expect(asked).toEqual(['hooks.example.test']);
      answer = '127.0.0.1'; // … loopback when delivering (DNS rebinding)
      const seen = rx.connections();
      const t = await o.api('POST', `/api/webhooks/${h.id}/test`);
      expect(t.status).toBe(200);
      expect(t.body.delivery).toMatchObject({ type: 'webhook.ping', status: 'failed', attemptCount: 1, lastStatusCode: null });
      expect(t.body.delivery.lastError).toContain('refused');
      expect(t.body.delivery.lastError).toContain('127.0.0.1');
      expect(asked.length).toBe(2); // resolved again at delivery, by the socket's own lookup
      expect(rx.connections()).toBe(seen);
      expect(rx.at('/rebind')).toHaveLength(0);
      await o.api('DELETE', `/api/webhooks/${h.id}`);
    } finally {
      svc.config.resolve = original;
    }

    // Saved while allowed, flag since removed behind the API's back: real DNS for localhost, and an IP literal.
    for (const url of [`https://localhost:${rx.port}/dns`, `https://127.0.0.1:${rx.port}/literal`]) {
      const h = await hook({ url, events: ['segment.entered'] });
      await o.rt.store.db.updateTable('webhooks').set({ allow_private_network: 0 }).where('id', '=', h.id).execute();
      const seen = rx.connections();
      const t = await o.api('POST', `/api/webhooks/${h.id}/test`);
      expect(t.body.delivery.status, url).toBe('failed');
      expect(t.body.delivery.lastError, url).toMatch(/refused: .*(loopback)/);
      expect(rx.connections(), url).toBe(seen);
      await o.api('DELETE', `/api/webhooks/${h.id}`);
    }
  });

  it('test pings, timeouts and redirects (not followed) are recorded', async () => {
    const h = await hook({ url: `${rx.url}/ping`, events: ['segment.entered'], enabled: false });
    const ping = await o.api('POST', `/api/webhooks/${h.id}/test`);
    expect(ping.body.delivery).toMatchObject({ type: 'webhook.ping', status: 'delivered', lastStatusCode: 200 });
    const req = rx.at('/ping')[0]!;
    expect(JSON.parse(req.body)).toMatchObject({ type: 'webhook.ping', workspaceId: 'default', data: { webhookId: h.id } });
    expect(req.headers['omnia-signature']).toBe(`v1=${hmac(h.secret, req.headers['omnia-webhook-id'] as string, req.headers['omnia-webhook-timestamp'] as string, req.body)}`);

    // By name: the guarded lookup resolves and connects (localhost: ::1 and/or 127.0.0.1; the receiver is on the latter).
    await o.api('PATCH', `/api/webhooks/${h.id}`, { url: `http://localhost:${rx.port}/by-name` });
    expect((await o.api('POST', `/api/webhooks/${h.id}/test`)).body.delivery).toMatchObject({ status: 'delivered', lastStatusCode: 200 });
    expect(rx.at('/by-name')).toHaveLength(1);

    rx.script('/redirect', [{ status: 302, headers: { location: `${rx.url}/ping` } }]);
    await o.api('PATCH', `/api/webhooks/${h.id}`, { url: `${rx.url}/redirect` });
    const red = (await o.api('POST', `/api/webhooks/${h.id}/test`)).body.delivery;
    expect(red).toMatchObject({ status: 'failed', lastStatusCode: 302 });
    expect(red.lastError).toContain('not followed');
    expect(rx.at('/ping')).toHaveLength(1);

    const saved = o.rt.webhooks.config.timeoutMs;
    o.rt.webhooks.config.timeoutMs = 300;
    try {
      rx.script('/hang', [{ status: 200, hang: true }]);
      await o.api('PATCH', `/api/webhooks/${h.id}`, { url: `${rx.url}/hang` });
      const slow = (await o.api('POST', `/api/webhooks/${h.id}/test`)).body.delivery;
      expect(slow).toMatchObject({ status: 'failed', lastStatusCode: null });
      expect(slow.lastError).toContain('timed out after 300 ms');
      expect(slow.attempts[0].durationMs).toBeGreaterThanOrEqual(250);
    } finally {
      o.rt.webhooks.config.timeoutMs = saved;
    }
    const all = await deliveries(h.id);
    expect(all.map((d: any) => d.status)).toEqual(['failed', 'failed', 'delivered', 'delivered']);
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it('secrets are encrypted at rest; rotation signs with both secrets during the grace period', async () => {
    const h = await hook({ url: `${rx.url}/rotate`, events: ['segment.entered'] });
    const raw = await o.rt.store.db.selectFrom('webhooks').selectAll().where('id', '=', h.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(raw)).not.toContain(h.secret);
    expect(JSON.stringify(raw)).not.toContain(h.secret.slice(6, 20));
    expect(raw.secret_enc).toMatch(/^enc:v1:[0-9a-f]{12}:[A-Za-z0-9_-]+$/);
    // Where the generated key lives: next to the SQLite file, or in settings on PostgreSQL; never the secret itself.
    if (backend === 'sqlite') {
      const file = path.join(path.dirname(o.rt.store.sqlite!.name), KEY_FILE);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(await o.rt.store.db.selectFrom('settings').selectAll().execute()).toEqual([]);
    } else {
      const row = await o.rt.store.db.selectFrom('settings').selectAll().where('name', '=', SETTINGS_KEY).executeTakeFirstOrThrow();
      expect(row.value).not.toContain(h.secret);
    }
    // Setting OMNIA_SECRET later keeps these readable (the generated key stays as a decrypt-only key).
    await expect(openSecrets(o.rt.store, { secret: 'too-short' })).rejects.toThrow(/at least 16/);
    const withEnv = await openSecrets(o.rt.store, { secret: 'an operator-chosen passphrase' });
    expect(withEnv.source).toBe('env');
    expect(withEnv.keyId).not.toBe(o.rt.webhooks.secrets.keyId);
    expect(withEnv.decrypt(raw.secret_enc, `webhook:default:${h.id}`)).toBe(h.secret);
    // A ciphertext moved to another subscription does not decrypt there.
    expect(() => o.rt.webhooks.secrets.decrypt(raw.secret_enc, 'webhook:default:wh_other')).toThrow();

    const rot = await o.api('POST', `/api/webhooks/${h.id}/rotate-secret`, { graceSeconds: 3600 });
    expect(rot.status).toBe(200);
    expect(rot.body.secret).toMatch(/^whsec_/);
    expect(rot.body.secret).not.toBe(h.secret);
    expect(rot.body.previousSecretExpiresAt).toBe(now + 3_600_000);
    await o.api('POST', `/api/webhooks/${h.id}/test`);
    let req = rx.at('/rotate').at(-1)!;
    const [id, ts] = [req.headers['omnia-webhook-id'] as string, req.headers['omnia-webhook-timestamp'] as string];
    expect(req.headers['omnia-signature']).toBe(`v1=${hmac(rot.body.secret, id, ts, req.body)} v1=${hmac(h.secret, id, ts, req.body)}`);
    expect(verifySignature(h.secret, { id, timestamp: ts, signature: req.headers['omnia-signature'] as string }, req.body, Number(ts))).toBe(true);
    now += 3_600_001; // grace over: only the new secret signs
    await o.api('POST', `/api/webhooks/${h.id}/test`);
    req = rx.at('/rotate').at(-1)!;
    expect(req.headers['omnia-signature']).toBe(`v1=${hmac(rot.body.secret, req.headers['omnia-webhook-id'] as string, req.headers['omnia-webhook-timestamp'] as string, req.body)}`);
    const raw2 = await o.rt.store.db.selectFrom('webhooks').selectAll().where('id', '=', h.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(raw2)).not.toContain(rot.body.secret);
    expect((await o.api('POST', `/api/webhooks/${h.id}/rotate-secret`, { graceSeconds: -1 })).body.error.field).toBe('graceSeconds');
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });

  it("another workspace's key gets 404 for everything of this workspace's webhooks", async () => {
    const h = await hook({ url: `${rx.url}/mine`, events: ['segment.entered'] });
    const created = await o.api('POST', '/api/workspaces', { name: 'Webhooks B' });
    const bKey = created.body.keys.admin as string;
    const asB = (method: string, url: string, body?: unknown) => o.api(method, url, body, bKey);
    expect((await asB('GET', '/api/webhooks')).body.webhooks).toEqual([]);
    for (const [method, url, body] of [
      ['GET', `/api/webhooks/${h.id}`],
      ['PATCH', `/api/webhooks/${h.id}`, { enabled: false }],
      ['GET', `/api/webhooks/${h.id}/deliveries`],
      ['POST', `/api/webhooks/${h.id}/test`],
      ['POST', `/api/webhooks/${h.id}/rotate-secret`],
      ['DELETE', `/api/webhooks/${h.id}`],
    ] as const) {
      expect((await asB(method, url, body)).status, `${method} ${url}`).toBe(404);
    }
    // A tenant cannot point webhooks at the instance's own network.
    const priv = await asB('POST', '/api/webhooks', { url: `${rx.url}/b`, events: ['segment.entered'], allowPrivateNetwork: true });
    expect(priv.status).toBe(403);
    expect(priv.body.error.field).toBe('allowPrivateNetwork');
    expect((await asB('GET', '/api/webhooks')).body.webhooks).toEqual([]);
    expect(rx.at('/mine')).toHaveLength(0);
    expect((await o.api('GET', `/api/webhooks/${h.id}`)).body.enabled).toBe(true);
    const types = (await o.api('GET', '/api/webhooks/event-types')).body.eventTypes.map((t: any) => t.type);
    expect(types).toEqual(expect.arrayContaining(['segment.entered', 'segment.left']));
    await o.api('DELETE', `/api/webhooks/${h.id}`);
  });
});

describe.each(BACKENDS)('webhook workers sharing one store (%s)', (backend: Backend) => {
  it('two workers drain one outbox concurrently; every delivery is sent exactly once', async () => {
    const rx = await startReceiver();
    const first = await openTestRuntime(backend, { workers: false });
    const second = await openTestRuntime(backend, { workers: false, dataDir: first.dataDir, pgSchema: first.pgSchema });
    try {
      // Both processes found the same generated key (key file, or settings row).
      expect(second.rt.webhooks.secrets.keyId).toBe(first.rt.webhooks.secrets.keyId);
      const h = await first.rt.webhooks.create('default', { url: `${rx.url}/many`, events: ['segment.entered'], allowPrivateNetwork: true });
      rx.script('/many', [{ status: 200, delayMs: 20 }]);
      const n = 60;
      const queued = await first.rt.webhooks.emit(
        Array.from({ length: n }, (_, i) => ({ workspaceId: 'default', type: 'segment.entered', segmentId: 'seg_x', data: { i } })),
      );
      expect(queued).toBe(n);
      const claimed = [0, 0];
      const run = async (svc: typeof first.rt.webhooks, k: number) => {
        for (;;) {
          const got = await svc.runOnce();
          if (!got) return;
          claimed[k]! += got;
        }
      };
      await Promise.all([run(first.rt.webhooks, 0), run(second.rt.webhooks, 1)]);
      const ids = rx.at('/many').map((r) => r.headers['omnia-webhook-id']);
      expect(ids).toHaveLength(n);
      expect(new Set(ids).size).toBe(n);
      expect(claimed[0]! + claimed[1]!).toBe(n);
      for (const r of rx.at('/many')) {
        expect(r.headers['omnia-signature']).toBe(`v1=${hmac(h.secret, r.headers['omnia-webhook-id'] as string, r.headers['omnia-webhook-timestamp'] as string, r.body)}`);
      }
      const left = await first.rt.store.db.selectFrom('webhook_deliveries').select('status').where('status', '!=', 'delivered').execute();
      expect(left).toEqual([]);
    } finally {
      await second.rt.close();
      await first.cleanup();
      await rx.close();
    }
  });
});
