// Workspaces and API keys. Keys are 192-bit random secrets, so a plain SHA-256 is the right hash (a slow KDF only
// matters for low-entropy passwords); only the hash and a short display prefix are stored.
import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';

export type KeyKind = 'write' | 'admin';
export const DEFAULT_WORKSPACE = 'default';

export interface KeyInfo {
  id: string;
  workspaceId: string;
  kind: KeyKind;
  name: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
  /** When the key last authenticated a request, to within USE_RECORD_MS; null if it never has. */
  lastUsedAt: number | null;
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateKey(kind: KeyKind): string {
  return `${kind === 'admin' ? 'oma' : 'omw'}_${randomBytes(24).toString('base64url')}`;
}

export async function createWorkspace(store: Store, name: string, id = newId('ws')): Promise<{ id: string; name: string }> {
  await store.db.insertInto('workspaces').values({ id, name, created_at: Date.now() }).execute();
  return { id, name };
}

export async function listWorkspaces(store: Store) {
  return store.db.selectFrom('workspaces').selectAll().orderBy('created_at').execute();
}

export async function workspaceExists(store: Store, id: string): Promise<boolean> {
  return !!(await store.db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst());
}

/** Stores a key (given, or newly generated) and returns the plaintext once. */
export async function createKey(
  store: Store,
  workspaceId: string,
  kind: KeyKind,
  name: string,
  plaintext = generateKey(kind),
): Promise<KeyInfo & { key: string }> {
  const row = {
    id: newId('key'),
    workspace_id: workspaceId,
    kind,
    name,
    key_hash: hashKey(plaintext),
    key_prefix: plaintext.slice(0, 8),
    created_at: Date.now(),
    revoked_at: null,
  };
  await store.db.insertInto('api_keys').values(row).execute();
  return { ...toInfo(row), key: plaintext };
}

export async function listKeys(store: Store, workspaceId: string): Promise<KeyInfo[]> {
  const rows = await store.db.selectFrom('api_keys').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').execute();
  return rows.map(toInfo);
}

export async function revokeKey(store: Store, workspaceId: string, id: string): Promise<boolean> {
  const res = await store.db
    .updateTable('api_keys')
    .set({ revoked_at: Date.now() })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  keyCache.clear();
  return Number(res.numUpdatedRows) > 0;
}

function toInfo(r: { id: string; workspace_id: string; kind: string; name: string; key_prefix: string; created_at: number; revoked_at: number | null; last_used_at?: number | null }): KeyInfo {
  return {
    id: r.id,
    workspaceId: r.workspace_id,
    kind: r.kind as KeyKind,
    name: r.name,
    prefix: r.key_prefix,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at ?? null,
  };
}

// Authentication runs on every tracking request: cache hash → key for a few seconds. A revoke in this process clears
// the cache at once; other processes see it within KEY_CACHE_MS.
const KEY_CACHE_MS = 5_000;
const keyCache = new Map<string, { at: number; key: KeyInfo | null }>();

export async function authenticateKey(store: Store, plaintext: string, kind: KeyKind): Promise<KeyInfo | null> {
  const h = hashKey(plaintext);
  const now = Date.now();
  let hit = keyCache.get(h);
  if (!hit || now - hit.at > KEY_CACHE_MS) {
    const row = await store.db.selectFrom('api_keys').selectAll().where('key_hash', '=', h).executeTakeFirst();
    hit = { at: now, key: row && row.revoked_at === null ? toInfo(row) : null };
    if (keyCache.size > 10_000) keyCache.clear();
    keyCache.set(h, hit);
  }
  const key = hit.key && hit.key.kind === kind ? hit.key : null;
  if (key) recordUse(store, key.id, now);
  return key;
}

// Last use is written at most once a minute per key and process, off the request's path: tracking calls stay one
// cached lookup, and the column is still right to the minute. A failed write (a store closing) only loses that mark.
export const USE_RECORD_MS = 60_000;
const recordedAt = new Map<string, number>();

function recordUse(store: Store, keyId: string, now: number): void {
  const last = recordedAt.get(keyId);
  if (last !== undefined && now - last < USE_RECORD_MS) return;
  if (recordedAt.size > 10_000) recordedAt.clear();
  recordedAt.set(keyId, now);
  store.db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', keyId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now)]))
    .execute()
    .catch(() => recordedAt.delete(keyId));
}

/**
 * Makes sure the default workspace exists. When OMNIA_WRITE_KEY / OMNIA_ADMIN_KEY are set, the default workspace gets
 * exactly these keys (others of that kind are revoked). Returns keys generated on a first run so the caller can show
 * them once.
 */
export async function bootstrapDefaultWorkspace(
  store: Store,
  keys: { writeKey?: string; adminKey?: string },
): Promise<{ generated: { kind: KeyKind; key: string }[] }> {
  // Several processes may start at once on one PostgreSQL database: the whole check-then-create runs in one
  // transaction that first takes the identity lock row, so exactly one of them creates the workspace and its keys.
  const generated = await store.db.transaction().execute(async (tx) => {
    await tx.updateTable('locks').set({ at: Date.now() }).where('name', '=', 'identity').execute();
    return bootstrapLocked({ ...store, db: tx }, keys);
  });
  keyCache.clear();
  return { generated };
}

async function bootstrapLocked(store: Store, keys: { writeKey?: string; adminKey?: string }): Promise<{ kind: KeyKind; key: string }[]> {
  if (!(await workspaceExists(store, DEFAULT_WORKSPACE))) await createWorkspace(store, 'Default workspace', DEFAULT_WORKSPACE);
  const generated: { kind: KeyKind; key: string }[] = [];
  for (const kind of ['write', 'admin'] as const) {
    const wanted = kind === 'write' ? keys.writeKey : keys.adminKey;
    const existing = (await listKeys(store, DEFAULT_WORKSPACE)).filter((k) => k.kind === kind && k.revokedAt === null);
    if (wanted) {
      const h = hashKey(wanted);
      const rows = await store.db.selectFrom('api_keys').select(['id', 'workspace_id', 'revoked_at']).where('key_hash', '=', h).execute();
      const mine = rows.find((r) => r.workspace_id === DEFAULT_WORKSPACE);
      if (rows.length && !mine) throw new Error(`the ${kind} key from the environment belongs to another workspace`);
      if (!mine) await createKey(store, DEFAULT_WORKSPACE, kind, 'from environment', wanted);
      else if (mine.revoked_at !== null) await store.db.updateTable('api_keys').set({ revoked_at: null }).where('id', '=', mine.id).execute();
      await store.db
        .updateTable('api_keys')
        .set({ revoked_at: Date.now() })
        .where('workspace_id', '=', DEFAULT_WORKSPACE)
        .where('kind', '=', kind)
        .where('key_hash', '!=', h)
        .where('revoked_at', 'is', null)
        .execute();
    } else if (existing.length === 0) {
      const created = await createKey(store, DEFAULT_WORKSPACE, kind, 'first run');
      generated.push({ kind, key: created.key });
    }
  }
  return generated;
}
