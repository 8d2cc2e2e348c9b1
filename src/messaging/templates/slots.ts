// Placeholder tokens for printed values in HTML fields.
//
// Why: an HTML/MJML field is rendered by Liquid into a *skeleton* where every {{ }} output is a token
// (U+E000 index U+E001) and the value is kept aside. The skeleton is what depends on the template's structure
// (loops, ifs, blocks); the values are what depends on the person. This gives three things:
//  - MJML compilation and text-part generation run on the skeleton, so they can be memoised: two people whose
//    emails differ only in printed values share one compile (the cache only memoises a pure function of the
//    skeleton, so the result is identical with or without it);
//  - we know exactly where profile data lands, so href/src attributes built from data get the scheme guard and
//    unquoted attributes get their whitespace encoded;
//  - escaping happens once, at fill time, per context (HTML entities in the HTML, plain text in the text part).
import { NEUTRAL_URL, decodeEntities, escapeHtml, isSafeUrl } from './escape.ts';

export const TOKEN = /\ue000(\d+)\ue001/g;
const HAS_TOKEN = /\ue000\d+\ue001/;

export function hasToken(s: string): boolean {
  return HAS_TOKEN.test(s);
}

/** Attributes whose value is followed or loaded by mail clients and browsers. */
export const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'background', 'poster', 'xlink:href', 'cite', 'background-url', 'data']);

export class OutputSlots {
  /** Plain (unescaped, control-stripped) text of each printed value. */
  readonly values: string[] = [];

  add(plain: string): string {
    this.values.push(plain);
    return `\ue000${this.values.length - 1}\ue001`;
  }

  /** The skeleton with each token replaced by its HTML-escaped value (what a direct render would have produced). */
  resolveHtml(s: string): string {
    return s.replace(TOKEN, (_, i: string) => escapeHtml(this.values[Number(i)] ?? ''));
  }

  /** HTML output: URL attributes built from values are checked after filling; unquoted values get quoted. */
  fillHtml(skeleton: string): string {
    const guarded = skeleton.replace(TAG, (tag) =>
      hasToken(tag)
        ? tag.replace(ATTR, (m, pre: string, name: string, eq: string, dq?: string, sq?: string, uq?: string) => {
            const raw = dq ?? sq ?? uq ?? '';
            if (!hasToken(raw)) return m;
            // An unquoted value would end at the first space of a value: quote it (escaped values cannot close it).
            const quote = sq !== undefined ? "'" : '"';
            let filled = this.resolveHtml(raw);
            if (URL_ATTRS.has(name.toLowerCase()) && !isSafeUrl(decodeEntities(filled))) filled = NEUTRAL_URL;
            return `${pre}${name}${eq}${quote}${filled}${quote}`;
          })
        : tag,
    );
    return this.resolveHtml(guarded);
  }

  /** Text output: values as plain text, whitespace collapsed the way HTML rendering collapses it. */
  fillText(skeleton: string): string {
    return skeleton.replace(TOKEN, (_, i: string) => (this.values[Number(i)] ?? '').replace(/\s+/g, ' '));
  }
}

// A start tag, then one attribute in it: name, =, and a double-, single- or un-quoted value. Only used on markup
// Liquid produced, where printed values are tokens (never quotes or angle brackets).
const TAG = /<[a-zA-Z][^<>]*>/g;
const ATTR = /(\s)([a-zA-Z_:][-a-zA-Z0-9_:.]*)(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))/g;
