// Templates and reusable blocks (partials) in the store. Every save is a new version; a send records the version it
// rendered. A template or block is validated (Liquid syntax with line/column, MJML structure, partials that exist)
// before anything is written.
import { HttpError, badRequest, notFound } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import { type TemplateSource, validateTemplate } from './templates/index.ts';

export interface TemplateView {
  id: string;
  name: string;
  channel: string;
  version: number;
  status: string;
  source: TemplateSource;
  variables?: string[];
  warnings?: string[];
  createdAt: number;
  updatedAt: number;
}

const NAME_RE = /^[a-z0-9_][a-z0-9_-]{0,63}$/;
const MAX_PARTIALS = 200;
const MAX_PARTIAL_BYTES = 100_000;

function invalid(errors: { field: string; message: string; line?: number; column?: number }[]): HttpError {
  const e = errors[0]!;
  const where = e.line !== undefined ? ` (line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''})` : '';
  const err = new HttpError(400, 'invalid_template', `${e.field}: ${e.message}${where}`, e.field);
  (err as HttpError & { details?: unknown }).details = errors;
  return err;
}

export class TemplateStore {
  constructor(private readonly store: Store) {}

  async partials(ws: string): Promise<Record<string, string>> {
    const rows = await this.store.db.selectFrom('template_partials').select(['name', 'body']).where('workspace_id', '=', ws).execute();
    return Object.fromEntries(rows.map((r) => [r.name, r.body]));
  }

  async setPartial(ws: string, name: string, body: unknown): Promise<void> {
    if (!NAME_RE.test(name)) throw badRequest('name must be 1-64 characters of a-z, 0-9, _ or - ', 'name');
    if (typeof body !== 'string' || body.length === 0 || body.length > MAX_PARTIAL_BYTES) throw badRequest(`body must be a non-empty string of at most ${MAX_PARTIAL_BYTES} characters`, 'body');
    const partials = await this.partials(ws);
    if (!(name in partials) && Object.keys(partials).length >= MAX_PARTIALS) throw badRequest(`at most ${MAX_PARTIALS} blocks per workspace`, 'name');
    // A block is checked as an SMS body: its Liquid must parse, and the blocks it renders must exist.
    const r = validateTemplate({ channel: 'sms', body }, { ...partials, [name]: body });
    if (!r.ok) throw invalid(r.errors.map((e) => ({ ...e, field: 'body' })));
    const now = Date.now();
    await this.store.db
      .insertInto('template_partials')
      .values({ workspace_id: ws, name, body, updated_at: now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ body, updated_at: now }))
      .execute();
  }

  async deletePartial(ws: string, name: string): Promise<boolean> {
    const r = await this.store.db.deleteFrom('template_partials').where('workspace_id', '=', ws).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async create(ws: string, name: unknown, source: unknown): Promise<TemplateView> {
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200) throw badRequest('name must be 1-200 characters', 'name');
    const r = validateTemplate(source, await this.partials(ws));
    if (!r.ok) throw invalid(r.errors.map((e) => ({ ...e, field: `source.${e.field}` })));
    const now = Date.now();
    const id = newId('tpl', now);
    await this.store.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('templates')
        .values({ workspace_id: ws, id, name, channel: r.value.channel, version: 1, source: toJson(r.value), status: 'active', created_at: now, updated_at: now })
        .execute();
      await tx.insertInto('template_versions').values({ workspace_id: ws, template_id: id, version: 1, source: toJson(r.value), created_at: now }).execute();
    });
    return { id, name, channel: r.value.channel, version: 1, status: 'active', source: r.value, variables: r.variables, warnings: r.warnings, createdAt: now, updatedAt: now };
  }

  async update(ws: string, id: string, patch: { name?: unknown; source?: unknown }): Promise<TemplateView> {
    const cur = await this.get(ws, id);
    const name = patch.name === undefined ? cur.name : patch.name;
    if (typeof name !== 'string' || name.trim().length === 0 || name.length > 200) throw badRequest('name must be 1-200 characters', 'name');
    let source = cur.source;
    let variables: string[] | undefined;
    let warnings: string[] | undefined;
    if (patch.source !== undefined) {
      const r = validateTemplate(patch.source, await this.partials(ws));
      if (!r.ok) throw invalid(r.errors.map((e) => ({ ...e, field: `source.${e.field}` })));
      if (r.value.channel !== cur.channel) throw badRequest(`a ${cur.channel} template cannot become ${r.value.channel}; create a new template`, 'source.channel');
      source = r.value;
      variables = r.variables;
      warnings = r.warnings;
    }
    const now = Date.now();
    const changed = patch.source !== undefined && JSON.stringify(source) !== JSON.stringify(cur.source);
    const version = changed ? cur.version + 1 : cur.version;
    await this.store.db.transaction().execute(async (tx) => {
      await tx.updateTable('templates').set({ name, source: toJson(source), version, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', id).execute();
      if (changed) await tx.insertInto('template_versions').values({ workspace_id: ws, template_id: id, version, source: toJson(source), created_at: now }).execute();
    });
    return { ...cur, name, source, version, updatedAt: now, variables, warnings };
  }

  async archive(ws: string, id: string): Promise<void> {
    await this.get(ws, id);
    await this.store.db.updateTable('templates').set({ status: 'archived', updated_at: Date.now() }).where('workspace_id', '=', ws).where('id', '=', id).execute();
  }

  async list(ws: string): Promise<TemplateView[]> {
    const rows = await this.store.db.selectFrom('templates').selectAll().where('workspace_id', '=', ws).where('status', '=', 'active').orderBy('created_at').execute();
    return rows.map(view);
  }

  async get(ws: string, id: string): Promise<TemplateView> {
    const row = await this.store.db.selectFrom('templates').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`template ${id} not found`);
    return view(row);
  }

  async version(ws: string, id: string, version: number): Promise<TemplateSource | null> {
    const row = await this.store.db
      .selectFrom('template_versions')
      .select('source')
      .where('workspace_id', '=', ws)
      .where('template_id', '=', id)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? fromJson<TemplateSource>(row.source) : null;
  }

  async versions(ws: string, id: string): Promise<{ version: number; createdAt: number }[]> {
    await this.get(ws, id);
    const rows = await this.store.db.selectFrom('template_versions').select(['version', 'created_at']).where('workspace_id', '=', ws).where('template_id', '=', id).orderBy('version', 'desc').execute();
    return rows.map((r) => ({ version: r.version, createdAt: Number(r.created_at) }));
  }
}

function view(r: { id: string; name: string; channel: string; version: number; status: string; source: unknown; created_at: number; updated_at: number }): TemplateView {
  return { id: r.id, name: r.name, channel: r.channel, version: r.version, status: r.status, source: fromJson<TemplateSource>(r.source), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
}
