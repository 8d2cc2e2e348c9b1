// send-email, the whole pipeline: N personalised marketing emails queued in Omnia's outbox (embedded SQLite or
// PostgreSQL), drained by the messaging worker — per person: the arbiter (consent, caps, quiet hours) and the
// decision log; then the MJML template rendered for that person (brand kit, greeting, 3 product blocks), signed
// unsubscribe and tracking links, List-Unsubscribe headers, SMTP through the pooled adapter, and the outcome
// recorded (status, Message Sent event on the timeline). Baseline in the same run: plain nodemailer with the same
// pool size sending one pre-rendered message (of the same size) N times to the same sink.
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { openRuntime } from '../src/app/runtime.ts';
import { normalizeCall } from '../src/ingest/normalize.ts';
import { enqueueMessage } from '../src/messaging/outbox.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';
import { type Backend, createDatabase, fmtInt, fmtRatio, log, median, rmDir, table, tempDir } from './lib/common.ts';
import { startSmtpSink } from './lib/smtp-sink.ts';

const MJML = `<mj-section><mj-column><mj-text>Hi {{ profile.traits.first_name | default: "there" }}, picked for you:</mj-text></mj-column></mj-section>
{% for item in items %}{% render 'product_card', product: item %}{% endfor %}`;

const ITEMS = [1, 2, 3].map((i) => ({ title: `Candle ${i}`, price: 1500 + i * 100, currency: 'GBP', image_url: `https://cdn.shop.example/c${i}.jpg`, url: `https://shop.example/p/${i}` }));

async function outboxRound(backend: Backend, n: number, port: number, pool: number, pgAdminUrl: string): Promise<{ seconds: number; sent: number; html: string }> {
  const dataDir = tempDir('omnia-bench-outbox-');
  const pgdb = backend === 'postgres' ? await createDatabase(pgAdminUrl, 'outbox') : null;
  const rt = await openRuntime(backend === 'postgres' ? { databaseUrl: pgdb!.url, workers: false, publicUrl: 'https://omnia.shop.example' } : { dataDir, workers: false, publicUrl: 'https://omnia.shop.example' });
  rt.store.pool?.on('error', () => {});
  try {
    await bootstrapDefaultWorkspace(rt.store, {});
    const ws = 'default';
    const now = Date.now();
    for (let i = 0; i < n; i += 2000) {
      const rows = [];
      for (let j = i; j < Math.min(n, i + 2000); j++) {
        const c = normalizeCall('identify', { userId: `u${j}`, traits: { email: `u${j}@mail.example`, first_name: `Name${j}`, consent: { email: 'subscribed' } } }, { workspaceId: ws, receivedAt: now });
        if (c.ok) rows.push(c.row);
      }
      await rt.writer.write(rows);
    }
    await rt.writer.flush();
    await rt.processor.drain();
    const svc = rt.messaging;
    await svc.settings.setProvider(ws, 'email', { host: '127.0.0.1', port, messageIdDomain: 'mail.shop.example', pool: { maxConnections: pool } });
    await svc.settings.setPolicy(ws, { caps: [], quietHours: [] });
    const tpl = await svc.templates.create(ws, 'bench', { channel: 'email', subject: 'For you, {{ profile.traits.first_name | default: "friend" }}', mjml: MJML });
    const profiles = await rt.store.db.selectFrom('profiles').select('id').where('workspace_id', '=', ws).execute();
    for (let i = 0; i < profiles.length; i += 1000) {
      await rt.store.db.transaction().execute(async (tx) => {
        for (const p of profiles.slice(i, i + 1000)) {
          await enqueueMessage(tx, { workspaceId: ws, profileId: p.id, source: 'bench', step: 'one', channel: 'email', templates: { email: tpl.id }, topic: 'marketing', transactional: false, priority: 50, context: { items: ITEMS } }, now);
        }
      });
    }
    log(`    [${backend}] outbox: ${fmtInt(profiles.length)} people, ${fmtInt(profiles.length)} queued`);
    const t0 = performance.now();
    await svc.drain();
    const seconds = (performance.now() - t0) / 1000;
    const sent = Number((await rt.store.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'sent').executeTakeFirstOrThrow()).n);
    if (sent < n) {
      const other = await rt.store.db.selectFrom('messages').select(['status', 'error']).where('status', '!=', 'sent').limit(1).executeTakeFirst();
      log(`    [${backend}] not sent: ${other?.status} ${other?.error ?? ''}`);
    }
    return { seconds, sent, html: '' };
  } finally {
    await rt.close();
    rmDir(dataDir);
    await pgdb?.drop();
  }
}

async function nodemailerRound(n: number, port: number, pool: number, bytes: number): Promise<number> {
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, secure: false, maxConnections: pool, maxMessages: 100 });
  const html = `<html><body>${'x'.repeat(Math.max(0, bytes - 200))}</body></html>`;
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await transport.sendMail({ from: 'Shop <hello@shop.example>', to: `u${i}@mail.example`, subject: `For you, Name${i}`, text: 'For you', html, messageId: `<m${i}@mail.shop.example>` });
    }
  };
  await Promise.all(Array.from({ length: 64 * pool }, worker));
  const s = (performance.now() - t0) / 1000;
  transport.close();
  return n / s;
}

export async function benchSendOutbox(opts: { backends: Backend[]; messages: number; rounds: number; pool: number; pgAdminUrl: string }): Promise<string> {
  const sink = await startSmtpSink();
  const out: string[] = [];
  try {
    for (const backend of opts.backends) {
      const omnia: number[] = [];
      const base: number[] = [];
      let bytes = 0;
      for (let r = 0; r < opts.rounds; r++) {
        await sink.reset();
        const o = await outboxRound(backend, opts.messages, sink.port, opts.pool, opts.pgAdminUrl);
        const s = await sink.stats();
        if (o.sent !== opts.messages || s.messages !== opts.messages) throw new Error(`${backend}: ${o.sent} sent, sink got ${s.messages} of ${opts.messages}`);
        bytes = s.bytes / s.messages;
        omnia.push(opts.messages / o.seconds);
        log(`  [${backend}] round ${r + 1} outbox → SMTP  ${fmtInt(opts.messages / o.seconds)} msg/s (${o.seconds.toFixed(1)} s, ${fmtInt(bytes)} B/msg)`);
        await sink.reset();
        base.push(await nodemailerRound(opts.messages, sink.port, opts.pool, bytes));
        log(`  [${backend}] round ${r + 1} nodemailer     ${fmtInt(base.at(-1)!)} msg/s`);
      }
      out.push(
        table(
          [`send-email from the outbox (${backend}, ${fmtInt(opts.messages)} messages, pool ${opts.pool})`, 'messages/s'],
          [
            ['Omnia: outbox → arbiter → render → SMTP → recorded', fmtInt(median(omnia))],
            ['nodemailer pool, one pre-rendered message (baseline)', fmtInt(median(base))],
            ['ratio', fmtRatio(median(omnia) / median(base))],
          ],
        ),
      );
    }
  } finally {
    await sink.stop();
  }
  return out.join('\n\n');
}
