// Workspace isolation and admin-API auth, on both backends: workspace B (created through the API) and the default
// workspace A share one store, yet neither key pair reaches anything of the other's; a non-default admin key cannot
// administer the instance. Also: the admin API's 401s and its 400s that name the offending field.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const basicOf = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

describe.each(BACKENDS)('workspace isolation (%s)', (backend) => {
  let o: TestOmnia;
  let B: { id: string; write: string; admin: string };
  const tag = randomUUID().slice(0, 8);
  const shared = `shared-${tag}`; // the same userId in both workspaces
  const onlyA = `only-a-${tag}`;
  const onlyB = `only-b-${tag}`;
  const sameMid = `same-mid-${tag}`; // the same messageId in both workspaces

  const trackAs = async (writeKey: string, path: string, body: unknown) => {
    const res = await fetch(o.url + path, {
      method: 'POST',
      headers: { authorization: basicOf(writeKey), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const asA = (method: string, url: string, body?: unknown) => o.api(method, url, body);
  const asB = (method: string, url: string, body?: unknown) => o.api(method, url, body, B.admin);

  beforeAll(async () => {
    o = await startTestOmnia(backend);
    const created = await o.api('POST', '/api/workspaces', { name: `Workspace B ${tag}` });
    expect(created.status).toBe(201);
    expect(created.body.workspace.name).toBe(`Workspace B ${tag}`);
    expect(created.body.keys.write).toMatch(/^omw_/);
    expect(created.body.keys.admin).toMatch(/^oma_/);
    B = { id: created.body.workspace.id, write: created.body.keys.write, admin: created.body.keys.admin };
    expect(B.id).not.toBe('default');

    // The same person id, email-less here, in both workspaces with different traits; one user only in each.
    for (const [key, ws] of [
      [o.writeKey, 'A'],
      [B.write, 'B'],
    ] as const) {
      expect((await trackAs(key, '/v1/identify', { messageId: `${ws}-id-${tag}`, userId: shared, traits: { ws, email: `${ws.toLowerCase()}-${tag}@example.com` } })).status).toBe(200);
      expect((await trackAs(key, '/v1/track', { messageId: `${ws}-tr-${tag}`, userId: shared, event: `Event in ${ws}` })).status).toBe(200);
      expect((await trackAs(key, '/v1/batch', { batch: [{ type: 'track', messageId: sameMid, userId: shared, event: `Same mid in ${ws}` }] })).body).toMatchObject({
        accepted: 1,
        duplicates: 0,
      });
    }
    expect((await trackAs(o.writeKey, '/v1/identify', { userId: onlyA, traits: { email: `only-a-${tag}@example.com` } })).status).toBe(200);
    expect((await trackAs(B.write, '/v1/identify', { userId: onlyB, traits: { email: `only-b-${tag}@example.com` } })).status).toBe(200);
    await o.settle();
  });
  afterAll(async () => {
    await o?.close();
  });

  it("events are stored under the write key's workspace; a messageId is unique per workspace only", async () => {
    const rows = await o.rt.store.db.selectFrom('events').select(['workspace_id', 'message_id', 'event']).where('message_id', '=', sameMid).execute();
    expect(rows.map((r) => `${r.workspace_id}:${r.event}`).sort()).toEqual([`${B.id}:Same mid in B`, `default:Same mid in A`].sort());
    const ofB = await o.rt.store.db.selectFrom('events').select('message_id').where('workspace_id', '=', B.id).execute();
    expect(ofB.map((r) => r.message_id)).not.toContain(`A-id-${tag}`);
    expect(ofB.map((r) => r.message_id)).toContain(`B-id-${tag}`);
  });

  it("each workspace's lookups, profiles and timelines show only its own data", async () => {
    const a = await asA('GET', `/api/profiles/lookup?userId=${shared}`);
    const b = await asB('GET', `/api/profiles/lookup?userId=${shared}`);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.id).not.toBe(b.body.id);
    expect(a.body.traits.ws).toBe('A');
    expect(b.body.traits.ws).toBe('B');
    expect(a.body.identifiers.map((i: any) => i.value)).not.toContain(`b-${tag}@example.com`);
    const tlA = (await asA('GET', `/api/profiles/${a.body.id}/events?limit=500`)).body.events.map((e: any) => `${e.messageId}:${e.event ?? ''}`);
    const tlB = (await asB('GET', `/api/profiles/${b.body.id}/events?limit=500`)).body.events.map((e: any) => `${e.messageId}:${e.event ?? ''}`);
    expect(tlA.sort()).toEqual([`A-id-${tag}:`, `A-tr-${tag}:Event in A`, `${sameMid}:Same mid in A`].sort());
    expect(tlB.sort()).toEqual([`B-id-${tag}:`, `B-tr-${tag}:Event in B`, `${sameMid}:Same mid in B`].sort());

    // Identifiers of the other workspace are unknown.
    expect((await asA('GET', `/api/profiles/lookup?userId=${onlyB}`)).status).toBe(404);
    expect((await asB('GET', `/api/profiles/lookup?userId=${onlyA}`)).status).toBe(404);
    expect((await asA('GET', `/api/profiles/lookup?email=only-b-${tag}%40example.com`)).status).toBe(404);
    expect((await asB('GET', `/api/profiles/lookup?email=b-${tag}%40example.com`)).status).toBe(200);
    expect((await asB('GET', `/api/profiles/lookup?email=a-${tag}%40example.com`)).status).toBe(404);
    // Search too.
    const searchA = (await asA('GET', `/api/profiles?search=only-`)).body.profiles.flatMap((p: any) => p.matched.map((m: any) => m.value));
    expect(searchA).toContain(onlyA);
    expect(searchA.some((v: string) => v.includes('only-b'))).toBe(false);
    const searchB = (await asB('GET', `/api/profiles?search=only-`)).body.profiles.flatMap((p: any) => p.matched.map((m: any) => m.value));
    expect(searchB).toContain(onlyB);
    expect(searchB.some((v: string) => v.includes('only-a'))).toBe(false);
  });

  it("B's admin key cannot read, change, export or delete A's profile by id (404), and A's profile is untouched", async () => {
    const a = (await asA('GET', `/api/profiles/lookup?userId=${onlyA}`)).body;
    const before = await asA('GET', `/api/profiles/${a.id}`);
    expect(before.status).toBe(200);
    for (const [method, url, body] of [
      ['GET', `/api/profiles/${a.id}`, undefined],
      ['GET', `/api/profiles/${a.id}/events`, undefined],
      ['GET', `/api/profiles/${a.id}/export`, undefined],
      ['PUT', `/api/profiles/${a.id}/consent`, { channel: 'email', state: 'unsubscribed' }],
      ['DELETE', `/api/profiles/${a.id}`, undefined],
    ] as const) {
      const res = await asB(method, url, body);
      expect(res.status, `${method} ${url}: ${JSON.stringify(res.body)}`).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(onlyA);
    }
    const after = await asA('GET', `/api/profiles/${a.id}`);
    expect(after.body).toEqual(before.body);
    expect((await asA('GET', `/api/profiles/${a.id}/events`)).body.events.length).toBeGreaterThan(0);
  });

  it("B's admin key lists only B's keys and cannot revoke A's", async () => {
    const keysA = (await asA('GET', '/api/keys')).body.keys as any[];
    const keysB = (await asB('GET', '/api/keys')).body.keys as any[];
    expect(keysA.length).toBeGreaterThanOrEqual(2);
    expect(keysB.map((k) => k.kind).sort()).toEqual(['admin', 'write']);
    expect(keysA.every((k) => k.workspaceId === 'default')).toBe(true);
    expect(keysB.every((k) => k.workspaceId === B.id)).toBe(true);
    const idsB = new Set(keysB.map((k) => k.id));
    expect(keysA.some((k) => idsB.has(k.id))).toBe(false);
    // Never the hash or the plaintext.
    for (const k of [...keysA, ...keysB]) {
      expect(Object.keys(k)).not.toContain('key_hash');
      expect(JSON.stringify(k)).not.toContain(o.writeKey);
      expect(JSON.stringify(k)).not.toContain(B.write);
    }
    const aWrite = keysA.find((k) => k.kind === 'write' && k.revokedAt === null);
    expect((await asB('DELETE', `/api/keys/${aWrite.id}`)).status).toBe(404);
    // A's write key still works.
    expect((await trackAs(o.writeKey, '/v1/track', { userId: onlyA, event: 'Still Works' })).status).toBe(200);
    // A key B creates belongs to B.
    const made = await asB('POST', '/api/keys', { kind: 'write', name: 'b2' });
    expect(made.status).toBe(201);
    expect(made.body.workspaceId).toBe(B.id);
    const mid = `b2-${randomUUID()}`;
    expect((await trackAs(made.body.key, '/v1/track', { userId: onlyB, event: 'From B2', messageId: mid })).status).toBe(200);
    await o.settle();
    const row = await o.rt.store.db.selectFrom('events').select('workspace_id').where('message_id', '=', mid).executeTakeFirstOrThrow();
    expect(row.workspace_id).toBe(B.id);
  });

  it("B cannot see, undo or resolve A's merges and conflicts", async () => {
    // A merge in A: an anonymous visitor logs in.
    const anon = `anon-${tag}`;
    expect((await trackAs(o.writeKey, '/v1/page', { anonymousId: anon, name: 'Home' })).status).toBe(200);
    await o.settle();
    expect((await trackAs(o.writeKey, '/v1/identify', { anonymousId: anon, userId: onlyA })).status).toBe(200);
    // A conflict in A: two userIds claim one email.
    const email = `conflict-${tag}@example.com`;
    expect((await trackAs(o.writeKey, '/v1/identify', { userId: `c1-${tag}`, traits: { email } })).status).toBe(200);
    await o.settle();
    expect((await trackAs(o.writeKey, '/v1/identify', { userId: `c2-${tag}`, traits: { email } })).status).toBe(200);
    await o.settle();
    const profileA = (await asA('GET', `/api/profiles/lookup?userId=${onlyA}`)).body;
    const merges = (await asA('GET', `/api/profiles/merges?profileId=${profileA.id}`)).body.merges as any[];
    expect(merges).toHaveLength(1);
    const conflicts = (await asA('GET', '/api/identity/conflicts')).body.conflicts as any[];
    expect(conflicts.length).toBeGreaterThan(0);

    expect((await asB('GET', '/api/profiles/merges')).body.merges.map((m: any) => m.id)).not.toContain(merges[0].id);
    expect((await asB('GET', `/api/profiles/merges?profileId=${profileA.id}`)).body.merges).toEqual([]);
    expect((await asB('GET', '/api/identity/conflicts')).body.conflicts).toEqual([]);
    const undo = await asB('POST', `/api/profiles/merges/${merges[0].id}/undo`);
    expect(undo.status).toBe(404);
    const resolve = await asB('POST', `/api/identity/conflicts/${conflicts[0].id}/resolve`, { action: 'merge' });
    expect(resolve.status).toBe(404);
    // Nothing changed in A.
    expect((await asA('GET', `/api/profiles/merges?profileId=${profileA.id}`)).body.merges[0].undoneAt).toBeNull();
    expect((await asA('GET', `/api/profiles/lookup?anonymousId=${anon}`)).body.id).toBe(profileA.id);
    expect((await asA('GET', '/api/identity/conflicts')).body.conflicts.map((c: any) => c.id)).toContain(conflicts[0].id);
  });

  it("a non-default workspace's admin key cannot create workspaces and sees only its own", async () => {
    const create = await asB('POST', '/api/workspaces', { name: 'Sneaky' });
    expect(create.status).toBe(403);
    expect(create.body.error.code).toBe('forbidden');
    const listB = (await asB('GET', '/api/workspaces')).body.workspaces as any[];
    expect(listB.map((w) => w.id)).toEqual([B.id]);
    const listA = (await asA('GET', '/api/workspaces')).body.workspaces as any[];
    expect(listA.map((w) => w.id)).toEqual(expect.arrayContaining(['default', B.id]));
    expect(listA.some((w) => w.name === 'Sneaky')).toBe(false);
  });

  it('keys of one kind do not work as the other kind, in either workspace', async () => {
    for (const key of [B.admin, o.adminKey]) expect((await trackAs(key, '/v1/track', { userId: 'x', event: 'y' })).status).toBe(401);
    for (const key of [B.write, o.writeKey]) expect((await o.api('GET', '/api/keys', undefined, key)).status).toBe(401);
  });
});

describe.each(BACKENDS)('admin API auth and bad input (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  const call = async (method: string, url: string, headers: Record<string, string>, body?: string) => {
    const res = await fetch(o.url + url, { method, headers, body });
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed };
  };

  it.each([
    ['no Authorization header', () => ({})],
    ['an empty Bearer', () => ({ authorization: 'Bearer ' })],
    ['an unknown Bearer key', () => ({ authorization: 'Bearer oma_nope' })],
    ['the admin key as Basic auth', () => ({ authorization: basicOf(o.adminKey) })],
    ['the write key as Bearer', () => ({ authorization: `Bearer ${o.writeKey}` })],
    ['the admin key with trailing junk', () => ({ authorization: `Bearer ${o.adminKey} extra` })],
  ] as [string, () => Record<string, string>][])('401 with %s', async (_label, headers) => {
    for (const url of ['/api/keys', '/api/workspaces', '/api/profiles?search=a', '/api/identity/conflicts']) {
      const res = await call('GET', url, headers());
      expect(res.status, url).toBe(401);
      expect(res.body.error.code).toBe('unauthorized');
      expect(res.body.error.message).toMatch(/admin key/);
    }
  });

  it('a revoked admin key is refused at once', async () => {
    const made = await o.api('POST', '/api/keys', { kind: 'admin', name: 'temp admin' });
    expect(made.status).toBe(201);
    expect((await o.api('GET', '/api/keys', undefined, made.body.key)).status).toBe(200);
    // A key cannot revoke itself.
    expect((await o.api('DELETE', `/api/keys/${made.body.id}`, undefined, made.body.key)).status).toBe(409);
    expect((await o.api('DELETE', `/api/keys/${made.body.id}`)).status).toBe(200);
    expect((await o.api('GET', '/api/keys', undefined, made.body.key)).status).toBe(401);
    expect((await o.api('DELETE', `/api/keys/${made.body.id}`)).status).toBe(404);
  });

  it.each([
    ['POST', '/api/workspaces', {}, 'body.name'],
    ['POST', '/api/workspaces', { name: '' }, 'body.name'],
    ['POST', '/api/workspaces', { name: { first: 'x' } }, 'body.name'],
    ['POST', '/api/workspaces', { name: 'x'.repeat(201) }, 'body.name'],
    ['POST', '/api/keys', { name: 'k' }, 'body.kind'],
    ['POST', '/api/keys', { kind: 'root', name: 'k' }, 'body.kind'],
    ['POST', '/api/keys', { kind: 'write' }, 'body.name'],
    ['POST', '/api/identity/conflicts/cfl_x/resolve', { action: 'explode' }, 'body.action'],
    ['POST', '/api/identity/conflicts/cfl_x/resolve', {}, 'body.action'],
    ['PUT', '/api/profiles/prf_x/consent', { channel: 'pigeon', state: 'subscribed' }, 'body.channel'],
    ['PUT', '/api/profiles/prf_x/consent', { channel: 'email', state: 'maybe' }, 'body.state'],
    ['PUT', '/api/profiles/prf_x/consent', { channel: 'email', state: 'subscribed', topic: 'has space' }, 'body.topic'],
    ['GET', '/api/profiles', undefined, 'querystring.search'],
    ['GET', '/api/profiles?search=a&limit=0', undefined, 'querystring.limit'],
    ['GET', '/api/profiles?search=a&limit=many', undefined, 'querystring.limit'],
    ['GET', '/api/profiles/prf_x/events?cursor=yesterday', undefined, 'querystring.cursor'],
    ['GET', '/api/profiles/lookup', undefined, 'querystring', /userId, email, phone, anonymousId/],
    ['GET', '/api/profiles/lookup?userId=a&email=b%40c.de', undefined, 'querystring', /exactly one/],
    ['GET', '/api/profiles/merges?limit=501', undefined, 'querystring.limit'],
    ['GET', '/api/identity/conflicts?status=everything', undefined, 'querystring.status'],
  ] as [string, string, unknown, string, RegExp?][])('%s %s %j → 400 naming %s', async (method, url, body, field, message) => {
    const res = await o.api(method, url, body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.field).toBe(field);
    expect(res.body.error.message).toMatch(message ?? new RegExp(`^${field.replace('.', '\\.')}\\b`));
  });

  it('an unknown property in a body is refused, naming it', async () => {
    const res = await o.api('POST', '/api/keys', { kind: 'write', name: 'k', scope: 'all' });
    expect(res.status).toBe(400);
    // The client needs to know which property is not allowed.
    expect(`${res.body.error.field ?? ''} ${res.body.error.message}`).toContain('scope');
    expect((await o.api('GET', '/api/keys')).body.keys.some((k: any) => k.name === 'k')).toBe(false);
  });

  it('malformed JSON and non-JSON bodies are refused with a 4xx, not a 500', async () => {
    const auth = { authorization: `Bearer ${o.adminKey}` };
    const keysBefore = (await o.api('GET', '/api/keys')).body.keys.length;
    const bad = await call('POST', '/api/keys', { ...auth, 'content-type': 'application/json' }, '{"kind": "write", ');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/JSON/i);
    const form = await call('POST', '/api/keys', { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, 'kind=write&name=k');
    expect(form.status).toBe(415);
    // text/plain is read as a string, which is not the object the schema wants.
    const text = await call('POST', '/api/keys', { ...auth, 'content-type': 'text/plain' }, 'kind=write');
    expect(text.status).toBe(400);
    expect(text.body.error.field).toBe('body');
    const none = await call('POST', '/api/keys', auth);
    expect(none.status).toBe(400);
    const empty = await call('POST', '/api/keys', { ...auth, 'content-type': 'application/json' }, '');
    expect(empty.status).toBe(400);
    expect((await o.api('GET', '/api/keys')).body.keys).toHaveLength(keysBefore);
  });

  it('unknown ids answer 404 and unknown routes 404', async () => {
    expect((await o.api('GET', '/api/profiles/prf_does_not_exist')).status).toBe(404);
    expect((await o.api('GET', '/api/profiles/lookup?userId=nobody')).status).toBe(404);
    expect((await o.api('DELETE', '/api/keys/key_nope')).status).toBe(404);
    expect((await o.api('POST', '/api/identity/conflicts/cfl_nope/resolve', { action: 'merge' })).status).toBe(404);
    expect((await o.api('GET', '/api/nothing-here')).status).toBe(404);
  });
});
