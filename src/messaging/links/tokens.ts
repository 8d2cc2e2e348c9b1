// Signed link tokens: what the open pixel, click, unsubscribe, preference-centre and double opt-in URLs carry.
//
// Format (version 1): token = base64url( body ‖ mac ), no padding, alphabet [A-Za-z0-9_-].
//   body = header byte (0x10 = version 1 | 0x01 when an expiry follows) [‖ varint expiresAt (ms)] ‖ field*
//   field = tag byte (type << 5 | key length 1..31) ‖ key (UTF-8) ‖ value
//     type 0 string  : varint byte length ‖ UTF-8
//     type 1 uint    : varint (safe integers ≥ 0)
//     type 2 negint  : varint of −v (safe integers < 0)
//     type 3 float   : 8 bytes IEEE-754 big-endian (non-integers, −0)
//     type 4 id      : Omnia id `prefix_` + 22 Crockford base32 chars (src/store/ids.ts), packed:
//                      prefix length ‖ prefix ‖ 14 bytes (110 bits) — 27 characters become 19 bytes
//   mac  = first 16 bytes (128 bits) of HMAC-SHA256(key, "omnia-link\0" ‖ len(purpose) ‖ purpose ‖ body)
// The purpose is bound into the MAC but not carried, so a click token never verifies as an unsubscribe token.
// `wrong_purpose` is reported when the MAC verifies under one of the other TOKEN_PURPOSES (a few extra HMACs on
// the failure path only). A 128-bit truncated HMAC-SHA256 is ample for a MAC (forgery chance 2^-128 per try).
// Key: per workspace, deriveLinkKey(master, workspaceId). The workspace id also travels in the payload (`ws`), so a
// verifier reads it with peekToken first, derives that workspace's key, then verifies: the MAC covers `ws` too.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

export const TOKEN_PURPOSES = ['open', 'click', 'unsubscribe', 'preferences', 'confirm', 'resubscribe'] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

/** Payload fields in use: ws workspace, m message, p profile, u click destination, t topic, c channel. */
export type TokenPayload = Record<string, string | number>;

export type VerifyResult =
  | { ok: true; payload: TokenPayload; expiresAt?: number }
  | { ok: false; reason: 'malformed' | 'bad_signature' | 'expired' | 'wrong_purpose' };

/** Longest token accepted or produced (characters). URLs past ~8 KB are refused by some proxies and clients. */
export const MAX_TOKEN_LENGTH = 4096;
/** Bytes of HMAC-SHA256 kept: 128 bits. */
export const MAC_BYTES = 16;
const VERSION = 0x10;
const HAS_EXPIRY = 0x01;
const MAC_DOMAIN = Buffer.from('omnia-link\0', 'utf8');
const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_RE = /^([a-z]{1,15})_([0-9abcdefghjkmnpqrstvwxyz]{22})$/;
const TOKEN_RE = /^[A-Za-z0-9_-]+$/;

/** Per-workspace link key: HKDF-SHA256(master secret, salt "omnia/link-key/v1", info "workspace:<id>"), 32 bytes. */
export function deriveLinkKey(masterSecret: Buffer, workspaceId: string): Buffer {
  if (masterSecret.length < 16) throw new Error('link master secret must be at least 16 bytes');
  if (!workspaceId) throw new Error('workspaceId is required');
  return Buffer.from(hkdfSync('sha256', masterSecret, 'omnia/link-key/v1', `workspace:${workspaceId}`, 32));
}

export function signToken(
  key: Buffer,
  purpose: TokenPurpose | (string & {}),
  payload: TokenPayload,
  opts: { expiresAt?: number } = {},
): string {
  checkKey(key);
  const w = new Writer();
  const exp = opts.expiresAt;
  if (exp !== undefined) {
    if (!Number.isSafeInteger(exp) || exp < 0) throw new Error('expiresAt must be a non-negative integer (ms)');
    w.byte(VERSION | HAS_EXPIRY);
    w.varint(exp);
  } else w.byte(VERSION);
  for (const [k, v] of Object.entries(payload)) writeField(w, k, v);
  const body = w.done();
  const token = Buffer.concat([body, mac(key, purpose, body)]).toString('base64url');
  if (token.length > MAX_TOKEN_LENGTH) throw new Error(`token longer than ${MAX_TOKEN_LENGTH} characters`);
  return token;
}

export function verifyToken(key: Buffer, purpose: TokenPurpose | (string & {}), token: string, now: number): VerifyResult {
  checkKey(key);
  const bytes = decodeTokenBytes(token);
  if (!bytes) return { ok: false, reason: 'malformed' };
  const body = bytes.subarray(0, bytes.length - MAC_BYTES);
  const got = bytes.subarray(bytes.length - MAC_BYTES);
  if (!timingSafeEqual(got, mac(key, purpose, body))) {
    for (const other of TOKEN_PURPOSES) {
      if (other !== purpose && timingSafeEqual(got, mac(key, other, body))) return { ok: false, reason: 'wrong_purpose' };
    }
    return { ok: false, reason: 'bad_signature' };
  }
  const parsed = parseBody(body);
  if (!parsed) return { ok: false, reason: 'malformed' };
  if (parsed.expiresAt !== undefined && now >= parsed.expiresAt) return { ok: false, reason: 'expired' };
  return parsed.expiresAt === undefined
    ? { ok: true, payload: parsed.payload }
    : { ok: true, payload: parsed.payload, expiresAt: parsed.expiresAt };
}

/**
 * The payload WITHOUT checking the signature: only to choose the key (read `ws`, derive that workspace's key, then
 * verifyToken). Never act on it. Null when the token is not structurally a version-1 token.
 */
export function peekToken(token: string): { payload: TokenPayload; expiresAt?: number } | null {
  const bytes = decodeTokenBytes(token);
  return bytes ? parseBody(bytes.subarray(0, bytes.length - MAC_BYTES)) : null;
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length < 16) throw new Error('link key must be a Buffer of at least 16 bytes');
}

function mac(key: Buffer, purpose: string, body: Buffer): Buffer {
  const p = Buffer.from(purpose, 'utf8');
  if (p.length < 1 || p.length > 255) throw new Error('token purpose must be 1..255 bytes');
  const h = createHmac('sha256', key).update(MAC_DOMAIN).update(Buffer.from([p.length])).update(p).update(body);
  return h.digest().subarray(0, MAC_BYTES);
}

/** Canonical base64url only: Node's decoder skips unknown characters and ignores stray trailing bits. */
function decodeTokenBytes(token: string): Buffer | null {
  if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_LENGTH || !TOKEN_RE.test(token)) return null;
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) return null;
  if (bytes.length < 1 + MAC_BYTES || (bytes[0]! & 0xf0) !== VERSION || (bytes[0]! & 0x0e) !== 0) return null;
  return bytes;
}

// ---- encoding ----

class Writer {
  private parts: number[] = [];
  private bufs: Buffer[] = [];
  byte(b: number): void {
    this.parts.push(b);
  }
  varint(n: number): void {
    let v = n;
    while (v >= 0x80) {
      this.parts.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.parts.push(v);
  }
  bytes(b: Buffer): void {
    this.flush();
    this.bufs.push(b);
  }
  private flush(): void {
    if (this.parts.length) this.bufs.push(Buffer.from(this.parts));
    this.parts = [];
  }
  done(): Buffer {
    this.flush();
    return Buffer.concat(this.bufs);
  }
}

function writeField(w: Writer, k: string, v: string | number): void {
  const kb = Buffer.from(k, 'utf8');
  if (kb.length < 1 || kb.length > 31) throw new Error(`payload key ${JSON.stringify(k)} must be 1..31 bytes`);
  if (typeof v === 'string') {
    const id = ID_RE.exec(v);
    if (id) {
      w.byte((4 << 5) | kb.length);
      w.bytes(kb);
      w.byte(id[1]!.length);
      w.bytes(Buffer.from(id[1]!, 'ascii'));
      w.bytes(packCrockford(id[2]!));
    } else {
      const vb = Buffer.from(v, 'utf8');
      w.byte(kb.length);
      w.bytes(kb);
      w.varint(vb.length);
      w.bytes(vb);
    }
  } else if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`payload value for ${JSON.stringify(k)} must be finite`);
    if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
      w.byte(((v >= 0 ? 1 : 2) << 5) | kb.length);
      w.bytes(kb);
      w.varint(Math.abs(v));
    } else {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(v);
      w.byte((3 << 5) | kb.length);
      w.bytes(kb);
      w.bytes(b);
    }
  } else throw new Error(`payload value for ${JSON.stringify(k)} must be a string or a number`);
}

/** 22 base32 digits = 110 bits, big-endian, in 14 bytes (the 2 low bits of the last byte are zero). */
function packCrockford(s: string): Buffer {
  const out = Buffer.alloc(14);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const ch of s) {
    acc = (acc << 5) | CROCKFORD.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  out[o] = (acc << (8 - bits)) & 0xff;
  return out;
}

function unpackCrockford(b: Buffer): string | null {
  if ((b[13]! & 0x03) !== 0) return null;
  let s = '';
  let acc = 0;
  let bits = 0;
  for (const byte of b) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && s.length < 22) {
      bits -= 5;
      s += CROCKFORD[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  return s;
}

// ---- decoding ----

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  pos = 0;
  constructor(private buf: Buffer) {}
  get left(): number {
    return this.buf.length - this.pos;
  }
  byte(): number {
    if (this.pos >= this.buf.length) throw new Malformed();
    return this.buf[this.pos++]!;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (!Number.isSafeInteger(v)) throw new Malformed();
        return v;
      }
      mul *= 0x80;
    }
    throw new Malformed();
  }
  take(n: number): Buffer {
    if (n > this.left) throw new Malformed();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

class Malformed extends Error {}

function parseBody(body: Buffer): { payload: TokenPayload; expiresAt?: number } | null {
  try {
    const r = new Reader(body);
    const header = r.byte();
    const expiresAt = header & HAS_EXPIRY ? r.varint() : undefined;
    const entries: [string, string | number][] = [];
    const seen = new Set<string>();
    while (r.left > 0) {
      const tag = r.byte();
      const type = tag >> 5;
      const klen = tag & 31;
      if (klen === 0) throw new Malformed();
      const k = utf8.decode(r.take(klen));
      if (seen.has(k)) throw new Malformed();
      seen.add(k);
      let v: string | number;
      if (type === 0) v = utf8.decode(r.take(r.varint()));
      else if (type === 1) v = r.varint();
      else if (type === 2) {
        const n = r.varint();
        if (n === 0) throw new Malformed();
        v = -n;
      } else if (type === 3) v = r.take(8).readDoubleBE(0);
      else if (type === 4) {
        const plen = r.byte();
        const prefix = r.take(plen).toString('latin1');
        const rest = unpackCrockford(r.take(14));
        if (rest === null) throw new Malformed();
        v = `${prefix}_${rest}`;
        if (!ID_RE.test(v)) throw new Malformed();
      } else throw new Malformed();
      if (typeof v === 'number' && !Number.isFinite(v)) throw new Malformed();
      entries.push([k, v]);
    }
    const payload = Object.fromEntries(entries) as TokenPayload;
    return expiresAt === undefined ? { payload } : { payload, expiresAt };
  } catch (e) {
    if (e instanceof Malformed || e instanceof TypeError || e instanceof RangeError) return null;
    throw e;
  }
}
