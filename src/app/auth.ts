// Admin API auth, by either of:
// - `Authorization: Bearer <admin key>`: the key decides the workspace; full access (as before users existed).
// - the `omnia_session` cookie of a signed-in dashboard user (src/access): the session's current workspace and the
//   user's role there; state-changing requests must carry the session's CSRF token (x-omnia-csrf) and pass the role
//   rules (src/access/roles.ts).
// Every handler reads `req.workspaceId` and never takes a workspace from the request, so one workspace's key or
// session reaches nothing of another's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/db.ts';
import { DEFAULT_WORKSPACE, type KeyInfo, authenticateKey } from '../workspaces/keys.ts';
import { type Role, checkAccess } from '../access/roles.ts';
import { type SessionUser, sessionOfRequest } from '../access/sessions.ts';
import { HttpError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    /**
     * The admin key of a Bearer request. For a session request this is a stand-in (id `session`, kind admin, the
     * session's workspace) so handlers written for keys keep working; use `req.user` to tell the two apart.
     */
    apiKey: KeyInfo;
    /** The signed-in user's role in req.workspaceId; null for admin keys (full access). */
    role: Role | null;
    /** The signed-in user (session requests); null for admin keys. */
    user: SessionUser | null;
  }
}

export interface AdminAuthOptions {
  /** The runtime's clock for session expiry (tests move it); default Date.now. */
  now?: () => number;
}

export function requireAdminKey(app: FastifyInstance, store: Store, opts: AdminAuthOptions = {}): void {
  const now = opts.now ?? Date.now;
  app.decorateRequest('workspaceId', '');
  app.decorateRequest('apiKey', null as unknown as KeyInfo);
  app.decorateRequest('role', null);
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const h = req.headers.authorization;
    if (h) {
      const m = /^Bearer\s+(\S+)$/i.exec(h);
      if (!m) throw new HttpError(401, 'unauthorized', 'missing admin key: send "Authorization: Bearer <admin key>"');
      const key = await authenticateKey(store, m[1]!, 'admin');
      if (!key) throw new HttpError(401, 'unauthorized', 'invalid or revoked admin key');
      req.workspaceId = key.workspaceId;
      req.apiKey = key;
      return;
    }
    const s = await sessionOfRequest(store, req, now());
    if (!s) throw new HttpError(401, 'unauthorized', 'missing admin key or session: send "Authorization: Bearer <admin key>" or sign in (POST /api/auth/login)');
    // The matched route's pattern, not the raw URL: the router decodes paths, so rules must see what it matched.
    const access = checkAccess(s.role, req.method, req.routeOptions.url ?? req.url);
    if (!access.allowed) throw new HttpError(403, 'forbidden', access.reason);
    req.workspaceId = s.workspaceId;
    req.role = s.role;
    req.user = s.user;
    req.apiKey = { id: 'session', workspaceId: s.workspaceId, kind: 'admin', name: `session of ${s.user.email}`, prefix: '', createdAt: s.createdAt, revokedAt: null, lastUsedAt: null };
  });
}

/**
 * Who administers the instance (creates and lists workspaces, allows private-network targets): admin keys of the
 * default workspace, and owners signed in to the default workspace (who could create such a key anyway).
 */
export function isInstanceAdmin(req: FastifyRequest): boolean {
  if (req.user) return req.role === 'owner' && req.workspaceId === DEFAULT_WORKSPACE;
  return req.apiKey?.workspaceId === DEFAULT_WORKSPACE;
}
