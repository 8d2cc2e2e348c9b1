// Journeys under stress: two workers sharing one PostgreSQL store process every person exactly once; and a server
// killed with SIGKILL in the middle of a run with 10,000 people in flight, restarted, takes every person to the end
// of the journey with exactly one run and one message each.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../src/app/runtime.ts';
import { enqueueEntries } from '../src/journeys/inbox.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';
import { BACKENDS, openTestRuntime, tempDir } from './helpers.ts';

const WS = 'default';
const ONSITE = { channel: 'onsite', kind: 'banner', title: 'Hello', body: '<p>Welcome</p>' };

/** Profiles straight into the store (no identity work needed: these people exist already). */
async function seedPeople(rt: Runtime, n: number, now: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `prf_load${String(i).padStart(6, '0')}`);
  for (let i = 0; i < ids.length; i += 500) {
    await rt.store.db
      .insertInto('profiles')
      .values(ids.slice(i, i + 500).map((id) => ({ workspace_id: WS, id, canonical_id: id, created_at: now, first_seen: now, last_seen: now, traits: '{}', time_zone: 'Europe/London' })))
      .execute();
  }
  return ids;
}

async function journey(rt: Runtime, nodes: Record<string, unknown>, start: string) {
  const tpl = await rt.messaging.templates.create(WS, 'hello', ONSITE);
  const def = JSON.parse(JSON.stringify({ name: 'Load', topic: 'transactional', priority: 50, entry: { kind: 'api' }, reentry: { policy: 'once' }, start, nodes }).replaceAll('TPL', tpl.id));
  const j = await rt.journeys.catalog.create(WS, def);
  await rt.journeys.catalog.publish(WS, j.id);
  return j.id;
}

describe.runIf(BACKENDS.includes('postgres'))('two journey workers on one PostgreSQL store', () => {
  it('every person is processed once: one run, one path, one message per send', { timeout: 180_000 }, async () => {
    let now = Date.UTC(2026, 5, 1, 12);
    const a = await openTestRuntime('postgres', { clock: () => now, workers: false });
    const b = await openTestRuntime('postgres', { pgSchema: a.pgSchema, clock: () => now, workers: false });
    try {
      await bootstrapDefaultWorkspace(a.rt.store, {});
      const id = await journey(
        a.rt,
        {
          hello: { kind: 'send', channel: 'onsite', templates: { onsite: 'TPL' }, next: 'wait' },
          wait: { kind: 'delay', duration: { amount: 1, unit: 'hours' }, next: 'ab' },
          ab: { kind: 'random_split', branches: [{ weight: 50, next: 'x' }, { weight: 50, next: 'y' }] },
          x: { kind: 'send', channel: 'onsite', templates: { onsite: 'TPL' }, next: 'done' },
          y: { kind: 'update_trait', trait: 'branch', value: 'y', next: 'done' },
          done: { kind: 'exit' },
        },
        'hello',
      );
      const n = 2000;
      const people = await seedPeople(a.rt, n, now);
      await enqueueEntries(a.rt.store.db, WS, id, people.map((profileId) => ({ profileId })), now);
      // Both workers at once, twice each, on the same inbox and then the same due timers.
      await Promise.all([a.rt.journeys.drain(), b.rt.journeys.drain(), a.rt.journeys.drain(), b.rt.journeys.drain()]);
      now += 2 * 3_600_000;
      await Promise.all([a.rt.journeys.drain(), b.rt.journeys.drain(), a.rt.journeys.drain(), b.rt.journeys.drain()]);
      const both = a.rt.journeys.transitions + b.rt.journeys.transitions;
      expect(a.rt.journeys.transitions).toBeGreaterThan(0);
      expect(b.rt.journeys.transitions).toBeGreaterThan(0);
      const runs = await a.rt.store.db.selectFrom('journey_runs').select(['profile_id', 'status', 'exit_reason', 'state']).where('journey_id', '=', id).execute();
      expect(runs).toHaveLength(n);
      expect(new Set(runs.map((r) => r.profile_id)).size).toBe(n);
      expect(runs.every((r) => r.status === 'exited' && r.exit_reason === 'exit_node')).toBe(true);
      const x = runs.filter((r) => (r.state as { path: string[] }).path.includes('x')).length;
      // Each person made 5 transitions: hello, wait | ab, x or y, done — counted once, whichever worker did it.
      expect(both).toBe(5 * n);
      expect(x).toBeGreaterThan(n * 0.4);
      expect(x).toBeLessThan(n * 0.6);
      const msgs = await a.rt.store.db.selectFrom('messages').select(['profile_id']).where('source', '=', `journey:${id}`).execute();
      expect(msgs).toHaveLength(n + x);
      const visits = await a.rt.store.db.selectFrom('journey_node_stats').select(['node', 'visits']).where('journey_id', '=', id).execute();
      expect(Object.fromEntries(visits.map((v) => [v.node, Number(v.visits)]))).toEqual({ hello: n, wait: n, ab: n, x, y: n - x, done: n });
    } finally {
      await b.rt.close();
      await a.cleanup();
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('a journey server killed with SIGKILL mid-run (sqlite)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('restarted, it takes all 10,000 people to the end: one run and one message each', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const n = 10_000;
    let jid = '';
    {
      const prep = await openTestRuntime('sqlite', { dataDir: dir, workers: false });
      await bootstrapDefaultWorkspace(prep.rt.store, { writeKey: 'omw_jcrash', adminKey: 'oma_jcrash' });
      jid = await journey(
        prep.rt,
        {
          hello: { kind: 'send', channel: 'onsite', templates: { onsite: 'TPL' }, next: 'wait' },
          wait: { kind: 'delay', duration: { amount: 2, unit: 'seconds' }, next: 'mark' },
          mark: { kind: 'update_trait', trait: 'welcomed', value: true, next: 'done' },
          done: { kind: 'exit' },
        },
        'hello',
      );
      const people = await seedPeople(prep.rt, n, Date.now());
      await enqueueEntries(prep.rt.store.db, WS, jid, people.map((profileId) => ({ profileId })), Date.now());
      await prep.rt.close();
    }
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, PORT: String(port), OMNIA_DATA_DIR: dir, LOG_LEVEL: 'silent', OMNIA_PUBLIC_URL: url };
    let stderr = '';
    const start = async () => {
      const c = spawn(process.execPath, [path.resolve('bin/omnia.mjs'), 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      children.push(c);
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)) return c;
        if (c.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start: ${stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const metrics = async () => (await (await fetch(`${url}/api/journeys/${jid}/metrics`, { headers: { authorization: 'Bearer oma_jcrash' } })).json()) as { entered: number; exited: Record<string, number> };
    try {
      const first = await start();
      // Kill it while people are entering (and the first are already waiting or done).
      const deadline = Date.now() + 60_000;
      let m = await metrics();
      while (m.entered < 1000 && Date.now() < deadline) m = await metrics();
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      expect(m.entered).toBeLessThan(n);
      await start();
      const end = Date.now() + 120_000;
      while ((m = await metrics()).exited.exit_node !== n && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
      expect(m).toMatchObject({ entered: n, exited: { exit_node: n } });
      for (const c of children) c.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 200));
      const check = await openTestRuntime('sqlite', { dataDir: dir, workers: false });
      try {
        const runs = await check.rt.store.db.selectFrom('journey_runs').select(['profile_id', 'state']).where('journey_id', '=', jid).execute();
        expect(new Set(runs.map((r) => r.profile_id)).size).toBe(n);
        expect(runs.every((r) => JSON.parse(String(r.state)).path.join(',') === 'hello,wait,mark,done')).toBe(true);
        const msgs = await check.rt.store.db.selectFrom('messages').select(['profile_id']).where('source', '=', `journey:${jid}`).execute();
        expect(msgs).toHaveLength(n);
        expect(new Set(msgs.map((x) => x.profile_id)).size).toBe(n);
        const marked = await check.rt.store.db.selectFrom('profiles').select('traits').execute();
        expect(marked.filter((p) => JSON.parse(String(p.traits)).welcomed?.v === true)).toHaveLength(n);
        expect(await check.rt.store.db.selectFrom('journey_inbox').select('id').execute()).toHaveLength(0);
      } finally {
        await check.rt.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
