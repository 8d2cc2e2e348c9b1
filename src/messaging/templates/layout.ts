// The brand layout around email bodies: header (logo or name), the brand's colours and font, and a footer with the
// postal address (CAN-SPAM), footer text and unsubscribe/preferences links. Brand values are written escaped into the
// skeleton (they are the same for every recipient); per-recipient links and the preheader are slot tokens, so the
// skeleton, and with it the compiled MJML, is shared by all recipients.
import type { BrandKit } from './brand-kit.ts';
import { escapeHtml } from './escape.ts';
import type { OutputSlots } from './slots.ts';

export interface LayoutParts {
  /** Token of the preheader text, if any. */
  preheader?: string;
  /** Tokens of the links to show; unsubscribe is left out when the body already has one. */
  unsubscribe?: string;
  preferences?: string;
  viewInBrowser?: string;
}

/** Tokens for the per-recipient parts of the layout. */
export function layoutParts(slots: OutputSlots, o: { preheader?: string; unsubscribeUrl?: string; preferencesUrl?: string; viewInBrowserUrl?: string; bodyHasUnsubscribe: boolean }): LayoutParts {
  const p: LayoutParts = {};
  if (o.preheader) p.preheader = slots.add(o.preheader);
  if (o.unsubscribeUrl && !o.bodyHasUnsubscribe) p.unsubscribe = slots.add(o.unsubscribeUrl);
  if (o.preferencesUrl) p.preferences = slots.add(o.preferencesUrl);
  if (o.viewInBrowserUrl) p.viewInBrowser = slots.add(o.viewInBrowserUrl);
  return p;
}

/** White or near-black, whichever reads better on the given #rgb/#rrggbb background (WCAG relative luminance). */
export function contrastText(hex: string): string {
  const h = hex.length === 4 ? hex.slice(1).split('').map((c) => c + c).join('') : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const l = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
  return l > 0.4 ? '#111111' : '#ffffff';
}

/** Hidden preview text; the class lets the text part skip it. */
function preheaderHtml(token: string): string {
  return `<div class="omnia-preheader" style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all;">${token}</div>`;
}

function footerInnerHtml(brand: BrandKit, p: LayoutParts, color: string): string {
  const lines: string[] = [];
  if (brand.footerText) lines.push(escapeHtml(brand.footerText).replace(/\r?\n/g, '<br />'));
  lines.push(escapeHtml(brand.address).replace(/\r?\n/g, '<br />'));
  const links: string[] = [];
  const a = (href: string, text: string) => `<a href="${href}" style="color:${color};text-decoration:underline;">${text}</a>`;
  if (p.unsubscribe) links.push(a(p.unsubscribe, 'Unsubscribe'));
  if (p.preferences) links.push(a(p.preferences, 'Manage preferences'));
  if (links.length) lines.push(links.join(' &middot; '));
  return lines.map((l) => `<p style="margin:0 0 6px;">${l}</p>`).join('');
}

function footerSection(brand: BrandKit, p: LayoutParts): string {
  return `<mj-section padding="16px 0 24px"><mj-column><mj-text css-class="omnia-footer" align="center" font-size="12px" line-height="1.5" color="${brand.colors.text}">${footerInnerHtml(brand, p, brand.colors.text)}</mj-text></mj-column></mj-section>`;
}

function headerSection(brand: BrandKit, p: LayoutParts): string {
  const view = p.viewInBrowser
    ? `<mj-section padding="8px 0 0"><mj-column><mj-text align="center" font-size="11px" padding="0 16px"><a href="${p.viewInBrowser}" style="color:${brand.colors.text};">View in browser</a></mj-text></mj-column></mj-section>`
    : '';
  const logo = brand.logoUrl
    ? `<mj-image src="${escapeHtml(brand.logoUrl)}" alt="${escapeHtml(brand.name)}" width="160px" padding="16px" />`
    : `<mj-text align="center" font-size="22px" font-weight="bold" padding="16px">${escapeHtml(brand.name)}</mj-text>`;
  return `${view}<mj-section padding="8px 0"><mj-column>${logo}</mj-column></mj-section>`;
}

/** A full MJML document: the brand layout around body content (`<mj-section>…`). */
export function brandLayoutMjml(brand: BrandKit, body: string, p: LayoutParts): string {
  const { primary, background, text } = brand.colors;
  // Font and colours were validated by validateBrandKit (no quotes-breaking characters beyond " and ').
  const font = escapeHtml(brand.font);
  return [
    '<mjml>',
    '<mj-head>',
    '<mj-attributes>',
    `<mj-all font-family="${font}" />`,
    `<mj-text color="${text}" font-size="15px" line-height="1.5" />`,
    `<mj-button background-color="${primary}" color="${contrastText(primary)}" font-size="15px" border-radius="4px" />`,
    '</mj-attributes>',
    `<mj-style>a { color: ${primary}; }</mj-style>`,
    '</mj-head>',
    `<mj-body background-color="${background}">`,
    p.preheader ? `<mj-raw>${preheaderHtml(p.preheader)}</mj-raw>` : '',
    headerSection(brand, p),
    body,
    footerSection(brand, p),
    '</mj-body>',
    '</mjml>',
  ].join('\n');
}

/** The lines brandLayoutMjml puts before the body (to map MJML error lines back to the template). */
export function layoutBodyLineOffset(brand: BrandKit, p: LayoutParts): number {
  const marker = '\u0000BODY\u0000';
  const doc = brandLayoutMjml(brand, marker, p);
  return doc.slice(0, doc.indexOf(marker)).split('\n').length - 1;
}

/** A full `<mjml>` document of the template's own: add the preheader and the footer, nothing else. */
export function completeMjmlDocument(brand: BrandKit, doc: string, p: LayoutParts): string {
  let out = doc;
  if (p.preheader) out = out.replace(/<mj-body\b[^>]*>/, (m) => `${m}<mj-raw>${preheaderHtml(p.preheader!)}</mj-raw>`);
  const footer = footerSection(brand, p);
  const i = out.lastIndexOf('</mj-body>');
  return i >= 0 ? out.slice(0, i) + footer + out.slice(i) : out;
}

/** An HTML template: preheader after <body>, footer before </body> (or around the whole when they are missing). */
export function completeHtmlDocument(brand: BrandKit, html: string, p: LayoutParts): string {
  const footer = `<div class="omnia-footer" style="font-family:${escapeHtml(brand.font)};font-size:12px;line-height:1.5;color:${brand.colors.text};text-align:center;padding:16px;">${footerInnerHtml(brand, p, brand.colors.text)}</div>`;
  let out = html;
  if (p.preheader) {
    const pre = preheaderHtml(p.preheader);
    out = /<body\b[^>]*>/i.test(out) ? out.replace(/<body\b[^>]*>/i, (m) => m + pre) : pre + out;
  }
  const i = out.toLowerCase().lastIndexOf('</body>');
  return i >= 0 ? out.slice(0, i) + footer + out.slice(i) : out + footer;
}

export function isFullMjmlDocument(src: string): boolean {
  return /^\s*(?:<!--[\s\S]*?-->\s*)*<mjml[\s>]/i.test(src);
}
