// MJML: compiling (async, memoised per skeleton) and structure validation without rendering (sync, for
// validateTemplate). Validation level is `strict` everywhere: an email whose MJML is wrong is not sent half-broken.
import { createRequire } from 'node:module';
import mjml2html, { type MjmlError } from 'mjml';
import { RenderError } from './types.ts';
import type { FieldError } from './types.ts';

const require = createRequire(import.meta.url);
// The parser and validator are mjml's own dependencies; requiring 'mjml' above registered the preset components.
const parseXml = require('mjml-parser-xml') as (src: string, opts: Record<string, unknown>) => unknown;
const validator = require('mjml-validator') as { default: (tree: unknown, opts: Record<string, unknown>) => MjmlError[]; dependencies: unknown };
const core = require('mjml-core') as { components: Record<string, unknown>; initializeType: unknown };

const MJML_OPTIONS = {
  validationLevel: 'strict' as const,
  keepComments: false,
  // No web fonts are injected: the brand font stack is used as given.
  fonts: {},
  ignoreIncludes: true,
};

/** Memo of compile(): skeleton MJML → HTML skeleton (and, lazily, its text part). */
export interface Compiled {
  html: string;
  text?: string;
}

const cache = new Map<string, Promise<Compiled>>();
export const cacheSettings = { enabled: true, maxEntries: 256 };

export function clearCompileCache(): void {
  cache.clear();
}

export function compileCacheSize(): number {
  return cache.size;
}

async function compileNow(doc: string, field: string, lineOffset: number): Promise<Compiled> {
  try {
    const r = await mjml2html(doc, MJML_OPTIONS);
    return { html: r.html };
  } catch (err) {
    const errors = (err as { errors?: MjmlError[] }).errors;
    if (errors?.length) {
      const e = errors[0]!;
      const line = e.line - lineOffset;
      const where = line >= 1 ? ` (line ${line} of the rendered MJML body)` : '';
      throw new RenderError(field, `invalid MJML${where}: ${errors.map((x) => x.message).join('; ')}`);
    }
    throw new RenderError(field, `MJML could not be compiled: ${(err as Error).message}`);
  }
}

/** MJML → HTML. The memo is a pure function's: same skeleton in, same HTML out; disabling it changes nothing. */
export function compileMjml(doc: string, field: string, lineOffset = 0): Promise<Compiled> {
  if (!cacheSettings.enabled) return compileNow(doc, field, lineOffset);
  const hit = cache.get(doc);
  if (hit) {
    cache.delete(doc);
    cache.set(doc, hit); // LRU
    return hit;
  }
  const p = compileNow(doc, field, lineOffset);
  if (cache.size >= cacheSettings.maxEntries) cache.delete(cache.keys().next().value!);
  cache.set(doc, p);
  p.catch(() => cache.delete(doc));
  return p;
}

const MASK = '\ue002';

/**
 * Liquid removed so MJML can be checked as written: tags vanish (keeping their line breaks, so lines still match)
 * and outputs become a marker; errors about an attribute whose value holds the marker are left to render time.
 */
export function maskLiquid(src: string): string {
  const keepLines = (m: string) => m.replace(/[^\n]/g, '');
  return src
    .replace(/\{%-?\s*comment\s*-?%\}[\s\S]*?\{%-?\s*endcomment\s*-?%\}/g, keepLines)
    .replace(/\{%-?\s*raw\s*-?%\}([\s\S]*?)\{%-?\s*endraw\s*-?%\}/g, (_, inner: string) => inner)
    .replace(/\{%[\s\S]*?%\}/g, keepLines)
    .replace(/\{\{[\s\S]*?\}\}/g, (m) => MASK + keepLines(m));
}

/** Structure check of a full MJML document (Liquid masked); lines are shifted back by `lineOffset`. */
export function validateMjmlStructure(field: string, doc: string, lineOffset: number, bodyLines: number): FieldError[] {
  let tree: unknown;
  try {
    tree = parseXml(doc, { keepComments: false, components: core.components, ignoreIncludes: true, filePath: '.' });
  } catch (err) {
    return [{ field, message: `MJML could not be parsed: ${(err as Error).message}` }];
  }
  const errors = validator.default(tree, { components: core.components, dependencies: validator.dependencies, initializeType: core.initializeType });
  const out: FieldError[] = [];
  for (const e of errors) {
    if (e.message.includes(MASK)) continue;
    const line = e.line - lineOffset;
    out.push(line >= 1 && line <= bodyLines ? { field, message: e.message, line } : { field, message: e.message });
  }
  // The validator reports by rule, not by position; in line order they read like a compiler's output.
  return out.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
