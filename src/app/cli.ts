// The `omnia` command: serve, keys, workspaces, import, demo.
import { parseArgs } from 'node:util';
import pino from 'pino';
import { loadConfig } from './config.ts';
import { openRuntime } from './runtime.ts';
import { buildServer } from './server.ts';
import { DEFAULT_WORKSPACE, bootstrapDefaultWorkspace, createKey, listKeys, listWorkspaces, revokeKey, workspaceExists } from '../workspaces/keys.ts';

const USAGE = `omnia — omnichannel marketing platform

  omnia serve [--role all|api|worker]         start the platform (default: all in one process)
  omnia keys list|create|revoke [--workspace ID] [--kind write|admin] [--name N] [--id KEY_ID]
  omnia workspaces list
  omnia users create --email E --password P [--name N] [--role owner|marketer|support|viewer] [--workspace ID]
  omnia users list [--workspace ID] | omnia users set-password --email E --password P
  omnia import customers|orders|events FILE.csv [--map field=Column,...] [--workspace ID] [--rejects FILE]
               [--currency GBP] [--timezone Europe/London]   (omnia import --help, docs/import.md)
  omnia demo [--file online_retail.csv.br] [--no-activity]

Environment: PORT, OMNIA_DATA_DIR, DATABASE_URL, OMNIA_WRITE_KEY, OMNIA_ADMIN_KEY, OMNIA_SECRET, OMNIA_PUBLIC_URL, LOG_LEVEL`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'serve':
      return serve(rest);
    case 'keys':
      return keys(rest);
    case 'workspaces':
      return workspaces();
    case 'users': {
      const { runUsersCli } = await import('../access/cli.ts');
      return runUsersCli(rest);
    }
    case 'import': {
      const { runImportCli } = await import('../importer/cli.ts');
      return runImportCli(rest);
    }
    case 'demo': {
      const { runDemoCli } = await import('../importer/demo.ts');
      return runDemoCli(rest);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return cmd === undefined ? 1 : 0;
    default:
      console.error(`unknown command "${cmd}"\n\n${USAGE}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { role: { type: 'string', default: 'all' } } });
  const role = values.role;
  if (role !== 'all' && role !== 'api' && role !== 'worker') {
    console.error('--role must be all, api or worker');
    return 2;
  }
  const config = loadConfig();
  const log = pino({ level: config.logLevel });
  const rt = await openRuntime({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    workers: role !== 'api',
    publicUrl: config.publicUrl,
    log: (msg, err) => (err === undefined ? log.warn(msg) : log.error({ err }, msg)),
  });
  const { generated } = await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
  for (const g of generated) {
    log.warn(`first run: created the default workspace's ${g.kind} key (shown once, store it now): ${g.key}`);
  }
  const app = role === 'worker' ? null : await buildServer(rt, { logLevel: config.logLevel });
  if (app) {
    await app.listen({ port: config.port, host: config.host });
    log.info(`Omnia (${role}) on ${rt.store.dialect} at http://localhost:${(app.server.address() as { port: number }).port}`);
  } else log.info(`Omnia worker on ${rt.store.dialect}`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: shutting down (finishing in-flight requests and writes)`);
    try {
      if (app) await app.close();
      await rt.close();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  return new Promise<number>(() => {});
}

async function keys(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      workspace: { type: 'string', default: DEFAULT_WORKSPACE },
      kind: { type: 'string', default: 'write' },
      name: { type: 'string', default: 'cli' },
      id: { type: 'string' },
    },
  });
  const config = loadConfig();
  const rt = await openRuntime({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, workers: false });
  try {
    await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
    const ws = values.workspace!;
    if (!(await workspaceExists(rt.store, ws))) {
      console.error(`no workspace "${ws}"`);
      return 2;
    }
    if (sub === 'list') {
      for (const k of await listKeys(rt.store, ws)) {
        console.log(`${k.id}\t${k.kind}\t${k.prefix}…\t${k.name}\t${k.revokedAt ? 'revoked' : 'active'}`);
      }
      return 0;
    }
    if (sub === 'create') {
      if (values.kind !== 'write' && values.kind !== 'admin') {
        console.error('--kind must be write or admin');
        return 2;
      }
      const k = await createKey(rt.store, ws, values.kind, values.name!);
      console.log(`${k.kind} key ${k.id} (shown once): ${k.key}`);
      return 0;
    }
    if (sub === 'revoke') {
      if (!values.id) {
        console.error('--id KEY_ID is required');
        return 2;
      }
      const ok = await revokeKey(rt.store, ws, values.id);
      console.log(ok ? `revoked ${values.id}` : `no active key ${values.id}`);
      return ok ? 0 : 1;
    }
    console.error('usage: omnia keys list|create|revoke');
    return 2;
  } finally {
    await rt.close();
  }
}

async function workspaces(): Promise<number> {
  const config = loadConfig();
  const rt = await openRuntime({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, workers: false });
  try {
    await bootstrapDefaultWorkspace(rt.store, { writeKey: config.writeKey, adminKey: config.adminKey });
    for (const w of await listWorkspaces(rt.store)) console.log(`${w.id}\t${w.name}`);
    return 0;
  } finally {
    await rt.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
