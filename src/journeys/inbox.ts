// The journey worker's inbox. Producers write inputs in their own transaction (outbox pattern), so an input exists
// exactly when the change that caused it committed: the identity processor for attributed events, the segment engine
// for membership changes, the API / schedules / jumps for direct entries. Only inputs some journey or broadcast of
// the workspace has a trigger for are written (journey_triggers), so workspaces without journeys pay one lookup.
import { type Kysely, type Transaction, sql } from 'kysely';
import type { DB } from '../store/types.ts';
import { toJson } from '../store/json.ts';
import { cancelEntryMessages } from './promotions.ts';

type Tx = Transaction<DB> | Kysely<DB>;

export interface InboxEvent {
  seq?: number;
  name: string;
  properties: Record<string, unknown>;
  timestamp: number;
  channel?: string;
  revenueMinor?: number | null;
}

export type InboxPayload =
  | { kind: 'event'; event: InboxEvent }
  | { kind: 'segment'; segmentId: string; change: 'entered' | 'left' }
  | { kind: 'enter'; journeyId: string; event?: InboxEvent; depth?: number };

export interface AttributedEvent {
  ws: string;
  profileId: string;
  event: InboxEvent;
}

const CHUNK = 300;

async function insertRows(tx: Tx, rows: { workspace_id: string; profile_id: string; kind: string; payload: string; at: number }[]): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await tx.insertInto('journey_inbox').values(rows.slice(i, i + CHUNK)).execute();
}

async function triggerNames(tx: Tx, kind: 'event' | 'segment', workspaces: string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (workspaces.length === 0) return out;
  const rows = await tx.selectFrom('journey_triggers').select(['workspace_id', 'name']).distinct().where('workspace_id', 'in', workspaces).where('kind', '=', kind).execute();
  for (const r of rows) {
    let s = out.get(r.workspace_id);
    if (!s) out.set(r.workspace_id, (s = new Set()));
    s.add(r.name);
  }
  return out;
}

/** Copies the events some journey reacts to into the inbox (called by the identity processor in its batch). */
export async function routeEvents(tx: Tx, events: AttributedEvent[], now: number): Promise<number> {
  if (events.length === 0) return 0;
  const names = await triggerNames(tx, 'event', [...new Set(events.map((e) => e.ws))]);
  if (names.size === 0) return 0;
  const rows = events
    .filter((e) => names.get(e.ws)?.has(e.event.name))
    .map((e) => ({ workspace_id: e.ws, profile_id: e.profileId, kind: 'event', payload: toJson({ kind: 'event', event: e.event } satisfies InboxPayload), at: now }));
  await insertRows(tx, rows);
  return rows.length;
}

/** Membership changes some journey reacts to (called inside the segment engine's transaction). */
export async function routeSegmentChanges(tx: Tx, changes: { workspaceId: string; segmentId: string; profileId: string; change: 'entered' | 'left'; at: number }[], now: number): Promise<number> {
  if (changes.length === 0) return 0;
  const names = await triggerNames(tx, 'segment', [...new Set(changes.map((c) => c.workspaceId))]);
  if (names.size === 0) return 0;
  const rows = changes
    .filter((c) => names.get(c.workspaceId)?.has(c.segmentId))
    .map((c) => ({ workspace_id: c.workspaceId, profile_id: c.profileId, kind: 'segment', payload: toJson({ kind: 'segment', segmentId: c.segmentId, change: c.change } satisfies InboxPayload), at: now }));
  await insertRows(tx, rows);
  return rows.length;
}

/** Direct entries (API call, schedule, date trait, a jump from another journey). */
export async function enqueueEntries(tx: Tx, ws: string, journeyId: string, entries: { profileId: string; event?: InboxEvent; depth?: number }[], now: number): Promise<void> {
  await insertRows(
    tx,
    entries.map((e) => ({
      workspace_id: ws,
      profile_id: e.profileId,
      kind: 'enter',
      payload: toJson({ kind: 'enter', journeyId, ...(e.event ? { event: e.event } : {}), ...(e.depth ? { depth: e.depth } : {}) } satisfies InboxPayload),
      at: now,
    })),
  );
}

/**
 * A merge: the loser's runs join the survivor, except where the survivor is already in the same journey — then the
 * loser's run ends ('merged'), so the person goes on once, not twice. Called inside the identity transaction.
 */
export async function mergeJourneyRuns(tx: Tx, ws: string, survivor: string, loser: string, now: number): Promise<void> {
  const active = ['active', 'waiting'];
  const mine = await tx.selectFrom('journey_runs').select('journey_id').where('workspace_id', '=', ws).where('profile_id', '=', survivor).where('status', 'in', active).execute();
  const taken = mine.map((r) => r.journey_id);
  if (taken.length) {
    // Their pending messages go with them (the survivor's own run sends its own).
    const ending = await tx.selectFrom('journey_runs').select(['journey_id', 'entry_id']).where('workspace_id', '=', ws).where('profile_id', '=', loser).where('status', 'in', active).where('journey_id', 'in', taken).execute();
    for (const e of ending) await cancelEntryMessages(tx, ws, loser, e.journey_id, e.journey_id, e.entry_id, 'merged', now);
    await tx
      .updateTable('journey_runs')
      .set({ status: 'exited', exit_reason: 'merged', wake_at: null, updated_at: now })
      .where('workspace_id', '=', ws)
      .where('profile_id', '=', loser)
      .where('status', 'in', active)
      .where('journey_id', 'in', taken)
      .execute();
  }
  // Finished runs move too: entry history (re-entry policy, entry limits) belongs to the person, not the old id.
  await tx.updateTable('journey_runs').set({ profile_id: survivor, updated_at: now }).where('workspace_id', '=', ws).where('profile_id', '=', loser).execute();
  await tx.updateTable('journey_inbox').set({ profile_id: survivor }).where('workspace_id', '=', ws).where('profile_id', '=', loser).execute();
  await tx.updateTable('broadcast_recipients').set({ profile_id: survivor }).where('workspace_id', '=', ws).where('profile_id', '=', loser).where(({ not, exists, selectFrom }) =>
    not(exists(selectFrom('broadcast_recipients as b2').select(sql`1`.as('x')).whereRef('b2.workspace_id', '=', 'broadcast_recipients.workspace_id').whereRef('b2.broadcast_id', '=', 'broadcast_recipients.broadcast_id').where('b2.profile_id', '=', survivor))),
  ).execute();
}
