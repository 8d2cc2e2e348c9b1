// A local web push service (RFC 8030) for the push adapter tests, plain http on 127.0.0.1, plus the subscriber's side:
// a browser-like subscription (ECDH P-256 key pair and auth secret) and RFC 8291 / RFC 8188 decryption of what the
// service received, written here with node:crypto alone (independent of the web-push library that encrypts).
//
// The service checks what a real one checks: `Authorization: vapid t=<JWT>, k=<public key>` with an ES256 signature
// that verifies against k, aud = the endpoint's origin, exp in the future and at most 24 h away, a sub; TTL present;
// Content-Encoding aes128gcm. Each subscription id can be told to answer a given status (410 for an expired one).
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PushSubscriptionJson } from '../../src/messaging/types.ts';

export interface PushRequestRecord {
  subscriptionId: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  vapid: { ok: boolean; problem?: string; claims?: { aud?: string; exp?: number; sub?: string }; publicKey?: string };
}

export interface TestPushService {
  origin: string;
  requests: PushRequestRecord[];
  /** Answer `status` (with optional headers) for this subscription id from now on. */
  respond(subscriptionId: string, status: number, headers?: Record<string, string>): void;
  close(): Promise<void>;
}

const b64u = (b: Buffer) => b.toString('base64url');

/** Verifies the VAPID JWT of an Authorization header against the key it names (RFC 8292 §2-3). */
export function verifyVapid(authorization: string | undefined, expectedAudience: string, now = Date.now()): PushRequestRecord['vapid'] {
  const m = /^vapid\s+(.*)$/i.exec(authorization ?? '');
  if (!m) return { ok: false, problem: 'no vapid authorization' };
  const params = Object.fromEntries(m[1]!.split(',').map((p) => p.trim().split('=').map((s) => s.trim())).map(([k, ...v]) => [k!, v.join('=')]));
  const t = params.t;
  const k = params.k;
  if (!t || !k) return { ok: false, problem: 'missing t or k' };
  const [h, p, s] = t.split('.');
  if (!h || !p || !s) return { ok: false, problem: 'malformed JWT' };
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string; typ?: string };
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { aud?: string; exp?: number; sub?: string };
  if (header.alg !== 'ES256') return { ok: false, problem: `alg ${header.alg}`, claims };
  const raw = Buffer.from(k, 'base64url');
  if (raw.length !== 65 || raw[0] !== 4) return { ok: false, problem: 'k is not an uncompressed P-256 point', claims };
  const key = crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64u(raw.subarray(1, 33)), y: b64u(raw.subarray(33, 65)) }, format: 'jwk' });
  const signatureOk = crypto.verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  if (!signatureOk) return { ok: false, problem: 'bad signature', claims, publicKey: k };
  if (claims.aud !== expectedAudience) return { ok: false, problem: `aud ${claims.aud} is not ${expectedAudience}`, claims, publicKey: k };
  const nowS = Math.floor(now / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowS || claims.exp > nowS + 24 * 3600) return { ok: false, problem: `exp ${claims.exp}`, claims, publicKey: k };
  if (!claims.sub || !/^(mailto:|https:)/.test(claims.sub)) return { ok: false, problem: `sub ${claims.sub}`, claims, publicKey: k };
  return { ok: true, claims, publicKey: k };
}

export async function startPushService(): Promise<TestPushService> {
  const requests: PushRequestRecord[] = [];
  const answers = new Map<string, { status: number; headers: Record<string, string> }>();
  let origin = '';
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return res.writeHead(404).end();
      const id = m[1]!;
      const vapid = verifyVapid(req.headers.authorization, origin);
      requests.push({ subscriptionId: id, headers: req.headers, body: Buffer.concat(chunks), vapid });
      const answer = answers.get(id);
      if (answer) return res.writeHead(answer.status, answer.headers).end(answer.status >= 400 ? `push service says ${answer.status}` : '');
      if (!vapid.ok) return res.writeHead(403).end(`VAPID: ${vapid.problem}`);
      if (req.headers.ttl === undefined) return res.writeHead(400).end('TTL header required');
      if (req.headers['content-encoding'] !== 'aes128gcm') return res.writeHead(415).end('aes128gcm required');
      res.writeHead(201, { location: `${origin}/message/${crypto.randomUUID()}` }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    respond: (id, status, headers = {}) => answers.set(id, { status, headers }),
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/** What a browser keeps for a subscription: its ECDH key pair and the auth secret. */
export interface Subscriber {
  subscription: PushSubscriptionJson;
  ecdh: crypto.ECDH;
  auth: Buffer;
}

export function createSubscriber(origin: string, id = crypto.randomBytes(9).toString('base64url')): Subscriber {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  return { subscription: { endpoint: `${origin}/push/${id}`, keys: { p256dh: b64u(ecdh.getPublicKey()), auth: b64u(auth) } }, ecdh, auth };
}

const hmac = (key: Buffer, data: Buffer) => crypto.createHmac('sha256', key).update(data).digest();
/** HKDF (RFC 5869) with a single expand block: enough for the ≤32-byte outputs RFC 8291 needs. */
const hkdf = (salt: Buffer, ikm: Buffer, info: Buffer, length: number) => hmac(hmac(salt, ikm), Buffer.concat([info, Buffer.from([1])])).subarray(0, length);

/**
 * Decrypts an aes128gcm push message body (RFC 8188 framing, RFC 8291 keys) with the subscriber's private key:
 *   header = salt(16) | rs(4) | idlen(1) | keyid(idlen = the sender's ephemeral public key, 65 bytes)
 *   ecdh_secret = ECDH(ua_private, as_public)
 *   IKM   = HKDF(salt = auth_secret, ikm = ecdh_secret, info = "WebPush: info\0" || ua_public || as_public, 32)
 *   CEK   = HKDF(salt, IKM, "Content-Encoding: aes128gcm\0", 16); NONCE = HKDF(salt, IKM, "Content-Encoding: nonce\0", 12)
 * then each record is AES-128-GCM (tag last 16 bytes) with nonce XOR record sequence number, padded with a delimiter
 * (2 for the last record, 1 otherwise) followed by zeros.
 */
export function decryptAes128gcm(body: Buffer, sub: Subscriber): Buffer {
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20]!;
  const asPublic = body.subarray(21, 21 + idlen);
  if (idlen !== 65 || asPublic[0] !== 4) throw new Error(`keyid is not an uncompressed P-256 key (idlen ${idlen})`);
  if (rs < 18) throw new Error(`record size ${rs} too small`);
  const uaPublic = sub.ecdh.getPublicKey();
  const ecdhSecret = sub.ecdh.computeSecret(asPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0', 'latin1'), uaPublic, asPublic]);
  const ikm = hkdf(sub.auth, ecdhSecret, keyInfo, 32);
  const cek = hkdf(salt, ikm, Buffer.from('Content-Encoding: aes128gcm\0', 'latin1'), 16);
  const baseNonce = hkdf(salt, ikm, Buffer.from('Content-Encoding: nonce\0', 'latin1'), 12);
  const ciphertext = body.subarray(21 + idlen);
  const out: Buffer[] = [];
  for (let seq = 0, off = 0; off < ciphertext.length; seq++, off += rs) {
    const record = ciphertext.subarray(off, off + rs);
    const nonce = Buffer.from(baseNonce);
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq) >>> 0, 8); // seq < 2^32: only the low 4 bytes change
    const decipher = crypto.createDecipheriv('aes-128-gcm', cek, nonce);
    decipher.setAuthTag(record.subarray(record.length - 16));
    const plain = Buffer.concat([decipher.update(record.subarray(0, record.length - 16)), decipher.final()]);
    let end = plain.length - 1;
    while (end >= 0 && plain[end] === 0) end--;
    const last = off + rs >= ciphertext.length;
    if (end < 0 || plain[end] !== (last ? 2 : 1)) throw new Error(`record ${seq}: bad padding delimiter`);
    out.push(plain.subarray(0, end));
  }
  return Buffer.concat(out);
}
