// The webhook channel: a message's rendered JSON body POSTed to the workspace's endpoint, signed like Omnia's other
// webhooks (Omnia-Signature: v1=HMAC-SHA256(secret, "<id>.<timestamp>.<body>"), see docs/webhooks.md), through the
// SSRF guard (no loopback/private destinations unless the channel allows them).
import { sendWebhook } from '../webhooks/send.ts';
import { signatureHeader } from '../webhooks/sign.ts';
import { type Resolver, systemResolver } from '../webhooks/ssrf.ts';
import type { ChannelAdapter, SendRequest, SendResult } from './types.ts';

export interface WebhookChannelOptions {
  url: string;
  secret: string;
  allowPrivateNetwork: boolean;
  timeoutMs?: number;
  resolve?: Resolver;
  clock?: () => number;
}

export function createWebhookChannel(o: WebhookChannelOptions): ChannelAdapter {
  return {
    channel: 'webhook',
    async send(req: SendRequest): Promise<SendResult> {
      if (req.content.channel !== 'webhook') return { status: 'permanent', error: `webhook channel got ${req.content.channel} content` };
      const body = req.content.webhook.body;
      const ts = Math.floor((o.clock ?? Date.now)() / 1000);
      const r = await sendWebhook({
        url: o.url,
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Omnia-Messages/1',
          'omnia-webhook-id': req.messageId,
          'omnia-webhook-timestamp': String(ts),
          'omnia-signature': signatureHeader([o.secret], req.messageId, ts, body),
          'idempotency-key': req.messageId,
        },
        allowPrivate: o.allowPrivateNetwork,
        timeoutMs: o.timeoutMs ?? 10_000,
        resolve: o.resolve ?? systemResolver,
      });
      if (r.blocked) return { status: 'permanent', error: r.error ?? 'destination refused' };
      if (r.statusCode !== null && r.statusCode >= 200 && r.statusCode < 300) return { status: 'sent' };
      if (r.statusCode === null || r.statusCode === 408 || r.statusCode === 429 || r.statusCode >= 500) {
        return { status: 'transient', error: r.error ?? `HTTP ${r.statusCode}`, ...(r.retryAfterMs ? { retryAfterMs: r.retryAfterMs } : {}) };
      }
      return { status: 'permanent', error: r.error ?? `HTTP ${r.statusCode}` };
    },
    async health() {
      return { ok: true, detail: `POST ${o.url}` };
    },
    async close() {},
  };
}
