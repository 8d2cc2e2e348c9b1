// Messaging API beyond test/messaging.test.ts, on both backends: template preview and versions, the onsite and webhook
// channels, bounce/complaint intake, double opt-in, the preference centre, notBefore, and workspace isolation. Real
// parts: an SMTP server, a node:http webhook receiver; an injected clock.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RETRY_DELAYS_MS } from '../src/messaging/deliver.ts';
import { verifySignature } from '../src/webhooks/sign.ts';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';
import { messagingHelpers } from './support/messaging.ts';

const SECRET = 'whsec_test_secret_value_123';
const HOUR = 3_600_000;
type Ev = { event: string; channel: string | null; properties: Record<string, unknown> };

/** A bounce as Postfix sends it (RFC 3464), with the original message's headers attached. */
const dsnReport = (recipient: string, action: string, status: string, original: string) => `From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: hello@candle.test
Subject: Undelivered Mail Returned to Sender
Date: Wed, 4 Mar 2026 12:05:00 +0000
Message-ID: <20260304120500.ABC123@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="=_dsn_boundary"

--=_dsn_boundary
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered to <${recipient}>: ${status}

--=_dsn_boundary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Wed, 4 Mar 2026 12:00:01 +0000

Final-Recipient: rfc822; ${recipient}
Original-Recipient: rfc822;${recipient}
Action: ${action}
Status: ${status}
Diagnostic-Code: smtp; ${status[0] === '5' ? '550' : '451'} ${status} <${recipient}>: ${status[0] === '5' ? 'Recipient address rejected: User unknown' : 'Mailbox busy, try again later'}

--=_dsn_boundary
Content-Type: text/rfc822-headers

${original}

--=_dsn_boundary--
`;

/** A spam complaint as a mailbox provider's feedback loop sends it (ARF, RFC 5965), with the original message. */
const arfReport = (recipient: string, original: string) => `From: Mail AntiSpam Feedback <feedback@arf.mail.example.org>
To: abuse@candle.test
Subject: FW: Hello
Date: Wed, 4 Mar 2026 13:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="----=_arf"

------=_arf
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP 192.0.2.1.

------=_arf
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Mail-Feedback/2.0
Version: 1
Original-Mail-From: <hello@candle.test>
Original-Rcpt-To: <${recipient}>
Source-IP: 192.0.2.1

------=_arf
Content-Type: message/rfc822
Content-Disposition: inline

${original}

Hi, new scents are in.
------=_arf--
`;

describe.each(BACKENDS)('messaging API (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let receiver: http.Server;
  let hookUrl = '';
  const hooks: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const hookStatuses: number[] = []; // the receiver's next answers (then 200)
  let now = Date.UTC(2026, 2, 4, 12, 0);
  const ids: Record<string, string> = {};

  const { person, send } = messagingHelpers(() => o, () => now);
  const msg = async (id: string) => (await o.api('GET', `/api/messages/${id}`)).body;
  const mailTo = async (address: string) => {
    const raw = smtp.messages.filter((m) => m.to.includes(address)).at(-1);
    expect(raw, `no mail to ${address}`).toBeDefined();
    return { raw: raw!.raw.toString('utf8'), mail: await simpleParser(raw!.raw) };
  };
  const consent = async (profileId: string, channel: string) =>
    ((await o.api('GET', `/api/profiles/${profileId}`)).body.channels.find((c: { channel: string }) => c.channel === channel)?.consent ?? {}) as Record<string, { state: string; source: string } | undefined>;
  const timeline = async (profileId: string) => (await o.api('GET', `/api/profiles/${profileId}/events?limit=200`)).body.events as Ev[];
  const suppressions = async () => (await o.api('GET', '/api/suppressions')).body.suppressions as { channel: string; address: string; reason: string }[];
  const hrefOf = (html: string, text: string) => new RegExp(`<a\\s+href="([^"]+)"[^>]*>\\s*${text}`).exec(html)?.[1]?.replace(/&amp;/g, '&');
  /** An email link's destination: itself, or where Omnia's click redirect sends it (see the consent-links test). */
  const target = async (href: string) => (href.includes('/t/c/') ? String((await fetch(href, { redirect: 'manual' })).headers.get('location')) : href);
  const tamper = (url: string) => url.slice(0, -3) + (url.at(-3) === 'A' ? 'B' : 'A') + url.slice(-2);
  const form = (url: string, body: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    smtp = await startSmtpServer();
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(hookStatuses.shift() ?? 200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
    hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const put = async (path: string, body: unknown) => {
      const r = await o.api('PUT', path, body);
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
      return r.body;
    };
    await put('/api/messaging/brand', { name: 'Candle Co', colors: { primary: '#aa3300', background: '#ffffff', text: '#222222' }, font: 'Helvetica, Arial, sans-serif', address: '1 High Street, Leeds LS1 1AA', senderName: 'Candle Co', senderEmail: 'hello@candle.test' });
    await put('/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' });
    const hook = await put('/api/messaging/providers/webhook', { url: hookUrl, secret: SECRET, allowPrivateNetwork: true });
    expect(hook.provider).toMatchObject({ url: hookUrl, secret: '********', allowPrivateNetwork: true });
    await put('/api/messaging/policy', { caps: [], quietHours: [] });
    const tpl = async (name: string, source: unknown) => {
      const r = await o.api('POST', '/api/templates', { name, source });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      return r.body.id as string;
    };
    ids.email = await tpl('welcome', {
      channel: 'email',
      subject: 'Hello {{ profile.traits.first_name | default: "there" }}',
      mjml: '<mj-section><mj-column><mj-text>Hi {{ profile.traits.first_name | default: "there" }}, new scents are in.</mj-text><mj-button href="https://shop.candle.test/new">Shop now</mj-button></mj-column></mj-section>',
    });
    ids.onsite = await tpl('onsite banner', { channel: 'onsite', kind: 'banner', title: 'For {{ profile.traits.first_name | default: "you" }}', body: '<p>Hi {{ profile.traits.first_name | default: "there" }}, 10% off today.</p>', url: 'https://shop.candle.test/sale' });
    ids.webhook = await tpl('webhook', { channel: 'webhook', body: '{"hello": "{{ profile.traits.first_name | default: "x" }}", "message": "{{ message.id }}"}' });
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('preview renders drafts and saved templates (SMS encoding and segments, escaped traits) and refuses bad ones naming the field', async () => {
    const preview = (body: unknown) => o.api('POST', '/api/templates/preview', body);
    const a100 = 'a'.repeat(100);
    const cases: [string, string, 'GSM-7' | 'UCS-2', number, number][] = [
      [`Hi {{ profile.traits.first_name }} 🔥 ${a100}`, `Hi Alex 🔥 ${a100}`, 'UCS-2', 111, 2],
      [`Hi {{ profile.traits.first_name }} ${a100}`, `Hi Alex ${a100}`, 'GSM-7', 108, 1],
      [`${'x'.repeat(68)}🔥`, `${'x'.repeat(68)}🔥`, 'UCS-2', 70, 1],
      [`${'x'.repeat(69)}🔥`, `${'x'.repeat(69)}🔥`, 'UCS-2', 71, 2],
    ];
    for (const [source, body, encoding, units, segments] of cases) {
      const r = await preview({ source: { channel: 'sms', body: source } });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body.content.sms, source).toEqual({ body, encoding, units, segments });
    }

    const pia = await person('pia', { email: 'pia@example.com', first_name: 'Pia <i>&' });
    const sentBefore = smtp.messages.length;
    const saved = await preview({ templateId: ids.email, profileId: pia });
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
    expect(saved.body).toMatchObject({ templateId: ids.email, version: 1, profileId: pia });
    expect(saved.body.content.email.subject).toBe('Hello Pia <i>&');
    expect(saved.body.content.email.html).toContain('Hi Pia &lt;i&gt;&amp;, new scents are in.');
    expect(saved.body.content.email.html).not.toContain('Pia <i>');
    expect(saved.body.content.email.html).toContain('href="https://shop.candle.test/new"'); // no tracking in a preview
    expect((await preview({ templateId: ids.email, profileId: 'prf_nobody' })).status).toBe(404);

    const missing = await preview({ source: { channel: 'sms', body: 'Hi {{ profile.traits.nickname }}' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.field).toMatch(/(^|\.)body$/);
    expect(missing.body.error.message).toContain('profile.traits.nickname');
    const syntax = await preview({ source: { channel: 'sms', body: 'Hello\nthere {{ profile.traits.first_name | default: "x" ' } });
    expect(syntax.status).toBe(400);
    expect(syntax.body.error.field).toBe('source.body');
    expect(syntax.body.error.message).toMatch(/line 2/);
    await o.settle();
    expect(smtp.messages.length).toBe(sentBefore); // a preview sends nothing
  });

  it('changing a template source makes version 2; each send records the version it rendered', async () => {
    const vic = await person('vic', { email: 'vic@example.com' });
    const created = await o.api('POST', '/api/templates', { name: 'versioned', source: { channel: 'email', subject: 'Version one', mjml: '<mj-section><mj-column><mj-text>One</mj-text></mj-column></mj-section>' } });
    const id = created.body.id as string;
    expect(created.body.version).toBe(1);
    const m1 = await send({ to: { userId: 'vic' }, channel: 'email', template: id, topic: 'transactional' });
    await o.settle();
    const patched = await o.api('PATCH', `/api/templates/${id}`, { source: { channel: 'email', subject: 'Version two', mjml: '<mj-section><mj-column><mj-text>Two</mj-text></mj-column></mj-section>' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.version).toBe(2);
    expect((await o.api('PATCH', `/api/templates/${id}`, { name: 'versioned-renamed' })).body.version).toBe(2); // a rename is not a version
    const m2 = await send({ to: { userId: 'vic' }, channel: 'email', template: id, topic: 'transactional' });
    await o.settle();
    expect(await msg(m1)).toMatchObject({ status: 'sent', templateId: id, templateVersion: 1 });
    expect(await msg(m2)).toMatchObject({ status: 'sent', templateId: id, templateVersion: 2 });
    expect((await mailTo('vic@example.com')).mail.subject).toBe('Version two');
    const versions = (await o.api('GET', `/api/templates/${id}/versions`)).body.versions as { version: number }[];
    expect(versions.map((v) => v.version)).toEqual([2, 1]);
    const sentEvents = (await timeline(vic)).filter((e) => e.event === 'Message Sent' && e.properties.templateId === id);
    expect(sentEvents.map((e) => e.properties.templateVersion).sort()).toEqual([1, 2]);
  });

  it('onsite: the feed lists the message (trait escaped), seen and dismissed are recorded, and it leaves the feed', async () => {
    const oli = await person('oli', { first_name: '<script>alert(1)</script>' });
    const id = await send({ to: { userId: 'oli' }, channel: 'onsite', template: ids.onsite, topic: 'marketing' });
    await o.settle();
    expect(await msg(id)).toMatchObject({ status: 'sent', channel: 'onsite' });
    const who = `userId=oli&userHash=${await o.rt.messaging.settings.userHash('default', 'oli')}`;
    expect((await fetch(`${o.url}/v1/onsite?userId=oli`, { headers: { authorization: o.basic } })).status).toBe(401); // no userHash
    const feed = async (headers: Record<string, string> = { authorization: o.basic }) => {
      const r = await fetch(`${o.url}/v1/onsite?${who}`, { headers });
      return { status: r.status, body: (await r.json()) as { messages: Record<string, unknown>[] } };
    };
    const first = await feed();
    expect(first.status).toBe(200);
    expect(first.body.messages).toEqual([expect.objectContaining({ id, kind: 'banner', url: 'https://shop.candle.test/sale', seen: false })]);
    expect(first.body.messages[0]!.html).toBe('<p>Hi &lt;script&gt;alert(1)&lt;/script&gt;, 10% off today.</p>');
    const adminBasic = `Basic ${Buffer.from(`${o.adminKey}:`).toString('base64')}`;
    const refused: Record<string, string>[] = [{}, { authorization: adminBasic }, { authorization: `Basic ${Buffer.from('omw_wrong:').toString('base64')}` }];
    for (const headers of refused) expect((await feed(headers)).status).toBe(401);
    const act = (action: string, mid = id, headers: Record<string, string> = { authorization: o.basic }, q = who) => fetch(`${o.url}/v1/onsite/${mid}/${action}?${q}`, { method: 'POST', headers });
    // Only the message's own person may report on it.
    await person('other', {});
    expect((await act('seen', id, undefined, `userId=other&userHash=${await o.rt.messaging.settings.userHash('default', 'other')}`)).status).toBe(404);
    expect((await act('seen', id, undefined, '')).status).toBe(400);
    expect((await act('seen', id, {})).status).toBe(401);
    expect((await act('clicked')).status).toBe(400);
    expect((await act('seen', 'msg_nope')).status).toBe(404);
    expect((await act('seen')).status).toBe(204);
    expect((await act('seen')).status).toBe(204); // twice: one Opened event
    expect((await feed()).body.messages).toEqual([expect.objectContaining({ id, seen: true })]);
    now += 60_000;
    expect((await act('dismissed')).status).toBe(204);
    expect((await feed()).body.messages).toEqual([]);
    await o.settle();
    const events = (await timeline(oli)).filter((e) => e.properties.messageId === id);
    expect(events.filter((e) => e.event === 'Message Opened')).toEqual([expect.objectContaining({ channel: 'onsite' })]);
    expect(events.filter((e) => e.event === 'Message Dismissed')).toEqual([expect.objectContaining({ channel: 'onsite' })]);
  });

  it('webhook channel: signed JSON to the receiver; a 500 is retried after the backoff', async () => {
    const wes = await person('wes', { first_name: 'Wes "W"' });
    const before = hooks.length;
    const id = await send({ to: { userId: 'wes' }, channel: 'webhook', template: ids.webhook, topic: 'transactional' });
    await o.settle();
    expect(await msg(id)).toMatchObject({ status: 'sent', channel: 'webhook', profileId: wes });
    expect(hooks.length).toBe(before + 1);
    const got = hooks.at(-1)!;
    expect(JSON.parse(got.body)).toEqual({ hello: 'Wes "W"', message: id });
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['omnia-webhook-id']).toBe(id);
    expect(got.headers['omnia-webhook-timestamp']).toBe(String(Math.floor(now / 1000)));
    const sig = { id, timestamp: String(got.headers['omnia-webhook-timestamp']), signature: String(got.headers['omnia-signature']) };
    expect(verifySignature(SECRET, sig, got.body, Math.floor(now / 1000))).toBe(true);
    expect(verifySignature('whsec_some_other_secret_000', sig, got.body, Math.floor(now / 1000))).toBe(false);

    hookStatuses.push(500);
    const retried = await send({ to: { userId: 'wes' }, channel: 'webhook', template: ids.webhook, topic: 'transactional' });
    await o.settle();
    const r = await msg(retried);
    expect(hooks.length).toBe(before + 2);
    expect(r).toMatchObject({ status: 'retry', attempts: 1 });
    expect(r.nextAttemptAt).toBe(now + RETRY_DELAYS_MS[0]!);
    expect(r.decisions.find((d: { action: string }) => d.action === 'retry')).toMatchObject({ channel: 'webhook', until: r.nextAttemptAt });
    now = r.nextAttemptAt - 1000;
    await o.settle();
    expect((await msg(retried)).status).toBe('retry');
    now = r.nextAttemptAt;
    await o.settle();
    expect((await msg(retried)).status).toBe('sent');
    expect(hooks.length).toBe(before + 3);
    expect(hooks.at(-1)!.headers['omnia-webhook-id']).toBe(retried); // the same id: the receiver can deduplicate
  });

  it('the webhook provider refuses private and link-local URLs without allowPrivateNetwork (400 on url)', async () => {
    try {
      for (const url of ['https://10.0.0.1/hook', 'https://169.254.169.254/latest/meta-data', 'http://10.0.0.1/hook']) {
        const bad = await o.api('PUT', '/api/messaging/providers/webhook', { url, secret: SECRET });
        expect.soft(bad.status, url).toBe(400);
        expect.soft(bad.body.error?.field, url).toBe('url');
      }
      expect.soft((await o.api('GET', '/api/messaging/providers')).body.providers.webhook.url, 'nothing saved').toBe(hookUrl);
    } finally {
      expect((await o.api('PUT', '/api/messaging/providers/webhook', { url: hookUrl, secret: SECRET, allowPrivateNetwork: true })).status).toBe(200);
    }
  });

  it('bounce (DSN) and complaint (ARF) intake: suppressed, consent changed; soft bounces and garbage suppress nothing', async () => {
    const post = async (raw: string) => {
      const res = await fetch(`${o.url}/api/messaging/feedback`, { method: 'POST', headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'message/rfc822' }, body: raw.replace(/\r?\n/g, '\r\n') });
      return { status: res.status, body: (await res.json()) as any };
    };
    const bea = await person('bea', { email: 'bea@example.com', consent: { email: 'subscribed' } });
    const cal = await person('cal', { email: 'cal@example.com', consent: { email: 'subscribed' } });
    const sentTo = async (userId: string, address: string) => {
      const id = await send({ to: { userId }, channel: 'email', template: ids.email, topic: 'marketing' });
      await o.settle();
      const { raw, mail } = await mailTo(address);
      expect(mail.messageId).toBe(`<${id}@mail.candle.test>`);
      return { id, headers: raw.slice(0, raw.indexOf('\r\n\r\n')) };
    };
    const b = await sentTo('bea', 'bea@example.com');
    const bounce = await post(dsnReport('bea@example.com', 'failed', '5.1.1', b.headers));
    expect(bounce.status, JSON.stringify(bounce.body)).toBe(200);
    expect(bounce.body).toMatchObject({ kind: 'bounce', recipient: 'bea@example.com', messageId: b.id, suppressed: true });
    expect(await suppressions()).toEqual(expect.arrayContaining([expect.objectContaining({ channel: 'email', address: 'bea@example.com' })]));
    expect((await msg(b.id)).status).toBe('failed');
    await o.settle();
    expect((await timeline(bea)).some((e) => e.event === 'Message Bounced' && e.properties.messageId === b.id)).toBe(true);
    for (const topic of ['marketing', 'transactional']) {
      const next = await send({ to: { userId: 'bea' }, channel: 'email', template: ids.email, topic });
      await o.settle();
      expect(await msg(next), topic).toMatchObject({ status: 'skipped', decisions: [{ action: 'skip', code: 'suppressed' }] });
    }

    const c = await sentTo('cal', 'cal@example.com');
    const arf = await post(arfReport('cal@example.com', c.headers));
    expect(arf.status, JSON.stringify(arf.body)).toBe(200);
    expect(arf.body).toMatchObject({ kind: 'complaint', recipient: 'cal@example.com', messageId: c.id, suppressed: true });
    expect((await consent(cal, 'email')).all).toMatchObject({ state: 'unsubscribed', source: 'complaint' });
    expect((await suppressions()).find((s) => s.address === 'cal@example.com')?.reason).toMatch(/complaint/);

    const count = (await suppressions()).length;
    const harmless: [string, Record<string, unknown>][] = [
      ['this is not a bounce, just a note\r\n', { kind: 'unknown', suppressed: false, messageId: null }],
      [dsnReport('soft@example.com', 'delayed', '4.4.1', 'Message-ID: <unknown@elsewhere.test>'), { kind: 'bounce', recipient: 'soft@example.com', suppressed: false, messageId: null }],
    ];
    for (const [raw, expected] of harmless) {
      const r = await post(raw);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(r.body).toMatchObject(expected);
    }
    expect((await suppressions()).length).toBe(count);
  });

  it('double opt-in: a confirmation email; its link shows a form (GET changes nothing) and the POST subscribes', async () => {
    const dee = await person('dee', { email: 'dee@example.com', first_name: 'Dee' });
    const req = await o.api('POST', `/api/profiles/${dee}/opt-in`, { topic: 'marketing' });
    expect(req.status, JSON.stringify(req.body)).toBe(202);
    expect(req.body).toMatchObject({ profileId: dee, topic: 'marketing', created: true });
    expect((await o.api('POST', `/api/profiles/${dee}/opt-in`, { topic: 'marketing' })).body).toMatchObject({ messageId: req.body.messageId, created: false });
    for (const topic of ['transactional', 'nope']) {
      const bad = await o.api('POST', `/api/profiles/${dee}/opt-in`, { topic });
      expect(bad.status, topic).toBe(400);
      expect(bad.body.error.field).toBe('topic');
    }
    await o.settle();
    expect(await msg(req.body.messageId)).toMatchObject({ status: 'sent', channel: 'email', topic: 'transactional' });
    const { mail } = await mailTo('dee@example.com');
    expect(mail.subject).toBe('Please confirm your subscription');
    const href = hrefOf(String(mail.html), 'Confirm subscription');
    expect(href).toBeDefined();
    const confirmUrl = await target(href!);
    expect(confirmUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/c\/default\/[A-Za-z0-9_-]+$/);

    const page = await fetch(confirmUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form[^>]*method="post"/);
    expect((await consent(dee, 'email')).marketing?.state).not.toBe('subscribed');
    expect((await fetch(tamper(confirmUrl))).status).toBe(400);
    expect((await form(tamper(confirmUrl), '')).status).toBe(400);
    expect((await consent(dee, 'email')).marketing?.state).not.toBe('subscribed');
    const done = await form(confirmUrl, '');
    expect(done.status).toBe(200);
    expect((await consent(dee, 'email')).marketing).toMatchObject({ state: 'subscribed', source: 'double_opt_in' });
    await o.settle();
    expect((await timeline(dee)).some((e) => e.event === 'Opt-in Confirmed' && e.properties.topic === 'marketing')).toBe(true);
  });

  it("preference centre: the email's preferences link opens it; unticking SMS marketing unsubscribes; unknown fields change nothing", async () => {
    const eve = await person('eve', { email: 'eve@example.com', phone: '+447700900555', consent: { email: 'subscribed', sms: 'subscribed' } });
    await send({ to: { userId: 'eve' }, channel: 'email', template: ids.email, topic: 'marketing' });
    await o.settle();
    const href = hrefOf(String((await mailTo('eve@example.com')).mail.html), 'Manage preferences');
    expect(href).toBeDefined();
    const pageUrl = await target(href!);
    expect(pageUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/p\/default\/[A-Za-z0-9_-]+$/);
    const page = await fetch(pageUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Your communication preferences');
    const inputs = [...html.matchAll(/<input\b[^>]*>/g)].map(([tag]) => ({
      type: /type="([^"]*)"/.exec(tag)?.[1],
      name: /name="([^"]*)"/.exec(tag)?.[1]?.replace(/&#39;/g, "'"),
      value: /value="([^"]*)"/.exec(tag)?.[1] ?? '',
      checked: /\schecked\b/.test(tag),
    }));
    expect(inputs).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'sub:sms:marketing', checked: true }), expect.objectContaining({ name: 'was:sms:marketing', value: 'subscribed' })]));
    const fields = new URLSearchParams();
    for (const i of inputs) {
      if (!i.name) continue;
      if (i.type === 'hidden') fields.append(i.name, i.value);
      else if (i.type === 'checkbox' && i.checked && i.name !== 'sub:sms:marketing') fields.append(i.name, i.value);
    }
    fields.append('op', 'save');
    const saved = await form(pageUrl, fields.toString());
    expect(saved.status).toBe(200);
    expect(await saved.text()).toContain('Your preferences have been saved');
    expect((await consent(eve, 'sms')).marketing).toMatchObject({ state: 'unsubscribed', source: 'preference_centre' });
    const email = await consent(eve, 'email');
    expect(email.marketing?.state).not.toBe('unsubscribed');
    expect(email.all?.state).toBe('subscribed');

    const snapshot = JSON.stringify((await o.api('GET', `/api/profiles/${eve}`)).body.channels);
    const token = fields.get('token')!;
    for (const bad of [`token=${token}&sub:email:nope=on&was:email:nope=never_asked&op=save`, `token=${token}&sub:fax:marketing=on&op=save`, `token=${token}&sub:email:transactional=on&op=save`]) {
      const r = await form(pageUrl, bad.replace(/:/g, '%3A'));
      expect(r.status, bad).toBe(400);
    }
    expect((await form(tamper(pageUrl), fields.toString())).status).toBe(400);
    expect(JSON.stringify((await o.api('GET', `/api/profiles/${eve}`)).body.channels)).toBe(snapshot);
  });

  it('consent links in an email (unsubscribe, preferences, opt-in confirmation) are not wrapped in click tracking', async () => {
    // rewrite.ts: links that already are Omnia links (/u/, /p/, /c/) are left alone; a click on them is no engagement.
    const footer = String((await mailTo('eve@example.com')).mail.html);
    const confirm = String((await mailTo('dee@example.com')).mail.html);
    const links: [string, string | undefined, RegExp][] = [
      ['Unsubscribe', hrefOf(footer, 'Unsubscribe'), /^http:\/\/127\.0\.0\.1:\d+\/u\/default\/[A-Za-z0-9_-]+$/],
      ['Manage preferences', hrefOf(footer, 'Manage preferences'), /^http:\/\/127\.0\.0\.1:\d+\/p\/default\/[A-Za-z0-9_-]+$/],
      ['Confirm subscription', hrefOf(confirm, 'Confirm subscription'), /^http:\/\/127\.0\.0\.1:\d+\/c\/default\/[A-Za-z0-9_-]+$/],
    ];
    for (const [text, href, expected] of links) expect.soft(href, text).toMatch(expected);
  });

  it('notBefore holds a message until that moment; the same idempotency key is the same message', async () => {
    await person('fay', { email: 'fay@example.com' });
    const bad = await o.api('POST', '/api/messages', { to: { userId: 'fay' }, channel: 'email', template: ids.email, topic: 'transactional', notBefore: 'tomorrow' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toContain('notBefore');
    const at = now + 2 * HOUR;
    const body = { to: { userId: 'fay' }, channel: 'email', template: ids.email, topic: 'transactional', idempotencyKey: 'fay-later', notBefore: new Date(at).toISOString() };
    const id = await send(body);
    const again = await o.api('POST', '/api/messages', { ...body, notBefore: new Date(now + 5 * HOUR).toISOString() });
    expect(again.body).toMatchObject({ id, created: false });
    const sent = smtp.messages.length;
    await o.settle();
    expect(await msg(id)).toMatchObject({ status: 'queued', nextAttemptAt: at, sentAt: null });
    now = at - 60_000;
    await o.settle();
    expect((await msg(id)).status).toBe('queued');
    expect(smtp.messages.length).toBe(sent);
    now = at;
    await o.settle();
    expect(await msg(id)).toMatchObject({ status: 'sent', sentAt: at });
    expect(smtp.messages.length).toBe(sent + 1);
  });

  it("workspace isolation: another workspace's key reaches none of this workspace's templates, messages or decisions", async () => {
    const iso = await person('iso', { email: 'iso@example.com' });
    const mid = await send({ to: { userId: 'iso' }, channel: 'email', template: ids.email, topic: 'transactional' });
    const onsite = await send({ to: { userId: 'iso' }, channel: 'onsite', template: ids.onsite, topic: 'transactional' });
    await o.settle();
    expect((await msg(onsite)).status).toBe('sent');
    const created = await o.api('POST', '/api/workspaces', { name: `Messaging B ${backend}` });
    expect(created.status).toBe(201);
    const B = { admin: created.body.keys.admin as string, basic: `Basic ${Buffer.from(`${created.body.keys.write}:`).toString('base64')}` };
    const asB = (method: string, url: string, body?: unknown) => o.api(method, url, body, B.admin);
    expect((await asB('GET', '/api/templates')).body).toEqual({ templates: [] });
    expect((await asB('GET', '/api/suppressions')).body).toEqual({ suppressions: [] });
    const unreachable: [string, string, unknown?][] = [
      ['GET', `/api/templates/${ids.email}`], ['GET', `/api/templates/${ids.email}/versions`], ['DELETE', `/api/templates/${ids.email}`],
      ['PATCH', `/api/templates/${ids.email}`, { name: 'taken over' }], ['POST', '/api/templates/preview', { templateId: ids.email }],
      ['GET', `/api/messages/${mid}`], ['GET', `/api/profiles/${iso}/decisions`], ['GET', `/api/profiles/${iso}/messages`],
      ['POST', `/api/profiles/${iso}/opt-in`, { topic: 'marketing' }], ['POST', '/api/messages', { to: { userId: 'iso' }, channel: 'email', template: ids.email, topic: 'transactional' }],
    ];
    for (const [method, url, body] of unreachable) expect((await asB(method, url, body)).status, `${method} ${url}`).toBe(404);
    const wsB = created.body.workspace.id as string;
    const isoInB = `userId=iso&userHash=${await o.rt.messaging.settings.userHash(wsB, 'iso')}`;
    expect((await fetch(`${o.url}/v1/onsite/${onsite}/dismissed?${isoInB}`, { method: 'POST', headers: { authorization: B.basic } })).status).toBe(404);
    expect(await (await fetch(`${o.url}/v1/onsite?${isoInB}`, { headers: { authorization: B.basic } })).json()).toEqual({ messages: [] });
    // Nothing of A changed.
    expect((await o.api('GET', `/api/templates/${ids.email}`)).body).toMatchObject({ name: 'welcome', status: 'active' });
    const feedA = (await (await fetch(`${o.url}/v1/onsite?userId=iso&userHash=${await o.rt.messaging.settings.userHash('default', 'iso')}`, { headers: { authorization: o.basic } })).json()) as { messages: { id: string }[] };
    expect(feedA.messages.map((m) => m.id)).toEqual([onsite]);
  });

  it('a tenant workspace cannot turn off the SSRF guard or use private-network providers (only instance admins can)', async () => {
    const created = await o.api('POST', '/api/workspaces', { name: `Tenant ${backend}` });
    const admin = created.body.keys.admin as string;
    const cases: [string, Record<string, unknown>][] = [
      ['webhook', { url: 'http://169.254.169.254/latest/meta-data', secret: SECRET, allowPrivateNetwork: true }],
      ['push', { allowPrivateNetwork: true }], // push endpoints come from browsers: any URL a visitor registers
      // Nor point a provider at the host's own network: an SMTP relay on loopback, an SMS gateway on a private address.
      ['email', { host: '127.0.0.1', port: 25, messageIdDomain: 'tenant.test' }],
      ['sms', { baseUrl: 'http://10.1.2.3:8080', accountSid: 'AC'.padEnd(34, '1'), authToken: 'x'.repeat(32), from: '+15005550006' }],
    ];
    for (const [channel, body] of cases) {
      const r = await o.api('PUT', `/api/messaging/providers/${channel}`, body, admin);
      expect.soft(r.status, `${channel}: ${JSON.stringify(r.body)}`).toBe(403);
      expect.soft((await o.api('GET', '/api/messaging/providers', undefined, admin)).body.providers[channel], channel).toBeNull();
    }
  });
});
