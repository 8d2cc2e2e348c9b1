// What comes back from people and providers: opens and clicks (bots and privacy proxies flagged, not counted),
// unsubscribes and preference changes, SMS replies and keywords (STOP/START/HELP), delivery receipts, bounces and
// complaints. Each becomes a consent change, a suppression and/or an internal lifecycle event on the person.
import { setConsent } from '../profiles/consent.ts';
import { lookupProfile } from '../profiles/read.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { fromJson, toJson } from '../store/json.ts';
import { parseEmailFeedback } from '../channels/index.ts';
import { classifyClick, classifyOpen } from './links/index.ts';
import { LIFECYCLE, insertLifecycleEvent } from './lifecycle.ts';
import { excludedOf, logDecision, updateMessage } from './outbox.ts';
import type { MessagingService } from './service.ts';

export interface Claims {
  ws: string;
  m: string;
  p: string;
  t: string;
  c: string;
  u?: string;
}

async function canonicalOf(svc: MessagingService, ws: string, profileId: string): Promise<string | null> {
  return (await svc.store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', profileId).executeTakeFirst())?.canonical_id ?? null;
}

async function message(svc: MessagingService, ws: string, id: string) {
  return svc.store.db.selectFrom('messages').select(['id', 'profile_id', 'channel', 'sent_at', 'delivered_at', 'requested_channel', 'excluded', 'status']).where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
}

export interface HitInfo {
  userAgent: string;
  ip?: string;
  method: string;
}

/** Open pixel fetched. Machine opens (privacy proxies, scanners) are recorded with human: false. */
export async function recordOpen(svc: MessagingService, c: Claims, hit: HitInfo): Promise<void> {
  const m = await message(svc, c.ws, c.m);
  if (!m) return;
  const now = svc.now();
  const verdict = classifyOpen({ userAgent: hit.userAgent, ip: hit.ip, at: now, deliveredAt: Number(m.delivered_at ?? m.sent_at ?? now) });
  const who = (await canonicalOf(svc, c.ws, m.profile_id)) ?? m.profile_id;
  await svc.store.db.transaction().execute(async (tx) => {
    await insertLifecycleEvent(tx, c.ws, who, LIFECYCLE.opened, m.channel ?? c.c, { messageId: m.id, human: verdict.human, ...(verdict.reason ? { filtered: verdict.reason } : {}) }, now);
  });
}

/** Click on a tracked link: recorded, then the caller redirects to the signed destination. */
export async function recordClick(svc: MessagingService, c: Claims, url: string, hit: HitInfo): Promise<void> {
  const m = await message(svc, c.ws, c.m);
  if (!m) return;
  const now = svc.now();
  const recentRows = await svc.store.db
    .selectFrom('events')
    .select(['timestamp', 'properties'])
    .where('workspace_id', '=', c.ws)
    .where('event', '=', LIFECYCLE.clicked)
    .where('internal', '=', 1)
    .where('timestamp', '>', now - 10_000)
    .where('profile_id', '=', (await canonicalOf(svc, c.ws, m.profile_id)) ?? m.profile_id)
    .execute();
  // Scanner bursts: other links of this same message clicked in the last seconds (one per link).
  const seen = new Set<string>([url]);
  const recent: number[] = [];
  for (const r of recentRows) {
    const p = fromJson<{ messageId?: string; url?: string }>(r.properties);
    if (p.messageId !== m.id || !p.url || seen.has(p.url)) continue;
    seen.add(p.url);
    recent.push(Number(r.timestamp));
  }
  const verdict = classifyClick({ userAgent: hit.userAgent, ip: hit.ip, at: now, deliveredAt: Number(m.delivered_at ?? m.sent_at ?? now), method: hit.method, recentClicksSameMessage: recent });
  const who = (await canonicalOf(svc, c.ws, m.profile_id)) ?? m.profile_id;
  await svc.store.db.transaction().execute(async (tx) => {
    await insertLifecycleEvent(tx, c.ws, who, LIFECYCLE.clicked, m.channel ?? c.c, { messageId: m.id, url, human: verdict.human, ...(verdict.reason ? { filtered: verdict.reason } : {}) }, now);
  });
}

/** Unsubscribes the person from the message's topic on its channel (one click, RFC 8058, or the confirmation page). */
export async function unsubscribe(svc: MessagingService, c: Claims, source: string): Promise<{ topic: string; channel: string }> {
  const now = svc.now();
  const who = await canonicalOf(svc, c.ws, c.p);
  const topic = await svc.settings.topic(c.ws, c.t);
  // A transactional message's unsubscribe link stops marketing on that channel: receipts keep coming.
  const target = topic && !topic.transactional ? topic.id : 'marketing';
  if (!who) return { topic: target, channel: c.c }; // the person was erased: nothing of theirs is written again
  await svc.store.db.transaction().execute(async (tx) => {
    const changed = await setConsent(tx, c.ws, who, { channel: c.c, topic: target, state: 'unsubscribed' }, now, source);
    if (changed) {
      await insertLifecycleEvent(tx, c.ws, who, LIFECYCLE.unsubscribed, c.c, { messageId: c.m, topic: target, via: source }, now);
      await enqueueSegmentWork(tx, c.ws, new Map([[who, new Set(['consent'])]]), now);
    }
  });
  return { topic: target, channel: c.c };
}

/** Applies preference-centre changes (already validated against the workspace's topics and channels). */
export async function applyPreferences(svc: MessagingService, c: Claims, changes: { channel: string; topic: string; state: 'subscribed' | 'unsubscribed' | 'never_asked' }[]): Promise<void> {
  const now = svc.now();
  const who = await canonicalOf(svc, c.ws, c.p);
  if (!who) return; // the person was erased
  await svc.store.db.transaction().execute(async (tx) => {
    let any = false;
    for (const ch of changes) any = (await setConsent(tx, c.ws, who, ch, now, 'preference_centre')) || any;
    if (any) await enqueueSegmentWork(tx, c.ws, new Map([[who, new Set(['consent'])]]), now);
  });
}

export interface SmsInbound {
  from: string;
  to: string;
  body: string;
  messageSid: string;
  keyword: 'stop' | 'start' | 'help' | null;
}

/** An inbound SMS: keywords change consent (and answer as carriers require); anything else is a reply event. */
export async function smsInbound(svc: MessagingService, ws: string, msg: SmsInbound): Promise<{ reply: string | null }> {
  const now = svc.now();
  const who = await lookupProfile(svc.store.db, ws, 'phone', msg.from);
  const brand = await svc.settings.brand(ws);
  const name = brand.smsSenderName ?? brand.name;
  if (msg.keyword === 'stop') {
    await svc.store.db.transaction().execute(async (tx) => {
      // Suppressed by number too, so that even a person Omnia does not know yet is never texted again.
      await tx.insertInto('suppressions').values({ workspace_id: ws, channel: 'sms', address: msg.from, reason: 'replied STOP', created_at: now }).onConflict((oc) => oc.columns(['workspace_id', 'channel', 'address']).doNothing()).execute();
      if (who) {
        await setConsent(tx, ws, who, { channel: 'sms', topic: 'all', state: 'unsubscribed' }, now, 'sms_stop');
        await insertLifecycleEvent(tx, ws, who, LIFECYCLE.unsubscribed, 'sms', { via: 'STOP', body: msg.body }, now);
        await enqueueSegmentWork(tx, ws, new Map([[who, new Set(['consent'])]]), now);
      }
    });
    return { reply: `${name}: you are unsubscribed and will receive no more messages. Reply START to resubscribe.` };
  }
  if (msg.keyword === 'start') {
    await svc.store.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('suppressions').where('workspace_id', '=', ws).where('channel', '=', 'sms').where('address', '=', msg.from).where('reason', '=', 'replied STOP').execute();
      if (who) {
        await setConsent(tx, ws, who, { channel: 'sms', topic: 'all', state: 'subscribed' }, now, 'sms_start');
        await enqueueSegmentWork(tx, ws, new Map([[who, new Set(['consent'])]]), now);
      }
    });
    return { reply: `${name}: you are subscribed again. Reply STOP to unsubscribe, HELP for help.` };
  }
  if (msg.keyword === 'help') {
    return { reply: `${name}: reply STOP to unsubscribe. Help: ${brand.replyTo ?? brand.senderEmail}` };
  }
  if (who) {
    await svc.store.db.transaction().execute(async (tx) => {
      await insertLifecycleEvent(tx, ws, who, LIFECYCLE.replied, 'sms', { body: msg.body, from: msg.from, providerId: msg.messageSid }, now);
    });
  }
  return { reply: null };
}

/** A delivery receipt from the SMS provider: delivered, or undelivered/failed (→ next channel for "best"). */
export async function smsStatus(svc: MessagingService, ws: string, s: { messageSid: string; status: string; errorCode?: string | number | null }): Promise<boolean> {
  const now = svc.now();
  const m = await svc.store.db.selectFrom('messages').selectAll().where('workspace_id', '=', ws).where('provider_id', '=', s.messageSid).executeTakeFirst();
  if (!m) return false;
  const who = (await canonicalOf(svc, ws, m.profile_id)) ?? m.profile_id;
  await svc.store.db.transaction().execute(async (tx) => {
    // A receipt speaks for the SMS attempt only: after a fallback the message is on another channel.
    if (m.channel !== 'sms') return;
    if (s.status === 'delivered' && m.delivered_at === null && m.status === 'sent') {
      await updateMessage(tx, ws, m.id, { status: 'delivered', delivered_at: now }, now);
      await insertLifecycleEvent(tx, ws, who, LIFECYCLE.delivered, 'sms', { messageId: m.id }, now);
    } else if ((s.status === 'undelivered' || s.status === 'failed') && (m.status === 'sent' || m.status === 'sending')) {
      const error = `SMS ${s.status}${s.errorCode ? ` (error ${s.errorCode})` : ''}`;
      if (m.requested_channel === 'best') {
        await updateMessage(tx, ws, m.id, { status: 'queued', excluded: toJson([...new Set([...excludedOf(m), 'sms'])]), error, next_attempt_at: now, sent_at: null, provider_id: null }, now);
        await logDecision(tx, ws, { messageId: m.id, profileId: who, action: 'fallback', channel: 'sms', reason: `${error}; trying the next channel` }, now);
      } else {
        await updateMessage(tx, ws, m.id, { status: 'failed', error }, now);
        await logDecision(tx, ws, { messageId: m.id, profileId: who, action: 'failed', channel: 'sms', reason: `not delivered: ${error}` }, now);
        await insertLifecycleEvent(tx, ws, who, LIFECYCLE.failed, 'sms', { messageId: m.id, error }, now);
      }
    }
  });
  svc.wake();
  return true;
}

/** A bounce (DSN) or complaint (ARF): the address is suppressed, and a complaint also unsubscribes from marketing. */
export async function parseFeedbackReport(svc: MessagingService, ws: string, raw: Buffer) {
  const now = svc.now();
  const f = await parseEmailFeedback(raw);
  if (f.kind === 'unknown' || !f.recipient) return { kind: f.kind, recipient: f.recipient ?? null, messageId: null, suppressed: false };
  const recipient = f.recipient.trim().toLowerCase();
  const omniaId = f.originalMessageId ? /<?([^@<>\s]+)@/.exec(f.originalMessageId)?.[1] ?? null : null;
  const m = omniaId ? await message(svc, ws, omniaId) : undefined;
  const who = m ? ((await canonicalOf(svc, ws, m.profile_id)) ?? m.profile_id) : await lookupProfile(svc.store.db, ws, 'email', recipient);
  const suppress = f.kind === 'complaint' || f.permanent;
  await svc.store.db.transaction().execute(async (tx) => {
    if (suppress) {
      await tx
        .insertInto('suppressions')
        .values({ workspace_id: ws, channel: 'email', address: recipient, reason: f.kind === 'complaint' ? 'complaint (marked as spam)' : `hard bounce ${f.status ?? ''}`.trim(), created_at: now })
        .onConflict((oc) => oc.columns(['workspace_id', 'channel', 'address']).doNothing())
        .execute();
    }
    if (who) {
      const event = f.kind === 'complaint' ? LIFECYCLE.complained : LIFECYCLE.bounced;
      await insertLifecycleEvent(tx, ws, who, event, 'email', { messageId: m?.id ?? null, status: f.status ?? null, permanent: f.permanent }, now);
      if (f.kind === 'complaint') await setConsent(tx, ws, who, { channel: 'email', topic: 'all', state: 'unsubscribed' }, now, 'complaint');
    }
    if (m && f.kind === 'bounce' && f.permanent) await updateMessage(tx, ws, m.id, { status: 'failed', error: `bounced ${f.status ?? ''}`.trim() }, now);
  });
  return { kind: f.kind, recipient, messageId: m?.id ?? null, suppressed: suppress };
}
