// Admin endpoints of journeys and broadcasts: create / validate / publish / pause / resume / archive journeys, test
// mode, metrics, people in a journey, API entries, a person's journeys, the playbook gallery, and broadcasts.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError, badRequest, notFound } from '../app/errors.ts';
import { LOOKUP_KINDS, lookupProfile, resolveCanonical } from '../profiles/read.ts';
import { fromJson } from '../store/json.ts';
import { checkJourney } from './definition.ts';
import { enqueueEntries } from './inbox.ts';
import { journeyMetrics } from './metrics.ts';
import { PLAYBOOKS, PLAYBOOK_INFO, type PlaybookKey } from './playbooks.ts';
import { STARTERS } from './starters.ts';
import type { JourneyService } from './service.ts';
import { SimulateBody, simulateJourney } from './simulate.ts';
import type { JourneyState } from './step.ts';

const tags = ['journeys'];
const btags = ['broadcasts'];
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const Definition = Type.Any({ description: 'A JourneyDefinition (see docs/journeys.md); errors name the node and field, e.g. nodes.wait.next' });
const Person = Type.Object(
  {
    profileId: Type.Optional(Type.String({ maxLength: 100 })),
    userId: Type.Optional(Type.String({ maxLength: 500 })),
    email: Type.Optional(Type.String({ maxLength: 320 })),
    phone: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);
const EntryBody = Type.Object(
  {
    people: Type.Array(Person, { minItems: 1, maxItems: 1000 }),
    event: Type.Optional(Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

function runView(r: { journey_id: string; profile_id: string; entry_id: string; version: number; status: string; node: string; wake_at: number | null; entered_at: number; exit_reason: string | null; converted_at: number | null; holdout: number; state: unknown }) {
  const s = fromJson<JourneyState>(r.state);
  return {
    journeyId: r.journey_id,
    profileId: r.profile_id,
    entryId: r.entry_id,
    version: r.version,
    status: r.status,
    node: r.node,
    waitingUntil: r.wake_at == null ? null : Number(r.wake_at),
    waitingFor: s.waitingFor ?? null,
    enteredAt: Number(r.entered_at),
    exitReason: r.exit_reason,
    convertedAt: r.converted_at == null ? null : Number(r.converted_at),
    holdout: Number(r.holdout) === 1,
    path: s.path ?? [],
  };
}

export async function journeyRoutes(app: FastifyInstance, { journeys: svc }: { journeys: JourneyService }): Promise<void> {
  const ws = (req: { workspaceId: string }) => req.workspaceId;
  const cat = svc.catalog;

  app.get('/journeys', { schema: { tags, summary: 'Journeys (drafts, active, paused, archived)' } }, async (req) => ({ journeys: await cat.list(ws(req)) }));
  app.post('/journeys', { schema: { tags, summary: 'Create a journey (a draft; publish to start it)', body: Definition } }, async (req, reply) => {
    reply.status(201);
    return cat.create(ws(req), req.body);
  });
  app.post('/journeys/validate', { schema: { tags, summary: 'Check a definition without saving it: every error, each naming its node and field', body: Definition } }, async (req) => {
    const errors = checkJourney(req.body);
    if (errors.length) return { valid: false, errors };
    try {
      await cat.validate(ws(req), req.body);
      return { valid: true, errors: [] };
    } catch (e) {
      if (e instanceof HttpError && e.statusCode === 400) return { valid: false, errors: [{ path: e.field ?? '(root)', message: e.message }] };
      throw e;
    }
  });
  app.get('/journeys/:id', { schema: { tags, summary: 'A journey: draft, published definition, versions', params: Id } }, async (req) => cat.get(ws(req), (req.params as { id: string }).id));
  app.put('/journeys/:id', { schema: { tags, summary: 'Replace the draft (people in flight are unaffected until you publish)', params: Id, body: Definition } }, async (req) => cat.update(ws(req), (req.params as { id: string }).id, req.body));
  app.post(
    '/journeys/:id/publish',
    {
      schema: {
        tags,
        summary: 'Publish the draft as a new version. New entries use it; people in flight stay on theirs unless migrate maps their node',
        params: Id,
        body: Type.Optional(Type.Object({ migrate: Type.Optional(Type.Object({ nodes: Type.Record(Type.String(), Type.String({ maxLength: 64 })) }, { additionalProperties: false })) }, { additionalProperties: false })),
      },
    },
    async (req) => cat.publish(ws(req), (req.params as { id: string }).id, (req.body as { migrate?: { nodes: Record<string, string> } } | undefined)?.migrate),
  );
  app.post('/journeys/:id/pause', { schema: { tags, summary: 'Pause: no new entries; people in flight hold where they are', params: Id } }, async (req) => cat.setStatus(ws(req), (req.params as { id: string }).id, 'paused'));
  app.post('/journeys/:id/resume', { schema: { tags, summary: 'Resume a paused journey (held timers fire now)', params: Id } }, async (req) => {
    const r = await cat.setStatus(ws(req), (req.params as { id: string }).id, 'active');
    svc.wake();
    return r;
  });
  app.post('/journeys/:id/archive', { schema: { tags, summary: 'Archive: everyone in it exits (reason archived)', params: Id } }, async (req) => cat.setStatus(ws(req), (req.params as { id: string }).id, 'archived'));
  app.get('/journeys/:id/metrics', { schema: { tags, summary: 'Entered, waiting per node, exits by reason, conversions and revenue, holdout vs treatment, messages', params: Id } }, async (req) => {
    const id = (req.params as { id: string }).id;
    await cat.row(ws(req), id);
    return journeyMetrics(svc.store, ws(req), id);
  });
  app.get(
    '/journeys/:id/runs',
    { schema: { tags, summary: 'People in a journey (or who were), newest first', params: Id, querystring: Type.Object({ status: Type.Optional(Type.String({ maxLength: 20 })), node: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false }) } },
    async (req) => {
      const id = (req.params as { id: string }).id;
      const q = req.query as { status?: string; node?: string; limit?: number };
      await cat.row(ws(req), id);
      let query = svc.store.db.selectFrom('journey_runs').selectAll().where('workspace_id', '=', ws(req)).where('journey_id', '=', id);
      if (q.status) query = query.where('status', '=', q.status);
      if (q.node) query = query.where('node', '=', q.node);
      const rows = await query.orderBy('entered_at', 'desc').limit(q.limit ?? 100).execute();
      return { runs: rows.map(runView) };
    },
  );
  app.post('/journeys/:id/entries', { schema: { tags, summary: 'Enter people into an active journey whose entry is "api" (idempotent per the journey\'s re-entry policy)', params: Id, body: EntryBody } }, async (req, reply) => {
    const w = ws(req);
    const id = (req.params as { id: string }).id;
    const b = req.body as typeof EntryBody.static;
    const row = await cat.row(w, id);
    if (row.status !== 'active') throw new HttpError(409, 'not_active', `journey ${id} is ${row.status}; only active journeys take entries`);
    const def = await cat.version(w, id, row.version);
    if (def.entry.kind !== 'api') throw new HttpError(409, 'wrong_entry', `journey ${id} is entered by ${def.entry.kind}, not by API calls`);
    const ids: string[] = [];
    for (const [i, p] of b.people.entries()) {
      const keys = Object.entries(p).filter(([, v]) => v !== undefined);
      if (keys.length !== 1) throw badRequest('each person needs exactly one of profileId, userId, email, phone', `people.${i}`);
      const [kind, value] = keys[0]! as [string, string];
      const pid = kind === 'profileId' ? await resolveCanonical(svc.store.db, w, value) : await lookupProfile(svc.store.db, w, LOOKUP_KINDS[kind as keyof typeof LOOKUP_KINDS], value);
      if (!pid) throw badRequest(`no person with that ${kind}`, `people.${i}.${kind}`);
      ids.push(pid);
    }
    const event = b.event ? { name: b.event.name, properties: b.event.properties ?? {}, timestamp: svc.now() } : undefined;
    await enqueueEntries(svc.store.db, w, id, ids.map((profileId) => ({ profileId, ...(event ? { event } : {}) })), svc.now());
    svc.wake();
    reply.status(202);
    return { accepted: ids.length, profileIds: ids };
  });
  app.post('/journeys/:id/test', { schema: { tags, summary: 'Test mode: run the journey for one profile on a simulated clock; nothing is sent or saved', params: Id, body: SimulateBody } }, async (req) =>
    simulateJourney(svc, ws(req), (req.params as { id: string }).id, req.body as SimulateBody),
  );
  app.get('/profiles/:id/journeys', { schema: { tags, summary: "A person's journeys: where they are, or how they left", params: Id } }, async (req) => {
    const w = ws(req);
    const c = await resolveCanonical(svc.store.db, w, (req.params as { id: string }).id);
    if (!c) throw notFound('profile not found');
    const rows = await svc.store.db.selectFrom('journey_runs').selectAll().where('workspace_id', '=', w).where('profile_id', '=', c).orderBy('entered_at', 'desc').limit(200).execute();
    const names = new Map((await cat.list(w)).map((j) => [j.id, j.name]));
    return { journeys: rows.map((r) => ({ ...runView(r), journeyName: names.get(r.journey_id) ?? null })) };
  });

  // Playbooks
  app.get('/playbooks', { schema: { tags, summary: 'The playbook gallery: ready-made journeys and the parameters each needs' } }, async () => ({ playbooks: PLAYBOOK_INFO }));
  app.post('/playbooks/:key', { schema: { tags, summary: 'Install a playbook as a draft journey (edit it, then publish); missing topics are created', params: Type.Object({ key: Type.String({ maxLength: 64 }) }), body: Type.Record(Type.String(), Type.Unknown()) } }, async (req, reply) => {
    const key = (req.params as { key: string }).key;
    const info = PLAYBOOK_INFO.find((p) => p.key === key);
    if (!info) throw notFound(`no playbook ${key} (GET /api/playbooks)`);
    const { starters, ...params } = req.body as Record<string, unknown>;
    if (starters !== undefined && typeof starters !== 'boolean') throw badRequest('starters must be true or false', 'starters');
    const w = ws(req);
    const valueAt = (name: string) => name.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), params);
    const missing = (name: string) => {
      const v = valueAt(name);
      return v === undefined || v === null || v === '';
    };
    // With starters, a required template that was not given is made from the playbook's starter (created below, once
    // everything else checks out); every other required parameter must be there.
    const fromStarter = starters ? info.params.filter((p) => p.required && p.type === 'template' && missing(p.name)) : [];
    for (const p of info.params) if (p.required && missing(p.name) && !fromStarter.includes(p)) throw badRequest(`${p.name} is required (${p.description})`, p.name);
    const created: string[] = [];
    try {
      for (const p of fromStarter) {
        const st = STARTERS[key as PlaybookKey][p.name];
        if (!st) throw badRequest(`${p.name} is required (${p.description}): this playbook has no starter for it`, p.name);
        const t = await svc.messaging.templates.create(w, st.name, st.source);
        created.push(t.id);
        setPath(params, p.name, t.id);
      }
      let def;
      try {
        def = (PLAYBOOKS[key as PlaybookKey] as (p: unknown) => ReturnType<(typeof PLAYBOOKS)['welcomeSeries']>)(params);
      } catch (e) {
        throw badRequest((e as Error).message, '(body)');
      }
      const topics = await svc.messaging.settings.topics(w);
      if (!topics.some((t) => t.id === def.topic)) {
        await svc.messaging.settings.setTopics(w, [...topics, { id: def.topic, label: info.name, transactional: key === 'pickupReady' }]);
      }
      const journey = await cat.create(w, def);
      reply.status(201);
      return { ...journey, ...(created.length ? { starterTemplates: created } : {}) };
    } catch (e) {
      // Nothing half-made: starters created for an install that failed are archived again.
      for (const id of created) await svc.messaging.templates.archive(w, id).catch(() => undefined);
      throw e;
    }
  });

  // Broadcasts
  const bc = svc.broadcasts;
  app.get('/broadcasts', { schema: { tags: btags, summary: 'Broadcasts' } }, async (req) => ({ broadcasts: await bc.list(ws(req)) }));
  app.post('/broadcasts', { schema: { tags: btags, summary: 'Create a broadcast (a draft): segment, variants, schedule, throttle, A/B test', body: Type.Any() } }, async (req, reply) => {
    reply.status(201);
    return bc.create(ws(req), req.body);
  });
  app.get('/broadcasts/:id', { schema: { tags: btags, summary: 'A broadcast with its progress and, once tested, results per variant', params: Id } }, async (req) => bc.progress(ws(req), (req.params as { id: string }).id));
  app.put('/broadcasts/:id', { schema: { tags: btags, summary: 'Replace a draft broadcast', params: Id, body: Type.Any() } }, async (req) => bc.update(ws(req), (req.params as { id: string }).id, req.body));
  app.post('/broadcasts/:id/send', { schema: { tags: btags, summary: 'Send (now, or at its schedule)', params: Id } }, async (req) => {
    const r = await bc.send(ws(req), (req.params as { id: string }).id);
    svc.wake();
    return r;
  });
  app.post('/broadcasts/:id/cancel', { schema: { tags: btags, summary: 'Cancel: its pending messages are cancelled', params: Id } }, async (req) => bc.cancel(ws(req), (req.params as { id: string }).id));
}

/** Sets a dotted path ('templates.email') in a plain object, creating the objects on the way. */
function setPath(o: Record<string, unknown>, dotted: string, v: unknown): void {
  const parts = dotted.split('.');
  let cur = o;
  for (const k of parts.slice(0, -1)) {
    const next = cur[k];
    cur = (next && typeof next === 'object' ? next : (cur[k] = {})) as Record<string, unknown>;
  }
  cur[parts[parts.length - 1]!] = v;
}
