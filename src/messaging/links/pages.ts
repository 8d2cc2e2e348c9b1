// Hosted consent pages: unsubscribe (confirm, done), double opt-in and error pages. Each is one self-contained HTML5
// document: inline CSS, no script, no external resource except an optional https logo (fetched with no referrer, so
// the token in the page URL never leaks), usable from 390 px wide. Every interpolated value goes through escapeHtml;
// URLs also through safeHref. Serve with PAGE_HEADERS. The preference centre is in preferences.ts.
import type { ChannelName } from '../types.ts';

export interface Brand {
  name: string;
  /** #rgb or #rrggbb; anything else falls back to DEFAULT_COLOR. */
  primaryColor: string;
  /** https only; anything else is dropped. */
  logoUrl?: string;
}

export const DEFAULT_COLOR = '#2563eb';

/** Headers for every page here: nothing may load but inline styles and an https logo; forms post to this origin. */
export const PAGE_HEADERS = {
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; img-src https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'X-Robots-Tag': 'noindex, nofollow',
} as const;

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** For text and (quoted) attribute values alike. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESC[c]!);
}

/** An http(s) URL or a same-origin path, else null (javascript:, data:, protocol-relative //host …). */
export function safeHref(url: string | undefined): string | null {
  if (url === undefined) return null;
  const u = url.trim();
  if (/^\/(?![/\\])/.test(u)) return u;
  try {
    const p = new URL(u);
    return p.protocol === 'https:' || p.protocol === 'http:' ? p.href : null;
  } catch {
    return null;
  }
}

export function normalizeBrand(brand?: Partial<Brand>): { name: string; color: string; logoUrl?: string } {
  const color = typeof brand?.primaryColor === 'string' && /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i.test(brand.primaryColor)
    ? brand.primaryColor.toLowerCase()
    : DEFAULT_COLOR;
  let logoUrl: string | undefined;
  if (typeof brand?.logoUrl === 'string') {
    try {
      const u = new URL(brand.logoUrl);
      if (u.protocol === 'https:') logoUrl = u.href;
    } catch {
      // dropped
    }
  }
  const name = typeof brand?.name === 'string' ? brand.name.trim().slice(0, 200) : '';
  return logoUrl ? { name, color, logoUrl } : { name, color };
}

function luminance(hex: string): number {
  const h = hex.length === 4 ? hex.replace(/[0-9a-f]/gi, (c) => c + c).slice(1) : hex.slice(1);
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(h.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
}

/** WCAG contrast ratio of two colours. */
export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x! + 0.05) / (y! + 0.05);
}

function css(color: string): string {
  const onBrand = contrast(color, '#ffffff') >= contrast(color, '#111111') ? '#ffffff' : '#111111';
  const link = contrast(color, '#ffffff') >= 4.5 ? color : '#1f2328';
  return `
:root{--brand:${color};--on-brand:${onBrand};--link:${link}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#f3f4f6;color:#1f2328;font:16px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:560px;margin:0 auto;padding:24px 16px 40px}
.brand{display:flex;align-items:center;justify-content:center;min-height:48px;margin:0 0 20px;font-weight:700;font-size:1.125rem;text-align:center;overflow-wrap:anywhere}
.brand img{max-width:200px;max-height:56px;height:auto}
.card{background:#fff;border-radius:12px;padding:24px 20px;box-shadow:0 1px 3px rgba(0,0,0,.1);border-top:4px solid var(--brand)}
h1{font-size:1.375rem;line-height:1.3;margin:0 0 12px;overflow-wrap:anywhere}
p{margin:0 0 16px;overflow-wrap:anywhere}
a{color:var(--link);text-decoration:underline}
.actions{display:flex;flex-direction:column;gap:12px;margin:20px 0 0}
.btn{display:block;width:100%;min-height:48px;padding:12px 20px;border-radius:8px;border:2px solid var(--brand);background:var(--brand);color:var(--on-brand);font:inherit;font-weight:600;text-align:center;text-decoration:none;cursor:pointer}
.btn.secondary{background:#fff;color:#1f2328;border-color:#8c959f}
.btn:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #1f2328;outline-offset:2px}
.status{padding:12px 16px;border-radius:8px;background:#dafbe1;color:#116329;margin:0 0 16px}
.muted{color:#57606a;font-size:.9375rem}
fieldset{border:1px solid #d0d7de;border-radius:8px;margin:0 0 16px;padding:12px 16px 16px;min-width:0}
legend{font-weight:600;padding:0 6px;overflow-wrap:anywhere}
.opts{display:flex;flex-wrap:wrap;gap:8px 20px}
.opt{display:flex;align-items:center;gap:8px;min-height:44px;cursor:pointer}
.opt input{width:22px;height:22px;margin:0;accent-color:var(--brand)}
.opt input:disabled+span{color:#57606a}
footer{margin:20px 0 0;text-align:center;color:#57606a;font-size:.875rem}
@media (min-width:480px){.card{padding:32px}.actions{flex-direction:row;flex-wrap:wrap}.btn{width:auto}}
`;
}

/** The shared document: head with viewport, charset, no-referrer, noindex; brand header; the card. */
export function layout(opts: { brand?: Partial<Brand>; title: string; body: string }): string {
  const b = normalizeBrand(opts.brand);
  const title = b.name ? `${opts.title} – ${b.name}` : opts.title;
  const header = b.logoUrl
    ? `<img src="${escapeHtml(b.logoUrl)}" alt="${escapeHtml(b.name)}" referrerpolicy="no-referrer">`
    : escapeHtml(b.name);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${css(b.color)}</style>
</head>
<body>
<main>
${b.name || b.logoUrl ? `<header class="brand">${header}</header>\n` : ''}<div class="card">
${opts.body}
</div>
</main>
</body>
</html>
`;
}

/** `<form method="post">` posting to `action`, or (no action attribute) back to the page's own URL. */
export function formOpen(action: string | undefined): string {
  const a = safeHref(action);
  return a === null ? '<form method="post">' : `<form method="post" action="${escapeHtml(a)}">`;
}

export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}

const CHANNEL_NOUN: Record<string, string> = {
  email: 'emails',
  sms: 'text messages',
  push: 'push notifications',
  onsite: 'on-site messages',
  webhook: 'messages',
};

/** GET /u/{token}: asks, never acts (scanners GET every link). The form posts the RFC 8058 body plus the token. */
export function unsubscribeConfirmPage(opts: {
  brand: Brand;
  token: string;
  channel: ChannelName | (string & {});
  topicLabel: string;
  email?: string;
  /** Link to the preference centre (/p/{token}), shown when given. */
  preferencesUrl?: string;
  /** Where the form posts; default: this page's own URL (/u/{token}). */
  action?: string;
}): string {
  const noun = CHANNEL_NOUN[opts.channel] ?? 'messages';
  const to = opts.email ? ` at <strong>${escapeHtml(opts.email)}</strong>` : '';
  const prefs = safeHref(opts.preferencesUrl);
  const body = `<h1>Unsubscribe from ${escapeHtml(opts.topicLabel)}?</h1>
<p>You will no longer receive ${escapeHtml(opts.topicLabel)} ${noun}${to}.</p>
${formOpen(opts.action)}
${hidden('List-Unsubscribe', 'One-Click')}
${hidden('token', opts.token)}
<div class="actions"><button class="btn" type="submit">Unsubscribe</button></div>
</form>
${prefs ? `<p class="muted" style="margin-top:20px">Or <a href="${escapeHtml(prefs)}">choose what you receive</a> in your preference centre.</p>` : ''}`;
  return layout({ brand: opts.brand, title: `Unsubscribe from ${opts.topicLabel}?`, body });
}

/** After the POST. With resubscribeToken, a "resubscribe" form (op=resubscribe) posting back to this URL. */
export function unsubscribeDonePage(opts: {
  brand: Brand;
  preferencesUrl: string;
  resubscribeToken?: string;
  /** Where the resubscribe form posts; default: this page's own URL (/u/{token}). */
  resubscribeAction?: string;
}): string {
  const prefs = safeHref(opts.preferencesUrl);
  const resub = opts.resubscribeToken
    ? `${formOpen(opts.resubscribeAction)}
${hidden('op', 'resubscribe')}
${hidden('token', opts.resubscribeToken)}
<p class="muted">Unsubscribed by mistake?</p>
<div class="actions"><button class="btn secondary" type="submit">Resubscribe</button></div>
</form>`
    : '';
  const body = `<div class="status" role="status">You have been unsubscribed.</div>
<h1>You're unsubscribed</h1>
<p>You won't receive these messages any more. A message already on its way may still arrive.</p>
${prefs ? `<p><a href="${escapeHtml(prefs)}">Manage all your preferences</a></p>` : ''}
${resub}`;
  return layout({ brand: opts.brand, title: "You're unsubscribed", body });
}

/**
 * What a POST to /u/{token} asks: the RFC 8058 one-click body or this module's confirmation form → unsubscribe;
 * the done page's form → resubscribe (with its own token, to verify with purpose 'resubscribe').
 */
export function parseUnsubscribePost(
  body: Record<string, string | string[] | undefined>,
): { action: 'unsubscribe' } | { action: 'resubscribe'; token: string } | { action: null; error: string } {
  const op = single(body.op);
  if (op === 'resubscribe') {
    const token = single(body.token);
    return token ? { action: 'resubscribe', token } : { action: null, error: 'resubscribe without a token' };
  }
  if (op !== undefined) return { action: null, error: `unknown op ${JSON.stringify(op)}` };
  if (single(body['List-Unsubscribe']) === 'One-Click') return { action: 'unsubscribe' };
  return { action: null, error: 'expected List-Unsubscribe=One-Click' };
}

/** One value: a string, or an array holding one value (repeated identical fields), else undefined. */
export function single(v: string | string[] | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => x === v[0])) return v[0];
  return undefined;
}

/** The result of following a double opt-in link (GET /c/{token}, or the POST of optInPromptPage). */
export function optInConfirmPage(opts: { brand: Brand; confirmed: boolean; topicLabel?: string }): string {
  const what = opts.topicLabel ? ` to ${escapeHtml(opts.topicLabel)}` : '';
  const body = opts.confirmed
    ? `<div class="status" role="status">Subscription confirmed.</div>
<h1>You're subscribed${what}</h1>
<p>Thanks for confirming. You can change what you receive at any time from the link at the bottom of every message.</p>`
    : `<h1>We couldn't confirm your subscription</h1>
<p>This confirmation link is invalid or has expired. Please sign up again to get a new one.</p>`;
  return layout({ brand: opts.brand, title: opts.confirmed ? 'Subscription confirmed' : 'Confirmation failed', body });
}

/**
 * Optional step before confirming: link scanners GET every link, so a GET /c/{token} that confirms at once lets a
 * mail gateway confirm subscriptions nobody asked for. This page asks for a click (POST, op=confirm) instead.
 */
export function optInPromptPage(opts: { brand: Brand; token: string; topicLabel?: string; action?: string }): string {
  const what = opts.topicLabel ? ` to ${escapeHtml(opts.topicLabel)}` : '';
  const body = `<h1>Confirm your subscription${what}</h1>
<p>Press the button to confirm that you want to receive these messages.</p>
${formOpen(opts.action)}
${hidden('op', 'confirm')}
${hidden('token', opts.token)}
<div class="actions"><button class="btn" type="submit">Confirm subscription</button></div>
</form>`;
  return layout({ brand: opts.brand, title: 'Confirm your subscription', body });
}

/** Tampered, expired or unknown links; the caller answers 400 (or 410 for expired) with it. */
export function errorPage(opts: { brand?: Brand; title: string; message: string }): string {
  const body = `<h1>${escapeHtml(opts.title)}</h1>
<p>${escapeHtml(opts.message)}</p>`;
  return layout({ brand: opts.brand, title: opts.title, body });
}
