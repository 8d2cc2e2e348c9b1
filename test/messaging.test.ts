// Messaging end to end on both backends, with real parts: a real SMTP server, a local stand-in speaking Twilio's
// Messages API, a local web push service. A simulated clock (injected) moves days and hours.
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';
import { startTwilioStandin, type TwilioStandin } from './support/twilio-standin.ts';
import { createSubscriber, decryptAes128gcm, startPushService, type TestPushService } from './support/push-service.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';
import { messagingHelpers } from './support/messaging.ts';

const HOUR = 3_600_000;

describe.each(BACKENDS)('messaging (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let sms: TwilioStandin;
  let push: TestPushService;
  // Wednesday 4 March 2026, 18:00 UTC (10:00 in Los Angeles, 19:00 in Berlin).
  let now = Date.UTC(2026, 2, 4, 18, 0);
  const ids: Record<string, string> = {};

  const { person, send } = messagingHelpers(() => o, () => now);
  const mails = async () => Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    smtp = await startSmtpServer();
    sms = await startTwilioStandin();
    push = await startPushService();
    const put = async (path: string, body: unknown) => {
      const r = await o.api('PUT', path, body);
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
    };
    await put('/api/messaging/brand', { name: 'Candle Co', colors: { primary: '#aa3300', background: '#ffffff', text: '#222222' }, font: 'Helvetica, Arial, sans-serif', address: '1 High Street, Leeds LS1 1AA', senderName: 'Candle Co', senderEmail: 'hello@candle.test' });
    await put('/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test', pool: { maxConnections: 2 } });
    await put('/api/messaging/providers/sms', { baseUrl: sms.baseUrl, accountSid: sms.accountSid, authToken: sms.authToken, from: '+15005550006', statusCallbackUrl: `${o.url}/hooks/sms/default/status` });
    await put('/api/messaging/providers/push', { allowPrivateNetwork: true });
    await put('/api/messaging/policy', { caps: [{ scope: 'all', period: 'day', max: 2 }], quietHours: [{ channel: 'sms', start: '21:00', end: '08:00' }] });
    const tpl = async (name: string, source: unknown) => {
      const r = await o.api('POST', '/api/templates', { name, source });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    };
    ids.email = await tpl('welcome', {
      channel: 'email',
      subject: 'Hello {{ profile.traits.first_name | default: "there" }}',
      mjml: '<mj-section><mj-column><mj-text>Hi {{ profile.traits.first_name | default: "there" }}, new scents are in.</mj-text><mj-button href="https://shop.candle.test/new?src=email&amp;x=1">Shop now</mj-button></mj-column></mj-section>',
    });
    ids.sms = await tpl('sms offer', { channel: 'sms', body: 'Candle Co: 20% off tonight, {{ profile.traits.first_name | default: "friend" }}. Reply STOP to opt out' });
    ids.push = await tpl('push offer', { channel: 'push', title: 'New scents', body: 'Hi {{ profile.traits.first_name | default: "there" }}', url: 'https://shop.candle.test/new' });
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
    await sms?.close();
    await push?.close();
  });

  it('email over SMTP: rendered MJML, List-Unsubscribe headers, tracked links; one-click unsubscribe stops marketing', async () => {
    const ann = await person('ann', { email: 'ann@example.com', first_name: 'Ann <b>', consent: { email: 'subscribed' } }, 'Europe/London');
    const before = smtp.messages.length;
    const id = await send({ to: { userId: 'ann' }, channel: 'email', template: ids.email, topic: 'marketing', idempotencyKey: 'welcome-ann' });
    // The same idempotency key is the same message: never a second email.
    const again = await o.api('POST', '/api/messages', { to: { userId: 'ann' }, channel: 'email', template: ids.email, topic: 'marketing', idempotencyKey: 'welcome-ann' });
    expect(again.body).toMatchObject({ id, created: false });
    await o.settle();
    expect(smtp.messages.length).toBe(before + 1);
    const mail = (await mails()).at(-1)!;
    expect(mail.subject).toBe('Hello Ann <b>');
    expect(mail.messageId).toBe(`<${id}@mail.candle.test>`);
    expect(mail.html).toContain('Ann &lt;b&gt;');
    expect(mail.text).toContain('new scents are in');
    expect(mail.html).toContain('1 High Street, Leeds');
    // mailparser folds List-* headers into a structure: read the header as sent, unfolded.
    const rawHeader = (name: string) => new RegExp(`^${name}:[ \t]*(.*(?:\r\n[ \t].*)*)`, 'mi').exec(smtp.messages.at(-1)!.raw.toString('utf8'))?.[1]?.replace(/\r\n[ \t]+/g, ' ').trim();
    const lu = String(rawHeader('List-Unsubscribe'));
    expect(lu).toMatch(/^<mailto:unsubscribe@candle\.test\?subject=unsubscribe%20[A-Za-z0-9_-]+>, <http:\/\/127\.0\.0\.1:\d+\/u\/default\/[A-Za-z0-9_-]+>$/);
    expect(rawHeader('List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');

    // The button goes through a signed click link that redirects to the original URL.
    const click = /href="(http:\/\/127\.0\.0\.1:\d+\/t\/c\/default\/[^"]+)"/.exec(String(mail.html))![1]!;
    now += 60_000; // a minute after delivery: not a link scanner
    const red = await fetch(click, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15' } });
    expect(red.status).toBe(302);
    expect(red.headers.get('location')).toBe('https://shop.candle.test/new?src=email&x=1');
    // Tampering with the token is refused.
    // (The replaced character must differ from the one it replaces: choosing by another position failed 1 run in 64.)
    const tampered = click.slice(0, -3) + (click.at(-3) === 'A' ? 'B' : 'A') + click.slice(-2);
    expect((await fetch(tampered, { redirect: 'manual' })).status).toBe(400);
    const pixel = /src="(http:\/\/127\.0\.0\.1:\d+\/t\/o\/default\/[^"]+\.gif)"/.exec(String(mail.html))![1]!;
    const gif = await fetch(pixel, { headers: { 'user-agent': 'Mozilla/5.0' } }); // Apple's privacy proxy: flagged, not counted
    expect(gif.headers.get('content-type')).toBe('image/gif');
    await o.settle();
    const timeline = (await o.api('GET', `/api/profiles/${ann}/events?limit=50`)).body;
    const names = (timeline.events as { event: string; properties: Record<string, unknown> }[]).map((e) => e.event);
    expect(names).toEqual(expect.arrayContaining(['Message Sent', 'Message Clicked', 'Message Opened']));
    const opened = (timeline.events as { event: string; properties: Record<string, unknown> }[]).find((e) => e.event === 'Message Opened')!;
    expect(opened.properties).toMatchObject({ messageId: id, human: false, filtered: 'privacy_proxy' });
    // The proxy's open is recorded but not counted; the human click is.
    expect((await o.api('GET', `/api/messages/${id}`)).body.engagement).toEqual({
      opens: { total: 0, unique: 0, machine: 1 },
      clicks: { total: 1, unique: 1, machine: 0, urls: { 'https://shop.candle.test/new?src=email&x=1': 1 } },
    });

    // RFC 8058 one-click unsubscribe, as a mail client POSTs it.
    const unsubUrl = /<(http[^>]+)>$/.exec(lu)![1]!;
    const page = await fetch(unsubUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form');
    const post = await fetch(unsubUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    const profile = (await o.api('GET', `/api/profiles/${ann}`)).body;
    expect(profile.channels.find((c: { channel: string }) => c.channel === 'email').consent.marketing.state).toBe('unsubscribed');
    const sent = smtp.messages.length;
    const m2 = await send({ to: { userId: 'ann' }, channel: 'email', template: ids.email, topic: 'marketing' });
    const t2 = await send({ to: { userId: 'ann' }, channel: 'email', template: ids.email, topic: 'transactional' });
    await o.settle();
    expect(smtp.messages.length).toBe(sent + 1); // the receipt goes, the offer does not
    expect((await o.api('GET', `/api/messages/${m2}`)).body).toMatchObject({ status: 'skipped', decisions: [{ action: 'skip', code: 'unsubscribed' }] });
    expect((await o.api('GET', `/api/messages/${t2}`)).body.status).toBe('sent');

    // GDPR erasure takes the person's messages and decisions with them; the suppression of an address would stay.
    expect((await o.api('DELETE', `/api/profiles/${ann}`)).status).toBe(200);
    expect((await o.api('GET', `/api/messages/${t2}`)).status).toBe(404);
    expect(await o.rt.store.db.selectFrom('message_decisions').selectAll().where('message_id', 'in', [id, m2, t2]).execute()).toEqual([]);
  });

  it('a marketing email over the daily cap is deferred to the next local day, and the decision log says so', async () => {
    const bo = await person('bo', { email: 'bo@example.com', consent: { email: 'subscribed' } }, 'America/Los_Angeles');
    const start = now;
    const m: string[] = [];
    for (let i = 0; i < 3; i++) m.push(await send({ to: { userId: 'bo' }, channel: 'email', template: ids.email, topic: 'marketing', priority: 50 - i }));
    await o.settle();
    const status = async (id: string) => (await o.api('GET', `/api/messages/${id}`)).body;
    expect(await status(m[0]!), JSON.stringify(await status(m[0]!))).toMatchObject({ status: 'sent' });
    expect((await status(m[1]!)).status).toBe('sent');
    const third = await status(m[2]!);
    expect(third.status).toBe('deferred');
    // 4 March 10:01 in Los Angeles → the next local day starts at 5 March 00:00 PST = 08:00 UTC.
    const nextLocalDay = Date.UTC(2026, 2, 5, 8, 0);
    expect(third.nextAttemptAt).toBe(nextLocalDay);
    const log = (await o.api('GET', `/api/profiles/${bo}/decisions`)).body.decisions as { messageId: string; action: string; reason: string; until: number }[];
    const d = log.find((x) => x.messageId === m[2] && x.action === 'defer')!;
    expect(d.until).toBe(nextLocalDay);
    expect(d.reason).toMatch(/2 of 2 marketing messages/);
    expect(d.reason).toMatch(/America\/Los_Angeles/);
    // Just before local midnight nothing moves; at midnight it goes.
    now = nextLocalDay - 60_000;
    await o.settle();
    expect((await status(m[2]!)).status).toBe('deferred');
    now = nextLocalDay;
    await o.settle();
    expect((await status(m[2]!)).status).toBe('sent');
    now = Math.max(now, start) + HOUR;
  });

  it('an SMS due at 23:00 the person’s time is held until quiet hours end in their zone; STOP unsubscribes', async () => {
    now = Date.UTC(2026, 2, 10, 22, 0); // 23:00 in Berlin (CET)
    const cy = await person('cy', { phone: '+4915112345678', consent: { sms: 'subscribed' } }, 'Europe/Berlin');
    const id = await send({ to: { userId: 'cy' }, channel: 'sms', template: ids.sms, topic: 'marketing' });
    await o.settle();
    const held = (await o.api('GET', `/api/messages/${id}`)).body;
    expect(held.status).toBe('deferred');
    const eight = Date.UTC(2026, 2, 11, 7, 0); // 08:00 in Berlin
    expect(held.nextAttemptAt).toBe(eight);
    expect(held.decisions[0].reason).toMatch(/quiet hours/);
    const before = sms.messages.length;
    now = eight;
    await o.settle();
    expect(sms.messages.length).toBe(before + 1);
    const sent = sms.messages.at(-1)!;
    expect(sent.to).toBe('+4915112345678');
    expect(sent.body).toBe('Candle Co: 20% off tonight, friend. Reply STOP to opt out');
    expect((await o.api('GET', `/api/messages/${id}`)).body).toMatchObject({ status: 'sent', providerId: sent.sid });
    // The provider's signed delivery receipt marks it delivered.
    const cb = await sms.sendStatusCallback(sent.sid, 'delivered');
    expect(cb.status).toBe(204);
    expect((await o.api('GET', `/api/messages/${id}`)).body.status).toBe('delivered');

    // An inbound STOP (signed as Twilio signs it) unsubscribes; the next marketing SMS is not sent.
    const stop = await sms.sendInbound(`${o.url}/hooks/sms/default/inbound`, { from: '+4915112345678', to: '+15005550006', body: ' stop ' });
    expect(stop.status).toBe(200);
    const forged = await fetch(`${o.url}/hooks/sms/default/inbound`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' }, body: 'From=%2B4915112345678&Body=START' });
    expect(forged.status).toBe(403);
    const after = await send({ to: { userId: 'cy' }, channel: 'sms', template: ids.sms, topic: 'marketing' });
    await o.settle();
    expect((await o.api('GET', `/api/messages/${after}`)).body).toMatchObject({ status: 'skipped' });
    const profile = (await o.api('GET', `/api/profiles/${cy}`)).body;
    expect(profile.channels.find((c: { channel: string }) => c.channel === 'sms').consent.all.state).toBe('unsubscribed');
  });

  it('"best channel" falls back from an expired push subscription to SMS, and the decision log says why', async () => {
    now = Date.UTC(2026, 2, 12, 12, 0); // midday in London
    const di = await person('di', { phone: '+447911123456', consent: { sms: 'subscribed' }, preferred_channel: 'push' }, 'Europe/London');
    const sub = createSubscriber(push.origin);
    const subscribe = (body: unknown) => fetch(`${o.url}/v1/push/subscribe`, { method: 'POST', headers: { authorization: o.basic, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    // A userId alone is a claim anyone with the public write key could make: it needs the server-computed userHash.
    expect((await subscribe({ userId: 'di', subscription: sub.subscription })).status).toBe(401);
    expect((await subscribe({ userId: 'di', userHash: 'f'.repeat(64), subscription: sub.subscription })).status).toBe(401);
    const userHash = await o.rt.messaging.settings.userHash('default', 'di');
    const reg = await subscribe({ userId: 'di', userHash, subscription: sub.subscription });
    expect(reg.status).toBe(201);
    // First a push that works: the payload decrypts with the subscriber's private key.
    const ok = await send({ to: { userId: 'di' }, channel: 'push', template: ids.push, topic: 'transactional' });
    await o.settle();
    expect((await o.api('GET', `/api/messages/${ok}`)).body.status).toBe('sent');
    const payload = JSON.parse(decryptAes128gcm(push.requests.at(-1)!.body, sub).toString('utf8'));
    expect(payload).toMatchObject({ title: 'New scents', body: 'Hi there', url: 'https://shop.candle.test/new', messageId: ok });
    // Then the browser drops the subscription: the push service answers 410 Gone.
    push.respond(sub.subscription.endpoint.split('/').at(-1)!, 410);
    const before = sms.messages.length;
    const id = await send({ to: { userId: 'di' }, channel: 'best', templates: { push: ids.push, sms: ids.sms }, topic: 'marketing' });
    await o.settle();
    const m = (await o.api('GET', `/api/messages/${id}`)).body;
    expect(sms.messages.length, JSON.stringify(m)).toBe(before + 1);
    expect(m).toMatchObject({ status: 'sent', channel: 'sms', excludedChannels: ['push'] });
    const actions = (m.decisions as { action: string; channel: string; reason: string }[]).map((d) => `${d.action}:${d.channel}`);
    expect(actions).toEqual(['send:push', 'fallback:push', 'reroute:sms']);
    expect(m.decisions[1].reason).toMatch(/410|gone|removed/i);
    const profile = (await o.api('GET', `/api/profiles/${di}/decisions`)).body.decisions as { messageId: string }[];
    expect(profile.filter((d) => d.messageId === id)).toHaveLength(3);
    // The expired subscription is gone.
    expect(await o.rt.store.db.selectFrom('push_subscriptions').selectAll().where('endpoint', '=', sub.subscription.endpoint).execute()).toEqual([]);
  });

  it('a worker whose lease was taken over neither sends nor records (no double send after a slow provider)', async () => {
    const id = await send({ to: { userId: 'bo' }, channel: 'email', template: ids.email, topic: 'transactional', notBefore: new Date(now + 86_400_000).toISOString() });
    const db = o.rt.store.db;
    // As if this worker decided at lease L and another worker took the message over after L ran out (lease L2).
    const L = now + 1000;
    const L2 = now + 2000;
    await db.updateTable('messages').set({ status: 'sending', channel: 'email', next_attempt_at: L2 }).where('id', '=', id).execute();
    const row = await db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const before = smtp.messages.length;
    await o.rt.messaging.deliverer.deliver('default', { ...row, next_attempt_at: L }, 'email');
    expect(smtp.messages.length).toBe(before);
    expect(await db.selectFrom('messages').select(['status', 'next_attempt_at']).where('id', '=', id).executeTakeFirstOrThrow()).toEqual({ status: 'sending', next_attempt_at: L2 });
    // The holder of the current lease sends and records.
    await o.rt.messaging.deliverer.deliver('default', { ...row, next_attempt_at: L2 }, 'email');
    expect(smtp.messages.length).toBe(before + 1);
    expect((await db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status).toBe('sent');
  });

  it('bad input is refused naming the field, and nothing is saved', async () => {
    const count = async () => Number((await o.rt.store.db.selectFrom('templates').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const n = await count();
    const bad = await o.api('POST', '/api/templates', { name: 'broken', source: { channel: 'sms', body: 'Hi {{ profile.traits.first_name | default: "x" ' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toMatch(/^source\.body/);
    expect(bad.body.error.message).toMatch(/line 1/);
    expect((await o.api('POST', '/api/templates', { name: 'x', source: { channel: 'fax', body: 'hi' } })).status).toBe(400);
    expect(await count()).toBe(n);
    const cases: [unknown, string][] = [
      [{ to: { userId: 'bo' }, channel: 'email', template: ids.email, topic: 'nope' }, 'topic'],
      [{ to: { userId: 'bo' }, channel: 'email', template: ids.sms, topic: 'marketing' }, 'template'],
      [{ to: { userId: 'bo', email: 'a@b.c' }, channel: 'email', template: ids.email, topic: 'marketing' }, 'to'],
      [{ to: { userId: 'bo' }, channel: 'best', topic: 'marketing' }, 'templates'],
      [{ to: { userId: 'bo' }, channel: 'fax', template: ids.email, topic: 'marketing' }, 'channel'],
    ];
    const messages = async () => Number((await o.rt.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const m = await messages();
    for (const [body, field] of cases) {
      const r = await o.api('POST', '/api/messages', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.field ?? r.body.error.message).toContain(field);
    }
    expect((await o.api('POST', '/api/messages', { to: { userId: 'nobody' }, channel: 'email', template: ids.email, topic: 'marketing' })).status).toBe(404);
    expect(await messages()).toBe(m);
    const prov = await o.api('PUT', '/api/messaging/providers/sms', { baseUrl: sms.baseUrl, accountSid: 'AC'.padEnd(34, '1'), from: '+15005550006' });
    expect(prov.status).toBe(400);
    expect(prov.body.error.field).toBe('authToken');
    const rate = await o.api('PUT', '/api/messaging/providers/sms', { baseUrl: sms.baseUrl, accountSid: sms.accountSid, authToken: sms.authToken, from: '+15005550006', rateLimitPerSecond: -1 });
    expect(rate.status).toBe(400);
    expect(rate.body.error.field).toBe('rateLimitPerSecond');
    const pol = await o.api('PUT', '/api/messaging/policy', { quietHours: [{ channel: 'sms', start: '25:00', end: '08:00' }] });
    expect(pol.status).toBe(400);
    expect(pol.body.error.field).toBe('quietHours[0].start');
    const hook = await o.api('PUT', '/api/messaging/providers/webhook', { url: 'http://10.0.0.1/hook', secret: 'x'.repeat(20) });
    expect(hook.status).toBe(400);
    expect(hook.body.error.field).toBe('url');
    // Provider secrets are encrypted at rest and masked when read back.
    const rows = await o.rt.store.db.selectFrom('messaging_settings').select(['name', 'value']).execute();
    expect(JSON.stringify(rows)).not.toContain(sms.authToken);
    const masked = (await o.api('GET', '/api/messaging/providers')).body.providers.sms;
    expect(masked.authToken).toBe('********');
    // Sending the masked config back (as a settings form does) keeps the stored secret.
    const { channel: _c, provider: _p, ...back } = masked;
    expect((await o.api('PUT', '/api/messaging/providers/sms', back)).status).toBe(200);
    expect(((await o.rt.messaging.settings.provider('default', 'sms'))!.config as { authToken: string }).authToken).toBe(sms.authToken);
  });
});
