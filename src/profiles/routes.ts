// Admin endpoints for profiles: lookup, search, the unified profile, its timeline, consent, GDPR export and delete.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { CONSENT_CHANNELS, CONSENT_STATES, setConsent } from './consent.ts';
import { deleteProfile, exportProfile } from './gdpr.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { LOOKUP_KINDS, lookupProfile, readProfile, readTimeline, resolveCanonical, searchProfiles } from './read.ts';

const tags = ['profiles'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export async function profileRoutes(app: FastifyInstance, { store }: { store: Store }): Promise<void> {
  const canonical = async (ws: string, id: string) => {
    const c = await resolveCanonical(store.db, ws, id);
    if (!c) throw notFound(`profile ${id} not found`);
    return c;
  };

  app.get(
    '/profiles/lookup',
    {
      schema: {
        tags,
        summary: 'Find the profile of an identifier (exactly one of userId, email, phone, anonymousId)',
        querystring: Type.Object({
          userId: Type.Optional(Type.String({ minLength: 1 })),
          email: Type.Optional(Type.String({ minLength: 1 })),
          phone: Type.Optional(Type.String({ minLength: 1 })),
          anonymousId: Type.Optional(Type.String({ minLength: 1 })),
        }),
      },
    },
    async (req) => {
      const q = req.query as Record<string, string | undefined>;
      const given = (Object.keys(LOOKUP_KINDS) as (keyof typeof LOOKUP_KINDS)[]).filter((k) => q[k] !== undefined);
      if (given.length !== 1) throw badRequest('give exactly one of userId, email, phone, anonymousId', 'querystring');
      const k = given[0]!;
      const id = await lookupProfile(store.db, req.workspaceId, LOOKUP_KINDS[k], q[k]!);
      if (!id) throw notFound(`no profile with ${k} ${q[k]}`);
      return readProfile(store.db, req.workspaceId, id);
    },
  );

  app.get(
    '/profiles',
    {
      schema: {
        tags,
        summary: 'Search profiles by identifier prefix (email, phone, userId, anonymousId, external ids) or by name (first, last or full name prefix)',
        querystring: Type.Object({
          search: Type.String({ minLength: 1, maxLength: 200 }),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
        }),
      },
    },
    async (req) => {
      const { search, limit } = req.query as { search: string; limit?: number };
      return { profiles: await searchProfiles(store.db, req.workspaceId, search, limit ?? 20, store.dialect) };
    },
  );

  app.get('/profiles/:id', { schema: { tags, summary: 'The unified profile (a merged id answers with its survivor)', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    return readProfile(store.db, req.workspaceId, await canonical(req.workspaceId, id));
  });

  app.get(
    '/profiles/:id/events',
    {
      schema: {
        tags,
        summary: 'The cross-channel timeline, newest first, cursor-paginated',
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          cursor: Type.Optional(Type.String({ pattern: '^\\d+:\\d+$' })),
          channel: Type.Optional(Type.String({ maxLength: 32 })),
          internal: Type.Optional(Type.Boolean({ default: true, description: "include Omnia's own lifecycle events" })),
        }),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as { limit?: number; cursor?: string; channel?: string; internal?: boolean };
      const cursor = q.cursor ? { ts: Number(q.cursor.split(':')[0]), seq: Number(q.cursor.split(':')[1]) } : undefined;
      const c = await canonical(req.workspaceId, id);
      return readTimeline(store.db, req.workspaceId, c, { limit: q.limit ?? 50, cursor, channel: q.channel, includeInternal: q.internal });
    },
  );

  app.put(
    '/profiles/:id/consent',
    {
      schema: {
        tags,
        summary: 'Set consent for a channel (and topic)',
        params: IdParams,
        body: Type.Object(
          {
            channel: Type.Union(CONSENT_CHANNELS.map((c) => Type.Literal(c))),
            topic: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
            state: Type.Union(CONSENT_STATES.map((c) => Type.Literal(c))),
            source: Type.Optional(Type.String({ maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as { channel: string; topic?: string; state: 'subscribed' | 'unsubscribed' | 'never_asked'; source?: string };
      const c = await canonical(req.workspaceId, id);
      const changed = await store.db.transaction().execute(async (tx) => {
        const ok = await setConsent(tx, req.workspaceId, c, { channel: b.channel, topic: b.topic ?? 'all', state: b.state }, Date.now(), b.source ?? 'api');
        if (ok) await enqueueSegmentWork(tx, req.workspaceId, new Map([[c, new Set(['consent'])]]));
        return ok;
      });
      return { changed, profile: await readProfile(store.db, req.workspaceId, c) };
    },
  );

  app.get('/profiles/:id/export', { schema: { tags, summary: 'GDPR export: everything held about the person', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    return exportProfile(store, req.workspaceId, await canonical(req.workspaceId, id));
  });

  app.delete('/profiles/:id', { schema: { tags, summary: 'GDPR delete: erase the person, anonymise their events', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const res = await deleteProfile(store, req.workspaceId, await canonical(req.workspaceId, id));
    if (!res) throw notFound(`profile ${id} not found`);
    return { deleted: true, ...res };
  });
}
