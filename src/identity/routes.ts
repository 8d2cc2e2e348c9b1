// Admin endpoints for the identity graph: the merge log with undo, and the conflict review queue.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError, notFound } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { fromJson } from '../store/json.ts';
import { canonicalOf, lockIdentity, mergeClusters, undoMerge } from './graph.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';

const tags = ['identity'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export async function identityRoutes(app: FastifyInstance, { store }: { store: Store }): Promise<void> {
  app.get(
    '/profiles/merges',
    {
      schema: {
        tags,
        summary: 'The merge log, newest first (optionally for one profile)',
        querystring: Type.Object({
          profileId: Type.Optional(Type.String({ maxLength: 100 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
        }),
      },
    },
    async (req) => {
      const q = req.query as { profileId?: string; limit?: number };
      let query = store.db.selectFrom('merges').selectAll().where('workspace_id', '=', req.workspaceId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(q.limit ?? 100);
      if (q.profileId) query = query.where((eb) => eb.or([eb('survivor_id', '=', q.profileId!), eb('loser_id', '=', q.profileId!)]));
      const rows = await query.execute();
      return {
        merges: rows.map((m) => ({
          id: m.id,
          survivorId: m.survivor_id,
          loserId: m.loser_id,
          cause: fromJson(m.cause),
          movedProfileIds: fromJson(m.moved),
          createdAt: m.created_at,
          undoneAt: m.undone_at,
        })),
      };
    },
  );

  app.post('/profiles/merges/:id/undo', { schema: { tags, summary: 'Undo a merge: both profiles exactly as before', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const res = await store.db.transaction().execute(async (tx) => {
      await lockIdentity(tx);
      const r = await undoMerge(tx, req.workspaceId, id);
      if (r.ok) await enqueueSegmentWork(tx, req.workspaceId, new Map([r.survivorId, r.loserId].map((p) => [p, new Set(['merge'])])));
      return r;
    });
    if (!res.ok) throw new HttpError(res.status, res.status === 404 ? 'not_found' : 'conflict', res.message);
    return { undone: id, survivorId: res.survivorId, loserId: res.loserId };
  });

  app.get(
    '/identity/conflicts',
    {
      schema: {
        tags,
        summary: 'Links that were not merged (two different userIds, or kept apart after an undo), for review',
        querystring: Type.Object({
          status: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('merged'), Type.Literal('dismissed')], { default: 'open' })),
        }),
      },
    },
    async (req) => {
      const { status } = req.query as { status?: string };
      const rows = await store.db
        .selectFrom('identity_conflicts')
        .selectAll()
        .where('workspace_id', '=', req.workspaceId)
        .where('status', '=', (status ?? 'open') as 'open')
        .orderBy('created_at', 'desc')
        .limit(500)
        .execute();
      return {
        conflicts: rows.map((c) => ({
          id: c.id,
          profileA: c.profile_a,
          profileB: c.profile_b,
          reason: c.reason,
          cause: fromJson(c.cause),
          status: c.status,
          createdAt: c.created_at,
          resolvedAt: c.resolved_at,
        })),
      };
    },
  );

  app.post(
    '/identity/conflicts/:id/resolve',
    {
      schema: {
        tags,
        summary: 'Resolve a conflict: merge the two profiles, or keep them apart',
        params: IdParams,
        body: Type.Object({ action: Type.Union([Type.Literal('merge'), Type.Literal('keep_apart')]) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const { action } = req.body as { action: 'merge' | 'keep_apart' };
      const ws = req.workspaceId;
      return store.db.transaction().execute(async (tx) => {
        await lockIdentity(tx);
        const c = await tx.selectFrom('identity_conflicts').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
        if (!c) throw notFound(`conflict ${id} not found`);
        if (c.status !== 'open') throw new HttpError(409, 'conflict', `conflict ${id} is already ${c.status}`);
        let mergeId: string | null = null;
        if (action === 'merge') {
          const [a, b] = await Promise.all([canonicalOf(tx, ws, c.profile_a), canonicalOf(tx, ws, c.profile_b)]);
          if (!a || !b) throw new HttpError(409, 'conflict', 'one of the profiles no longer exists');
          if (a !== b) {
            const rows = await tx.selectFrom('profiles').select(['id', 'created_at']).where('workspace_id', '=', ws).where('id', 'in', [a, b]).execute();
            rows.sort((x, y) => x.created_at - y.created_at || (x.id < y.id ? -1 : 1));
            mergeId = await mergeClusters(tx, ws, rows[0]!.id, rows[1]!.id, { kind: 'conflict_resolved', note: `conflict ${id}` });
            await enqueueSegmentWork(tx, ws, new Map([a, b].map((p) => [p, new Set(['merge'])])));
          }
        }
        await tx
          .updateTable('identity_conflicts')
          .set({ status: action === 'merge' ? 'merged' : 'dismissed', resolved_at: Date.now() })
          .where('workspace_id', '=', ws)
          .where('id', '=', id)
          .execute();
        return { resolved: id, status: action === 'merge' ? 'merged' : 'dismissed', mergeId };
      });
    },
  );
}
