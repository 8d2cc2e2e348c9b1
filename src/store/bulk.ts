// Bulk loading of the event log (imports, the demo). Same rows and the same idempotency rule as the ingest writer
// (src/ingest/writer.ts): a (workspace_id, message_id) already present is skipped, so a re-run inserts nothing.
// SQLite: one prepared statement, big transactions, on the raw handle while Kysely is held off. PostgreSQL: COPY into
// a temporary table, then one INSERT … SELECT … ON CONFLICT DO NOTHING, in insertion order (the identity processor
// attributes events in seq order, so an identify stays ahead of the events that follow it in the file).
import type { PoolClient } from 'pg';
import copyStreams from 'pg-copy-streams';
import type { Store } from './db.ts';
import type { EventRow } from '../ingest/normalize.ts';

export const EVENT_COLUMNS = [
  'workspace_id',
  'message_id',
  'type',
  'event',
  'user_id',
  'anonymous_id',
  'channel',
  'internal',
  'timestamp',
  'received_at',
  'properties',
  'traits',
  'context',
  'revenue_minor',
  'currency',
] as const satisfies readonly (keyof EventRow)[];

export const JSON_COLUMNS = new Set<string>(['properties', 'traits', 'context']);
/** PostgreSQL array types for unnest() inserts, per column. */
export const PG_TYPES: Record<(typeof EVENT_COLUMNS)[number], string> = {
  workspace_id: 'text',
  message_id: 'text',
  type: 'text',
  event: 'text',
  user_id: 'text',
  anonymous_id: 'text',
  channel: 'text',
  internal: 'int4',
  timestamp: 'int8',
  received_at: 'int8',
  properties: 'text',
  traits: 'text',
  context: 'text',
  revenue_minor: 'int8',
  currency: 'text',
};

export interface BulkResult {
  inserted: number;
  duplicates: number;
}

export interface BulkOptions {
  /** Rows per transaction (SQLite) or per COPY (PostgreSQL). */
  batchSize?: number;
}

export async function bulkInsertEvents(store: Store, rows: EventRow[], opts: BulkOptions = {}): Promise<BulkResult> {
  if (rows.length === 0) return { inserted: 0, duplicates: 0 };
  return store.sqlite ? bulkSqlite(store, rows, opts.batchSize ?? 10_000) : bulkPostgres(store, rows, opts.batchSize ?? 20_000);
}

const sqliteStatements = new WeakMap<object, (r: EventRow) => number>();

async function bulkSqlite(store: Store, rows: EventRow[], batchSize: number): Promise<BulkResult> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += batchSize) {
    const slice = rows.slice(i, i + batchSize);
    // Each batch is its own exclusive section, so API writes and the identity processor get turns between batches.
    inserted += await store.exclusiveSqlite((db) => {
      let insert = sqliteStatements.get(db);
      if (!insert) {
        const stmt = db.prepare(
          `INSERT INTO events (${EVENT_COLUMNS.join(',')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(',')}) ON CONFLICT (workspace_id, message_id) DO NOTHING`,
        );
        insert = (r) => stmt.run(EVENT_COLUMNS.map((c) => r[c])).changes;
        sqliteStatements.set(db, insert);
      }
      const run = insert;
      return db.transaction(() => {
        let n = 0;
        for (const r of slice) n += run(r);
        return n;
      })();
    });
  }
  return { inserted, duplicates: rows.length - inserted };
}

/** One value in COPY's text format: \N for NULL; backslash, tab, newline and carriage return escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

async function copyRows(client: PoolClient, table: string, rows: EventRow[], start: number): Promise<void> {
  const stream = client.query(copyStreams.from(`COPY ${table} (ord, ${EVENT_COLUMNS.join(',')}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let buf: string[] = [];
  let len = 0;
  const write = async (s: string) => {
    if (!stream.write(s)) await new Promise<void>((resolve) => stream.once('drain', resolve));
  };
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let line = String(start + i);
    for (const c of EVENT_COLUMNS) line += '\t' + copyValue(r[c]);
    buf.push(line + '\n');
    len += line.length;
    if (len > 1 << 18) {
      await write(buf.join(''));
      buf = [];
      len = 0;
    }
  }
  if (buf.length) await write(buf.join(''));
  stream.end();
  await done;
}

async function bulkPostgres(store: Store, rows: EventRow[], batchSize: number): Promise<BulkResult> {
  const client = await store.pool!.connect();
  let inserted = 0;
  try {
    const table = 'omnia_bulk_events';
    await client.query(
      `CREATE TEMP TABLE IF NOT EXISTS ${table} (ord int8, ${EVENT_COLUMNS.map((c) => `${c} ${PG_TYPES[c]}`).join(', ')})`,
    );
    const select = EVENT_COLUMNS.map((c) => (JSON_COLUMNS.has(c) ? `t.${c}::jsonb` : `t.${c}`)).join(', ');
    for (let i = 0; i < rows.length; i += batchSize) {
      const slice = rows.slice(i, i + batchSize);
      await client.query('BEGIN');
      try {
        await client.query(`TRUNCATE ${table}`);
        await copyRows(client, table, slice, i);
        // Rows already in the log are filtered out before their JSON is parsed into jsonb (a re-run costs little);
        // ON CONFLICT still covers duplicates within the batch and concurrent writers.
        const res = await client.query(
          `INSERT INTO events (${EVENT_COLUMNS.join(',')})
           SELECT ${select} FROM ${table} t
           WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.workspace_id = t.workspace_id AND e.message_id = t.message_id)
           ORDER BY ord
           ON CONFLICT (workspace_id, message_id) DO NOTHING`,
        );
        await client.query('COMMIT');
        inserted += res.rowCount ?? 0;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    }
    await client.query(`DROP TABLE IF EXISTS ${table}`);
  } catch (e) {
    // A failed COPY can leave the connection in a state the pool must not hand out again.
    client.release(e instanceof Error ? e : true);
    throw e;
  }
  client.release();
  return { inserted, duplicates: rows.length - inserted };
}
