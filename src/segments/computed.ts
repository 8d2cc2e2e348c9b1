// User-defined computed properties (CRUD) and a person's computed properties as the API shows them.
import type { Store } from '../store/db.ts';
import { fromJson, toJson } from '../store/json.ts';
import { HttpError } from '../app/errors.ts';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { CUSTOM_NAME, type CustomProperty, CustomProperty as CustomSchema, type Condition, referencedSegments } from './definition.ts';
import type { SegmentEngine } from './engine.ts';
import { computeCustom } from './evaluate.ts';
import { computeProperties } from './facts.ts';
import { loadFacts } from './load.ts';

const check = TypeCompiler.Compile(CustomSchema);

function validate(name: unknown, def: unknown): CustomProperty {
  if (typeof name !== 'string' || !CUSTOM_NAME.test(name)) throw new HttpError(400, 'invalid_request', 'name must be lower_snake_case (a letter, then letters, digits, _), at most 63 characters', 'name');
  if (!check.Check(def)) {
    const e = check.Errors(def).First();
    const field = `definition${e?.path ? e.path.replace(/\//g, '.') : ''}`;
    throw new HttpError(400, 'invalid_request', `${field}: ${e?.message ?? 'invalid'}`, field);
  }
  const d = def as CustomProperty;
  if (d.agg !== 'count' && !d.path) throw new HttpError(400, 'invalid_request', `definition.path: aggregate ${d.agg} needs the property path to aggregate`, 'definition.path');
  return d;
}

export async function listCustom(store: Store, ws: string) {
  const rows = await store.db.selectFrom('computed_properties').selectAll().where('workspace_id', '=', ws).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, definition: fromJson<CustomProperty>(r.definition), createdAt: r.created_at, updatedAt: r.updated_at }));
}

export async function putCustom(store: Store, engine: SegmentEngine, ws: string, name: unknown, def: unknown) {
  const d = validate(name, def);
  const now = Date.now();
  await store.db
    .insertInto('computed_properties')
    .values({ workspace_id: ws, name: name as string, definition: toJson(d), created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ definition: toJson(d), updated_at: now }))
    .execute();
  engine.invalidate(ws);
  // Segments that use it are now stale: recompute the workspace's segments in the background.
  engine.recompute(ws).catch(() => undefined);
  return { name, definition: d };
}

export async function deleteCustom(store: Store, engine: SegmentEngine, ws: string, name: string) {
  const users = (await store.db.selectFrom('segments').select(['id', 'definition']).where('workspace_id', '=', ws).where('status', '=', 'active').execute()).filter((s) =>
    JSON.stringify(fromJson<Condition>(s.definition)).includes(`"custom.${name}"`),
  );
  if (users.length) throw new HttpError(409, 'conflict', `computed property ${name} is used by segments ${users.map((u) => u.id).join(', ')}`);
  const r = await store.db.deleteFrom('computed_properties').where('workspace_id', '=', ws).where('name', '=', name).executeTakeFirst();
  if (!Number(r.numDeletedRows)) throw new HttpError(404, 'not_found', `computed property ${name} not found`);
  engine.invalidate(ws);
}

/** Every computed property of one person at the engine's now, custom ones included. */
export async function profileComputed(store: Store, engine: SegmentEngine, ws: string, canonicalId: string) {
  const facts = (await loadFacts(store.db, ws, [canonicalId])).get(canonicalId);
  if (!facts) throw new HttpError(404, 'not_found', `profile ${canonicalId} not found`);
  const now = engine.now();
  const custom: Record<string, unknown> = {};
  for (const [n, d] of Object.entries(facts.custom ?? {})) custom[n] = computeCustom(d, facts, now).value;
  return { at: now, ...computeProperties(facts, now), omnichannel: computeProperties(facts, now).channels_used >= 2, custom, segments: [...facts.segments] };
}

export { referencedSegments };
