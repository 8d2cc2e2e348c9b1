// The Liquid engines: one liquidjs instance per (escaping mode, set of partials), configured for strictness and
// bounded work, with a cache of parsed templates. Rendering errors come out as RenderError naming field and variable.
import { createHash } from 'node:crypto';
import { CaptureTag, Liquid, Tokenizer, type Context, type LiquidOptions, type Template, type TopLevelToken } from 'liquidjs';
import { BUILTIN_BLOCKS } from './blocks.ts';
import { escapeJsonString, stripControl, toText } from './escape.ts';
import { type FilterImpl, RENDER_STATE, type RenderState, date, money, renderState } from './filters.ts';
import { RenderError } from './types.ts';

/**
 * How printed values are escaped: `html` records them as slot tokens (escaped at fill time, see slots.ts), `text`
 * prints them as plain text without control characters, `json` escapes them for the inside of a JSON string.
 */
export type Mode = 'html' | 'text' | 'json';

/** Bounds per render/parse: a runaway template fails with a clear error instead of hanging a worker. */
export const LIMITS = {
  /** Milliseconds of rendering per field. */
  renderMs: 1000,
  /** Characters parsed per parse() call (a template or one partial). */
  parseChars: 1_000_000,
  /** liquidjs's allocation units (array/string building) per render. */
  memory: 20_000_000,
};

function escaper(mode: Mode): (this: FilterImpl, v: unknown) => string {
  if (mode === 'json') return (v) => escapeJsonString(stripControl(toText(v)));
  if (mode === 'text') return (v) => stripControl(toText(v));
  return function (this: FilterImpl, v: unknown) {
    const slots = renderState(this)?.slots;
    const s = stripControl(toText(v));
    if (!slots) throw new Error('internal: html render without output slots');
    // A captured string already holds tokens: resolve them first, so it is escaped once more, as it would be
    // without tokens (capture results are HTML).
    return slots.add(slots.resolveHtml(s));
  };
}

/**
 * `{% capture %}` in HTML mode: the captured markup holds tokens; make it the HTML a direct render would hold, so
 * filters applied to it later (size, truncate, upcase) see real text.
 */
class ResolvingCapture extends CaptureTag {
  override *render(ctx: Context): Generator<unknown, void, unknown> {
    yield* super.render(ctx) as Generator<unknown, void, unknown>;
    const slots = (ctx.globals as Record<symbol, RenderState | undefined>)[RENDER_STATE]?.slots;
    const bottom = ctx.bottom() as Record<string, unknown>;
    const v = bottom[this.variable];
    if (slots && typeof v === 'string') bottom[this.variable] = slots.resolveHtml(v);
  }
}

/** The liquidjs options every engine uses (exported so the benchmark's Liquid-only baseline uses the same). */
export function liquidOptions(templates: Record<string, string>): LiquidOptions {
  return {
    templates,
    strictVariables: true,
    // …but `{% if x %}` and `{{ x | default: "…" }}` on a missing x are the way to say "optional".
    lenientIf: true,
    ownPropertyOnly: true,
    strictFilters: true,
    renderLimit: LIMITS.renderMs,
    parseLimit: LIMITS.parseChars,
    memoryLimit: LIMITS.memory,
    // Partials are parsed once per engine; an engine is bound to one content hash of the partials.
    cache: 500,
  };
}

function createEngine(mode: Mode, templates: Record<string, string>): Liquid {
  const liquid = new Liquid({ ...liquidOptions(templates), outputEscape: escaper(mode) });
  liquid.registerFilter('money', money);
  liquid.registerFilter('date', date);
  // No opt-out of escaping: `raw` is an ordinary (escaped) identity filter. validateTemplate rejects it anyway.
  liquid.registerFilter('raw', (v: unknown) => v);
  // In JSON, `| json` prints a JSON literal (a safe way to emit numbers, arrays, objects, or a quoted string).
  if (mode === 'json') liquid.registerFilter('json', { raw: true, handler: (v: unknown) => JSON.stringify(v ?? null) ?? 'null' });
  if (mode === 'html') liquid.registerTag('capture', ResolvingCapture);
  return liquid;
}

interface EngineEntry {
  liquid: Liquid;
  parsed: Map<string, Template[]>;
}

const engines = new Map<string, EngineEntry>();
const MAX_ENGINES = 64;
const MAX_PARSED = 500;

/** The partials a template can render: the built-in blocks, overridden by the workspace's own. */
export function allPartials(partials: Record<string, string>): Record<string, string> {
  return { ...BUILTIN_BLOCKS, ...partials };
}

function partialsKey(partials: Record<string, string>): string {
  const h = createHash('sha1');
  for (const k of Object.keys(partials).sort()) h.update(k).update('\u0000').update(partials[k]!).update('\u0001');
  return h.digest('base64');
}

export function engine(mode: Mode, partials: Record<string, string>): EngineEntry {
  const key = `${mode}:${partialsKey(partials)}`;
  let e = engines.get(key);
  if (e) {
    engines.delete(key); // LRU: re-insert as newest
  } else {
    e = { liquid: createEngine(mode, allPartials(partials)), parsed: new Map() };
    if (engines.size >= MAX_ENGINES) engines.delete(engines.keys().next().value!);
  }
  engines.set(key, e);
  return e;
}

/** Removes the private-use characters tokens are made of, so template text can never contain a token. */
export function cleanSource(src: string): string {
  return src.replace(/[\ue000\ue001]/g, '');
}

export function parse(e: EngineEntry, source: string): Template[] {
  let t = e.parsed.get(source);
  if (!t) {
    t = e.liquid.parse(cleanSource(source));
    if (e.parsed.size >= MAX_PARSED) e.parsed.delete(e.parsed.keys().next().value!);
    e.parsed.set(source, t);
  }
  return t;
}

/** Renders one field. Throws RenderError (field, variable, line, column) on any failure. */
export async function renderField(field: string, mode: Mode, source: string, scope: Record<string, unknown>, state: RenderState, partials: Record<string, string>): Promise<string> {
  const e = engine(mode, partials);
  let tpl: Template[];
  try {
    tpl = parse(e, source);
  } catch (err) {
    throw toRenderError(field, err);
  }
  try {
    const out: unknown = await e.liquid.render(tpl, {}, { globals: { ...scope, [RENDER_STATE]: state } });
    return typeof out === 'string' ? out : toText(out);
  } catch (err) {
    throw toRenderError(field, err, source, allPartials(partials));
  }
}

interface LiquidErrorLike {
  name?: string;
  message?: string;
  token?: { file?: string; input?: string; getPosition?: () => [number, number] };
  originalError?: unknown;
}

/**
 * The position and the message without liquidjs's ", line:1, col:4" suffix. With in-memory templates liquidjs does
 * not record which file a token came from, so an error whose token text is not the field's own source is placed in
 * the block whose source it is (and its line is not reported as the field's).
 */
export function describeLiquidError(err: unknown, source?: string, partials?: Record<string, string>): { message: string; line?: number; column?: number; inPartial?: string } {
  const e = (err ?? {}) as LiquidErrorLike;
  let message = String(e.message ?? err).split('\n')[0]!.replace(/, line:\d+, col:\d+$/, '');
  if (/limit exceeded/.test(message)) message = `${message}: the template does too much work (a loop too large?)`;
  const input = e.token?.input;
  const pos = e.token?.getPosition?.();
  if (source !== undefined && input !== undefined && input !== cleanSource(source)) {
    const name = Object.keys(partials ?? {}).find((k) => partials![k] === input);
    const where = pos ? ` (line ${pos[0]}, column ${pos[1]} of the block)` : '';
    return { message: `in block "${name ?? '?'}"${where}: ${message}`, inPartial: name ?? '?' };
  }
  return pos ? { message, line: pos[0], column: pos[1] } : { message };
}

export function toRenderError(field: string, err: unknown, source?: string, partials?: Record<string, string>): RenderError {
  if (err instanceof RenderError) return err;
  const d = describeLiquidError(err, source, partials);
  const m = /undefined variable: ([^\s,]+)/.exec(d.message);
  const msg = m ? d.message.replace(/undefined variable: ([^\s,]+)/, 'missing variable "$1" (add | default: "…" if it is optional)') : d.message;
  return new RenderError(field, msg, { line: d.line, column: d.column, variable: m?.[1] });
}

/** The top-level tokens of a template (for finding partial references without rendering). */
export function topLevelTokens(liquid: Liquid, source: string): TopLevelToken[] {
  return new Tokenizer(cleanSource(source)).readTopLevelTokens(liquid.options);
}
