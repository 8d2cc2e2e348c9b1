// Tables of the messaging module: templates (with every version kept), reusable blocks, per-workspace settings
// (brand kit, arbiter policy, topics, channel providers with encrypted secrets), the outbox of messages, the decision
// log, suppressions, web push subscriptions.
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store/db.ts';

export async function messagingMigration(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const pg = dialect === 'postgres';
  const ms = pg ? 'bigint' : 'integer';
  const json = sql.raw(pg ? 'jsonb' : 'text');

  await db.schema
    .createTable('templates')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('templates_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema
    .createTable('template_versions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', json, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('template_versions_pk', ['workspace_id', 'template_id', 'version'])
    .execute();
  await db.schema
    .createTable('template_partials')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('template_partials_pk', ['workspace_id', 'name'])
    .execute();

  // name: 'brand', 'policy', 'topics', 'provider:email', 'provider:sms', 'provider:push', 'vapid'. Secret fields
  // inside a value are AES-GCM ciphertexts (src/app/secrets.ts), bound to (workspace, name, field).
  await db.schema
    .createTable('messaging_settings')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', json, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('messaging_settings_pk', ['workspace_id', 'name'])
    .execute();

  // The outbox. id is deterministic per (source, step, person), so a retried producer never creates a second message.
  await db.schema
    .createTable('messages')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('requested_channel', 'text', (c) => c.notNull())
    .addColumn('channel', 'text')
    .addColumn('templates', json, (c) => c.notNull())
    .addColumn('template_id', 'text')
    .addColumn('template_version', 'integer')
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('transactional', 'integer', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('context', json, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('excluded', json, (c) => c.notNull())
    .addColumn('to_address', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', ms, (c) => c.notNull())
    .addColumn('not_before', ms)
    .addColumn('provider_id', 'text')
    .addColumn('error', 'text')
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('sent_at', ms)
    .addColumn('delivered_at', ms)
    .addColumn('seen_at', ms)
    .addColumn('dismissed_at', ms)
    .addColumn('onsite', json)
    .addPrimaryKeyConstraint('messages_pk', ['workspace_id', 'id'])
    .execute();
  // Workers look only at messages still to do; finished ones drop out of this index.
  await db.schema
    .createIndex('messages_due')
    .on('messages')
    .columns(['next_attempt_at'])
    .where(sql.ref('status'), 'in', sql`('queued', 'deferred', 'retry', 'sending')`)
    .execute();
  await db.schema.createIndex('messages_profile').on('messages').columns(['workspace_id', 'profile_id', 'created_at']).execute();
  await db.schema.createIndex('messages_provider').on('messages').columns(['workspace_id', 'provider_id']).execute();

  await db.schema
    .createTable('message_decisions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('at', ms, (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('channel', 'text')
    .addColumn('code', 'text')
    .addColumn('until', ms)
    .addColumn('reason', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('message_decisions_pk', ['workspace_id', 'id'])
    .execute();
  await db.schema.createIndex('message_decisions_profile').on('message_decisions').columns(['workspace_id', 'profile_id', 'at']).execute();
  await db.schema.createIndex('message_decisions_message').on('message_decisions').columns(['workspace_id', 'message_id', 'at']).execute();

  await db.schema
    .createTable('suppressions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('suppressions_pk', ['workspace_id', 'channel', 'address'])
    .execute();

  await db.schema
    .createTable('push_subscriptions')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('endpoint', 'text', (c) => c.notNull())
    .addColumn('profile_id', 'text', (c) => c.notNull())
    .addColumn('keys', json, (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .addPrimaryKeyConstraint('push_subscriptions_pk', ['workspace_id', 'endpoint'])
    .execute();
  await db.schema.createIndex('push_subscriptions_profile').on('push_subscriptions').columns(['workspace_id', 'profile_id']).execute();

  await db.insertInto('locks').values({ name: 'messaging', at: 0 }).execute();
}
