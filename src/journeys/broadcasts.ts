// Broadcasts: a one-off or scheduled send to a segment, through the arbiter like every other message. The audience is
// taken in pages of the segment's members (resumable: the cursor is the last profile id taken), each page in one
// transaction that writes the recipients and their outbox messages together. With an A/B test, a test share gets the
// variants; after the chosen period the winner by the chosen metric (opens, clicks, orders, revenue) goes to the rest.
import '../schema/formats.ts';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Kysely, Transaction } from 'kysely';
import { HttpError, notFound } from '../app/errors.ts';
import { enqueueRows, messageRow } from '../messaging/outbox.ts';
import type { MessagingService } from '../messaging/service.ts';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { BroadcastsTable, DB, MessagesTable } from '../store/types.ts';
import { type VariantStats, type WinnerMetric, assignVariant, checkVariantPlan, pickWinner, sendTime } from './broadcast-plan.ts';
import type { JourneyCatalog } from './catalog.ts';
import { PURCHASE_EVENTS } from './catalog.ts';

type Tx = Transaction<DB> | Kysely<DB>;

const Templates = Type.Object(
  { email: Type.Optional(Type.String({ maxLength: 100 })), sms: Type.Optional(Type.String({ maxLength: 100 })), push: Type.Optional(Type.String({ maxLength: 100 })), onsite: Type.Optional(Type.String({ maxLength: 100 })), webhook: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false, minProperties: 1 },
);
export const BroadcastInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    segmentId: Type.String({ minLength: 1, maxLength: 100 }),
    /** snapshot: members when the send starts; live: also re-checked when each message goes */
    audience: Type.Optional(Type.Union([Type.Literal('snapshot'), Type.Literal('live')])),
    channel: Type.Union(['email', 'sms', 'push', 'onsite', 'webhook', 'best'].map((c) => Type.Literal(c))),
    variants: Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 40, pattern: '^[A-Za-z0-9_-]+$' }), templates: Templates, weight: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })) }, { additionalProperties: false }), { minItems: 1, maxItems: 8 }),
    topic: Type.String({ minLength: 1, maxLength: 64 }),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
    /** at: an ISO instant; or localTime + date: that wall time in each recipient's zone */
    schedule: Type.Optional(Type.Object({ at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })), localTime: Type.Optional(Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' })), date: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' })) }, { additionalProperties: false })),
    throttlePerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    abTest: Type.Optional(Type.Object({ testShare: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), metric: Type.Union([Type.Literal('opens'), Type.Literal('clicks'), Type.Literal('orders'), Type.Literal('revenue')]), afterMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 43_200 }) }, { additionalProperties: false })),
    promotes: Type.Optional(Type.Object({ products: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 500 })), categories: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 })) }, { additionalProperties: false })),
  },
  { additionalProperties: false, $id: 'BroadcastInput' },
);
export type BroadcastInput = Static<typeof BroadcastInput>;
const CHECK = TypeCompiler.Compile(BroadcastInput);

/** Read before a page's transaction opens (SQLite has one connection: nothing may read outside the transaction). */
interface Pre {
  policy: { defaultTimeZone: string };
  topics: { id: string; transactional: boolean }[];
  stats?: VariantStats[];
}

/** A tick keeps taking pages for this long (the sweep runs about once a second). */
const TICK_BUDGET_MS = 500;

/** Recipients taken per transaction. */
const PAGE = 2000;

export function broadcastView(r: BroadcastsTable) {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    definition: fromJson(r.definition),
    sendAt: r.send_at == null ? null : Number(r.send_at),
    recipients: Number(r.recipients),
    testStartedAt: r.test_started_at == null ? null : Number(r.test_started_at),
    winner: r.winner,
    winnerAt: r.winner_at == null ? null : Number(r.winner_at),
    results: r.results == null ? null : fromJson(r.results),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class BroadcastRunner {
  constructor(
    private readonly store: Store,
    private readonly messaging: MessagingService,
    private readonly catalog: JourneyCatalog,
    private readonly clock: () => number,
    private readonly log?: (msg: string, err?: unknown) => void,
  ) {}

  async validate(ws: string, input: unknown): Promise<BroadcastInput> {
    if (!CHECK.Check(input)) {
      const e = [...CHECK.Errors(input)][0]!;
      const field = e.path.replace(/^\//, '').replace(/\//g, '.') || '(body)';
      throw new HttpError(400, 'invalid_broadcast', `${field}: ${e.message}`, field);
    }
    const b = input as BroadcastInput;
    try {
      checkVariantPlan({ variants: b.variants.map((v) => ({ id: v.id, weight: v.weight ?? 1 })) });
    } catch (e) {
      throw new HttpError(400, 'invalid_broadcast', (e as Error).message.replace('variant plan: ', ''), 'variants');
    }
    if (b.abTest && b.variants.length < 2) throw new HttpError(400, 'invalid_broadcast', 'abTest: an A/B test needs at least two variants', 'abTest');
    const s = b.schedule;
    if (s && s.at !== undefined && (s.localTime !== undefined || s.date !== undefined)) throw new HttpError(400, 'invalid_broadcast', 'schedule: either at, or localTime with date', 'schedule');
    if (s && (s.localTime === undefined) !== (s.date === undefined)) throw new HttpError(400, 'invalid_broadcast', 'schedule: localTime and date go together', s.localTime === undefined ? 'schedule.localTime' : 'schedule.date');
    if (s?.at !== undefined && Number.isNaN(Date.parse(s.at))) throw new HttpError(400, 'invalid_broadcast', 'schedule.at: must be an ISO date-time', 'schedule.at');
    const seg = await this.store.db.selectFrom('segments').select('id').where('workspace_id', '=', ws).where('id', '=', b.segmentId).where('status', '=', 'active').executeTakeFirst();
    if (!seg) throw new HttpError(400, 'invalid_broadcast', `segmentId: segment ${b.segmentId} not found`, 'segmentId');
    if (!(await this.messaging.settings.topic(ws, b.topic))) throw new HttpError(400, 'invalid_broadcast', `topic: unknown topic ${b.topic} (GET /api/messaging/topics)`, 'topic');
    for (const [i, v] of b.variants.entries()) {
      if (b.channel !== 'best' && !v.templates[b.channel as keyof typeof v.templates]) throw new HttpError(400, 'invalid_broadcast', `variants.${i}.templates.${b.channel}: channel ${b.channel} needs a template`, `variants.${i}.templates.${b.channel}`);
      for (const [ch, id] of Object.entries(v.templates)) {
        const t = await this.messaging.templates.get(ws, id!).catch(() => null);
        const f = `variants.${i}.templates.${ch}`;
        if (!t || t.status !== 'active') throw new HttpError(400, 'invalid_broadcast', `${f}: template ${id} not found`, f);
        if (t.channel !== ch) throw new HttpError(400, 'invalid_broadcast', `${f}: template ${id} is a ${t.channel} template, not ${ch}`, f);
      }
    }
    return b;
  }

  async create(ws: string, input: unknown) {
    const b = await this.validate(ws, input);
    const now = this.clock();
    const row: BroadcastsTable = { workspace_id: ws, id: newId('bc', now), name: b.name, status: 'draft', definition: toJson(b), send_at: null, cursor: null, test_started_at: null, winner: null, winner_at: null, results: null, recipients: 0, created_at: now, updated_at: now };
    await this.store.db.insertInto('broadcasts').values(row).execute();
    return broadcastView(row);
  }

  async row(ws: string, id: string) {
    const r = await this.store.db.selectFrom('broadcasts').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`broadcast ${id} not found`);
    return r;
  }

  async update(ws: string, id: string, input: unknown) {
    const r = await this.row(ws, id);
    if (r.status !== 'draft') throw new HttpError(409, 'not_draft', `broadcast ${id} is ${r.status}; only drafts can change`);
    const b = await this.validate(ws, input);
    const now = this.clock();
    await this.store.db.updateTable('broadcasts').set({ name: b.name, definition: toJson(b), updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
    return broadcastView({ ...r, name: b.name, definition: toJson(b), updated_at: now });
  }

  /** Schedules the send (at its schedule.at, or now). */
  async send(ws: string, id: string) {
    const r = await this.row(ws, id);
    if (r.status !== 'draft') throw new HttpError(409, 'not_draft', `broadcast ${id} is already ${r.status}`);
    const b = await this.validate(ws, fromJson(r.definition));
    const now = this.clock();
    const at = b.schedule?.at ? Math.max(now, Date.parse(b.schedule.at)) : now;
    await this.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('broadcasts').set({ status: 'scheduled', send_at: at, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      await this.catalog.broadcastTriggers(tx, ws, id, !!b.promotes);
    });
    return broadcastView(await this.row(ws, id));
  }

  /** Stops a broadcast: nothing more is taken from the audience; its pending messages are cancelled. */
  async cancel(ws: string, id: string) {
    const r = await this.row(ws, id);
    if (r.status === 'cancelled') throw new HttpError(409, 'finished', `broadcast ${id} is already cancelled`);
    // 'sent' means every message is planned, not delivered: local send times and throttles keep some waiting for
    // hours. Cancelling then stops those (what went out stays out); with none left there is nothing to stop.
    if (r.status === 'sent') {
      const waiting = await this.store.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('workspace_id', '=', ws)
        .where('source', '=', `broadcast:${id}`)
        .where('status', 'in', ['queued', 'deferred', 'retry'])
        .executeTakeFirst();
      if (!Number(waiting?.n)) throw new HttpError(409, 'finished', `broadcast ${id} is already sent: every message has gone out`);
    }
    const now = this.clock();
    await this.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('broadcasts').set({ status: 'cancelled', updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      await tx.updateTable('messages').set({ status: 'cancelled', error: 'broadcast cancelled', updated_at: now }).where('workspace_id', '=', ws).where('source', '=', `broadcast:${id}`).where('status', 'in', ['queued', 'deferred', 'retry']).execute();
      await this.catalog.broadcastTriggers(tx, ws, id, false);
    });
    return broadcastView(await this.row(ws, id));
  }

  /** Progress and results: recipients per group and variant, message statuses, and the test's figures. */
  async progress(ws: string, id: string) {
    const r = await this.row(ws, id);
    const groups = await this.store.db.selectFrom('broadcast_recipients').select(['grp', 'variant', (eb) => eb.fn.countAll<number>().as('n')]).where('workspace_id', '=', ws).where('broadcast_id', '=', id).groupBy(['grp', 'variant']).execute();
    const statuses = await this.store.db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('workspace_id', '=', ws).where('source', '=', `broadcast:${id}`).groupBy('status').execute();
    return {
      ...broadcastView(r),
      groups: groups.map((g) => ({ group: g.grp, variant: g.variant, recipients: Number(g.n) })),
      messages: Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)])),
      ...(r.status === 'testing' || r.status === 'winner' || r.status === 'sent' ? { variants: await this.stats(ws, r) } : {}),
    };
  }

  /** Runs due broadcast work (pages while the time budget lasts); returns pages done. */
  async tick(now: number): Promise<number> {
    const due = await this.store.db
      .selectFrom('broadcasts')
      .selectAll()
      .where((eb) => eb.or([eb.and([eb('status', '=', 'scheduled'), eb('send_at', '<=', now)]), eb('status', 'in', ['sending', 'winner']), eb('status', '=', 'testing')]))
      .limit(20)
      .execute();
    let n = 0;
    const budget = Date.now() + TICK_BUDGET_MS;
    for (const d of due) {
      // A broadcast takes page after page while the tick's time budget lasts (each page its own transaction).
      while (Date.now() < budget) {
        const did = await this.page(d.workspace_id, d.id, now);
        n += did;
        if (!did) break;
      }
    }
    if (n) this.messaging.wake();
    return n;
  }

  /** One step of one broadcast (a status change or a page of recipients); 0 when there is nothing to do now. */
  private async page(ws: string, id: string, now: number): Promise<number> {
    try {
      const d = await this.store.db.selectFrom('broadcasts').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
      if (!d || !['scheduled', 'sending', 'winner', 'testing'].includes(d.status)) return 0;
      // Settings are read before the transaction (SQLite has one connection: no store reads from inside it).
      const pre: Pre = { policy: await this.messaging.settings.policy(ws), topics: await this.messaging.settings.topics(ws) };
      if (d.status === 'testing') {
        const b = fromJson<BroadcastInput>(d.definition);
        if (now < Number(d.test_started_at) + b.abTest!.afterMinutes * 60_000) return 0;
        pre.stats = await this.stats(ws, d);
      }
      return await this.store.db.transaction().execute(async (tx) => {
        // One process at a time advances broadcasts (the row lock is held until this page commits).
        await tx.updateTable('locks').set({ at: now }).where('name', '=', 'journeys').execute();
        const r = await tx.selectFrom('broadcasts').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
        return r ? this.advance(tx, r, now, pre) : 0;
      });
    } catch (e) {
      this.log?.(`broadcast ${ws}/${id} failed; will retry`, e);
      return 0;
    }
  }

  private async advance(tx: Tx, r: BroadcastsTable, now: number, pre: Pre): Promise<number> {
    const b = fromJson<BroadcastInput>(r.definition);
    const ws = r.workspace_id;
    const set = (v: Partial<BroadcastsTable>) => tx.updateTable('broadcasts').set({ ...v, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', r.id).execute();
    if (r.status === 'scheduled') {
      if (Number(r.send_at) > now) return 0;
      await set({ status: 'sending' });
      return 1;
    }
    if (r.status === 'testing') {
      if (now < Number(r.test_started_at) + b.abTest!.afterMinutes * 60_000 || !pre.stats) return 0;
      const stats = pre.stats;
      const w = pickWinner(stats, b.abTest!.metric as WinnerMetric);
      await set({ status: 'winner', winner: w.winner, winner_at: now, cursor: null, results: toJson({ metric: b.abTest!.metric, ...w, variants: stats }) });
      return 1;
    }
    // sending (the audience, page by page) or winner (the rest group gets the winning variant)
    const rest = r.status === 'winner';
    const page = rest ? await this.restPage(tx, ws, r) : await this.audiencePage(tx, ws, r, b);
    if (page.length === 0) {
      const hasRest = !rest && b.abTest ? await tx.selectFrom('broadcast_recipients').select('profile_id').where('workspace_id', '=', ws).where('broadcast_id', '=', r.id).where('grp', '=', 'rest').limit(1).executeTakeFirst() : undefined;
      // The test period runs from the last test message's send time (local-time and throttled sends go later).
      const last = hasRest ? await tx.selectFrom('broadcast_recipients').select((eb) => eb.fn.max('send_after').as('t')).where('workspace_id', '=', ws).where('broadcast_id', '=', r.id).where('grp', '=', 'test').executeTakeFirst() : undefined;
      await set(hasRest ? { status: 'testing', test_started_at: Math.max(now, Number(last?.t ?? now)), cursor: null } : { status: 'sent' });
      return 1;
    }
    const zones = new Map((await tx.selectFrom('profiles').select(['id', 'time_zone']).where('workspace_id', '=', ws).where('id', 'in', page.map((p) => p.profileId)).execute()).map((p) => [p.id, p.time_zone]));
    const policy = pre.policy;
    const topic = pre.topics.find((t) => t.id === b.topic);
    let k = Number(r.recipients);
    const start = Number(r.send_at ?? now);
    const variants = new Map(b.variants.map((v) => [v.id, v]));
    const rows: MessagesTable[] = [];
    for (const p of page) {
      const variant = rest ? r.winner! : p.variant;
      if (!variant) continue;
      let at = b.schedule?.localTime ? sendTime({ now, localTime: b.schedule.localTime, date: b.schedule.date!, zone: zones.get(p.profileId), defaultZone: policy.defaultTimeZone }) : now;
      if (b.throttlePerMinute) at = Math.max(at, start + Math.floor(k / b.throttlePerMinute) * 60_000);
      k++;
      const v = variants.get(variant)!;
      const row = messageRow(
        {
          workspaceId: ws,
          profileId: p.profileId,
          source: `broadcast:${r.id}`,
          step: 'main',
          channel: b.channel as never,
          templates: v.templates,
          topic: topic?.id ?? b.topic,
          transactional: topic?.transactional === true,
          priority: b.priority ?? 50,
          context: { broadcast: { id: r.id, name: b.name, variant }, ...(b.promotes ? { promotes: b.promotes } : {}), ...(b.audience === 'live' ? { audienceSegment: b.segmentId } : {}) },
          notBefore: at > now ? at : null,
        },
        now,
      );
      rows.push(row);
      p.messageId = row.id;
      p.variant = variant;
      p.at = at;
    }
    // One insert per 100 messages (a message that exists already — a page replayed after a crash — is kept).
    await enqueueRows(tx, rows);
    if (rest) {
      for (const p of page) await tx.updateTable('broadcast_recipients').set({ variant: p.variant, message_id: p.messageId ?? null }).where('workspace_id', '=', ws).where('broadcast_id', '=', r.id).where('profile_id', '=', p.profileId).execute();
    } else {
      for (let i = 0; i < page.length; i += 300) {
        await tx
          .insertInto('broadcast_recipients')
          .values(page.slice(i, i + 300).map((p) => ({ workspace_id: ws, broadcast_id: r.id, profile_id: p.profileId, grp: p.group, variant: p.variant, message_id: p.messageId ?? null, send_after: p.at ?? now })))
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
    }
    await set({ cursor: page[page.length - 1]!.profileId, recipients: k });
    return 1;
  }

  /** The next page of the segment's members, each assigned a group and variant (deterministically). */
  private async audiencePage(tx: Tx, ws: string, r: BroadcastsTable, b: BroadcastInput) {
    let q = tx.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', ws).where('segment_id', '=', b.segmentId).orderBy('profile_id').limit(PAGE);
    if (r.cursor) q = q.where('profile_id', '>', r.cursor);
    // Snapshot: the members when the send started (people who join while the pages are taken are not added).
    if (b.audience !== 'live' && r.send_at != null) q = q.where('entered_at', '<=', Number(r.send_at));
    const rows = await q.execute();
    const plan = { variants: b.variants.map((v) => ({ id: v.id, weight: v.weight ?? 1 })), ...(b.abTest ? { testShare: b.abTest.testShare } : {}) };
    return rows.map((m) => {
      const a = assignVariant(r.id, m.profile_id, plan);
      return { profileId: m.profile_id, group: a.group, variant: a.variant as string | null, messageId: undefined as string | undefined, at: undefined as number | undefined };
    });
  }

  private async restPage(tx: Tx, ws: string, r: BroadcastsTable) {
    let q = tx.selectFrom('broadcast_recipients').select('profile_id').where('workspace_id', '=', ws).where('broadcast_id', '=', r.id).where('grp', '=', 'rest').where('message_id', 'is', null).orderBy('profile_id').limit(PAGE);
    if (r.cursor) q = q.where('profile_id', '>', r.cursor);
    const rows = await q.execute();
    return rows.map((m) => ({ profileId: m.profile_id, group: 'rest', variant: null as string | null, messageId: undefined as string | undefined, at: undefined as number | undefined }));
  }

  /**
   * The test group's figures per variant: messages sent, people who opened / clicked (human engagement only), and
   * orders and revenue by recipients after their message went out.
   */
  async stats(ws: string, r: BroadcastsTable): Promise<VariantStats[]> {
    const b = fromJson<BroadcastInput>(r.definition);
    const db = this.store.db;
    const recips = await db
      .selectFrom('broadcast_recipients as br')
      .leftJoin('messages as m', (j) => j.onRef('m.workspace_id', '=', 'br.workspace_id').onRef('m.id', '=', 'br.message_id'))
      .select(['br.profile_id', 'br.variant', 'm.id as mid', 'm.status', 'm.sent_at'])
      .where('br.workspace_id', '=', ws)
      .where('br.broadcast_id', '=', r.id)
      .where('br.grp', '=', 'test')
      .execute();
    const out = new Map<string, VariantStats>(b.variants.map((v) => [v.id, { variant: v.id, recipients: 0, sent: 0, opens: 0, clicks: 0, orders: 0, revenueMinor: 0 }]));
    const byProfile = new Map<string, { variant: string; mid: string | null; sentAt: number | null }>();
    for (const x of recips) {
      const s = out.get(x.variant ?? '');
      if (!s) continue;
      s.recipients++;
      const sent = x.status === 'sent' || x.status === 'delivered';
      if (sent) s.sent++;
      byProfile.set(x.profile_id, { variant: x.variant!, mid: x.mid, sentAt: sent && x.sent_at != null ? Number(x.sent_at) : null });
    }
    const ids = [...byProfile.keys()];
    const until = r.status === 'testing' ? this.clock() : Number(r.winner_at ?? this.clock());
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      const evs = await db
        .selectFrom('events')
        .select(['profile_id', 'event', 'properties', 'timestamp', 'revenue_minor', 'internal'])
        .where('workspace_id', '=', ws)
        .where('profile_id', 'in', part)
        .where('event', 'in', ['Message Opened', 'Message Clicked', ...PURCHASE_EVENTS])
        .where('timestamp', '<=', until)
        .execute();
      const opened = new Set<string>();
      const clicked = new Set<string>();
      for (const e of evs) {
        const who = byProfile.get(e.profile_id!);
        if (!who || who.sentAt == null) continue;
        const s = out.get(who.variant)!;
        if (Number(e.internal) === 1) {
          const p = fromJson<{ messageId?: string; human?: boolean }>(e.properties);
          if (p.messageId !== who.mid || p.human === false) continue;
          const set = e.event === 'Message Opened' ? opened : clicked;
          if (!set.has(e.profile_id!)) {
            set.add(e.profile_id!);
            e.event === 'Message Opened' ? s.opens++ : s.clicks++;
          }
        } else if (Number(e.timestamp) >= who.sentAt) {
          s.orders++;
          s.revenueMinor += Number(e.revenue_minor ?? 0);
        }
      }
    }
    return [...out.values()];
  }

  async list(ws: string) {
    const rows = await this.store.db.selectFrom('broadcasts').selectAll().where('workspace_id', '=', ws).orderBy('created_at', 'desc').limit(200).execute();
    return rows.map(broadcastView);
  }
}
