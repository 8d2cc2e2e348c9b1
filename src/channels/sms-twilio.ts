// SMS over Twilio's Messages API wire protocol (also spoken by compatible providers, and by the local stand-in in
// test/support): POST {baseUrl}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded To, From or
// MessagingServiceSid, Body, StatusCallback, HTTP Basic auth AccountSid:AuthToken.
//
// Answers → SendResult: 2xx with a sid → sent (providerId = sid); 429, 5xx, network errors and timeouts → transient
// (Retry-After honoured); 401/403 → transient (the credentials, not the message); other 4xx → permanent, with
// 21211 (invalid To) and 21614 (not a mobile number) → expired, 21610 (the recipient replied STOP at carrier level) →
// error "unsubscribed: …" so the caller marks the person unsubscribed from SMS.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { ChannelAdapter, ChannelHealth, SendRequest, SendResult } from '../messaging/types.ts';
import { ChannelConfigError, ConfigChecker, type Validated, isObject, retryAfterMs } from './config-check.ts';

export interface TwilioConfig {
  /** Default https://api.twilio.com. */
  baseUrl?: string;
  accountSid: string;
  authToken: string;
  /** An E.164 sender number, or a Messaging Service sid ("MG…", sent as MessagingServiceSid). */
  from: string;
  /** Where Twilio posts delivery status; the adapter adds ?omniaMessageId=… so a callback maps to its message. */
  statusCallbackUrl?: string;
  /** Per-request timeout, default 15000 ms. */
  timeoutMs?: number;
}

export const TWILIO_DEFAULT_BASE_URL = 'https://api.twilio.com';
/** Twilio refuses bodies over 1600 characters (error 21617). */
export const TWILIO_MAX_BODY = 1600;

const ACCOUNT_SID_RE = /^AC[0-9a-fA-F]{32}$/;
const SERVICE_SID_RE = /^MG[0-9a-fA-F]{32}$/;
const E164_RE = /^\+[1-9]\d{1,14}$/;

const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
};

export function validateTwilioConfig(input: unknown, prefix = ''): Validated<TwilioConfig> {
  const c = new ConfigChecker();
  const p = (f: string) => (prefix ? `${prefix}.${f}` : f);
  if (!isObject(input)) return { ok: false, errors: [{ field: prefix || '(config)', message: 'must be an object' }] };
  c.noUnknownKeys(input, ['baseUrl', 'accountSid', 'authToken', 'from', 'statusCallbackUrl', 'timeoutMs'], prefix);
  const baseUrl = c.string(input, 'baseUrl', p('baseUrl'), { optional: true });
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) c.fail(p('baseUrl'), 'must be an http(s) URL');
  const accountSid = c.string(input, 'accountSid', p('accountSid'), { pattern: ACCOUNT_SID_RE, hint: 'must be an Account SID: "AC" and 32 hex digits' });
  const authToken = c.string(input, 'authToken', p('authToken'), { maxLength: 256 });
  const from = c.string(input, 'from', p('from'));
  if (from !== undefined && !SERVICE_SID_RE.test(from) && !(E164_RE.test(from) && parsePhoneNumberFromString(from)?.isPossible()))
    c.fail(p('from'), 'must be an E.164 number (+14155550100) or a Messaging Service SID ("MG" and 32 hex digits)');
  const statusCallbackUrl = c.string(input, 'statusCallbackUrl', p('statusCallbackUrl'), { optional: true });
  if (statusCallbackUrl !== undefined && !isHttpUrl(statusCallbackUrl)) c.fail(p('statusCallbackUrl'), 'must be an http(s) URL');
  const timeoutMs = c.int(input, 'timeoutMs', p('timeoutMs'), { optional: true, min: 100, max: 120_000 });
  const cfg: TwilioConfig = { accountSid: accountSid!, authToken: authToken!, from: from! };
  if (baseUrl !== undefined) cfg.baseUrl = baseUrl;
  if (statusCallbackUrl !== undefined) cfg.statusCallbackUrl = statusCallbackUrl;
  if (timeoutMs !== undefined) cfg.timeoutMs = timeoutMs;
  return c.result(cfg);
}

/** Why `to` is not a valid E.164 mobile-capable number, or null. */
export function phoneNumberProblem(to: string): string | null {
  if (!E164_RE.test(to)) return 'is not in E.164 form (+ and up to 15 digits, e.g. +14155550100)';
  const n = parsePhoneNumberFromString(to);
  if (!n || !n.isValid()) return 'is not a valid phone number';
  const type = n.getType();
  if (type === 'FIXED_LINE' || type === 'PREMIUM_RATE' || type === 'SHARED_COST' || type === 'VOICEMAIL' || type === 'UAN' || type === 'PAGER')
    return `is a ${type.toLowerCase().replace('_', '-')} number, which cannot receive SMS`;
  return null;
}

/** Twilio error codes that say the number itself is unusable (remove it from the profile). */
const EXPIRED_CODES = new Set([21211, 21614, 21217, 21401, 21421]);
const UNSUBSCRIBED_CODE = 21610;

interface TwilioErrorBody {
  code?: number;
  message?: string;
  more_info?: string;
  status?: number;
}

/** Maps a Twilio HTTP answer (status, JSON body, Retry-After) to a SendResult. */
export function classifyTwilioResponse(status: number, body: unknown, retryAfter?: string | null): SendResult {
  const b = (isObject(body) ? body : {}) as TwilioErrorBody & { sid?: string; error_code?: number | null; error_message?: string | null };
  if (status >= 200 && status < 300) {
    if (typeof b.sid === 'string' && b.sid) return { status: 'sent', providerId: b.sid };
    return { status: 'transient', error: `twilio ${status}: answer without a message sid` };
  }
  const code = typeof b.code === 'number' ? b.code : undefined;
  const text = `twilio ${status}${code ? ` error ${code}` : ''}: ${b.message ?? 'no message'}`;
  if (status === 429 || status >= 500 || code === 20429) {
    const after = retryAfterMs(retryAfter ?? undefined);
    return after !== undefined ? { status: 'transient', error: text, retryAfterMs: after } : { status: 'transient', error: text };
  }
  if (status === 401 || status === 403) return { status: 'transient', error: `provider auth: ${text}` };
  if (code === UNSUBSCRIBED_CODE) return { status: 'permanent', error: `unsubscribed: ${text}` };
  if (code !== undefined && EXPIRED_CODES.has(code)) return { status: 'permanent', error: text, expired: true };
  return { status: 'permanent', error: text };
}

export function createTwilioAdapter(config: TwilioConfig): ChannelAdapter {
  const checked = validateTwilioConfig(config);
  if (!checked.ok) throw new ChannelConfigError(checked.errors, 'Twilio config');
  const cfg = checked.value;
  const base = (cfg.baseUrl ?? TWILIO_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const accountPath = `${base}/2010-04-01/Accounts/${encodeURIComponent(cfg.accountSid)}`;
  const authorization = `Basic ${Buffer.from(`${cfg.accountSid}:${cfg.authToken}`).toString('base64')}`;
  const timeoutMs = cfg.timeoutMs ?? 15_000;
  const inflight = new Set<AbortController>();
  let closed = false;

  async function request(url: string, init: RequestInit): Promise<Response> {
    const ac = new AbortController();
    inflight.add(ac);
    const timer = setTimeout(() => ac.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    try {
      return await fetch(url, { ...init, signal: ac.signal, headers: { authorization, accept: 'application/json', ...(init.headers as Record<string, string>) } });
    } finally {
      clearTimeout(timer);
      inflight.delete(ac);
    }
  }

  async function send(req: SendRequest): Promise<SendResult> {
    if (closed) return { status: 'transient', error: 'Twilio adapter is closed' };
    if (req.content.channel !== 'sms') return { status: 'permanent', error: `SMS adapter cannot send ${req.content.channel} content` };
    if (typeof req.to !== 'string') return { status: 'permanent', error: 'SMS recipient must be a phone number string' };
    const problem = phoneNumberProblem(req.to);
    if (problem) return { status: 'permanent', error: `invalid recipient number ${JSON.stringify(req.to)}: ${problem}`, expired: true };
    const body = req.content.sms.body;
    if (!body) return { status: 'permanent', error: 'SMS body is empty' };
    if (body.length > TWILIO_MAX_BODY) return { status: 'permanent', error: `SMS body is ${body.length} characters, over Twilio's ${TWILIO_MAX_BODY}` };
    const form = new URLSearchParams();
    form.set('To', req.to);
    if (SERVICE_SID_RE.test(cfg.from)) form.set('MessagingServiceSid', cfg.from);
    else form.set('From', cfg.from);
    form.set('Body', body);
    if (cfg.statusCallbackUrl) {
      const cb = new URL(cfg.statusCallbackUrl);
      cb.searchParams.set('omniaMessageId', req.messageId);
      form.set('StatusCallback', cb.toString());
    }
    let res: Response;
    let json: unknown;
    try {
      res = await request(`${accountPath}/Messages.json`, { method: 'POST', body: form.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const text = await res.text();
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = { message: text.slice(0, 300) };
      }
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string } };
      const detail = err.cause?.code ?? err.cause?.message ?? err.message;
      return { status: 'transient', error: `twilio request failed: ${detail}` };
    }
    return classifyTwilioResponse(res.status, json, res.headers.get('retry-after'));
  }

  return {
    channel: 'sms',
    send,
    async health(): Promise<ChannelHealth> {
      try {
        const res = await request(`${accountPath}.json`, { method: 'GET' });
        const j = (await res.json().catch(() => ({}))) as { status?: string; message?: string };
        if (!res.ok) return { ok: false, detail: `twilio ${res.status}: ${j.message ?? 'account lookup failed'}` };
        if (j.status && j.status !== 'active') return { ok: false, detail: `twilio account is ${j.status}` };
        return { ok: true, detail: 'twilio account active' };
      } catch (e) {
        return { ok: false, detail: `twilio unreachable: ${(e as Error).message}` };
      }
    },
    async close(): Promise<void> {
      closed = true;
      for (const ac of inflight) ac.abort(new Error('adapter closed'));
    },
  };
}
