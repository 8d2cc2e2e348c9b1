// One person's turn in the journey worker, inside a transaction that holds the person's lock: their inbox inputs in
// order, then their due timers. Every effect of a step — the run's new state, its timer (wake_at), the messages it
// sends (outbox rows with deterministic ids), trait and list changes, cancelled promotions — is written in that same
// transaction, so a crash at any point either keeps all of it or none, and the retry repeats nothing.
import { createHash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { type EnqueueInput, logDecision, messageRow } from '../messaging/outbox.ts';
import { type ChunkWrites, type Prefetched } from './chunk.ts';
export { ChunkWrites, type Prefetched, prefetch } from './chunk.ts';
import type { MessagingService } from '../messaging/service.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { evaluate } from '../segments/evaluate.ts';
import type { ProfileFacts } from '../segments/facts.ts';
import { loadFacts } from '../segments/load.ts';
import { type FactNeeds, dependencies, factNeeds } from '../segments/deps.ts';
import type { Condition } from '../segments/definition.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB, JourneyRunsTable } from '../store/types.ts';
import { type JourneyCatalog, type LiveJourney, PURCHASE_EVENTS } from './catalog.ts';
import type { JourneyDefinition } from './definition.ts';
import { type InboxEvent, type InboxPayload, enqueueEntries, mergeJourneyRuns } from './inbox.ts';
import { cancelEntryMessages, cancelPromotions, cancelsPending, overlap, productsOf, recentPurchaseOf, resolvePromotes } from './promotions.ts';
import { type Facts, type JourneyAction, type JourneyEvent, type JourneyInput, type JourneyState, type StepResult, advance, eventMatches, mayEnter } from './step.ts';

type Tx = Transaction<DB> | Kysely<DB>;

/** Events older than this (a backfill, an import) move nobody: journeys react to what happens now. */
export const FRESH_MS = 24 * 3_600_000;
/** Jumps from journey to journey stop after this many hops (a guard against two journeys jumping to each other). */
const MAX_JUMPS = 5;
export const ACTIVE = ['active', 'waiting'];

export interface RunnerDeps {
  catalog: JourneyCatalog;
  messaging: MessagingService;
  readonly dialect: 'sqlite' | 'postgres';
}

/**
 * Workspace settings a turn needs, read BEFORE its transaction opens: on SQLite the store has one connection, so a
 * read through it from inside the transaction would wait for the transaction forever.
 */
export interface WorkspaceInfo {
  defaultTimeZone: string;
  topics: { id: string; transactional: boolean }[];
}

/** What a round did, summed over people (counters are flushed once per transaction). */
export interface RoundTally {
  transitions: number;
  sends: number;
  inputs: number;
  stats: Map<string, number>;
}

export const newTally = (): RoundTally => ({ transitions: 0, sends: 0, inputs: 0, stats: new Map() });

interface Run {
  row: JourneyRunsTable;
  state: JourneyState;
  def: JourneyDefinition;
  dirty: boolean;
  isNew: boolean;
}

const needsCache = new WeakMap<JourneyDefinition, FactNeeds>();
/** Only the facts the definition's conditions read (a trait split loads no events). */
export function needsOf(def: JourneyDefinition): FactNeeds {
  let v = needsCache.get(def);
  if (!v) {
    const conds: Condition[] = [];
    for (const n of Object.values(def.nodes)) {
      if (n.kind === 'split' && n.condition.kind !== 'trigger') conds.push(n.condition as Condition);
      if (n.kind === 'multi_split') for (const b of n.branches) if (b.condition.kind !== 'trigger') conds.push(b.condition as Condition);
      if (n.kind === 'wait_until' && 'segment' in n.until) conds.push({ kind: 'segment', segmentId: n.until.segment } as Condition);
    }
    v = factNeeds(conds.map((c) => dependencies(c)));
    needsCache.set(def, v);
  }
  return v;
}

const needsFactsCache = new WeakMap<JourneyDefinition, boolean>();
/** Does a definition ever ask a question about the person (a split on a profile/segment condition, a segment wait)? */
export function needsFacts(def: JourneyDefinition): boolean {
  let v = needsFactsCache.get(def);
  if (v === undefined) {
    v = Object.values(def.nodes).some((n) => (n.kind === 'split' && n.condition.kind !== 'trigger') || (n.kind === 'multi_split' && n.branches.some((b) => b.condition.kind !== 'trigger')) || (n.kind === 'wait_until' && 'segment' in n.until));
    needsFactsCache.set(def, v);
  }
  return v;
}

/** A seeded uniform source: the same run at the same place draws the same number on a replay. */
function seeded(key: string): () => number {
  const h = createHash('sha256').update(key).digest();
  let a = h.readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const toJourneyEvent = (e: InboxEvent): JourneyEvent => ({ name: e.name, properties: e.properties ?? {}, timestamp: e.timestamp });

export class PersonTurn {
  private runs: Run[] = [];
  private facts: ProfileFacts | null = null;
  private zone = 'UTC';
  private live: LiveJourney[] = [];
  private history = new Map<string, { n: number; last: number }>();
  private factsLoaded = false;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly tx: Tx,
    private readonly ws: string,
    private readonly pid: string,
    private readonly now: number,
    private readonly tally: RoundTally,
    private readonly info: WorkspaceInfo,
    private readonly writes: ChunkWrites,
  ) {}

  /** Returns false when there was nothing to do for this person (another worker took them, or a merge moved them). */
  async run(pre: Prefetched): Promise<boolean> {
    const { tx, ws, pid, now } = this;
    const prof = pre.profile;
    if (!prof) {
      // Erased (GDPR) or never existed: nothing of theirs may go on.
      await tx.deleteFrom('journey_inbox').where('workspace_id', '=', ws).where('profile_id', '=', pid).execute();
      await tx.updateTable('journey_runs').set({ status: 'exited', exit_reason: 'deleted', wake_at: null, updated_at: now }).where('workspace_id', '=', ws).where('profile_id', '=', pid).where('status', 'in', ACTIVE).execute();
      return false;
    }
    if (prof.canonical_id !== pid) {
      // Inputs written under an id that has since been merged: hand them (and any run) to the survivor — after this
      // chunk's pending writes, so the survivor's runs are all there to compare with.
      await this.writes.flush(tx, this.deps.dialect);
      await mergeJourneyRuns(tx, ws, prof.canonical_id, pid, now);
      return true;
    }
    const inbox = pre.inbox;
    const hasDue = pre.runs.some((r) => r.status === 'waiting' && r.wake_at != null && Number(r.wake_at) <= now);
    if (inbox.length === 0 && !hasDue) return false; // another worker got here first
    this.live = await this.deps.catalog.liveJourneys(ws, tx);
    this.zone = prof.time_zone ?? this.info.defaultTimeZone;
    this.history = pre.history;
    if (pre.facts !== undefined) {
      this.facts = pre.facts;
      this.factsLoaded = true;
    }
    for (const row of pre.runs) {
      const def = await this.deps.catalog.version(ws, row.journey_id, row.version, tx);
      this.runs.push({ row: { ...row, wake_at: row.wake_at == null ? null : Number(row.wake_at), entered_at: Number(row.entered_at) }, state: fromJson<JourneyState>(row.state), def, dirty: false, isNew: false });
    }
    for (const item of inbox) {
      this.tally.inputs++;
      await this.input(fromJson<InboxPayload>(item.payload));
    }
    // Timers last: a wait whose time is up and an input that arrived meanwhile were handled in order by advance().
    for (const r of this.runs) {
      if (r.row.status !== 'waiting' || r.state.waitingUntil === undefined || r.state.waitingUntil > now) continue;
      if (this.statusOf(r.row.journey_id) !== 'active') continue;
      await this.step(r, { kind: 'timer' });
    }
    this.persist();
    for (const i of inbox) this.writes.inboxIds.push(i.id);
    return inbox.length > 0 || this.runs.some((r) => r.dirty);
  }

  private statusOf(journeyId: string): string | null {
    return this.live.find((j) => j.id === journeyId)?.status ?? null;
  }

  private async input(p: InboxPayload): Promise<void> {
    if (p.kind === 'enter') {
      const j = this.live.find((x) => x.id === p.journeyId && x.status === 'active');
      if (j) await this.tryEnter(j, p.event, p.depth ?? 0);
      return;
    }
    if (p.kind === 'segment') {
      const input: JourneyInput = { kind: 'segment', segmentId: p.segmentId, change: p.change };
      for (const r of this.activeRuns()) await this.step(r, input);
      for (const r of this.pausedRuns()) await this.goalOrExitOnly(r, input);
      for (const j of this.live) {
        if (j.status === 'active' && j.definition.entry.kind === 'segment' && j.definition.entry.segment === p.segmentId && j.definition.entry.op === p.change) await this.tryEnter(j, undefined, 0);
      }
      return;
    }
    const e = p.event;
    if (e.timestamp < this.now - FRESH_MS) return;
    const je = toJourneyEvent(e);
    // Goals and exits (and the waits) of the runs in flight first: a purchase converts before it cancels.
    for (const r of this.activeRuns()) await this.step(r, { kind: 'event', event: je }, e);
    for (const r of this.pausedRuns()) await this.goalOrExitOnly(r, { kind: 'event', event: je }, e);
    for (const r of this.runs) {
      // Finished runs are watched for the goal within its window — the holdout (control group) and the treatment alike
      // — so a purchase on day 3 after a journey that ended on day 1 still counts, and the two groups compare fairly.
      if (ACTIVE.includes(r.row.status) || r.row.converted_at != null || !r.def.goal || !eventMatches(r.def.goal, je, this.now)) continue;
      if (je.timestamp - r.row.entered_at > r.def.goal.withinDays * 86_400_000 || je.timestamp < r.row.entered_at) continue;
      if (['goal_after_window', 'merged', 'deleted', 'archived'].includes(r.row.exit_reason ?? '')) continue;
      r.row.converted_at = je.timestamp;
      r.row.revenue_minor = e.revenueMinor ?? null;
      r.dirty = true;
    }
    if (PURCHASE_EVENTS.includes(e.name)) await this.purchased(e);
    for (const j of this.live) {
      const entry = j.definition.entry;
      if (j.status === 'active' && entry.kind === 'event' && eventMatches(entry, je, this.now)) await this.tryEnter(j, e, 0);
    }
  }

  /** A purchase: pending promotions of what was bought are cancelled, and runs promoting it end. */
  private async purchased(e: InboxEvent): Promise<void> {
    await this.writes.flushMessages(this.tx);
    await cancelPromotions(this.tx, this.ws, [this.pid], e, this.now);
    const bought = productsOf(e.properties);
    for (const r of this.activeRuns()) {
      const p = resolvePromotes(r.def.promotes, r.state.trigger);
      if (!p || !overlap(p, bought)) continue;
      r.state = { ...r.state, status: 'exited', exitReason: 'purchased_promoted' };
      delete r.state.waitingUntil;
      delete r.state.waitingFor;
      this.sync(r);
      await this.writes.flushMessages(this.tx);
      await cancelEntryMessages(this.tx, this.ws, this.pid, r.row.journey_id, r.def.name, r.state.entryId, 'purchased_promoted', this.now);
    }
  }

  private activeRuns(): Run[] {
    return this.runs.filter((r) => ACTIVE.includes(r.row.status) && this.statusOf(r.row.journey_id) === 'active');
  }

  /** Runs of paused journeys: frozen where they are, but a goal or an exit rule still takes the person out. */
  private pausedRuns(): Run[] {
    return this.runs.filter((r) => ACTIVE.includes(r.row.status) && this.statusOf(r.row.journey_id) === 'paused');
  }

  private async goalOrExitOnly(r: Run, input: JourneyInput, event?: InboxEvent): Promise<void> {
    const facts = await this.factsFor(r.def);
    const res = advance(r.def, r.state, input, this.now, facts);
    if (res.actions.every((a) => a.kind === 'exit' || a.kind === 'converted') && res.actions.some((a) => a.kind === 'exit')) {
      r.state = res.state;
      for (const a of res.actions) await this.act(r, a, event, 0);
      this.sync(r);
    }
  }

  private async tryEnter(j: LiveJourney, event: InboxEvent | undefined, depth: number): Promise<void> {
    const mine = this.runs.filter((r) => r.row.journey_id === j.id);
    const stored = this.history.get(j.id);
    const fresh = mine.filter((r) => r.isNew);
    const lastEntered = Math.max(stored?.last ?? 0, ...fresh.map((r) => r.row.entered_at));
    const history = { count: (stored?.n ?? 0) + fresh.length, lastEnteredAt: lastEntered || undefined, active: mine.some((r) => ACTIVE.includes(r.row.status)) };
    if (!mayEnter(j.definition, history, this.now)) return;
    const entryId = newId('jre', this.now);
    const row: JourneyRunsTable = {
      workspace_id: this.ws,
      journey_id: j.id,
      profile_id: this.pid,
      entry_id: entryId,
      version: j.version,
      status: 'active',
      node: j.definition.start,
      wake_at: null,
      entered_at: this.now,
      updated_at: this.now,
      exit_reason: null,
      converted_at: null,
      revenue_minor: null,
      holdout: 0,
      state: '{}',
    };
    const run: Run = { row, state: null as unknown as JourneyState, def: j.definition, dirty: true, isNew: true };
    this.runs.push(run);
    await this.step(run, { kind: 'enter', version: j.version, entryId, ...(event ? { event: toJourneyEvent(event) } : {}) }, event, depth);
  }

  private async factsFor(def: JourneyDefinition): Promise<Facts> {
    if (needsFacts(def) && !this.factsLoaded) {
      this.facts = (await loadFacts(this.tx, this.ws, [this.pid], needsOf(def))).get(this.pid) ?? null;
      this.factsLoaded = true;
    }
    const facts = this.facts;
    const now = this.now;
    return {
      evaluate: (c) => (facts ? evaluate(c, facts, now).value : false),
      random: () => 0,
      timeZone: this.zone,
    };
  }

  private async step(r: Run, input: JourneyInput, event?: InboxEvent, depth = 0): Promise<void> {
    const facts = await this.factsFor(r.def);
    const key = input.kind === 'enter' ? `${r.row.journey_id}:${input.entryId}:0` : `${r.row.journey_id}:${r.state.entryId}:${r.state.path.length}`;
    facts.random = seeded(key);
    const res: StepResult = advance(r.def, input.kind === 'enter' ? null : r.state, input, this.now, facts);
    r.state = res.state;
    this.tally.transitions += res.visited.length;
    for (const n of res.visited) {
      const k = `${this.ws}\n${r.row.journey_id}\n${r.row.version}\n${n}`;
      this.tally.stats.set(k, (this.tally.stats.get(k) ?? 0) + 1);
    }
    for (const a of res.actions) await this.act(r, a, event, depth);
    this.sync(r);
  }

  /** Copies the state into the row's columns. */
  private sync(r: Run): void {
    const s = r.state;
    r.row.status = s.status;
    r.row.node = s.node;
    r.row.wake_at = s.status === 'waiting' ? (s.waitingUntil ?? null) : null;
    r.row.exit_reason = s.exitReason ?? null;
    if (s.convertedAt !== undefined && r.row.converted_at == null) r.row.converted_at = s.convertedAt;
    r.row.updated_at = this.now;
    r.dirty = true;
  }

  private async act(r: Run, a: JourneyAction, event: InboxEvent | undefined, depth: number): Promise<void> {
    const { tx, ws, pid, now } = this;
    switch (a.kind) {
      case 'send':
        await this.send(r, a);
        return;
      case 'webhook':
        await this.send(r, { kind: 'send', nodeId: a.nodeId, channel: 'webhook', templates: { webhook: a.templateId }, topic: r.def.topic, priority: r.def.priority, step: a.step });
        return;
      case 'update_trait': {
        const p = await tx.selectFrom('profiles').select('traits').where('workspace_id', '=', ws).where('id', '=', pid).executeTakeFirst();
        const traits = fromJson<Record<string, { v: unknown; t: number }>>(p?.traits);
        traits[a.trait] = { v: a.value, t: now };
        await tx.updateTable('profiles').set({ traits: toJson(traits) }).where('workspace_id', '=', ws).where('id', '=', pid).execute();
        await enqueueSegmentWork(tx, ws, new Map([[pid, new Set(['traits'])]]), now);
        this.factsLoaded = false;
        return;
      }
      case 'list':
        if (a.op === 'add') await tx.insertInto('list_members').values({ workspace_id: ws, list_id: a.listId, profile_id: pid, added_at: now }).onConflict((oc) => oc.doNothing()).execute();
        else await tx.deleteFrom('list_members').where('workspace_id', '=', ws).where('list_id', '=', a.listId).where('profile_id', '=', pid).execute();
        await enqueueSegmentWork(tx, ws, new Map([[pid, new Set(['list'])]]), now);
        this.factsLoaded = false;
        return;
      case 'jump':
        if (depth < MAX_JUMPS) await enqueueEntries(tx, ws, a.journeyId, [{ profileId: pid, ...(r.state.trigger ? { event: { ...r.state.trigger } } : {}), depth: depth + 1 }], now);
        return;
      case 'converted':
        r.row.revenue_minor = event?.revenueMinor ?? null;
        return;
      case 'exit':
        if (a.reason === 'holdout') r.row.holdout = 1;
        if (cancelsPending(a.reason)) {
          await this.writes.flushMessages(tx);
          await cancelEntryMessages(tx, ws, pid, r.row.journey_id, r.def.name, r.state.entryId, a.reason, now);
        }
        return;
      case 'schedule':
        return;
    }
  }

  private async send(r: Run, a: Extract<JourneyAction, { kind: 'send' }>): Promise<void> {
    const { tx, ws, pid, now } = this;
    const topic = this.info.topics.find((t) => t.id === a.topic);
    const promotes = resolvePromotes(r.def.promotes, r.state.trigger);
    const input: EnqueueInput = {
      workspaceId: ws,
      profileId: pid,
      source: `journey:${r.row.journey_id}`,
      step: a.step,
      channel: a.channel,
      templates: a.templates,
      topic: topic?.id ?? a.topic,
      transactional: topic?.transactional === true,
      priority: a.priority,
      context: {
        ...(r.state.trigger ? { event: r.state.trigger } : {}),
        journey: { id: r.row.journey_id, name: r.def.name, version: r.row.version, node: a.nodeId, entryId: r.state.entryId },
        ...(promotes ? { promotes } : {}),
      },
    };
    // Written with the chunk (one insert for many); a replayed step finds its message already there and adds nothing.
    const why = promotes ? await recentPurchaseOf(tx, ws, [pid], promotes, now) : null;
    const row = messageRow(input, now, why ? 'cancelled' : 'queued', why);
    if (why) {
      const exists = await tx.selectFrom('messages').select('id').where('workspace_id', '=', ws).where('id', '=', row.id).executeTakeFirst();
      if (!exists) await logDecision(tx, ws, { messageId: row.id, profileId: pid, action: 'skip', code: 'purchased', reason: `cancelled: ${why}; journey ${r.def.name} no longer promotes it` }, now);
    }
    this.writes.messages.push(row);
  }

  private persist(): void {
    for (const r of this.runs) {
      if (!r.dirty) continue;
      const row = { ...r.row, state: toJson(r.state) };
      (r.isNew ? this.writes.inserts : this.writes.updates).push(row);
      r.isNew = false;
    }
  }
}

/** Adds a round's per-node visit counts to the counters (one upsert per node). */
export async function flushStats(tx: Tx, stats: Map<string, number>): Promise<void> {
  for (const [k, n] of stats) {
    const [workspace_id, journey_id, version, node] = k.split('\n') as [string, string, string, string];
    await tx
      .insertInto('journey_node_stats')
      .values({ workspace_id, journey_id, version: Number(version), node, visits: n })
      .onConflict((oc) => oc.columns(['workspace_id', 'journey_id', 'version', 'node']).doUpdateSet((eb) => ({ visits: eb('journey_node_stats.visits', '+', n) })))
      .execute();
  }
  stats.clear();
}
