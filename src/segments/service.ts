// Segment definitions: create, change (a new version, then a recompute), archive, preview a draft, read members.
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import { HttpError } from '../app/errors.ts';
import { type Condition, checkDefinition, leaves, referencedSegments } from './definition.ts';
import { type Deps, dependencies, topoOrder } from './deps.ts';
import type { SegmentEngine } from './engine.ts';
import { type Explanation, evaluate, explain } from './evaluate.ts';
import { loadFacts } from './load.ts';
import { displayName } from '../profiles/read.ts';

export interface SegmentInput {
  name: string;
  description?: string;
  definition: unknown;
}

export function segmentView(r: { id: string; name: string; description: string; definition: unknown; version: number; status: string; created_at: number; updated_at: number; recomputed_at: number | null }) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    definition: fromJson(r.definition),
    version: r.version,
    status: r.status,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    recomputedAt: r.recomputed_at,
  };
}

/** Schema, meaning, references to segments that exist in this workspace, and no cycle through them. */
async function validate(store: Store, ws: string, def: unknown, selfId?: string): Promise<Condition> {
  const err = checkDefinition(def);
  if (err) throw new HttpError(400, 'invalid_definition', `definition.${err.path}: ${err.message}`, `definition.${err.path}`);
  const d = def as Condition;
  const customs = leaves(d).flatMap((l) => (l.kind === 'computed' && l.property.startsWith('custom.') ? [l.property.slice(7)] : []));
  if (customs.length) {
    const known = new Set((await store.db.selectFrom('computed_properties').select('name').where('workspace_id', '=', ws).execute()).map((r) => r.name));
    for (const c of customs) if (!known.has(c)) throw new HttpError(400, 'invalid_definition', `definition refers to unknown computed property custom.${c}`, 'definition');
  }
  const places = leaves(d).flatMap((l) => (l.kind === 'geo' && l.near && 'location' in l.near ? [l.near.location] : []));
  if (places.length) {
    const known = new Set((await store.db.selectFrom('locations').select('id').where('workspace_id', '=', ws).execute()).map((r) => r.id));
    for (const p of places) if (!known.has(p)) throw new HttpError(400, 'invalid_definition', `definition refers to unknown location ${p}`, 'definition');
  }
  const refs = referencedSegments(d);
  if (refs.length) {
    const rows = await store.db.selectFrom('segments').select(['id', 'definition']).where('workspace_id', '=', ws).where('status', '=', 'active').execute();
    const known = new Set(rows.map((r) => r.id));
    for (const r of refs) if (!known.has(r) && r !== selfId) throw new HttpError(400, 'invalid_definition', `definition refers to unknown segment ${r}`, 'definition');
    const graph: { id: string; deps: Deps }[] = rows.filter((r) => r.id !== selfId).map((r) => ({ id: r.id, deps: dependencies(fromJson<Condition>(r.definition)) }));
    graph.push({ id: selfId ?? '(new)', deps: dependencies(d) });
    if (refs.includes(selfId ?? '') || !topoOrder(graph)) throw new HttpError(400, 'invalid_definition', 'segment references form a cycle', 'definition');
  }
  return d;
}

export async function createSegment(store: Store, engine: SegmentEngine, ws: string, input: SegmentInput, wait: boolean) {
  const def = await validate(store, ws, input.definition);
  const id = newId('seg');
  const now = Date.now();
  await store.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('segments')
      .values({ workspace_id: ws, id, name: input.name, description: input.description ?? '', definition: toJson(def), version: 1, status: 'active', created_at: now, updated_at: now, recomputed_at: null })
      .execute();
    await tx.insertInto('segment_versions').values({ workspace_id: ws, segment_id: id, version: 1, name: input.name, definition: toJson(def), created_at: now }).execute();
  });
  engine.invalidate(ws);
  await recompute(engine, ws, id, wait);
  return getSegment(store, ws, id);
}

export async function updateSegment(store: Store, engine: SegmentEngine, ws: string, id: string, input: Partial<SegmentInput>, wait: boolean) {
  const cur = await store.db.selectFrom('segments').selectAll().where('workspace_id', '=', ws).where('id', '=', id).where('status', '=', 'active').executeTakeFirst();
  if (!cur) throw new HttpError(404, 'not_found', `segment ${id} not found`);
  const def = input.definition !== undefined ? await validate(store, ws, input.definition, id) : fromJson<Condition>(cur.definition);
  const version = cur.version + 1;
  const now = Math.max(Date.now(), cur.updated_at + 1);
  const name = input.name ?? cur.name;
  await store.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('segments')
      .set({ name, description: input.description ?? cur.description, definition: toJson(def), version, updated_at: now })
      .where('workspace_id', '=', ws)
      .where('id', '=', id)
      .execute();
    await tx.insertInto('segment_versions').values({ workspace_id: ws, segment_id: id, version, name, definition: toJson(def), created_at: now }).execute();
  });
  engine.invalidate(ws);
  if (input.definition !== undefined) await recompute(engine, ws, id, wait);
  return getSegment(store, ws, id);
}

async function recompute(engine: SegmentEngine, ws: string, id: string, wait: boolean) {
  const job = engine.recompute(ws, id);
  if (wait) await job;
  else job.catch(() => undefined);
}

export async function archiveSegment(store: Store, engine: SegmentEngine, ws: string, id: string) {
  const dependents = (await store.db.selectFrom('segments').select(['id', 'definition']).where('workspace_id', '=', ws).where('status', '=', 'active').execute()).filter((r) =>
    referencedSegments(fromJson<Condition>(r.definition)).includes(id),
  );
  if (dependents.length) throw new HttpError(409, 'conflict', `segment ${id} is used by ${dependents.map((d) => d.id).join(', ')}`);
  const res = await store.db.transaction().execute(async (tx) => {
    const r = await tx.updateTable('segments').set({ status: 'archived', updated_at: Date.now() }).where('workspace_id', '=', ws).where('id', '=', id).where('status', '=', 'active').executeTakeFirst();
    await tx.deleteFrom('segment_members').where('workspace_id', '=', ws).where('segment_id', '=', id).execute();
    await tx.deleteFrom('segment_timers').where('workspace_id', '=', ws).where('segment_id', '=', id).execute();
    return Number(r.numUpdatedRows);
  });
  engine.invalidate(ws);
  if (!res) throw new HttpError(404, 'not_found', `segment ${id} not found`);
}

export async function getSegment(store: Store, ws: string, id: string) {
  const r = await store.db.selectFrom('segments').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
  if (!r) throw new HttpError(404, 'not_found', `segment ${id} not found`);
  const count = await store.db
    .selectFrom('segment_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', ws)
    .where('segment_id', '=', id)
    .executeTakeFirst();
  return { ...segmentView(r), members: Number(count?.n ?? 0) };
}

/** Counts who would match a draft definition right now, without saving anything. */
export async function previewSegment(store: Store, engine: SegmentEngine, ws: string, definition: unknown, sampleSize = 10) {
  const def = await validate(store, ws, definition);
  const now = engine.now();
  let after = '';
  let count = 0;
  let total = 0;
  const sample: string[] = [];
  for (;;) {
    const page = await store.db
      .selectFrom('profiles')
      .select('id')
      .where('workspace_id', '=', ws)
      .whereRef('id', '=', 'canonical_id')
      .where('id', '>', after)
      .orderBy('id')
      .limit(1000)
      .execute();
    if (!page.length) break;
    const facts = await loadFacts(store.db, ws, page.map((p) => p.id));
    for (const f of facts.values()) {
      total++;
      if (evaluate(def, f, now).value) {
        count++;
        if (sample.length < sampleSize) sample.push(f.profileId);
      }
    }
    after = page[page.length - 1]!.id;
  }
  return { count, total, sample };
}

export async function segmentMembers(store: Store, engine: SegmentEngine, ws: string, id: string, opts: { limit: number; cursor?: string; why: boolean }) {
  const seg = await store.db.selectFrom('segments').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
  if (!seg) throw new HttpError(404, 'not_found', `segment ${id} not found`);
  let q = store.db.selectFrom('segment_members').select(['profile_id', 'entered_at']).where('workspace_id', '=', ws).where('segment_id', '=', id).orderBy('profile_id').limit(opts.limit + 1);
  if (opts.cursor) q = q.where('profile_id', '>', opts.cursor);
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  let why = new Map<string, Explanation>();
  const names = new Map<string, string>();
  if (opts.why && page.length) {
    const def = fromJson<Condition>(seg.definition);
    const facts = await loadFacts(store.db, ws, page.map((r) => r.profile_id));
    const now = engine.now();
    why = new Map([...facts].map(([pid, f]) => [pid, explain(def, f, now)]));
    for (const [pid, f] of facts) {
      const n = displayName(f.traits);
      if (n) names.set(pid, n);
    }
  }
  // Who each member is, for people rather than ids: the cluster's email, phone and user id.
  const known = new Map<string, { email?: string; phone?: string; userId?: string }>();
  if (page.length) {
    const ids = await store.db
      .selectFrom('identifiers as i')
      .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'i.workspace_id').onRef('p.id', '=', 'i.profile_id'))
      .select(['p.canonical_id as pid', 'i.kind', 'i.value'])
      .where('i.workspace_id', '=', ws)
      .where('p.canonical_id', 'in', page.map((r) => r.profile_id))
      .where('i.kind', 'in', ['email', 'phone', 'user_id'])
      .orderBy('i.value')
      .execute();
    for (const r of ids) {
      const k = known.get(r.pid) ?? {};
      const key = r.kind === 'user_id' ? 'userId' : (r.kind as 'email' | 'phone');
      k[key] ??= r.value;
      known.set(r.pid, k);
    }
  }
  return {
    members: page.map((r) => ({
      profileId: r.profile_id,
      enteredAt: r.entered_at,
      ...(names.has(r.profile_id) ? { name: names.get(r.profile_id) } : {}),
      ...known.get(r.profile_id),
      ...(opts.why ? { why: why.get(r.profile_id) ?? null } : {}),
    })),
    nextCursor: rows.length > opts.limit ? page[page.length - 1]!.profile_id : null,
  };
}
