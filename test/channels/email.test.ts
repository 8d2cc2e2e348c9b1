// The email adapter against a real SMTP server on 127.0.0.1: structure, headers, Message-ID, DKIM (verified with
// mailauth), SMTP reply mapping, header injection, pooling, auth, health.
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { simpleParser } from 'mailparser';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { ChannelAdapter, SendRequest } from '../../src/messaging/types.ts';
import { createEmailAdapter, validateEmailConfig, messageIdFor, omniaIdFromMessageId, classifySmtpError, type EmailConfig } from '../../src/channels/email.ts';
import { createChannelAdapter, validateProviderConfig } from '../../src/channels/index.ts';
import { type TestSmtpServer, type TestSmtpServerOptions, startSmtpServer } from '../support/smtp-server.ts';

const UNSUB = '<mailto:unsub+msg_01@mail.shop.example?subject=unsubscribe>, <https://shop.example/u/eyJ3cyI6IndzXzEifQ.sig?x=1&y=2>';
const UNSUB_POST = 'List-Unsubscribe=One-Click';

function request(over: Partial<SendRequest> & { n?: number } = {}): SendRequest {
  const n = over.n ?? 1;
  return {
    messageId: `msg_01hx${n}`,
    workspaceId: 'ws_1',
    profileId: `pr_${n}`,
    to: `customer${n}@example.net`,
    topic: 'marketing',
    content: {
      channel: 'email',
      email: {
        subject: `Hello Ann ${n}, your cart misses you`,
        html: `<!doctype html><html><body><p>Hi Ann ${n}, <a href="https://shop.example/cart">back to your cart</a></p></body></html>`,
        text: `Hi Ann ${n}, back to your cart: https://shop.example/cart`,
        from: { name: 'Shop Example', address: 'news@mail.shop.example' },
        replyTo: 'care@shop.example',
      },
    },
    headers: { 'List-Unsubscribe': UNSUB, 'List-Unsubscribe-Post': UNSUB_POST },
    ...over,
  };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function setup(serverOpts: TestSmtpServerOptions = {}, cfg: Partial<EmailConfig> = {}): Promise<{ server: TestSmtpServer; adapter: ChannelAdapter }> {
  const server = await startSmtpServer(serverOpts);
  const adapter = createEmailAdapter({ host: '127.0.0.1', port: server.port, messageIdDomain: 'mail.shop.example', ...cfg });
  cleanup.push(() => server.close());
  cleanup.push(() => adapter.close());
  return { server, adapter };
}

/** The header's value as it is on the wire, unfolded (CRLF before whitespace removed, nothing else). */
function rawHeader(raw: Buffer, name: string): string[] {
  const head = raw.toString('utf8').split(/\r\n\r\n/)[0]!.replace(/\r\n(?=[ \t])/g, '');
  return head
    .split('\r\n')
    .filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
    .map((l) => l.slice(name.length + 1).replace(/^ /, ''));
}

describe('email adapter over SMTP', () => {
  it('sends multipart/alternative with derived Message-ID, verbatim List-Unsubscribe headers and a DKIM signature that verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = { domainName: 'mail.shop.example', keySelector: 's2024', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    const { server, adapter } = await setup({}, { dkim });
    const req = request();
    const r = await adapter.send(req);
    expect(r).toEqual({ status: 'sent', providerId: '<msg_01hx1@mail.shop.example>' });
    expect(server.messages).toHaveLength(1);
    const { raw, to, from } = server.messages[0]!;
    expect(to).toEqual(['customer1@example.net']);
    expect(from).toBe('news@mail.shop.example');

    const parsed = await simpleParser(raw);
    expect(parsed.messageId).toBe('<msg_01hx1@mail.shop.example>');
    expect(parsed.subject).toBe('Hello Ann 1, your cart misses you');
    expect(parsed.from?.value).toEqual([{ name: 'Shop Example', address: 'news@mail.shop.example' }]);
    expect((parsed.replyTo?.value ?? [])[0]?.address).toBe('care@shop.example');
    expect(parsed.headers.get('x-omnia-message-id')).toBe('msg_01hx1');
    const ct = parsed.headers.get('content-type') as { value: string };
    expect(ct.value).toBe('multipart/alternative');
    expect(parsed.text?.trim()).toBe('Hi Ann 1, back to your cart: https://shop.example/cart');
    expect(parsed.html).toContain('<a href="https://shop.example/cart">back to your cart</a>');
    // The two parts of the alternative, text first (least preferred first, RFC 2046 §5.1.4).
    const body = raw.toString('utf8');
    const textAt = body.search(/Content-Type: text\/plain/i);
    const htmlAt = body.search(/Content-Type: text\/html/i);
    expect(textAt).toBeGreaterThan(0);
    expect(htmlAt).toBeGreaterThan(textAt);

    expect(rawHeader(raw, 'List-Unsubscribe')).toEqual([UNSUB]);
    expect(rawHeader(raw, 'List-Unsubscribe-Post')).toEqual([UNSUB_POST]);

    const pubB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    const lookups: string[] = [];
    const resolver = async (name: string, type: string) => {
      lookups.push(`${type} ${name}`);
      if (type === 'TXT' && name === 's2024._domainkey.mail.shop.example') return [[`v=DKIM1; k=rsa; p=${pubB64}`]];
      throw Object.assign(new Error(`no ${type} for ${name}`), { code: 'ENOTFOUND' });
    };
    const v = await dkimVerify(raw, { resolver } as never);
    expect(lookups).toContain('TXT s2024._domainkey.mail.shop.example');
    expect(v.results).toHaveLength(1);
    const res = v.results[0] as { status: { result: string; aligned?: string }; signingHeaders?: { keys?: string } };
    expect(res.status.result).toBe('pass');
    // RFC 8058: the signature must cover both List-Unsubscribe headers for one-click to count.
    const signed = rawHeader(raw, 'DKIM-Signature')[0]!.replace(/\s+/g, '');
    const h = /(?:^|;)h=([^;]+)/.exec(signed)![1]!.toLowerCase().split(':');
    expect(h).toEqual(expect.arrayContaining(['from', 'subject', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']));

    // A tampered body fails the same check.
    const tampered = Buffer.from(raw.toString('utf8').replace('back to your cart:', 'back to your CART:'));
    const bad = await dkimVerify(tampered, { resolver } as never);
    expect((bad.results[0] as { status: { result: string } }).status.result).not.toBe('pass');
  });

  it('gives a retry of the same message the same Message-ID', async () => {
    const { server, adapter } = await setup();
    await adapter.send(request());
    await adapter.send(request());
    const ids = await Promise.all(server.messages.map(async (m) => (await simpleParser(m.raw)).messageId));
    expect(ids).toEqual(['<msg_01hx1@mail.shop.example>', '<msg_01hx1@mail.shop.example>']);
    expect(omniaIdFromMessageId(ids[0]!, 'mail.shop.example')).toBe('msg_01hx1');
    expect(omniaIdFromMessageId('<msg_01hx1@elsewhere.example>', 'mail.shop.example')).toBeNull();
    const odd = messageIdFor('a b<c>@d', 'm.example');
    expect(odd).toMatch(/^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@m\.example>$/);
    expect(omniaIdFromMessageId(odd, 'm.example')).toBe('a b<c>@d');
  });

  it('maps 451 to transient and 550 at RCPT TO to a permanent bounce', async () => {
    const { server, adapter } = await setup({
      onRcpt: (a) =>
        a.startsWith('busy') ? { code: 451, message: '4.7.1 Greylisted, try again later' } : a.startsWith('gone') ? { code: 550, message: '5.1.1 No such user here' } : null,
      onData: (raw) => (raw.toString().includes('spammy') ? { code: 550, message: '5.7.1 Message rejected as spam' } : null),
    });
    const busy = await adapter.send(request({ to: 'busy@example.net' }));
    expect(busy.status).toBe('transient');
    expect(busy.status === 'transient' && busy.error).toMatch(/451/);
    const gone = await adapter.send(request({ to: 'gone@example.net' }));
    expect(gone).toMatchObject({ status: 'permanent', bounce: true });
    expect(gone.status === 'permanent' && gone.error).toMatch(/550.*RCPT TO.*5\.1\.1/);
    // A content rejection is permanent for this message but says nothing about the address.
    const r = request();
    (r.content as { email: { text: string } }).email.text = 'spammy words';
    const spam = await adapter.send(r);
    expect(spam.status).toBe('permanent');
    expect(spam.status === 'permanent' && spam.bounce).toBeFalsy();
    // The pool survives refusals: a good message still goes through.
    expect((await adapter.send(request({ to: 'fine@example.net' }))).status).toBe('sent');
    expect(server.messages.map((m) => m.to[0])).toEqual(['fine@example.net']);
  });

  it('refuses header injection and bad addresses before talking to the server', async () => {
    const { server, adapter } = await setup();
    const inj = await adapter.send(request({ headers: { 'List-Unsubscribe': '<https://x.example/u>\r\nBcc: victim@example.org' } }));
    expect(inj).toMatchObject({ status: 'permanent' });
    expect(inj.status === 'permanent' && inj.error).toMatch(/header injection/);
    expect((await adapter.send(request({ headers: { 'X-Campaign': 'a\nb' } }))).status).toBe('permanent');
    expect((await adapter.send(request({ headers: { 'Bad Name': 'x' } }))).status).toBe('permanent');
    expect((await adapter.send(request({ headers: { 'Message-ID': '<forged@x>' } }))).status).toBe('permanent');
    const subj = request();
    (subj.content as { email: { subject: string } }).email.subject = 'Hi\r\nBcc: victim@example.org';
    expect((await adapter.send(subj)).status).toBe('permanent');
    for (const to of ['not-an-address', 'a@b', 'two@example.net, three@example.net', 'Ann <ann@example.net>', 'ann@example.net\r\nRCPT TO:<x@y.z>']) {
      const r = await adapter.send(request({ to }));
      expect(r.status, to).toBe('permanent');
      expect(r.status === 'permanent' && r.error, to).toMatch(/invalid recipient address/);
    }
    expect(server.messages).toHaveLength(0);
    expect(server.connections).toBe(0);
  });

  it('passes non-ASCII header values encoded, and IDN recipients as A-labels', async () => {
    const { server, adapter } = await setup();
    expect((await adapter.send(request({ to: 'kunde@bücher.example', headers: { 'X-Campaign': 'Été 2024' } }))).status).toBe('sent');
    const value = rawHeader(server.messages[0]!.raw, 'X-Campaign')[0]!;
    expect(value).toMatch(/^[\x20-\x7e]+$/); // RFC 2047 encoded-words, not raw 8-bit
    const words = [...value.matchAll(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi)];
    const decoded = words
      .map(([, enc, text]) => (enc!.toUpperCase() === 'B' ? Buffer.from(text!, 'base64') : Buffer.from(text!.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1')).toString('utf8'))
      .join('');
    expect(decoded).toBe('Été 2024');
    expect(server.messages[0]!.to[0]).toMatch(/@(xn--bcher-kva\.example|bücher\.example)$/);
  });

  it('uses at most maxConnections connections for 20 concurrent messages', async () => {
    const { server, adapter } = await setup({}, { pool: { maxConnections: 2 } });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => adapter.send(request({ n: i, messageId: `msg_${i}`, to: `c${i}@example.net` }))));
    expect(results.every((r) => r.status === 'sent')).toBe(true);
    expect(server.messages).toHaveLength(20);
    expect(server.maxOpen).toBeLessThanOrEqual(2);
    expect(server.maxOpen).toBeGreaterThanOrEqual(1);
    expect(new Set(server.messages.map((m) => m.to[0])).size).toBe(20);
  });

  it('authenticates with AUTH PLAIN; wrong credentials fail health and sends are transient; health passes otherwise', async () => {
    const auth = { user: 'omnia', pass: 's3cret' };
    const { server, adapter } = await setup({ auth }, { auth });
    expect(await adapter.health()).toMatchObject({ ok: true });
    expect((await adapter.send(request())).status).toBe('sent');
    expect(server.messages[0]!.user).toBe('omnia');
    const wrong = createEmailAdapter({ host: '127.0.0.1', port: server.port, messageIdDomain: 'mail.shop.example', auth: { user: 'omnia', pass: 'nope' } });
    cleanup.push(() => wrong.close());
    expect((await wrong.health()).ok).toBe(false);
    const r = await wrong.send(request());
    expect(r.status).toBe('transient');
    expect(r.status === 'transient' && r.error).toMatch(/auth/i);
  });

  it('sends over STARTTLS when required (self-signed certificate accepted only when told to)', async () => {
    const { server, adapter } = await setup({ starttls: true }, { requireTLS: true, tlsRejectUnauthorized: false });
    expect((await adapter.send(request())).status).toBe('sent');
    expect(server.messages).toHaveLength(1);
    const strict = createEmailAdapter({ host: '127.0.0.1', port: server.port, messageIdDomain: 'mail.shop.example', requireTLS: true });
    cleanup.push(() => strict.close());
    expect((await strict.send(request())).status).toBe('transient');
  });

  it('is transient when the server cannot be reached', async () => {
    const server = await startSmtpServer();
    const port = server.port;
    await server.close();
    const adapter = createEmailAdapter({ host: '127.0.0.1', port, messageIdDomain: 'mail.shop.example' });
    cleanup.push(() => adapter.close());
    const r = await adapter.send(request());
    expect(r.status).toBe('transient');
    expect((await adapter.health()).ok).toBe(false);
  });

  it('classifies SMTP errors', () => {
    expect(classifySmtpError({ responseCode: 421, response: '421 4.3.2 shutting down', command: 'MAIL FROM' }).status).toBe('transient');
    expect(classifySmtpError({ responseCode: 552, response: '552 5.2.2 Mailbox full', command: 'RCPT TO' })).toMatchObject({ status: 'permanent' });
    expect(classifySmtpError({ responseCode: 552, response: '552 5.2.2 Mailbox full', command: 'RCPT TO' })).not.toHaveProperty('bounce');
    expect(classifySmtpError({ responseCode: 553, response: '553 mailbox name not allowed', command: 'RCPT TO' })).toMatchObject({ status: 'permanent', bounce: true });
    expect(classifySmtpError({ responseCode: 550, response: '550 5.7.1 Relaying denied', command: 'RCPT TO' })).not.toHaveProperty('bounce');
    expect(classifySmtpError({ responseCode: 554, response: '554 5.1.2 bad destination system', command: 'DATA' })).toMatchObject({ bounce: true });
    expect(classifySmtpError({ code: 'ETIMEDOUT', message: 'Timeout' }).status).toBe('transient');
    expect(classifySmtpError({ code: 'ECONNECTION', message: 'closed' }).status).toBe('transient');
  });

  it('validates configs naming the bad field', () => {
    expect(validateEmailConfig({ host: 'smtp.example.com', port: 587, messageIdDomain: 'mail.example.com' }).ok).toBe(true);
    const bad = validateEmailConfig({ host: 'smtp example', port: 70000, messageIdDomain: 'x', pool: { maxConnections: 0 }, dkim: { domainName: 'd.example', keySelector: 's', privateKey: 'not a key' }, auth: { user: 'u' }, extra: 1 });
    expect(bad.ok).toBe(false);
    const fields = bad.ok ? [] : bad.errors.map((e) => e.field).sort();
    expect(fields).toEqual(['auth.pass', 'dkim.privateKey', 'extra', 'host', 'pool.maxConnections', 'port'].sort());
    const viaIndex = validateProviderConfig({ channel: 'email', provider: 'smtp', host: 'h.example', port: 25 });
    expect(viaIndex).toMatchObject({ ok: false, errors: [{ field: 'messageIdDomain' }] });
    expect(() => createChannelAdapter('email', 'smtp', { host: 'h.example', port: 0, messageIdDomain: 'm.example' })).toThrow(/port/);
  });
});
