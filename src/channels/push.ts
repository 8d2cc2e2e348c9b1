// Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291 / RFC 8188), through the
// web-push library.
//
// Push endpoints come from browsers, that is from anyone: the endpoint must be https and must not resolve to a private,
// loopback or link-local address (the webhook SSRF guard, checked on the connecting socket itself) unless
// allowPrivateNetwork is set, which also allows plain http endpoints (a push service on the local network, tests).
//
// Answers → SendResult: 201/202 (any 2xx) → sent; 404/410 → permanent expired (remove the subscription); 429 and 5xx →
// transient (Retry-After honoured); 400/401/403/413 and other 4xx → permanent; network errors and timeouts → transient.
import https from 'node:https';
import net from 'node:net';
import { createHash } from 'node:crypto';
import webpush from 'web-push';
import type { ChannelAdapter, ChannelHealth, PushSubscriptionJson, SendRequest, SendResult } from '../messaging/types.ts';
import { BlockedAddressError, checkHost, guardedLookup, hostOf, systemResolver, type Resolver } from '../webhooks/ssrf.ts';
import { ChannelConfigError, ConfigChecker, type Validated, isObject, retryAfterMs } from './config-check.ts';

export type PushUrgency = 'very-low' | 'low' | 'normal' | 'high';

export interface WebPushConfig {
  vapid: {
    /** Contact for the push services: "mailto:ops@example.com" or an https URL. */
    subject: string;
    /** Uncompressed P-256 public key, base64url (65 bytes): the applicationServerKey browsers subscribe with. */
    publicKey: string;
    /** P-256 private key, base64url (32 bytes). */
    privateKey: string;
  };
  /** How long the push service keeps an undelivered message, default 86400 (one day). */
  ttlSeconds?: number;
  /** Default "normal". */
  urgency?: PushUrgency;
  /** Send the Omnia topic as the Topic header, so a newer message of a topic replaces an undelivered older one. */
  collapseByTopic?: boolean;
  /** Allow endpoints on private networks and plain http (local push services, tests). Default false. */
  allowPrivateNetwork?: boolean;
  /** Socket timeout per request, default 15000 ms. */
  timeoutMs?: number;
}

const B64URL_RE = /^[A-Za-z0-9_-]+={0,2}$/;
const b64urlBytes = (s: string): Buffer | null => (typeof s === 'string' && B64URL_RE.test(s) ? Buffer.from(s, 'base64url') : null);

export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}

export function validateWebPushConfig(input: unknown, prefix = ''): Validated<WebPushConfig> {
  const c = new ConfigChecker();
  const p = (f: string) => (prefix ? `${prefix}.${f}` : f);
  if (!isObject(input)) return { ok: false, errors: [{ field: prefix || '(config)', message: 'must be an object' }] };
  c.noUnknownKeys(input, ['vapid', 'ttlSeconds', 'urgency', 'collapseByTopic', 'allowPrivateNetwork', 'timeoutMs'], prefix);
  const vapid = c.object(input, 'vapid', p('vapid'));
  let subject: string | undefined, publicKey: string | undefined, privateKey: string | undefined;
  if (vapid) {
    c.noUnknownKeys(vapid, ['subject', 'publicKey', 'privateKey'], p('vapid'));
    subject = c.string(vapid, 'subject', p('vapid.subject'));
    if (subject !== undefined) {
      let okSubject = false;
      try {
        const u = new URL(subject);
        okSubject = (u.protocol === 'mailto:' && /^[^@\s]+@[^@\s]+$/.test(decodeURIComponent(u.pathname))) || (u.protocol === 'https:' && !!u.hostname);
      } catch {
        /* not a URL */
      }
      if (!okSubject) c.fail(p('vapid.subject'), 'must be a mailto: address or an https URL');
    }
    publicKey = c.string(vapid, 'publicKey', p('vapid.publicKey'));
    const pub = publicKey === undefined ? null : b64urlBytes(publicKey);
    if (publicKey !== undefined && (!pub || pub.length !== 65 || pub[0] !== 4)) c.fail(p('vapid.publicKey'), 'must be a 65-byte uncompressed P-256 point, base64url');
    privateKey = c.string(vapid, 'privateKey', p('vapid.privateKey'));
    const priv = privateKey === undefined ? null : b64urlBytes(privateKey);
    if (privateKey !== undefined && (!priv || priv.length !== 32)) c.fail(p('vapid.privateKey'), 'must be a 32-byte P-256 private key, base64url');
  }
  const ttlSeconds = c.int(input, 'ttlSeconds', p('ttlSeconds'), { optional: true, min: 0, max: 28 * 86400 });
  const urgency = c.string(input, 'urgency', p('urgency'), { optional: true, pattern: /^(very-low|low|normal|high)$/, hint: 'must be very-low, low, normal or high' });
  const collapseByTopic = c.bool(input, 'collapseByTopic', p('collapseByTopic'));
  const allowPrivateNetwork = c.bool(input, 'allowPrivateNetwork', p('allowPrivateNetwork'));
  const timeoutMs = c.int(input, 'timeoutMs', p('timeoutMs'), { optional: true, min: 100, max: 120_000 });
  const cfg: WebPushConfig = { vapid: { subject: subject!, publicKey: publicKey!, privateKey: privateKey! } };
  if (ttlSeconds !== undefined) cfg.ttlSeconds = ttlSeconds;
  if (urgency !== undefined) cfg.urgency = urgency as PushUrgency;
  if (collapseByTopic !== undefined) cfg.collapseByTopic = collapseByTopic;
  if (allowPrivateNetwork !== undefined) cfg.allowPrivateNetwork = allowPrivateNetwork;
  if (timeoutMs !== undefined) cfg.timeoutMs = timeoutMs;
  return c.result(cfg);
}

/** Why `sub` is not a usable push subscription, or null. */
export function subscriptionProblem(sub: unknown, allowPrivateNetwork = false): string | null {
  if (!isObject(sub)) return 'must be an object { endpoint, keys: { p256dh, auth } }';
  if (typeof sub.endpoint !== 'string') return 'endpoint must be a URL string';
  let url: URL;
  try {
    url = new URL(sub.endpoint);
  } catch {
    return 'endpoint is not a URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivateNetwork && url.protocol === 'http:')) return `endpoint must be https${allowPrivateNetwork ? ' or http' : ''}`;
  if (url.username || url.password) return 'endpoint must not carry credentials';
  const keys = sub.keys;
  if (!isObject(keys)) return 'keys must be an object { p256dh, auth }';
  const p256dh = b64urlBytes(keys.p256dh as string);
  if (!p256dh || p256dh.length !== 65 || p256dh[0] !== 4) return 'keys.p256dh must be a 65-byte uncompressed P-256 point, base64url';
  const auth = b64urlBytes(keys.auth as string);
  if (!auth || auth.length !== 16) return 'keys.auth must be 16 bytes, base64url';
  return null;
}

/** The plaintext limit of one aes128gcm record of 4096 bytes (RFC 8291 §4): header 86, tag 16, delimiter 1. */
export const MAX_PUSH_PAYLOAD_BYTES = 4096 - 86 - 16 - 1;

/** A Topic header value (≤32 base64url characters) for an Omnia topic: the topic itself when it fits, else a hash. */
export function pushTopicFor(topic: string): string {
  return /^[A-Za-z0-9_-]{1,32}$/.test(topic) ? topic : createHash('sha256').update(topic).digest('base64url').slice(0, 32);
}

/**
 * An https.Agent that speaks plain TCP: web-push always calls https.request and only takes an https.Agent, so an
 * http:// endpoint (allowed only with allowPrivateNetwork) is reached through this agent.
 */
class PlainHttpAgent extends https.Agent {
  override createConnection(options: https.RequestOptions): net.Socket {
    return net.createConnection({ host: options.host ?? options.hostname ?? 'localhost', port: Number(options.port ?? 80) });
  }
}

interface WebPushErrorLike {
  statusCode?: number;
  headers?: Record<string, string | string[] | undefined>;
  body?: string;
  code?: string;
  message?: string;
}

/** Maps a push service's answer (or a failure to reach it) to a SendResult. */
export function classifyPushError(e: unknown): SendResult {
  const err = (e ?? {}) as WebPushErrorLike;
  if (e instanceof BlockedAddressError || err.code === 'EBLOCKEDADDRESS') return { status: 'permanent', error: `push endpoint refused: ${err.message}` };
  const status = err.statusCode;
  if (typeof status !== 'number') return { status: 'transient', error: `push request failed: ${err.code ?? ''} ${err.message ?? String(e)}`.trim() };
  const body = (err.body ?? '').slice(0, 300);
  const text = `push service ${status}${body ? `: ${body}` : ''}`;
  if (status === 404 || status === 410) return { status: 'permanent', error: text, expired: true };
  if (status === 429 || status >= 500) {
    const h = err.headers?.['retry-after'];
    const after = retryAfterMs(Array.isArray(h) ? h[0] : h);
    return after !== undefined ? { status: 'transient', error: text, retryAfterMs: after } : { status: 'transient', error: text };
  }
  return { status: 'permanent', error: text };
}

export interface WebPushAdapterOptions {
  /** DNS resolution used by the SSRF guard (tests). */
  resolver?: Resolver;
}

export function createWebPushAdapter(config: WebPushConfig, opts: WebPushAdapterOptions = {}): ChannelAdapter {
  const checked = validateWebPushConfig(config);
  if (!checked.ok) throw new ChannelConfigError(checked.errors, 'web push config');
  const cfg = checked.value;
  const allowPrivate = cfg.allowPrivateNetwork ?? false;
  const resolver = opts.resolver ?? systemResolver;
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64, lookup: guardedLookup(allowPrivate, resolver) });
  const plainAgent = allowPrivate ? new PlainHttpAgent({ keepAlive: true, maxSockets: 64 }) : null;
  const vapidDetails = { subject: cfg.vapid.subject, publicKey: cfg.vapid.publicKey, privateKey: cfg.vapid.privateKey };
  let closed = false;

  async function send(req: SendRequest): Promise<SendResult> {
    if (closed) return { status: 'transient', error: 'web push adapter is closed' };
    if (req.content.channel !== 'push') return { status: 'permanent', error: `push adapter cannot send ${req.content.channel} content` };
    const problem = subscriptionProblem(req.to, allowPrivate);
    if (problem) return { status: 'permanent', error: `invalid push subscription: ${problem}` };
    const sub = req.to as PushSubscriptionJson;
    const url = new URL(sub.endpoint);
    const p = req.content.push;
    const payload = JSON.stringify({ title: p.title, body: p.body, icon: p.icon, url: p.url, data: p.data, messageId: req.messageId });
    const size = Buffer.byteLength(payload);
    if (size > MAX_PUSH_PAYLOAD_BYTES) return { status: 'permanent', error: `push payload is ${size} bytes, over the ${MAX_PUSH_PAYLOAD_BYTES} a push message carries` };
    try {
      // IP-literal hosts never reach the agent's lookup: check them here.
      if (net.isIP(hostOf(url))) await checkHost(hostOf(url), allowPrivate, resolver);
      const res = await webpush.sendNotification({ endpoint: sub.endpoint, keys: { p256dh: sub.keys.p256dh, auth: sub.keys.auth } }, payload, {
        vapidDetails,
        TTL: cfg.ttlSeconds ?? 86_400,
        urgency: cfg.urgency ?? 'normal',
        ...(cfg.collapseByTopic && req.topic ? { topic: pushTopicFor(req.topic) } : {}),
        timeout: cfg.timeoutMs ?? 15_000,
        agent: url.protocol === 'http:' && plainAgent ? plainAgent : httpsAgent,
      });
      const location = res.headers?.location;
      return { status: 'sent', ...(typeof location === 'string' && location ? { providerId: location } : {}) };
    } catch (e) {
      return classifyPushError(e);
    }
  }

  return {
    channel: 'push',
    send,
    async health(): Promise<ChannelHealth> {
      // There is no push service to ask ahead of a subscription; health is "the VAPID keys sign".
      try {
        webpush.getVapidHeaders('https://push.example', vapidDetails.subject, vapidDetails.publicKey, vapidDetails.privateKey, 'aes128gcm');
        return { ok: !closed, detail: closed ? 'closed' : 'VAPID keys usable' };
      } catch (e) {
        return { ok: false, detail: `VAPID: ${(e as Error).message}` };
      }
    },
    async close(): Promise<void> {
      closed = true;
      httpsAgent.destroy();
      plainAgent?.destroy();
    },
  };
}
