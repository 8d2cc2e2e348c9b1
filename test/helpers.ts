// Test helpers: a real Omnia (store + writer + identity processor + HTTP server on a free port) on either backend.
// PostgreSQL tests get a fresh schema each, dropped at the end, so test files can run in parallel.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { openRuntime, type Runtime } from '../src/app/runtime.ts';
import { buildServer } from '../src/app/server.ts';
import { dropPgSchema } from '../src/store/db.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';

export type Backend = 'sqlite' | 'postgres';
export const PG_URL = process.env.OMNIA_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Both backends by default; OMNIA_TEST_BACKENDS=sqlite narrows a local run. */
export const BACKENDS: Backend[] = (process.env.OMNIA_TEST_BACKENDS?.split(',') as Backend[] | undefined) ?? ['sqlite', 'postgres'];

export interface TestOmnia {
  backend: Backend;
  /** PostgreSQL: the schema this instance lives in (a second runtime can share it). */
  pgSchema: string;
  rt: Runtime;
  app: FastifyInstance;
  url: string;
  writeKey: string;
  adminKey: string;
  /** HTTP Basic header value for the write key. */
  basic: string;
  /** Waits until every ingested event is attributed to a profile and segments are up to date. */
  settle(): Promise<void>;
  /** Admin API call with the admin key; returns status and parsed JSON. */
  api(method: string, url: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  /** Tracking API call with the write key. */
  track(path: string, body: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export function tempDir(prefix = 'omnia-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function openTestRuntime(backend: Backend, extra: { dataDir?: string; pgSchema?: string; clock?: () => number; workers?: boolean } = {}) {
  const dataDir = extra.dataDir ?? tempDir();
  const pgSchema = extra.pgSchema ?? `t_${randomBytes(6).toString('hex')}`;
  const rt = await openRuntime(
    backend === 'postgres'
      ? { databaseUrl: PG_URL, pgSchema, poolSize: 5, clock: extra.clock, workers: extra.workers, allowPrivateNetwork: true }
      : { dataDir, clock: extra.clock, workers: extra.workers, allowPrivateNetwork: true },
  );
  return {
    rt,
    dataDir,
    pgSchema,
    async cleanup() {
      await rt.close();
      if (backend === 'postgres') await dropPgSchema(PG_URL, pgSchema);
      else fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function startTestOmnia(backend: Backend, opts: { clock?: () => number } = {}): Promise<TestOmnia> {
  const { rt, cleanup, pgSchema } = await openTestRuntime(backend, { clock: opts.clock });
  const writeKey = `omw_test_${randomBytes(8).toString('hex')}`;
  const adminKey = `oma_test_${randomBytes(8).toString('hex')}`;
  await bootstrapDefaultWorkspace(rt.store, { writeKey, adminKey });
  const app = await buildServer(rt, { logLevel: 'silent' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  rt.messaging.opts.publicUrl = url; // links in messages point at this test server
  const basic = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const call = async (method: string, u: string, headers: Record<string, string>, body?: unknown) => {
    const res = await fetch(url + u, {
      method,
      headers: { ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as any };
  };
  return {
    backend,
    pgSchema,
    rt,
    app,
    url,
    writeKey,
    adminKey,
    basic,
    async settle() {
      await rt.writer.flush();
      await rt.processor.drain();
      // Journeys change traits and lists (segment work), segments feed journeys: go round until both are quiet.
      for (let i = 0; i < 3; i++) {
        await rt.segments.drain();
        await rt.journeys.drain();
      }
      await rt.messaging.idle();
    },
    api: (method, u, body, key = adminKey) => call(method, u, { authorization: `Bearer ${key}` }, body),
    track: (p, body, headers = {}) => call('POST', p, { authorization: basic, ...headers }, body),
    async close() {
      await app.close();
      await cleanup();
    },
  };
}
