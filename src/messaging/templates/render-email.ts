// Email rendering: subject and preheader as plain text, the body (MJML into the brand layout, a full MJML document,
// or HTML) through slot tokens, then the footer, MJML compile (memoised per skeleton), the text part and the fill.
import { compile as compileHtmlToText } from 'html-to-text';
import type { RenderedEmail } from '../types.ts';
import type { BrandKit } from './brand-kit.ts';
import { escapeHtml, isSafeUrl, NEUTRAL_URL, decodeEntities } from './escape.ts';
import { renderField } from './engine.ts';
import type { RenderState } from './filters.ts';
import { brandLayoutMjml, completeHtmlDocument, completeMjmlDocument, isFullMjmlDocument, layoutBodyLineOffset, layoutParts } from './layout.ts';
import { type Compiled, cacheSettings, compileMjml } from './mjml.ts';
import { OutputSlots, URL_ATTRS, hasToken } from './slots.ts';
import { RenderError, type RenderContext } from './types.ts';

export const MAX_SUBJECT = 255;

type EmailSource = { channel: 'email'; subject: string; preheader?: string; mjml?: string; html?: string; text?: string };

// Text part: no wrapping (so it is a pure function of the skeleton, tokens included), images and the hidden
// preheader skipped, headings not upper-cased (a value inside a heading could not be upper-cased after filling).
const toText = compileHtmlToText({
  wordwrap: false,
  selectors: [
    { selector: 'img', format: 'skip' },
    { selector: 'div.omnia-preheader', format: 'skip' },
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
  ],
});

/** One line of plain text: no line breaks (header injection), collapsed whitespace. */
export function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function hasUnsubscribeLink(resolvedBody: string, url: string | undefined): boolean {
  if (!url) return false;
  const e = escapeHtml(url);
  return resolvedBody.includes(`href="${e}"`) || resolvedBody.includes(`href='${e}'`) || resolvedBody.includes(`href=${e}`);
}

// MJML attributes MJML copies verbatim into the HTML: tokens may stay in them. In any other attribute MJML may
// parse the value (units, colours, classes), so the value is resolved before compiling (and becomes part of the
// skeleton: correct, just not shared between recipients).
const PASSTHROUGH = new Set(['href', 'src', 'alt', 'title']);

function resolveTypedAttributes(doc: string, slots: OutputSlots): string {
  return doc.replace(/<mj-[a-z-]+\b[^<>]*>/g, (tag) =>
    !hasToken(tag)
      ? tag
      : tag.replace(/(\s)([a-zA-Z-]+)(\s*=\s*)"([^"]*)"/g, (m, sp: string, name: string, eq: string, v: string) => {
          if (PASSTHROUGH.has(name) || !hasToken(v)) return m;
          let filled = slots.resolveHtml(v);
          if (URL_ATTRS.has(name) && !isSafeUrl(decodeEntities(filled))) filled = NEUTRAL_URL;
          return `${sp}${name}${eq}"${filled}"`;
        }),
  );
}

const textMemo = new Map<string, string>();

/** Text of an HTML skeleton. Linked images (logo, product pictures) are dropped with their link: a bare URL line. */
function htmlToText(html: string): string {
  return toText(html.replace(/<a\b[^>]*>\s*(?:<img\b[^>]*>\s*)+<\/a>/gi, ''));
}

function textOf(skeletonHtml: string, compiled?: Compiled): string {
  if (compiled) return (compiled.text ??= htmlToText(skeletonHtml));
  if (!cacheSettings.enabled) return htmlToText(skeletonHtml);
  let t = textMemo.get(skeletonHtml);
  if (t === undefined) {
    t = htmlToText(skeletonHtml);
    if (textMemo.size >= cacheSettings.maxEntries) textMemo.delete(textMemo.keys().next().value!);
    textMemo.set(skeletonHtml, t);
  }
  return t;
}

export function clearTextMemo(): void {
  textMemo.clear();
}

export async function renderEmail(
  src: EmailSource,
  ctx: RenderContext,
  scope: Record<string, unknown>,
  brand: BrandKit,
  partials: Record<string, string>,
  state: RenderState,
  warnings: string[],
): Promise<RenderedEmail> {
  const subject = oneLine(await renderField('subject', 'text', src.subject, scope, state, partials));
  if (!subject) throw new RenderError('subject', 'is empty after rendering');
  if (subject.length > MAX_SUBJECT) throw new RenderError('subject', `is ${subject.length} characters after rendering; at most ${MAX_SUBJECT}`);
  const preheader = src.preheader !== undefined ? oneLine(await renderField('preheader', 'text', src.preheader, scope, state, partials)) : '';

  const slots = new OutputSlots();
  const hstate: RenderState = { ...state, slots };
  const field = src.mjml !== undefined ? 'mjml' : 'html';
  const body = await renderField(field, 'html', (src.mjml ?? src.html)!, scope, hstate, partials);
  const links = ctx.links ?? {};
  const bodyHasUnsubscribe = hasUnsubscribeLink(slots.resolveHtml(body), links.unsubscribeUrl);
  if (!links.unsubscribeUrl && !bodyHasUnsubscribe) warnings.push('email has no unsubscribe link: links.unsubscribeUrl was not given (fine for transactional email only)');
  const parts = layoutParts(slots, { preheader: preheader || undefined, unsubscribeUrl: links.unsubscribeUrl, preferencesUrl: links.preferencesUrl, viewInBrowserUrl: links.viewInBrowserUrl, bodyHasUnsubscribe });

  let skeletonHtml: string;
  let compiled: Compiled | undefined;
  if (field === 'mjml') {
    const full = isFullMjmlDocument(body);
    if (full && !/<mj-body\b/.test(body)) throw new RenderError('mjml', 'an <mjml> document needs an <mj-body>');
    const doc = resolveTypedAttributes(full ? completeMjmlDocument(brand, body, parts) : brandLayoutMjml(brand, body, parts), slots);
    compiled = await compileMjml(doc, 'mjml', full ? 0 : layoutBodyLineOffset(brand, parts));
    skeletonHtml = compiled.html;
  } else {
    skeletonHtml = completeHtmlDocument(brand, body, parts);
  }

  const html = slots.fillHtml(skeletonHtml);
  let text: string;
  if (src.text !== undefined) text = (await renderField('text', 'text', src.text, scope, state, partials)).trim();
  else text = slots.fillText(textOf(skeletonHtml, compiled)).trim();

  const email: RenderedEmail = { subject, html, text, from: { name: brand.senderName, address: brand.senderEmail } };
  if (preheader) email.preheader = preheader;
  if (brand.replyTo) email.replyTo = brand.replyTo;
  return email;
}
