// The identity processor: attributes each newly ingested event to ONE profile, creating, linking and merging
// profiles as the event's identifiers demand. It runs behind the ingest writer (events are durable first, then
// attributed within milliseconds), in batches, one processor at a time across all processes (the identity lock), so
// two requests that link the same people can never race into two merges.
import { sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { type EventIn, IdentityBatch } from './batch.ts';
import { lockIdentity } from './graph.ts';
import { turn } from '../segments/engine.ts';

/** Where an event goes that cannot be attributed even alone (a poison event): out of the queue, kept, logged. */
export const UNRESOLVED_PROFILE = 'unresolved';

export class IdentityProcessor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  private listeners: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: { batchSize?: number; pollMs?: number; coalesceMs?: number; log?: (msg: string, err?: unknown) => void } = {},
  ) {}

  /** Called after each committed batch (the segment worker wakes on it). */
  onCommit(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** Polls for work (other processes' writes) and reacts at once to `wake()` (this process's writes). */
  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs ?? 500);
      this.timer.unref();
    };
    tick();
  }

  private pendingWake: NodeJS.Timeout | null = null;
  private ingested = 0;
  private processed = 0;

  /** Events this process has written and not yet attributed (an estimate: other processes' writes are not in it). */
  get backlog(): number {
    return Math.max(0, this.ingested - this.processed);
  }

  /** The writer committed `n` new events. */
  noteIngested(n: number): void {
    this.ingested += n;
  }

  /**
   * Runs the loop soon. A few milliseconds of coalescing turn a stream of small commits into fewer, larger batches
   * (one transaction, one prefetch) at no visible cost to latency.
   */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.pendingWake) return;
    this.pendingWake = setTimeout(() => {
      this.pendingWake = null;
      this.startLoop();
    }, this.opts.coalesceMs ?? 5);
  }

  private startLoop(): void {
    if (this.stopped || this.running) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async loop(): Promise<void> {
    try {
      while ((await this.runBatch()) > 0 && !this.stopped) await turn();
    } catch (e) {
      this.opts.log?.('identity processor batch failed; isolating the failing event', e);
      await this.isolatePoison().catch((e2) => this.opts.log?.('identity processor cannot reach the store; will retry', e2));
    }
  }

  /**
   * A batch failed. Retry its first event alone; if that fails again while the store answers, the event itself is the
   * problem: it is set aside (profile 'unresolved', still in the log) so one bad event never stalls everyone's.
   */
  private async isolatePoison(): Promise<void> {
    try {
      await this.runBatch(1);
      return;
    } catch (e) {
      const first = await this.store.db.selectFrom('events').select('seq').where('profile_id', 'is', null).orderBy('seq').limit(1).executeTakeFirst();
      if (!first) return;
      await this.store.db.updateTable('events').set({ profile_id: UNRESOLVED_PROFILE }).where('seq', '=', first.seq).execute();
      this.opts.log?.(`event seq ${first.seq} cannot be attributed; set aside as '${UNRESOLVED_PROFILE}'`, e);
    }
  }

  /** Resolves when every event committed so far has been attributed (runs batches itself when stopped). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      if ((await this.runBatch()) === 0) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.pendingWake) clearTimeout(this.pendingWake);
    this.pendingWake = null;
    if (this.running) await this.running;
  }

  /** Processes up to batchSize unattributed events in one transaction; returns how many. */
  async runBatch(limit = this.opts.batchSize ?? 2000): Promise<number> {
    const n = await this.store.db.transaction().execute(async (tx) => {
      await lockIdentity(tx);
      const rows = (await tx
        .selectFrom('events')
        .select(['seq', 'workspace_id', 'message_id', 'type', 'event', 'user_id', 'anonymous_id', 'timestamp', 'properties', 'traits', 'context', 'channel', 'revenue_minor'])
        .where('profile_id', 'is', null)
        .orderBy('seq')
        .limit(limit)
        .execute()) as EventIn[];
      if (rows.length === 0) return 0;
      await new IdentityBatch(this.store, tx).run(rows);
      return rows.length;
    });
    const before = this.processed;
    this.processed += n;
    if (n > 0) for (const fn of this.listeners) fn();
    // Tables that grow from nothing under load need fresh PostgreSQL statistics, or plans made for an empty table
    // (scans) stay in use until autovacuum gets round to it.
    if (this.store.dialect === 'postgres' && n > 0 && (Math.floor(before / 200_000) !== Math.floor(this.processed / 200_000) || (before < 20_000 && this.processed >= 20_000))) {
      for (const t of ['events', 'profiles', 'identifiers']) await sql.raw(`ANALYZE ${t}`).execute(this.store.db);
    }
    return n;
  }
}

