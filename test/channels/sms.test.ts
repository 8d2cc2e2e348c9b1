// The Twilio adapter against the local stand-in, and the inbound helpers against webhooks the stand-in signs.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChannelAdapter, SendRequest } from '../../src/messaging/types.ts';
import { createTwilioAdapter, classifyTwilioResponse, validateTwilioConfig } from '../../src/channels/sms-twilio.ts';
import { classifyKeyword, computeTwilioSignature, parseInbound, parseStatusCallback, verifyTwilioSignature } from '../../src/channels/sms-inbound.ts';
import { createChannelAdapter } from '../../src/channels/index.ts';
import { type TwilioStandin, startTwilioStandin } from '../support/twilio-standin.ts';

const FROM = '+14155550100';

function sms(to: string, body = 'Your order #1042 is ready for pick-up. Reply STOP to opt out.', messageId = 'msg_sms_1'): SendRequest {
  return { messageId, workspaceId: 'ws_1', profileId: 'pr_1', to, topic: 'transactional', content: { channel: 'sms', sms: { body, encoding: 'GSM-7', segments: 1, units: body.length } } };
}

interface Hook {
  url: string;
  params: Record<string, string>;
  signature: string | undefined;
}

/** A receiver for the webhooks the stand-in posts (what Omnia's routes would get). */
async function startReceiver(): Promise<{ base: string; hooks: Hook[]; close(): Promise<void> }> {
  const hooks: Hook[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ url: req.url ?? '/', params: Object.fromEntries(new URLSearchParams(body)), signature: req.headers['x-twilio-signature'] as string | undefined });
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hooks, close: () => new Promise<void>((r) => server.close(() => r())) };
}

let standin: TwilioStandin;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let adapter: ChannelAdapter;

beforeEach(async () => {
  standin = await startTwilioStandin();
  receiver = await startReceiver();
  adapter = createTwilioAdapter({ baseUrl: standin.baseUrl, accountSid: standin.accountSid, authToken: standin.authToken, from: FROM, statusCallbackUrl: `${receiver.base}/twilio/status?ws=ws_1` });
});
afterEach(async () => {
  await adapter.close();
  await standin.close();
  await receiver.close();
});

describe('Twilio SMS adapter', () => {
  it('sends form fields with Basic auth as Twilio expects; providerId is the SM sid', async () => {
    const r = await adapter.send(sms('+14155552671'));
    expect(r.status).toBe('sent');
    expect(standin.messages).toHaveLength(1);
    const m = standin.messages[0]!;
    expect(r).toEqual({ status: 'sent', providerId: m.sid });
    expect(m.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(m).toMatchObject({ to: '+14155552671', from: FROM, messagingServiceSid: null, body: 'Your order #1042 is ready for pick-up. Reply STOP to opt out.' });
    expect(m.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(m.authorization).toBe(`Basic ${Buffer.from(`${standin.accountSid}:${standin.authToken}`).toString('base64')}`);
    expect(m.statusCallback).toBe(`${receiver.base}/twilio/status?ws=ws_1&omniaMessageId=msg_sms_1`);
    expect(await adapter.health()).toMatchObject({ ok: true });
  });

  it('sends as MessagingServiceSid when from is an MG sid', async () => {
    const svc = `MG${'a'.repeat(32)}`;
    const a = createTwilioAdapter({ baseUrl: standin.baseUrl, accountSid: standin.accountSid, authToken: standin.authToken, from: svc });
    expect((await a.send(sms('+14155552671'))).status).toBe('sent');
    expect(standin.messages[0]).toMatchObject({ from: null, messagingServiceSid: svc, statusCallback: null });
  });

  it('is transient on 500 (then sent on retry) and on 429 with Retry-After', async () => {
    standin.failNext(1, 500);
    const first = await adapter.send(sms('+14155552671'));
    expect(first.status).toBe('transient');
    const second = await adapter.send(sms('+14155552671'));
    expect(second.status).toBe('sent');
    standin.failNext(1, 429, 7);
    const limited = await adapter.send(sms('+14155552671'));
    expect(limited).toMatchObject({ status: 'transient', retryAfterMs: 7000 });
    expect(standin.messages).toHaveLength(1);
  });

  it('maps Twilio error codes: 21211 and 21614 expired, 21610 unsubscribed', async () => {
    // A number libphonenumber accepts but the carrier network does not know.
    standin.answerError(21211);
    const invalid = await adapter.send(sms('+14155552671'));
    expect(invalid).toMatchObject({ status: 'permanent', expired: true });
    expect(invalid.status === 'permanent' && invalid.error).toMatch(/21211/);
    standin.answerError(21614);
    expect(await adapter.send(sms('+14155552671'))).toMatchObject({ status: 'permanent', expired: true });
    standin.answerError(21610);
    const stop = await adapter.send(sms('+14155552671'));
    expect(stop.status).toBe('permanent');
    expect(stop.status === 'permanent' && stop.error).toMatch(/^unsubscribed: twilio 400 error 21610/);
    expect(stop.status === 'permanent' && stop.expired).toBeFalsy();
    standin.answerError(21408);
    const region = await adapter.send(sms('+14155552671'));
    expect(region.status).toBe('permanent');
    expect(region.status === 'permanent' && region.expired).toBeFalsy();
  });

  it('validates To as E.164 before sending', async () => {
    for (const to of ['4155552671', '+1415555', '+442079460000', 'tel:+14155552671', '+99912345678']) {
      const r = await adapter.send(sms(to));
      expect(r.status, to).toBe('permanent');
      expect(r.status === 'permanent' && r.error, to).toMatch(/invalid recipient number/);
    }
    expect(standin.requests).toBe(0);
  });

  it('is transient when credentials are refused or the API is unreachable', async () => {
    const wrong = createTwilioAdapter({ baseUrl: standin.baseUrl, accountSid: standin.accountSid, authToken: 'f'.repeat(32), from: FROM });
    const r = await wrong.send(sms('+14155552671'));
    expect(r.status).toBe('transient');
    expect(r.status === 'transient' && r.error).toMatch(/auth.*20003/);
    expect((await wrong.health()).ok).toBe(false);
    const down = createTwilioAdapter({ baseUrl: 'http://127.0.0.1:1', accountSid: standin.accountSid, authToken: standin.authToken, from: FROM });
    expect((await down.send(sms('+14155552671'))).status).toBe('transient');
  });

  it('a status callback arrives signed and parses, carrying the Omnia message id', async () => {
    const r = await adapter.send(sms('+14155552671'));
    const sid = r.status === 'sent' ? r.providerId! : '';
    await standin.sendStatusCallback(sid, 'delivered');
    await standin.sendStatusCallback(sid, 'undelivered', { errorCode: '30003' });
    expect(receiver.hooks).toHaveLength(2);
    const [delivered, undelivered] = receiver.hooks;
    const fullUrl = `${receiver.base}${delivered!.url}`;
    expect(verifyTwilioSignature(standin.authToken, fullUrl, delivered!.params, delivered!.signature)).toBe(true);
    expect(parseStatusCallback(delivered!.params, fullUrl)).toEqual({ messageSid: sid, status: 'delivered', rawStatus: 'delivered', omniaMessageId: 'msg_sms_1' });
    expect(parseStatusCallback(undelivered!.params)).toEqual({ messageSid: sid, status: 'undelivered', rawStatus: 'undelivered', errorCode: '30003' });
    expect(parseStatusCallback({ MessageSid: sid, MessageStatus: 'sending' })?.status).toBe('sent');
    expect(parseStatusCallback({ MessageSid: sid, MessageStatus: 'bogus' })).toBeNull();
  });

  it('inbound messages: signature valid, tampered param and wrong URL refused; keywords classified', async () => {
    const url = `${receiver.base}/twilio/inbound?ws=ws_1`;
    for (const body of ['STOP', ' stop ', 'Help', 'start', 'please stop texting me', 'UNSUBSCRIBE', 'Stop.', 'info', 'yes please']) {
      await standin.sendInbound(url, { from: '+14155552671', to: FROM, body });
    }
    const kinds = receiver.hooks.map((h) => {
      const fullUrl = `${receiver.base}${h.url}`;
      expect(verifyTwilioSignature(standin.authToken, fullUrl, h.params, h.signature)).toBe(true);
      const m = parseInbound(h.params)!;
      expect(m).toMatchObject({ from: '+14155552671', to: FROM, accountSid: standin.accountSid });
      expect(m.messageSid).toMatch(/^SM/);
      return [m.body, classifyKeyword(m.body)];
    });
    expect(kinds).toEqual([
      ['STOP', 'stop'],
      [' stop ', 'stop'],
      ['Help', 'help'],
      ['start', 'start'],
      ['please stop texting me', null],
      ['UNSUBSCRIBE', 'stop'],
      ['Stop.', 'stop'],
      ['info', 'help'],
      ['yes please', null],
    ]);
    const h = receiver.hooks[0]!;
    const fullUrl = `${receiver.base}${h.url}`;
    expect(verifyTwilioSignature(standin.authToken, fullUrl, { ...h.params, Body: 'START' }, h.signature)).toBe(false);
    expect(verifyTwilioSignature(standin.authToken, fullUrl, { ...h.params, Extra: 'x' }, h.signature)).toBe(false);
    expect(verifyTwilioSignature(standin.authToken, `${receiver.base}/twilio/inbound?ws=ws_2`, h.params, h.signature)).toBe(false);
    expect(verifyTwilioSignature(standin.authToken, fullUrl.replace('http://', 'https://'), h.params, h.signature)).toBe(false);
    expect(verifyTwilioSignature('0'.repeat(32), fullUrl, h.params, h.signature)).toBe(false);
    expect(verifyTwilioSignature(standin.authToken, fullUrl, h.params, undefined)).toBe(false);
    expect(verifyTwilioSignature(standin.authToken, fullUrl, h.params, 'short')).toBe(false);
    expect(parseInbound({ Body: 'hi' })).toBeNull();
  });

  it("matches Twilio's published signature example, with and without the default port", () => {
    const params = { CallSid: 'CA1234567890ABCDE', Caller: '+14158675309', Digits: '1234', From: '+14158675309', To: '+18005551212' };
    const url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    expect(computeTwilioSignature('12345', url, params)).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    expect(verifyTwilioSignature('12345', url, params, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=')).toBe(true);
    const withPort = computeTwilioSignature('12345', 'https://mycompany.com:443/myapp.php?foo=1&bar=2', params);
    expect(verifyTwilioSignature('12345', url, params, withPort)).toBe(true);
  });

  it('classifies keywords on the whole message only', () => {
    for (const w of ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE']) expect(classifyKeyword(w.toLowerCase())).toBe('stop');
    for (const w of ['START', 'UNSTOP', 'YES', 'SUBSCRIBE']) expect(classifyKeyword(`  ${w}\n`)).toBe('start');
    for (const w of ['HELP', 'INFO']) expect(classifyKeyword(w)).toBe('help');
    for (const w of ['', 'STOP NOW', 'no', 'stopp', 'end of story', 'OPT OUT']) expect(classifyKeyword(w)).toBeNull();
  });

  it('maps answers and validates configs', () => {
    expect(classifyTwilioResponse(503, {}, 'Wed, 21 Oct 2099 07:28:00 GMT').status).toBe('transient');
    expect(classifyTwilioResponse(201, { sid: 'SMx' })).toEqual({ status: 'sent', providerId: 'SMx' });
    expect(classifyTwilioResponse(400, { code: 21617, message: 'body too long' })).toMatchObject({ status: 'permanent' });
    const bad = validateTwilioConfig({ accountSid: 'XX1', authToken: '', from: '12345', statusCallbackUrl: 'ftp://x' });
    expect(bad.ok ? [] : bad.errors.map((e) => e.field)).toEqual(['accountSid', 'authToken', 'from', 'statusCallbackUrl']);
    expect(() => createChannelAdapter('sms', 'twilio', { accountSid: standin.accountSid, authToken: 't', from: 'nope' })).toThrow(/from/);
    const viaFactory = createChannelAdapter('sms', 'twilio', { channel: 'sms', provider: 'twilio', accountSid: standin.accountSid, authToken: 't', from: FROM });
    expect(viaFactory.channel).toBe('sms');
  });
});
