// Dashboard sessions. The cookie carries a random 32-byte token; only its SHA-256 is stored (a leaked database holds
// no usable session). A session expires after 12 h without use (sliding) and 7 days after login in any case. The
// session carries the current workspace (the workspace switcher changes it) and a CSRF token that state-changing
// requests must echo in the x-omnia-csrf header. The role is read from the membership on every request, so a role
// change or removal takes effect at once.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import type { Role } from './roles.ts';

export const SESSION_COOKIE = 'omnia_session';
export const CSRF_HEADER = 'x-omnia-csrf';
export const IDLE_MS = 12 * 3600_000;
export const ABSOLUTE_MS = 7 * 86_400_000;
/** Sliding expiry without a write per request: last_seen_at moves at most once a minute. */
const TOUCH_MS = 60_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionUser {
  id: string;
  email: string;
  name: string;
}

export interface SessionContext {
  tokenHash: string;
  user: SessionUser;
  workspaceId: string;
  role: Role;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export async function createSession(store: Store, userId: string, workspaceId: string, now: number): Promise<{ token: string; csrf: string; tokenHash: string }> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(24).toString('base64url');
  const tokenHash = hashToken(token);
  await store.db
    .insertInto('sessions')
    .values({ token_hash: tokenHash, user_id: userId, workspace_id: workspaceId, csrf_token: csrf, created_at: now, last_seen_at: now })
    .execute();
  return { token, csrf, tokenHash };
}

/** Drops every expired session (called at login; an expired session is also deleted when it is next presented). */
export async function pruneSessions(store: Store, now: number): Promise<void> {
  await store.db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<', now - IDLE_MS), eb('created_at', '<', now - ABSOLUTE_MS)]))
    .execute();
}

export const expiresAt = (s: { createdAt: number; lastSeenAt: number }) => Math.min(s.lastSeenAt + IDLE_MS, s.createdAt + ABSOLUTE_MS);

const unauthorized = (message: string, secure: boolean) =>
  new HttpError(401, 'unauthorized', message, undefined, { 'set-cookie': clearSessionCookie(secure) });

/** The session of a cookie token, or a 401 (unknown, expired, or its membership is gone). Slides the idle expiry. */
export async function authenticateSession(store: Store, token: string, now: number, secure = false): Promise<SessionContext> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw unauthorized('invalid session: sign in again', secure);
  const tokenHash = hashToken(token);
  const row = await store.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('memberships as m', (j) => j.onRef('m.user_id', '=', 's.user_id').onRef('m.workspace_id', '=', 's.workspace_id'))
    .select(['s.token_hash', 's.workspace_id', 's.csrf_token', 's.created_at', 's.last_seen_at', 'u.id as user_id', 'u.email', 'u.name', 'm.role'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) throw unauthorized('invalid session: sign in again', secure);
  if (now - row.last_seen_at > IDLE_MS || now - row.created_at > ABSOLUTE_MS) {
    await deleteSession(store, tokenHash);
    throw unauthorized('session expired: sign in again', secure);
  }
  if (!row.role) {
    await deleteSession(store, tokenHash);
    throw unauthorized(`session no longer valid: you are not a member of workspace ${row.workspace_id}`, secure);
  }
  let lastSeenAt = row.last_seen_at;
  if (now - lastSeenAt >= TOUCH_MS) {
    lastSeenAt = now;
    await store.db.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
  }
  return {
    tokenHash,
    user: { id: row.user_id, email: row.email, name: row.name },
    workspaceId: row.workspace_id,
    role: row.role,
    csrf: row.csrf_token,
    createdAt: row.created_at,
    lastSeenAt,
  };
}

export async function deleteSession(store: Store, tokenHash: string): Promise<void> {
  await store.db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
}

/** Ends a user's sessions: all, all but one (password change), or those in one workspace (removed from it). */
export async function deleteUserSessions(store: Store, userId: string, opts: { except?: string; workspaceId?: string } = {}): Promise<number> {
  let q = store.db.deleteFrom('sessions').where('user_id', '=', userId);
  if (opts.except) q = q.where('token_hash', '!=', opts.except);
  if (opts.workspaceId) q = q.where('workspace_id', '=', opts.workspaceId);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows);
}

export function readSessionToken(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null;
  for (const part of cookieHeader.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === SESSION_COOKIE) return part.slice(i + 1).trim().replace(/^"(.*)"$/, '$1') || null;
  }
  return null;
}

/** Secure cookies when the request came over https (directly or through a TLS proxy) or the public URL is https. */
export function isSecureRequest(req: FastifyRequest): boolean {
  const fwd = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim().toLowerCase();
  return req.protocol === 'https' || proto === 'https' || /^https:/i.test(process.env.OMNIA_PUBLIC_URL ?? '');
}

const cookieAttrs = (secure: boolean) => `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Max-Age=${ABSOLUTE_MS / 1000}; ${cookieAttrs(secure)}`;
}

export function clearSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; ${cookieAttrs(secure)}`;
}

/** State-changing requests made with a session cookie must echo the session's CSRF token. */
export function checkCsrf(ctx: SessionContext, method: string, header: string | string[] | undefined): void {
  if (SAFE_METHODS.has(method.toUpperCase())) return;
  const given = Buffer.from(typeof header === 'string' ? header : '');
  const want = Buffer.from(ctx.csrf);
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new HttpError(403, 'csrf_failed', `missing or wrong ${CSRF_HEADER} header: send the csrf token from login or GET /api/auth/me`);
  }
}

/**
 * The session behind a request's cookie (null when it has none), checked for CSRF on state-changing methods.
 * Throws 401 for an invalid or expired session and 403 for a missing CSRF token.
 */
export async function sessionOfRequest(store: Store, req: FastifyRequest, now: number, opts: { csrf?: boolean } = {}): Promise<SessionContext | null> {
  const token = readSessionToken(req.headers.cookie);
  if (!token) return null;
  const ctx = await authenticateSession(store, token, now, isSecureRequest(req));
  if (opts.csrf !== false) checkCsrf(ctx, req.method, req.headers[CSRF_HEADER]);
  return ctx;
}
