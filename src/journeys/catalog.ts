// Journey definitions in the store: drafts, immutable published versions, status (draft → active ⇄ paused → archived),
// and the trigger index that tells the identity processor and the segment engine which inputs a workspace's journeys
// (and broadcasts) care about. Versions never change once published, so they are cached for good; the list of live
// journeys per workspace is cached for a second (other processes' publishes show up within that) and dropped at once
// on a change made here.
import type { Kysely, Transaction } from 'kysely';
import { HttpError, notFound } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import { logDecision } from '../messaging/outbox.ts';
import { type JourneyDefinition, type JourneyError, checkJourney } from './definition.ts';

type Tx = Transaction<DB> | Kysely<DB>;

/** Events that are purchases: they cancel pending promotions of what was bought (cross-channel). */
export const PURCHASE_EVENTS = ['Order Completed'];

export type JourneyStatusName = 'draft' | 'active' | 'paused' | 'archived';

export interface LiveJourney {
  id: string;
  name: string;
  status: 'active' | 'paused';
  version: number;
  definition: JourneyDefinition;
}

const LIVE_TTL_MS = 1000;

export function invalidJourney(errors: JourneyError[]): HttpError {
  const e = errors[0]!;
  const err = new HttpError(400, 'invalid_journey', `${e.path}: ${e.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`, e.path);
  (err as HttpError & { errors?: JourneyError[] }).errors = errors;
  return err;
}

/** The inputs a definition reacts to: entry, waits, goal, exit rules; purchases when it promotes something. */
export function triggersOf(def: JourneyDefinition): { kind: 'event' | 'segment'; name: string }[] {
  const out = new Map<string, { kind: 'event' | 'segment'; name: string }>();
  const add = (kind: 'event' | 'segment', name: string) => out.set(`${kind}\n${name}`, { kind, name });
  if (def.entry.kind === 'event') add('event', def.entry.event);
  if (def.entry.kind === 'segment') add('segment', def.entry.segment);
  if (def.goal) add('event', def.goal.event);
  for (const t of def.exits ?? []) 'segment' in t ? add('segment', t.segment) : add('event', t.event);
  for (const n of Object.values(def.nodes)) {
    if (n.kind === 'wait_until') 'segment' in n.until ? add('segment', n.until.segment) : add('event', n.until.event);
  }
  if (def.promotes) for (const e of PURCHASE_EVENTS) add('event', e);
  return [...out.values()];
}

export function journeyView(r: DB['journeys'] extends infer T ? { [K in keyof T]: T[K] } : never, definition?: unknown) {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    version: r.version,
    draft: fromJson(r.draft),
    ...(definition !== undefined ? { definition } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    publishedAt: r.published_at,
  };
}

export class JourneyCatalog {
  private versions = new Map<string, JourneyDefinition>();
  private live = new Map<string, { at: number; journeys: LiveJourney[] }>();

  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
    /** the workspace's consent topics (messaging settings); journeys and send nodes must name one of them */
    private readonly topics: (ws: string) => Promise<{ id: string }[]> = async () => [],
  ) {}

  /** Checks a definition's shape and graph, then that the segments it names exist. */
  async validate(ws: string, def: unknown): Promise<JourneyDefinition> {
    const errors = checkJourney(def);
    if (errors.length) throw invalidJourney(errors);
    const d = def as JourneyDefinition;
    const segments = new Set<string>();
    const walk = (c: unknown): void => {
      if (!c || typeof c !== 'object') return;
      const o = c as Record<string, unknown>;
      if (o.kind === 'segment' && typeof o.segmentId === 'string') segments.add(o.segmentId);
      for (const v of Object.values(o)) if (v && typeof v === 'object') Array.isArray(v) ? v.forEach(walk) : walk(v);
    };
    if (d.entry.kind === 'segment') segments.add(d.entry.segment);
    if (d.entry.kind === 'schedule' && d.entry.segment) segments.add(d.entry.segment);
    for (const t of d.exits ?? []) if ('segment' in t) segments.add(t.segment);
    for (const n of Object.values(d.nodes)) {
      if (n.kind === 'wait_until' && 'segment' in n.until) segments.add(n.until.segment);
      walk(n);
    }
    if (segments.size) {
      const known = new Set((await this.store.db.selectFrom('segments').select('id').where('workspace_id', '=', ws).where('status', '=', 'active').execute()).map((r) => r.id));
      for (const s of segments) if (!known.has(s)) throw new HttpError(400, 'invalid_journey', `refers to unknown segment ${s}`, 'definition');
    }
    const topics = new Set((await this.topics(ws)).map((t) => t.id));
    if (topics.size) {
      if (!topics.has(d.topic)) throw new HttpError(400, 'invalid_journey', `topic: unknown topic ${d.topic} (GET /api/messaging/topics)`, 'topic');
      for (const [id, n] of Object.entries(d.nodes)) {
        if (n.kind === 'send' && n.topic && !topics.has(n.topic)) throw new HttpError(400, 'invalid_journey', `nodes.${id}.topic: unknown topic ${n.topic}`, `nodes.${id}.topic`);
      }
    }
    for (const [id, n] of Object.entries(d.nodes)) {
      if (n.kind === 'jump') {
        const j = await this.store.db.selectFrom('journeys').select('status').where('workspace_id', '=', ws).where('id', '=', n.journeyId).executeTakeFirst();
        if (!j || j.status === 'archived') throw new HttpError(400, 'invalid_journey', `nodes.${id}.journeyId: journey ${n.journeyId} not found`, `nodes.${id}.journeyId`);
      }
      if (n.kind === 'list') {
        const l = await this.store.db.selectFrom('lists').select('id').where('workspace_id', '=', ws).where('id', '=', n.listId).executeTakeFirst();
        if (!l) throw new HttpError(400, 'invalid_journey', `nodes.${id}.listId: list ${n.listId} not found`, `nodes.${id}.listId`);
      }
    }
    const templates = new Set<string>();
    for (const n of Object.values(d.nodes)) {
      if (n.kind === 'send') for (const t of Object.values(n.templates)) if (t) templates.add(t);
      if (n.kind === 'webhook') templates.add(n.templateId);
    }
    if (templates.size) {
      const rows = await this.store.db.selectFrom('templates').select(['id', 'channel', 'status']).where('workspace_id', '=', ws).where('id', 'in', [...templates]).execute();
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const [id, n] of Object.entries(d.nodes)) {
        const named: [string, string][] = n.kind === 'send' ? (Object.entries(n.templates).filter(([, t]) => t) as [string, string][]) : n.kind === 'webhook' ? [['webhook', n.templateId]] : [];
        for (const [channel, t] of named) {
          const row = byId.get(t);
          const path = n.kind === 'send' ? `nodes.${id}.templates.${channel}` : `nodes.${id}.templateId`;
          if (!row || row.status !== 'active') throw new HttpError(400, 'invalid_journey', `${path}: template ${t} not found`, path);
          if (row.channel !== channel) throw new HttpError(400, 'invalid_journey', `${path}: template ${t} is a ${row.channel} template, not ${channel}`, path);
        }
      }
    }
    return d;
  }

  async create(ws: string, draft: unknown): Promise<ReturnType<typeof journeyView>> {
    const d = await this.validate(ws, draft);
    const now = this.clock();
    const row = { workspace_id: ws, id: newId('jny', now), name: d.name, status: 'draft', draft: toJson(d), version: 0, created_at: now, updated_at: now, published_at: null, swept_at: null };
    await this.store.db.insertInto('journeys').values(row).execute();
    return journeyView({ ...row, draft: d });
  }

  async row(ws: string, id: string, tx: Tx = this.store.db) {
    const r = await tx.selectFrom('journeys').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!r) throw notFound(`journey ${id} not found`);
    return r;
  }

  async get(ws: string, id: string) {
    const r = await this.row(ws, id);
    const versions = await this.store.db.selectFrom('journey_versions').select(['version', 'created_at']).where('workspace_id', '=', ws).where('journey_id', '=', id).orderBy('version', 'desc').execute();
    const published = r.version > 0 ? await this.version(ws, id, r.version) : undefined;
    return { ...journeyView(r, published), versions: versions.map((v) => ({ version: v.version, publishedAt: v.created_at })) };
  }

  async list(ws: string) {
    const rows = await this.store.db.selectFrom('journeys').selectAll().where('workspace_id', '=', ws).orderBy('created_at', 'desc').execute();
    return rows.map((r) => journeyView(r));
  }

  /** Replaces the draft (published versions are untouched until the next publish). */
  async update(ws: string, id: string, draft: unknown) {
    const r = await this.row(ws, id);
    if (r.status === 'archived') throw new HttpError(409, 'archived', `journey ${id} is archived`);
    const d = await this.validate(ws, draft);
    const now = this.clock();
    await this.store.db.updateTable('journeys').set({ draft: toJson(d), name: d.name, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
    return journeyView({ ...r, draft: d, name: d.name, updated_at: now });
  }

  /** One published version (immutable: cached for good). */
  async version(ws: string, id: string, version: number, tx: Tx = this.store.db): Promise<JourneyDefinition> {
    const k = `${ws}\n${id}\n${version}`;
    const hit = this.versions.get(k);
    if (hit) return hit;
    const r = await tx.selectFrom('journey_versions').select('definition').where('workspace_id', '=', ws).where('journey_id', '=', id).where('version', '=', version).executeTakeFirst();
    if (!r) throw new Error(`journey ${id} version ${version} missing`);
    const def = fromJson<JourneyDefinition>(r.definition);
    this.versions.set(k, def);
    return def;
  }

  /**
   * Publishes the draft as a new version; new entries use it, people in flight stay on theirs unless `migrate` maps
   * their current node to a node of the new version (waits keep their deadline, so the node must be the same kind).
   */
  async publish(ws: string, id: string, migrate?: { nodes: Record<string, string> }) {
    const r = await this.row(ws, id);
    if (r.status === 'archived') throw new HttpError(409, 'archived', `journey ${id} is archived`);
    const def = await this.validate(ws, fromJson(r.draft));
    if (migrate) {
      for (const [from, to] of Object.entries(migrate.nodes)) {
        const target = def.nodes[to];
        if (!target) throw new HttpError(400, 'invalid_migration', `migrate.nodes.${from}: ${to} is not a node of the new version`, `migrate.nodes.${from}`);
      }
    }
    const now = this.clock();
    const version = r.version + 1;
    let migrated = 0;
    await this.store.db.transaction().execute(async (tx) => {
      await tx.insertInto('journey_versions').values({ workspace_id: ws, journey_id: id, version, definition: toJson(def), created_at: now }).execute();
      await tx.updateTable('journeys').set({ version, status: r.status === 'paused' ? 'paused' : 'active', name: def.name, published_at: now, updated_at: now, swept_at: r.swept_at ?? now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      await this.writeTriggers(tx, ws, id, [...(await this.allVersions(tx, ws, id)), def]);
      if (migrate && r.version > 0) migrated = await this.migrateRuns(tx, ws, id, def, version, migrate.nodes, now);
    });
    this.live.delete(ws);
    return { ...(await this.get(ws, id)), migrated };
  }

  private async allVersions(tx: Tx, ws: string, id: string): Promise<JourneyDefinition[]> {
    const rows = await tx.selectFrom('journey_versions').select('definition').where('workspace_id', '=', ws).where('journey_id', '=', id).execute();
    return rows.map((x) => fromJson<JourneyDefinition>(x.definition));
  }

  /** Runs still on older versions keep reacting to their version's waits and exits: index every version's triggers. */
  private async writeTriggers(tx: Tx, ws: string, owner: string, defs: JourneyDefinition[]): Promise<void> {
    await tx.deleteFrom('journey_triggers').where('workspace_id', '=', ws).where('owner', '=', owner).execute();
    const all = new Map<string, { kind: string; name: string }>();
    for (const d of defs) for (const t of triggersOf(d)) all.set(`${t.kind}\n${t.name}`, t);
    if (all.size) await tx.insertInto('journey_triggers').values([...all.values()].map((t) => ({ workspace_id: ws, kind: t.kind, name: t.name, owner }))).execute();
  }

  private async migrateRuns(tx: Tx, ws: string, id: string, def: JourneyDefinition, version: number, map: Record<string, string>, now: number): Promise<number> {
    const runs = await tx.selectFrom('journey_runs').select(['profile_id', 'entry_id', 'node', 'version', 'state']).where('workspace_id', '=', ws).where('journey_id', '=', id).where('status', 'in', ['active', 'waiting']).where('version', '<', version).execute();
    let n = 0;
    for (const run of runs) {
      const to = map[run.node];
      if (!to) continue;
      const old = await this.version(ws, id, run.version, tx);
      if (old.nodes[run.node]?.kind !== def.nodes[to]!.kind) continue; // a wait moves only onto the same kind of wait
      const target = def.nodes[to]!;
      // The wait keeps its deadline; a wait_until now waits for what the new node waits for.
      const state = { ...fromJson<Record<string, unknown>>(run.state), version, node: to, ...(target.kind === 'wait_until' ? { waitingFor: target.until } : {}) };
      await tx
        .updateTable('journey_runs')
        .set({ version, node: to, state: toJson(state), updated_at: now })
        .where('workspace_id', '=', ws)
        .where('journey_id', '=', id)
        .where('profile_id', '=', run.profile_id)
        .where('entry_id', '=', run.entry_id)
        .execute();
      n++;
    }
    return n;
  }

  /** Pause: no new entries, people in flight hold where they are (timers wait) until resume. */
  async setStatus(ws: string, id: string, to: 'paused' | 'active' | 'archived') {
    const r = await this.row(ws, id);
    if (r.version === 0) throw new HttpError(409, 'not_published', `journey ${id} has not been published`);
    if (r.status === 'archived') throw new HttpError(409, 'archived', `journey ${id} is archived`);
    const now = this.clock();
    await this.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('journeys').set({ status: to, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      if (to === 'archived') {
        await tx
          .updateTable('journey_runs')
          .set({ status: 'exited', exit_reason: 'archived', wake_at: null, updated_at: now })
          .where('workspace_id', '=', ws)
          .where('journey_id', '=', id)
          .where('status', 'in', ['active', 'waiting'])
          .execute();
        await tx.deleteFrom('journey_triggers').where('workspace_id', '=', ws).where('owner', '=', id).execute();
        const pending = await tx.selectFrom('messages').select(['id', 'profile_id']).where('workspace_id', '=', ws).where('source', '=', `journey:${id}`).where('status', 'in', ['queued', 'deferred', 'retry']).execute();
        for (const m of pending) {
          await tx.updateTable('messages').set({ status: 'cancelled', error: 'journey archived', updated_at: now }).where('workspace_id', '=', ws).where('id', '=', m.id).execute();
          await logDecision(tx, ws, { messageId: m.id, profileId: m.profile_id, action: 'skip', code: 'journey_exit', reason: `cancelled: journey ${r.name} was archived before this message went out` }, now);
        }
      }
      // Schedules do not catch up on what they missed while paused.
      if (to === 'active' && r.status === 'paused') await tx.updateTable('journeys').set({ swept_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
    });
    this.live.delete(ws);
    return this.get(ws, id);
  }

  /** Active and paused journeys of a workspace with their latest definition. */
  async liveJourneys(ws: string, tx: Tx = this.store.db): Promise<LiveJourney[]> {
    const hit = this.live.get(ws);
    const now = Date.now();
    if (hit && now - hit.at < LIVE_TTL_MS) return hit.journeys;
    const rows = await tx.selectFrom('journeys').select(['id', 'name', 'status', 'version']).where('workspace_id', '=', ws).where('status', 'in', ['active', 'paused']).execute();
    const journeys: LiveJourney[] = [];
    for (const r of rows) journeys.push({ id: r.id, name: r.name, status: r.status as 'active' | 'paused', version: r.version, definition: await this.version(ws, r.id, r.version, tx) });
    this.live.set(ws, { at: now, journeys });
    return journeys;
  }

  /** Status of one journey (paused journeys hold their runs). */
  async statusOf(ws: string, id: string, tx: Tx = this.store.db): Promise<string | null> {
    const live = (await this.liveJourneys(ws, tx)).find((j) => j.id === id);
    if (live) return live.status;
    const r = await tx.selectFrom('journeys').select('status').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    return r?.status ?? null;
  }

  /** Index a broadcast's purchase trigger (promotions it declares) or drop it. */
  async broadcastTriggers(tx: Tx, ws: string, broadcastId: string, promotes: boolean): Promise<void> {
    await tx.deleteFrom('journey_triggers').where('workspace_id', '=', ws).where('owner', '=', `broadcast:${broadcastId}`).execute();
    if (promotes) await tx.insertInto('journey_triggers').values(PURCHASE_EVENTS.map((name) => ({ workspace_id: ws, kind: 'event', name, owner: `broadcast:${broadcastId}` }))).execute();
  }

  forget(ws: string): void {
    this.live.delete(ws);
  }
}
