// Escaping per output context and the URL scheme guard. Every value a template prints passes through exactly one
// of these, chosen by the field it is printed in (never by the template author).

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

// C0 (except tab and newline), DEL, C1, and the private-use pair the placeholder tokens use (so data can never
// forge a token). Carriage returns are dropped too: a bare CR in a subject or SMS is never intended.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ue000\ue001]/g;

export function stripControl(s: string): string {
  return s.replace(CONTROL, '');
}

/** The inside of a JSON string literal (without the quotes). */
export function escapeJsonString(s: string): string {
  return JSON.stringify(s).slice(1, -1);
}

/** What a printed value becomes as text: Liquid's own rules (nil → "", arrays joined) plus JSON for objects. */
export function toText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? '' : v.toISOString();
  if (Array.isArray(v)) return v.map(toText).join('');
  try {
    return JSON.stringify(v) ?? '';
  } catch {
    return '';
  }
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n', sol: '/', lpar: '(', rpar: ')' };

/** Decodes character references the way a browser does in an attribute value (enough for the scheme check). */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);?/gi, (m, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : m;
    }
    return NAMED[ref.toLowerCase()] ?? m;
  });
}

const ALLOWED_SCHEMES = new Set(['http', 'https', 'mailto', 'tel']);

/**
 * May this (decoded) attribute value be followed as a link or loaded as an image? Absolute URLs only with
 * http(s)/mailto/tel; relative references are fine. Browsers ignore ASCII whitespace and control characters inside
 * a scheme ("java\tscript:"), so they are removed before looking.
 */
export function isSafeUrl(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  const v = value.replace(/[\u0000-\u0020\u007f-\u009f]/g, '').toLowerCase();
  const m = /^([a-z][a-z0-9+.-]*):/.exec(v);
  if (!m) return !/^[^/?#]*:/.test(v); // "foo:bar" without a valid scheme shape is still treated as a scheme
  return ALLOWED_SCHEMES.has(m[1]!);
}

/** What an unsafe link becomes: harmless and visibly inert. */
export const NEUTRAL_URL = '#';
