// Scale-out on PostgreSQL: two Omnia processes share one database and both take traffic. Identity and segment work
// must stay correct (one person's changes never applied by two processes at once): afterwards a full recompute from
// the event log changes nothing, and no person was merged twice.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/db.ts';
import { SegmentEngine } from '../src/segments/engine.ts';
import { BACKENDS, PG_URL } from './helpers.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe.runIf(BACKENDS.includes('postgres'))('two processes on one PostgreSQL database', () => {
  const db = `omnia_mp_${randomBytes(4).toString('hex')}`;
  const url = PG_URL.replace(/\/[^/]*$/, `/${db}`);
  const children: ReturnType<typeof spawn>[] = [];
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await admin.end();
  });

  it('incremental evaluation across processes equals a full recompute', { timeout: 180_000 }, async () => {
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${db}`);
    await admin.end();
    // Migrate once before starting both (they would serialise on the migration lock anyway).
    await (await openStore({ databaseUrl: url })).close();

    const env = { ...process.env, DATABASE_URL: url, OMNIA_WRITE_KEY: 'omw_mp', OMNIA_ADMIN_KEY: 'oma_mp', LOG_LEVEL: 'warn' };
    const ports = [await freePort(), await freePort()];
    // stderr is kept so that a process that dies says why; start-up gets a generous deadline because on a cold tsx
    // cache, with other test files busy on both cores, compiling the sources alone can take many seconds.
    const logs: string[] = ['', ''];
    const exited: (number | null | undefined)[] = [undefined, undefined];
    ports.forEach((port, k) => {
      const c = spawn(process.execPath, ['bin/omnia.mjs', 'serve'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d: Buffer) => { logs[k] = (logs[k]! + d.toString()).slice(-4000); });
      c.on('exit', (code) => { exited[k] = code; });
      children.push(c);
    });
    for (const [k, port] of ports.entries()) {
      const deadline = Date.now() + 90_000;
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok).catch(() => false);
        if (ok) break;
        if (exited[k] !== undefined) throw new Error(`process ${k} exited with ${exited[k]} before answering:\n${logs[k]}`);
        if (Date.now() > deadline) throw new Error(`process ${k} did not answer /health within 90 s:\n${logs[k]}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const api = (port: number, path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { authorization: 'Bearer oma_mp', 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const def of [
      { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 2 }, window: { amount: 30, unit: 'days' } },
      { kind: 'and', conditions: [{ kind: 'event', event: 'Product Viewed', op: 'performed' }, { kind: 'event', event: 'Order Completed', op: 'not_performed' }] },
      { kind: 'trait', trait: 'tier', op: 'eq', value: 'gold' },
    ]) {
      expect((await api(ports[0]!, '/api/segments?wait=true', { name: JSON.stringify(def).slice(0, 40), definition: def })).status).toBe(201);
    }

    // 40 people, each with an anonymous id and a user id, their events spread over both processes at once.
    const basic = `Basic ${Buffer.from('omw_mp:').toString('base64')}`;
    // Rounds go one after the other (so the identity links of round 3 come after both kinds of profile exist); within
    // a round both processes take half of the people at the same moment.
    for (let round = 0; round < 6; round++) {
      const sends: Promise<Response>[] = [];
      const batch = [];
      for (let p = 0; p < 40; p++) {
        const who = round % 2 === 0 ? { anonymousId: `anon-${p}` } : { userId: `user-${p}` };
        if (round === 3) batch.push({ type: 'identify', userId: `user-${p}`, anonymousId: `anon-${p}`, traits: { tier: p % 3 === 0 ? 'gold' : 'silver' } });
        else batch.push({ type: 'track', ...who, event: (p + round) % 3 === 0 ? 'Order Completed' : 'Product Viewed', properties: { total: 10 } });
      }
      for (let half = 0; half < 2; half++) {
        sends.push(
          fetch(`http://127.0.0.1:${ports[(round + half) % 2]}/v1/batch`, {
            method: 'POST',
            headers: { authorization: basic },
            body: JSON.stringify({ batch: batch.slice(half * 20, half * 20 + 20) }),
          }),
        );
      }
      for (const r of await Promise.all(sends)) expect(r.status).toBe(200);
    }

    // Wait until both processes are idle: every event attributed, no queued segment work.
    const store = await openStore({ databaseUrl: url });
    for (let i = 0; ; i++) {
      const pending = await store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('profile_id', 'is', null).executeTakeFirst();
      const work = await store.db.selectFrom('segment_work').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
      if (Number(pending?.n) === 0 && Number(work?.n) === 0) break;
      if (i > 1200) throw new Error('processes did not go idle');
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300)); // a batch may still be committing its membership writes

    const people = await store.db.selectFrom('profiles').select('id').whereRef('id', '=', 'canonical_id').execute();
    expect(people.length).toBe(40);
    const merges = await store.db.selectFrom('merges').select(['survivor_id', 'loser_id']).execute();
    expect(merges.length).toBe(40);
    expect(new Set(merges.map((m) => m.loser_id)).size).toBe(40);

    const snapshot = async () => (await store.db.selectFrom('segment_members').select(['segment_id', 'profile_id']).execute()).map((m) => `${m.segment_id}:${m.profile_id}`).sort();
    const incremental = await snapshot();
    expect(incremental.length).toBeGreaterThan(0);
    const engine = new SegmentEngine(store);
    const changes: unknown[] = [];
    engine.subscribe((c) => changes.push(c));
    await engine.recompute('default');
    expect(changes).toEqual([]);
    expect(await snapshot()).toEqual(incremental);
    await store.close();
  });
});
