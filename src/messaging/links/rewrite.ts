// Click and open tracking for rendered messages: every http(s) <a href> (and <area href>) of an email becomes a
// tracking link, the open pixel goes in just before </body>; plain-text parts and SMS bodies get their bare URLs
// rewritten. Safe to call twice: links that already are Omnia links (/t/c/, /u/, /p/, /c/ with a structurally valid
// token, or under publicUrl when given) are left alone, and no second pixel is added.
import { encodeAttr, scanHtml } from './html.ts';
import { parseLinkUrl } from './urls.ts';

export type ClickUrlFn = (originalUrl: string, index: number) => string;

export interface InstrumentOptions {
  /** The tracking URL for the index-th tracked link (0-based, document order) pointing at originalUrl (decoded). */
  clickUrl: ClickUrlFn;
  /** The open pixel's URL; omit to add no pixel (open tracking off). */
  pixelUrl?: string;
  /** When given, links under it are recognised as Omnia's own by prefix rather than by token shape. */
  publicUrl?: string;
}

/** `data-omnia` values that mean "not a tracked link". `data-omnia-notrack` (any value) does the same. */
const UNTRACKED_MARKERS = new Set(['unsubscribe', 'preferences', 'notrack', 'confirm']);
const PIXEL_MARKER = 'open';

/**
 * URL as the browser would navigate to it: leading/trailing C0 controls and spaces removed, tabs and newlines
 * inside removed (WHATWG URL parsing). Null unless it is an absolute http(s) URL.
 */
export function trackableUrl(href: string): string | null {
  const u = href.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  if (!/^https?:\/\/[^/?#\s]/i.test(u)) return null;
  try {
    new URL(u);
  } catch {
    return null;
  }
  return u;
}

export function instrumentEmailHtml(html: string, opts: InstrumentOptions): string {
  const edits: { start: number; end: number; text: string }[] = [];
  let index = 0;
  let bodyEnd = -1;
  let hasPixel = false;
  scanHtml(
    html,
    (tag) => {
      if (tag.name === 'img') {
        const marker = tag.attrs.find((a) => a.name === 'data-omnia');
        const src = tag.attrs.find((a) => a.name === 'src');
        if (marker?.value === PIXEL_MARKER || (src && parseLinkUrl(src.value.trim(), opts.publicUrl)?.kind === 'open')) {
          hasPixel = true;
        }
        return;
      }
      if (tag.name !== 'a' && tag.name !== 'area') return;
      const href = tag.attrs.find((a) => a.name === 'href'); // the first one wins, as in browsers
      if (!href || href.valueStart === href.valueEnd) return;
      if (tag.attrs.some((a) => a.name === 'data-omnia-notrack')) return;
      const marker = tag.attrs.find((a) => a.name === 'data-omnia');
      if (marker && UNTRACKED_MARKERS.has(marker.value.trim().toLowerCase())) return;
      const url = trackableUrl(href.value);
      if (url === null || parseLinkUrl(url, opts.publicUrl)) return;
      const tracked = opts.clickUrl(url, index++);
      edits.push({ start: href.valueStart, end: href.valueEnd, text: `"${encodeAttr(tracked)}"` });
    },
    (end) => {
      if (end.name === 'body') bodyEnd = end.start;
    },
  );
  if (opts.pixelUrl !== undefined && !hasPixel) {
    const at = bodyEnd >= 0 ? bodyEnd : html.length;
    edits.push({ start: at, end: at, text: pixelTag(opts.pixelUrl) });
  }
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += html.slice(pos, e.start) + e.text;
    pos = e.end;
  }
  return out + html.slice(pos);
}

/** 1×1, no border, alt="" (ignored by screen readers); not display:none, which some clients then don't fetch. */
export function pixelTag(pixelUrl: string): string {
  return (
    `<img src="${encodeAttr(pixelUrl)}" width="1" height="1" alt="" border="0" data-omnia="${PIXEL_MARKER}" ` +
    'style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;overflow:hidden;opacity:0" />'
  );
}

export interface TextOptions {
  publicUrl?: string;
  /** Return true to leave a URL as it is (e.g. the unsubscribe URL of a plain-text part). */
  skip?: (url: string) => boolean;
}

const TEXT_URL = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'"*_~]$/;
const PAIRS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

/**
 * Rewrites bare http(s) URLs in a plain-text part or SMS body. Trailing punctuation is not part of a URL
 * ("see https://x.com/a." → the link is https://x.com/a), nor an unbalanced closing bracket ("(https://x.com)",
 * html-to-text's "label [https://x.com]"). For SMS, clickUrl decides how short the link is (e.g. a token
 * carrying a link index instead of the whole destination).
 */
export function instrumentText(text: string, clickUrl: ClickUrlFn, opts: TextOptions = {}): string {
  let index = 0;
  return text.replace(TEXT_URL, (match) => {
    let url = match;
    for (;;) {
      const last = url[url.length - 1]!;
      if (TRAILING.test(last)) url = url.slice(0, -1);
      else if (PAIRS[last] && count(url, last) > count(url, PAIRS[last]!)) url = url.slice(0, -1);
      else break;
    }
    const tail = match.slice(url.length);
    const ok = trackableUrl(url);
    if (ok === null || parseLinkUrl(url, opts.publicUrl) || opts.skip?.(url)) return match;
    return clickUrl(url, index++) + tail;
  });
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}
