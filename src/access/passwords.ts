// Password hashing: scrypt with a random 16-byte salt per hash. The parameters travel with the hash
// ("scrypt$N$r$p$salt$hash", base64url), so they can be raised later without invalidating stored hashes; verification
// compares in constant time. Hashing runs on libuv's thread pool (async scrypt), never on the event loop.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 1024;

/** N=2^15, r=8 → 32 MiB and roughly 50–100 ms per hash: slow for a guesser, fine for a login. */
const DEFAULT = { N: 1 << 15, r: 8, p: 1, keyLen: 32 };

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keyLen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLen, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

/** The problem with a password, or null when it is acceptable. */
export function passwordProblem(password: unknown): string | null {
  if (typeof password !== 'string') return 'password must be a string';
  if ([...password].length < MIN_PASSWORD) return `password must have at least ${MIN_PASSWORD} characters`;
  if (password.length > MAX_PASSWORD) return `password must have at most ${MAX_PASSWORD} characters`;
  return null;
}

export async function hashPassword(password: string, params = DEFAULT): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, params.N, params.r, params.p, params.keyLen);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  // Stored parameters are trusted only within sane bounds (a tampered row must not make the server allocate GBs).
  const powerOfTwo = Number.isInteger(N) && N >= 2 && (N & (N - 1)) === 0;
  if (!powerOfTwo || N > 1 << 20 || 128 * N * r > 256 * 1024 * 1024 || !Number.isInteger(r) || r < 1 || r > 32 || !Number.isInteger(p) || p < 1 || p > 16) return false;
  const salt = Buffer.from(parts[4]!, 'base64url');
  const want = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || want.length < 16 || want.length > 128) return false;
  if (typeof password !== 'string' || password.length > MAX_PASSWORD) return false;
  const got = await derive(password, salt, N, r, p, want.length);
  return timingSafeEqual(got, want);
}

let dummy: Promise<string> | null = null;
/** Spends the same time as a real verification (unknown email), so timing does not tell which emails exist. */
export async function verifyDummy(password: string): Promise<false> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password.slice(0, MAX_PASSWORD), await dummy);
  return false;
}
