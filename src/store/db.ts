// The store: one Kysely schema over embedded SQLite (default) or PostgreSQL (when DATABASE_URL is set).
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from './types.ts';
import { migrateToLatest } from './migrations.ts';
import { SchemaScopedPostgresDialect } from './pg-introspector.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** postgres://… → PostgreSQL; otherwise the embedded SQLite file in dataDir. */
  databaseUrl?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); tests use a fresh one per run. */
  pgSchema?: string;
  /** SQLite file name inside dataDir (default omnia.db); ':memory:' for a throwaway store. */
  sqliteFile?: string;
  poolSize?: number;
}

export interface Store {
  db: Kysely<DB>;
  dialect: Dialect;
  /** The raw SQLite handle (SQLite mode only). Use only inside `exclusiveSqlite`, which holds Kysely's connection. */
  sqlite?: SQLite.Database;
  /** The raw pg pool (PostgreSQL mode only), for COPY and multi-row unnest inserts. */
  pool?: pg.Pool;
  /** Runs a synchronous block on the raw SQLite handle while no Kysely query or transaction can interleave. */
  exclusiveSqlite<T>(fn: (db: SQLite.Database) => T): Promise<T>;
  close(): Promise<void>;
}

// int8 (bigint) columns hold UTC milliseconds and money in minor units: both fit a JS number exactly.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

export async function openStore(opts: StoreOptions = {}): Promise<Store> {
  if (opts.databaseUrl && /^postgres(ql)?:\/\//.test(opts.databaseUrl)) return openPostgres(opts);
  return openSqlite(opts);
}

async function openSqlite(opts: StoreOptions): Promise<Store> {
  const file = opts.sqliteFile ?? 'omnia.db';
  let filename = file;
  if (file !== ':memory:') {
    const dir = path.resolve(opts.dataDir ?? './data');
    fs.mkdirSync(dir, { recursive: true });
    filename = path.join(dir, file);
  }
  const sqlite = new SQLite(filename);
  // WAL: readers never block the writer. synchronous=NORMAL in WAL mode keeps every committed transaction across a
  // process crash (kill -9); only an OS crash or power loss can lose the last commits (set OMNIA_SQLITE_SYNC=FULL).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma(`synchronous = ${process.env.OMNIA_SQLITE_SYNC === 'FULL' ? 'FULL' : 'NORMAL'}`);
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('cache_size = -65536');
  // Kysely prepares every query anew; better-sqlite3 statements are reusable, so keep the recent ones.
  const statements = new Map<string, SQLite.Statement>();
  const cached = {
    close: () => sqlite.close(),
    prepare: (text: string) => {
      let st = statements.get(text);
      if (!st) {
        if (statements.size >= 1000) statements.clear();
        st = sqlite.prepare(text);
        statements.set(text, st);
      }
      return st;
    },
  };
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: cached as unknown as SQLite.Database }) });
  await migrateToLatest(db, 'sqlite');
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    exclusiveSqlite: (fn) => db.connection().execute(async () => fn(sqlite)),
    async close() {
      await db.destroy();
    },
  };
}

async function openPostgres(opts: StoreOptions): Promise<Store> {
  const schema = opts.pgSchema;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: opts.databaseUrl });
    await admin.connect();
    await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await admin.end();
  }
  const pool = new pg.Pool({
    connectionString: opts.databaseUrl,
    max: opts.poolSize ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle connection the server drops (restart, idle timeout) must not crash the process: the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<DB>({ dialect: new SchemaScopedPostgresDialect({ pool }, schema ?? null) });
  await migrateToLatest(db, 'postgres', schema);
  return {
    db,
    dialect: 'postgres',
    pool,
    exclusiveSqlite: () => Promise.reject(new Error('not an SQLite store')),
    async close() {
      await db.destroy();
    },
  };
}

/** Drops a test schema (PostgreSQL). */
export async function dropPgSchema(databaseUrl: string, schema: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
}

export { sql };
