// Group commit for the event log. Requests enqueue their rows and wait; one flush writes everything queued since the
// last one in a single transaction and then answers all of them. An acknowledged event is therefore committed (WAL on
// SQLite, WAL+fsync on PostgreSQL) before its 200, while throughput stays near the bare batched-insert ceiling.
import type { Store } from '../store/db.ts';
import type { EventRow } from './normalize.ts';
import { EVENT_COLUMNS, JSON_COLUMNS, PG_TYPES } from '../store/bulk.ts';

// The event log's columns, shared with the bulk loader so both write exactly the same rows.
const COLS = EVENT_COLUMNS;

interface Pending {
  rows: EventRow[];
  resolve: (inserted: boolean[]) => void;
  reject: (e: unknown) => void;
}

export interface WriterOptions {
  /** Above this many queued rows, `overloaded` turns true and the API answers 429. */
  maxQueuedRows?: number;
  /** Largest transaction (rows) one flush writes. */
  maxFlushRows?: number;
  /** Commits in flight at once on PostgreSQL (SQLite: always one). */
  maxInFlight?: number;
}

export class EventWriter {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private scheduled = false;
  private closed = false;
  private listeners: ((inserted: number) => void)[] = [];
  private readonly maxInFlight: number;
  private readonly maxQueued: number;
  private readonly maxFlush: number;
  private sqliteInsert?: (row: EventRow) => boolean;

  constructor(
    private readonly store: Store,
    opts: WriterOptions = {},
  ) {
    this.maxQueued = opts.maxQueuedRows ?? 50_000;
    this.maxFlush = opts.maxFlushRows ?? 5_000;
    // SQLite has one writer; PostgreSQL overlaps one commit's fsync with the next transaction's work.
    this.maxInFlight = store.sqlite ? 1 : (opts.maxInFlight ?? 2);
    if (store.sqlite) {
      const stmt = store.sqlite.prepare(
        `INSERT INTO events (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')}) ON CONFLICT (workspace_id, message_id) DO NOTHING`,
      );
      this.sqliteInsert = (r) => stmt.run(COLS.map((c) => r[c])).changes > 0;
    }
  }

  /** True when the writer is behind: callers should answer 429 with Retry-After rather than queue more. */
  get overloaded(): boolean {
    return this.queuedRows >= this.maxQueued;
  }

  get queued(): number {
    return this.queuedRows;
  }

  /** Called after every commit with the number of new rows (the identity processor wakes up on it). */
  onCommit(fn: (inserted: number) => void): void {
    this.listeners.push(fn);
  }

  /** Resolves once the rows are committed; for each row, whether it was new (false: duplicate messageId). */
  write(rows: EventRow[]): Promise<boolean[]> {
    if (this.closed) return Promise.reject(new Error('writer is closed'));
    if (rows.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate: every request that arrived in this turn of the event loop joins the same transaction.
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  /** Starts commits while there is work and a free slot (one on SQLite, a few on PostgreSQL). */
  private pump(): void {
    while (this.queue.length && this.inFlight < this.maxInFlight) {
      const take: Pending[] = [];
      let n = 0;
      while (this.queue.length && (n === 0 || n + this.queue[0]!.rows.length <= this.maxFlush)) {
        const p = this.queue.shift()!;
        take.push(p);
        n += p.rows.length;
      }
      this.inFlight++;
      void this.commitGroup(take).then((inserted) => {
        this.inFlight--;
        this.queuedRows -= n;
        for (const fn of this.listeners) fn(inserted);
        if (this.queue.length) this.pump();
        else if (this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  /** Commits a group; answers every request in it. Returns how many rows were new. Never rejects. */
  private async commitGroup(take: Pending[]): Promise<number> {
    try {
      const results = await this.commit(take.flatMap((p) => p.rows));
      let i = 0;
      for (const p of take) {
        p.resolve(results.slice(i, i + p.rows.length));
        i += p.rows.length;
      }
      return results.filter(Boolean).length;
    } catch (e) {
      // One bad request must not fail the others committed with it: retry each on its own (a failed commit rolled
      // back completely, so nothing is written twice).
      if (take.length === 1) {
        take[0]!.reject(e);
        return 0;
      }
      let inserted = 0;
      for (const p of take) {
        try {
          const r = await this.commit(p.rows);
          inserted += r.filter(Boolean).length;
          p.resolve(r);
        } catch (err) {
          p.reject(err);
        }
      }
      return inserted;
    }
  }

  private async commit(rows: EventRow[]): Promise<boolean[]> {
    if (this.sqliteInsert) {
      const insert = this.sqliteInsert;
      return this.store.exclusiveSqlite((db) => db.transaction(() => rows.map(insert))());
    }
    return this.commitPostgres(rows);
  }

  private async commitPostgres(rows: EventRow[]): Promise<boolean[]> {
    const types = PG_TYPES;
    const params = COLS.map((c) => rows.map((r) => r[c]));
    const select = COLS.map((c) => (JSON_COLUMNS.has(c) ? `${c}::jsonb` : c)).join(',');
    const res = await this.store.pool!.query<{ workspace_id: string; message_id: string }>(
      `INSERT INTO events (${COLS.join(',')})
       SELECT ${select} FROM unnest(${COLS.map((c, i) => `$${i + 1}::${types[c]}[]`).join(',')}) AS t(${COLS.join(',')})
       ON CONFLICT (workspace_id, message_id) DO NOTHING RETURNING workspace_id, message_id`,
      params,
    );
    const inserted = new Set(res.rows.map((r) => `${r.workspace_id}\u0000${r.message_id}`));
    return rows.map((r) => {
      const k = `${r.workspace_id}\u0000${r.message_id}`;
      // Within one flush the same messageId can appear twice: only its first occurrence counts as new.
      if (inserted.has(k)) {
        inserted.delete(k);
        return true;
      }
      return false;
    });
  }

  /** Waits until everything queued so far is committed. */
  async flush(): Promise<void> {
    while (this.queue.length || this.inFlight) {
      const idle = new Promise<void>((r) => this.idleWaiters.push(r));
      this.pump();
      await idle;
    }
  }

  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
  }
}
