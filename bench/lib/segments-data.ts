// Direct bulk loading of generated state for the segment benchmarks: rows go straight into Omnia's tables (profiles,
// identifiers, events with profile_id already set, segments, members, timers), bypassing ingestion and the identity
// processor. SQLite: one prepared INSERT, big transactions, on the raw handle inside exclusiveSqlite. PostgreSQL: COPY
// … FROM STDIN (text format) on a pooled connection. See docs/benchmarks.md for the generators.
import copyStreams from 'pg-copy-streams';
import type { Store } from '../../src/store/db.ts';

/** One value in COPY's text format: \N for NULL; backslash, tab, newline and carriage return escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : s;
}

const sqliteStatements = new Map<string, { db: unknown; run: (rows: unknown[][]) => void }>();

/** Inserts rows (arrays in `cols` order). SQLite: one transaction per call; PostgreSQL: one COPY per call. */
export async function insertRows(store: Store, table: string, cols: readonly string[], rows: unknown[][]): Promise<void> {
  if (!rows.length) return;
  if (store.sqlite) {
    await store.exclusiveSqlite((db) => {
      const key = `${table}(${cols.join(',')})`;
      let s = sqliteStatements.get(key);
      if (!s || s.db !== db) {
        const stmt = db.prepare(`INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`);
        s = { db, run: db.transaction((rs: unknown[][]) => { for (const r of rs) stmt.run(r); }) };
        sqliteStatements.set(key, s);
      }
      s.run(rows);
    });
    return;
  }
  const client = await store.pool!.connect();
  try {
    const stream = client.query(copyStreams.from(`COPY ${table} (${cols.join(',')}) FROM STDIN`));
    const done = new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
    });
    let buf = '';
    for (const r of rows) {
      let line = '';
      for (let c = 0; c < r.length; c++) line += (c ? '\t' : '') + copyValue(r[c]);
      buf += line + '\n';
      if (buf.length > 1 << 20) {
        if (!stream.write(buf)) await new Promise<void>((resolve) => stream.once('drain', resolve));
        buf = '';
      }
    }
    if (buf) stream.write(buf);
    stream.end();
    await done;
    client.release();
  } catch (e) {
    client.release(e instanceof Error ? e : true);
    throw e;
  }
}

/** Runs one SQL statement outside Kysely (DDL, UPDATE, VACUUM …). */
export async function exec(store: Store, sqlText: string): Promise<void> {
  if (store.sqlite) await store.exclusiveSqlite((db) => db.exec(sqlText));
  else await store.pool!.query(sqlText);
}

/**
 * Drops the secondary indexes of a table while `fn` bulk-loads it, then recreates them from their own saved DDL (so
 * the result is the same schema as the migrations create; building an index once is much faster than maintaining it
 * row by row with random keys).
 */
export async function withoutIndexes(store: Store, table: string, fn: () => Promise<void>): Promise<{ rebuildS: number }> {
  let ddl: { name: string; sql: string }[];
  if (store.sqlite) {
    ddl = await store.exclusiveSqlite(
      (db) => db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table) as { name: string; sql: string }[],
    );
  } else {
    const r = await store.pool!.query<{ name: string; sql: string }>(
      `SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i
       WHERE i.tablename = $1 AND i.schemaname = current_schema()
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
      [table],
    );
    ddl = r.rows;
  }
  for (const d of ddl) await exec(store, `DROP INDEX ${d.name}`);
  await fn();
  const t0 = performance.now();
  for (const d of ddl) await exec(store, d.sql);
  return { rebuildS: (performance.now() - t0) / 1000 };
}

/** Small, fast, seedable PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** An id shaped like src/store/ids.ts newId (10 chars of ms time + 12 random, Crockford base32), from a seeded PRNG. */
export function idAt(prefix: string, t: number, rnd: () => number): string {
  let time = '';
  let x = t;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[x % 32] + time;
    x = Math.floor(x / 32);
  }
  let rand = '';
  for (let i = 0; i < 12; i++) rand += ALPHABET[Math.floor(rnd() * 32)];
  return `${prefix}_${time}${rand}`;
}

export const PROFILE_COLS = ['workspace_id', 'id', 'canonical_id', 'created_at', 'first_seen', 'last_seen', 'traits', 'time_zone'] as const;
export const EVENT_COLS = [
  'workspace_id',
  'message_id',
  'profile_id',
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
] as const;
export const IDENTIFIER_COLS = ['workspace_id', 'kind', 'value', 'profile_id', 'created_at'] as const;

/** Inserts a segment (and its version 1) directly, as createSegment would, without computing it. */
export async function insertSegment(store: Store, ws: string, id: string, name: string, definition: unknown, now: number): Promise<void> {
  const def = JSON.stringify(definition);
  await insertRows(store, 'segments', ['workspace_id', 'id', 'name', 'description', 'definition', 'version', 'status', 'created_at', 'updated_at', 'recomputed_at'], [
    [ws, id, name, '', def, 1, 'active', now, now, null],
  ]);
  await insertRows(store, 'segment_versions', ['workspace_id', 'segment_id', 'version', 'name', 'definition', 'created_at'], [[ws, id, 1, name, def, now]]);
}

/** The daily RFM run has just happened: the engine's scheduledRfm() will not start one during the measurement. */
export async function markRfmDone(store: Store, now = Date.now()): Promise<void> {
  await store.db.updateTable('locks').set({ at: now }).where('name', '=', 'rfm').execute();
}
