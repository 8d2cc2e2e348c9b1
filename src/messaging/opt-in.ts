// Double opt-in for email: the person's consent for a topic stays as it is until they confirm from a link in a
// confirmation email. The link opens a page with a button (mail scanners fetch every link; only the POST confirms),
// and confirming records consent 'subscribed' with source 'double_opt_in' on the timeline.
import { badRequest, notFound } from '../app/errors.ts';
import { setConsent } from '../profiles/consent.ts';
import { resolveCanonical } from '../profiles/read.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { signToken } from './links/index.ts';
import { insertLifecycleEvent } from './lifecycle.ts';
import type { MessagingService } from './service.ts';

const CONFIRM_LINK_MS = 7 * 86_400_000;
const SYSTEM_TEMPLATE = 'Confirm your subscription (built in)';

/** The workspace's confirmation template: the one named, or a built-in one created on first use. */
async function confirmationTemplate(svc: MessagingService, ws: string, templateId?: string): Promise<string> {
  if (templateId) {
    const t = await svc.templates.get(ws, templateId).catch(() => null);
    if (!t || t.channel !== 'email' || t.status !== 'active') throw badRequest(`template ${templateId} is not an active email template`, 'templateId');
    return t.id;
  }
  const existing = (await svc.templates.list(ws)).find((t) => t.name === SYSTEM_TEMPLATE);
  if (existing) return existing.id;
  const created = await svc.templates.create(ws, SYSTEM_TEMPLATE, {
    channel: 'email',
    subject: 'Please confirm your subscription',
    mjml: `<mj-section><mj-column>
  <mj-text>Hi {{ profile.traits.first_name | default: "there" }}, please confirm that you want to hear from us.</mj-text>
  <mj-button href="{{ event.properties.confirm_url }}">Confirm subscription</mj-button>
  <mj-text>If you did not sign up, ignore this email: nothing will be sent to you.</mj-text>
</mj-column></mj-section>`,
  });
  return created.id;
}

export async function requestOptIn(svc: MessagingService, ws: string, profileRef: string, input: { topic?: string; templateId?: string }) {
  const profileId = await resolveCanonical(svc.store.db, ws, profileRef);
  if (!profileId) throw notFound(`profile ${profileRef} not found`);
  const topic = await svc.settings.topic(ws, input.topic ?? 'marketing');
  if (!topic) throw badRequest(`unknown topic ${input.topic}`, 'topic');
  if (topic.transactional) throw badRequest('transactional topics need no opt-in', 'topic');
  const now = svc.now();
  const key = await svc.settings.linkKey(ws);
  const token = signToken(key, 'confirm', { ws, p: profileId, t: topic.id, c: 'email' }, { expiresAt: now + CONFIRM_LINK_MS });
  const confirmUrl = `${svc.opts.publicUrl.replace(/\/+$/, '')}/c/${encodeURIComponent(ws)}/${token}`;
  const templateId = await confirmationTemplate(svc, ws, input.templateId);
  // The confirmation itself is transactional (the person asked for it); one per person, topic and day.
  const r = await svc.enqueue({
    workspaceId: ws,
    profileId,
    source: 'double_opt_in',
    step: `${topic.id}:${new Date(now).toISOString().slice(0, 10)}`,
    channel: 'email',
    templates: { email: templateId },
    topic: 'transactional',
    transactional: true,
    priority: 90,
    context: { event: { name: 'Opt-in Requested', properties: { topic: topic.id, confirm_url: confirmUrl } } },
  });
  return { messageId: r.id, created: r.created, profileId, topic: topic.id };
}

export async function confirmOptIn(svc: MessagingService, c: { ws: string; p: string; t: string }): Promise<void> {
  const now = svc.now();
  const who = await resolveCanonical(svc.store.db, c.ws, c.p);
  if (!who) return; // the person was erased meanwhile
  await svc.store.db.transaction().execute(async (tx) => {
    const changed = await setConsent(tx, c.ws, who, { channel: 'email', topic: c.t, state: 'subscribed' }, now, 'double_opt_in');
    if (changed) {
      await insertLifecycleEvent(tx, c.ws, who, 'Opt-in Confirmed', 'email', { topic: c.t }, now);
      await enqueueSegmentWork(tx, c.ws, new Map([[who, new Set(['consent'])]]), now);
    }
  });
}

