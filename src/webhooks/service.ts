// Outbound webhooks: subscriptions, the durable outbox, and the delivery worker.
//
// - Producers: segment membership changes (SegmentEngine.subscribeInTransaction, in the same transaction) and any
//   module through emit().
//   Each event that matches a subscription becomes one outbox row per subscription, with the exact body to send.
// - Workers claim due rows (`UPDATE … WHERE (ws, id) IN (SELECT … FOR UPDATE SKIP LOCKED)` on PostgreSQL, so workers
//   in several processes never take the same row; on SQLite one in-process worker) by leasing them: the claim bumps
//   the attempt count and pushes next_attempt_at past the lease, so a worker that dies mid-request leaves a row that
//   another worker retries after the lease. Results are written only by the claim's holder.
// - Delivery is at least once: receivers dedupe on Omnia-Webhook-Id (the event id, stable across retries).
import { randomUUID } from 'node:crypto';
import { type Kysely, type Transaction, sql } from 'kysely';
import { HttpError, notFound } from '../app/errors.ts';
import { type Secrets, secretsFor } from '../app/secrets.ts';
import type { Clock, MembershipChange, SegmentEngine } from '../segments/engine.ts';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB, WebhookDeliveriesTable, WebhooksTable } from '../store/types.ts';
import { PING, checkEventFilter, eventType, matchesEventFilter } from './events.ts';
import { type AttemptResult, sendWebhook } from './send.ts';
import { generateSecret, signatureHeader } from './sign.ts';
import { BlockedAddressError, type Resolver, checkHost, hostOf, systemResolver } from './ssrf.ts';

type Tx = Transaction<DB> | Kysely<DB>;
type WebhookRow = WebhooksTable;
type DeliveryRow = Omit<WebhookDeliveriesTable, 'attempts'> & { attempts: number };

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** Waits after the 1st, 2nd, … failed attempt; one more failure after the last wait and the delivery has failed. */
export const RETRY_DELAYS_MS = [30 * SECOND, 2 * MINUTE, 10 * MINUTE, HOUR, 6 * HOUR];
/** A claimed row is someone's for this long (well above the request timeout). */
const LEASE_MS = 2 * MINUTE;
const MAX_SUBSCRIPTIONS = 100;

export interface WebhookEventInput {
  workspaceId: string;
  /** A registered type (events.ts). */
  type: string;
  data: Record<string, unknown>;
  /** For segment-scoped types: matched against a subscription's segmentIds filter. */
  segmentId?: string;
  /** The person the event is about (their deliveries are erased with them: forgetWebhookDeliveries). */
  profileId?: string;
}

export interface WebhookConfig {
  /** Per-attempt deadline (connect + request + response). */
  timeoutMs: number;
  /** DNS used by the SSRF guard (at save time and inside every delivery's socket lookup). */
  resolve: Resolver;
  retryDelaysMs: number[];
  /** 0..1; the wait is delay × (1 + 0.2 × jitter()): never earlier than the schedule, spread over +20 %. */
  jitter: () => number;
  /** Finished deliveries (and their attempts) older than this are pruned. */
  retentionMs: number;
}

export interface WebhookServiceOptions extends Partial<WebhookConfig> {
  clock?: Clock;
  log?: (msg: string, err?: unknown) => void;
  pollMs?: number;
  batchSize?: number;
  concurrency?: number;
}

export interface SubscriptionInput {
  url?: string;
  events?: string[];
  segmentIds?: string[] | null;
  enabled?: boolean;
  allowPrivateNetwork?: boolean;
  description?: string;
}

const bad = (message: string, field: string) => new HttpError(400, 'invalid_request', message, field);

/** Shape checks of a create/update body; names the offending field. */
export function parseSubscriptionInput(body: unknown, partial: boolean): SubscriptionInput {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  const known = ['url', 'events', 'segmentIds', 'enabled', 'allowPrivateNetwork', 'description'];
  for (const k of Object.keys(b)) if (!known.includes(k)) throw bad(`unknown field ${k}`, k);
  const out: SubscriptionInput = {};
  if (b.url !== undefined || !partial) {
    if (typeof b.url !== 'string' || !b.url.trim()) throw bad('url is required: the https URL to deliver to', 'url');
    if (b.url.length > 2048) throw bad('url must be at most 2048 characters', 'url');
    out.url = b.url.trim();
  }
  if (b.events !== undefined || !partial) {
    if (!Array.isArray(b.events) || !b.events.length) throw bad('events must be a non-empty array of event types (e.g. ["segment.entered"])', 'events');
    if (b.events.length > 50) throw bad('at most 50 event types', 'events');
    b.events.forEach((e, i) => {
      if (typeof e !== 'string') throw bad('event types are strings', `events.${i}`);
      const why = checkEventFilter(e);
      if (why) throw bad(why, `events.${i}`);
    });
    out.events = [...new Set(b.events as string[])];
  }
  if (b.segmentIds !== undefined) {
    if (b.segmentIds === null) out.segmentIds = null;
    else {
      if (!Array.isArray(b.segmentIds) || !b.segmentIds.length) throw bad('segmentIds must be a non-empty array of segment ids, or null for every segment', 'segmentIds');
      if (b.segmentIds.length > 100) throw bad('at most 100 segment ids', 'segmentIds');
      b.segmentIds.forEach((s, i) => {
        if (typeof s !== 'string' || !s || s.length > 100) throw bad('segment ids are non-empty strings', `segmentIds.${i}`);
      });
      out.segmentIds = [...new Set(b.segmentIds as string[])];
    }
  }
  for (const k of ['enabled', 'allowPrivateNetwork'] as const) {
    if (b[k] !== undefined) {
      if (typeof b[k] !== 'boolean') throw bad(`${k} must be true or false`, k);
      out[k] = b[k] as boolean;
    }
  }
  if (b.description !== undefined) {
    if (typeof b.description !== 'string' || b.description.length > 500) throw bad('description must be a string of at most 500 characters', 'description');
    out.description = b.description;
  }
  return out;
}

export class WebhookService {
  readonly config: WebhookConfig;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private lastPrune = 0;

  constructor(
    private readonly store: Store,
    readonly secrets: Secrets,
    private readonly opts: WebhookServiceOptions = {},
  ) {
    this.config = {
      timeoutMs: opts.timeoutMs ?? 10 * SECOND,
      resolve: opts.resolve ?? systemResolver,
      retryDelaysMs: opts.retryDelaysMs ?? RETRY_DELAYS_MS,
      jitter: opts.jitter ?? Math.random,
      retentionMs: opts.retentionMs ?? 30 * 24 * HOUR,
    };
  }

  now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  // ---- subscriptions -------------------------------------------------------------------------------------------

  /** Normalised URL, or a 400 on `url`: scheme, credentials, and (without allowPrivateNetwork) every DNS address. */
  async checkUrl(raw: string, allowPrivate: boolean): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad('url must be an absolute URL such as https://example.com/hooks/omnia', 'url');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw bad(`url must use https (got ${url.protocol.replace(/:$/, '')})`, 'url');
    if (url.protocol === 'http:' && !allowPrivate) throw bad('url must use https; plain http is only accepted with allowPrivateNetwork: true', 'url');
    if (url.username || url.password) throw bad('url must not contain credentials; authenticate requests with the signature instead', 'url');
    url.hash = '';
    const host = hostOf(url);
    if (!host) throw bad('url has no host', 'url');
    if (!allowPrivate) {
      try {
        await checkHost(host, false, this.config.resolve);
      } catch (e) {
        if (e instanceof BlockedAddressError) throw bad(`url is refused: ${e.message}`, 'url');
        throw bad(`url host ${host} does not resolve (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'url');
      }
    }
    return url.href;
  }

  private async checkSegments(ws: string, ids: string[]): Promise<void> {
    const found = await this.store.db.selectFrom('segments').select('id').where('workspace_id', '=', ws).where('id', 'in', ids).where('status', '=', 'active').execute();
    const have = new Set(found.map((r) => r.id));
    ids.forEach((id, i) => {
      if (!have.has(id)) throw bad(`segment ${id} not found`, `segmentIds.${i}`);
    });
  }

  private ctx(ws: string, id: string): string {
    return `webhook:${ws}:${id}`;
  }

  view(r: WebhookRow) {
    const now = this.now();
    return {
      id: r.id,
      url: r.url,
      description: r.description,
      events: fromJson<string[]>(r.events),
      segmentIds: r.segment_ids === null ? null : fromJson<string[]>(r.segment_ids),
      enabled: !!r.enabled,
      allowPrivateNetwork: !!r.allow_private_network,
      disabledReason: r.disabled_reason,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      secretRotatedAt: r.secret_rotated_at,
      previousSecretExpiresAt: r.previous_secret_enc && r.previous_secret_expires_at && r.previous_secret_expires_at > now ? r.previous_secret_expires_at : null,
    };
  }

  async list(ws: string) {
    const rows = await this.store.db.selectFrom('webhooks').selectAll().where('workspace_id', '=', ws).orderBy('created_at').orderBy('id').execute();
    return rows.map((r) => this.view(r));
  }

  private async row(ws: string, id: string, tx: Tx = this.store.db): Promise<WebhookRow> {
    const r = await tx.selectFrom('webhooks').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`webhook ${id} not found`);
    return r;
  }

  async get(ws: string, id: string) {
    return this.view(await this.row(ws, id));
  }

  /** Creates a subscription; the signing secret is in the answer this once. */
  async create(ws: string, input: SubscriptionInput) {
    const allowPrivate = input.allowPrivateNetwork ?? false;
    const url = await this.checkUrl(input.url!, allowPrivate);
    if (input.segmentIds) await this.checkSegments(ws, input.segmentIds);
    const count = await this.store.db.selectFrom('webhooks').select((eb) => eb.fn.countAll<number>().as('n')).where('workspace_id', '=', ws).executeTakeFirst();
    if (Number(count?.n ?? 0) >= MAX_SUBSCRIPTIONS) throw new HttpError(409, 'limit_reached', `a workspace has at most ${MAX_SUBSCRIPTIONS} webhooks`);
    const id = newId('wh');
    const secret = generateSecret();
    const now = this.now();
    const row: WebhookRow = {
      workspace_id: ws,
      id,
      description: input.description ?? '',
      url,
      events: toJson(input.events),
      segment_ids: input.segmentIds ? toJson(input.segmentIds) : null,
      enabled: input.enabled === false ? 0 : 1,
      allow_private_network: allowPrivate ? 1 : 0,
      secret_enc: this.secrets.encrypt(secret, this.ctx(ws, id)),
      previous_secret_enc: null,
      previous_secret_expires_at: null,
      disabled_reason: null,
      created_at: now,
      updated_at: now,
      secret_rotated_at: null,
    };
    await this.store.db.insertInto('webhooks').values(row).execute();
    return { ...this.view(row), secret };
  }

  async update(ws: string, id: string, input: SubscriptionInput) {
    const cur = await this.row(ws, id);
    const allowPrivate = input.allowPrivateNetwork ?? !!cur.allow_private_network;
    const enabling = input.enabled === true && !cur.enabled;
    let url = cur.url;
    if (input.url !== undefined || input.allowPrivateNetwork !== undefined || enabling) url = await this.checkUrl(input.url ?? cur.url, allowPrivate);
    if (input.segmentIds) await this.checkSegments(ws, input.segmentIds);
    const set: Partial<WebhookRow> = { url, allow_private_network: allowPrivate ? 1 : 0, updated_at: this.now() };
    if (input.events) set.events = toJson(input.events);
    if (input.segmentIds !== undefined) set.segment_ids = input.segmentIds ? toJson(input.segmentIds) : null;
    if (input.description !== undefined) set.description = input.description;
    if (input.enabled !== undefined) {
      set.enabled = input.enabled ? 1 : 0;
      if (input.enabled) set.disabled_reason = null;
    }
    const res = await this.store.db.updateTable('webhooks').set(set).where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!Number(res.numUpdatedRows)) throw notFound(`webhook ${id} not found`);
    return this.get(ws, id);
  }

  /** Deletes the subscription with its deliveries and their attempts. */
  async remove(ws: string, id: string): Promise<void> {
    await this.store.db.transaction().execute(async (tx) => {
      await this.row(ws, id, tx);
      await tx
        .deleteFrom('webhook_attempts')
        .where('workspace_id', '=', ws)
        .where('delivery_id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('workspace_id', '=', ws).where('webhook_id', '=', id))
        .execute();
      await tx.deleteFrom('webhook_deliveries').where('workspace_id', '=', ws).where('webhook_id', '=', id).execute();
      await tx.deleteFrom('webhooks').where('workspace_id', '=', ws).where('id', '=', id).execute();
    });
  }

  /** New secret (returned once); the old one keeps signing alongside for `graceMs` so receivers can switch over. */
  async rotateSecret(ws: string, id: string, graceMs: number) {
    const secret = generateSecret();
    const now = this.now();
    await this.store.db.transaction().execute(async (tx) => {
      const cur = await this.row(ws, id, tx);
      await tx
        .updateTable('webhooks')
        .set({
          secret_enc: this.secrets.encrypt(secret, this.ctx(ws, id)),
          previous_secret_enc: graceMs > 0 ? cur.secret_enc : null,
          previous_secret_expires_at: graceMs > 0 ? now + graceMs : null,
          secret_rotated_at: now,
          updated_at: now,
        })
        .where('workspace_id', '=', ws)
        .where('id', '=', id)
        .execute();
    });
    return { id, secret, previousSecretExpiresAt: graceMs > 0 ? now + graceMs : null };
  }

  /** Secrets that sign a request now: the current one, and the previous one during its grace period. */
  private signingSecrets(r: WebhookRow, now: number): string[] {
    const out = [this.secrets.decrypt(r.secret_enc, this.ctx(r.workspace_id, r.id))];
    if (r.previous_secret_enc && r.previous_secret_expires_at && r.previous_secret_expires_at > now) {
      out.push(this.secrets.decrypt(r.previous_secret_enc, this.ctx(r.workspace_id, r.id)));
    }
    return out;
  }

  /** Sends a webhook.ping now (whatever the subscription's events, even when disabled); answers with the result. */
  async test(ws: string, id: string) {
    const sub = await this.row(ws, id);
    const now = this.now();
    const eventId = newId('evt');
    const token = randomUUID();
    const row: DeliveryRow = {
      workspace_id: ws,
      id: newId('whd'),
      webhook_id: id,
      event_id: eventId,
      event_type: PING,
      profile_id: null,
      payload: JSON.stringify({ id: eventId, type: PING, createdAt: new Date(now).toISOString(), workspaceId: ws, data: { webhookId: id, message: 'Test event from Omnia' } }),
      status: 'pending',
      attempts: 1,
      max_attempts: 1,
      next_attempt_at: now + LEASE_MS,
      claim: token,
      created_at: now,
      updated_at: now,
      delivered_at: null,
      last_status_code: null,
      last_error: null,
    };
    await this.store.db.insertInto('webhook_deliveries').values(row).execute();
    await this.attempt(row, sub, true);
    return this.delivery(ws, id, row.id);
  }

  /** Sends a delivery again now (one more attempt; a pending one is tried at once). */
  async redeliver(ws: string, webhookId: string, deliveryId: string) {
    const sub = await this.row(ws, webhookId);
    const now = this.now();
    const token = randomUUID();
    const claimed = await sql<DeliveryRow>`
      UPDATE webhook_deliveries
      SET max_attempts = CASE WHEN status = 'pending' THEN max_attempts ELSE attempts + 1 END,
          status = 'pending', attempts = attempts + 1, claim = ${token}, next_attempt_at = ${now + LEASE_MS}, updated_at = ${now}
      WHERE workspace_id = ${ws} AND webhook_id = ${webhookId} AND id = ${deliveryId}
        AND NOT (status = 'pending' AND claim IS NOT NULL AND next_attempt_at > ${now})
      RETURNING *`.execute(this.store.db);
    const row = claimed.rows[0];
    if (!row) {
      await this.delivery(ws, webhookId, deliveryId); // 404 when it does not exist
      throw new HttpError(409, 'conflict', `delivery ${deliveryId} is being sent right now`);
    }
    await this.attempt(row, sub, true);
    return this.delivery(ws, webhookId, deliveryId);
  }

  // ---- delivery log --------------------------------------------------------------------------------------------

  private deliveryView(d: DeliveryRow, attempts: { attempt: number; at: number; status_code: number | null; error: string | null; duration_ms: number; response: string | null }[]) {
    return {
      id: d.id,
      eventId: d.event_id,
      type: d.event_type,
      status: d.status,
      attemptCount: d.attempts,
      maxAttempts: d.max_attempts,
      nextAttemptAt: d.status === 'pending' ? d.next_attempt_at : null,
      createdAt: d.created_at,
      deliveredAt: d.delivered_at,
      lastStatusCode: d.last_status_code,
      lastError: d.last_error,
      payload: JSON.parse(d.payload) as unknown,
      attempts: attempts.map((a) => ({ attempt: a.attempt, at: a.at, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms, response: a.response })),
    };
  }

  private async attemptsOf(ws: string, ids: string[]) {
    if (!ids.length) return new Map<string, never[]>();
    const rows = await this.store.db.selectFrom('webhook_attempts').selectAll().where('workspace_id', '=', ws).where('delivery_id', 'in', ids).orderBy('attempt').execute();
    const by = new Map<string, typeof rows>();
    for (const r of rows) (by.get(r.delivery_id) ?? by.set(r.delivery_id, []).get(r.delivery_id)!).push(r);
    return by;
  }

  async deliveries(ws: string, webhookId: string, q: { limit: number; cursor?: string; status?: string }) {
    await this.row(ws, webhookId);
    let query = this.store.db.selectFrom('webhook_deliveries').selectAll().where('workspace_id', '=', ws).where('webhook_id', '=', webhookId);
    if (q.cursor) query = query.where('id', '<', q.cursor);
    if (q.status) query = query.where('status', '=', q.status as DeliveryRow['status']);
    const rows = (await query.orderBy('id', 'desc').limit(q.limit + 1).execute()) as DeliveryRow[];
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const attempts = await this.attemptsOf(ws, page.map((r) => r.id));
    return { deliveries: page.map((r) => this.deliveryView(r, attempts.get(r.id) ?? [])), nextCursor: more ? page[page.length - 1]!.id : null };
  }

  async delivery(ws: string, webhookId: string, deliveryId: string) {
    const r = (await this.store.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('workspace_id', '=', ws)
      .where('webhook_id', '=', webhookId)
      .where('id', '=', deliveryId)
      .executeTakeFirst()) as DeliveryRow | undefined;
    if (!r) throw notFound(`delivery ${deliveryId} not found`);
    return this.deliveryView(r, (await this.attemptsOf(ws, [r.id])).get(r.id) ?? []);
  }

  // ---- producing events ----------------------------------------------------------------------------------------

  /**
   * Subscribes to segment membership changes. Their outbox rows are written inside the transaction that writes the
   * changes, so a crash can never commit a change without its webhook (or the reverse).
   */
  attach(segments: SegmentEngine): () => void {
    const offTx = segments.subscribeInTransaction(async (tx, changes) => {
      await this.enqueueChanges(changes, tx);
    });
    // Wake the sender once the rows are committed (another process's sender finds them on its next poll).
    const offWake = segments.subscribe(() => this.wake());
    return () => {
      offTx();
      offWake();
    };
  }

  private async enabledSubscriptions(tx: Tx, ws: string): Promise<WebhookRow[]> {
    return tx.selectFrom('webhooks').selectAll().where('workspace_id', '=', ws).where('enabled', '=', 1).execute();
  }

  private matching(subs: WebhookRow[], type: string, segmentId?: string): WebhookRow[] {
    const scoped = eventType(type)?.segmentScoped;
    return subs.filter((s) => {
      if (!matchesEventFilter(fromJson<string[]>(s.events), type)) return false;
      if (!scoped || s.segment_ids === null) return true;
      return segmentId !== undefined && fromJson<string[]>(s.segment_ids).includes(segmentId);
    });
  }

  private async enqueueChanges(changes: MembershipChange[], tx: Tx): Promise<number> {
    const byWs = new Map<string, MembershipChange[]>();
    for (const c of changes) (byWs.get(c.workspaceId) ?? byWs.set(c.workspaceId, []).get(c.workspaceId)!).push(c);
    let n = 0;
    for (const [ws, list] of byWs) {
      const subs = await this.enabledSubscriptions(tx, ws);
      if (!subs.length) continue;
      const wanted = list.filter((c) => this.matching(subs, `segment.${c.change}`, c.segmentId).length);
      if (!wanted.length) continue;
      const ids = await this.identifiers(ws, [...new Set(wanted.map((c) => c.profileId))], tx);
      const events: WebhookEventInput[] = wanted.map((c) => ({
        workspaceId: ws,
        type: `segment.${c.change}`,
        segmentId: c.segmentId,
        profileId: c.profileId,
        data: {
          segment: { id: c.segmentId, name: c.segmentName },
          profile: { id: c.profileId, userId: null, email: null, phone: null, ...ids.get(c.profileId) },
          at: new Date(c.at).toISOString(),
          cause: c.cause,
        },
      }));
      n += await this.insert(tx, ws, subs, events);
    }
    return n;
  }

  /** userId, email and phone of each person (their first of each kind across the merged cluster). */
  private async identifiers(ws: string, profileIds: string[], db: Tx = this.store.db): Promise<Map<string, { userId?: string; email?: string; phone?: string }>> {
    const out = new Map<string, { userId?: string; email?: string; phone?: string }>();
    for (let i = 0; i < profileIds.length; i += 500) {
      const rows = await db
        .selectFrom('profiles as p')
        .innerJoin('identifiers as i', (j) => j.onRef('i.workspace_id', '=', 'p.workspace_id').onRef('i.profile_id', '=', 'p.id'))
        .select(['p.canonical_id', 'i.kind', 'i.value'])
        .where('p.workspace_id', '=', ws)
        .where('p.canonical_id', 'in', profileIds.slice(i, i + 500))
        .where('i.kind', 'in', ['user_id', 'email', 'phone'])
        .orderBy('i.created_at')
        .execute();
      for (const r of rows) {
        const e = out.get(r.canonical_id) ?? {};
        const k = r.kind === 'user_id' ? 'userId' : (r.kind as 'email' | 'phone');
        e[k] ??= r.value;
        out.set(r.canonical_id, e);
      }
    }
    return out;
  }

  /**
   * Writes events to the outbox for every enabled subscription that wants them. Pass your transaction so the outbox
   * row commits with the change that caused it; the worker then picks it up within pollMs (or call wake() after
   * commit). Returns the number of deliveries queued.
   */
  async emit(events: WebhookEventInput[], tx?: Tx): Promise<number> {
    for (const e of events) if (!eventType(e.type)) throw new Error(`unregistered webhook event type ${e.type}`);
    const byWs = new Map<string, WebhookEventInput[]>();
    for (const e of events) (byWs.get(e.workspaceId) ?? byWs.set(e.workspaceId, []).get(e.workspaceId)!).push(e);
    const run = async (t: Tx) => {
      let n = 0;
      for (const [ws, list] of byWs) n += await this.insert(t, ws, await this.enabledSubscriptions(t, ws), list);
      return n;
    };
    const n = tx ? await run(tx) : await this.store.db.transaction().execute(run);
    if (n && !tx) this.wake();
    return n;
  }

  private async insert(tx: Tx, ws: string, subs: WebhookRow[], events: WebhookEventInput[]): Promise<number> {
    const now = this.now();
    const rows: DeliveryRow[] = [];
    for (const e of events) {
      const targets = this.matching(subs, e.type, e.segmentId);
      if (!targets.length) continue;
      const eventId = newId('evt');
      const payload = JSON.stringify({ id: eventId, type: e.type, createdAt: new Date(now).toISOString(), workspaceId: ws, data: e.data });
      for (const s of targets) {
        rows.push({
          workspace_id: ws,
          id: newId('whd'),
          webhook_id: s.id,
          event_id: eventId,
          event_type: e.type,
          profile_id: e.profileId ?? null,
          payload,
          status: 'pending',
          attempts: 0,
          max_attempts: this.config.retryDelaysMs.length + 1,
          next_attempt_at: now,
          claim: null,
          created_at: now,
          updated_at: now,
          delivered_at: null,
          last_status_code: null,
          last_error: null,
        });
      }
    }
    for (let i = 0; i < rows.length; i += 200) await tx.insertInto('webhook_deliveries').values(rows.slice(i, i + 200)).execute();
    return rows.length;
  }

  // ---- the worker ----------------------------------------------------------------------------------------------

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs ?? SECOND);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.running;
  }

  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        while ((await this.runOnce()) > 0 && !this.stopped);
        if (Date.now() - this.lastPrune > HOUR) {
          this.lastPrune = Date.now();
          await this.prune();
        }
      } catch (e) {
        this.opts.log?.('webhook worker failed; will retry', e);
      }
    })().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Sends everything due until nothing is (tests; the CLI). Future retries wait. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      if ((await this.runOnce()) === 0 && !this.running) return;
    }
  }

  /** Claims a batch of due deliveries and sends them. Returns how many were claimed. */
  async runOnce(): Promise<number> {
    const now = this.now();
    const token = randomUUID();
    const limit = this.opts.batchSize ?? 20;
    const set = sql`attempts = attempts + 1, claim = ${token}, next_attempt_at = ${now + LEASE_MS}, updated_at = ${now}`;
    // PostgreSQL: the picked rows are materialised once. (Inside `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` the
    // planner may rescan the subquery, and each rescan skips the rows just locked and locks n more: a claim of 48 rows
    // for LIMIT 20 was observed.) The outer conditions are re-checked on the row version actually updated.
    const claimed =
      this.store.dialect === 'postgres'
        ? await sql<DeliveryRow>`
            WITH picked AS MATERIALIZED (
              SELECT workspace_id, id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}
              ORDER BY next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
            UPDATE webhook_deliveries d SET ${set} FROM picked
            WHERE d.workspace_id = picked.workspace_id AND d.id = picked.id AND d.status = 'pending' AND d.next_attempt_at <= ${now}
            RETURNING d.*`.execute(this.store.db)
        : await sql<DeliveryRow>`
            UPDATE webhook_deliveries SET ${set}
            WHERE (workspace_id, id) IN (
              SELECT workspace_id, id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ${now}
              ORDER BY next_attempt_at LIMIT ${limit})
            RETURNING *`.execute(this.store.db);
    const rows = claimed.rows;
    if (!rows.length) return 0;
    const subs = new Map<string, WebhookRow>();
    for (const ws of new Set(rows.map((r) => r.workspace_id))) {
      const ids = [...new Set(rows.filter((r) => r.workspace_id === ws).map((r) => r.webhook_id))];
      for (const s of await this.store.db.selectFrom('webhooks').selectAll().where('workspace_id', '=', ws).where('id', 'in', ids).execute()) subs.set(`${ws}\n${s.id}`, s);
    }
    const queue = [...rows];
    const lanes = Array.from({ length: Math.min(this.opts.concurrency ?? 8, queue.length) }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        try {
          await this.attempt(r, subs.get(`${r.workspace_id}\n${r.webhook_id}`), false);
        } catch (e) {
          // The lease runs out and another round retries it.
          this.opts.log?.(`webhook delivery ${r.id} could not be recorded`, e);
        }
      }
    });
    await Promise.all(lanes);
    return rows.length;
  }

  /** One attempt of a claimed row: send, then record the outcome (only while still holding the claim). */
  private async attempt(row: DeliveryRow, sub: WebhookRow | undefined, manual: boolean): Promise<void> {
    const now = this.now();
    if (!sub || (!sub.enabled && !manual)) {
      await this.store.db
        .updateTable('webhook_deliveries')
        .set({ status: 'cancelled', claim: null, updated_at: now, last_error: sub ? `subscription disabled${sub.disabled_reason ? `: ${sub.disabled_reason}` : ''}` : 'subscription deleted' })
        .where('workspace_id', '=', row.workspace_id)
        .where('id', '=', row.id)
        .where('claim', '=', row.claim)
        .execute();
      return;
    }
    let result: AttemptResult;
    let secrets: string[] | null = null;
    try {
      secrets = this.signingSecrets(sub, now);
    } catch (e) {
      result = { statusCode: null, error: `the signing secret cannot be decrypted (${(e as Error).message}); rotate the secret`, durationMs: 0, response: null, retryAfterMs: null, address: null, blocked: true };
    }
    if (secrets) {
      const ts = Math.floor(now / 1000);
      result = await sendWebhook({
        url: sub.url,
        body: row.payload,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Omnia-Webhooks/1',
          'omnia-webhook-id': row.event_id,
          'omnia-webhook-timestamp': String(ts),
          'omnia-signature': signatureHeader(secrets, row.event_id, ts, row.payload),
        },
        allowPrivate: !!sub.allow_private_network,
        timeoutMs: this.config.timeoutMs,
        resolve: this.config.resolve,
      });
    }
    await this.record(row, result!, now);
  }

  private backoff(failedAttempts: number, retryAfterMs: number | null): number {
    const delays = this.config.retryDelaysMs;
    const base = delays[Math.min(failedAttempts, delays.length) - 1] ?? delays[delays.length - 1]!;
    const jittered = Math.round(base * (1 + 0.2 * this.config.jitter()));
    const max = delays[delays.length - 1]!;
    return retryAfterMs ? Math.min(Math.max(jittered, retryAfterMs), max) : jittered;
  }

  private async record(row: DeliveryRow, r: AttemptResult, startedAt: number): Promise<void> {
    const now = this.now();
    const code = r.statusCode;
    const ok = code !== null && code >= 200 && code < 300;
    const gone = code === 410;
    const final = ok || gone || row.attempts >= row.max_attempts;
    const status: DeliveryRow['status'] = ok ? 'delivered' : final ? 'failed' : 'pending';
    const error = gone ? 'HTTP 410 Gone: the subscription was disabled' : r.error;
    await this.store.db.transaction().execute(async (tx) => {
      const upd = await tx
        .updateTable('webhook_deliveries')
        .set({
          status,
          claim: null,
          next_attempt_at: final ? now : now + this.backoff(row.attempts, r.retryAfterMs),
          updated_at: now,
          delivered_at: ok ? now : null,
          last_status_code: code,
          last_error: error,
        })
        .where('workspace_id', '=', row.workspace_id)
        .where('id', '=', row.id)
        .where('claim', '=', row.claim)
        .executeTakeFirst();
      if (!Number(upd.numUpdatedRows)) return; // the lease ran out and someone else has it (or it was deleted)
      await tx
        .insertInto('webhook_attempts')
        .values({ workspace_id: row.workspace_id, delivery_id: row.id, attempt: row.attempts, at: startedAt, status_code: code, error, duration_ms: r.durationMs, response: r.response })
        .onConflict((oc) => oc.doNothing())
        .execute();
      if (gone) {
        const reason = `the receiver answered 410 Gone on ${new Date(now).toISOString()}`;
        await tx
          .updateTable('webhooks')
          .set({ enabled: 0, disabled_reason: reason, updated_at: now })
          .where('workspace_id', '=', row.workspace_id)
          .where('id', '=', row.webhook_id)
          .execute();
        await tx
          .updateTable('webhook_deliveries')
          .set({ status: 'cancelled', updated_at: now, last_error: `subscription disabled: ${reason}` })
          .where('workspace_id', '=', row.workspace_id)
          .where('webhook_id', '=', row.webhook_id)
          .where('status', '=', 'pending')
          .where('claim', 'is', null)
          .execute();
      }
    });
  }

  /** Drops finished deliveries (and their attempts) past the retention period. */
  async prune(): Promise<number> {
    const cutoff = this.now() - this.config.retentionMs;
    let total = 0;
    for (;;) {
      const n = await this.store.db.transaction().execute(async (tx) => {
        const old = await tx.selectFrom('webhook_deliveries').select(['workspace_id', 'id']).where('status', '!=', 'pending').where('updated_at', '<', cutoff).limit(500).execute();
        if (!old.length) return 0;
        const ids = old.map((o) => o.id);
        await tx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
        await tx.deleteFrom('webhook_deliveries').where('id', 'in', ids).where('status', '!=', 'pending').execute();
        return old.length;
      });
      total += n;
      if (n < 500) return total;
    }
  }
}

/**
 * GDPR erasure: deletes the webhook deliveries (queued or logged, with their attempts) about these profile ids. Call it
 * inside the erasure's transaction with every id of the person's cluster.
 */
export async function forgetWebhookDeliveries(tx: Tx, ws: string, profileIds: string[]): Promise<number> {
  let n = 0;
  for (let i = 0; i < profileIds.length; i += 500) {
    const ids = profileIds.slice(i, i + 500);
    await tx
      .deleteFrom('webhook_attempts')
      .where('workspace_id', '=', ws)
      .where('delivery_id', 'in', (eb) => eb.selectFrom('webhook_deliveries').select('id').where('workspace_id', '=', ws).where('profile_id', 'in', ids))
      .execute();
    const res = await tx.deleteFrom('webhook_deliveries').where('workspace_id', '=', ws).where('profile_id', 'in', ids).executeTakeFirst();
    n += Number(res.numDeletedRows);
  }
  return n;
}

/** Creates the service for a runtime and subscribes it to segment changes (in every process: API processes publish
 * the changes of recomputes they run; only worker processes send). */
export async function openWebhooks(store: Store, segments: SegmentEngine, opts: WebhookServiceOptions = {}): Promise<WebhookService> {
  const secrets = await secretsFor(store, { log: opts.log ? (m) => opts.log!(m) : undefined });
  const service = new WebhookService(store, secrets, opts);
  service.attach(segments);
  return service;
}
