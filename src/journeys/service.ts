// The journey worker. Each round takes the people with inbox inputs or due timers, and processes them in batches,
// one transaction per batch; on PostgreSQL every person is first claimed with a try-lock (pg_try_advisory_xact_lock),
// so several worker processes share the work without waiting on each other and never run one person twice at once.
// A batch that fails is retried person by person, so one bad input cannot hold everyone else back.
import { sql } from 'kysely';
import type { MessagingService } from '../messaging/service.ts';
import type { Clock, SegmentEngine } from '../segments/engine.ts';
import { turn } from '../segments/engine.ts';
import type { Store } from '../store/db.ts';
import { BroadcastRunner } from './broadcasts.ts';
import { JourneyCatalog } from './catalog.ts';
import { routeSegmentChanges } from './inbox.ts';
import { ChunkWrites, PersonTurn, type RoundTally, type WorkspaceInfo, flushStats, needsFacts, needsOf, newTally, prefetch } from './runner.ts';
import { loadFacts } from '../segments/load.ts';
import { factNeeds } from '../segments/deps.ts';
import { sweepEntries } from './sweep.ts';

export interface JourneyOptions {
  clock?: Clock;
  log?: (msg: string, err?: unknown) => void;
  pollMs?: number;
  /** people per round (default 400) */
  batchSize?: number;
}

/** A person whose turn keeps failing: inputs are looked at again after this long × attempts and dropped after 5; due timers are retried every RETRY_MS. */
const RETRY_MS = 60_000;
const MAX_ATTEMPTS = 5;

type Person = { ws: string; pid: string };

export class JourneyService {
  readonly catalog: JourneyCatalog;
  readonly dialect: 'sqlite' | 'postgres';
  readonly broadcasts: BroadcastRunner;
  private readonly clock: Clock;
  private timer: NodeJS.Timeout | null = null;
  private precise: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** node transitions since start (the throughput benchmark reads it) */
  transitions = 0;

  constructor(
    readonly store: Store,
    readonly segments: SegmentEngine,
    readonly messaging: MessagingService,
    readonly opts: JourneyOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
    this.dialect = store.dialect;
    this.catalog = new JourneyCatalog(store, this.clock, (ws) => messaging.settings.topics(ws));
    this.broadcasts = new BroadcastRunner(store, messaging, this.catalog, this.clock, opts.log);
    // Membership changes reach the inbox in the segment engine's own transaction.
    segments.subscribeInTransaction(async (tx, changes) => {
      await routeSegmentChanges(tx, changes, this.clock());
    });
    segments.subscribe(() => this.wake());
  }

  now(): number {
    return this.clock();
  }

  start(): void {
    if (!this.stopped) return;
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
        while ((await this.round()) > 0 && !this.stopped) await turn();
        await this.sweep();
        await this.armNextTimer();
      } catch (e) {
        this.opts.log?.('journey worker failed; will retry', e);
      }
    })().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Runs rounds (and the sweeper) until nothing is due at the current clock (tests; the CLI). */
  async drain(): Promise<void> {
    for (let i = 0; i < 100_000; i++) {
      if (this.running) await this.running;
      const n = (await this.round()) + (await this.sweep(true));
      if (n === 0) return;
    }
  }

  private lastSweep = 0;

  /** Schedules, date traits and broadcasts: at most once a second per process unless forced. */
  private async sweep(force = false): Promise<number> {
    const now = this.clock();
    if (!force && now - this.lastSweep < 1000) return 0;
    this.lastSweep = now;
    let n = await this.broadcasts.tick(now);
    n += await sweepEntries(this.store, this.catalog, now, this.opts.log);
    return n;
  }

  private async armNextTimer(): Promise<void> {
    if (this.opts.clock || this.stopped) return;
    const row = await this.store.db.selectFrom('journey_runs').select((eb) => eb.fn.min('wake_at').as('due')).where('wake_at', 'is not', null).executeTakeFirst();
    const due = row?.due == null ? null : Number(row.due);
    if (due === null) return;
    const wait = due - this.clock();
    if (wait > (this.opts.pollMs ?? 250)) return;
    if (this.precise) clearTimeout(this.precise);
    this.precise = setTimeout(() => {
      this.precise = null;
      this.wake();
    }, Math.max(0, wait));
    this.precise.unref();
  }

  /** The people with work now: inbox inputs (oldest first), then due timers of active journeys. */
  private async duePeople(now: number, limit: number): Promise<Person[]> {
    // The oldest inputs by id (the primary key's order: no sort of the whole inbox, however long the backlog).
    const inbox = await this.store.db.selectFrom('journey_inbox').select(['workspace_id', 'profile_id']).where('not_before', '<=', now).orderBy('id').limit(limit * 2).execute();
    const timers = await this.store.db
      .selectFrom('journey_runs as r')
      .innerJoin('journeys as j', (j) => j.onRef('j.workspace_id', '=', 'r.workspace_id').onRef('j.id', '=', 'r.journey_id'))
      .select(['r.workspace_id', 'r.profile_id'])
      .where('r.wake_at', '<=', now)
      .where('r.status', '=', 'waiting')
      .where('j.status', '=', 'active')
      .orderBy('r.wake_at')
      .limit(limit)
      .execute();
    const seen = new Set<string>();
    const out: Person[] = [];
    for (const r of [...inbox, ...timers]) {
      const k = `${r.workspace_id}\n${r.profile_id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      out.push({ ws: r.workspace_id, pid: r.profile_id });
    }
    return out;
  }

  /** One round; returns how many people had work. */
  async round(): Promise<number> {
    const now = this.clock();
    const people = await this.duePeople(now, this.opts.batchSize ?? 400);
    if (people.length === 0) return 0;
    const pg = this.store.dialect === 'postgres';
    const size = pg ? 25 : 100;
    const chunks: Person[][] = [];
    for (let i = 0; i < people.length; i += size) chunks.push(people.slice(i, i + size));
    const tally = newTally();
    let acted = 0;
    const runChunk = async (chunk: Person[]) => {
      try {
        acted += await this.batch(chunk, now, tally);
      } catch (err) {
        for (const p of chunk) {
          try {
            acted += await this.batch([p], now, tally);
          } catch (e) {
            acted += 1;
            await this.failed(p, now, e);
          }
        }
      }
    };
    if (pg) {
      // Several worker processes see the same due list: each starts at a random chunk, so they mostly claim different
      // people instead of queueing on the same try-locks.
      const shift = Math.floor(Math.random() * chunks.length);
      chunks.push(...chunks.splice(0, shift));
      let next = 0;
      await Promise.all(Array.from({ length: Math.min(3, chunks.length) }, async () => {
        while (next < chunks.length) await runChunk(chunks[next++]!);
      }));
    } else for (const c of chunks) await runChunk(c);
    this.transitions += tally.transitions;
    await this.refreshStats(acted);
    if (tally.stats.size) await flushStats(this.store.db, tally.stats).catch((e) => this.opts.log?.('journey node counters not written', e));
    if (tally.sends) this.messaging.wake();
    return acted;
  }

  private async batch(people: Person[], now: number, tally: RoundTally): Promise<number> {
    let acted = 0;
    const local = newTally();
    const info = new Map<string, WorkspaceInfo>();
    for (const ws of new Set(people.map((p) => p.ws))) {
      const policy = await this.messaging.settings.policy(ws);
      info.set(ws, { defaultTimeZone: policy.defaultTimeZone ?? 'UTC', topics: await this.messaging.settings.topics(ws) });
    }
    await this.store.db.transaction().execute(async (tx) => {
      let mine = people;
      if (this.store.dialect === 'postgres') {
        const keys = people.map((p) => `omnia:jny:${p.ws}:${p.pid}`);
        const got = await sql<{ k: string; ok: boolean }>`SELECT k, pg_try_advisory_xact_lock(hashtextextended(k, 0)) AS ok FROM unnest(${keys}::text[]) AS k`.execute(tx);
        const ok = new Set(got.rows.filter((r) => r.ok).map((r) => r.k));
        mine = people.filter((p, i) => ok.has(keys[i]!));
      }
      const byWs = new Map<string, string[]>();
      for (const p of mine) byWs.set(p.ws, [...(byWs.get(p.ws) ?? []), p.pid]);
      const writes = new ChunkWrites();
      for (const [ws, pids] of byWs) {
        const pre = await prefetch(tx, ws, pids, now);
        await this.prefetchFacts(tx, ws, pre);
        for (const pid of pids) if (await new PersonTurn(this, tx, ws, pid, now, local, info.get(ws)!, writes).run(pre.get(pid)!)) acted++;
        await writes.flush(tx, this.store.dialect);
      }
      local.sends += writes.created;
    });
    // Counted only once the transaction committed (a retried batch must not count twice).
    tally.transitions += local.transitions;
    tally.sends += local.sends;
    if (local.sends) this.messaging.wake(); // each chunk's messages go out as soon as it commits
    tally.inputs += local.inputs;
    for (const [k, v] of local.stats) tally.stats.set(k, (tally.stats.get(k) ?? 0) + v);
    return acted;
  }

  /**
   * Facts for everyone in the chunk whose turn may ask a question about them (a run in, or an input for, a journey
   * with conditions), in one load for the chunk instead of one per person.
   */
  private async prefetchFacts(tx: Parameters<typeof loadFacts>[0], ws: string, pre: Awaited<ReturnType<typeof prefetch>>): Promise<void> {
    const live = (await this.catalog.liveJourneys(ws, tx)).filter((j) => needsFacts(j.definition));
    const defs = new Set(live.map((j) => j.definition));
    const who: string[] = [];
    for (const [pid, p] of pre) {
      if (!p.profile || p.profile.canonical_id !== pid) continue;
      const runDefs = [];
      for (const r of p.runs) {
        if (r.status !== 'active' && r.status !== 'waiting') continue;
        const d = await this.catalog.version(ws, r.journey_id, r.version, tx);
        if (needsFacts(d)) runDefs.push(d);
      }
      if (runDefs.length || (p.inbox.length && live.length)) {
        who.push(pid);
        runDefs.forEach((d) => defs.add(d));
      }
    }
    if (!who.length) return;
    const needs = factNeeds([]);
    for (const d of defs) {
      const n = needsOf(d);
      if (n.events === 'all') needs.events = 'all';
      else if (needs.events !== 'all') n.events.forEach((e) => (needs.events as Set<string>).add(e));
      needs.context ||= n.context;
    }
    const facts = await loadFacts(tx, ws, who, needs);
    for (const pid of who) pre.get(pid)!.facts = facts.get(pid) ?? null;
  }

  private sinceAnalyze = 0;
  private lastAnalyze = 0;

  /**
   * PostgreSQL plans the batched run updates by table statistics; a journey that fills journey_runs quickly (a big
   * entry wave) outruns autovacuum's ANALYZE and the plan turns into scans. Refresh them now and then when this
   * worker has done a lot since (sampled, cheap).
   */
  private async refreshStats(acted: number): Promise<void> {
    if (this.store.dialect !== 'postgres') return;
    this.sinceAnalyze += acted;
    const t = Date.now();
    if (this.sinceAnalyze < 2000 || t - this.lastAnalyze < 30_000) return;
    this.sinceAnalyze = 0;
    this.lastAnalyze = t;
    await sql`ANALYZE journey_runs, journey_inbox`.execute(this.store.db).catch((e) => this.opts.log?.('journeys: ANALYZE failed', e));
  }

  private async failed(p: Person, now: number, err: unknown): Promise<void> {
    this.opts.log?.(`journeys: ${p.ws}/${p.pid} failed; retrying later`, err);
    try {
      await this.store.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('journey_inbox')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), not_before: sql<number>`${now} + ${RETRY_MS} * (attempts + 1)` }))
          .where('workspace_id', '=', p.ws)
          .where('profile_id', '=', p.pid)
          .execute();
        const dead = await tx.deleteFrom('journey_inbox').where('workspace_id', '=', p.ws).where('profile_id', '=', p.pid).where('attempts', '>=', MAX_ATTEMPTS).executeTakeFirst();
        if (Number(dead.numDeletedRows) > 0) this.opts.log?.(`journeys: dropped ${dead.numDeletedRows} input(s) of ${p.ws}/${p.pid} after ${MAX_ATTEMPTS} failed attempts`);
        await tx.updateTable('journey_runs').set({ wake_at: now + RETRY_MS }).where('workspace_id', '=', p.ws).where('profile_id', '=', p.pid).where('status', '=', 'waiting').where('wake_at', '<=', now).execute();
      });
    } catch (e) {
      this.opts.log?.('journeys: could not record the failure', e);
    }
  }
}
