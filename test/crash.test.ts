// Crash safety of acknowledged events: the real server (`node bin/omnia.mjs serve`) runs as a child process, several
// concurrent clients send batches with unique messageIds and record every 200, the server is SIGKILLed mid-stream and
// restarted on the same data; every acknowledged messageId must then be stored exactly once, client retries of
// everything (acknowledged or not) must not duplicate anything, the identity processor must catch up on the events
// written before the crash, and the restarted server must accept and process new events.
//
// This needs a real process to kill: an in-process server cannot be SIGKILLed without killing the test runner, and a
// graceful app.close() would flush the writer, which is exactly what a crash does not do. SQLite is the backend where
// Omnia itself is responsible for durability (WAL with synchronous=NORMAL in its own data dir), so it is the essential
// case; PostgreSQL runs the same scenario against a fresh database created and dropped by the test.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/db.ts';
import { BACKENDS, PG_URL, tempDir } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENTS = 6;
const BATCH = 25;
/** Kill once this many events were acknowledged (a count, not a time, so the kill is always mid-stream). */
const KILL_AFTER_ACKED = 1500;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface Server {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function startServer(env: Record<string, string>): Promise<Server> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/omnia.mjs'), 'serve'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  // Wait for /health (bounded; fails with the server's output if it never comes up).
  const deadline = Date.now() + 90_000; // a deadline: a cold tsx cache with both cores busy starts slowly
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { child, url, output: () => out, exited };
}

const CRASH_BACKENDS = BACKENDS;

describe.each(CRASH_BACKENDS)('crash safety: SIGKILL mid-stream (%s)', (backend) => {
  const dataDir = tempDir('omnia-crash-');
  const dbName = `omnia_crash_${randomBytes(5).toString('hex')}`;
  const databaseUrl = backend === 'postgres' ? PG_URL.replace(/\/[^/]*$/, `/${dbName}`) : undefined;
  const writeKey = `omw_crash_${randomBytes(8).toString('hex')}`;
  const adminKey = `oma_crash_${randomBytes(8).toString('hex')}`;
  const env: Record<string, string> = { OMNIA_DATA_DIR: dataDir, OMNIA_WRITE_KEY: writeKey, OMNIA_ADMIN_KEY: adminKey, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  const servers: Server[] = [];
  let store: Store | undefined;

  afterAll(async () => {
    for (const s of servers) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(servers.map((s) => s.exited));
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    if (backend === 'postgres') {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('every acknowledged event survives exactly once; retries add nothing; the restarted server works', { timeout: 180_000 }, async () => {
    if (backend === 'postgres') {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
    }
    const first = await startServer(env);
    servers.push(first);
    const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;

    const acked = new Set<string>();
    const unacked = new Set<string>();
    const sentBatches: { ids: string[]; body: string }[] = [];
    let killed = false;
    let killSent: Promise<void> | null = null;
    const statusCounts = new Map<string, number>();

    const client = async (c: number) => {
      // Each client sends until a request fails: requests keep flowing through the kill, and every client ends on the
      // failure the crash caused.
      for (let b = 0; ; b++) {
        const ids = Array.from({ length: BATCH }, (_, i) => `crash-${c}-${b}-${i}`);
        const body = JSON.stringify({
          batch: ids.map((messageId, i) => ({ type: 'track', messageId, userId: `crash-user-${c}-${i % 5}`, event: 'Crash Test', properties: { c, b, i } })),
          sentAt: new Date().toISOString(),
        });
        sentBatches.push({ ids, body });
        let status = 'error';
        try {
          const res = await fetch(`${first.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body });
          status = String(res.status);
          const json = (await res.json()) as { accepted?: number; duplicates?: number };
          if (res.status === 200) {
            expect(json.accepted! + json.duplicates!).toBe(BATCH);
            for (const id of ids) acked.add(id);
          } else for (const id of ids) unacked.add(id);
        } catch {
          for (const id of ids) unacked.add(id);
        }
        statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
        if (!killed && acked.size >= KILL_AFTER_ACKED) {
          killed = true;
          first.child.kill('SIGKILL');
          killSent = first.exited.then(() => undefined);
        }
        if (status === 'error') break;
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
    await killSent;
    expect(first.child.signalCode).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKED);
    // Every client ran into the crash; no request was refused otherwise.
    expect(statusCounts.get('error')).toBe(CLIENTS);
    expect([...statusCounts.keys()].sort()).toEqual(['200', 'error']);
    for (const id of acked) unacked.delete(id);

    // Restart on the same data.
    const second = await startServer(env);
    servers.push(second);
    store = await openStore(backend === 'postgres' ? { databaseUrl } : { dataDir });
    const storedIds = async () => {
      const rows = await store!.db.selectFrom('events').select('message_id').where('workspace_id', '=', 'default').where('message_id', 'like', 'crash-%').execute();
      return rows.map((r) => r.message_id);
    };
    const afterRestart = await storedIds();
    const counts = new Map<string, number>();
    for (const id of afterRestart) counts.set(id, (counts.get(id) ?? 0) + 1);
    const lost = [...acked].filter((id) => !counts.has(id));
    expect(lost, `acknowledged but lost after the crash (of ${acked.size}); server output:\n${first.output()}`).toEqual([]);
    expect([...counts.entries()].filter(([, n]) => n > 1)).toEqual([]);
    // Nothing appears that was never sent.
    const sent = new Set(sentBatches.flatMap((b) => b.ids));
    expect(afterRestart.filter((id) => !sent.has(id))).toEqual([]);

    // The clients retry every batch (a client cannot know which of the unanswered ones were committed).
    let retriedAccepted = 0;
    let retriedDuplicates = 0;
    for (const b of sentBatches) {
      const res = await fetch(`${second.url}/v1/batch`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: b.body });
      expect(res.status).toBe(200);
      const json = (await res.json()) as { accepted: number; duplicates: number };
      retriedAccepted += json.accepted;
      retriedDuplicates += json.duplicates;
    }
    // Everything that was stored before counts as a duplicate; only the never-stored ones are new.
    expect(retriedDuplicates).toBe(afterRestart.length);
    expect(retriedAccepted).toBe(sent.size - afterRestart.length);
    const afterRetry = await storedIds();
    expect(afterRetry.length).toBe(sent.size);
    expect(new Set(afterRetry).size).toBe(sent.size);

    // New events are accepted and processed into profiles by the restarted server.
    const api = async (url: string) => {
      const res = await fetch(second.url + url, { headers: { authorization: `Bearer ${adminKey}` } });
      return { status: res.status, body: (await res.json()) as any };
    };
    const post = await fetch(`${second.url}/v1/identify`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'after-crash', messageId: 'after-crash-1', traits: { email: 'after@crash.example' } }),
    });
    expect(post.status).toBe(200);
    // Wait (bounded) for the identity processor to catch up with everything, including the events from before the crash.
    let pending = -1;
    let profile: { status: number; body: any } | undefined;
    for (let i = 0; i < 400; i++) {
      const r = await store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('profile_id', 'is', null).executeTakeFirstOrThrow();
      pending = Number(r.n);
      profile = await api('/api/profiles/lookup?userId=after-crash');
      if (pending === 0 && profile.status === 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(pending, `events left without a profile; server output:\n${second.output()}`).toBe(0);
    expect(profile!.status).toBe(200);
    expect(profile!.body.traits.email).toBe('after@crash.example');
    // A pre-crash user's profile holds all of their stored events.
    const user = await api('/api/profiles/lookup?userId=crash-user-0-0');
    expect(user.status).toBe(200);
    const tl = await api(`/api/profiles/${user.body.id}/events?limit=500&internal=false`);
    const expected = afterRetry.filter((id) => /^crash-0-\d+-\d+$/.test(id) && Number(id.split('-')[3]) % 5 === 0);
    expect(tl.body.events.map((e: any) => e.messageId).sort()).toEqual(expected.sort());
    expect(second.output()).not.toMatch(/unhandled|FATAL/i);
  });
});
