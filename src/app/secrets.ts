// Secrets at rest (webhook signing secrets now; channel credentials later): AES-256-GCM with a key derived from
// OMNIA_SECRET. Ciphertexts look like `enc:v1:<key id>:<base64url(iv ‖ ciphertext ‖ tag)>` and are bound to a context
// string (additional authenticated data, e.g. `webhook:<workspace>:<id>`), so a ciphertext copied into another row
// does not decrypt there. Nothing here ever writes a secret in plaintext.
//
// Key material:
// - OMNIA_SECRET (any string of at least 16 characters; a passphrase is fine: it is stretched with scrypt, then
//   HKDF derives the encryption key and a public key id from it).
// - Unset: a random secret is generated once and kept
//     · SQLite: in a file next to the database (`<data dir>/omnia-secret.key`, mode 0600), NOT in the database: a copy
//       of omnia.db alone (a leaked file, an SQL read) then does not carry the key that opens its secrets;
//     · PostgreSQL: in the `settings` table (row `secrets.generated_key`), because API and worker processes on several
//       hosts must all use the same key and the database is the only thing they share. That protects less (a full
//       dump holds key and ciphertexts), so a warning says to set OMNIA_SECRET in production.
//     · In-memory SQLite: a per-process key (the data dies with the process anyway).
// - Switching from a generated key to OMNIA_SECRET keeps old ciphertexts readable: the generated key, when it exists,
//   is loaded as a decrypt-only key (ciphertexts name their key id). New ciphertexts always use the primary key.
import fs from 'node:fs';
import path from 'node:path';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import type { Store } from '../store/db.ts';

export type SecretSource = 'env' | 'data-dir' | 'settings' | 'memory';

export interface Secrets {
  /** Public fingerprint of the key new ciphertexts are made with (safe to log). */
  readonly keyId: string;
  readonly source: SecretSource;
  encrypt(plaintext: string, context: string): string;
  /** Throws SecretError when the key is unknown, the ciphertext was altered, or the context differs. */
  decrypt(ciphertext: string, context: string): string;
}

export class SecretError extends Error {}

export const SETTINGS_KEY = 'secrets.generated_key';
export const KEY_FILE = 'omnia-secret.key';
const PREFIX = 'enc:v1:';
const MIN_SECRET_LENGTH = 16;

interface Key {
  id: string;
  aes: Buffer;
}

function deriveKey(secret: string): Key {
  // scrypt: OMNIA_SECRET may be a human-chosen passphrase. N=2^14 costs ~30–60 ms once per process.
  const master = scryptSync(secret, 'omnia/secrets/v1', 32, { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  const aes = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'omnia/secrets/aes-256-gcm', 32));
  const id = createHmac('sha256', Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'omnia/secrets/key-id', 32))).update('key id').digest('hex').slice(0, 12);
  return { id, aes };
}

export function makeSecrets(primary: string, source: SecretSource, decryptOnly: string[] = []): Secrets {
  const key = deriveKey(primary);
  const keys = new Map<string, Key>([[key.id, key]]);
  for (const s of decryptOnly) {
    const k = deriveKey(s);
    if (!keys.has(k.id)) keys.set(k.id, k);
  }
  return {
    keyId: key.id,
    source,
    encrypt(plaintext, context) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key.aes, iv);
      c.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
      return `${PREFIX}${key.id}:${Buffer.concat([iv, ct, c.getAuthTag()]).toString('base64url')}`;
    },
    decrypt(ciphertext, context) {
      if (!ciphertext.startsWith(PREFIX)) throw new SecretError('not an encrypted value');
      const [kid, data] = ciphertext.slice(PREFIX.length).split(':');
      const k = kid ? keys.get(kid) : undefined;
      if (!k || !data) throw new SecretError(`encrypted with key ${kid ?? '?'}, which this process does not have (OMNIA_SECRET changed?)`);
      const raw = Buffer.from(data, 'base64url');
      if (raw.length < 28) throw new SecretError('ciphertext too short');
      try {
        const d = createDecipheriv('aes-256-gcm', k.aes, raw.subarray(0, 12));
        d.setAAD(Buffer.from(context, 'utf8'));
        d.setAuthTag(raw.subarray(raw.length - 16));
        return Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8');
      } catch {
        throw new SecretError('ciphertext failed authentication (altered, or stored for another record)');
      }
    },
  };
}

export interface SecretsOptions {
  /** Default: process.env.OMNIA_SECRET. */
  secret?: string;
  log?: (msg: string) => void;
}

/** Loads (on first use, generates) the key material for this store. */
export async function openSecrets(store: Store, opts: SecretsOptions = {}): Promise<Secrets> {
  const configured = opts.secret ?? (process.env.OMNIA_SECRET || undefined);
  if (configured !== undefined && configured.length < MIN_SECRET_LENGTH) {
    throw new Error(`OMNIA_SECRET must be at least ${MIN_SECRET_LENGTH} characters (a long random string: openssl rand -base64 32)`);
  }
  if (store.dialect === 'sqlite' && (!store.sqlite || store.sqlite.memory)) {
    return configured ? makeSecrets(configured, 'env') : makeSecrets(randomBytes(32).toString('base64url'), 'memory');
  }
  const file = store.dialect === 'sqlite' ? path.join(path.dirname(store.sqlite!.name), KEY_FILE) : null;
  const read = async (): Promise<string | undefined> => {
    if (file) {
      try {
        return fs.readFileSync(file, 'utf8').trim() || undefined;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    }
    const row = await store.db.selectFrom('settings').select('value').where('name', '=', SETTINGS_KEY).executeTakeFirst();
    return row?.value;
  };
  if (configured) {
    const legacy = await read();
    return makeSecrets(configured, 'env', legacy ? [legacy] : []);
  }
  let generated = await read();
  if (!generated) {
    const fresh = randomBytes(32).toString('base64url');
    if (file) {
      // 'wx': two processes starting at once cannot both create it; the loser reads the winner's key.
      try {
        const fd = fs.openSync(file, 'wx', 0o600);
        try {
          fs.writeSync(fd, `${fresh}\n`);
          fs.fsyncSync(fd);
        } finally {
          fs.closeSync(fd);
        }
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    } else {
      await store.db.insertInto('settings').values({ name: SETTINGS_KEY, value: fresh, created_at: Date.now() }).onConflict((oc) => oc.column('name').doNothing()).execute();
    }
    generated = await read();
    if (!generated) throw new Error('could not store the generated secret key');
    opts.log?.(
      file
        ? `OMNIA_SECRET is not set: generated a key for secrets at rest in ${file} (back it up with the database, or set OMNIA_SECRET)`
        : 'OMNIA_SECRET is not set: generated a key for secrets at rest and stored it in the database (settings table); set OMNIA_SECRET in production so a database dump alone cannot decrypt them',
    );
  } else if (!file) {
    opts.log?.('OMNIA_SECRET is not set: secrets at rest use the generated key stored in the database; set OMNIA_SECRET in production');
  }
  return makeSecrets(generated, file ? 'data-dir' : 'settings');
}

const cache = new WeakMap<Store, Promise<Secrets>>();

/** One Secrets per store, shared by every module of the process (the first caller's options win). */
export function secretsFor(store: Store, opts: SecretsOptions = {}): Promise<Secrets> {
  let p = cache.get(store);
  if (!p) {
    p = openSecrets(store, opts);
    p.catch(() => cache.delete(store));
    cache.set(store, p);
  }
  return p;
}
