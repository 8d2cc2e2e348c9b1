// Admin API auth: `Authorization: Bearer <admin key>`. The key decides the workspace; every handler reads
// `req.workspaceId` and never takes a workspace from the request, so one workspace's key reaches nothing of another's.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Store } from '../store/db.ts';
import { DEFAULT_WORKSPACE, type KeyInfo, authenticateKey } from '../workspaces/keys.ts';
import { HttpError } from './errors.ts';

declare module 'fastify' {
  interface FastifyRequest {
    workspaceId: string;
    apiKey: KeyInfo;
  }
}

export function requireAdminKey(app: FastifyInstance, store: Store): void {
  app.decorateRequest('workspaceId', '');
  app.decorateRequest('apiKey', null as unknown as KeyInfo);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(\S+)$/i.exec(h) : null;
    if (!m) throw new HttpError(401, 'unauthorized', 'missing admin key: send "Authorization: Bearer <admin key>"');
    const key = await authenticateKey(store, m[1]!, 'admin');
    if (!key) throw new HttpError(401, 'unauthorized', 'invalid or revoked admin key');
    req.workspaceId = key.workspaceId;
    req.apiKey = key;
  });
}

/** Admin keys of the default workspace administer the instance (create and list workspaces). */
export function isInstanceAdmin(req: FastifyRequest): boolean {
  return req.apiKey?.workspaceId === DEFAULT_WORKSPACE;
}
