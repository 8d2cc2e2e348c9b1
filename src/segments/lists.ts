// Manual lists: people added or removed by hand (API, CSV upload). A list change re-evaluates segments that use it.
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { HttpError } from '../app/errors.ts';
import { lookupProfile } from '../profiles/read.ts';
import { parseCsv } from '../importer/csv.ts';
import { enqueueSegmentWork } from './engine.ts';

export interface ListRef {
  profileId?: string;
  userId?: string;
  email?: string;
  phone?: string;
}

export async function createList(store: Store, ws: string, name: string) {
  const id = newId('lst');
  await store.db.insertInto('lists').values({ workspace_id: ws, id, name, created_at: Date.now() }).execute();
  return { id, name };
}

async function requireList(store: Store, ws: string, id: string) {
  const l = await store.db.selectFrom('lists').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
  if (!l) throw new HttpError(404, 'not_found', `list ${id} not found`);
  return l;
}

/** Resolves references to canonical profile ids; unknown ones are reported, not guessed. */
async function resolve(store: Store, ws: string, refs: ListRef[]): Promise<{ ids: string[]; unknown: { index: number; ref: ListRef }[] }> {
  const ids: string[] = [];
  const unknown: { index: number; ref: ListRef }[] = [];
  for (const [index, r] of refs.entries()) {
    let id: string | null = null;
    if (r.profileId) {
      const p = await store.db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', r.profileId).executeTakeFirst();
      id = p?.canonical_id ?? null;
    } else if (r.userId) id = await lookupProfile(store.db, ws, 'user_id', r.userId);
    else if (r.email) id = await lookupProfile(store.db, ws, 'email', r.email);
    else if (r.phone) id = await lookupProfile(store.db, ws, 'phone', r.phone);
    if (id) ids.push(id);
    else unknown.push({ index, ref: r });
  }
  return { ids: [...new Set(ids)], unknown };
}

export async function changeListMembers(store: Store, ws: string, listId: string, add: ListRef[], remove: ListRef[]) {
  await requireList(store, ws, listId);
  const a = await resolve(store, ws, add);
  const r = await resolve(store, ws, remove);
  const now = Date.now();
  await store.db.transaction().execute(async (tx) => {
    for (let i = 0; i < a.ids.length; i += 400) {
      await tx
        .insertInto('list_members')
        .values(a.ids.slice(i, i + 400).map((profile_id) => ({ workspace_id: ws, list_id: listId, profile_id, added_at: now })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }
    for (let i = 0; i < r.ids.length; i += 400) {
      await tx.deleteFrom('list_members').where('workspace_id', '=', ws).where('list_id', '=', listId).where('profile_id', 'in', r.ids.slice(i, i + 400)).execute();
    }
    await enqueueSegmentWork(tx, ws, new Map([...a.ids, ...r.ids].map((id) => [id, new Set(['list'])])));
  });
  return { added: a.ids.length, removed: r.ids.length, unknown: [...a.unknown.map((u) => ({ ...u, op: 'add' })), ...r.unknown.map((u) => ({ ...u, op: 'remove' }))] };
}

/** CSV with a header naming one of: profileId, userId, email, phone. */
export async function uploadListCsv(store: Store, ws: string, listId: string, csv: string) {
  let rows: string[][];
  try {
    rows = parseCsv(csv);
  } catch (e) {
    throw new HttpError(400, 'invalid_csv', `the CSV cannot be read: ${(e as Error).message}`, '(body)');
  }
  if (rows.length === 0) throw new HttpError(400, 'invalid_csv', 'the CSV is empty', '(body)');
  const header = rows[0]!.map((h) => h.trim());
  const col = ['profileId', 'userId', 'email', 'phone'].find((c) => header.includes(c));
  if (!col) throw new HttpError(400, 'invalid_csv', 'the CSV header must name a column profileId, userId, email or phone', '(body)');
  const idx = header.indexOf(col);
  const refs = rows.slice(1).filter((r) => r[idx]?.trim()).map((r) => ({ [col]: r[idx]!.trim() }) as ListRef);
  if (refs.length > 100_000) throw new HttpError(400, 'invalid_csv', 'at most 100,000 rows per upload', '(body)');
  return changeListMembers(store, ws, listId, refs, []);
}
