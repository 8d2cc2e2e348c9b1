// The identity processor: attributes each newly ingested event to ONE profile, creating, linking and merging
// profiles as the event's identifiers demand. It runs behind the ingest writer (events are durable first, then
// attributed within milliseconds), in batches, one processor at a time across all processes (the identity lock), so
// two requests that link the same people can never race into two merges.
import type { Store } from '../store/db.ts';
import { type EventIn, IdentityBatch } from './batch.ts';
import { lockIdentity } from './graph.ts';



export class IdentityProcessor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: { batchSize?: number; pollMs?: number; log?: (msg: string, err?: unknown) => void } = {},
  ) {}

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

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async loop(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.runBatch();
        total += n;
        if (n === 0) break;
      }
    } catch (e) {
      this.opts.log?.('identity processor batch failed; will retry', e);
    }
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
    return total;
  }

  /** Resolves when every event committed so far has been attributed. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      const n = await this.runBatch();
      if (n === 0) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.running;
  }

  /** Processes up to batchSize unattributed events in one transaction; returns how many. */
  async runBatch(): Promise<number> {
    const limit = this.opts.batchSize ?? 1000;
    return this.store.db.transaction().execute(async (tx) => {
      await lockIdentity(tx);
      const rows = (await tx
        .selectFrom('events')
        .select(['seq', 'workspace_id', 'message_id', 'type', 'user_id', 'anonymous_id', 'timestamp', 'properties', 'traits', 'context'])
        .where('profile_id', 'is', null)
        .orderBy('seq')
        .limit(limit)
        .execute()) as EventIn[];
      if (rows.length === 0) return 0;
      await new IdentityBatch(this.store, tx).run(rows);
      return rows.length;
    });
  }
}

