// POST /api/messaging/providers/:channel/test on both backends: a real test email to the SMTP server and a real test
// SMS to the Twilio stand-in, from the brand's sender; bad addresses and channels refused naming the field; a channel
// without a provider is a 404; a provider refusing is a 502 naming `to`.
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';
import { type TestSmtpServer, startSmtpServer } from './support/smtp-server.ts';
import { type TwilioStandin, startTwilioStandin } from './support/twilio-standin.ts';

describe.each(BACKENDS)('provider test send (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let sms: TwilioStandin;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
    smtp = await startSmtpServer();
    sms = await startTwilioStandin();
    expect((await o.api('PUT', '/api/messaging/brand', { name: 'Candle Co', colors: { primary: '#aa3300', background: '#ffffff', text: '#222222' }, font: 'Helvetica, Arial, sans-serif', senderName: 'Candle Co', senderEmail: 'hello@candle.test', address: '1 High Street, Leeds LS1 1AA' })).status).toBe(200);
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
    await sms?.close();
  });

  it('needs a provider first', async () => {
    const r = await o.api('POST', '/api/messaging/providers/email/test', { to: 'me@example.com' });
    expect(r.status).toBe(404);
  });

  it('sends a real email and a real SMS', async () => {
    expect((await o.api('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' })).status).toBe(200);
    const r = await o.api('POST', '/api/messaging/providers/email/test', { to: 'Owner@Example.com' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ sent: true, to: 'Owner@Example.com' });
    const raw = smtp.messages.find((m) => m.to.some((t) => t.toLowerCase() === 'owner@example.com'));
    expect(raw, 'the SMTP server received it').toBeDefined();
    const mail = await simpleParser(raw!.raw);
    expect(mail.subject).toBe('Omnia test message (Candle Co)');
    expect(mail.from?.value[0]?.address).toBe('hello@candle.test');
    expect(mail.text).toContain('your email (SMTP) provider works');

    expect((await o.api('PUT', '/api/messaging/providers/sms', { baseUrl: sms.baseUrl, accountSid: sms.accountSid, authToken: sms.authToken, from: '+15005550006' })).status).toBe(200);
    const s = await o.api('POST', '/api/messaging/providers/sms/test', { to: '+14155552671' });
    expect(s.status, JSON.stringify(s.body)).toBe(200);
    const got = sms.messages.find((m) => m.to === '+14155552671');
    expect(got?.body).toContain('your SMS provider works');
    expect(s.body.providerId).toBe(got?.sid);
  });

  it.each([
    ['email', { to: 'not-an-address' }, 400, 'to'],
    ['sms', { to: '12345' }, 400, 'to'],
    ['email', {}, 400, 'body.to'],
    ['email', { to: 'a@example.com', cc: 'b@example.com' }, 400, 'body'],
    ['push', { to: 'x' }, 400, 'params.channel'],
    ['carrier-pigeon', { to: 'x' }, 400, 'params.channel'],
  ])('refuses %s %j naming the field', async (channel, body, status, field) => {
    const before = smtp.messages.length;
    const r = await o.api('POST', `/api/messaging/providers/${channel}/test`, body);
    expect(r.status).toBe(status);
    expect(r.body.error.field ?? '').toContain(field);
    expect(smtp.messages.length).toBe(before);
  });

  it('says when the provider refuses', async () => {
    // Twilio answers 21211 (invalid To) for this number, as the stand-in is told to.
    sms.answerError(21211, '+14155552672');
    const r = await o.api('POST', '/api/messaging/providers/sms/test', { to: '+14155552672' });
    expect(r.status).toBe(502);
    expect(r.body.error).toMatchObject({ code: 'provider_error', field: 'to' });
    expect(r.body.error.message).toContain('not a valid phone number');
  });
});
