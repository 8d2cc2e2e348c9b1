// The identity graph's write operations. A merge never copies or moves data: it points the loser's cluster at the
// survivor (profiles.canonical_id). Identifiers, traits, consent and events stay on the profile that first had them,
// and every read combines the cluster. So an undo restores both profiles exactly by moving the pointers back.
import type { Kysely, Transaction } from 'kysely';
import { newId } from '../store/ids.ts';
import { toJson, fromJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import { mergeJourneyRuns } from '../journeys/inbox.ts';

type Tx = Transaction<DB> | Kysely<DB>;

/** One trait's value on one profile row: v value, t event time it was set at, s the event's seq. */
export interface TraitCell {
  v: unknown;
  t: number;
  s?: number;
}

export interface MergeCause {
  kind: 'event' | 'alias' | 'conflict_resolved' | 'api';
  messageId?: string;
  seq?: number;
  identifier?: { kind: string; value: string };
  note?: string;
}

/** Takes the identity lock for this transaction: one identity writer at a time, across processes, on both dialects. */
export async function lockIdentity(tx: Transaction<DB>): Promise<void> {
  await tx.updateTable('locks').set({ at: Date.now() }).where('name', '=', 'identity').execute();
}

export async function canonicalOf(tx: Tx, ws: string, profileId: string): Promise<string | null> {
  const r = await tx.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', profileId).executeTakeFirst();
  return r?.canonical_id ?? null;
}

export async function clusterMembers(tx: Tx, ws: string, canonicalId: string): Promise<string[]> {
  const rows = await tx.selectFrom('profiles').select('id').where('workspace_id', '=', ws).where('canonical_id', '=', canonicalId).execute();
  return rows.map((r) => r.id);
}

export async function clusterUserIds(tx: Tx, ws: string, canonicalId: string): Promise<string[]> {
  // Start from the cluster's members (profiles_canonical), then their identifiers (identifiers_profile): without
  // planner statistics SQLite would otherwise scan every user_id of the workspace.
  const rows = await tx
    .selectFrom('profiles as p')
    .crossJoin('identifiers as i')
    .select('i.value')
    .whereRef('i.workspace_id', '=', 'p.workspace_id')
    .whereRef('i.profile_id', '=', 'p.id')
    .where('p.workspace_id', '=', ws)
    .where('p.canonical_id', '=', canonicalId)
    .where('i.kind', '=', 'user_id')
    .execute();
  return rows.map((r) => r.value);
}

/** Is there an undone merge (a "keep apart" decision) between any members of the two clusters? */
export async function isBlocked(tx: Tx, ws: string, a: string, b: string): Promise<boolean> {
  const [ma, mb] = await Promise.all([clusterMembers(tx, ws, a), clusterMembers(tx, ws, b)]);
  const r = await tx
    .selectFrom('merge_blocks')
    .select('profile_a')
    .where('workspace_id', '=', ws)
    .where((eb) =>
      eb.or([
        eb.and([eb('profile_a', 'in', ma), eb('profile_b', 'in', mb)]),
        eb.and([eb('profile_a', 'in', mb), eb('profile_b', 'in', ma)]),
      ]),
    )
    .executeTakeFirst();
  return !!r;
}

export async function insertInternalEvent(
  tx: Tx,
  ws: string,
  profileId: string,
  event: string,
  properties: Record<string, unknown>,
  at = Date.now(),
  /** The channel the event is about (messaging's lifecycle events carry the message's channel). */
  channel = 'omnia',
): Promise<void> {
  await tx
    .insertInto('events')
    .values({
      workspace_id: ws,
      message_id: newId('omnia'),
      profile_id: profileId,
      type: 'track',
      event,
      user_id: null,
      anonymous_id: null,
      channel,
      internal: 1,
      timestamp: at,
      received_at: at,
      properties: toJson(properties),
      traits: '{}',
      context: '{}',
      revenue_minor: null,
      currency: null,
    })
    .execute();
}

/** Merges loser's cluster into survivor's (both canonical ids). Returns the merge id. */
export async function mergeClusters(
  tx: Tx,
  ws: string,
  survivor: string,
  loser: string,
  cause: MergeCause,
  survivorTraits?: Record<string, TraitCell>,
): Promise<string> {
  const moved = await clusterMembers(tx, ws, loser);
  if (!survivorTraits) {
    const r = await tx.selectFrom('profiles').select('traits').where('workspace_id', '=', ws).where('id', '=', survivor).executeTakeFirst();
    survivorTraits = fromJson<Record<string, TraitCell>>(r?.traits);
  }
  await tx.updateTable('profiles').set({ canonical_id: survivor }).where('workspace_id', '=', ws).where('canonical_id', '=', loser).execute();
  const id = newId('mrg');
  const now = Date.now();
  await tx
    .insertInto('merges')
    .values({
      workspace_id: ws,
      id,
      survivor_id: survivor,
      loser_id: loser,
      cause: toJson(cause),
      moved: toJson(moved),
      survivor_traits: toJson(survivorTraits),
      created_at: now,
      undone_at: null,
    })
    .execute();
  await insertInternalEvent(tx, ws, survivor, 'Profiles Merged', { mergeId: id, survivorId: survivor, loserId: loser, cause }, now);
  // A person in a journey under both ids goes on once (the survivor's run), not twice.
  await mergeJourneyRuns(tx, ws, survivor, loser, now);
  return id;
}

export type UndoResult = { ok: true; survivorId: string; loserId: string } | { ok: false; status: 404 | 409; message: string };

/**
 * Reverses a merge: every profile it moved that is still in the survivor's cluster points at the loser again, and
 * the pair is blocked so the same link goes to the conflict queue instead of merging again silently.
 */
export async function undoMerge(tx: Tx, ws: string, mergeId: string): Promise<UndoResult> {
  const m = await tx.selectFrom('merges').selectAll().where('workspace_id', '=', ws).where('id', '=', mergeId).executeTakeFirst();
  if (!m) return { ok: false, status: 404, message: `merge ${mergeId} not found` };
  if (m.undone_at !== null) return { ok: false, status: 409, message: `merge ${mergeId} was already undone` };
  const current = await canonicalOf(tx, ws, m.survivor_id);
  const moved = fromJson<string[]>(m.moved);
  if (moved.length && current) {
    await tx
      .updateTable('profiles')
      .set({ canonical_id: m.loser_id })
      .where('workspace_id', '=', ws)
      .where('id', 'in', moved)
      .where('canonical_id', '=', current)
      .execute();
  }
  await revertMergingEventTraits(tx, ws, m.survivor_id, fromJson<MergeCause>(m.cause), fromJson<Record<string, TraitCell>>(m.survivor_traits));
  const now = Date.now();
  await tx.updateTable('merges').set({ undone_at: now }).where('workspace_id', '=', ws).where('id', '=', mergeId).execute();
  await tx
    .insertInto('merge_blocks')
    .values({ workspace_id: ws, profile_a: m.survivor_id, profile_b: m.loser_id, created_at: now })
    .onConflict((oc) => oc.doNothing())
    .execute();
  await insertInternalEvent(tx, ws, current ?? m.survivor_id, 'Profiles Unmerged', { mergeId, survivorId: m.survivor_id, loserId: m.loser_id }, now);
  await insertInternalEvent(tx, ws, m.loser_id, 'Profiles Unmerged', { mergeId, survivorId: m.survivor_id, loserId: m.loser_id }, now);
  return { ok: true, survivorId: m.survivor_id, loserId: m.loser_id };
}

/**
 * The event that caused a merge may also have set traits on the survivor (an identify with the linking phone). Undo
 * puts exactly those cells back as they were; traits set by any later event stay.
 */
async function revertMergingEventTraits(tx: Tx, ws: string, survivor: string, cause: MergeCause, before: Record<string, TraitCell>): Promise<void> {
  if (cause.seq === undefined) return;
  const r = await tx.selectFrom('profiles').select('traits').where('workspace_id', '=', ws).where('id', '=', survivor).executeTakeFirst();
  if (!r) return;
  const traits = fromJson<Record<string, TraitCell>>(r.traits);
  let changed = false;
  for (const [k, cell] of Object.entries(traits)) {
    if (cell.s !== cause.seq) continue;
    if (before[k]) traits[k] = before[k]!;
    else delete traits[k];
    changed = true;
  }
  if (changed) await tx.updateTable('profiles').set({ traits: toJson(traits) }).where('workspace_id', '=', ws).where('id', '=', survivor).execute();
}

export async function recordConflict(
  tx: Tx,
  ws: string,
  a: string,
  b: string,
  reason: string,
  cause: MergeCause,
): Promise<string | null> {
  // One open conflict per pair is enough for a reviewer, and a pair a reviewer chose to keep apart stays decided.
  const existing = await tx
    .selectFrom('identity_conflicts')
    .select('id')
    .where('workspace_id', '=', ws)
    .where('status', 'in', ['open', 'dismissed'])
    .where((eb) => eb.or([eb.and([eb('profile_a', '=', a), eb('profile_b', '=', b)]), eb.and([eb('profile_a', '=', b), eb('profile_b', '=', a)])]))
    .executeTakeFirst();
  if (existing) return null;
  const id = newId('cfl');
  await tx
    .insertInto('identity_conflicts')
    .values({ workspace_id: ws, id, profile_a: a, profile_b: b, reason, cause: toJson(cause), status: 'open', created_at: Date.now(), resolved_at: null })
    .execute();
  return id;
}
