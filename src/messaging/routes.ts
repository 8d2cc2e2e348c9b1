// Admin endpoints of messaging: templates and blocks (with preview), brand kit, topics, arbiter policy, channel
// providers, the transactional send API, message status, the decision log, suppressions and bounce intake.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { HttpError, badRequest, notFound } from '../app/errors.ts';
import { isInstanceAdmin } from '../app/auth.ts';
import { BlockedAddressError, checkHost, hostOf, systemResolver } from '../webhooks/ssrf.ts';
import { LOOKUP_KINDS, lookupProfile, resolveCanonical } from '../profiles/read.ts';
import { fromJson } from '../store/json.ts';
import { parseFeedbackReport } from './feedback.ts';
import { PROVIDER_CHANNELS, type ProviderChannel } from './settings.ts';
import type { MessagingService } from './service.ts';
import { previewTemplate } from './preview.ts';
import { requestOptIn } from './opt-in.ts';
import { CHANNELS, type ChannelName, type RenderedContent } from './types.ts';
import { smsSegments } from './templates/sms.ts';
import { emailAddressProblem, phoneNumberProblem } from '../channels/index.ts';

const tags = ['messaging'];
const Id = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const ChannelParam = Type.Object({ channel: Type.Union(PROVIDER_CHANNELS.map((c) => Type.Literal(c))) });
const Any = Type.Any();
const ChannelOrBest = Type.Union([...CHANNELS.map((c) => Type.Literal(c)), Type.Literal('best')]);

const SendBody = Type.Object(
  {
    to: Type.Object(
      {
        profileId: Type.Optional(Type.String({ maxLength: 100 })),
        userId: Type.Optional(Type.String({ maxLength: 500 })),
        email: Type.Optional(Type.String({ maxLength: 320 })),
        phone: Type.Optional(Type.String({ maxLength: 40 })),
      },
      { additionalProperties: false, description: 'Who: exactly one identifier' },
    ),
    channel: ChannelOrBest,
    template: Type.Optional(Type.String({ maxLength: 100, description: 'Template id (for one channel)' })),
    templates: Type.Optional(Type.Record(Type.String(), Type.String({ maxLength: 100 }), { description: 'Template id per channel, for channel "best"' })),
    topic: Type.String({ minLength: 1, maxLength: 64 }),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, default: 50 })),
    idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Same key + same person → the same message, never a second one' })),
    event: Type.Optional(Type.Object({ name: Type.String({ maxLength: 200 }), properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())) })),
    items: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 50 })),
    notBefore: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export async function messagingRoutes(app: FastifyInstance, { messaging: svc }: { messaging: MessagingService }): Promise<void> {
  const ws = (req: { workspaceId: string }) => req.workspaceId;
  const person = async (w: string, id: string) => {
    const c = await resolveCanonical(svc.store.db, w, id);
    if (!c) throw notFound(`profile ${id} not found`);
    return c;
  };

  // Templates and blocks
  app.get('/templates', { schema: { tags, summary: 'Templates (active)' } }, async (req) => ({ templates: await svc.templates.list(ws(req)) }));
  app.post('/templates', { schema: { tags, summary: 'Create a template (validated: Liquid syntax with line/column, MJML, blocks)', body: Type.Object({ name: Type.String(), source: Any }) } }, async (req, reply) => {
    const b = req.body as { name: unknown; source: unknown };
    reply.status(201);
    return svc.templates.create(ws(req), b.name, b.source);
  });
  app.get('/templates/:id', { schema: { tags, summary: 'A template (current version)', params: Id } }, async (req) => svc.templates.get(ws(req), (req.params as { id: string }).id));
  app.patch('/templates/:id', { schema: { tags, summary: 'Change a template: a new version when the source changes', params: Id, body: Type.Object({ name: Type.Optional(Type.String()), source: Type.Optional(Any) }) } }, async (req) =>
    svc.templates.update(ws(req), (req.params as { id: string }).id, req.body as { name?: unknown; source?: unknown }),
  );
  app.delete('/templates/:id', { schema: { tags, summary: 'Archive a template (sends already made keep their version)', params: Id } }, async (req, reply) => {
    await svc.templates.archive(ws(req), (req.params as { id: string }).id);
    reply.status(204);
  });
  app.get('/templates/:id/versions', { schema: { tags, summary: 'Versions of a template', params: Id } }, async (req) => ({ versions: await svc.templates.versions(ws(req), (req.params as { id: string }).id) }));
  app.post(
    '/templates/preview',
    { schema: { tags, summary: 'Render a template (saved by id, or a draft source) for a real profile or sample data', body: Type.Object({ templateId: Type.Optional(Type.String()), source: Type.Optional(Any), profileId: Type.Optional(Type.String()), event: Type.Optional(Any), items: Type.Optional(Type.Array(Any)), brand: Type.Optional(Any) }) } },
    async (req) => previewTemplate(svc, ws(req), req.body as Parameters<typeof previewTemplate>[2]),
  );
  app.get('/template-blocks', { schema: { tags, summary: 'Reusable blocks ({% render "name" %}) shared by every channel' } }, async (req) => ({ blocks: await svc.templates.partials(ws(req)) }));
  app.put('/template-blocks/:name', { schema: { tags, summary: 'Create or change a block', params: Type.Object({ name: Type.String({ maxLength: 64 }) }), body: Type.Object({ body: Type.String() }) } }, async (req) => {
    const name = (req.params as { name: string }).name;
    await svc.templates.setPartial(ws(req), name, (req.body as { body: unknown }).body);
    return { name };
  });
  app.delete('/template-blocks/:name', { schema: { tags, summary: 'Delete a block', params: Type.Object({ name: Type.String({ maxLength: 64 }) }) } }, async (req, reply) => {
    if (!(await svc.templates.deletePartial(ws(req), (req.params as { name: string }).name))) throw notFound('no such block');
    reply.status(204);
  });

  // Settings
  app.get('/messaging/brand', { schema: { tags, summary: 'Brand kit' } }, async (req) => svc.settings.brand(ws(req)));
  app.put('/messaging/brand', { schema: { tags, summary: 'Set the brand kit (logo, colours, font, address, sender)', body: Any } }, async (req) => svc.settings.setBrand(ws(req), req.body));
  app.get('/messaging/topics', { schema: { tags, summary: 'Topics people consent to (transactional or marketing)' } }, async (req) => ({ topics: await svc.settings.topics(ws(req)) }));
  app.put('/messaging/topics', { schema: { tags, summary: 'Set the topics', body: Type.Object({ topics: Type.Array(Any) }) } }, async (req) => ({ topics: await svc.settings.setTopics(ws(req), (req.body as { topics: unknown }).topics) }));
  app.get('/messaging/policy', { schema: { tags, summary: 'Arbiter policy: frequency caps, quiet hours, over-cap behaviour, fallback order' } }, async (req) => svc.settings.policy(ws(req)));
  app.put('/messaging/policy', { schema: { tags, summary: 'Set the arbiter policy (fields not given keep their defaults)', body: Any } }, async (req) => svc.settings.setPolicy(ws(req), req.body));
  app.get('/messaging/providers', { schema: { tags, summary: 'Channel providers (secrets masked)' } }, async (req) => {
    const out: Record<string, unknown> = {};
    for (const c of PROVIDER_CHANNELS) out[c] = await svc.settings.providerMasked(ws(req), c);
    return { providers: out };
  });
  app.put('/messaging/providers/:channel', { schema: { tags, summary: "Set a channel's provider (secret fields are encrypted at rest)", params: ChannelParam, body: Any } }, async (req) => {
    const channel = (req.params as { channel: ProviderChannel }).channel;
    // Private-network destinations reach the Omnia host's own network: only the instance's operators may allow them.
    if ((req.body as { allowPrivateNetwork?: unknown } | null)?.allowPrivateNetwork === true && !isInstanceAdmin(req)) {
      throw new HttpError(403, 'forbidden', 'only instance admins (admin keys of the default workspace) can allow private-network destinations', 'allowPrivateNetwork');
    }
    // A tenant must not point a provider at the Omnia host's own network either (SMTP relay, SMS gateway base URL).
    const target = providerHost(channel, req.body);
    if (target && !isInstanceAdmin(req)) {
      try {
        await checkHost(target, false, systemResolver);
      } catch (e) {
        const field = channel === 'email' ? 'host' : 'baseUrl';
        if (e instanceof BlockedAddressError) throw new HttpError(403, 'forbidden', `${e.message}: only instance admins may use private-network providers`, field);
        throw new HttpError(400, 'invalid_request', `${field}: the host cannot be resolved (${(e as Error).message})`, field);
      }
    }
    await svc.settings.setProvider(ws(req), channel, req.body);
    return { channel, provider: await svc.settings.providerMasked(ws(req), channel) };
  });
  app.delete('/messaging/providers/:channel', { schema: { tags, summary: "Remove a channel's provider", params: ChannelParam } }, async (req, reply) => {
    if (!(await svc.settings.deleteProvider(ws(req), (req.params as { channel: ProviderChannel }).channel))) throw notFound('no provider for that channel');
    reply.status(204);
  });
  app.post('/messaging/providers/:channel/health', { schema: { tags, summary: "Check a channel's provider (SMTP connection, …)", params: ChannelParam } }, async (req) => {
    const a = await svc.deliverer.adapter(ws(req), (req.params as { channel: ChannelName }).channel);
    if (!a) throw notFound('no provider for that channel');
    return a.health();
  });
  // A real message through the configured provider, to an address typed by the owner: proves credentials, sender and
  // routing end to end (health only proves the connection). Not a customer message: no profile, consent or arbiter.
  app.post(
    '/messaging/providers/:channel/test',
    { schema: { tags, summary: "Send a test message through a channel's provider (email or SMS) to an address you give", params: ChannelParam, body: Type.Object({ to: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }) } },
    async (req) => {
      const channel = (req.params as { channel: ChannelName }).channel;
      const to = (req.body as { to: string }).to.trim();
      if (channel !== 'email' && channel !== 'sms') throw badRequest('test messages can be sent on email and sms', 'params.channel');
      const problem = channel === 'email' ? emailAddressProblem(to) : phoneNumberProblem(to);
      if (problem) throw badRequest(`to: ${problem}`, 'to');
      const a = await svc.deliverer.adapter(ws(req), channel);
      if (!a) throw notFound('no provider for that channel');
      const brand = await svc.settings.brand(ws(req));
      const text = `This is a test message from Omnia for ${brand.name}: your ${channel === 'email' ? 'email (SMTP)' : 'SMS'} provider works.`;
      const content: RenderedContent =
        channel === 'email'
          ? { channel, email: { subject: `Omnia test message (${brand.name})`, html: `<!doctype html><html><body><p>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</p></body></html>`, text, from: { name: brand.senderName, address: brand.senderEmail } } }
          : { channel, sms: { body: text, ...smsSegments(text) } };
      const id = `test_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
      const r = await a.send({ messageId: id, workspaceId: ws(req), profileId: 'test', to, content, topic: 'transactional' });
      if (r.status !== 'sent') throw new HttpError(502, 'provider_error', `the provider refused the test message: ${r.error}`, 'to');
      return { sent: true, to, providerId: r.providerId ?? null };
    },
  );
  app.get('/messaging/identity-verification', { schema: { tags, summary: 'The secret your server uses to compute userHash = hex(HMAC-SHA256(secret, userId)) for browser calls that name a userId' } }, async (req) => ({
    secret: (await svc.settings.identitySecret(ws(req))).toString('base64'),
    algorithm: 'HMAC-SHA256 over the userId (UTF-8), key = base64-decoded secret, result as lowercase hex',
  }));
  app.get('/messaging/vapid', { schema: { tags, summary: "The workspace's VAPID public key (web push)" } }, async (req) => ({ publicKey: await svc.settings.vapidPublicKey(ws(req)) }));

  // Sending
  app.post('/messages', { schema: { tags, summary: 'Send a message to one person (through the arbiter); 202 with its id', body: SendBody } }, async (req, reply) => {
    const b = req.body as typeof SendBody.static;
    const w = ws(req);
    const keys = Object.entries(b.to).filter(([, v]) => v !== undefined);
    if (keys.length !== 1) throw badRequest('to must have exactly one of profileId, userId, email, phone', 'to');
    const [kind, value] = keys[0]! as [string, string];
    const profileId = kind === 'profileId' ? await resolveCanonical(svc.store.db, w, value) : await lookupProfile(svc.store.db, w, LOOKUP_KINDS[kind as keyof typeof LOOKUP_KINDS], value);
    if (!profileId) throw notFound(`no person with that ${kind} (send an identify call first)`);
    const templates: Partial<Record<ChannelName, string>> = {};
    if (b.channel === 'best') {
      if (!b.templates || Object.keys(b.templates).length === 0) throw badRequest('channel "best" needs templates: { email?, sms?, push?, … }', 'templates');
      for (const [c, id] of Object.entries(b.templates)) {
        if (!(CHANNELS as readonly string[]).includes(c)) throw badRequest(`unknown channel ${c}`, `templates.${c}`);
        templates[c as ChannelName] = id;
      }
    } else {
      const id = b.template ?? b.templates?.[b.channel];
      if (!id) throw badRequest(`template is required for channel ${b.channel}`, 'template');
      templates[b.channel] = id;
    }
    for (const [c, id] of Object.entries(templates)) {
      const t = await svc.templates.get(w, id!).catch(() => null);
      if (!t || t.status !== 'active') throw badRequest(`template ${id} not found`, b.channel === 'best' ? `templates.${c}` : 'template');
      if (t.channel !== c) throw badRequest(`template ${id} is a ${t.channel} template, not ${c}`, b.channel === 'best' ? `templates.${c}` : 'template');
    }
    const topic = await svc.settings.topic(w, b.topic);
    if (!topic) throw badRequest(`unknown topic ${b.topic} (GET /api/messaging/topics)`, 'topic');
    const notBefore = b.notBefore ? Date.parse(b.notBefore) : null;
    const r = await svc.enqueue({
      workspaceId: w,
      profileId,
      source: 'api',
      step: b.idempotencyKey ?? `${svc.now()}-${Math.random().toString(36).slice(2)}`,
      channel: b.channel,
      templates,
      topic: topic.id,
      transactional: topic.transactional,
      priority: b.priority ?? 50,
      context: { ...(b.event ? { event: { name: b.event.name, properties: b.event.properties ?? {} } } : {}), ...(b.items ? { items: b.items } : {})},
      notBefore,
    });
    reply.status(202);
    return { id: r.id, created: r.created, profileId };
  });
  app.get('/messages/:id', { schema: { tags, summary: 'A message: status, channel, template version, and every decision about it', params: Id } }, async (req) => {
    const w = ws(req);
    const id = (req.params as { id: string }).id;
    const m = await svc.store.db.selectFrom('messages').selectAll().where('workspace_id', '=', w).where('id', '=', id).executeTakeFirst();
    if (!m) throw notFound(`message ${id} not found`);
    const decisions = await svc.store.db.selectFrom('message_decisions').selectAll().where('workspace_id', '=', w).where('message_id', '=', id).orderBy('at').orderBy('id').execute();
    return { ...messageView(m), engagement: await engagementOf(svc, w, m.profile_id, id), decisions: decisions.map(decisionView) };
  });
  app.get('/profiles/:id/decisions', { schema: { tags, summary: "The decision log of one person: every send, deferral, reroute and skip, with its reason", params: Id, querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }) } }, async (req) => {
    const w = ws(req);
    const c = await person(w, (req.params as { id: string }).id);
    const ids = (await svc.store.db.selectFrom('profiles').select('id').where('workspace_id', '=', w).where('canonical_id', '=', c).execute()).map((r) => r.id);
    const rows = await svc.store.db
      .selectFrom('message_decisions')
      .selectAll()
      .where('workspace_id', '=', w)
      .where('profile_id', 'in', ids)
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit((req.query as { limit?: number }).limit ?? 100)
      .execute();
    return { decisions: rows.map(decisionView) };
  });
  app.get('/profiles/:id/messages', { schema: { tags, summary: 'Messages to one person, newest first', params: Id } }, async (req) => {
    const w = ws(req);
    const c = await person(w, (req.params as { id: string }).id);
    const ids = (await svc.store.db.selectFrom('profiles').select('id').where('workspace_id', '=', w).where('canonical_id', '=', c).execute()).map((r) => r.id);
    const rows = await svc.store.db.selectFrom('messages').selectAll().where('workspace_id', '=', w).where('profile_id', 'in', ids).orderBy('created_at', 'desc').limit(200).execute();
    return { messages: rows.map(messageView) };
  });

  app.post('/profiles/:id/opt-in', { schema: { tags, summary: 'Double opt-in: email the person a confirmation link; consent becomes subscribed when they confirm', params: Id, body: Type.Object({ topic: Type.Optional(Type.String({ maxLength: 64 })), templateId: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }) } }, async (req, reply) => {
    reply.status(202);
    return requestOptIn(svc, ws(req), (req.params as { id: string }).id, req.body as { topic?: string; templateId?: string });
  });

  // Suppressions and bounce / complaint intake
  app.get('/suppressions', { schema: { tags, summary: 'Suppressed addresses' } }, async (req) => ({
    suppressions: (await svc.store.db.selectFrom('suppressions').selectAll().where('workspace_id', '=', ws(req)).orderBy('created_at', 'desc').limit(1000).execute()).map((s) => ({ channel: s.channel, address: s.address, reason: s.reason, createdAt: Number(s.created_at) })),
  }));
  app.post('/suppressions', { schema: { tags, summary: 'Suppress an address', body: Type.Object({ channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]), address: Type.String({ minLength: 3, maxLength: 320 }), reason: Type.Optional(Type.String({ maxLength: 300 })) }, { additionalProperties: false }) } }, async (req, reply) => {
    const b = req.body as { channel: string; address: string; reason?: string };
    const address = b.channel === 'email' ? b.address.trim().toLowerCase() : b.address.trim();
    if (b.channel === 'email' && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(address)) throw badRequest('address is not an email address', 'address');
    if (b.channel === 'sms' && !/^\+[1-9]\d{6,14}$/.test(address)) throw badRequest('address must be an E.164 phone number (+447700900123)', 'address');
    await svc.store.db.insertInto('suppressions').values({ workspace_id: ws(req), channel: b.channel, address, reason: b.reason ?? 'manual', created_at: Date.now() }).onConflict((oc) => oc.columns(['workspace_id', 'channel', 'address']).doNothing()).execute();
    reply.status(201);
    return { channel: b.channel, address };
  });
  app.delete('/suppressions/:channel/:address', { schema: { tags, summary: 'Lift a suppression' } }, async (req, reply) => {
    const p = req.params as { channel: string; address: string };
    const r = await svc.store.db.deleteFrom('suppressions').where('workspace_id', '=', ws(req)).where('channel', '=', p.channel).where('address', '=', p.address).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw notFound('no such suppression');
    reply.status(204);
  });
  app.addContentTypeParser(['message/rfc822', 'message/delivery-status', 'multipart/report'], { parseAs: 'buffer', bodyLimit: 5 * 1024 * 1024 }, (_req, body, done) => done(null, body));
  app.post('/messaging/feedback', { schema: { tags, summary: 'Bounce (DSN) or complaint (ARF) intake: a raw message (message/rfc822); the address is suppressed' } }, async (req) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : typeof req.body === 'string' ? Buffer.from(req.body) : null;
    if (!raw || raw.length === 0) throw badRequest('send the raw bounce or complaint message as the body (Content-Type: message/rfc822)', 'body');
    return parseFeedbackReport(svc, ws(req), raw);
  });
}

/**
 * Opens and clicks of one message: total and unique, counting only human ones (privacy-proxy opens and scanner
 * clicks are recorded with human: false and reported apart).
 */
async function engagementOf(svc: MessagingService, ws: string, profileId: string, messageId: string) {
  const canonical = (await resolveCanonical(svc.store.db, ws, profileId)) ?? profileId;
  const ids = (await svc.store.db.selectFrom('profiles').select('id').where('workspace_id', '=', ws).where('canonical_id', '=', canonical).execute()).map((r) => r.id);
  const rows = await svc.store.db
    .selectFrom('events')
    .select(['event', 'properties'])
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', ids.length ? ids : [profileId])
    .where('internal', '=', 1)
    .where('event', 'in', ['Message Opened', 'Message Clicked'])
    .execute();
  const out = { opens: { total: 0, unique: 0, machine: 0 }, clicks: { total: 0, unique: 0, machine: 0, urls: {} as Record<string, number> } };
  for (const r of rows) {
    const p = fromJson<{ messageId?: string; human?: boolean; url?: string }>(r.properties);
    if (p.messageId !== messageId) continue;
    const bucket = r.event === 'Message Opened' ? out.opens : out.clicks;
    if (p.human === false) {
      bucket.machine++;
      continue;
    }
    bucket.total++;
    if (r.event === 'Message Clicked' && p.url) out.clicks.urls[p.url] = (out.clicks.urls[p.url] ?? 0) + 1;
  }
  out.opens.unique = out.opens.total > 0 ? 1 : 0;
  out.clicks.unique = Object.keys(out.clicks.urls).length;
  return out;
}

/** The host a provider config connects to (SMTP host, SMS gateway), for the private-network check. */
function providerHost(channel: string, body: unknown): string | null {
  const b = (body ?? {}) as { host?: unknown; baseUrl?: unknown };
  if (channel === 'email' && typeof b.host === 'string') return b.host;
  if (channel === 'sms' && typeof b.baseUrl === 'string') {
    try {
      return hostOf(new URL(b.baseUrl));
    } catch {
      return null; // the provider's own validation names the field
    }
  }
  return null;
}

export function messageView(m: { id: string; profile_id: string; source: string; requested_channel: string; channel: string | null; template_id: string | null; template_version: number | null; topic: string; transactional: number; priority: number; status: string; to_address: string | null; attempts: number; next_attempt_at: number; error: string | null; provider_id: string | null; created_at: number; sent_at: number | null; delivered_at: number | null; excluded: unknown }) {
  return {
    id: m.id,
    profileId: m.profile_id,
    source: m.source,
    requestedChannel: m.requested_channel,
    channel: m.channel,
    templateId: m.template_id,
    templateVersion: m.template_version,
    topic: m.topic,
    transactional: m.transactional === 1,
    priority: m.priority,
    status: m.status,
    to: m.to_address,
    attempts: m.attempts,
    nextAttemptAt: ['queued', 'deferred', 'retry'].includes(m.status) ? Number(m.next_attempt_at) : null,
    excludedChannels: fromJson<string[]>(m.excluded),
    providerId: m.provider_id,
    error: m.error,
    createdAt: Number(m.created_at),
    sentAt: m.sent_at === null ? null : Number(m.sent_at),
    deliveredAt: m.delivered_at === null ? null : Number(m.delivered_at),
  };
}

function decisionView(d: { id: string; message_id: string; profile_id: string; at: number; action: string; channel: string | null; code: string | null; until: number | null; reason: string }) {
  return { id: d.id, messageId: d.message_id, profileId: d.profile_id, at: Number(d.at), action: d.action, channel: d.channel, code: d.code, until: d.until === null ? null : Number(d.until), reason: d.reason };
}

