// The role rules as a table: (role, method, path) → allowed, or refused with a reason that says why.
import { describe, expect, it } from 'vitest';
import { ROLES, type Role, checkAccess, normalizePath } from './roles.ts';

type Row = [Role, string, string, boolean];

const table: Row[] = [
  // owner: everything
  ['owner', 'GET', '/api/users', true],
  ['owner', 'POST', '/api/users', true],
  ['owner', 'DELETE', '/api/users/:id', true],
  ['owner', 'POST', '/api/keys', true],
  ['owner', 'POST', '/api/workspaces', true],
  ['owner', 'PUT', '/api/messaging/providers/:channel', true],
  ['owner', 'POST', '/api/segments', true],
  // marketer: everything but users, keys, workspaces, provider secrets, the identity-verification secret
  ['marketer', 'POST', '/api/segments', true],
  ['marketer', 'PATCH', '/api/segments/:id', true],
  ['marketer', 'DELETE', '/api/templates/:id', true],
  ['marketer', 'PUT', '/api/messaging/brand', true],
  ['marketer', 'PUT', '/api/messaging/policy', true],
  ['marketer', 'POST', '/api/webhooks', true],
  ['marketer', 'POST', '/api/messages', true],
  ['marketer', 'DELETE', '/api/profiles/:id', true],
  ['marketer', 'GET', '/api/messaging/vapid', true],
  ['marketer', 'GET', '/api/users', false],
  ['marketer', 'POST', '/api/users', false],
  ['marketer', 'PATCH', '/api/users/:id', false],
  ['marketer', 'GET', '/api/keys', false],
  ['marketer', 'POST', '/api/keys', false],
  ['marketer', 'DELETE', '/api/keys/:id', false],
  ['marketer', 'GET', '/api/workspaces', false],
  ['marketer', 'POST', '/api/workspaces', false],
  ['marketer', 'GET', '/api/messaging/providers', false],
  ['marketer', 'PUT', '/api/messaging/providers/:channel', false],
  ['marketer', 'DELETE', '/api/messaging/providers/:channel', false],
  ['marketer', 'POST', '/api/messaging/providers/:channel/health', false],
  ['marketer', 'GET', '/api/messaging/identity-verification', false],
  // support: reads, plus writes under /api/profiles and /api/inbox
  ['support', 'GET', '/api/segments', true],
  ['support', 'GET', '/api/profiles/:id/events', true],
  ['support', 'PUT', '/api/profiles/:id/consent', true],
  ['support', 'DELETE', '/api/profiles/:id', true],
  ['support', 'POST', '/api/profiles/merges/:id/undo', true],
  ['support', 'POST', '/api/inbox/threads/:id/reply', true],
  ['support', 'POST', '/api/inbox', true],
  ['support', 'POST', '/api/segments', false],
  ['support', 'POST', '/api/identity/conflicts/:id/resolve', false],
  ['support', 'PUT', '/api/messaging/brand', false],
  ['support', 'POST', '/api/profilesx', false],
  ['support', 'GET', '/api/users', false],
  ['support', 'GET', '/api/keys', false],
  // viewer: GET/HEAD only, never the owner areas
  ['viewer', 'GET', '/api/segments', true],
  ['viewer', 'HEAD', '/api/segments', true],
  ['viewer', 'get', '/api/profiles?search=x', true],
  ['viewer', 'GET', '/api/segments/:id/export.csv', true],
  ['viewer', 'POST', '/api/segments', false],
  ['viewer', 'POST', '/api/segments/preview', false],
  ['viewer', 'PUT', '/api/profiles/:id/consent', false],
  ['viewer', 'DELETE', '/api/profiles/:id', false],
  ['viewer', 'PATCH', '/api/templates/:id', false],
  ['viewer', 'OPTIONS', '/api/segments', false],
  ['viewer', 'GET', '/api/users', false],
  ['viewer', 'GET', '/api/keys', false],
  ['viewer', 'GET', '/api/workspaces', false],
  ['viewer', 'GET', '/api/messaging/providers', false],
  // paths in other spellings decide the same
  ['marketer', 'GET', '/api/Users', false],
  ['marketer', 'GET', '/api/%75sers', false],
  ['marketer', 'GET', '//api//keys/', false],
  ['marketer', 'GET', '/api/segments/../keys', false],
  ['marketer', 'GET', '/api/users?x=1', false],
  ['support', 'POST', '/api/profiles/../segments', false],
  ['viewer', 'GET', '/api/%zz', false],
];

describe('role rules', () => {
  it.each(table)('%s %s %s → %s', (role, method, path, allowed) => {
    const r = checkAccess(role, method, path);
    expect(r.allowed).toBe(allowed);
    if (!r.allowed) expect(r.reason.length).toBeGreaterThan(10);
  });

  it('refusals say why', () => {
    expect(checkAccess('viewer', 'POST', '/api/segments')).toEqual({ allowed: false, reason: expect.stringMatching(/viewer role is read-only/) });
    expect(checkAccess('marketer', 'POST', '/api/users')).toEqual({ allowed: false, reason: expect.stringMatching(/\/api\/users is reserved to workspace owners \(your role: marketer\)/) });
    expect(checkAccess('support', 'POST', '/api/segments')).toEqual({ allowed: false, reason: expect.stringMatching(/support role can only change profiles/) });
  });

  it('an unknown role is refused', () => {
    expect(checkAccess('admin' as Role, 'GET', '/api/segments').allowed).toBe(false);
  });

  it('roles are ordered: whatever a lower role may do, every higher role may do too', () => {
    const ranked: Role[] = ['viewer', 'support', 'marketer', 'owner'];
    expect([...ROLES].sort()).toEqual([...ranked].sort());
    for (const [, method, path] of table) {
      for (let i = 0; i < ranked.length - 1; i++) {
        if (checkAccess(ranked[i]!, method, path).allowed) expect(checkAccess(ranked[i + 1]!, method, path).allowed, `${ranked[i + 1]} ${method} ${path}`).toBe(true);
      }
    }
  });

  it('normalizes paths like a router', () => {
    expect(normalizePath('/api//Segments/./x/../y/?a=b#c')).toBe('/api/segments/y');
    expect(normalizePath('/%2e%2e/api')).toBe('/api');
    expect(normalizePath('/api/%zz')).toBeNull();
  });
});
