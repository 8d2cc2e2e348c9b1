// Template preview: render a saved template (or a draft source) for a real person or for sample data, exactly as a
// send would (brand kit, blocks, computed properties), without tracking links and without sending anything.
import { HttpError, notFound } from '../app/errors.ts';
import { resolveCanonical } from '../profiles/read.ts';
import { profileComputed } from '../segments/computed.ts';
import { loadPerson } from './person.ts';
import type { MessagingService } from './service.ts';
import { RenderError, type RenderContext, renderTemplate, validateBrandKit, validateTemplate } from './templates/index.ts';

const SAMPLE: RenderContext['profile'] = {
  id: 'sample',
  email: 'alex@example.com',
  phone: '+447700900123',
  traits: { first_name: 'Alex', last_name: 'Sample', email: 'alex@example.com', city: 'London', country: 'GB' },
  timeZone: 'Europe/London',
};

export interface PreviewInput {
  templateId?: string;
  source?: unknown;
  profileId?: string;
  event?: { name: string; properties?: Record<string, unknown> };
  items?: Record<string, unknown>[];
  /** An unsaved brand kit to render with (the brand kit editor's live preview); validated like a saved one. */
  brand?: unknown;
}

export async function previewTemplate(svc: MessagingService, ws: string, input: PreviewInput) {
  const partials = await svc.templates.partials(ws);
  let source;
  let version: number | null = null;
  if (input.templateId) {
    const t = await svc.templates.get(ws, input.templateId);
    source = t.source;
    version = t.version;
  } else {
    const r = validateTemplate(input.source, partials);
    if (!r.ok) {
      const e = r.errors[0]!;
      throw new HttpError(400, 'invalid_template', `source.${e.field}: ${e.message}${e.line !== undefined ? ` (line ${e.line}${e.column !== undefined ? `, column ${e.column}` : ''})` : ''}`, `source.${e.field}`);
    }
    source = r.value;
  }
  let profile = SAMPLE;
  let computed: Record<string, unknown> = { orders: 3, total_spent: 12_500, days_since_last_order: 12 };
  if (input.profileId) {
    const c = await resolveCanonical(svc.store.db, ws, input.profileId);
    const p = c ? await loadPerson(svc.store.db, ws, c, svc.now()) : null;
    if (!p) throw notFound(`profile ${input.profileId} not found`);
    profile = { id: p.profile.id, email: p.email, phone: p.phone, traits: p.profile.traits, timeZone: p.profile.timeZone };
    computed = (await profileComputed(svc.store, svc.segments, ws, p.profile.id).catch(() => ({}))) as Record<string, unknown>;
  }
  const base = svc.opts.publicUrl.replace(/\/+$/, '');
  try {
    const { content, warnings } = await renderTemplate(
      source,
      {
        profile,
        event: input.event ? { name: input.event.name, properties: input.event.properties ?? {} } : null,
        computed,
        items: input.items ?? [],
        links: { unsubscribeUrl: `${base}/u/preview`, preferencesUrl: `${base}/p/preview` },
        message: { id: 'preview' },
      },
      { brand: input.brand === undefined ? await svc.settings.brand(ws) : draftBrand(input.brand), partials },
    );
    return { templateId: input.templateId ?? null, version, profileId: profile.id, content, warnings };
  } catch (e) {
    if (e instanceof RenderError) {
      // The message already names the field; the field is reported as the API names it (source.<field>).
      throw new HttpError(400, 'render_error', `${e.message}${e.line !== undefined && !e.message.includes('line') ? ` (line ${e.line})` : ''}`, `source.${e.field}`);
    }
    throw e;
  }
}

function draftBrand(input: unknown) {
  const r = validateBrandKit(input);
  if (!r.ok) throw new HttpError(400, 'invalid_request', `brand.${r.errors[0]!.field}: ${r.errors[0]!.message}`, `brand.${r.errors[0]!.field}`);
  return r.value;
}
