// The outbox under stress: two workers sharing one PostgreSQL outbox send every message once and keep each person's
// cap; and a sending server killed with SIGKILL mid-batch, restarted, delivers every message (one Message-ID each).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeCall } from '../src/ingest/normalize.ts';
import { BACKENDS, openTestRuntime, startTestOmnia, tempDir } from './helpers.ts';

interface Sink {
  port: number;
  ids: string[];
  close(): Promise<void>;
}

/** A real SMTP server that takes `delayMs` to accept each message and records its Message-ID. */
async function smtpSink(delayMs: number): Promise<Sink> {
  const ids: string[] = [];
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    onData(stream, _s, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', async () => {
        const mail = await simpleParser(Buffer.concat(chunks));
        setTimeout(() => {
          ids.push(String(mail.messageId));
          cb();
        }, delayMs);
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.server.address() as net.AddressInfo).port, ids, close: () => new Promise((r) => server.close(() => r())) };
}

const TEMPLATE = { channel: 'email', subject: 'Your order {{ event.properties.order_id | default: "" }}', mjml: '<mj-section><mj-column><mj-text>Thanks!</mj-text></mj-column></mj-section>' };

describe.runIf(BACKENDS.includes('postgres'))('two messaging workers on one PostgreSQL outbox', () => {
  it('every message is sent exactly once and each person keeps their daily cap', { timeout: 120_000 }, async () => {
    const sink = await smtpSink(2);
    const now = Date.UTC(2026, 5, 1, 12);
    const a = await startTestOmnia('postgres', { clock: () => now });
    const b = await openTestRuntime('postgres', { pgSchema: a.pgSchema, clock: () => now, workers: false });
    try {
      expect((await a.api('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: sink.port, messageIdDomain: 'mp.test', pool: { maxConnections: 3 } })).status).toBe(200);
      expect((await a.api('PUT', '/api/messaging/policy', { caps: [{ scope: 'all', period: 'day', max: 2 }] })).status).toBe(200);
      const tpl = (await a.api('POST', '/api/templates', { name: 'receipt', source: TEMPLATE })).body.id as string;
      const people = 30;
      const rows = [];
      for (let p = 0; p < people; p++) {
        const n = normalizeCall('identify', { userId: `w${p}`, traits: { email: `w${p}@example.com` }, timestamp: new Date(now).toISOString() }, { workspaceId: 'default', receivedAt: now });
        if (!n.ok) throw new Error('bad identify');
        rows.push(n.row);
      }
      await a.rt.writer.write(rows);
      await a.rt.writer.flush();
      await a.rt.processor.drain();
      // 4 marketing + 1 transactional per person, all due at once.
      for (let p = 0; p < people; p++) {
        for (let k = 0; k < 5; k++) {
          const r = await a.api('POST', '/api/messages', { to: { userId: `w${p}` }, channel: 'email', template: tpl, topic: k === 4 ? 'transactional' : 'marketing', idempotencyKey: `k${k}` });
          expect(r.status).toBe(202);
        }
      }
      // Both workers drain the same outbox at the same time.
      await a.rt.messaging.stop();
      await Promise.all([a.rt.messaging.drain(), b.rt.messaging.drain(), a.rt.messaging.drain(), b.rt.messaging.drain()]);
      const counts = new Map<string, number>();
      for (const id of sink.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      expect(sink.ids.length).toBe(people * 3); // 2 marketing under the cap + the receipt
      const byStatus = await a.rt.store.db.selectFrom('messages').select(['status']).execute();
      const tally = byStatus.reduce<Record<string, number>>((t, r) => ({ ...t, [r.status]: (t[r.status] ?? 0) + 1 }), {});
      expect(tally).toEqual({ sent: people * 3, deferred: people * 2 });
    } finally {
      await b.rt.close();
      await a.close();
      await sink.close();
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

describe('a sending server killed with SIGKILL mid-batch (sqlite)', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  // Two server start-ups (tsx compiles on a cold cache) beside other test files on 2 cores: a generous timeout.
  it('restarts and delivers every message; a Message-ID is never reused for another message', { timeout: 240_000 }, async () => {
    const dir = tempDir();
    const sink = await smtpSink(15);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, PORT: String(port), OMNIA_DATA_DIR: dir, OMNIA_WRITE_KEY: 'omw_crash', OMNIA_ADMIN_KEY: 'oma_crash', LOG_LEVEL: 'silent', OMNIA_SEND_LEASE_MS: '1500', OMNIA_PUBLIC_URL: url };
    const start = async () => {
      const c = spawn(process.execPath, [path.resolve('bin/omnia.mjs'), 'serve'], { env, stdio: 'ignore' });
      children.push(c);
      const deadline = Date.now() + 90_000;
      for (;;) {
        if (await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)) return c;
        if (c.exitCode !== null || Date.now() > deadline) throw new Error('server did not start');
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const api = async (method: string, p: string, body?: unknown) => {
      const r = await fetch(url + p, { method, headers: { authorization: 'Bearer oma_crash', 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: r.status, body: (await r.json().catch(() => null)) as any };
    };
    try {
      const first = await start();
      expect((await api('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: sink.port, messageIdDomain: 'crash.test', pool: { maxConnections: 2 } })).status).toBe(200);
      const tpl = (await api('POST', '/api/templates', { name: 'receipt', source: TEMPLATE })).body.id as string;
      const n = 120;
      const batch = Array.from({ length: n }, (_, i) => ({ type: 'identify', userId: `c${i}`, traits: { email: `c${i}@example.com` } }));
      expect((await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from('omw_crash:').toString('base64')}` }, body: JSON.stringify({ batch }) })).status).toBe(200);
      for (let t = 0; (await api('GET', `/api/profiles/lookup?userId=c${n - 1}`)).status !== 200; t++) {
        if (t > 200) throw new Error('profiles not attributed');
        await new Promise((r) => setTimeout(r, 50));
      }
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await api('POST', '/api/messages', { to: { userId: `c${i}` }, channel: 'email', template: tpl, topic: 'transactional', idempotencyKey: 'receipt', event: { name: 'Order Completed', properties: { order_id: `o${i}` } } });
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
      // Kill it while it is sending.
      for (let t = 0; sink.ids.length < 20; t++) {
        if (t > 600) throw new Error('sending did not start');
        await new Promise((r) => setTimeout(r, 20));
      }
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const atKill = sink.ids.length;
      expect(atKill).toBeLessThan(n);
      await start();
      const deadline = Date.now() + 90_000;
      while (new Set(sink.ids).size < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const distinct = new Set(sink.ids);
      expect(distinct.size).toBe(n);
      expect([...distinct].sort()).toEqual(ids.map((id) => `<${id}@crash.test>`).sort());
      // At-least-once across a crash: only messages in flight at the kill (at most the worker's concurrency) can arrive
      // twice, and then with the same Message-ID, so the receiver sees one message.
      expect(sink.ids.length - distinct.size).toBeLessThanOrEqual(16);
      for (const id of ids.slice(0, 5)) expect((await api('GET', `/api/messages/${id}`)).body.status).toBe('sent');
    } finally {
      await sink.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
