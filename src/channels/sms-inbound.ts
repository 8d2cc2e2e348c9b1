// Pure helpers for what Twilio sends to Omnia: webhook signatures, inbound messages, status callbacks and the carrier
// opt-out keywords. No I/O here; the HTTP routes that receive these live with the caller.
import { createHmac, timingSafeEqual } from 'node:crypto';

export type TwilioParams = Record<string, string | string[] | undefined>;

/**
 * X-Twilio-Signature as Twilio computes it: base64(HMAC-SHA1(authToken, url + every POST parameter name followed by
 * its value, names sorted)). A repeated parameter contributes name+value once per value, values sorted.
 */
export function computeTwilioSignature(authToken: string, fullUrl: string, params: TwilioParams): string {
  let data = fullUrl;
  for (const name of Object.keys(params).sort()) {
    const v = params[name];
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? [...v].sort() : [v]) data += name + value;
  }
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf8')).digest('base64');
}

/** The URL with its default port added (https → 443, http → 80) or removed: Twilio may sign either form. */
function portVariants(fullUrl: string): string[] {
  let u: URL;
  try {
    u = new URL(fullUrl);
  } catch {
    return [fullUrl];
  }
  const dflt = u.protocol === 'https:' ? '443' : u.protocol === 'http:' ? '80' : '';
  if (!dflt) return [fullUrl];
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
  const rest = `${u.pathname}${u.search}${u.hash}`;
  const withPort = `${u.protocol}//${auth}${u.hostname}:${u.port || dflt}${rest}`;
  const withoutPort = u.port && u.port !== dflt ? null : `${u.protocol}//${auth}${u.hostname}${rest}`;
  return [fullUrl, withPort, ...(withoutPort ? [withoutPort] : [])];
}

/**
 * Checks an X-Twilio-Signature header. `fullUrl` is the URL Twilio requested, exactly as configured (scheme, host,
 * path and query; behind a proxy, the public URL, not the internal one). Comparison is timing-safe.
 */
export function verifyTwilioSignature(authToken: string, fullUrl: string, params: TwilioParams, headerValue: string | undefined | null): boolean {
  if (!authToken || typeof headerValue !== 'string' || headerValue.length === 0) return false;
  const given = Buffer.from(headerValue.trim(), 'utf8');
  let ok = false;
  for (const url of new Set(portVariants(fullUrl))) {
    const expected = Buffer.from(computeTwilioSignature(authToken, url, params), 'utf8');
    // Every variant is compared, so the time taken does not tell which one (or whether any) matched.
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}

const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

export interface InboundSms {
  from: string;
  to: string;
  body: string;
  messageSid: string;
  accountSid?: string;
  numMedia?: number;
}

/** An inbound message webhook's parameters (From, To, Body, MessageSid), or null when it is not one. */
export function parseInbound(params: TwilioParams): InboundSms | null {
  const from = one(params.From);
  const to = one(params.To);
  const messageSid = one(params.MessageSid) ?? one(params.SmsSid) ?? one(params.SmsMessageSid);
  if (!from || !to || !messageSid) return null;
  const out: InboundSms = { from, to, body: one(params.Body) ?? '', messageSid };
  const accountSid = one(params.AccountSid);
  if (accountSid) out.accountSid = accountSid;
  const numMedia = Number(one(params.NumMedia));
  if (Number.isInteger(numMedia)) out.numMedia = numMedia;
  return out;
}

export type SmsDeliveryStatus = 'queued' | 'sent' | 'delivered' | 'undelivered' | 'failed';

export interface SmsStatusCallback {
  messageSid: string;
  status: SmsDeliveryStatus;
  /** Twilio's status as given (e.g. "sending", "read", "canceled") before it was folded into `status`. */
  rawStatus: string;
  errorCode?: string;
  /** The Omnia message id, when the StatusCallback URL carried it (the Twilio adapter adds ?omniaMessageId=…). */
  omniaMessageId?: string;
}

const STATUS_MAP: Record<string, SmsDeliveryStatus> = {
  accepted: 'queued',
  scheduled: 'queued',
  queued: 'queued',
  sending: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
};

/**
 * A status callback's parameters (MessageSid, MessageStatus, ErrorCode), or null when it is not one. Pass the
 * callback URL to pick up the Omnia message id the adapter put in its query.
 */
export function parseStatusCallback(params: TwilioParams, callbackUrl?: string): SmsStatusCallback | null {
  const messageSid = one(params.MessageSid) ?? one(params.SmsSid);
  const rawStatus = (one(params.MessageStatus) ?? one(params.SmsStatus) ?? '').toLowerCase();
  const status = STATUS_MAP[rawStatus];
  if (!messageSid || !status) return null;
  const out: SmsStatusCallback = { messageSid, status, rawStatus };
  const errorCode = one(params.ErrorCode);
  if (errorCode && errorCode !== '0') out.errorCode = errorCode;
  if (callbackUrl) {
    try {
      const id = new URL(callbackUrl).searchParams.get('omniaMessageId');
      if (id) out.omniaMessageId = id;
    } catch {
      /* not a URL: no id */
    }
  }
  return out;
}

export type SmsKeyword = 'stop' | 'start' | 'help';

const KEYWORDS: Record<string, SmsKeyword> = {
  STOP: 'stop',
  STOPALL: 'stop',
  UNSUBSCRIBE: 'stop',
  CANCEL: 'stop',
  END: 'stop',
  QUIT: 'stop',
  OPTOUT: 'stop',
  REVOKE: 'stop',
  START: 'start',
  UNSTOP: 'start',
  YES: 'start',
  SUBSCRIBE: 'start',
  HELP: 'help',
  INFO: 'help',
};

/**
 * The carrier keyword an inbound message is, or null. Whole message only ("stop" and " Stop. " are STOP; "please stop
 * texting me" is not), case-insensitive, surrounding whitespace and trailing punctuation ignored.
 */
export function classifyKeyword(body: string | undefined | null): SmsKeyword | null {
  if (typeof body !== 'string') return null;
  const word = body.trim().replace(/[.!?]+$/, '').trim().toUpperCase();
  return Object.prototype.hasOwnProperty.call(KEYWORDS, word) ? KEYWORDS[word]! : null;
}
