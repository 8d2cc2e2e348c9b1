// Roles and what each may do on the admin API. One pure function decides, from (role, method, path) alone, so the
// rules can be read and tested as a table. Admin keys (Bearer) are not subject to these rules: they have full access.
//
//   owner     everything
//   marketer  everything except OWNER_ONLY (users, API keys, workspaces, channel provider secrets, identity secret)
//   support   reads (outside OWNER_ONLY) plus writes under /api/profiles and /api/inbox
//   viewer    reads (GET/HEAD) outside OWNER_ONLY

export const ROLES = ['owner', 'marketer', 'support', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

export type Access = { allowed: true } | { allowed: false; reason: string };

/** Administration of the workspace itself: owners only, for every method (listing keys and users too). */
export const OWNER_ONLY = ['/api/users', '/api/keys', '/api/workspaces', '/api/messaging/providers', '/api/messaging/identity-verification'];
/** Where the support role may change things (people's profiles, consent, GDPR; the future inbox). */
export const SUPPORT_WRITES = ['/api/profiles', '/api/inbox'];

const READ = new Set(['GET', 'HEAD']);

/**
 * The path as the router sees it: no query or fragment, percent-decoded, lower-case, single slashes, dot segments
 * resolved, no trailing slash. A path that cannot be decoded is returned as null (and refused).
 */
export function normalizePath(url: string): string | null {
  let path = url.split(/[?#]/, 1)[0] ?? '';
  try {
    path = decodeURIComponent(path);
  } catch {
    return null;
  }
  const out: string[] = [];
  for (const seg of path.toLowerCase().split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export function checkAccess(role: Role, method: string, url: string): Access {
  if (!isRole(role)) return { allowed: false, reason: `unknown role "${String(role)}"` };
  if (role === 'owner') return { allowed: true };
  const m = method.toUpperCase();
  const path = normalizePath(url);
  if (path === null) return { allowed: false, reason: 'malformed path' };
  const area = OWNER_ONLY.find((p) => under(path, p));
  if (area) return { allowed: false, reason: `${area} is reserved to workspace owners (your role: ${role})` };
  if (role === 'marketer' || READ.has(m)) return { allowed: true };
  if (role === 'support') {
    if (SUPPORT_WRITES.some((p) => under(path, p))) return { allowed: true };
    return { allowed: false, reason: `the support role can only change profiles and the inbox; ${m} ${path} needs the marketer role or above` };
  }
  return { allowed: false, reason: `the viewer role is read-only (GET/HEAD); ${m} ${path} needs the marketer role or above` };
}
