// HTTP endpoints of the access module.
// - authRoutes (public, /api/auth): first-run setup, login, logout, me, workspace switcher, password change. These
//   authenticate by the session cookie themselves; state-changing ones check the CSRF header.
// - userRoutes (inside the admin scope, so admin keys and owners only, see roles.ts): members of the workspace.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../app/errors.ts';
import type { Store } from '../store/db.ts';
import { login } from './login.ts';
import { verifyPassword } from './passwords.ts';
import { ROLES } from './roles.ts';
import {
  type SessionContext,
  clearSessionCookie,
  createSession,
  deleteSession,
  expiresAt,
  isSecureRequest,
  sessionCookie,
  sessionOfRequest,
} from './sessions.ts';
import {
  addMember,
  emailFrom,
  getUser,
  listMembers,
  membership,
  nameFrom,
  objectBody,
  passwordFrom,
  removeMember,
  roleFrom,
  setPassword,
  setupFirstOwner,
  updateMember,
  userView,
  userWorkspaces,
} from './users.ts';

export interface AccessRouteOptions {
  store: Store;
  /** The runtime's clock (tests move it); default Date.now. */
  now?: () => number;
}

// Bodies are checked by hand (each 400 names its field in plain words); the schemas document them.
const noValidation = { validatorCompiler: () => () => true };
const Role = Type.Union(ROLES.map((r) => Type.Literal(r)));
const Email = Type.String({ maxLength: 320, description: 'email address (case-insensitive)' });
const Password = Type.String({ minLength: 10, maxLength: 1024 });
const Name = Type.String({ minLength: 1, maxLength: 200 });
const tags = ['users'];
const sessionSecurity = [{ sessionCookie: [] }];

function str(v: unknown, field: string): string {
  if (typeof v !== 'string' || !v) throw new HttpError(400, 'invalid_request', `${field} is required`, field);
  return v;
}

async function mePayload(store: Store, s: { userId: string; workspaceId: string; csrf: string; createdAt: number; lastSeenAt: number }) {
  const user = await getUser(store, s.userId);
  if (!user) throw new HttpError(401, 'unauthorized', 'invalid session: sign in again');
  const workspaces = await userWorkspaces(store, s.userId);
  const current = workspaces.find((w) => w.id === s.workspaceId);
  return {
    user: userView(user),
    role: current?.role ?? null,
    workspace: current ? { id: current.id, name: current.name } : null,
    workspaces,
    csrf: s.csrf,
    expiresAt: expiresAt(s),
  };
}

export async function authRoutes(app: FastifyInstance, { store, now = Date.now }: AccessRouteOptions): Promise<void> {
  const requireSession = async (req: FastifyRequest): Promise<SessionContext> => {
    const s = await sessionOfRequest(store, req, now());
    if (!s) throw new HttpError(401, 'unauthorized', 'not signed in');
    return s;
  };
  const startSession = async (req: FastifyRequest, reply: FastifyReply, userId: string, workspaceId: string, created?: { token: string; csrf: string }) => {
    const t = now();
    const s = created ?? (await createSession(store, userId, workspaceId, t));
    reply.header('set-cookie', sessionCookie(s.token, isSecureRequest(req)));
    reply.header('cache-control', 'no-store');
    return mePayload(store, { userId, workspaceId, csrf: s.csrf, createdAt: t, lastSeenAt: t });
  };

  app.post(
    '/setup',
    {
      schema: {
        tags,
        summary: 'First run: create the owner of the default workspace and sign in (409 once any user exists)',
        security: [],
        body: Type.Object({ email: Email, password: Password, name: Type.Optional(Name) }, { additionalProperties: false }),
      },
      ...noValidation,
    },
    async (req, reply) => {
      const b = objectBody(req.body, ['email', 'password', 'name']);
      const input = { email: emailFrom(b.email), password: passwordFrom(b.password), name: nameFrom(b.name) };
      const owner = await setupFirstOwner(store, input, now());
      reply.status(201);
      return startSession(req, reply, owner.id, 'default');
    },
  );

  app.post(
    '/login',
    {
      schema: {
        tags,
        summary: 'Sign in: sets the omnia_session cookie and returns the CSRF token for state-changing requests',
        security: [],
        body: Type.Object({ email: Type.String({ maxLength: 320 }), password: Type.String({ maxLength: 1024 }), workspaceId: Type.Optional(Type.String()) }, { additionalProperties: false }),
      },
      ...noValidation,
    },
    async (req, reply) => {
      const b = objectBody(req.body, ['email', 'password', 'workspaceId']);
      const email = emailFrom(b.email);
      const password = str(b.password, 'password');
      if (b.workspaceId !== undefined && typeof b.workspaceId !== 'string') throw new HttpError(400, 'invalid_request', 'workspaceId must be a string', 'workspaceId');
      const r = await login(store, { email, password, workspaceId: b.workspaceId as string | undefined, ip: req.ip }, now());
      return startSession(req, reply, r.userId, r.workspaceId, r);
    },
  );

  app.post('/logout', { schema: { tags, summary: 'Sign out: the session is deleted', security: sessionSecurity } }, async (req, reply) => {
    const secure = isSecureRequest(req);
    let s: SessionContext | null = null;
    try {
      s = await sessionOfRequest(store, req, now());
    } catch (err) {
      // An expired or unknown session is as good as signed out; a missing CSRF token is not.
      if (!(err instanceof HttpError) || err.statusCode !== 401) throw err;
    }
    if (s) await deleteSession(store, s.tokenHash);
    reply.header('set-cookie', clearSessionCookie(secure));
    return { signedOut: true };
  });

  app.get('/me', { schema: { tags, summary: 'The signed-in user, their role, workspaces and CSRF token', security: sessionSecurity } }, async (req, reply) => {
    const s = await requireSession(req);
    reply.header('cache-control', 'no-store');
    return mePayload(store, { userId: s.user.id, workspaceId: s.workspaceId, csrf: s.csrf, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt });
  });

  app.post(
    '/workspace',
    {
      schema: { tags, summary: "Switch the session's workspace (you must be a member)", security: sessionSecurity, body: Type.Object({ workspaceId: Type.String() }, { additionalProperties: false }) },
      ...noValidation,
    },
    async (req) => {
      const s = await requireSession(req);
      const b = objectBody(req.body, ['workspaceId']);
      const workspaceId = str(b.workspaceId, 'workspaceId');
      if (!(await membership(store, s.user.id, workspaceId))) throw new HttpError(403, 'forbidden', `you are not a member of workspace ${workspaceId}`, 'workspaceId');
      await store.db.updateTable('sessions').set({ workspace_id: workspaceId }).where('token_hash', '=', s.tokenHash).execute();
      return mePayload(store, { userId: s.user.id, workspaceId, csrf: s.csrf, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt });
    },
  );

  app.post(
    '/password',
    {
      schema: {
        tags,
        summary: "Change your password; your other sessions are signed out",
        security: sessionSecurity,
        body: Type.Object({ currentPassword: Type.String(), newPassword: Password }, { additionalProperties: false }),
      },
      ...noValidation,
    },
    async (req) => {
      const s = await requireSession(req);
      const b = objectBody(req.body, ['currentPassword', 'newPassword']);
      const current = str(b.currentPassword, 'currentPassword');
      const next = passwordFrom(b.newPassword, 'newPassword');
      const user = await getUser(store, s.user.id);
      if (!user || !(await verifyPassword(current, user.password_hash))) throw new HttpError(400, 'invalid_request', 'currentPassword is wrong', 'currentPassword');
      await setPassword(store, user.id, next, s.tokenHash);
      return { changed: true };
    },
  );
}

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export async function userRoutes(app: FastifyInstance, { store, now = Date.now }: AccessRouteOptions): Promise<void> {
  app.get('/users', { schema: { tags, summary: 'Members of this workspace and their roles (owners)' } }, async (req) => ({ users: await listMembers(store, req.workspaceId) }));

  app.post(
    '/users',
    {
      schema: {
        tags,
        summary: 'Add a member: creates the user (password required) or adds an existing user (no password) to this workspace',
        body: Type.Object({ email: Email, name: Type.Optional(Name), password: Type.Optional(Password), role: Role }, { additionalProperties: false }),
      },
      ...noValidation,
    },
    async (req, reply) => {
      const b = objectBody(req.body, ['email', 'name', 'password', 'role']);
      const email = emailFrom(b.email);
      const name = nameFrom(b.name);
      const password = b.password === undefined ? undefined : passwordFrom(b.password);
      const role = roleFrom(b.role);
      const { user, created } = await addMember(store, req.workspaceId, { email, name, password, role }, now());
      reply.status(201);
      return { user, created };
    },
  );

  app.patch(
    '/users/:id',
    {
      schema: { tags, summary: "Change a member's role or name (the last owner cannot be demoted)", params: IdParams, body: Type.Object({ role: Type.Optional(Role), name: Type.Optional(Name) }, { additionalProperties: false }) },
      ...noValidation,
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const b = objectBody(req.body, ['role', 'name']);
      if (b.role === undefined && b.name === undefined) throw new HttpError(400, 'invalid_request', 'nothing to change: give role and/or name', 'role');
      const change = { role: b.role === undefined ? undefined : roleFrom(b.role), name: nameFrom(b.name) };
      return { user: await updateMember(store, req.workspaceId, id, change, now()) };
    },
  );

  app.delete('/users/:id', { schema: { tags, summary: 'Remove a member from this workspace (the last owner cannot be removed)', params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    const r = await removeMember(store, req.workspaceId, id, now());
    return { removed: id, deletedUser: r.deletedUser };
  });
}
