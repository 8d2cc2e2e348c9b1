// Hands one decided message to its channel: renders the template version current at send time (and records it),
// adds the signed unsubscribe / tracking links and headers, calls the channel's adapter and records the outcome.
// Transient errors retry with exponential backoff (through the arbiter again); permanent ones fail the message — or,
// for "best channel", exclude that channel and let the arbiter pick the next one.
import { performance } from 'node:perf_hooks';
import { createChannelAdapter, type ChannelProviderConfig } from '../channels/index.ts';
import { profileComputed } from '../segments/computed.ts';
import { fromJson, toJson } from '../store/json.ts';
import { setConsent } from '../profiles/consent.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { createWebhookChannel } from './channel-webhook.ts';
import { LIFECYCLE, insertLifecycleEvent } from './lifecycle.ts';
import { type MessageRow, SEND_LEASE_MS, excludedOf, logDecision, renewLease, templatesOf, updateMessage } from './outbox.ts';
import { type LoadedPerson, loadPerson } from './person.ts';
import { instrumentEmailHtml } from './links/index.ts';
import { linkUrls } from './link-urls.ts';
import { RenderError, renderTemplate } from './templates/index.ts';
import type { MessagingService } from './service.ts';
import type { AnyProviderConfig } from './settings.ts';
import type { ChannelAdapter, ChannelName, RenderedContent, SendRequest, SendResult } from './types.ts';

/** Waits after the 1st, 2nd, … transient failure; after the last one the message is dead-lettered. */
export const RETRY_DELAYS_MS = [30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000, 6 * 60 * 60_000];

export interface DelivererOptions {
  clock: () => number;
  log?: (msg: string, err?: unknown) => void;
  allowPrivateNetwork: boolean;
}

export class Deliverer {
  private adapters = new Map<string, { stamp: number; adapter: ChannelAdapter }>();
  /** Per (workspace, channel): the earliest moment the next send may start, for the provider's rate limit. */
  private nextSlot = new Map<string, number>();

  constructor(
    private readonly svc: MessagingService,
    private readonly opts: DelivererOptions,
  ) {}

  async close(): Promise<void> {
    for (const a of this.adapters.values()) await a.adapter.close().catch(() => {});
    this.adapters.clear();
  }

  /** The workspace's adapter for a channel, rebuilt whenever its settings change. */
  async adapter(ws: string, channel: ChannelName): Promise<ChannelAdapter | null> {
    const p = await this.svc.settings.provider(ws, channel);
    if (!p) return null;
    const key = `${ws}\n${channel}`;
    const cached = this.adapters.get(key);
    if (cached && cached.stamp === p.stamp) return cached.adapter;
    if (cached) await cached.adapter.close().catch(() => {});
    const adapter = this.build(channel, p.config);
    this.adapters.set(key, { stamp: p.stamp, adapter });
    return adapter;
  }

  /** Spaces sends to a provider with a rate limit (per worker process): waits for this send's slot. */
  private async throttle(ws: string, channel: ChannelName): Promise<void> {
    const rate = (await this.svc.settings.provider(ws, channel))?.ratePerSecond;
    if (!rate) return;
    const key = `${ws}\n${channel}`;
    const t = performance.now();
    const slot = Math.max(t, this.nextSlot.get(key) ?? 0);
    this.nextSlot.set(key, slot + 1000 / rate);
    if (slot > t) await new Promise((r) => setTimeout(r, slot - t));
  }

  private build(channel: ChannelName, config: AnyProviderConfig): ChannelAdapter {
    if (config.channel === 'webhook') {
      return createWebhookChannel({ url: config.url, secret: config.secret, allowPrivateNetwork: config.allowPrivateNetwork === true || this.opts.allowPrivateNetwork, clock: this.opts.clock });
    }
    const c = config as ChannelProviderConfig;
    return createChannelAdapter(channel, c.provider, c);
  }

  async deliver(ws: string, row: MessageRow, channel: ChannelName, known: LoadedPerson | null = null): Promise<void> {
    const now = this.opts.clock();
    let outcome: SendResult;
    let to: string | null = null;
    let templateId: string | null = null;
    let version: number | null = null;
    try {
      const prepared = await this.prepare(ws, row, channel, now, known);
      to = prepared.toLabel;
      templateId = prepared.templateId;
      version = prepared.version;
      await this.throttle(ws, channel);
      // Renew the lease right before handing the message over: if it ran out meanwhile (a long throttle, a slow
      // provider) and another worker took the message, this worker must not send it too.
      const lease = this.opts.clock() + SEND_LEASE_MS;
      if (!(await renewLease(this.svc.store.db, ws, row.id, row.next_attempt_at, lease))) {
        this.opts.log?.(`message ${row.id}: lease lost before sending; another worker has it`);
        return;
      }
      row = { ...row, next_attempt_at: lease };
      outcome = await prepared.send();
    } catch (err) {
      if (err instanceof RenderError) outcome = { status: 'permanent', error: `template: ${err.message}` };
      else if (err instanceof PrepareError) outcome = { status: 'permanent', error: err.message, ...(err.expired ? { expired: true } : {}) };
      else {
        this.opts.log?.(`message ${row.id}: delivery failed`, err);
        outcome = { status: "transient", error: (err as Error).message };
      }
    }
    await this.record(ws, row, channel, outcome, { to, templateId, version, profileId: known?.profile.id });
  }

  private async prepare(ws: string, row: MessageRow, channel: ChannelName, now: number, known: LoadedPerson | null) {
    const svc = this.svc;
    const templateId = templatesOf(row)[channel];
    if (!templateId) throw new PrepareError(`no ${channel} template for this message`);
    const tpl = await svc.templates.get(ws, templateId);
    const canonical = known ? known.profile.id : (await svc.store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', row.profile_id).executeTakeFirst())?.canonical_id;
    const person = known ?? (canonical ? await loadPerson(svc.store.db, ws, canonical, now) : null);
    if (!person) throw new PrepareError('the person no longer exists');
    const [brand, partials, key] = await Promise.all([svc.settings.brand(ws), svc.templates.partials(ws), svc.settings.linkKey(ws)]);
    // Computed properties cost a read of the person's history: only when the template or a block uses them.
    const usesComputed = JSON.stringify(tpl.source).includes('computed') || Object.values(partials).some((b) => b.includes('computed'));
    const computed = usesComputed ? await profileComputed(svc.store, svc.segments, ws, person.profile.id).catch(() => ({})) : {};
    const urls = linkUrls(svc.opts.publicUrl, key, { ws, m: row.id, p: person.profile.id, t: row.topic, c: channel }, now);
    const context = fromJson<{ event?: { name: string; properties: Record<string, unknown>; timestamp?: number }; items?: Record<string, unknown>[]; data?: Record<string, unknown> }>(row.context);
    const { content } = await renderTemplate(
      tpl.source,
      {
        profile: { id: person.profile.id, email: person.email, phone: person.phone, traits: person.profile.traits, timeZone: person.profile.timeZone },
        event: context.event ?? null,
        computed: computed as Record<string, unknown>,
        items: context.items ?? [],
        links: { unsubscribeUrl: urls.unsubscribe, preferencesUrl: urls.preferences },
        message: { id: row.id },
      },
      { brand, partials },
    );
    const adapterFor = async () => {
      const a = await this.adapter(ws, channel);
      if (!a) throw new PrepareError(`no ${channel} provider is configured`);
      return a;
    };
    const base = { messageId: row.id, workspaceId: ws, profileId: person.profile.id, topic: row.topic };
    const one = (req: SendRequest) => async () => (await adapterFor()).send(req);
    switch (channel) {
      case 'email': {
        if (!person.email || content.channel !== 'email') throw new PrepareError('the person has no email address');
        const email = { ...content.email, html: instrumentEmailHtml(content.email.html, { clickUrl: (u: string) => urls.click(u), pixelUrl: urls.open, publicUrl: svc.opts.publicUrl }) };
        const hdrs = urls.listUnsubscribeHeaders(brand.senderEmail);
        return { toLabel: person.email, templateId, version: tpl.version, send: one({ ...base, to: person.email, content: { channel: 'email', email }, headers: hdrs }) };
      }
      case 'sms':
        if (!person.phone) throw new PrepareError('the person has no phone number');
        return { toLabel: person.phone, templateId, version: tpl.version, send: one({ ...base, to: person.phone, content }) };
      case 'push': {
        if (person.push.length === 0) throw new PrepareError('the person has no push subscription', true);
        // Every device the person subscribed on; gone ones are removed, and it counts as sent if any device took it.
        const send = async (): Promise<SendResult> => {
          const a = await adapterFor();
          let last: SendResult = { status: 'permanent', error: 'no subscription', expired: true };
          let sent: SendResult | null = null;
          for (const sub of person.push) {
            const r = await a.send({ ...base, to: sub, content });
            if (r.status === 'permanent' && r.expired) {
              await svc.store.db.deleteFrom('push_subscriptions').where('workspace_id', '=', ws).where('endpoint', '=', sub.endpoint).execute();
              await enqueueSegmentWork(svc.store.db, ws, new Map([[person.profile.id, new Set(['consent'])]]));
            }
            if (r.status === 'sent') sent = r;
            else if (last.status !== 'transient') last = r;
          }
          return sent ?? last;
        };
        return { toLabel: `${person.push.length} push subscription(s)`, templateId, version: tpl.version, send };
      }
      case 'onsite': {
        if (content.channel !== 'onsite') throw new PrepareError('onsite template rendered another channel');
        const send = async (): Promise<SendResult> => {
          await svc.store.db.updateTable('messages').set({ onsite: toJson(content.onsite) }).where('workspace_id', '=', ws).where('id', '=', row.id).execute();
          return { status: 'sent' };
        };
        return { toLabel: 'onsite feed', templateId, version: tpl.version, send };
      }
      case 'webhook':
        return { toLabel: 'workspace webhook', templateId, version: tpl.version, send: one({ ...base, to: '', content: content as RenderedContent }) };
    }
  }

  private async record(ws: string, row: MessageRow, channel: ChannelName, r: SendResult, meta: { to: string | null; templateId: string | null; version: number | null; profileId?: string }): Promise<void> {
    const now = this.opts.clock();
    const db = this.svc.store.db;
    const profileId = meta.profileId ?? (await db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', row.profile_id).executeTakeFirst())?.canonical_id ?? row.profile_id;
    const common = { to_address: meta.to, template_id: meta.templateId, template_version: meta.version, channel };
    let recorded = true;
    await db.transaction().execute(async (tx) => {
      // Only the lease's holder records the outcome (and this locks the row for the rest of the transaction).
      if (!(await renewLease(tx, ws, row.id, row.next_attempt_at, row.next_attempt_at))) {
        recorded = false;
        return;
      }
      if (r.status === 'sent') {
        await updateMessage(tx, ws, row.id, { ...common, status: 'sent', provider_id: r.providerId ?? null, error: null, sent_at: now }, now);
        await insertLifecycleEvent(tx, ws, profileId, LIFECYCLE.sent, channel, { messageId: row.id, templateId: meta.templateId, templateVersion: meta.version, topic: row.topic, source: row.source }, now);
        return;
      }
      if (r.status === 'transient') {
        const attempts = row.attempts + 1;
        if (attempts <= RETRY_DELAYS_MS.length) {
          const wait = Math.max(RETRY_DELAYS_MS[attempts - 1]!, r.retryAfterMs ?? 0);
          await updateMessage(tx, ws, row.id, { ...common, status: 'retry', attempts, error: r.error, next_attempt_at: now + wait, sent_at: null }, now);
          await logDecision(tx, ws, { messageId: row.id, profileId, action: 'retry', channel, until: now + wait, reason: `${channel} failed temporarily (${r.error}); attempt ${attempts + 1} at ${new Date(now + wait).toISOString()}` }, now);
          return;
        }
        await this.fail(tx, ws, row, profileId, channel, `gave up after ${attempts} attempts: ${r.error}`, common, now);
        return;
      }
      // Permanent: the address may be gone (push 404/410, a number that no longer exists) or bounced.
      if (r.bounce && channel === 'email' && meta.to) {
        await tx.insertInto('suppressions').values({ workspace_id: ws, channel: 'email', address: meta.to, reason: `hard bounce: ${r.error}`, created_at: now }).onConflict((oc) => oc.columns(['workspace_id', 'channel', 'address']).doNothing()).execute();
        await insertLifecycleEvent(tx, ws, profileId, LIFECYCLE.bounced, channel, { messageId: row.id, error: r.error }, now);
      }
      if (channel === 'sms' && r.error.startsWith('unsubscribed:')) {
        await setConsent(tx, ws, profileId, { channel: 'sms', topic: 'all', state: 'unsubscribed' }, now, 'carrier');
      }
      if (row.requested_channel === 'best') {
        const excluded = [...new Set([...excludedOf(row), channel])];
        await updateMessage(tx, ws, row.id, { ...common, status: 'queued', excluded: toJson(excluded), error: r.error, next_attempt_at: now, sent_at: null }, now);
        await logDecision(tx, ws, { messageId: row.id, profileId, action: 'fallback', channel, reason: `${channel} failed (${r.error}${r.expired ? (channel === 'push' ? '; the subscription is gone and was removed' : '; the address is not usable') : ''}); trying the next channel` }, now);
        return;
      }
      await this.fail(tx, ws, row, profileId, channel, r.error, common, now);
    });
    if (!recorded) this.opts.log?.(`message ${row.id}: outcome (${r.status}) not recorded: the lease was taken over`);
    if (r.status !== 'sent') this.svc.wake();
  }

  private async fail(tx: Parameters<typeof updateMessage>[0], ws: string, row: MessageRow, profileId: string, channel: ChannelName, error: string, common: object, now: number) {
    await updateMessage(tx, ws, row.id, { ...common, status: 'failed', error, sent_at: null }, now);
    await logDecision(tx, ws, { messageId: row.id, profileId, action: 'failed', channel, reason: `not sent: ${error}` }, now);
    await insertLifecycleEvent(tx, ws, profileId, LIFECYCLE.failed, channel, { messageId: row.id, error }, now);
  }
}

class PrepareError extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}
