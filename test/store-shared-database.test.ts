// Several installs (or test files) sharing one PostgreSQL database, each in its own schema: opening a store while
// others create and drop their schemas must not fail. Kysely's stock introspector lists every table of the database
// and failed in about 4 opens in 10 here with "schema … does not exist" for another install's schema (seen in CI);
// the store's introspector looks at its own schema only. PostgreSQL only: SQLite stores are separate files.
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dropPgSchema, openStore } from '../src/store/db.ts';
import { BACKENDS, PG_URL } from './helpers.ts';

describe.skipIf(!BACKENDS.includes('postgres'))('stores sharing one PostgreSQL database', () => {
  it('opens (and migrates) 10 fresh stores while other schemas are created and dropped all along', async () => {
    let stop = false;
    const tag = Math.random().toString(36).slice(2, 8);
    const churn = async (k: number) => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        for (let i = 0; !stop; i++) {
          const s = `churn_${tag}_${k}_${i}`;
          await c.query(`CREATE SCHEMA ${s}; CREATE TABLE ${s}.a (id serial primary key, x text); CREATE TABLE ${s}.b (id serial primary key)`);
          await c.query(`DROP SCHEMA ${s} CASCADE`);
        }
      } finally {
        await c.end();
      }
    };
    const churners = [churn(1), churn(2), churn(3)];
    const failures: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const schema = `shared_${tag}_${i}`;
        try {
          const store = await openStore({ databaseUrl: PG_URL, pgSchema: schema });
          const tables = await store.db.selectFrom('workspaces').select('id').execute();
          expect(tables).toEqual([]);
          await store.close();
        } catch (e) {
          failures.push((e as Error).message);
        } finally {
          await dropPgSchema(PG_URL, schema);
        }
      }
    } finally {
      stop = true;
      await Promise.all(churners);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
