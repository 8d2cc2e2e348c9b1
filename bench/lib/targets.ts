// What the ingestion benchmarks measure against: Omnia itself, the bare HTTP+JSON ceiling and the bare storage ceiling.
// All three run in the benchmark's main process; the load generator is a separate process (see loadgen.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../../src/app/runtime.ts';
import { buildServer } from '../../src/app/server.ts';
import { bootstrapDefaultWorkspace, DEFAULT_WORKSPACE } from '../../src/workspaces/keys.ts';
import { type EventRow, isCallType, normalizeCall } from '../../src/ingest/normalize.ts';
import type { Backend } from './common.ts';
import { BodyPool, TOKEN, Traffic } from './events.ts';
import { EVENT_COLUMNS, JSON_COLUMNS, PG_TYPES as OMNIA_PG_TYPES } from '../../src/store/bulk.ts';

// ---------------------------------------------------------------------------------------------------------------
// Bare node:http: reads the body, JSON.parse, answers 200. The ceiling for "HTTP + parse" on this machine.

export interface Listening {
  url: string;
  close(): Promise<void>;
}

export async function startBareHttp(): Promise<Listening> {
  const ok = Buffer.from('{"success":true}');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let status = 200;
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        status = 400;
      }
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': ok.length });
      res.end(ok);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Omnia, in this process, as `omnia serve --role all` composes it: runtime (store + group-commit writer + identity
// processor running) + the Fastify app, logging off.

export interface OmniaUnderTest extends Listening {
  rt: Runtime;
  app: FastifyInstance;
  authorization: string;
  /** Waits until every acknowledged event is committed and attributed by the identity processor. */
  settle(): Promise<void>;
  /** Events committed but not yet attributed to a profile. */
  backlog(): Promise<number>;
  count(): Promise<number>;
}

export async function startOmnia(
  backend: Backend,
  where: { dataDir?: string; databaseUrl?: string },
  opts: { workers?: boolean } = {},
): Promise<OmniaUnderTest> {
  const workers = opts.workers ?? true;
  const rt = await openRuntime({ ...(backend === 'postgres' ? { databaseUrl: where.databaseUrl } : { dataDir: where.dataDir }), workers });
  // Omnia's pg.Pool has no 'error' listener (see docs/benchmarks.md); the benchmark drops its database WITH (FORCE)
  // at the end, and a pooled connection still closing then would otherwise crash the run.
  rt.store.pool?.on('error', () => {});
  const writeKey = `omw_bench_${randomBytes(12).toString('hex')}`;
  const adminKey = `oma_bench_${randomBytes(12).toString('hex')}`;
  await bootstrapDefaultWorkspace(rt.store, { writeKey, adminKey });
  const app = await buildServer(rt, { logLevel: 'silent' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  const countWhere = async (unprocessed: boolean) => {
    let q = rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n'));
    if (unprocessed) q = q.where('profile_id', 'is', null);
    return Number((await q.executeTakeFirstOrThrow()).n);
  };
  return {
    rt,
    app,
    url: `http://127.0.0.1:${port}`,
    authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
    async settle() {
      await rt.writer.flush();
      if (workers) await rt.processor.drain();
    },
    backlog: () => countWhere(true),
    count: () => countWhere(false),
    async close() {
      await app.close();
      await rt.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Bare storage: the same rows Omnia would store (produced by Omnia's own normalizeCall, before timing starts),
// inserted into a table with the same columns and the same unique (workspace_id, message_id) index, in batched
// transactions, straight through better-sqlite3 / pg. No HTTP, no parsing, no normalisation, no other index.
// The caller keeps this table as large as Omnia's events table (insert cost grows with the index), see ingest.ts.

// Omnia's own column list and PostgreSQL types: the bare table stores exactly the rows Omnia stores.
const COLS = EVENT_COLUMNS;

const PG_TYPES = OMNIA_PG_TYPES;

/** A pool of normalised rows whose message_id carries TOKEN; `next()` returns a row with a fresh unique id. */
class RowPool {
  private readonly rows: unknown[][];
  private readonly ids: BodyPool;
  private n = 0;

  constructor(count: number, seed: number, prefix: string) {
    const t = new Traffic({ seed });
    const receivedAt = Date.now();
    this.rows = [];
    const idBodies: string[] = [];
    for (let i = 0; i < count; i++) {
      const call = t.event();
      const type = call.type;
      if (!isCallType(type)) throw new Error('bad type');
      const n = normalizeCall(type, call, { workspaceId: DEFAULT_WORKSPACE, receivedAt });
      if (!n.ok) throw new Error(`generated event does not normalise: ${n.error.field}: ${n.error.message}`);
      const r: EventRow = n.row;
      this.rows.push(COLS.map((c) => r[c]));
      idBodies.push(r.message_id);
      if (!r.message_id.includes(TOKEN)) throw new Error('message_id lost its token');
    }
    this.ids = new BodyPool(idBodies, prefix);
  }

  /** Row values in COLS order (message_id at index 1). */
  next(): unknown[] {
    const src = this.rows[this.n++ % this.rows.length]!;
    const row = src.slice();
    row[1] = this.ids.next();
    return row;
  }
}

export interface StorageCeiling {
  /** Inserts `rows` rows (in whole batches); returns the rate committed. */
  round(rows: number): Promise<{ rows: number; seconds: number; rowsPerSec: number }>;
  /** Rows in the bare table. */
  count(): Promise<number>;
  describe: string;
  close(): Promise<void>;
}

export async function startBareStorage(
  backend: Backend,
  where: { dataDir?: string; databaseUrl?: string },
  opts: { batchRows: number; concurrency: number; seed: number; poolRows: number; prefix: string },
): Promise<StorageCeiling> {
  // Same seed and count as the load generator's pool: the very events it sends, in the same order.
  const pool = new RowPool(opts.poolRows, opts.seed, opts.prefix);
  if (backend === 'sqlite') {
    const db = new SQLite(`${where.dataDir}/bare.db`);
    // Omnia's pragmas (src/store/db.ts).
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${process.env.OMNIA_SQLITE_SYNC === 'FULL' ? 'FULL' : 'NORMAL'}`);
    db.pragma('cache_size = -65536');
    db.exec(`CREATE TABLE bare_events (
      seq integer PRIMARY KEY AUTOINCREMENT, workspace_id text NOT NULL, message_id text NOT NULL, profile_id text,
      type text NOT NULL, event text, user_id text, anonymous_id text, channel text NOT NULL, internal integer NOT NULL DEFAULT 0,
      timestamp integer NOT NULL, received_at integer NOT NULL, properties text NOT NULL, traits text NOT NULL, context text NOT NULL,
      revenue_minor integer, currency text)`);
    db.exec('CREATE UNIQUE INDEX bare_events_message ON bare_events (workspace_id, message_id)');
    const stmt = db.prepare(
      `INSERT INTO bare_events (${COLS.join(',')}) VALUES (${COLS.map(() => '?').join(',')}) ON CONFLICT (workspace_id, message_id) DO NOTHING`,
    );
    const tx = db.transaction((rows: unknown[][]) => {
      for (const r of rows) stmt.run(r);
    });
    return {
      describe: `better-sqlite3, one prepared INSERT per row, ${opts.batchRows} rows per transaction, WAL + synchronous=NORMAL`,
      async round(target) {
        const start = performance.now();
        let rows = 0;
        while (rows < target) {
          const batch: unknown[][] = [];
          for (let i = 0; i < Math.min(opts.batchRows, target - rows); i++) batch.push(pool.next());
          tx(batch);
          rows += batch.length;
        }
        const s = (performance.now() - start) / 1000;
        return { rows, seconds: s, rowsPerSec: rows / s };
      },
      async count() {
        return (db.prepare('SELECT count(*) AS n FROM bare_events').get() as { n: number }).n;
      },
      async close() {
        db.close();
      },
    };
  }

  const pgPool = new pg.Pool({ connectionString: where.databaseUrl, max: opts.concurrency });
  // The database is dropped WITH (FORCE) at the end; a connection still closing then must not crash the run.
  pgPool.on('error', () => {});
  await pgPool.query(`CREATE TABLE bare_events (
    seq bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY, workspace_id text NOT NULL, message_id text NOT NULL, profile_id text,
    type text NOT NULL, event text, user_id text, anonymous_id text, channel text NOT NULL, internal integer NOT NULL DEFAULT 0,
    timestamp bigint NOT NULL, received_at bigint NOT NULL, properties jsonb NOT NULL, traits jsonb NOT NULL, context jsonb NOT NULL,
    revenue_minor bigint, currency text)`);
  await pgPool.query('CREATE UNIQUE INDEX bare_events_message ON bare_events (workspace_id, message_id)');
  // The same statement shape as Omnia's writer: one multi-row INSERT … SELECT FROM unnest(arrays) per transaction.
  const sqlText = `INSERT INTO bare_events (${COLS.join(',')})
    SELECT ${COLS.map((c) => (JSON_COLUMNS.has(c) ? `t.${c}::jsonb` : `t.${c}`)).join(', ')}
    FROM unnest(${COLS.map((c, i) => `$${i + 1}::${PG_TYPES[c]}[]`).join(',')}) AS t(${COLS.join(', ')})
    ON CONFLICT (workspace_id, message_id) DO NOTHING`;
  return {
    describe: `pg, INSERT … SELECT FROM unnest($arrays) ON CONFLICT DO NOTHING, ${opts.batchRows} rows per statement (autocommit), ${opts.concurrency} connection(s) in parallel`,
    async round(target) {
      const start = performance.now();
      let claimed = 0;
      const worker = async () => {
        while (claimed < target) {
          const n = Math.min(opts.batchRows, target - claimed);
          claimed += n;
          const cols: unknown[][] = COLS.map(() => []);
          for (let i = 0; i < n; i++) {
            const r = pool.next();
            for (let c = 0; c < COLS.length; c++) cols[c]!.push(r[c]);
          }
          await pgPool.query(sqlText, cols);
        }
      };
      await Promise.all(Array.from({ length: opts.concurrency }, worker));
      const s = (performance.now() - start) / 1000;
      return { rows: claimed, seconds: s, rowsPerSec: claimed / s };
    },
    async count() {
      return Number((await pgPool.query<{ n: string }>('SELECT count(*) AS n FROM bare_events')).rows[0]!.n);
    },
    async close() {
      await pgPool.end();
    },
  };
}
