// Tables of the journeys module: journeys and their published versions (immutable), the trigger index the identity
// processor and the segment engine consult to route inputs, per-(journey, person, entry) runs with their durable
// timer (wake_at), the inbox of inputs waiting for the journey worker, per-node visit counters, and broadcasts with
// their recipients.
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store/db.ts';

export async function journeysMigration(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const pg = dialect === 'postgres';
  const ms = pg ? 'bigint' : 'integer';
  const json = sql.raw(pg ? 'jsonb' : 'text');

  await db.schema
    .createTable('journeys')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // draft (never published) | active | paused | archived
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('draft', json, (c) => c.notNull())
    // latest published version (0: none yet)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('published_at', ms)
    // schedule and date-trait entries: the last instant the sweeper has entered people up to
    .addColumn('swept_at', ms)
    .addPrimaryKeyConstraint('journeys_pk', ['workspace_id', 'id'])
    .execute();

  await db.schema
    .createTable('journey_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('journey_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('definition', json, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('journey_versions_pk', ['workspace_id', 'journey_id', 'version'])
    .execute();

  // What inputs matter to whom: kind 'event' (name = event name) or 'segment' (name = segment id). The identity
  // processor copies only matching events to the inbox, so a workspace without journeys pays one indexed lookup.
  await db.schema
    .createTable('journey_triggers')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('journey_triggers_pk', ['workspace_id', 'kind', 'name', 'owner'])
    .execute();

  await db.schema
    .createTable('journey_runs')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('journey_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('entry_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    // active | waiting | exited | converted
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('node', 'text', (c) => c.notNull())
    // the durable timer: when a waiting run must be looked at again
    .addColumn('wake_at', ms)
    .addColumn('entered_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('exit_reason', 'text')
    .addColumn('converted_at', ms)
    .addColumn('revenue_minor', ms)
    // 1: drawn into a random split's holdout (control group); its goal is still watched for the comparison
    .addColumn('holdout', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', json, (c) => c.notNull())
    .addPrimaryKeyConstraint('journey_runs_pk', ['workspace_id', 'journey_id', 'profile_id', 'entry_id'])
    .execute();
  await db.schema.createIndex('journey_runs_profile').on('journey_runs').columns(['workspace_id', 'profile_id', 'status']).execute();
  await db.schema.createIndex('journey_runs_wake').on('journey_runs').columns(['wake_at']).where(sql.ref('wake_at'), 'is not', null).execute();
  await db.schema.createIndex('journey_runs_journey').on('journey_runs').columns(['workspace_id', 'journey_id', 'status', 'node']).execute();

  let inbox = db.schema.createTable('journey_inbox');
  inbox = pg ? inbox.addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity()) : inbox.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await inbox
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    // event | segment | enter
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('payload', json, (c) => c.notNull())
    .addColumn('at', ms, (c) => c.notNull())
    // a person whose inputs keep failing is retried later, not forever at once
    .addColumn('not_before', ms, (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('journey_inbox_person').on('journey_inbox').columns(['workspace_id', 'profile_id', 'id']).execute();

  await db.schema
    .createTable('journey_node_stats')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('journey_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('node', 'text', (c) => c.notNull())
    .addColumn('visits', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('journey_node_stats_pk', ['workspace_id', 'journey_id', 'version', 'node'])
    .execute();

  await db.schema
    .createTable('broadcasts')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    // draft | scheduled | sending | testing | sent | cancelled
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('definition', json, (c) => c.notNull())
    .addColumn('send_at', ms)
    // snapshot progress: the last profile id taken (resumable after a crash)
    .addColumn('cursor', 'text')
    .addColumn('test_started_at', ms)
    .addColumn('winner', 'text')
    .addColumn('winner_at', ms)
    .addColumn('results', json)
    .addColumn('recipients', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('broadcasts_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema.createIndex('broadcasts_due').on('broadcasts').columns(['status', 'send_at']).execute();

  await db.schema
    .createTable('broadcast_recipients')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('broadcast_id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    // test: in the A/B test (or everyone without one); rest: waits for the winner
    .addColumn('grp', 'text', (c) => c.notNull())
    .addColumn('variant', 'text')
    .addColumn('message_id', 'text')
    .addColumn('send_after', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('broadcast_recipients_pk', ['workspace_id', 'broadcast_id', 'profile_id'])
    .execute();
  await db.schema.createIndex('broadcast_recipients_group').on('broadcast_recipients').columns(['workspace_id', 'broadcast_id', 'grp', 'message_id']).execute();

  // The sweeper (schedule and date-trait entries, broadcast rounds): one process at a time.
  await db.insertInto('locks').values({ name: 'journeys', at: 0 }).execute();
}
