// Tables of the segments module: definitions and versions, members, per-(profile, segment) timers, the work queue of
// profiles to re-evaluate, manual lists, and RFM scores.
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store/db.ts';

export async function segmentsMigration(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const pg = dialect === 'postgres';
  const ms = pg ? 'bigint' : 'integer';
  const json = sql.raw(pg ? 'jsonb' : 'text');

  await db.schema
    .createTable('segments')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('definition', json, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('recomputed_at', ms)
    .addPrimaryKeyConstraint('segments_pk', ['workspace_id', 'id'])
    .execute();

  await db.schema
    .createTable('segment_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', json, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_versions_pk', ['workspace_id', 'segment_id', 'version'])
    .execute();

  await db.schema
    .createTable('segment_members')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('entered_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_members_pk', ['workspace_id', 'segment_id', 'profile_id'])
    .execute();
  await db.schema.createIndex('segment_members_profile').on('segment_members').columns(['workspace_id', 'profile_id']).execute();

  // One timer per (profile, segment): the exact moment the membership may change with no new event.
  await db.schema
    .createTable('segment_timers')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('segment_id', 'text', (c) => c.notNull())
    .addColumn('due_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_timers_pk', ['workspace_id', 'profile_id', 'segment_id'])
    .execute();
  await db.schema.createIndex('segment_timers_due').on('segment_timers').columns(['due_at']).execute();

  // Profiles to re-evaluate, with what changed about them (event names, 'traits', 'consent', 'identity', …).
  await db.schema
    .createTable('segment_work')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('enqueued_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_work_pk', ['workspace_id', 'profile_id'])
    .execute();

  await db.schema
    .createTable('lists')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('lists_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema
    .createTable('list_members')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('list_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('added_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('list_members_pk', ['workspace_id', 'list_id', 'profile_id'])
    .execute();
  await db.schema.createIndex('list_members_profile').on('list_members').columns(['workspace_id', 'profile_id']).execute();

  await db.schema
    .createTable('profile_rfm')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('r', 'integer', (c) => c.notNull())
    .addColumn('f', 'integer', (c) => c.notNull())
    .addColumn('m', 'integer', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('computed_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('profile_rfm_pk', ['workspace_id', 'profile_id'])
    .execute();

  // User-defined computed properties: an aggregate (sum/count/min/max/…) of an event property within a window.
  await db.schema
    .createTable('computed_properties')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('definition', json, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('computed_properties_pk', ['workspace_id', 'name'])
    .execute();

  await db.insertInto('locks').values({ name: 'segments', at: 0 }).execute();
  // Last scheduled RFM run (claimed by moving `at` forward; one process wins).
  await db.insertInto('locks').values({ name: 'rfm', at: 0 }).execute();
}
