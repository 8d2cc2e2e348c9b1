// Endpoints people and providers reach without an admin key: the open pixel and click redirects (signed tokens,
// tamper → 400), one-click unsubscribe (RFC 8058) and its confirmation page, the preference centre, the SMS provider's
// inbound and status webhooks (Twilio-signed), and, with the write key, the browser's push subscription and onsite feed.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError, badRequest } from '../app/errors.ts';
import { lookupProfile } from '../profiles/read.ts';
import { fromJson, toJson } from '../store/json.ts';
import { authenticateKey } from '../workspaces/keys.ts';
import { classifyKeyword, parseInbound, parseStatusCallback, verifyTwilioSignature } from '../channels/index.ts';
import { errorPage, optInConfirmPage, optInPromptPage, parsePreferenceForm, preferenceCentrePage, unsubscribeConfirmPage, unsubscribeDonePage, verifyToken } from './links/index.ts';
import { confirmOptIn } from './opt-in.ts';
import { type Claims, applyPreferences, recordClick, recordOpen, smsInbound, smsStatus, unsubscribe } from './feedback.ts';
import { LIFECYCLE, insertLifecycleEvent } from './lifecycle.ts';
import { linkUrls } from './link-urls.ts';
import { MAX_PUSH_DEVICES, loadPerson } from './person.ts';
import type { MessagingService } from './service.ts';

const GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const WS_RE = /^[A-Za-z0-9_-]{1,100}$/;

export async function messagingPublicRoutes(app: FastifyInstance, { messaging: svc }: { messaging: MessagingService }): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(body as string)) {
      const prev = out[k];
      out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    done(null, out);
  });

  const brandOf = async (ws: string) => {
    const b = await svc.settings.brand(ws);
    return { name: b.name, primaryColor: b.colors.primary, ...(b.logoUrl ? { logoUrl: b.logoUrl } : {}) };
  };
  const html = (reply: FastifyReply, status: number, page: string) =>
    reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').header('x-frame-options', 'DENY').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; form-action 'self'").send(page);

  /** Verifies a link token for its purpose; a tampered or expired one answers 400 with a page that says so. */
  const claims = async (req: FastifyRequest, purpose: string): Promise<Claims | null> => {
    const { ws, token } = req.params as { ws: string; token: string };
    if (!WS_RE.test(ws)) return null;
    const key = await svc.settings.existingLinkKey(ws).catch(() => null);
    if (!key) return null;
    const v = verifyToken(key, purpose, token.replace(/\.gif$/, ''), svc.now());
    if (!v.ok) return null;
    const p = v.payload as Record<string, unknown>;
    if (p.ws !== ws) return null;
    return { ws, m: String(p.m), p: String(p.p), t: String(p.t), c: String(p.c), ...(typeof p.u === 'string' ? { u: p.u } : {}) };
  };
  const hit = (req: FastifyRequest) => ({ userAgent: String(req.headers['user-agent'] ?? ''), ip: req.ip, method: req.method });
  const invalidLink = async (reply: FastifyReply, ws?: string) =>
    html(reply, 400, errorPage({ ...(ws && WS_RE.test(ws) ? { brand: await brandOf(ws).catch(() => undefined) } : {}), title: 'This link is not valid', message: 'The link was changed or has expired. Use the link in your most recent message, or contact us.' } as Parameters<typeof errorPage>[0]));

  app.get('/t/o/:ws/:token', { schema: { hide: true } }, async (req, reply) => {
    const c = await claims(req, 'open');
    if (!c) return reply.status(400).header('content-type', 'text/plain').send('invalid tracking link');
    await recordOpen(svc, c, hit(req));
    return reply.header('content-type', 'image/gif').header('cache-control', 'no-store, private').send(GIF);
  });

  const click = async (req: FastifyRequest, reply: FastifyReply) => {
    const c = await claims(req, 'click');
    if (!c || !c.u || !/^https?:\/\//i.test(c.u)) return invalidLink(reply, (req.params as { ws: string }).ws);
    await recordClick(svc, c, c.u, hit(req));
    return reply.status(302).header('location', c.u).header('cache-control', 'no-store').send();
  };
  // Fastify answers HEAD with this handler too: a scanner's HEAD is recorded and flagged (head_request).
  app.get('/t/c/:ws/:token', { schema: { hide: true } }, click);

  app.get('/u/:ws/:token', { schema: { hide: true } }, async (req, reply) => {
    const c = await claims(req, 'unsubscribe');
    if (!c) return invalidLink(reply, (req.params as { ws: string }).ws);
    const topic = await svc.settings.topic(c.ws, c.t);
    const token = (req.params as { token: string }).token;
    return html(reply, 200, unsubscribeConfirmPage({ brand: await brandOf(c.ws), token, channel: c.c, topicLabel: topic && !topic.transactional ? topic.label : 'marketing messages' } as Parameters<typeof unsubscribeConfirmPage>[0]));
  });
  // RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click"; the confirmation page's form posts here too.
  app.post('/u/:ws/:token', { schema: { hide: true } }, async (req, reply) => {
    const c = await claims(req, 'unsubscribe');
    if (!c) return invalidLink(reply, (req.params as { ws: string }).ws);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const oneClick = body['List-Unsubscribe'] === 'One-Click';
    await unsubscribe(svc, c, oneClick ? 'one_click' : 'unsubscribe_page');
    const key = await svc.settings.linkKey(c.ws);
    const urls = linkUrls(svc.opts.publicUrl, key, { ws: c.ws, m: c.m, p: c.p, t: c.t, c: c.c }, svc.now());
    return html(reply, 200, unsubscribeDonePage({ brand: await brandOf(c.ws), preferencesUrl: urls.preferences } as Parameters<typeof unsubscribeDonePage>[0]));
  });

  const preferences = async (req: FastifyRequest, reply: FastifyReply) => {
    const c = await claims(req, 'preferences');
    if (!c) return invalidLink(reply, (req.params as { ws: string }).ws);
    const topics = await svc.settings.topics(c.ws);
    const channels = ['email', 'sms', 'push'] as const;
    let saved = false;
    if (req.method === 'POST') {
      const parsed = parsePreferenceForm((req.body ?? {}) as Record<string, string | string[]>, topics, [...channels]);
      if (!parsed.ok) return html(reply, 400, errorPage({ brand: await brandOf(c.ws), title: 'Your choices were not saved', message: String(parsed.error) } as Parameters<typeof errorPage>[0]));
      await applyPreferences(svc, c, parsed.changes as Parameters<typeof applyPreferences>[2]);
      saved = true;
    }
    const canonical = (await svc.store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', c.ws).where('id', '=', c.p).executeTakeFirst())?.canonical_id;
    const person = canonical ? await loadPerson(svc.store.db, c.ws, canonical, svc.now()) : null;
    if (!person) return invalidLink(reply, c.ws);
    const token = (req.params as { token: string }).token;
    return html(
      reply,
      200,
      preferenceCentrePage({
        brand: await brandOf(c.ws),
        token,
        person: { ...(person.email ? { email: person.email } : {}), ...(person.phone ? { phone: person.phone } : {}) },
        topics,
        channels: [...channels],
        state: (channel: string, topic: string) => person.state.consent(channel as 'email', topic),
        saved,
      } as Parameters<typeof preferenceCentrePage>[0]),
    );
  };
  app.get('/p/:ws/:token', { schema: { hide: true } }, preferences);
  app.post('/p/:ws/:token', { schema: { hide: true } }, preferences);

  // Double opt-in: GET shows a button (scanners fetch links), the POST confirms.
  app.get('/c/:ws/:token', { schema: { hide: true } }, async (req, reply) => {
    const c = await claims(req, 'confirm');
    if (!c) return html(reply, 400, optInConfirmPage({ brand: await brandOf((req.params as { ws: string }).ws).catch(() => ({ name: 'Omnia', primaryColor: '#333333' })), confirmed: false } as Parameters<typeof optInConfirmPage>[0]));
    const topic = await svc.settings.topic(c.ws, c.t);
    return html(reply, 200, optInPromptPage({ brand: await brandOf(c.ws), token: (req.params as { token: string }).token, topicLabel: topic?.label } as Parameters<typeof optInPromptPage>[0]));
  });
  app.post('/c/:ws/:token', { schema: { hide: true } }, async (req, reply) => {
    const c = await claims(req, 'confirm');
    if (!c) return html(reply, 400, optInConfirmPage({ brand: await brandOf((req.params as { ws: string }).ws).catch(() => ({ name: 'Omnia', primaryColor: '#333333' })), confirmed: false } as Parameters<typeof optInConfirmPage>[0]));
    await confirmOptIn(svc, c);
    const topic = await svc.settings.topic(c.ws, c.t);
    return html(reply, 200, optInConfirmPage({ brand: await brandOf(c.ws), confirmed: true, topicLabel: topic?.label } as Parameters<typeof optInConfirmPage>[0]));
  });

  // SMS provider webhooks (Twilio wire protocol): the signature is checked with the workspace's auth token.
  const twilio = async (req: FastifyRequest): Promise<{ ws: string; params: Record<string, string> }> => {
    const ws = (req.params as { ws: string }).ws;
    const p = WS_RE.test(ws) ? await svc.settings.provider(ws, 'sms') : null;
    const token = p && 'authToken' in p.config ? String((p.config as { authToken: string }).authToken) : null;
    if (!token) throw new HttpError(404, 'not_found', 'no SMS provider configured for this workspace');
    const params = Object.fromEntries(Object.entries((req.body ?? {}) as Record<string, string | string[]>).map(([k, v]) => [k, Array.isArray(v) ? v[0]! : v]));
    const url = `${svc.opts.publicUrl.replace(/\/+$/, '')}${req.url}`;
    if (!verifyTwilioSignature(token, url, params, String(req.headers['x-twilio-signature'] ?? ''))) throw new HttpError(403, 'bad_signature', 'X-Twilio-Signature does not match');
    return { ws, params };
  };
  app.post('/hooks/sms/:ws/inbound', { schema: { hide: true } }, async (req, reply) => {
    const { ws, params } = await twilio(req);
    const msg = parseInbound(params);
    if (!msg) throw badRequest('From and Body are required', 'From');
    const { reply: text } = await smsInbound(svc, ws, { ...msg, keyword: classifyKeyword(msg.body) });
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return reply.header('content-type', 'text/xml').send(`<?xml version="1.0" encoding="UTF-8"?><Response>${text ? `<Message>${esc(text)}</Message>` : ''}</Response>`);
  });
  app.post('/hooks/sms/:ws/status', { schema: { hide: true } }, async (req, reply) => {
    const { ws, params } = await twilio(req);
    const s = parseStatusCallback(params);
    if (!s) throw badRequest('MessageSid and MessageStatus are required', 'MessageSid');
    await smsStatus(svc, ws, s);
    return reply.status(204).send();
  });

  // Browser endpoints with the write key (the browser SDK): push subscriptions and the onsite feed.
  await app.register(async (browser) => {
    // Preflights are answered by the tracking API's CORS plugin (its OPTIONS * route serves the whole server; a second
    // one cannot be registered); the answers themselves get the CORS headers here.
    browser.addHook('onSend', async (req, reply) => {
      const origin = req.headers.origin;
      if (origin) reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    });
    const workspace = async (req: FastifyRequest) => {
      const h = req.headers.authorization;
      const key = h && /^basic /i.test(h) ? Buffer.from(h.slice(6).trim(), 'base64').toString('utf8').split(':')[0] : (req.query as { writeKey?: string }).writeKey;
      const info = key ? await authenticateKey(svc.store, key, 'write') : null;
      if (!info) throw new HttpError(401, 'unauthorized', 'missing or invalid write key');
      return info.workspaceId;
    };
    const visitor = async (ws: string, who: { userId?: unknown; anonymousId?: unknown; userHash?: unknown }) => {
      // A userId is a claim anyone holding the public write key could make: it must come with its userHash.
      if (typeof who.userId === 'string' && who.userId && !(await svc.settings.verifyUserHash(ws, who.userId, who.userHash))) {
        throw new HttpError(401, 'unauthorized', 'userHash is missing or wrong: your server computes hex(HMAC-SHA256(secret, userId)) with the secret from GET /api/messaging/identity-verification', 'userHash');
      }
      // The visitor's page/identify calls may still be on their way through identity processing: wait a little.
      for (let i = 0; i < 20; i++) {
        const id =
          (typeof who.userId === 'string' && who.userId ? await lookupProfile(svc.store.db, ws, 'user_id', who.userId) : null) ??
          (typeof who.anonymousId === 'string' && who.anonymousId ? await lookupProfile(svc.store.db, ws, 'anonymous_id', who.anonymousId) : null);
        if (id) return id;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new HttpError(404, 'unknown_visitor', 'no person with that userId/anonymousId yet: send a page or identify call first', 'anonymousId');
    };
    browser.get('/v1/push/vapid-public-key', { schema: { tags: ['browser'], summary: "The workspace's VAPID public key for PushManager.subscribe" } }, async (req) => ({ publicKey: await svc.settings.vapidPublicKey(await workspace(req)) }));
    browser.post('/v1/push/subscribe', { schema: { tags: ['browser'], summary: 'Register a web push subscription for a visitor' } }, async (req, reply) => {
      const ws = await workspace(req);
      const b = (req.body ?? {}) as { userId?: unknown; anonymousId?: unknown; userHash?: unknown; subscription?: { endpoint?: unknown; keys?: { p256dh?: unknown; auth?: unknown } } };
      const s = b.subscription;
      if (!s || typeof s.endpoint !== 'string' || !/^https?:\/\//.test(s.endpoint) || s.endpoint.length > 2000) throw badRequest('subscription.endpoint must be the push service URL', 'subscription.endpoint');
      if (typeof s.keys?.p256dh !== 'string' || !/^[A-Za-z0-9_-]{80,100}={0,2}$/.test(s.keys.p256dh)) throw badRequest('subscription.keys.p256dh must be the base64url P-256 public key', 'subscription.keys.p256dh');
      if (typeof s.keys?.auth !== 'string' || !/^[A-Za-z0-9_-]{16,24}={0,2}$/.test(s.keys.auth)) throw badRequest('subscription.keys.auth must be the base64url auth secret', 'subscription.keys.auth');
      const profileId = await visitor(ws, b);
      const now = svc.now();
      await svc.store.db
        .insertInto('push_subscriptions')
        .values({ workspace_id: ws, endpoint: s.endpoint, profile_id: profileId, keys: toJson({ p256dh: s.keys.p256dh, auth: s.keys.auth }), created_at: now })
        .onConflict((oc) => oc.columns(['workspace_id', 'endpoint']).doUpdateSet({ profile_id: profileId, keys: toJson({ p256dh: s.keys!.p256dh, auth: s.keys!.auth }), created_at: now }))
        .execute();
      // Keep the person's newest devices only.
      const keep = await svc.store.db.selectFrom('push_subscriptions').select('endpoint').where('workspace_id', '=', ws).where('profile_id', '=', profileId).orderBy('created_at', 'desc').limit(MAX_PUSH_DEVICES).execute();
      await svc.store.db.deleteFrom('push_subscriptions').where('workspace_id', '=', ws).where('profile_id', '=', profileId).where('endpoint', 'not in', keep.map((k) => k.endpoint)).execute();
      reply.status(201);
      return { profileId };
    });
    browser.get('/v1/onsite', { schema: { tags: ['browser'], summary: "A visitor's onsite message feed (not dismissed)" } }, async (req) => {
      const ws = await workspace(req);
      const q = req.query as { userId?: string; anonymousId?: string; userHash?: string };
      const profileId = await visitor(ws, q).catch((e: unknown) => {
        if (e instanceof HttpError && e.statusCode === 401) throw e;
        return null;
      });
      if (!profileId) return { messages: [] };
      const ids = (await svc.store.db.selectFrom('profiles').select('id').where('workspace_id', '=', ws).where('canonical_id', '=', profileId).execute()).map((r) => r.id);
      const rows = await svc.store.db
        .selectFrom('messages')
        .select(['id', 'onsite', 'sent_at', 'seen_at'])
        .where('workspace_id', '=', ws)
        .where('profile_id', 'in', ids)
        .where('channel', '=', 'onsite')
        .where('status', '=', 'sent')
        .where('dismissed_at', 'is', null)
        .orderBy('sent_at', 'desc')
        .limit(20)
        .execute();
      return { messages: rows.filter((r) => r.onsite).map((r) => ({ id: r.id, ...fromJson<Record<string, unknown>>(r.onsite), sentAt: Number(r.sent_at), seen: r.seen_at !== null })) };
    });
    browser.post('/v1/onsite/:id/:action', { schema: { tags: ['browser'], summary: 'Report an onsite message seen or dismissed' } }, async (req, reply) => {
      const ws = await workspace(req);
      const { id, action } = req.params as { id: string; action: string };
      if (action !== 'seen' && action !== 'dismissed') throw badRequest('action must be seen or dismissed', 'action');
      const q = req.query as { userId?: string; anonymousId?: string; userHash?: string };
      if (!q.userId && !q.anonymousId) throw badRequest('say who is reporting: anonymousId, or userId with userHash', 'anonymousId');
      const caller = await visitor(ws, q);
      const m = await svc.store.db.selectFrom('messages').select(['id', 'profile_id', 'seen_at', 'dismissed_at']).where('workspace_id', '=', ws).where('id', '=', id).where('channel', '=', 'onsite').executeTakeFirst();
      const canonical = m ? ((await svc.store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', m.profile_id).executeTakeFirst())?.canonical_id ?? m.profile_id) : null;
      // Someone else's message is as good as no message.
      if (!m || canonical !== caller) throw new HttpError(404, 'not_found', 'no such onsite message');
      const now = svc.now();
      await svc.store.db.transaction().execute(async (tx) => {
        if (action === 'seen' && m.seen_at === null) {
          await tx.updateTable('messages').set({ seen_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
          await insertLifecycleEvent(tx, ws, canonical, LIFECYCLE.opened, 'onsite', { messageId: id, human: true }, now);
        }
        if (action === 'dismissed' && m.dismissed_at === null) {
          await tx.updateTable('messages').set({ dismissed_at: now, ...(m.seen_at === null ? { seen_at: now } : {}) }).where('workspace_id', '=', ws).where('id', '=', id).execute();
          await insertLifecycleEvent(tx, ws, canonical, LIFECYCLE.dismissed, 'onsite', { messageId: id }, now);
        }
      });
      reply.status(204);
    });
  });
}
