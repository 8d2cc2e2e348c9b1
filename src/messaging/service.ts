// The messaging pipeline. Producers (the send API, journeys, broadcasts) put messages in the outbox; a worker takes the
// due ones, and for each person, in one transaction holding that person's lock: asks the arbiter (consent,
// suppression, caps, quiet hours, priority, channel choice), writes every decision to the decision log and marks what
// may go as 'sending'. Then, outside the transaction, it renders and hands each message to its channel, and records
// the outcome (sent, retry with backoff, failed → fallback to the next channel for "best").
import type { Secrets } from '../app/secrets.ts';
import type { Clock, SegmentEngine } from '../segments/engine.ts';
import { turn } from '../segments/engine.ts';
import type { Store } from '../store/db.ts';
import { type Decision, type MessageIntent, arbitrate } from './arbiter/index.ts';
import { Deliverer } from './deliver.ts';
import { type EnqueueInput, type MessageRow, SEND_LEASE_MS, dueMessages, enqueueMessage, excludedOf, lockDue, lockPerson, logDecision, templatesOf, updateMessage } from './outbox.ts';
import { type LoadedPerson, loadPerson } from './person.ts';
import { MessagingSettings } from './settings.ts';
import { TemplateStore } from './template-store.ts';
import type { ChannelName } from './types.ts';

export { SEND_LEASE_MS } from './outbox.ts';

export interface MessagingOptions {
  clock?: Clock;
  log?: (msg: string, err?: unknown) => void;
  /** Base of tracking, unsubscribe and preference links (OMNIA_PUBLIC_URL). */
  publicUrl: string;
  pollMs?: number;
  batchSize?: number;
  /** Messages handed to channels at once (default 16). */
  concurrency?: number;
  /** Loopback/private destinations for webhook and push channels (tests, development). */
  allowPrivateNetwork?: boolean;
}

/**
 * A producer's last word before the arbiter (journeys: was the promoted product bought meanwhile? did a live
 * broadcast's recipient leave the audience?). Returns the messages to cancel, with the reason for the decision log.
 */
export type PreCheck = (tx: Parameters<typeof lockDue>[0], ws: string, profileId: string, rows: MessageRow[], now: number) => Promise<Map<string, { code: string; reason: string }>>;

interface Send {
  ws: string;
  row: MessageRow;
  channel: ChannelName;
  /** The person as the arbiter saw them a moment ago (saves loading them again to render). */
  person: LoadedPerson | null;
}

/** Runs `fn` over `items` with at most `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

export class MessagingService {
  readonly settings: MessagingSettings;
  readonly templates: TemplateStore;
  readonly deliverer: Deliverer;
  readonly preChecks: PreCheck[] = [];
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    readonly store: Store,
    readonly segments: SegmentEngine,
    secrets: Secrets,
    readonly opts: MessagingOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.settings = new MessagingSettings(store, secrets);
    this.templates = new TemplateStore(store);
    this.deliverer = new Deliverer(this, { clock: this.clock, log: opts.log, allowPrivateNetwork: opts.allowPrivateNetwork === true });
  }

  now(): number {
    return this.clock();
  }

  /** Puts a message in the outbox (idempotent per source + step + person) and wakes the worker. */
  async enqueue(input: EnqueueInput): Promise<{ id: string; created: boolean }> {
    const r = await enqueueMessage(this.store.db, input, this.clock());
    this.wake();
    return r;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.deliverer.close();
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.loop();
    }, ms);
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const n = await this.round();
          if (n > 0) this.again = true;
          await turn();
        } while (this.again && !this.stopped);
      } catch (err) {
        this.opts.log?.('messaging worker round failed', err);
      }
    })();
    await this.running;
    this.running = null;
    this.schedule(this.opts.pollMs ?? 500);
  }

  /** Waits for the background round in flight (if any), then runs rounds until nothing is due (tests). */
  async idle(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.running) await this.running;
      if ((await this.round()) === 0 && !this.running) return;
    }
  }

  /** Runs rounds until nothing is due at the current clock (tests and the CLI). */
  async drain(): Promise<void> {
    for (let i = 0; i < 10_000; i++) if ((await this.round()) === 0) return;
  }

  /** One round: everything due now, person by person. Returns how many messages were acted on. */
  async round(): Promise<number> {
    const now = this.clock();
    const due = await dueMessages(this.store, now, this.opts.batchSize ?? 200);
    if (due.length === 0) return 0;
    const byPerson = new Map<string, { ws: string; profileId: string; ids: string[] }>();
    for (const d of due) {
      const k = `${d.workspace_id}\n${d.profile_id}`;
      const g = byPerson.get(k) ?? { ws: d.workspace_id, profileId: d.profile_id, ids: [] };
      g.ids.push(d.id);
      byPerson.set(k, g);
    }
    let acted = 0;
    const sends: Send[] = [];
    // Each person's decisions run in their own transaction under their lock: on PostgreSQL several people at once
    // (one connection each), on SQLite one after another (one writer anyway).
    const groups = [...byPerson.values()];
    await pool(groups, this.store.dialect === 'postgres' ? 6 : 1, async (g) => {
      try {
        acted += await this.person(g.ws, g.profileId, g.ids, now, sends);
      } catch (err) {
        // One person's failure (a database error, a provider secret that no longer decrypts) must not stop everyone
        // else's messages: log it and look at this person's messages again a minute later.
        this.opts.log?.(`messaging: deciding for ${g.ws}/${g.profileId} failed; retrying in 60 s`, err);
        await this.store.db
          .updateTable('messages')
          .set({ next_attempt_at: now + 60_000 })
          .where('workspace_id', '=', g.ws)
          .where('id', 'in', g.ids)
          .where('status', 'in', ['queued', 'deferred', 'retry'])
          .execute()
          .catch(() => {});
        acted += 1;
      }
    });
    // The sends then go out concurrently (SMTP pools, provider round trips).
    await pool(sends, this.opts.concurrency ?? 16, (s) => this.deliverer.deliver(s.ws, s.row, s.channel, s.person));
    return acted;
  }

  private async person(ws: string, profileId: string, ids: string[], now: number, sends: Send[]): Promise<number> {
    const canonical = (await this.store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', profileId).executeTakeFirst())?.canonical_id;
    const toSend: { row: MessageRow; decision: Extract<Decision, { action: 'send' }> }[] = [];
    let loaded: LoadedPerson | null = null;
    const policy = await this.settings.policy(ws);
    const topics = await this.settings.topics(ws);
    const configured = new Set<ChannelName>(['onsite']);
    for (const ch of ['email', 'sms', 'push', 'webhook'] as const) if (await this.settings.provider(ws, ch)) configured.add(ch);
    let count = 0;
    await this.store.db.transaction().execute(async (tx) => {
      await lockPerson(tx, this.store.dialect, ws, canonical ?? profileId);
      const rows = await lockDue(tx, this.store.dialect, ws, ids, now);
      count = rows.length;
      if (rows.length === 0) return;
      const person = canonical ? await loadPerson(tx, ws, canonical, now) : null;
      loaded = person;
      if (!person) {
        for (const r of rows) {
          await logDecision(tx, ws, { messageId: r.id, profileId, action: 'skip', code: 'no_profile', reason: 'skipped: the person no longer exists (deleted)' }, now);
          await updateMessage(tx, ws, r.id, { status: 'skipped', error: 'person deleted' }, now);
        }
        return;
      }
      // A message in 'sending' whose lease ran out was taken by a worker that died: send it again (same message id,
      // so the provider and the recipient's mail system can tell it is the same message).
      const resend = rows.filter((r) => r.status === 'sending' && r.channel);
      for (const r of resend) {
        await logDecision(tx, ws, { messageId: r.id, profileId: person.profile.id, action: 'send', channel: r.channel, reason: `resending on ${r.channel}: the previous attempt's worker stopped before recording the result` }, now);
        await updateMessage(tx, ws, r.id, { next_attempt_at: now + SEND_LEASE_MS }, now);
        toSend.push({ row: { ...r, status: 'sending', next_attempt_at: now + SEND_LEASE_MS }, decision: { id: r.id, action: 'send', channel: r.channel as ChannelName, reason: 'resend after lease' } });
      }
      let fresh = rows.filter((r) => !(r.status === 'sending' && r.channel));
      for (const check of this.preChecks) {
        const blocked = await check(tx, ws, person.profile.id, fresh, now);
        for (const [id, b] of blocked) {
          await logDecision(tx, ws, { messageId: id, profileId: person.profile.id, action: 'skip', code: b.code, reason: b.reason }, now);
          await updateMessage(tx, ws, id, { status: 'cancelled', error: b.reason }, now);
        }
        if (blocked.size) fresh = fresh.filter((r) => !blocked.has(r.id));
      }
      const rowById0 = new Map(fresh.map((r) => [r.id, r]));
      const intents: MessageIntent[] = fresh.map((r) => {
        const templated = templatesOf(r);
        // A channel without a template for this message, or without a provider, cannot carry it.
        const unusable = (['email', 'sms', 'push', 'onsite', 'webhook'] as const).filter((c) => !templated[c] || !configured.has(c));
        const topic = topics.find((t) => t.id === r.topic);
        return {
          id: r.id,
          channel: r.requested_channel as ChannelName | 'best',
          topic: r.topic,
          transactional: r.transactional === 1 || topic?.transactional === true,
          priority: r.priority,
          notBefore: r.not_before ?? undefined,
          exclude: [...new Set([...excludedOf(r), ...unusable])],
        };
      });
      // A named channel that cannot carry the message (no provider, no template) is skipped with that reason, not
      // "already tried"; the rest go to the arbiter.
      const unusableNamed: Decision[] = [];
      const decidable = intents.filter((i) => {
        if (i.channel === 'best' || !(i.exclude ?? []).includes(i.channel) || excludedOf(rowById0.get(i.id)!).includes(i.channel)) return true;
        const why = configured.has(i.channel) ? `this message has no ${i.channel} template` : `no ${i.channel} provider is configured (PUT /api/messaging/providers/${i.channel})`;
        unusableNamed.push({ id: i.id, action: 'skip', code: 'no_channel', reason: `skip: ${why}` });
        return false;
      });
      const decisions = [...unusableNamed, ...arbitrate(decidable, person.state, policy, now)];
      const rowById = new Map(fresh.map((r) => [r.id, r]));
      for (const d of decisions) {
        const row = rowById.get(d.id)!;
        if (d.action === 'send') {
          await logDecision(tx, ws, { messageId: d.id, profileId: person.profile.id, action: d.reroutedFrom ? 'reroute' : 'send', channel: d.channel, reason: d.reason }, now);
          await updateMessage(tx, ws, d.id, { status: 'sending', channel: d.channel, sent_at: now, next_attempt_at: now + SEND_LEASE_MS }, now);
          toSend.push({ row: { ...row, channel: d.channel, status: 'sending', next_attempt_at: now + SEND_LEASE_MS }, decision: d });
        } else if (d.action === 'defer') {
          await logDecision(tx, ws, { messageId: d.id, profileId: person.profile.id, action: 'defer', channel: d.channel, until: d.until, reason: d.reason }, now);
          await updateMessage(tx, ws, d.id, { status: 'deferred', next_attempt_at: d.until }, now);
        } else {
          await logDecision(tx, ws, { messageId: d.id, profileId: person.profile.id, action: 'skip', code: d.code, reason: d.reason }, now);
          await updateMessage(tx, ws, d.id, { status: 'skipped', error: d.reason }, now);
        }
      }
    });
    for (const s of toSend) sends.push({ ws, row: s.row, channel: s.decision.channel, person: loaded });
    return count;
  }
}
