// Webhook signatures: `Omnia-Signature: v1=<hex HMAC-SHA256(secret, "<id>.<timestamp>.<body>")>`. During a secret
// rotation's grace period the header carries one v1= per valid secret, separated by spaces (newest first); a receiver
// accepts the request when any of them matches. See docs/webhooks.md.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The key is the whole secret string (with its whsec_ prefix) as UTF-8. */
export function sign(secret: string, id: string, timestamp: number | string, body: string): string {
  return createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secrets: string[], id: string, timestamp: number, body: string): string {
  return secrets.map((s) => `v1=${sign(s, id, timestamp, body)}`).join(' ');
}

/** Receiver-side check (what docs/webhooks.md shows): signature and a timestamp within `toleranceSec` of `nowSec`. */
export function verifySignature(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSec = Math.floor(Date.now() / 1000),
  toleranceSec = 300,
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowSec - ts) > toleranceSec) return false;
  const expected = Buffer.from(sign(secret, headers.id, headers.timestamp, body), 'hex');
  return headers.signature.split(' ').some((part) => {
    if (!part.startsWith('v1=')) return false;
    const got = Buffer.from(part.slice(3), 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
