// Configuration from the environment (see README "Configuration"). Read once at start.
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  writeKey?: string;
  adminKey?: string;
  secret?: string;
  publicUrl: string;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got "${env.PORT}"`);
  return {
    port,
    host: env.HOST ?? '0.0.0.0',
    dataDir: env.OMNIA_DATA_DIR ?? './data',
    databaseUrl: env.DATABASE_URL || undefined,
    writeKey: env.OMNIA_WRITE_KEY || undefined,
    adminKey: env.OMNIA_ADMIN_KEY || undefined,
    secret: env.OMNIA_SECRET || undefined,
    publicUrl: env.OMNIA_PUBLIC_URL ?? `http://localhost:${port}`,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
