// The public URLs links point at, built from the configured publicUrl (which may carry a path prefix, e.g.
// https://example.com/omnia). The HTTP routes (written elsewhere) serve:
//   GET  /t/o/{token}.gif  open pixel (1×1 GIF, always answered, even for bad tokens)
//   GET  /t/c/{token}      click: verify, record, 302 to the signed `u`
//   GET  /u/{token}        unsubscribe confirmation page (never unsubscribes: link scanners GET every link)
//   POST /u/{token}        unsubscribe; body `List-Unsubscribe=One-Click` (RFC 8058) or the confirmation form
//   GET/POST /p/{token}    preference centre
//   GET  /c/{token}        double opt-in confirmation
import { peekToken } from './tokens.ts';

export type LinkKind = 'open' | 'click' | 'unsubscribe' | 'preferences' | 'confirm';

/** Route paths relative to publicUrl (Fastify syntax). The open pixel's `.gif` is part of the last segment. */
export const LINK_ROUTES = {
  open: '/t/o/:file',
  click: '/t/c/:token',
  unsubscribe: '/u/:token',
  preferences: '/p/:token',
  confirm: '/c/:token',
} as const;

const PREFIX: Record<LinkKind, string> = { open: 't/o/', click: 't/c/', unsubscribe: 'u/', preferences: 'p/', confirm: 'c/' };
const TOKEN_RE = /^[A-Za-z0-9_-]+$/;

function base(publicUrl: string): string {
  let u: URL;
  try {
    u = new URL(publicUrl);
  } catch {
    throw new Error(`publicUrl is not a URL: ${publicUrl}`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('publicUrl must be http(s)');
  if (u.search || u.hash) throw new Error('publicUrl must not have a query or fragment');
  return u.origin + (u.pathname.endsWith('/') ? u.pathname : u.pathname + '/');
}

function build(kind: LinkKind, publicUrl: string, token: string): string {
  if (!TOKEN_RE.test(token)) throw new Error('token must be base64url');
  return base(publicUrl) + PREFIX[kind] + token + (kind === 'open' ? '.gif' : '');
}

export const openPixelUrl = (publicUrl: string, token: string): string => build('open', publicUrl, token);
export const clickUrl = (publicUrl: string, token: string): string => build('click', publicUrl, token);
export const unsubscribeUrl = (publicUrl: string, token: string): string => build('unsubscribe', publicUrl, token);
export const preferencesUrl = (publicUrl: string, token: string): string => build('preferences', publicUrl, token);
export const confirmUrl = (publicUrl: string, token: string): string => build('confirm', publicUrl, token);

/**
 * Which Omnia link a URL is, if any. With publicUrl the URL must sit under it; without, any origin is accepted but
 * the last segment must be a structurally valid token (peekToken), so a shop's `/p/blue-shirt` is not mistaken for
 * a preference-centre link. Used by the rewriter to leave consent links alone and never wrap a link twice.
 */
export function parseLinkUrl(url: string, publicUrl?: string): { kind: LinkKind; token: string } | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  let path = u.pathname;
  if (publicUrl !== undefined) {
    const b = base(publicUrl);
    const here = u.origin + u.pathname;
    if (!here.startsWith(b)) return null;
    path = here.slice(b.length);
  } else {
    path = path.replace(/^.*?\/(?=(?:t\/[oc]|[upc])\/(?:[A-Za-z0-9_-]{1,40}\/)?[^/]+$)/, '');
  }
  const r = parseLinkPath('/' + path.replace(/^\//, ''));
  if (!r) return null;
  if (publicUrl === undefined && !peekToken(r.token)) return null;
  return r;
}

/**
 * `/t/c/TOKEN` or `/t/c/WORKSPACE/TOKEN` (the routes put the workspace in the path) → { kind: 'click', token } (path
 * relative to publicUrl's path); null for anything else.
 */
export function parseLinkPath(path: string): { kind: LinkKind; token: string } | null {
  const m = /^\/(t\/o|t\/c|u|p|c)\/(?:[A-Za-z0-9_-]{1,40}\/)?([A-Za-z0-9_-]+)(\.gif)?$/.exec(path);
  if (!m) return null;
  const kind = ({ 't/o': 'open', 't/c': 'click', u: 'unsubscribe', p: 'preferences', c: 'confirm' } as const)[
    m[1] as 't/o' | 't/c' | 'u' | 'p' | 'c'
  ];
  if ((kind === 'open') !== (m[3] !== undefined)) return null;
  return { kind, token: m[2]! };
}

/** `unsubscribe+TOKEN@domain`. RFC 5321 limits a local part to 64 octets; long tokens exceed it, which most
 *  receiving MTAs accept anyway — keep the mailto token short (ws, p, t, c only) or omit the mailto. */
export function unsubscribeMailAddress(domain: string, token: string, localPrefix = 'unsubscribe'): string {
  if (!TOKEN_RE.test(token)) throw new Error('token must be base64url');
  if (!/^[A-Za-z0-9.-]+$/.test(domain) || !/^[A-Za-z0-9._-]+$/.test(localPrefix)) throw new Error('bad mail domain');
  return `${localPrefix}+${token}@${domain}`;
}

/**
 * RFC 2369 List-Unsubscribe plus RFC 8058 List-Unsubscribe-Post. `httpsUrl` is the /u/{token} URL (Gmail and Yahoo
 * require HTTPS for one-click; http is accepted here for development); `mailto` an address (unsubscribeMailAddress).
 */
export function listUnsubscribeHeaders(opts: { mailto?: string; httpsUrl: string }): {
  'List-Unsubscribe': string;
  'List-Unsubscribe-Post': string;
} {
  const u = new URL(opts.httpsUrl);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('List-Unsubscribe URL must be http(s)');
  const https = u.href;
  if (/[\s<>,]/.test(https)) throw new Error('List-Unsubscribe URL contains a character not allowed in the header');
  const parts: string[] = [];
  if (opts.mailto !== undefined) {
    if (!/^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+$/.test(opts.mailto)) throw new Error('bad List-Unsubscribe mailto address');
    parts.push(`<mailto:${opts.mailto}?subject=unsubscribe>`);
  }
  parts.push(`<${https}>`);
  return { 'List-Unsubscribe': parts.join(', '), 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}
