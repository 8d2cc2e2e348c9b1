// Signing in. The answer is the same for an unknown email and a wrong password (and takes the same time: an
// unknown email still runs one scrypt). Failures are counted per (email, IP) in the store, so every API process
// shares the limit: 10 failures within 15 minutes → 429 until the oldest of them is 15 minutes old. A success clears
// the count.
import { HttpError } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { verifyDummy, verifyPassword } from './passwords.ts';
import { createSession, pruneSessions } from './sessions.ts';
import { findUserByEmail, normalizeEmail, userWorkspaces } from './users.ts';

export const MAX_FAILURES = 10;
export const FAILURE_WINDOW_MS = 15 * 60_000;
const INVALID = 'invalid email or password';

const limitKey = (email: string, ip: string) => `${normalizeEmail(email)}|${ip}`;

async function recentFailures(store: Store, key: string, now: number): Promise<{ n: number; oldest: number | null }> {
  const r = await store.db
    .selectFrom('login_failures')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('at').as('oldest')])
    .where('key', '=', key)
    .where('at', '>', now - FAILURE_WINDOW_MS)
    .executeTakeFirstOrThrow();
  return { n: Number(r.n), oldest: r.oldest === null ? null : Number(r.oldest) };
}

async function recordFailure(store: Store, key: string, now: number): Promise<void> {
  await store.db.deleteFrom('login_failures').where('at', '<=', now - FAILURE_WINDOW_MS).execute();
  await store.db.insertInto('login_failures').values({ key, at: now }).execute();
}

export interface LoginResult {
  token: string;
  csrf: string;
  tokenHash: string;
  userId: string;
  workspaceId: string;
}

export async function login(store: Store, input: { email: string; password: string; workspaceId?: string; ip: string }, now: number): Promise<LoginResult> {
  const key = limitKey(input.email, input.ip);
  const { n, oldest } = await recentFailures(store, key, now);
  if (n >= MAX_FAILURES) {
    const retry = Math.max(1, Math.ceil(((oldest ?? now) + FAILURE_WINDOW_MS - now) / 1000));
    throw new HttpError(429, 'too_many_attempts', `too many failed sign-ins: try again in ${Math.ceil(retry / 60)} minutes`, undefined, { 'retry-after': String(retry) });
  }
  const user = await findUserByEmail(store, input.email);
  const ok = user ? await verifyPassword(input.password, user.password_hash) : await verifyDummy(input.password);
  if (!user || !ok) {
    await recordFailure(store, key, now);
    throw new HttpError(401, 'unauthorized', INVALID);
  }
  await store.db.deleteFrom('login_failures').where('key', '=', key).execute();

  const workspaces = await userWorkspaces(store, user.id);
  let workspaceId: string;
  if (input.workspaceId !== undefined) {
    if (!workspaces.some((w) => w.id === input.workspaceId)) throw new HttpError(403, 'forbidden', `you are not a member of workspace ${input.workspaceId}`, 'workspaceId');
    workspaceId = input.workspaceId;
  } else {
    if (!workspaces.length) throw new HttpError(403, 'forbidden', 'your account is not a member of any workspace: ask an owner to add you');
    workspaceId = workspaces[0]!.id;
  }
  await pruneSessions(store, now);
  await store.db.updateTable('users').set({ last_login_at: now }).where('id', '=', user.id).execute();
  const s = await createSession(store, user.id, workspaceId, now);
  return { ...s, userId: user.id, workspaceId };
}
