// The segment runtime. Two ways in, one evaluation path:
// - incremental: modules enqueue a person with what changed (segment_work); the worker re-evaluates only the segments
//   that depend on it; every evaluation schedules the exact moment its answer can next change (segment_timers);
// - full recompute: every person of the workspace, page by page (on create/change, and as the test oracle).
// Membership changes become internal 'Segment Entered' / 'Segment Left' events (timestamped at the exact moment the
// change happened — a timer's due time, not when a worker got to it) and are published after commit.
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import type { Condition } from './definition.ts';
import { type Deps, dependencies, factNeeds, topoOrder, touches } from './deps.ts';
import { evaluate } from './evaluate.ts';
import { loadCustomProperties, loadFacts } from './load.ts';

type Tx = Transaction<DB> | Kysely<DB>;

export interface ActiveSegment {
  id: string;
  name: string;
  version: number;
  definition: Condition;
  deps: Deps;
}

export interface MembershipChange {
  workspaceId: string;
  segmentId: string;
  segmentName: string;
  profileId: string;
  change: 'entered' | 'left';
  at: number;
  cause: string;
}

export type Clock = () => number;

/**
 * Lets timers and sockets run. better-sqlite3 answers synchronously, so on SQLite an async loop over queries never
 * leaves the microtask queue: without this, a worker that keeps finding work (a burst of due timers, a recompute)
 * holds the whole process — HTTP included — until it runs out.
 */
export const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const RFM_EVERY_MS = 24 * 3_600_000;

/** Adds people to the re-evaluation queue with what changed about them (same transaction as the change). */
export async function enqueueSegmentWork(tx: Tx, ws: string, items: Map<string, Set<string>>, now = Date.now()): Promise<void> {
  const rows = [...items].map(([profile_id, reasons]) => ({ workspace_id: ws, profile_id, reasons: [...reasons].join('\n'), enqueued_at: now }));
  for (let i = 0; i < rows.length; i += 400) {
    await tx
      .insertInto('segment_work')
      .values(rows.slice(i, i + 400))
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'profile_id']).doUpdateSet({
          // Reasons accumulate until a worker takes the row; past a bound, "everything" is cheaper to say.
          reasons: sql<string>`case when length(segment_work.reasons) > 4000 then 'all' else segment_work.reasons || ${'\n'} || excluded.reasons end`,
        }),
      )
      .execute();
  }
}

export class SegmentEngine {
  private cache = new Map<string, { stamp: string; segments: ActiveSegment[] }>();
  private subscribers: ((c: MembershipChange) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly store: Store,
    private readonly opts: { clock?: Clock; pollMs?: number; batchSize?: number; log?: (msg: string, err?: unknown) => void } = {},
  ) {}

  now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  private txSubscribers: ((tx: Tx, changes: MembershipChange[]) => Promise<void>)[] = [];

  /** Outboxes (webhooks): run inside the transaction that writes the changes, so their rows commit or roll back with them. */
  subscribeInTransaction(fn: (tx: Tx, changes: MembershipChange[]) => Promise<void>): () => void {
    this.txSubscribers.push(fn);
    return () => {
      this.txSubscribers = this.txSubscribers.filter((s) => s !== fn);
    };
  }

  /** In-process subscribers (journeys) receive every change after it is committed. */
  subscribe(fn: (c: MembershipChange) => void): () => void {
    this.subscribers.push(fn);
    return () => {
      this.subscribers = this.subscribers.filter((s) => s !== fn);
    };
  }

  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs ?? 250);
      this.timer.unref();
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.precise) clearTimeout(this.precise);
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
        while ((await this.runOnce()) > 0 && !this.stopped) await turn();
        await this.scheduledRfm();
        await this.armNextTimer();
      } catch (e) {
        this.opts.log?.('segment worker failed; will retry', e);
      }
    })().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Processes queued work and due timers until none is left (tests; the CLI). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      if ((await this.runOnce()) === 0) return;
    }
  }

  private precise: NodeJS.Timeout | null = null;

  /**
   * Polling alone would fire a timer up to one poll late: wake exactly when the next one is due (this process's
   * clock; other processes' polls are the safety net).
   */
  private async armNextTimer(): Promise<void> {
    if (this.opts.clock || this.stopped) return; // an injected clock moves by itself; tests drain explicitly
    const row = await this.store.db.selectFrom('segment_timers').select((eb) => eb.fn.min('due_at').as('due')).executeTakeFirst();
    const due = row?.due === null || row?.due === undefined ? null : Number(row.due);
    if (due === null) return;
    const wait = due - this.now();
    if (wait > (this.opts.pollMs ?? 250)) return;
    if (this.precise) clearTimeout(this.precise);
    this.precise = setTimeout(() => {
      this.precise = null;
      this.wake();
    }, Math.max(0, wait));
    this.precise.unref();
  }

  private lastRfmCheck = 0;

  /** RFM is recomputed once a day (by whichever process claims the run first) for every workspace with orders. */
  async scheduledRfm(): Promise<void> {
    const now = this.now();
    if (now - this.lastRfmCheck < 60_000) return;
    this.lastRfmCheck = now;
    const claimed = await this.store.db.updateTable('locks').set({ at: now }).where('name', '=', 'rfm').where('at', '<', now - RFM_EVERY_MS).executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return;
    const { recomputeRfm } = await import('./rfm.ts');
    for (const w of await this.store.db.selectFrom('workspaces').select('id').execute()) await recomputeRfm(this.store, w.id, now);
  }

  invalidate(ws?: string): void {
    if (ws) this.cache.delete(ws);
    else this.cache.clear();
  }

  /** Active segments of a workspace in dependency order, cached until any segment of it changes. */
  async segments(tx: Tx, ws: string): Promise<ActiveSegment[]> {
    const stampRow = await tx
      .selectFrom('segments')
      .select([sql<number>`count(*)`.as('n'), sql<number>`max(updated_at)`.as('u')])
      .where('workspace_id', '=', ws)
      .executeTakeFirst();
    const customRow = await tx
      .selectFrom('computed_properties')
      .select([sql<number>`count(*)`.as('n'), sql<number>`max(updated_at)`.as('u')])
      .where('workspace_id', '=', ws)
      .executeTakeFirst();
    const stamp = `${stampRow?.n}:${stampRow?.u}:${customRow?.n}:${customRow?.u}`;
    const hit = this.cache.get(ws);
    if (hit && hit.stamp === stamp) return hit.segments;
    const rows = await tx.selectFrom('segments').selectAll().where('workspace_id', '=', ws).where('status', '=', 'active').execute();
    const custom = await loadCustomProperties(tx, ws);
    const list = rows.map((r) => {
      const definition = fromJson<Condition>(r.definition);
      return { id: r.id, name: r.name, version: r.version, definition, deps: dependencies(definition, custom) };
    });
    const ordered = topoOrder(list) ?? list;
    this.cache.set(ws, { stamp, segments: ordered });
    return ordered;
  }

  /** One round: a batch of queued people and a batch of due timers, under the segments lock. Returns work done. */
  async runOnce(): Promise<number> {
    const limit = this.opts.batchSize ?? 500;
    const changes: MembershipChange[] = [];
    const done = await this.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('locks').set({ at: Date.now() }).where('name', '=', 'segments').execute();
      const now = this.now();
      const skip = this.store.dialect === 'postgres' ? sql` FOR UPDATE SKIP LOCKED` : sql``;
      const work = await sql<{ workspace_id: string; profile_id: string; reasons: string }>`
        DELETE FROM segment_work WHERE (workspace_id, profile_id) IN (
          SELECT workspace_id, profile_id FROM segment_work ORDER BY enqueued_at LIMIT ${limit}${skip})
        RETURNING workspace_id, profile_id, reasons`.execute(tx);
      const timers = await tx.selectFrom('segment_timers').selectAll().where('due_at', '<=', now).orderBy('due_at').limit(limit).execute();
      if (!work.rows.length && !timers.length) return 0;

      // (ws) → profile → { reasons, due segments }
      const byWs = new Map<string, Map<string, { reasons: Set<string>; due: Map<string, number> }>>();
      const entry = (ws: string, p: string) => {
        let m = byWs.get(ws);
        if (!m) byWs.set(ws, (m = new Map()));
        let e = m.get(p);
        if (!e) m.set(p, (e = { reasons: new Set(), due: new Map() }));
        return e;
      };
      for (const w of work.rows) for (const r of w.reasons.split('\n')) if (r) entry(w.workspace_id, w.profile_id).reasons.add(r);
      for (const t of timers) entry(t.workspace_id, t.profile_id).due.set(t.segment_id, t.due_at);

      for (const [ws, people] of byWs) {
        const segs = await this.segments(tx, ws);
        const plan = new Map<string, { segments: Set<string>; at: Map<string, number> }>();
        for (const [p, e] of people) {
          const touched = new Set<string>();
          for (const s of segs) if (touches(s.deps, e.reasons)) touched.add(s.id);
          plan.set(p, { segments: touched, at: e.due });
        }
        changes.push(...(await this.evaluatePeople(tx, ws, segs, plan, now, 'event')));
      }
      return work.rows.length + timers.length;
    });
    this.publish(changes);
    return done;
  }

  /**
   * Evaluates the given segments for the given people and writes membership, timers and change events. Segments that
   * refer to a segment being evaluated are evaluated too (after it), so references are never stale.
   */
  async evaluatePeople(
    tx: Tx,
    ws: string,
    segs: ActiveSegment[],
    plan: Map<string, { segments: Set<string>; at?: Map<string, number> }>,
    now: number,
    cause: string,
  ): Promise<MembershipChange[]> {
    const ids = [...plan.keys()];
    const facts = await loadFacts(tx, ws, ids, factNeeds(segs.map((s) => s.deps)));
    // Timers that exist now: only those can need deleting (most evaluations have none to delete).
    const hasTimer = new Set<string>();
    for (let i = 0; i < ids.length; i += 400) {
      const rows = await tx.selectFrom('segment_timers').select(['profile_id', 'segment_id']).where('workspace_id', '=', ws).where('profile_id', 'in', ids.slice(i, i + 400)).execute();
      for (const r of rows) hasTimer.add(`${r.profile_id}\u0000${r.segment_id}`);
    }
    const changes: MembershipChange[] = [];
    const byId = new Map(segs.map((s) => [s.id, s]));
    const timerDeletes: { profile: string; segment: string }[] = [];
    const timerInserts: { workspace_id: string; profile_id: string; segment_id: string; due_at: number }[] = [];
    const enter: { workspace_id: string; segment_id: string; profile_id: string; entered_at: number }[] = [];
    const leave: { profile: string; segment: string }[] = [];

    for (const [pid, p] of plan) {
      const f = facts.get(pid);
      if (!f) {
        // Merged into someone else, or erased: this id is no longer a person.
        const gone = await tx.selectFrom('segment_members').select('segment_id').where('workspace_id', '=', ws).where('profile_id', '=', pid).execute();
        for (const g of gone) {
          leave.push({ profile: pid, segment: g.segment_id });
          changes.push({ workspaceId: ws, segmentId: g.segment_id, segmentName: byId.get(g.segment_id)?.name ?? g.segment_id, profileId: pid, change: 'left', at: now, cause: 'profile merged or deleted' });
        }
        await tx.deleteFrom('segment_timers').where('workspace_id', '=', ws).where('profile_id', '=', pid).execute();
        continue;
      }
      // Chosen: touched by what changed, or due by a timer; then anything that refers to a chosen segment.
      const chosen = new Set([...p.segments, ...(p.at?.keys() ?? [])]);
      let grew = true;
      while (grew) {
        grew = false;
        for (const s of segs) {
          if (chosen.has(s.id)) continue;
          for (const r of s.deps.segments) if (chosen.has(r)) { chosen.add(s.id); grew = true; break; }
        }
      }
      for (const seg of segs) {
        if (!chosen.has(seg.id)) continue;
        // A change that only time caused happened at the timer's due time, whenever the worker got to it.
        const dueAt = p.segments.has(seg.id) ? undefined : p.at?.get(seg.id);
        const r = evaluate(seg.definition, f, now);
        const was = f.segments.has(seg.id);
        // A new due time replaces the old one (upsert); only a pair with no next change loses its timer.
        if (r.next !== null) timerInserts.push({ workspace_id: ws, profile_id: pid, segment_id: seg.id, due_at: r.next });
        else if (hasTimer.has(`${pid}\u0000${seg.id}`)) timerDeletes.push({ profile: pid, segment: seg.id });
        if (r.value === was) continue;
        const at = dueAt !== undefined ? Math.min(dueAt, now) : now;
        if (r.value) {
          f.segments.add(seg.id);
          enter.push({ workspace_id: ws, segment_id: seg.id, profile_id: pid, entered_at: at });
        } else {
          f.segments.delete(seg.id);
          leave.push({ profile: pid, segment: seg.id });
        }
        changes.push({ workspaceId: ws, segmentId: seg.id, segmentName: seg.name, profileId: pid, change: r.value ? 'entered' : 'left', at, cause: dueAt !== undefined ? 'time' : cause });
      }
      // Timers of segments that no longer exist are dropped.
      if (p.at) for (const s of p.at.keys()) if (!byId.has(s)) timerDeletes.push({ profile: pid, segment: s });
    }

    await this.writeTimers(tx, ws, timerDeletes, timerInserts);
    for (let i = 0; i < enter.length; i += 400) await tx.insertInto('segment_members').values(enter.slice(i, i + 400)).onConflict((oc) => oc.doNothing()).execute();
    const leaveBySegment = new Map<string, string[]>();
    for (const l of leave) (leaveBySegment.get(l.segment) ?? leaveBySegment.set(l.segment, []).get(l.segment)!).push(l.profile);
    for (const [segment, profiles] of leaveBySegment) {
      for (let i = 0; i < profiles.length; i += 400) {
        await tx.deleteFrom('segment_members').where('workspace_id', '=', ws).where('segment_id', '=', segment).where('profile_id', 'in', profiles.slice(i, i + 400)).execute();
      }
    }
    const events = changes.map((c) => ({
      workspace_id: ws,
      message_id: newId('omnia'),
      profile_id: c.profileId,
      type: 'track',
      event: c.change === 'entered' ? 'Segment Entered' : 'Segment Left',
      user_id: null,
      anonymous_id: null,
      channel: 'omnia',
      internal: 1,
      timestamp: c.at,
      received_at: now,
      properties: toJson({ segmentId: c.segmentId, segmentName: c.segmentName, version: byId.get(c.segmentId)?.version ?? null, cause: c.cause }),
      traits: '{}',
      context: '{}',
      revenue_minor: null,
      currency: null,
    }));
    for (let i = 0; i < events.length; i += 200) await tx.insertInto('events').values(events.slice(i, i + 200)).execute();
    if (changes.length) for (const s of this.txSubscribers) await s(tx, changes);
    return changes;
  }

  private async writeTimers(
    tx: Tx,
    ws: string,
    deletes: { profile: string; segment: string }[],
    inserts: { workspace_id: string; profile_id: string; segment_id: string; due_at: number }[],
  ): Promise<void> {
    const bySegment = new Map<string, string[]>();
    for (const d of deletes) (bySegment.get(d.segment) ?? bySegment.set(d.segment, []).get(d.segment)!).push(d.profile);
    for (const [segment, profiles] of bySegment) {
      for (let i = 0; i < profiles.length; i += 400) {
        await tx.deleteFrom('segment_timers').where('workspace_id', '=', ws).where('segment_id', '=', segment).where('profile_id', 'in', profiles.slice(i, i + 400)).execute();
      }
    }
    for (let i = 0; i < inserts.length; i += 400) {
      await tx
        .insertInto('segment_timers')
        .values(inserts.slice(i, i + 400))
        .onConflict((oc) => oc.columns(['workspace_id', 'profile_id', 'segment_id']).doUpdateSet({ due_at: sql`excluded.due_at` }))
        .execute();
    }
  }

  /** Re-evaluates one segment (or all) for every person in the workspace, page by page. Returns people evaluated. */
  async recompute(ws: string, segmentId?: string, pageSize = 500): Promise<number> {
    let after = '';
    let total = 0;
    for (;;) {
      const page = await this.store.db
        .selectFrom('profiles')
        // Pages follow the primary key; merged-away profiles are skipped here rather than in SQL, because
        // `id = canonical_id` makes PostgreSQL expect ~0.5% of rows to match and plan every page as a scan + sort.
        .select(['id', 'canonical_id'])
        .where('workspace_id', '=', ws)
        .where('id', '>', after)
        .orderBy('id')
        .limit(pageSize)
        .execute();
      // Members whose profile is gone (merged, deleted) are part of the last page's work.
      const ids = page.filter((r) => r.id === r.canonical_id).map((r) => r.id);
      const changes: MembershipChange[] = [];
      await this.store.db.transaction().execute(async (tx) => {
        await tx.updateTable('locks').set({ at: Date.now() }).where('name', '=', 'segments').execute();
        const segs = await this.segments(tx, ws);
        const target = segmentId ? segs.filter((s) => s.id === segmentId) : segs;
        if (!target.length) return;
        const plan = new Map(ids.map((id) => [id, { segments: new Set(target.map((s) => s.id)) }]));
        if (!page.length) {
          const stale = await tx
            .selectFrom('segment_members as m')
            .leftJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'm.workspace_id').onRef('p.id', '=', 'm.profile_id'))
            .select('m.profile_id')
            .where('m.workspace_id', '=', ws)
            .where((eb) => eb.or([eb('p.id', 'is', null), eb('p.canonical_id', '!=', eb.ref('p.id'))]))
            .execute();
          for (const s of stale) plan.set(s.profile_id, { segments: new Set(target.map((t) => t.id)) });
        }
        changes.push(...(await this.evaluatePeople(tx, ws, segs, plan, this.now(), 'recompute')));
        if (segmentId && !page.length) await tx.updateTable('segments').set({ recomputed_at: this.now() }).where('workspace_id', '=', ws).where('id', '=', segmentId).execute();
      });
      this.publish(changes);
      total += ids.length;
      // A recompute can grow membership and timer tables from nothing to millions of rows: keep PostgreSQL's
      // statistics current so its plans stay index lookups (a plan made for an empty table is a scan).
      if (this.store.dialect === 'postgres' && (total === pageSize * 4 || total % (pageSize * 200) === 0)) {
        await sql`ANALYZE segment_members`.execute(this.store.db);
        await sql`ANALYZE segment_timers`.execute(this.store.db);
      }
      if (!page.length) return total;
      after = page[page.length - 1]!.id;
      await turn();
    }
  }

  private publish(changes: MembershipChange[]): void {
    for (const c of changes) {
      for (const s of this.subscribers) {
        try {
          s(c);
        } catch (e) {
          this.opts.log?.('segment subscriber failed', e);
        }
      }
    }
  }
}
