// Users, sessions and roles over HTTP on both backends, with an injected clock: first-run setup, login (one answer
// for unknown email and wrong password, rate limit), the session cookie (flags, only its hash stored, idle and
// absolute expiry, logout, password change), CSRF on state-changing session requests, the role rules on the real
// admin API (viewer, support, marketer, owner), the last-owner rule, the workspace switcher, 400s naming the field,
// the CLI. Admin keys keep working as before.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usersCommand } from '../src/access/cli.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const PASSWORD = 'correct horse battery';

interface Session {
  cookie: string;
  token: string;
  csrf: string;
}

interface Res {
  status: number;
  body: any;
  setCookie: string[];
  headers: Headers;
}

describe.each(BACKENDS)('users and roles (%s)', (backend) => {
  let o: TestOmnia;
  let now = Date.UTC(2026, 4, 4, 8, 0, 0);
  const ids: Record<string, string> = {};
  const sessions: Record<string, Session> = {};

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
  });
  afterAll(async () => {
    await o?.close();
  });

  const http = async (method: string, path: string, opts: { session?: Session | null; csrf?: string | false; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.session) {
      headers.cookie = opts.session.cookie;
      const csrf = opts.csrf === undefined ? opts.session.csrf : opts.csrf;
      if (csrf !== false) headers['x-omnia-csrf'] = csrf;
    }
    const res = await fetch(o.url + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body, setCookie: res.headers.getSetCookie(), headers: res.headers };
  };
  const sessionFrom = (r: Res): Session => {
    const c = r.setCookie.find((h) => h.startsWith('omnia_session='));
    if (!c) throw new Error(`no session cookie: ${r.status} ${JSON.stringify(r.body)}`);
    const token = c.slice('omnia_session='.length).split(';')[0]!;
    return { cookie: `omnia_session=${token}`, token, csrf: r.body.csrf };
  };
  const login = async (email: string, password = PASSWORD, extra: Record<string, unknown> = {}) => {
    const r = await http('POST', '/api/auth/login', { body: { email, password, ...extra } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    return sessionFrom(r);
  };
  const segment = (name: string) => ({ name, definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' } });

  it('before any user: /me and the admin API answer 401 without a session', async () => {
    expect((await http('GET', '/api/auth/me')).status).toBe(401);
    const r = await http('GET', '/api/segments');
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/admin key or session/);
  });

  it('setup refuses bad input naming the field, then creates the first owner once (409 afterwards)', async () => {
    const bad = [
      [{ email: 'not-an-email', password: PASSWORD }, 'email'],
      [{ email: 'owner@example.com', password: 'short' }, 'password'],
      [{ email: 'owner@example.com', password: PASSWORD, name: '' }, 'name'],
      [{ email: 'owner@example.com', password: PASSWORD, role: 'viewer' }, 'role'],
    ] as const;
    for (const [body, field] of bad) {
      const r = await http('POST', '/api/auth/setup', { body });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error.field).toBe(field);
      expect(r.body.error.message).toContain(field);
    }
    const r = await http('POST', '/api/auth/setup', { body: { email: ' Owner@Example.com ', password: PASSWORD, name: 'Olivia Owner' } });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ user: { email: 'owner@example.com', name: 'Olivia Owner' }, role: 'owner', workspace: { id: 'default' } });
    expect(r.body.workspaces).toEqual([{ id: 'default', name: expect.any(String), role: 'owner' }]);
    expect(r.body.csrf).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    ids.owner = r.body.user.id;
    sessions.owner = sessionFrom(r);

    const again = await http('POST', '/api/auth/setup', { body: { email: 'other@example.com', password: PASSWORD } });
    expect(again.status).toBe(409);
    expect(again.setCookie).toEqual([]);
  });

  it('the session cookie is HttpOnly, SameSite=Lax, Path=/, Secure only over https; only its SHA-256 is stored', async () => {
    const r = await http('POST', '/api/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } });
    const c = r.setCookie.find((h) => h.startsWith('omnia_session='))!;
    const attrs = c.split(';').map((s) => s.trim().toLowerCase());
    expect(attrs).toContain('httponly');
    expect(attrs).toContain('samesite=lax');
    expect(attrs).toContain('path=/');
    expect(attrs).toContain(`max-age=${7 * 24 * 3600}`);
    expect(attrs).not.toContain('secure');
    const token = sessionFrom(r).token;
    expect(Buffer.from(token, 'base64url').length).toBe(32);

    const rows = await o.rt.store.db.selectFrom('sessions').selectAll().execute();
    expect(rows.map((x) => x.token_hash)).toContain(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);

    const viaProxy = await http('POST', '/api/auth/login', { body: { email: 'owner@example.com', password: PASSWORD }, headers: { 'x-forwarded-proto': 'https' } });
    expect(viaProxy.setCookie.find((h) => h.startsWith('omnia_session='))!.toLowerCase()).toMatch(/;\s*secure/);
    const saved = process.env.OMNIA_PUBLIC_URL;
    process.env.OMNIA_PUBLIC_URL = 'https://omnia.example.com';
    try {
      const viaUrl = await http('POST', '/api/auth/login', { body: { email: 'owner@example.com', password: PASSWORD } });
      expect(viaUrl.setCookie.find((h) => h.startsWith('omnia_session='))!.toLowerCase()).toMatch(/;\s*secure/);
    } finally {
      if (saved === undefined) delete process.env.OMNIA_PUBLIC_URL;
      else process.env.OMNIA_PUBLIC_URL = saved;
    }
  });

  it('login: a wrong password and an unknown email get the same 401; bad input is a 400 naming the field', async () => {
    const wrong = await http('POST', '/api/auth/login', { body: { email: 'owner@example.com', password: 'wrong password!' } });
    const unknown = await http('POST', '/api/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password!' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.message).toBe('invalid email or password');
    expect(wrong.setCookie).toEqual([]);
    expect((await http('POST', '/api/auth/login', { body: { email: 'nope', password: PASSWORD } })).body.error.field).toBe('email');
    expect((await http('POST', '/api/auth/login', { body: { email: 'owner@example.com' } })).body.error.field).toBe('password');
    // Email is case-insensitive.
    const me = await http('GET', '/api/auth/me', { session: await login('OWNER@example.COM') });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: { id: ids.owner, email: 'owner@example.com', lastLoginAt: now }, role: 'owner', workspace: { id: 'default' } });
    expect(me.body.csrf).toEqual(expect.any(String));
  });

  it('session requests that change state need the CSRF header; reads do not; admin keys never do', async () => {
    const s = sessions.owner!;
    expect((await http('GET', '/api/segments', { session: s, csrf: false })).status).toBe(200);
    const missing = await http('POST', '/api/segments', { session: s, csrf: false, body: segment('no csrf') });
    expect(missing.status).toBe(403);
    expect(missing.body.error.code).toBe('csrf_failed');
    const wrong = await http('POST', '/api/segments', { session: s, csrf: 'x'.repeat(s.csrf.length), body: segment('wrong csrf') });
    expect(wrong.status).toBe(403);
    // The CSRF token of another session of the same user does not do either.
    const other = await login('owner@example.com');
    expect((await http('POST', '/api/segments', { session: { ...s, csrf: other.csrf }, body: segment('other csrf') })).status).toBe(403);
    const ok = await http('POST', '/api/segments', { session: s, body: segment('with csrf') });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    const names = (await o.api('GET', '/api/segments')).body.segments.map((x: any) => x.name);
    expect(names).toContain('with csrf');
    expect(names).not.toContain('no csrf');
    // Admin key: as before, no cookie, no CSRF header.
    expect((await o.api('POST', '/api/segments', segment('by key'))).status).toBe(201);
    // The auth routes check CSRF too.
    expect((await http('POST', '/api/auth/workspace', { session: s, csrf: false, body: { workspaceId: 'default' } })).status).toBe(403);
  });

  it('owners add members; bad input is a 400 naming the field; an email is taken once, whatever its case', async () => {
    const s = sessions.owner!;
    const bad = [
      [{ email: 'bad@', password: PASSWORD, role: 'viewer' }, 'email'],
      [{ email: 'v@example.com', password: '123456789', role: 'viewer' }, 'password'],
      [{ email: 'v@example.com', password: PASSWORD, role: 'admin' }, 'role'],
      [{ email: 'v@example.com', password: PASSWORD }, 'role'],
      [{ email: 'v@example.com', role: 'viewer' }, 'password'],
      [{ email: 'v@example.com', password: PASSWORD, role: 'viewer', extra: 1 }, 'extra'],
    ] as const;
    for (const [body, field] of bad) {
      const r = await http('POST', '/api/users', { session: s, body });
      expect(r.status, `${JSON.stringify(body)} → ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
    for (const role of ['marketer', 'support', 'viewer'] as const) {
      const r = await http('POST', '/api/users', { session: s, body: { email: `${role}@example.com`, password: PASSWORD, role, name: `A ${role}` } });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect(r.body).toMatchObject({ created: true, user: { email: `${role}@example.com`, role } });
      expect(JSON.stringify(r.body)).not.toContain('scrypt');
      ids[role] = r.body.user.id;
      sessions[role] = await login(`${role}@example.com`);
    }
    const dup = await http('POST', '/api/users', { session: s, body: { email: 'Viewer@Example.com', password: PASSWORD, role: 'viewer' } });
    expect(dup.status).toBe(409);
    const list = await http('GET', '/api/users', { session: s });
    expect(list.body.users.map((u: any) => [u.email, u.role])).toEqual([
      ['marketer@example.com', 'marketer'],
      ['owner@example.com', 'owner'],
      ['support@example.com', 'support'],
      ['viewer@example.com', 'viewer'],
    ]);
    expect(JSON.stringify(list.body)).not.toMatch(/password|scrypt/);
    // Role changes: unknown role → 400 naming the field.
    const badRole = await http('PATCH', `/api/users/${ids.viewer}`, { session: s, body: { role: 'superuser' } });
    expect(badRole.status).toBe(400);
    expect(badRole.body.error.field).toBe('role');
  });

  it('a viewer reads but cannot change anything (403 with a clear message), nor see users or keys', async () => {
    const v = sessions.viewer!;
    expect((await http('GET', '/api/segments', { session: v })).status).toBe(200);
    expect((await http('HEAD', '/api/segments', { session: v })).status).toBe(200);
    const post = await http('POST', '/api/segments', { session: v, body: segment('by viewer') });
    expect(post.status).toBe(403);
    expect(post.body.error).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/viewer role is read-only/) });
    for (const path of ['/api/users', '/api/keys', '/api/workspaces', '/api/messaging/providers']) {
      const r = await http('GET', path, { session: v });
      expect(r.status, path).toBe(403);
      expect(r.body.error.message).toMatch(/reserved to workspace owners/);
    }
    // The router decodes paths; the rules see the route it matched.
    expect((await http('GET', '/api/%75sers', { session: v })).status).toBe(403);
  });

  it('support changes profiles but not segments', async () => {
    const s = sessions.support!;
    // Through the role check (the handler answers: no such profile).
    const consent = await http('PUT', '/api/profiles/prf_missing/consent', { session: s, body: { channel: 'email', state: 'unsubscribed' } });
    expect(consent.status, JSON.stringify(consent.body)).toBe(404);
    const seg = await http('POST', '/api/segments', { session: s, body: segment('by support') });
    expect(seg.status).toBe(403);
    expect(seg.body.error.message).toMatch(/support role/);
  });

  it('a marketer builds segments but cannot manage users, keys, workspaces or provider secrets; an owner can', async () => {
    const m = sessions.marketer!;
    expect((await http('POST', '/api/segments', { session: m, body: segment('by marketer') })).status).toBe(201);
    expect((await http('PUT', '/api/messaging/brand', { session: m, body: { primaryColor: '#112233' } })).status).not.toBe(403);
    for (const [method, path, body] of [
      ['POST', '/api/users', { email: 'm2@example.com', password: PASSWORD, role: 'owner' }],
      ['PATCH', `/api/users/${ids.marketer}`, { role: 'owner' }],
      ['GET', '/api/keys', undefined],
      ['POST', '/api/keys', { kind: 'admin', name: 'mine' }],
      ['POST', '/api/workspaces', { name: 'Mine' }],
      ['PUT', '/api/messaging/providers/email', { kind: 'smtp' }],
      ['GET', '/api/messaging/identity-verification', undefined],
    ] as const) {
      const r = await http(method, path, { session: m, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.error.message).toMatch(/reserved to workspace owners \(your role: marketer\)/);
    }
    expect((await o.rt.store.db.selectFrom('users').select('email').where('email', '=', 'm2@example.com').execute()).length).toBe(0);

    const s = sessions.owner!;
    const key = await http('POST', '/api/keys', { session: s, body: { kind: 'write', name: 'by owner' } });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    expect(key.body.key).toMatch(/^omw_/);
    expect((await http('GET', '/api/keys', { session: s })).body.keys.map((k: any) => k.id)).toContain(key.body.id);
    expect((await http('DELETE', `/api/keys/${key.body.id}`, { session: s })).status).toBe(200);
    expect((await http('GET', '/api/workspaces', { session: s })).status).toBe(200);
  });

  it('the last owner can be neither demoted nor removed; with a second owner both work; a removed member is signed out', async () => {
    const s = sessions.owner!;
    const demote = await http('PATCH', `/api/users/${ids.owner}`, { session: s, body: { role: 'marketer' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error.message).toMatch(/at least one owner/);
    expect((await http('DELETE', `/api/users/${ids.owner}`, { session: s })).status).toBe(409);
    // Also through the admin key.
    expect((await o.api('PATCH', `/api/users/${ids.owner}`, { role: 'viewer' })).status).toBe(409);

    // A second owner: then the first may be demoted, and promoted back by the second.
    expect((await http('PATCH', `/api/users/${ids.marketer}`, { session: s, body: { role: 'owner' } })).body.user.role).toBe('owner');
    // The role change applies to the marketer's existing session at once.
    expect((await http('GET', '/api/users', { session: sessions.marketer })).status).toBe(200);
    expect((await http('PATCH', `/api/users/${ids.owner}`, { session: s, body: { role: 'marketer' } })).status).toBe(200);
    expect((await http('GET', '/api/users', { session: s })).status).toBe(403);
    expect((await http('PATCH', `/api/users/${ids.owner}`, { session: sessions.marketer, body: { role: 'owner' } })).status).toBe(200);
    expect((await http('PATCH', `/api/users/${ids.marketer}`, { session: s, body: { role: 'marketer' } })).status).toBe(200);

    // Remove the support user: their session ends; the user (in no other workspace) is gone.
    const gone = await http('DELETE', `/api/users/${ids.support}`, { session: s });
    expect(gone.body).toEqual({ removed: ids.support, deletedUser: true });
    expect((await http('GET', '/api/segments', { session: sessions.support })).status).toBe(401);
    expect((await http('POST', '/api/auth/login', { body: { email: 'support@example.com', password: PASSWORD } })).status).toBe(401);
    expect((await http('DELETE', `/api/users/${ids.support}`, { session: s })).status).toBe(404);
  });

  it('workspace switcher: only workspaces the user is a member of; then the API is scoped to that workspace and role', async () => {
    const created = await o.api('POST', '/api/workspaces', { name: 'Brand B' });
    expect(created.status).toBe(201);
    const B = created.body.workspace.id as string;
    const bAdmin = created.body.keys.admin as string;
    expect((await o.api('POST', '/api/segments', segment('only in B'), bAdmin)).status).toBe(201);

    const refused = await http('POST', '/api/auth/workspace', { session: sessions.marketer, body: { workspaceId: B } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toMatch(/not a member/);
    expect((await http('POST', '/api/auth/workspace', { session: sessions.marketer, body: { workspaceId: 'ws_nope' } })).status).toBe(403);
    // Logging in straight into a workspace one is not a member of is refused as well.
    expect((await http('POST', '/api/auth/login', { body: { email: 'marketer@example.com', password: PASSWORD, workspaceId: B } })).status).toBe(403);

    // B's admin key adds the existing marketer to B as a viewer (no password: theirs stays theirs).
    const add = await o.api('POST', '/api/users', { email: 'marketer@example.com', role: 'viewer' }, bAdmin);
    expect(add.status, JSON.stringify(add.body)).toBe(201);
    expect(add.body).toMatchObject({ created: false, user: { id: ids.marketer, role: 'viewer' } });
    expect((await o.api('POST', '/api/users', { email: 'marketer@example.com', password: 'another password', role: 'viewer' }, bAdmin)).status).toBe(409);

    const sw = await http('POST', '/api/auth/workspace', { session: sessions.marketer, body: { workspaceId: B } });
    expect(sw.status, JSON.stringify(sw.body)).toBe(200);
    expect(sw.body).toMatchObject({ role: 'viewer', workspace: { id: B, name: 'Brand B' } });
    expect(sw.body.workspaces.map((w: any) => [w.id, w.role])).toEqual([
      ['default', 'marketer'],
      [B, 'viewer'],
    ]);
    const inB = (await http('GET', '/api/segments', { session: sessions.marketer })).body.segments.map((x: any) => x.name);
    expect(inB).toEqual(['only in B']);
    expect((await http('POST', '/api/segments', { session: sessions.marketer, body: segment('marketer in B') })).status).toBe(403);
    // B's members are B's: the default workspace's owner list is unchanged, B lists only the marketer.
    expect((await o.api('GET', '/api/users', undefined, bAdmin)).body.users.map((u: any) => u.email)).toEqual(['marketer@example.com']);
    // Back to the default workspace: marketer again.
    const back = await http('POST', '/api/auth/workspace', { session: sessions.marketer, body: { workspaceId: 'default' } });
    expect(back.body.role).toBe('marketer');
    expect((await http('POST', '/api/segments', { session: sessions.marketer, body: segment('marketer back home') })).status).toBe(201);
  });

  it('login is rate limited per email and IP: 10 failures in 15 minutes → 429, even with the right password, until the window passes', async () => {
    for (let i = 0; i < 10; i++) {
      const r = await http('POST', '/api/auth/login', { body: { email: 'viewer@example.com', password: `wrong password ${i}` } });
      expect(r.status).toBe(401);
    }
    const limited = await http('POST', '/api/auth/login', { body: { email: 'viewer@example.com', password: PASSWORD } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // Unknown emails are limited the same way (the 429 tells nothing about which emails exist).
    for (let i = 0; i < 10; i++) await http('POST', '/api/auth/login', { body: { email: 'ghost@example.com', password: `wrong password ${i}` } });
    expect((await http('POST', '/api/auth/login', { body: { email: 'ghost@example.com', password: PASSWORD } })).status).toBe(429);
    // Another email from the same IP is not affected.
    await login('owner@example.com');
    now += 15 * 60_000 + 1000;
    sessions.viewer = await login('viewer@example.com');
  });

  it('logout deletes the session (CSRF required); the old cookie no longer works anywhere', async () => {
    const s = await login('viewer@example.com');
    expect((await http('POST', '/api/auth/logout', { session: s, csrf: false })).status).toBe(403);
    const out = await http('POST', '/api/auth/logout', { session: s });
    expect(out.status).toBe(200);
    expect(out.setCookie.find((h) => h.startsWith('omnia_session='))).toMatch(/^omnia_session=;.*Max-Age=0/);
    expect((await http('GET', '/api/auth/me', { session: s })).status).toBe(401);
    expect((await http('GET', '/api/segments', { session: s })).status).toBe(401);
    expect(await o.rt.store.db.selectFrom('sessions').select('token_hash').where('token_hash', '=', createHash('sha256').update(s.token).digest('hex')).execute()).toEqual([]);
    // The viewer's other session is untouched; a garbage cookie is a 401.
    expect((await http('GET', '/api/segments', { session: sessions.viewer })).status).toBe(200);
    expect((await http('GET', '/api/segments', { headers: { cookie: 'omnia_session=garbage' } })).status).toBe(401);
  });

  it("a password change signs out the user's other sessions, keeps this one, and refuses a wrong current password", async () => {
    const a = await login('viewer@example.com');
    const b = await login('viewer@example.com');
    const wrong = await http('POST', '/api/auth/password', { session: a, body: { currentPassword: 'not it at all', newPassword: 'a new long password' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.field).toBe('currentPassword');
    const short = await http('POST', '/api/auth/password', { session: a, body: { currentPassword: PASSWORD, newPassword: 'short' } });
    expect(short.status).toBe(400);
    expect(short.body.error.field).toBe('newPassword');
    expect((await http('POST', '/api/auth/password', { session: a, body: { currentPassword: PASSWORD, newPassword: 'a new long password' } })).status).toBe(200);
    expect((await http('GET', '/api/auth/me', { session: a })).status).toBe(200);
    expect((await http('GET', '/api/auth/me', { session: b })).status).toBe(401);
    expect((await http('GET', '/api/segments', { session: sessions.viewer })).status).toBe(401);
    expect((await http('POST', '/api/auth/login', { body: { email: 'viewer@example.com', password: PASSWORD } })).status).toBe(401);
    sessions.viewer = await login('viewer@example.com', 'a new long password');
  });

  it('sessions expire after 12 h idle (sliding) and 7 days after login → 401 "session expired"', async () => {
    const idle = await login('owner@example.com');
    for (let i = 0; i < 3; i++) {
      now += 11 * HOUR; // each use slides the idle expiry
      expect((await http('GET', '/api/segments', { session: idle })).status).toBe(200);
    }
    now += 12 * HOUR + 1000;
    const expired = await http('GET', '/api/segments', { session: idle });
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toMatch(/session expired/);
    expect(expired.setCookie.find((h) => h.startsWith('omnia_session='))).toMatch(/Max-Age=0/);
    expect((await http('GET', '/api/auth/me', { session: idle })).status).toBe(401);

    const absolute = await login('owner@example.com');
    const start = now;
    while (now + 11 * HOUR < start + 7 * DAY) {
      now += 11 * HOUR;
      expect((await http('GET', '/api/auth/me', { session: absolute })).status).toBe(200);
    }
    now = start + 7 * DAY + 1000;
    const tooOld = await http('GET', '/api/segments', { session: absolute });
    expect(tooOld.status).toBe(401);
    expect(tooOld.body.error.message).toMatch(/session expired/);
    // The admin key is not affected by any of this.
    expect((await o.api('GET', '/api/segments')).status).toBe(200);
    sessions.owner = await login('owner@example.com');
  });

  it('omnia users create: checks its options, creates a user who can sign in, adds an existing one elsewhere', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { log: (l: string) => out.push(l), error: (l: string) => err.push(l) };
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@example.com', '--password', 'short'], io)).toBe(2);
    expect(err.pop()).toMatch(/--password: password must have at least 10 characters/);
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@', '--password', PASSWORD], io)).toBe(2);
    expect(err.pop()).toMatch(/--email/);
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@example.com', '--password', PASSWORD, '--role', 'boss'], io)).toBe(2);
    expect(err.pop()).toMatch(/--role: role must be one of owner, marketer, support, viewer/);
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@example.com', '--password', PASSWORD, '--workspace', 'ws_nope'], io)).toBe(1);
    expect(await usersCommand(o.rt.store, ['create', '--email', 'CLI@example.com', '--password', PASSWORD], io)).toBe(0);
    expect(out.pop()).toMatch(/created user usr_\S+ <cli@example.com> as owner of workspace default/);
    const me = await http('GET', '/api/auth/me', { session: await login('cli@example.com') });
    expect(me.body.role).toBe('owner');
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@example.com', '--password', PASSWORD], io)).toBe(1);
    expect(err.pop()).toMatch(/already a member/);
    // An existing user joins another workspace without a password (theirs is kept).
    const other = (await o.api('POST', '/api/workspaces', { name: 'Brand C' })).body.workspace.id as string;
    expect(await usersCommand(o.rt.store, ['create', '--email', 'cli@example.com', '--role', 'support', '--workspace', other], io)).toBe(0);
    expect(out.pop()).toMatch(new RegExp(`added existing user usr_\\S+ <cli@example.com> as support of workspace ${other}`));
    const inC = await login('cli@example.com', PASSWORD, { workspaceId: other });
    expect((await http('GET', '/api/auth/me', { session: inC })).body).toMatchObject({ role: 'support', workspace: { id: other } });
    expect(await usersCommand(o.rt.store, ['list'], io)).toBe(0);
    expect(out.some((l) => l.includes('cli@example.com\towner'))).toBe(true);
  });

  it('OpenAPI documents the cookie scheme on the admin API', async () => {
    const spec = (await http('GET', '/api/openapi.json')).body;
    expect(spec.components.securitySchemes.sessionCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'omnia_session' });
    expect(spec.paths['/api/segments'].get.security).toEqual([{ adminKey: [] }, { sessionCookie: [] }]);
    expect(spec.paths['/api/users'].post.security).toEqual([{ adminKey: [] }, { sessionCookie: [] }]);
    expect(spec.paths['/api/auth/login'].post.security).toEqual([]);
  });
});
