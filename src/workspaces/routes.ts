// Admin endpoints for workspaces and API keys.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError, notFound } from '../app/errors.ts';
import { isInstanceAdmin } from '../app/auth.ts';
import type { Store } from '../store/db.ts';
import { createKey, createWorkspace, listKeys, listWorkspaces, revokeKey } from './keys.ts';

const KeyKind = Type.Union([Type.Literal('write'), Type.Literal('admin')]);
const tags = ['workspaces'];

export async function workspaceRoutes(app: FastifyInstance, { store }: { store: Store }): Promise<void> {
  app.get('/workspaces', { schema: { tags, summary: 'Workspaces this key can see' } }, async (req) => {
    const all = await listWorkspaces(store);
    const visible = isInstanceAdmin(req) ? all : all.filter((w) => w.id === req.workspaceId);
    return { workspaces: visible.map((w) => ({ id: w.id, name: w.name, createdAt: w.created_at })) };
  });

  app.post(
    '/workspaces',
    {
      schema: {
        tags,
        summary: 'Create a workspace with its first write and admin keys (instance admins only)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      if (!isInstanceAdmin(req)) throw new HttpError(403, 'forbidden', 'only admin keys of the default workspace can create workspaces');
      const { name } = req.body as { name: string };
      const ws = await createWorkspace(store, name);
      const write = await createKey(store, ws.id, 'write', 'initial');
      const admin = await createKey(store, ws.id, 'admin', 'initial');
      reply.status(201);
      return { workspace: ws, keys: { write: write.key, admin: admin.key } };
    },
  );

  app.get('/keys', { schema: { tags, summary: "This workspace's keys (hashes are never shown)" } }, async (req) => ({
    keys: await listKeys(store, req.workspaceId),
  }));

  app.post(
    '/keys',
    {
      schema: {
        tags,
        summary: 'Create a key; the plaintext is returned once',
        body: Type.Object({ kind: KeyKind, name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      },
    },
    async (req, reply) => {
      const { kind, name } = req.body as { kind: 'write' | 'admin'; name: string };
      reply.status(201);
      return createKey(store, req.workspaceId, kind, name);
    },
  );

  app.delete(
    '/keys/:id',
    { schema: { tags, summary: 'Revoke a key', params: Type.Object({ id: Type.String({ maxLength: 100 }) }) } },
    async (req) => {
      const { id } = req.params as { id: string };
      if (id === req.apiKey.id) throw new HttpError(409, 'conflict', 'a key cannot revoke itself');
      if (!(await revokeKey(store, req.workspaceId, id))) throw notFound(`key ${id} not found or already revoked`);
      return { revoked: id };
    },
  );
}
