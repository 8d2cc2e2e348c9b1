// Tables of the webhooks module: subscriptions (signing secrets encrypted), the delivery outbox, and the attempt log.
// Also the instance-wide `settings` table (name → value), where src/app/secrets.ts keeps a generated key on
// PostgreSQL when OMNIA_SECRET is unset.
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store/db.ts';

export async function webhooksMigration(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const pg = dialect === 'postgres';
  const ms = pg ? 'bigint' : 'integer';
  const json = sql.raw(pg ? 'jsonb' : 'text');

  await db.schema
    .createTable('settings')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', ms, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhooks')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('events', json, (c) => c.notNull())
    .addColumn('segment_ids', json)
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('allow_private_network', 'integer', (c) => c.notNull())
    // AES-256-GCM ciphertexts (src/app/secrets.ts), never the secret itself.
    .addColumn('secret_enc', 'text', (c) => c.notNull())
    .addColumn('previous_secret_enc', 'text')
    .addColumn('previous_secret_expires_at', ms)
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('secret_rotated_at', ms)
    .addPrimaryKeyConstraint('webhooks_pk', ['workspace_id', 'id'])
    .execute();

  // The outbox. `payload` is the exact body sent (TEXT on both dialects: retries send byte-identical bodies).
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('webhook_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The person the event is about (payloads carry their identifiers): GDPR erasure deletes these rows.
    .addColumn('profile_id', 'text')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('max_attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', ms, (c) => c.notNull())
    .addColumn('claim', 'text')
    .addColumn('created_at', ms, (c) => c.notNull())
    .addColumn('updated_at', ms, (c) => c.notNull())
    .addColumn('delivered_at', ms)
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .addPrimaryKeyConstraint('webhook_deliveries_pk', ['workspace_id', 'id'])
    .execute();
  // Workers scan only what is waiting.
  await sql`CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`.execute(db);
  await db.schema.createIndex('webhook_deliveries_webhook').on('webhook_deliveries').columns(['workspace_id', 'webhook_id', 'id']).execute();
  await db.schema.createIndex('webhook_deliveries_profile').on('webhook_deliveries').columns(['workspace_id', 'profile_id']).execute();
  await db.schema.createIndex('webhook_deliveries_updated').on('webhook_deliveries').columns(['updated_at']).execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('workspace_id', 'text', (c) => c.notNull())
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', ms, (c) => c.notNull())
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .addColumn('response', 'text')
    .addPrimaryKeyConstraint('webhook_attempts_pk', ['workspace_id', 'delivery_id', 'attempt'])
    .execute();
}
