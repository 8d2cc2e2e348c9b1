// Versioned migrations, one list for both dialects. Each migration gets the dialect so the few types that differ
// (auto-increment, JSON, 64-bit integers) are chosen in one place; everything else is the same DDL.
import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from 'kysely';
import type { Dialect } from './db.ts';
import { segmentsMigration } from '../segments/migration.ts';
import { webhooksMigration } from '../webhooks/migration.ts';
import { messagingMigration } from '../messaging/migration.ts';
import { accessMigration } from '../access/migration.ts';
import { analyticsMigration } from '../analytics/migration.ts';
import { journeysMigration } from '../journeys/migration.ts';

type Builder = (db: Kysely<any>, dialect: Dialect) => Promise<void>;

const migrations: Record<string, Builder> = {
  '0001_foundation': async (db, dialect) => {
    const pg = dialect === 'postgres';
    const ms = pg ? 'bigint' : 'integer';
    const json = pg ? 'jsonb' : 'text';

    await db.schema
      .createTable('workspaces')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id'))
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('key_prefix', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('revoked_at', ms)
      .execute();
    await db.schema.createIndex('api_keys_ws').on('api_keys').columns(['workspace_id', 'kind']).execute();

    let events = db.schema.createTable('events');
    events = pg
      ? events.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      : events.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
    await events
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('message_id', 'text', (c) => c.notNull())
      .addColumn('profile_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('event', 'text')
      .addColumn('user_id', 'text')
      .addColumn('anonymous_id', 'text')
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('internal', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('timestamp', ms, (c) => c.notNull())
      .addColumn('received_at', ms, (c) => c.notNull())
      .addColumn('properties', sql.raw(json), (c) => c.notNull())
      .addColumn('traits', sql.raw(json), (c) => c.notNull())
      .addColumn('context', sql.raw(json), (c) => c.notNull())
      .addColumn('revenue_minor', ms)
      .addColumn('currency', 'text')
      .execute();
    // messageId is the idempotency key, per workspace.
    await db.schema.createIndex('events_message').unique().on('events').columns(['workspace_id', 'message_id']).execute();
    // Partial: a freshly ingested event (profile_id still null) costs no entry here until it is attributed.
    await db.schema
      .createIndex('events_profile_time')
      .on('events')
      .columns(['workspace_id', 'profile_id', 'timestamp', 'seq'])
      .where(sql.ref('profile_id'), 'is not', null)
      .execute();
    // The identity processor's work queue: only rows not yet attributed are in this index.
    await db.schema.createIndex('events_unprocessed').on('events').column('seq').where(sql.ref('profile_id'), 'is', null).execute();

    await db.schema
      .createTable('profiles')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('canonical_id', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('first_seen', ms, (c) => c.notNull())
      .addColumn('last_seen', ms, (c) => c.notNull())
      .addColumn('traits', sql.raw(json), (c) => c.notNull())
      .addColumn('time_zone', 'text')
      .addPrimaryKeyConstraint('profiles_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('profiles_canonical').on('profiles').columns(['workspace_id', 'canonical_id']).execute();

    await db.schema
      .createTable('identifiers')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('profile_id', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('identifiers_pk', ['workspace_id', 'kind', 'value'])
      .execute();
    await db.schema.createIndex('identifiers_profile').on('identifiers').columns(['workspace_id', 'profile_id']).execute();
    await db.schema.createIndex('identifiers_value').on('identifiers').columns(['workspace_id', 'value']).execute();

    await db.schema
      .createTable('merges')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('survivor_id', 'text', (c) => c.notNull())
      .addColumn('loser_id', 'text', (c) => c.notNull())
      .addColumn('cause', sql.raw(json), (c) => c.notNull())
      .addColumn('moved', sql.raw(json), (c) => c.notNull())
      .addColumn('survivor_traits', sql.raw(json), (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('undone_at', ms)
      .addPrimaryKeyConstraint('merges_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema.createIndex('merges_survivor').on('merges').columns(['workspace_id', 'survivor_id']).execute();
    await db.schema.createIndex('merges_loser').on('merges').columns(['workspace_id', 'loser_id']).execute();

    await db.schema
      .createTable('merge_blocks')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('profile_a', 'text', (c) => c.notNull())
      .addColumn('profile_b', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('merge_blocks_pk', ['workspace_id', 'profile_a', 'profile_b'])
      .execute();

    await db.schema
      .createTable('identity_conflicts')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('profile_a', 'text', (c) => c.notNull())
      .addColumn('profile_b', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('cause', sql.raw(json), (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('created_at', ms, (c) => c.notNull())
      .addColumn('resolved_at', ms)
      .addPrimaryKeyConstraint('identity_conflicts_pk', ['workspace_id', 'id'])
      .execute();
    await db.schema
      .createIndex('identity_conflicts_status')
      .on('identity_conflicts')
      .columns(['workspace_id', 'status', 'created_at'])
      .execute();

    await db.schema
      .createTable('consents')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('profile_id', 'text', (c) => c.notNull())
      .addColumn('channel', 'text', (c) => c.notNull())
      .addColumn('topic', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('updated_at', ms, (c) => c.notNull())
      .addPrimaryKeyConstraint('consents_pk', ['workspace_id', 'profile_id', 'channel', 'topic'])
      .execute();

    await db.schema
      .createTable('gdpr_log')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('profile_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('at', ms, (c) => c.notNull())
      .addColumn('details', sql.raw(json), (c) => c.notNull())
      .addPrimaryKeyConstraint('gdpr_log_pk', ['workspace_id', 'id'])
      .execute();

    // Named row locks: a transaction that updates its row first is the only one of its kind, across processes, on
    // both dialects (SQLite's write lock, PostgreSQL's row lock).
    await db.schema
      .createTable('locks')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('at', ms, (c) => c.notNull())
      .execute();
    await db.insertInto('locks').values({ name: 'identity', at: 0 }).execute();
  },
  '0002_segments': segmentsMigration,
  '0003_webhooks': webhooksMigration,
  '0004_locations': async (db, dialect) => {
    // Named places (stores) that geo conditions can measure distance from.
    await db.schema
      .createTable('locations')
      .addColumn('workspace_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('lat', 'double precision', (c) => c.notNull())
      .addColumn('lon', 'double precision', (c) => c.notNull())
      .addColumn('address', sql.raw(dialect === 'postgres' ? 'jsonb' : 'text'), (c) => c.notNull())
      .addColumn('created_at', dialect === 'postgres' ? 'bigint' : 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('locations_pk', ['workspace_id', 'id'])
      .execute();
  },
  '0005_messaging': messagingMigration,
  '0007_access': accessMigration,
  '0006_journeys': journeysMigration,
  '0008_analytics': (db) => analyticsMigration(db),
  // When each API key was last used (to the minute), so an operator can tell a live key from a forgotten one.
  '0009_key_last_used': async (db, dialect) => {
    await db.schema.alterTable('api_keys').addColumn('last_used_at', dialect === 'postgres' ? 'bigint' : 'integer').execute();
  },
};

export async function migrateToLatest(db: Kysely<any>, dialect: Dialect, pgSchema?: string): Promise<string[]> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, up] of Object.entries(migrations)) out[name] = { up: (k) => up(k, dialect) };
      return out;
    },
  };
  // The migration tables live in the store's own schema (tests and several installs can share one database).
  const migrator = new Migrator({ db, provider, ...(pgSchema ? { migrationTableSchema: pgSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
