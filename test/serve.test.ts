// `omnia serve` as a user runs it: first run prints keys, the keys work, SIGTERM drains and exits cleanly,
// and the CLI manages keys on the same store. SQLite (the default a new user gets).
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function startServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['bin/omnia.mjs', 'serve'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

async function waitHealthy(port: number): Promise<void> {
  // A deadline, not a count: a cold tsx cache with both cores busy can take many seconds to start.
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/health`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('server did not become healthy');
}

describe('omnia serve (sqlite)', () => {
  it('first run prints working keys; SIGTERM mid-burst exits 0 with every acknowledged event stored', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const port = await freePort();
    const s = startServer({ PORT: String(port), OMNIA_DATA_DIR: dir, LOG_LEVEL: 'info', OMNIA_WRITE_KEY: '', OMNIA_ADMIN_KEY: '' });
    await waitHealthy(port);
    const write = /write key \(shown once, store it now\): ([A-Za-z0-9_-]+)/.exec(s.output())?.[1];
    const admin = /admin key \(shown once, store it now\): ([A-Za-z0-9_-]+)/.exec(s.output())?.[1];
    expect(write).toBeTruthy();
    expect(admin).toBeTruthy();

    const auth = `Basic ${Buffer.from(`${write}:`).toString('base64')}`;
    const prof = await fetch(`http://127.0.0.1:${port}/api/profiles/lookup?userId=nobody`, { headers: { authorization: `Bearer ${admin}` } });
    expect(prof.status).toBe(404); // the admin key authenticates (401 otherwise)

    // A burst of requests; SIGTERM arrives while most are still in flight. Every acknowledged event must be stored.
    const acked: string[] = [];
    let answered = 0;
    const sends = Array.from({ length: 300 }, (_, i) =>
      fetch(`http://127.0.0.1:${port}/v1/track`, {
        method: 'POST',
        headers: { authorization: auth },
        body: JSON.stringify({ messageId: `sd-${i}`, userId: `sd-${i % 7}`, event: 'E' }),
      })
        .then((r) => {
          if (r.status === 200) acked.push(`sd-${i}`);
          if (++answered === 20) s.child.kill('SIGTERM');
        })
        .catch(() => undefined),
    );
    await Promise.all(sends);
    expect(await s.exited).toBe(0);
    expect(acked.length).toBeGreaterThanOrEqual(20);

    const store = await openStore({ dataDir: dir });
    const rows = await store.db.selectFrom('events').select('message_id').where('message_id', 'like', 'sd-%').execute();
    const stored = new Set(rows.map((r) => r.message_id));
    expect(acked.filter((m) => !stored.has(m))).toEqual([]);
    await store.close();

    // The CLI works on the same store: create, list and revoke a key.
    const env = { ...process.env, OMNIA_DATA_DIR: dir, OMNIA_WRITE_KEY: '', OMNIA_ADMIN_KEY: '' };
    const created = await run(process.execPath, ['bin/omnia.mjs', 'keys', 'create', '--kind', 'write', '--name', 'ci'], { env });
    const id = /key (key_\S+)/.exec(created.stdout)?.[1];
    expect(id).toBeTruthy();
    const listed = await run(process.execPath, ['bin/omnia.mjs', 'keys', 'list'], { env });
    expect(listed.stdout).toContain(id);
    const revoked = await run(process.execPath, ['bin/omnia.mjs', 'keys', 'revoke', '--id', id!], { env });
    expect(revoked.stdout).toContain(`revoked ${id}`);
    await expect(run(process.execPath, ['bin/omnia.mjs', 'keys', 'create', '--kind', 'root'], { env })).rejects.toMatchObject({ code: 2 });
    await expect(run(process.execPath, ['bin/omnia.mjs', 'nonsense'], { env })).rejects.toMatchObject({ code: 2 });
  });
});
