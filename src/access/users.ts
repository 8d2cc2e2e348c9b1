// Users and memberships. A user is one person across the instance (email is unique, case-insensitively); a
// membership gives them a role in one workspace. Changes that could leave a workspace without an owner run under the
// `access` lock row, so two concurrent demotions cannot both pass the last-owner check.
import { HttpError, badRequest, notFound } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { DEFAULT_WORKSPACE, workspaceExists } from '../workspaces/keys.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { type Role, ROLES, isRole } from './roles.ts';
import { deleteUserSessions } from './sessions.ts';

export interface UserView {
  id: string;
  email: string;
  name: string;
  createdAt: number;
  lastLoginAt: number | null;
}

export interface MemberView extends UserView {
  role: Role;
}

type UserRow = { id: string; email: string; name: string; created_at: number; last_login_at: number | null };
export const userView = (u: UserRow): UserView => ({ id: u.id, email: u.email, name: u.name, createdAt: u.created_at, lastLoginAt: u.last_login_at });

// ---- input checks: each names the offending field --------------------------------------------------------------

const EMAIL = /^[^\s@"<>(),;:\\[\]]+@[^\s@"<>(),;:\\[\]]+\.[^\s@"<>(),;:\\[\]]+$/;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

/** The JSON object body, refusing fields other than `allowed`. */
export function objectBody(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw badRequest(`unknown field ${k}`, k);
  return b;
}

export function emailFrom(v: unknown, field = 'email'): string {
  if (typeof v !== 'string' || v.length > 320 || !EMAIL.test(v.trim())) throw badRequest(`${field} must be a valid email address`, field);
  return normalizeEmail(v);
}

export function passwordFrom(v: unknown, field = 'password'): string {
  const problem = passwordProblem(v);
  if (problem) throw badRequest(problem.replace(/^password/, field), field);
  return v as string;
}

export function roleFrom(v: unknown, field = 'role'): Role {
  if (!isRole(v)) throw badRequest(`${field} must be one of ${ROLES.join(', ')}`, field);
  return v;
}

export function nameFrom(v: unknown, field = 'name'): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.trim().length === 0 || v.length > 200) throw badRequest(`${field} must be a non-empty string of at most 200 characters`, field);
  return v.trim();
}

// ---- reads -----------------------------------------------------------------------------------------------------

export async function findUserByEmail(store: Store, email: string) {
  return store.db.selectFrom('users').selectAll().where('email', '=', normalizeEmail(email)).executeTakeFirst();
}

export async function getUser(store: Store, id: string) {
  return store.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countUsers(store: Store): Promise<number> {
  const r = await store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function membership(store: Store, userId: string, workspaceId: string): Promise<Role | null> {
  const r = await store.db.selectFrom('memberships').select('role').where('user_id', '=', userId).where('workspace_id', '=', workspaceId).executeTakeFirst();
  return r?.role ?? null;
}

/** The workspaces a user belongs to, the default workspace first, then by when they joined. */
export async function userWorkspaces(store: Store, userId: string): Promise<{ id: string; name: string; role: Role }[]> {
  const rows = await store.db
    .selectFrom('memberships as m')
    .innerJoin('workspaces as w', 'w.id', 'm.workspace_id')
    .select(['w.id', 'w.name', 'm.role', 'm.created_at'])
    .where('m.user_id', '=', userId)
    .orderBy('m.created_at')
    .orderBy('w.id')
    .execute();
  rows.sort((a, b) => Number(b.id === DEFAULT_WORKSPACE) - Number(a.id === DEFAULT_WORKSPACE));
  return rows.map((r) => ({ id: r.id, name: r.name, role: r.role }));
}

export async function listMembers(store: Store, workspaceId: string): Promise<MemberView[]> {
  const rows = await store.db
    .selectFrom('memberships as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.name', 'u.created_at', 'u.last_login_at', 'm.role'])
    .where('m.workspace_id', '=', workspaceId)
    .orderBy('u.email')
    .execute();
  return rows.map((r) => ({ ...userView(r), role: r.role }));
}

// ---- writes ----------------------------------------------------------------------------------------------------

type Tx = Store['db'];
async function locked<T>(store: Store, now: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return store.db.transaction().execute(async (tx) => {
    await tx.updateTable('locks').set({ at: now }).where('name', '=', 'access').execute();
    return fn(tx);
  });
}

async function ownerCount(tx: Tx, workspaceId: string): Promise<number> {
  const r = await tx
    .selectFrom('memberships')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export interface NewMember {
  email: string;
  name?: string;
  /** Required for a new user; must be absent when the email already has an account (it is not changed). */
  password?: string;
  role: Role;
}

/**
 * Adds a member to a workspace: creates the user when the email is new, otherwise gives the existing user a
 * membership (their password stays theirs). 409 when they are already a member.
 */
export async function addMember(store: Store, workspaceId: string, m: NewMember, now: number): Promise<{ user: MemberView; created: boolean }> {
  if (!(await workspaceExists(store, workspaceId))) throw notFound(`workspace ${workspaceId} not found`);
  const email = normalizeEmail(m.email);
  const hash = m.password === undefined ? null : await hashPassword(m.password);
  return locked(store, now, async (tx) => {
    let user = await tx.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    let created = false;
    if (user) {
      const has = await tx.selectFrom('memberships').select('role').where('user_id', '=', user.id).where('workspace_id', '=', workspaceId).executeTakeFirst();
      if (has) throw new HttpError(409, 'conflict', `${email} is already a member of this workspace`, 'email');
      if (hash) throw new HttpError(409, 'conflict', `${email} already has an account: omit password to add them to this workspace`, 'password');
    } else {
      if (!hash) throw badRequest('password is required for a new user', 'password');
      user = { id: newId('usr', now), email, name: m.name ?? email.split('@')[0]!, password_hash: hash, created_at: now, last_login_at: null };
      await tx.insertInto('users').values(user).execute();
      created = true;
    }
    await tx.insertInto('memberships').values({ user_id: user.id, workspace_id: workspaceId, role: m.role, created_at: now }).execute();
    return { user: { ...userView(user), role: m.role }, created };
  });
}

/** First run: the owner of the default workspace, only while no user exists at all (409 afterwards). */
export async function setupFirstOwner(store: Store, input: { email: string; name?: string; password: string }, now: number): Promise<MemberView> {
  if (!(await workspaceExists(store, DEFAULT_WORKSPACE))) throw new HttpError(503, 'not_ready', 'the default workspace does not exist yet');
  const hash = await hashPassword(input.password);
  const email = normalizeEmail(input.email);
  return locked(store, now, async (tx) => {
    const any = await tx.selectFrom('users').select('id').limit(1).executeTakeFirst();
    if (any) throw new HttpError(409, 'conflict', 'setup is done: users exist already, sign in instead');
    const user = { id: newId('usr', now), email, name: input.name ?? email.split('@')[0]!, password_hash: hash, created_at: now, last_login_at: null };
    await tx.insertInto('users').values(user).execute();
    await tx.insertInto('memberships').values({ user_id: user.id, workspace_id: DEFAULT_WORKSPACE, role: 'owner', created_at: now }).execute();
    return { ...userView(user), role: 'owner' as const };
  });
}

const LAST_OWNER = 'a workspace needs at least one owner: make someone else owner first';

/** Changes a member's role (and/or their display name). The last owner cannot be demoted. */
export async function updateMember(store: Store, workspaceId: string, userId: string, change: { role?: Role; name?: string }, now: number): Promise<MemberView> {
  return locked(store, now, async (tx) => {
    const cur = await tx.selectFrom('memberships').select('role').where('user_id', '=', userId).where('workspace_id', '=', workspaceId).executeTakeFirst();
    if (!cur) throw notFound(`user ${userId} not found in this workspace`);
    if (change.role && change.role !== cur.role) {
      if (cur.role === 'owner' && (await ownerCount(tx, workspaceId)) <= 1) throw new HttpError(409, 'last_owner', LAST_OWNER, 'role');
      await tx.updateTable('memberships').set({ role: change.role }).where('user_id', '=', userId).where('workspace_id', '=', workspaceId).execute();
    }
    if (change.name !== undefined) await tx.updateTable('users').set({ name: change.name }).where('id', '=', userId).execute();
    const u = await tx.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    return { ...userView(u), role: change.role ?? cur.role };
  });
}

/**
 * Removes a member from a workspace and ends their sessions there; a user left in no workspace is deleted. The last
 * owner cannot be removed.
 */
export async function removeMember(store: Store, workspaceId: string, userId: string, now: number): Promise<{ deletedUser: boolean }> {
  return locked(store, now, async (tx) => {
    const cur = await tx.selectFrom('memberships').select('role').where('user_id', '=', userId).where('workspace_id', '=', workspaceId).executeTakeFirst();
    if (!cur) throw notFound(`user ${userId} not found in this workspace`);
    if (cur.role === 'owner' && (await ownerCount(tx, workspaceId)) <= 1) throw new HttpError(409, 'last_owner', LAST_OWNER);
    await tx.deleteFrom('memberships').where('user_id', '=', userId).where('workspace_id', '=', workspaceId).execute();
    await deleteUserSessions({ ...store, db: tx }, userId, { workspaceId });
    const left = await tx.selectFrom('memberships').select('workspace_id').where('user_id', '=', userId).limit(1).executeTakeFirst();
    if (!left) {
      await tx.deleteFrom('sessions').where('user_id', '=', userId).execute();
      await tx.deleteFrom('users').where('id', '=', userId).execute();
    }
    return { deletedUser: !left };
  });
}

/** Sets a user's password and ends their sessions (all of them, or all but the one making the change). */
export async function setPassword(store: Store, userId: string, password: string, keepSession?: string): Promise<void> {
  const hash = await hashPassword(password);
  await store.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
  await deleteUserSessions(store, userId, keepSession ? { except: keepSession } : {});
}
