// validateTemplate: everything that can be checked without a person to render for. Shape of the source, Liquid
// syntax of every field (line and column), blocks that exist, MJML structure (lines of the template), static URLs,
// the variables read and warnings for those Omnia never provides.
import { DEFAULT_BRAND_KIT } from './brand-kit.ts';
import { KNOWN_VARIABLES } from './context.ts';
import { allPartials, describeLiquidError, engine, parse, topLevelTokens } from './engine.ts';
import { brandLayoutMjml, isFullMjmlDocument, layoutBodyLineOffset } from './layout.ts';
import { maskLiquid, validateMjmlStructure } from './mjml.ts';
import { MAX_SUBJECT } from './render-email.ts';
import { checkPushUrl, unsafeOnsiteMarkup } from './render.ts';
import type { FieldError, TemplateChannel, TemplateSource } from './types.ts';

const MAX_FIELD = 200_000;
const FIELDS: Record<TemplateChannel, { required: string[]; optional: string[] }> = {
  email: { required: ['subject'], optional: ['preheader', 'mjml', 'html', 'text'] },
  sms: { required: ['body'], optional: [] },
  push: { required: ['title', 'body'], optional: ['icon', 'url'] },
  onsite: { required: ['title', 'body'], optional: ['url'] },
  webhook: { required: ['body'], optional: [] },
};
const KNOWN_ROOTS = new Set(KNOWN_VARIABLES.map((v) => v.split('.')[0]!));
const PARTIAL_TAGS = new Set(['render', 'include', 'layout']);

export type ValidateResult = { ok: true; value: TemplateSource; variables: string[]; warnings: string[] } | { ok: false; errors: FieldError[] };

/** "event.properties['a b']" / "items[0].title" → "event.properties.a b" / "items.0.title". */
function normaliseVariable(v: string): string {
  return v.replace(/\[\s*(['"])(.*?)\1\s*\]/g, '.$2').replace(/\[(\d+)\]/g, '.$1');
}

export function isKnownVariable(v: string): boolean {
  const n = normaliseVariable(v);
  return KNOWN_VARIABLES.some((k) => (k.endsWith('.*') ? n === k.slice(0, -2) || n.startsWith(k.slice(0, -1)) : n === k));
}

/** Splits an output's `value | f: a | g` on the pipes outside quotes. */
function filterNames(expr: string): string[] {
  const parts = expr.split(/\|(?=(?:[^"']|"[^"]*"|'[^']*')*$)/);
  return parts.slice(1).map((p) => /^\s*([A-Za-z_][\w-]*)/.exec(p)?.[1] ?? '');
}

interface PartialRef {
  name: string | null;
  line?: number;
  column?: number;
}

/** The blocks a template renders (`{% render 'x' %}`, also inside `{% liquid %}`), and its output expressions. */
function scan(src: string, partials: Record<string, string>): { refs: PartialRef[]; outputs: { expr: string; line?: number; column?: number }[] } {
  const refs: PartialRef[] = [];
  const outputs: { expr: string; line?: number; column?: number }[] = [];
  const liquid = engine('text', partials).liquid;
  for (const t of topLevelTokens(liquid, src)) {
    const [line, column] = t.getPosition();
    const tok = t as unknown as { name?: string; args?: string; content?: string; kind: number };
    if (tok.name !== undefined && tok.args !== undefined) {
      const statements = tok.name === 'liquid' ? tok.args.split('\n').map((l) => l.trim()) : [`${tok.name} ${tok.args}`];
      for (const s of statements) {
        const m = /^(\w+)\s*([\s\S]*)$/.exec(s);
        if (!m || !PARTIAL_TAGS.has(m[1]!)) continue;
        const q = /^(['"])([^'"]+)\1/.exec(m[2]!.trim());
        refs.push({ name: q ? q[2]! : null, line, column });
      }
    } else if (tok.content !== undefined && /^\{\{/.test(t.getText())) {
      outputs.push({ expr: tok.content, line, column });
    }
  }
  return { refs, outputs };
}

export function validateTemplate(source: unknown, partials: Record<string, string>): ValidateResult {
  const errors: FieldError[] = [];
  const warnings: string[] = [];
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return { ok: false, errors: [{ field: 'source', message: 'must be an object' }] };
  const s = source as Record<string, unknown>;
  const channel = s.channel as TemplateChannel;
  const spec = FIELDS[channel];
  if (typeof s.channel !== 'string' || !Object.prototype.hasOwnProperty.call(FIELDS, s.channel)) {
    return { ok: false, errors: [{ field: 'channel', message: `must be one of ${Object.keys(FIELDS).join(', ')}` }] };
  }
  const value: Record<string, unknown> = { channel };
  for (const k of Object.keys(s)) {
    if (k === 'channel' || (channel === 'onsite' && k === 'kind')) continue;
    if (!spec.required.includes(k) && !spec.optional.includes(k)) errors.push({ field: k, message: `unknown field for a ${channel} template` });
  }
  const fields: { field: string; src: string }[] = [];
  for (const k of [...spec.required, ...spec.optional]) {
    const v = s[k];
    if (v === undefined) {
      if (spec.required.includes(k)) errors.push({ field: k, message: 'is required' });
      continue;
    }
    if (typeof v !== 'string') errors.push({ field: k, message: 'must be a string' });
    else if (spec.required.includes(k) && v.trim() === '') errors.push({ field: k, message: 'must not be empty' });
    else if (v.length > MAX_FIELD) errors.push({ field: k, message: `must be at most ${MAX_FIELD} characters` });
    else {
      value[k] = v;
      fields.push({ field: k, src: v });
    }
  }
  if (channel === 'onsite') {
    if (s.kind !== 'banner' && s.kind !== 'modal') errors.push({ field: 'kind', message: 'must be "banner" or "modal"' });
    else value.kind = s.kind;
  }
  if (channel === 'email' && (s.mjml === undefined) === (s.html === undefined)) errors.push({ field: 'mjml', message: 'an email template needs exactly one of mjml or html' });
  if (errors.length) return { ok: false, errors };

  const all = allPartials(partials);
  const e = engine('text', partials);
  const variables = new Set<string>();
  for (const { field, src } of fields) {
    let ok = true;
    try {
      parse(e, src);
    } catch (err) {
      const d = describeLiquidError(err);
      errors.push({ field, message: d.message, ...(d.line !== undefined ? { line: d.line, column: d.column } : {}) });
      continue;
    }
    const { refs, outputs } = scan(src, partials);
    for (const o of outputs) {
      const names = filterNames(o.expr);
      if (names.includes('raw')) errors.push({ field, message: 'the raw filter is not available: printed values are always escaped for their context', line: o.line, column: o.column });
      const d = names.indexOf('default');
      if (d > 0) warnings.push(`${field} line ${o.line}: "default" is not the first filter in {{${o.expr}}}; a missing value fails before it (put default first)`);
    }
    // Blocks, recursively: each must exist; names must be literal so this check is complete.
    const seen = new Set<string>();
    const queue: { ref: PartialRef; via?: string }[] = refs.map((ref) => ({ ref }));
    while (queue.length) {
      const { ref, via } = queue.shift()!;
      const where = via ? { message: `block "${via}": ` } : { message: '' };
      const pos = via ? {} : { line: ref.line, column: ref.column };
      if (ref.name === null) {
        errors.push({ field, message: `${where.message}block names must be quoted strings ({% render 'name' %})`, ...pos });
        ok = false;
      } else if (!Object.prototype.hasOwnProperty.call(all, ref.name)) {
        errors.push({ field, message: `${where.message}block "${ref.name}" does not exist`, ...pos });
        ok = false;
      } else if (!seen.has(ref.name)) {
        seen.add(ref.name);
        try {
          for (const r of scan(all[ref.name]!, partials).refs) queue.push({ ref: r, via: ref.name });
        } catch (err) {
          errors.push({ field, message: `block "${ref.name}": ${describeLiquidError(err).message}` });
          ok = false;
        }
      }
    }
    if (!ok) continue;
    try {
      // The template's own reads, and what its blocks read from the shared context (a block's other names are its
      // parameters, optional unless it says otherwise).
      for (const v of e.liquid.globalFullVariablesSync(parse(e, src), { partials: false })) variables.add(v);
      for (const name of seen) for (const v of e.liquid.globalFullVariablesSync(parse(e, all[name]!), { partials: false })) if (KNOWN_ROOTS.has(v.split(/[.[]/)[0]!)) variables.add(v);
    } catch (err) {
      errors.push({ field, message: describeLiquidError(err).message });
    }
  }

  // Channel-specific checks on the text as written (Liquid masked).
  for (const { field, src } of fields) {
    const hasLiquid = /\{\{|\{%/.test(src);
    if (channel === 'email' && field === 'mjml') {
      const masked = maskLiquid(src);
      const full = isFullMjmlDocument(masked);
      if (full && !/<mj-body\b/.test(masked)) errors.push({ field, message: 'an <mjml> document needs an <mj-body>' });
      else {
        const doc = full ? masked : brandLayoutMjml(DEFAULT_BRAND_KIT, masked, {});
        errors.push(...validateMjmlStructure(field, doc, full ? 0 : layoutBodyLineOffset(DEFAULT_BRAND_KIT, {}), masked.split('\n').length));
      }
    }
    if (channel === 'email' && field === 'subject' && !hasLiquid && src.trim().length > MAX_SUBJECT) errors.push({ field, message: `must be at most ${MAX_SUBJECT} characters` });
    if (channel === 'onsite' && field === 'body') {
      const unsafe = unsafeOnsiteMarkup(maskLiquid(src));
      if (unsafe) errors.push({ field, message: unsafe });
    }
    if ((field === 'url' || field === 'icon') && !hasLiquid) {
      const problem = checkPushUrl(src.trim(), field);
      if (problem) errors.push({ field, message: problem });
    }
  }
  if (errors.length) return { ok: false, errors };

  const list = [...variables].sort();
  for (const v of list) if (!isKnownVariable(v)) warnings.push(`unknown variable "${v}": Omnia provides profile, event, computed, items, brand, links and message`);
  return { ok: true, value: value as unknown as TemplateSource, variables: list, warnings };
}
