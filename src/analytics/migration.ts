// The analytics module's one index: events by time within a workspace, for the overview's period scans (orders,
// active people, lifecycle events of a date range). Without it every overview reads the whole event log.
import type { Kysely } from 'kysely';

export async function analyticsMigration(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('events_time').on('events').columns(['workspace_id', 'timestamp']).execute();
}
