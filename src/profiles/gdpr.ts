// GDPR: export everything held about a person, and erase them. Both are recorded (without personal data) in gdpr_log.
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import { lockIdentity } from '../identity/graph.ts';
import { readProfile } from './read.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { forgetWebhookDeliveries } from '../webhooks/service.ts';

export const DELETED_PROFILE = 'deleted';

export async function exportProfile(store: Store, ws: string, canonicalId: string) {
  const profile = await readProfile(store.db, ws, canonicalId);
  if (!profile) return null;
  const ids = [canonicalId, ...profile.mergedProfileIds];
  const [events, consents, merges] = await Promise.all([
    store.db.selectFrom('events').selectAll().where('workspace_id', '=', ws).where('profile_id', 'in', ids).orderBy('timestamp').execute(),
    store.db.selectFrom('consents').selectAll().where('workspace_id', '=', ws).where('profile_id', 'in', ids).execute(),
    store.db
      .selectFrom('merges')
      .selectAll()
      .where('workspace_id', '=', ws)
      .where((eb) => eb.or([eb('survivor_id', 'in', ids), eb('loser_id', 'in', ids)]))
      .execute(),
  ]);
  await store.db
    .insertInto('gdpr_log')
    .values({ workspace_id: ws, id: newId('gdpr'), profile_id: canonicalId, action: 'export', at: Date.now(), details: toJson({ events: events.length }) })
    .execute();
  return {
    exportedAt: new Date().toISOString(),
    profile,
    consents: consents.map((c) => ({ channel: c.channel, topic: c.topic, state: c.state, source: c.source, updatedAt: c.updated_at })),
    merges: merges.map((m) => ({ id: m.id, survivorId: m.survivor_id, loserId: m.loser_id, cause: fromJson(m.cause), createdAt: m.created_at, undoneAt: m.undone_at })),
    events: events.map((e) => ({
      messageId: e.message_id,
      type: e.type,
      event: e.event,
      channel: e.channel,
      timestamp: new Date(e.timestamp).toISOString(),
      properties: fromJson(e.properties),
      traits: fromJson(e.traits),
      context: fromJson(e.context),
    })),
  };
}

/**
 * Erases a person: identifiers are released (a new event with the same email starts a new profile), traits and consent
 * are deleted, and their events are anonymised — personal fields emptied, detached from any profile — so revenue
 * totals stay true without anything that identifies them.
 */
export async function deleteProfile(store: Store, ws: string, canonicalId: string): Promise<{ events: number; profiles: number } | null> {
  return store.db.transaction().execute(async (tx) => {
    await lockIdentity(tx);
    const members = (await tx.selectFrom('profiles').select('id').where('workspace_id', '=', ws).where('canonical_id', '=', canonicalId).execute()).map(
      (r) => r.id,
    );
    if (!members.length) return null;
    const ev = await tx
      .updateTable('events')
      .set({ profile_id: DELETED_PROFILE, user_id: null, anonymous_id: null, properties: '{}', traits: '{}', context: '{}' })
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', members)
      .executeTakeFirst();
    await tx.deleteFrom('identifiers').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('consents').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx
      .deleteFrom('merges')
      .where('workspace_id', '=', ws)
      .where((eb) => eb.or([eb('survivor_id', 'in', members), eb('loser_id', 'in', members)]))
      .execute();
    await tx
      .deleteFrom('identity_conflicts')
      .where('workspace_id', '=', ws)
      .where((eb) => eb.or([eb('profile_a', 'in', members), eb('profile_b', 'in', members)]))
      .execute();
    await tx
      .deleteFrom('merge_blocks')
      .where('workspace_id', '=', ws)
      .where((eb) => eb.or([eb('profile_a', 'in', members), eb('profile_b', 'in', members)]))
      .execute();
    await tx.deleteFrom('profiles').where('workspace_id', '=', ws).where('id', 'in', members).execute();
    await tx.deleteFrom('list_members').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('profile_rfm').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await forgetWebhookDeliveries(tx, ws, members); // payloads carry their identifiers
    // Messages carry the address and rendered personal content; decisions and push subscriptions name the person.
    // Suppressions stay: they are kept by address so that an opted-out address is never messaged again.
    await tx.deleteFrom('messages').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('message_decisions').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('push_subscriptions').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    // Journey runs keep the triggering event's properties in their state: they go too, with pending inputs.
    await tx.deleteFrom('journey_runs').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('journey_inbox').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    await tx.deleteFrom('broadcast_recipients').where('workspace_id', '=', ws).where('profile_id', 'in', members).execute();
    // The segment worker sees the person is gone and removes their memberships and timers.
    await enqueueSegmentWork(tx, ws, new Map(members.map((m) => [m, new Set(['all'])])));
    const counts = { events: Number(ev.numUpdatedRows), profiles: members.length };
    await tx
      .insertInto('gdpr_log')
      .values({ workspace_id: ws, id: newId('gdpr'), profile_id: canonicalId, action: 'delete', at: Date.now(), details: toJson(counts) })
      .execute();
    return counts;
  });
}
