// Admin endpoints: segments (CRUD, preview, members with why, CSV export), a profile's segments and history,
// manual lists, RFM.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { fromJson, toJson } from '../store/json.ts';
import { csvLine } from '../importer/csv.ts';
import { Condition, type Condition as ConditionT, CustomProperty, leaves } from './definition.ts';
import { deleteCustom, listCustom, profileComputed, putCustom } from './computed.ts';
import type { SegmentEngine } from './engine.ts';
import { changeListMembers, createList, uploadListCsv } from './lists.ts';
import { recomputeRfm } from './rfm.ts';
import { archiveSegment, createSegment, getSegment, previewSegment, segmentMembers, segmentView, updateSegment } from './service.ts';

const tags = ['segments'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
// Definitions are validated by checkDefinition (deepest error path, limits, meaning); the schema documents them.
const Definition = Type.Unsafe<unknown>({ ...Condition, description: 'A segment condition tree (see docs/segments.md)' });
const Body = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Type.String({ maxLength: 2000 })),
    definition: Definition,
  },
  { additionalProperties: false },
);
const Wait = Type.Object({ wait: Type.Optional(Type.Boolean({ description: 'answer after the recompute has finished' })) });
const ListRef = Type.Object(
  {
    profileId: Type.Optional(Type.String({ maxLength: 100 })),
    userId: Type.Optional(Type.String({ maxLength: 512 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export async function segmentRoutes(app: FastifyInstance, { store, engine }: { store: Store; engine: SegmentEngine }): Promise<void> {
  // The definition tree is checked by checkDefinition, which names the deepest failing path; skip Fastify's own pass.
  const noValidation = { validatorCompiler: () => () => true };
  const requireBody = (body: unknown, partial = false) => {
    if (!body || typeof body !== 'object') throw new HttpError(400, 'invalid_request', 'body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!['name', 'description', 'definition'].includes(k)) throw new HttpError(400, 'invalid_request', `unknown field ${k}`, k);
    if (!partial || b.name !== undefined) {
      if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 200) throw new HttpError(400, 'invalid_request', 'name must be a non-empty string of at most 200 characters', 'name');
    }
    if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > 2000)) throw new HttpError(400, 'invalid_request', 'description must be a string', 'description');
    if (!partial && b.definition === undefined) throw new HttpError(400, 'invalid_request', 'definition is required', 'definition');
    return b as { name: string; description?: string; definition: unknown };
  };

  app.get('/segments', { schema: { tags, summary: 'Segments of this workspace' } }, async (req) => {
    const rows = await store.db.selectFrom('segments').selectAll().where('workspace_id', '=', req.workspaceId).where('status', '=', 'active').orderBy('created_at').execute();
    return { segments: rows.map(segmentView) };
  });

  app.post('/segments', { schema: { tags, summary: 'Create a segment (computed at once for everyone)', body: Body, querystring: Wait }, ...noValidation }, async (req, reply) => {
    const body = requireBody(req.body);
    reply.status(201);
    return createSegment(store, engine, req.workspaceId, body, (req.query as { wait?: string }).wait === 'true');
  });

  app.post('/segments/preview', { schema: { tags, summary: 'Live count of a draft definition (nothing saved)', body: Type.Object({ definition: Definition }) }, ...noValidation }, async (req) => {
    const b = req.body as { definition?: unknown } | undefined;
    if (!b || b.definition === undefined) throw new HttpError(400, 'invalid_request', 'definition is required', 'definition');
    return previewSegment(store, engine, req.workspaceId, b.definition);
  });

  app.get('/segments/:id', { schema: { tags, summary: 'A segment with its member count', params: IdParams } }, async (req) => getSegment(store, req.workspaceId, (req.params as { id: string }).id));

  app.patch('/segments/:id', { schema: { tags, summary: 'Change a segment (new version; a new definition recomputes)', params: IdParams, body: Type.Partial(Body), querystring: Wait }, ...noValidation }, async (req) => {
    const body = requireBody(req.body, true);
    return updateSegment(store, engine, req.workspaceId, (req.params as { id: string }).id, body, (req.query as { wait?: string }).wait === 'true');
  });

  app.delete('/segments/:id', { schema: { tags, summary: 'Archive a segment (refused while another segment uses it)', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    await archiveSegment(store, engine, req.workspaceId, id);
    return { archived: id };
  });

  app.get('/segments/:id/versions', { schema: { tags, summary: 'Every version of a segment', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const rows = await store.db.selectFrom('segment_versions').selectAll().where('workspace_id', '=', req.workspaceId).where('segment_id', '=', id).orderBy('version', 'desc').execute();
    if (!rows.length) throw new HttpError(404, 'not_found', `segment ${id} not found`);
    return { versions: rows.map((v) => ({ version: v.version, name: v.name, definition: fromJson(v.definition), createdAt: v.created_at })) };
  });

  app.get(
    '/segments/:id/members',
    {
      schema: {
        tags,
        summary: 'Members, cursor-paginated, each with why they match',
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
          cursor: Type.Optional(Type.String({ maxLength: 100 })),
          why: Type.Optional(Type.Boolean({ default: true })),
        }),
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; cursor?: string; why?: boolean };
      return segmentMembers(store, engine, req.workspaceId, (req.params as { id: string }).id, { limit: q.limit ?? 50, cursor: q.cursor, why: q.why !== false });
    },
  );

  app.get('/segments/:id/export.csv', { schema: { tags, summary: 'Members as CSV (profile id, user id, email, phone, entered at)', params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: string };
    await getSegment(store, req.workspaceId, id);
    const rows = await store.db
      .selectFrom('segment_members as m')
      .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'm.workspace_id').onRef('p.canonical_id', '=', 'm.profile_id'))
      .leftJoin('identifiers as i', (j) => j.onRef('i.workspace_id', '=', 'p.workspace_id').onRef('i.profile_id', '=', 'p.id'))
      .select(['m.profile_id', 'm.entered_at', 'i.kind', 'i.value'])
      .where('m.workspace_id', '=', req.workspaceId)
      .where('m.segment_id', '=', id)
      .orderBy('m.profile_id')
      .execute();
    const people = new Map<string, { entered: number; user_id?: string; email?: string; phone?: string }>();
    for (const r of rows) {
      const p = people.get(r.profile_id) ?? { entered: r.entered_at };
      if (r.kind === 'user_id' || r.kind === 'email' || r.kind === 'phone') p[r.kind] ??= r.value ?? undefined;
      people.set(r.profile_id, p);
    }
    let out = csvLine(['profile_id', 'user_id', 'email', 'phone', 'entered_at']);
    for (const [pid, p] of people) out += csvLine([pid, p.user_id ?? '', p.email ?? '', p.phone ?? '', new Date(p.entered).toISOString()]);
    reply.header('content-disposition', `attachment; filename="${id}.csv"`).type('text/csv; charset=utf-8');
    return out;
  });

  app.get('/profiles/:id/segments', { schema: { tags, summary: "The segments a person is in now, and their membership history", params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const p = await store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', req.workspaceId).where('id', '=', id).executeTakeFirst();
    if (!p) throw new HttpError(404, 'not_found', `profile ${id} not found`);
    const [current, history] = await Promise.all([
      store.db
        .selectFrom('segment_members as m')
        .innerJoin('segments as s', (j) => j.onRef('s.workspace_id', '=', 'm.workspace_id').onRef('s.id', '=', 'm.segment_id'))
        .select(['m.segment_id', 's.name', 'm.entered_at'])
        .where('m.workspace_id', '=', req.workspaceId)
        .where('m.profile_id', '=', p.canonical_id)
        .execute(),
      store.db
        .selectFrom('events')
        .select(['event', 'timestamp', 'properties'])
        .where('workspace_id', '=', req.workspaceId)
        .where('profile_id', '=', p.canonical_id)
        .where('internal', '=', 1)
        .where('event', 'in', ['Segment Entered', 'Segment Left'])
        .orderBy('timestamp', 'desc')
        .orderBy('seq', 'desc')
        .limit(500)
        .execute(),
    ]);
    return {
      segments: current.map((c) => ({ segmentId: c.segment_id, name: c.name, enteredAt: c.entered_at })),
      history: history.map((h) => ({ change: h.event === 'Segment Entered' ? 'entered' : 'left', at: h.timestamp, ...fromJson<Record<string, unknown>>(h.properties) })),
    };
  });

  app.post('/lists', { schema: { tags, summary: 'Create a manual list', body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }) } }, async (req, reply) => {
    reply.status(201);
    return createList(store, req.workspaceId, (req.body as { name: string }).name);
  });

  app.get('/lists', { schema: { tags, summary: 'Manual lists' } }, async (req) => ({
    lists: (await store.db.selectFrom('lists').selectAll().where('workspace_id', '=', req.workspaceId).orderBy('created_at').execute()).map((l) => ({ id: l.id, name: l.name, createdAt: l.created_at })),
  }));

  app.post(
    '/lists/:id/members',
    {
      schema: {
        tags,
        summary: 'Add and/or remove people (by profileId, userId, email or phone)',
        params: IdParams,
        body: Type.Object({ add: Type.Optional(Type.Array(ListRef, { maxItems: 10_000 })), remove: Type.Optional(Type.Array(ListRef, { maxItems: 10_000 })) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      const b = req.body as { add?: object[]; remove?: object[] };
      return changeListMembers(store, req.workspaceId, (req.params as { id: string }).id, b.add ?? [], b.remove ?? []);
    },
  );

  app.register(async (csvScope) => {
    csvScope.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: 20 * 1024 * 1024 }, (_req, body, done) => done(null, body));
    csvScope.post('/lists/:id/upload', { schema: { tags, summary: 'Add people from a CSV (header: profileId, userId, email or phone)', params: IdParams, consumes: ['text/csv'] } }, async (req) => {
      if (typeof req.body !== 'string') throw new HttpError(415, 'unsupported_media_type', 'send the CSV as text/csv');
      return uploadListCsv(store, req.workspaceId, (req.params as { id: string }).id, req.body);
    });
  });

  app.get('/computed-properties', { schema: { tags, summary: 'User-defined computed properties' } }, async (req) => ({ properties: await listCustom(store, req.workspaceId) }));

  app.put(
    '/computed-properties/:name',
    {
      schema: { tags, summary: 'Define or change a computed property (custom.<name> in segments)', params: Type.Object({ name: Type.String({ maxLength: 63 }) }), body: Type.Object({ definition: CustomProperty }) },
      ...noValidation,
    },
    async (req) => {
      const b = req.body as { definition?: unknown } | undefined;
      if (!b || typeof b !== 'object' || b.definition === undefined) throw new HttpError(400, 'invalid_request', 'definition is required', 'definition');
      return putCustom(store, engine, req.workspaceId, (req.params as { name: string }).name, b.definition);
    },
  );

  app.delete('/computed-properties/:name', { schema: { tags, summary: 'Delete a computed property (refused while a segment uses it)', params: Type.Object({ name: Type.String({ maxLength: 63 }) }) } }, async (req) => {
    const { name } = req.params as { name: string };
    await deleteCustom(store, engine, req.workspaceId, name);
    return { deleted: name };
  });

  app.get('/profiles/:id/computed', { schema: { tags, summary: "A person's computed properties now (built-in, RFM and custom)", params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const p = await store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', req.workspaceId).where('id', '=', id).executeTakeFirst();
    if (!p) throw new HttpError(404, 'not_found', `profile ${id} not found`);
    return profileComputed(store, engine, req.workspaceId, p.canonical_id);
  });

  app.get('/locations', { schema: { tags, summary: 'Named locations (stores) that geo conditions can use' } }, async (req) => ({
    locations: (await store.db.selectFrom('locations').selectAll().where('workspace_id', '=', req.workspaceId).orderBy('id').execute()).map((l) => ({
      id: l.id,
      name: l.name,
      lat: l.lat,
      lon: l.lon,
      address: fromJson(l.address),
    })),
  }));

  app.put(
    '/locations/:id',
    {
      schema: {
        tags,
        summary: 'Define or move a named location; segments that use it are recomputed',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,100}$' }) }),
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            lat: Type.Number({ minimum: -90, maximum: 90 }),
            lon: Type.Number({ minimum: -180, maximum: 180 }),
            address: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = req.body as { name: string; lat: number; lon: number; address?: Record<string, unknown> };
      await store.db
        .insertInto('locations')
        .values({ workspace_id: req.workspaceId, id, name: b.name, lat: b.lat, lon: b.lon, address: toJson(b.address ?? {}), created_at: Date.now() })
        .onConflict((oc) => oc.columns(['workspace_id', 'id']).doUpdateSet({ name: b.name, lat: b.lat, lon: b.lon, address: toJson(b.address ?? {}) }))
        .execute();
      engine.invalidate(req.workspaceId);
      engine.recompute(req.workspaceId).catch(() => undefined);
      return { id, ...b };
    },
  );

  app.delete('/locations/:id', { schema: { tags, summary: 'Delete a location (refused while a segment uses it)', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const users = (await store.db.selectFrom('segments').select(['id', 'definition']).where('workspace_id', '=', req.workspaceId).where('status', '=', 'active').execute()).filter((sg) =>
      leaves(fromJson<ConditionT>(sg.definition)).some((l) => l.kind === 'geo' && l.near && 'location' in l.near && l.near.location === id),
    );
    if (users.length) throw new HttpError(409, 'conflict', `location ${id} is used by segments ${users.map((u) => u.id).join(', ')}`);
    const r = await store.db.deleteFrom('locations').where('workspace_id', '=', req.workspaceId).where('id', '=', id).executeTakeFirst();
    if (!Number(r.numDeletedRows)) throw new HttpError(404, 'not_found', `location ${id} not found`);
    return { deleted: id };
  });

  app.post('/rfm/recompute', { schema: { tags, summary: 'Recompute RFM scores and stages now; returns stage counts' } }, async (req) => ({
    stages: await recomputeRfm(store, req.workspaceId, engine.now()),
  }));

  app.get('/rfm', { schema: { tags, summary: 'RFM stage distribution' } }, async (req) => {
    const rows = await store.db
      .selectFrom('profile_rfm')
      .select(['stage', (eb) => eb.fn.countAll<number>().as('n')])
      .where('workspace_id', '=', req.workspaceId)
      .groupBy('stage')
      .execute();
    return { stages: Object.fromEntries(rows.map((r) => [r.stage, Number(r.n)])) };
  });
}
