// `omnia users create|list|set-password`: manage dashboard users from the shell (first owner without the browser,
// a forgotten password). Works on the same store as the server (OMNIA_DATA_DIR / DATABASE_URL).
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config.ts';
import { HttpError } from '../app/errors.ts';
import { openRuntime } from '../app/runtime.ts';
import type { Store } from '../store/db.ts';
import { DEFAULT_WORKSPACE, bootstrapDefaultWorkspace } from '../workspaces/keys.ts';
import { addMember, emailFrom, findUserByEmail, listMembers, nameFrom, passwordFrom, roleFrom, setPassword } from './users.ts';

export const USERS_USAGE = `usage:
  omnia users create --email E --password P [--name N] [--role owner|marketer|support|viewer] [--workspace ID]
      (an existing user is added to the workspace with the role; omit --password then)
  omnia users list [--workspace ID]
  omnia users set-password --email E --password P   (signs the user out everywhere)`;

export interface CliOut {
  log(line: string): void;
  error(line: string): void;
}

/** The command on an open store; returns the exit code. */
export async function usersCommand(store: Store, args: string[], out: CliOut = console, now = Date.now()): Promise<number> {
  const [sub, ...rest] = args;
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: rest,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        name: { type: 'string' },
        role: { type: 'string', default: 'owner' },
        workspace: { type: 'string', default: DEFAULT_WORKSPACE },
      },
    }).values as Record<string, string | undefined>;
  } catch (err) {
    out.error(`${(err as Error).message}\n\n${USERS_USAGE}`);
    return 2;
  }
  try {
    if (sub === 'create') {
      const email = emailFrom(values.email);
      const existing = await findUserByEmail(store, email);
      const password = existing && values.password === undefined ? undefined : passwordFrom(values.password);
      const { user, created } = await addMember(store, values.workspace!, { email, name: nameFrom(values.name), password, role: roleFrom(values.role) }, now);
      out.log(`${created ? 'created user' : 'added existing user'} ${user.id} <${user.email}> as ${user.role} of workspace ${values.workspace}`);
      return 0;
    }
    if (sub === 'list') {
      for (const u of await listMembers(store, values.workspace!)) out.log(`${u.id}\t${u.email}\t${u.role}\t${u.name}`);
      return 0;
    }
    if (sub === 'set-password') {
      const user = await findUserByEmail(store, emailFrom(values.email));
      if (!user) {
        out.error(`no user ${values.email}`);
        return 1;
      }
      await setPassword(store, user.id, passwordFrom(values.password));
      out.log(`password of ${user.email} changed; their sessions are signed out`);
      return 0;
    }
  } catch (err) {
    if (err instanceof HttpError) {
      // Name the option the way it is typed on the command line.
      out.error(err.field ? `--${err.field}: ${err.message}` : err.message);
      return err.statusCode === 400 ? 2 : 1;
    }
    throw err;
  }
  out.error(USERS_USAGE);
  return 2;
}

export async function runUsersCli(args: string[]): Promise<number> {
  const config = loadConfig();
  const rt = await openRuntime({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, workers: false });
  try {
    await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
    return await usersCommand(rt.store, args);
  } finally {
    await rt.close();
  }
}
