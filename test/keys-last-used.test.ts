// API keys record when they were last used (to the minute), so Settings can tell a live key from a forgotten one:
// a write key used by tracking and an admin key used by the API get a time, an unused one stays "never", a revoked
// key's attempts are not counted, and a second use within the minute writes nothing. On both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateKey } from '../src/workspaces/keys.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

describe.each(BACKENDS)('API key last use (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  const keys = async () => (await o.api('GET', '/api/keys')).body.keys as { id: string; name: string; prefix: string; lastUsedAt: number | null; revokedAt: number | null }[];
  const byName = async (name: string) => (await keys()).find((k) => k.name === name)!;
  const soon = async <T>(f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
    for (let i = 0; i < 100; i++) {
      const v = await f();
      if (ok(v)) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
    return f();
  };

  it('records the last use of write and admin keys; unused keys stay null', async () => {
    const before = Date.now();
    const spare = (await o.api('POST', '/api/keys', { kind: 'write', name: 'spare' })).body;
    expect(spare.key).toBeTruthy();
    expect((await byName('spare')).lastUsedAt).toBeNull();

    expect((await o.track('/v1/track', { userId: 'u1', event: 'Product Viewed' })).status).toBe(200);
    const write = await soon(
      async () => (await keys()).find((k) => o.writeKey.startsWith(k.prefix) && k.revokedAt === null)!,
      (k) => k.lastUsedAt !== null,
    );
    expect(write.lastUsedAt).toBeGreaterThanOrEqual(before);
    expect(write.lastUsedAt).toBeLessThanOrEqual(Date.now());
    // The admin key has just listed the keys: it was used too.
    const admin = await soon(
      async () => (await keys()).find((k) => o.adminKey.startsWith(k.prefix) && k.revokedAt === null)!,
      (k) => k.lastUsedAt !== null,
    );
    expect(admin.lastUsedAt).toBeGreaterThanOrEqual(before);
    expect((await byName('spare')).lastUsedAt).toBeNull();
  });

  it('a revoked key is refused and its attempt is not recorded', async () => {
    const k = (await o.api('POST', '/api/keys', { kind: 'write', name: 'to revoke' })).body;
    expect((await o.api('DELETE', `/api/keys/${k.id}`)).status).toBeLessThan(300);
    const basic = `Basic ${Buffer.from(`${k.key}:`).toString('base64')}`;
    const r = await fetch(`${o.url}/v1/track`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/json' }, body: JSON.stringify({ userId: 'u2', event: 'Product Viewed' }) });
    expect(r.status).toBe(401);
    await new Promise((res) => setTimeout(res, 100));
    expect((await byName('to revoke')).lastUsedAt).toBeNull();
  });

  it('writes at most once a minute per key: a second use right after changes nothing', async () => {
    const k = (await o.api('POST', '/api/keys', { kind: 'write', name: 'throttled' })).body;
    expect(await authenticateKey(o.rt.store, k.key, 'write')).not.toBeNull();
    const first = await soon(() => byName('throttled'), (x) => x.lastUsedAt !== null);
    expect(first.lastUsedAt).not.toBeNull();
    // Mark it as used long ago; a use within USE_RECORD_MS of the recorded one must not write again.
    await o.rt.store.db.updateTable('api_keys').set({ last_used_at: 1 }).where('id', '=', k.id).execute();
    expect(await authenticateKey(o.rt.store, k.key, 'write')).not.toBeNull();
    await new Promise((res) => setTimeout(res, 100));
    expect((await byName('throttled')).lastUsedAt).toBe(1);
  });

  it('a wrong kind of key is refused and not recorded as a use', async () => {
    const k = (await o.api('POST', '/api/keys', { kind: 'write', name: 'write only' })).body;
    expect(await authenticateKey(o.rt.store, k.key, 'admin')).toBeNull();
    expect((await o.api('GET', '/api/keys', undefined, k.key)).status).toBe(401);
    await new Promise((res) => setTimeout(res, 100));
    expect((await byName('write only')).lastUsedAt).toBeNull();
  });
});
