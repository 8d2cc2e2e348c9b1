// The store suite: the same scenarios on embedded SQLite and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, dropPgSchema } from '../src/store/db.ts';
import { authenticateKey, bootstrapDefaultWorkspace, createKey, hashKey, revokeKey } from '../src/workspaces/keys.ts';
import { normalizeCall } from '../src/ingest/normalize.ts';
import { BACKENDS, PG_URL, type TestOmnia, startTestOmnia, tempDir } from './helpers.ts';

describe.each(BACKENDS)('store (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  it('migrations are idempotent: reopening an existing store changes nothing', async () => {
    const schema = `t_reopen_${Date.now().toString(36)}`;
    const dir = tempDir();
    const opts = backend === 'postgres' ? { databaseUrl: PG_URL, pgSchema: schema } : { dataDir: dir };
    const a = await openStore(opts);
    await a.db.insertInto('workspaces').values({ id: 'w1', name: 'one', created_at: 1 }).execute();
    await a.close();
    const b = await openStore(opts);
    expect(await b.db.selectFrom('workspaces').select('id').execute()).toEqual([{ id: 'w1' }]);
    await b.close();
    if (backend === 'postgres') await dropPgSchema(PG_URL, schema);
  });

  it('keys are stored hashed, authenticate by kind, and revoke at once', async () => {
    const k = await createKey(o.rt.store, 'default', 'write', 'store test');
    const rows = await o.rt.store.db.selectFrom('api_keys').selectAll().execute();
    expect(rows.some((r) => r.key_hash === hashKey(k.key))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(k.key);
    expect(await authenticateKey(o.rt.store, k.key, 'write')).toMatchObject({ workspaceId: 'default' });
    expect(await authenticateKey(o.rt.store, k.key, 'admin')).toBeNull();
    expect(await revokeKey(o.rt.store, 'default', k.id)).toBe(true);
    expect(await authenticateKey(o.rt.store, k.key, 'write')).toBeNull();
  });

  it('environment keys: the default workspace gets exactly these keys', async () => {
    const extra = await createKey(o.rt.store, 'default', 'admin', 'extra');
    await bootstrapDefaultWorkspace(o.rt.store, { adminKey: o.adminKey, writeKey: o.writeKey });
    expect(await authenticateKey(o.rt.store, extra.key, 'admin')).toBeNull();
    expect(await authenticateKey(o.rt.store, o.adminKey, 'admin')).not.toBeNull();
  });

  // PostgreSQL: three connections bootstrap concurrently, as several `omnia serve` processes starting together do. SQLite:
  // one after another — in one Node process a second synchronous connection waiting on the file lock would block the
  // event loop that the first needs to commit; separate processes wait on the lock as PostgreSQL's do.
  it('several processes bootstrapping one fresh store: one workspace, one key of each kind, no error', async () => {
    const schema = `t_boot_${randomBytes(4).toString('hex')}`;
    const dir = tempDir();
    const opts = backend === 'postgres' ? { databaseUrl: PG_URL, pgSchema: schema } : { dataDir: dir };
    const first = await openStore(opts);
    const stores = [first, await openStore(opts), await openStore(opts)];
    for (let round = 0; round < 2; round++) {
      // round 0: a first run (keys generated); round 1: keys from the environment, as the multi-process test starts
      const env = round === 0 ? {} : { writeKey: 'omw_boot', adminKey: 'oma_boot' };
      const results =
        backend === 'postgres'
          ? await Promise.all(stores.map((s) => bootstrapDefaultWorkspace(s, env)))
          : [await bootstrapDefaultWorkspace(stores[0]!, env), await bootstrapDefaultWorkspace(stores[1]!, env), await bootstrapDefaultWorkspace(stores[2]!, env)];
      expect(results.flatMap((r) => r.generated).map((g) => g.kind).sort()).toEqual(round === 0 ? ['admin', 'write'] : []);
      const live = await first.db.selectFrom('api_keys').select(['kind']).where('revoked_at', 'is', null).execute();
      expect(live.map((k) => k.kind).sort()).toEqual(['admin', 'write']);
    }
    expect(await first.db.selectFrom('workspaces').select('id').execute()).toEqual([{ id: 'default' }]);
    expect(await authenticateKey(first, 'omw_boot', 'write')).toMatchObject({ workspaceId: 'default' });
    for (const s of stores) await s.close();
    if (backend === 'postgres') await dropPgSchema(PG_URL, schema);
  });

  it('the writer deduplicates by messageId per workspace', async () => {
    const n = normalizeCall('track', { messageId: 'dup-1', userId: 'd', event: 'E' }, { workspaceId: 'default', receivedAt: Date.now() });
    if (!n.ok) throw new Error('invalid');
    expect(await o.rt.writer.write([n.row, n.row])).toEqual([true, false]);
    expect(await o.rt.writer.write([n.row])).toEqual([false]);
    const c = await o.rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('message_id', '=', 'dup-1').executeTakeFirst();
    expect(Number(c?.n)).toBe(1);
  });

  it('traits: newest value wins by event time, even when an older event arrives later', async () => {
    await o.track('/v1/identify', { userId: 'tr-1', traits: { plan: 'gold', city: 'Leeds' }, timestamp: '2024-05-02T10:00:00Z' });
    await o.settle();
    await o.track('/v1/identify', { userId: 'tr-1', traits: { plan: 'silver', age: 40 }, timestamp: '2024-05-01T10:00:00Z' });
    await o.settle();
    const p = (await o.api('GET', '/api/profiles/lookup?userId=tr-1')).body;
    expect(p.traits).toMatchObject({ plan: 'gold', city: 'Leeds', age: 40 });
    expect(p.traitsUpdatedAt.plan).toBe(Date.parse('2024-05-02T10:00:00Z'));
  });

  it('consent from identify traits and from the API, kept in the timeline; a late older event does not undo it', async () => {
    await o.track('/v1/identify', { userId: 'c-1', traits: { email: 'c1@example.com', consent: { email: { marketing: 'subscribed' }, sms: false } }, timestamp: '2024-06-01T00:00:00Z' });
    await o.settle();
    let p = (await o.api('GET', '/api/profiles/lookup?userId=c-1')).body;
    const email = p.channels.find((c: any) => c.channel === 'email');
    expect(email.consent.marketing.state).toBe('subscribed');
    expect(p.channels.find((c: any) => c.channel === 'sms').consent.all.state).toBe('unsubscribed');
    await o.track('/v1/identify', { userId: 'c-1', traits: { consent: { email: { marketing: 'unsubscribed' } } }, timestamp: '2024-05-01T00:00:00Z' });
    await o.settle();
    p = (await o.api('GET', '/api/profiles/lookup?userId=c-1')).body;
    expect(p.channels.find((c: any) => c.channel === 'email').consent.marketing.state).toBe('subscribed');
    const put = await o.api('PUT', `/api/profiles/${p.id}/consent`, { channel: 'email', topic: 'marketing', state: 'unsubscribed', source: 'preference-centre' });
    expect(put.status).toBe(200);
    expect(put.body.profile.channels.find((c: any) => c.channel === 'email').consent.marketing).toMatchObject({ state: 'unsubscribed', source: 'preference-centre' });
    expect((await o.api('PUT', `/api/profiles/${p.id}/consent`, { channel: 'pigeon', state: 'subscribed' })).status).toBe(400);
    const tl = (await o.api('GET', `/api/profiles/${p.id}/events?limit=100`)).body.events;
    expect(tl.filter((e: any) => e.event === 'Consent Changed' && e.internal)).toHaveLength(3);
  });

  it('timeline is newest first and cursor-paginated without gaps or repeats', async () => {
    const batch = Array.from({ length: 25 }, (_, i) => ({
      type: 'track',
      messageId: `tl-${i}`,
      userId: 'tl-user',
      event: 'Product Viewed',
      timestamp: new Date(Date.UTC(2024, 0, 1, 0, 0, Math.floor(i / 2))).toISOString(),
    }));
    expect((await o.track('/v1/batch', { batch })).body.accepted).toBe(25);
    await o.settle();
    const id = (await o.api('GET', '/api/profiles/lookup?userId=tl-user')).body.id;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = (await o.api('GET', `/api/profiles/${id}/events?limit=7${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.events.map((e: any) => e.messageId));
      for (let i = 1; i < page.events.length; i++) expect(page.events[i - 1].timestamp).toBeGreaterThanOrEqual(page.events[i].timestamp);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(batch.map((b) => b.messageId).sort());
    expect((await o.api('GET', `/api/profiles/${id}/events?cursor=bogus`)).status).toBe(400);
  });

  it('search by identifier prefix', async () => {
    await o.track('/v1/identify', { userId: 'srch-1', traits: { email: 'Zelda.Search@Example.com' } });
    await o.settle();
    const r = (await o.api('GET', '/api/profiles?search=zelda.s')).body.profiles;
    expect(r).toHaveLength(1);
    expect(r[0].matched[0]).toMatchObject({ kind: 'email', value: 'zelda.search@example.com' });
    expect((await o.api('GET', '/api/profiles?search=%25')).body.profiles).toHaveLength(0);
  });

  it('GDPR: export has everything; delete erases identifiers and anonymises events; both are logged', async () => {
    await o.track('/v1/identify', { userId: 'gdpr-1', traits: { email: 'gone@example.com', name: 'Gone' } });
    await o.track('/v1/track', { userId: 'gdpr-1', event: 'Order Completed', properties: { total: 10, currency: 'EUR' } });
    await o.settle();
    const id = (await o.api('GET', '/api/profiles/lookup?email=gone@example.com')).body.id;
    const exp = (await o.api('GET', `/api/profiles/${id}/export`)).body;
    expect(exp.profile.traits.name).toBe('Gone');
    expect(exp.events.map((e: any) => e.event)).toEqual(expect.arrayContaining(['Order Completed']));
    const del = await o.api('DELETE', `/api/profiles/${id}`);
    expect(del.status).toBe(200);
    expect((await o.api('GET', `/api/profiles/${id}`)).status).toBe(404);
    expect((await o.api('GET', '/api/profiles/lookup?email=gone@example.com')).status).toBe(404);
    const left = await o.rt.store.db.selectFrom('events').selectAll().where('profile_id', '=', 'deleted').execute();
    expect(left.length).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(left)).not.toContain('gone@example.com');
    expect(left.some((e) => e.revenue_minor === 1000)).toBe(true);
    const log = await o.rt.store.db.selectFrom('gdpr_log').selectAll().where('profile_id', '=', id).execute();
    expect(log.map((l) => l.action).sort()).toEqual(['delete', 'export']);
    // The email is free again: a new event starts a new person.
    await o.track('/v1/identify', { userId: 'gdpr-2', traits: { email: 'gone@example.com' } });
    await o.settle();
    expect((await o.api('GET', '/api/profiles/lookup?email=gone@example.com')).body.id).not.toBe(id);
  });

  // PostgreSQL's jsonb cannot even store such a row; on SQLite a corrupt row is possible (a manual edit, a bug).
  it.skipIf(backend === 'postgres')('a poison event is set aside and does not stall identity processing', async () => {
    await o.rt.store.db
      .insertInto('events')
      .values({
        workspace_id: 'default', message_id: 'poison-1', profile_id: null, type: 'track', event: 'E', user_id: 'p1', anonymous_id: null,
        channel: 'server', internal: 0, timestamp: 1, received_at: 1, properties: '{not json', traits: '{}', context: '{}', revenue_minor: null, currency: null,
      })
      .execute();
    await o.track('/v1/track', { messageId: 'after-poison', userId: 'healthy-1', event: 'E' });
    await o.rt.writer.flush();
    for (let i = 0; i < 100; i++) {
      const r = await o.rt.store.db.selectFrom('events').select(['message_id', 'profile_id']).where('message_id', 'in', ['poison-1', 'after-poison']).execute();
      if (r.every((x) => x.profile_id !== null)) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const rows = await o.rt.store.db.selectFrom('events').select(['message_id', 'profile_id']).where('message_id', 'in', ['poison-1', 'after-poison']).execute();
    expect(rows.find((r) => r.message_id === 'poison-1')?.profile_id).toBe('unresolved');
    expect((await o.api('GET', '/api/profiles/lookup?userId=healthy-1')).status).toBe(200);
  });

  it('OpenAPI describes the tracking and admin APIs', async () => {
    const res = await fetch(`${o.url}/api/openapi.json`);
    const doc = await res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ['/v1/track', '/v1/batch', '/api/profiles/{id}', '/api/profiles/merges/{id}/undo', '/api/identity/conflicts', '/api/keys']) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(doc.paths['/v1/track'].post.requestBody.content['application/json'].schema.required).toContain('event');
    expect((await fetch(`${o.url}/api/docs/`)).status).toBe(200);
  });
});
