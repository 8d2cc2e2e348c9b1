// send-email: how fast does Omnia's email adapter push personalised messages into an SMTP server, against plain
// nodemailer with the same pooled transport?
//
// Layout: an SMTP sink (smtp-server, accept and discard) in a child process on 127.0.0.1; the sender in this process.
// Contenders, alternating rounds, medians:
//   omnia     createEmailAdapter({ pool: { maxConnections: N } }).send() of N personalised SendRequests (different To,
//             subject and body each, pre-rendered; List-Unsubscribe headers as the outbox passes them)
//   nodemailer nodemailer.createTransport({ pool: true, maxConnections: N }).sendMail() of the same pre-rendered
//             messages (same From, To, subject, text, html, Message-ID and headers)
// Both keep the same number of sends in flight (a window of 64 × pool) and use nodemailer's default 100 messages per
// connection. Each round builds a fresh transport, so connection setup is inside the timing, as for a worker that
// starts. The sink's count is checked after every round; nothing here asserts on timings.
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import nodemailer from 'nodemailer';
import { createEmailAdapter } from '../src/channels/email.ts';
import type { SendRequest, SendResult } from '../src/messaging/types.ts';
import { fmtInt, fmtRatio, log, machine, loadAvg, median, table } from './lib/common.ts';
import { startSmtpSink } from './lib/smtp-sink.ts';

export interface SendEmailBenchOptions {
  /** Messages per measured round (default 50000). */
  messages?: number;
  /** Measured rounds per contender, alternating (default 3). */
  rounds?: number;
  /** SMTP pool size, connections (default 5). */
  pool?: number;
}

const FIRST = ['Ann', 'Bo', 'Chiara', 'Dev', 'Elif', 'Femi', 'Grace', 'Hugo', 'Ines', 'Jun'];
const PRODUCTS = ['Trail Runner 2', 'Canvas Tote', 'Merino Beanie', 'Espresso Cups (set of 4)', 'Rain Shell', 'Linen Shirt'];

function buildRequests(n: number): SendRequest[] {
  const out: SendRequest[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const name = FIRST[i % FIRST.length]!;
    const product = PRODUCTS[i % PRODUCTS.length]!;
    const id = `msg_bench${i.toString(36).padStart(8, '0')}`;
    const price = (19 + (i % 80) + 0.99).toFixed(2);
    out[i] = {
      messageId: id,
      workspaceId: 'ws_bench',
      profileId: `pr_${i}`,
      to: `${name.toLowerCase()}.${i}@customers.example`,
      topic: 'marketing',
      headers: {
        'List-Unsubscribe': `<mailto:unsubscribe+${id}@mail.shop.example>, <https://shop.example/u/${id}.c2lnbmF0dXJl>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      content: {
        channel: 'email',
        email: {
          subject: `${name}, ${product} is back at €${price}`,
          html:
            `<!doctype html><html><head><meta charset="utf-8"><title>${product}</title></head><body style="font-family:sans-serif">` +
            `<table role="presentation" width="100%"><tr><td><h1>Hi ${name},</h1><p>The <b>${product}</b> you looked at is back in stock ` +
            `at <b>€${price}</b>. We kept one in your size.</p><p><a href="https://shop.example/r/${id}/p/${i % 997}">See it now</a></p>` +
            `<p style="color:#888;font-size:12px">You get this email because you subscribed to news and offers. ` +
            `<a href="https://shop.example/u/${id}">Unsubscribe</a></p></td></tr></table></body></html>`,
          text: `Hi ${name},\n\nThe ${product} you looked at is back in stock at €${price}. We kept one in your size.\n\nSee it now: https://shop.example/r/${id}/p/${i % 997}\n\nUnsubscribe: https://shop.example/u/${id}\n`,
          from: { name: 'Shop Example', address: 'news@mail.shop.example' },
          replyTo: 'care@shop.example',
        },
      },
    };
  }
  return out;
}

/** Runs `send` over all items with at most `window` in flight; resolves when all have settled. */
async function drive<T>(items: T[], window: number, send: (item: T) => Promise<boolean>): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      if (!(await send(item))) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, items.length) }, worker));
  return failed;
}

type Contender = 'omnia' | 'nodemailer';

async function round(which: Contender, reqs: SendRequest[], port: number, pool: number): Promise<{ seconds: number; failed: number; firstError?: string }> {
  const window = 64 * pool;
  let firstError: string | undefined;
  if (which === 'omnia') {
    const adapter = createEmailAdapter({ host: '127.0.0.1', port, messageIdDomain: 'mail.shop.example', pool: { maxConnections: pool } });
    const t0 = performance.now();
    const failed = await drive(reqs, window, async (r) => {
      const res: SendResult = await adapter.send(r);
      if (res.status !== 'sent') firstError ??= `${res.status}: ${res.error}`;
      return res.status === 'sent';
    });
    const seconds = (performance.now() - t0) / 1000;
    await adapter.close();
    return { seconds, failed, ...(firstError ? { firstError } : {}) };
  }
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, secure: false, maxConnections: pool, maxMessages: 100, tls: { rejectUnauthorized: true } });
  // The same pre-rendered messages, as nodemailer mail options (built before timing, like Omnia's requests).
  const mails = reqs.map((r) => {
    const e = (r.content as Extract<SendRequest['content'], { channel: 'email' }>).email;
    return {
      from: e.from,
      to: r.to as string,
      replyTo: e.replyTo!,
      subject: e.subject,
      text: e.text,
      html: e.html,
      messageId: `<${r.messageId}@mail.shop.example>`,
      headers: { ...r.headers, 'X-Omnia-Message-Id': r.messageId },
    };
  });
  const t0 = performance.now();
  const failed = await drive(mails, window, async (m) => {
    try {
      await transport.sendMail(m);
      return true;
    } catch (e) {
      firstError ??= (e as Error).message;
      return false;
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  transport.close();
  return { seconds, failed, ...(firstError ? { firstError } : {}) };
}

export async function benchSendEmail(opts: SendEmailBenchOptions = {}): Promise<void> {
  const n = opts.messages ?? 50_000;
  const rounds = opts.rounds ?? 3;
  const pool = opts.pool ?? 5;
  log(`send-email: ${fmtInt(n)} personalised messages per round, ${rounds} rounds per contender, pool ${pool}; ${machine()}`);
  const sink = await startSmtpSink();
  try {
    const reqs = buildRequests(n);
    const warm = reqs.slice(0, Math.min(n, 2000));
    for (const c of ['omnia', 'nodemailer'] as const) await round(c, warm, sink.port, pool);
    const rates: Record<Contender, number[]> = { omnia: [], nodemailer: [] };
    const maxOpen: Record<Contender, number> = { omnia: 0, nodemailer: 0 };
    for (let i = 0; i < rounds; i++) {
      // Alternate which contender goes first, so drift (thermal, GC, the sink's own warm-up) is shared.
      const order: Contender[] = i % 2 === 0 ? ['omnia', 'nodemailer'] : ['nodemailer', 'omnia'];
      for (const c of order) {
        await sink.reset();
        const r = await round(c, reqs, sink.port, pool);
        const s = await sink.stats();
        if (r.failed || s.messages !== n) throw new Error(`${c} round ${i + 1}: ${r.failed} failed, sink got ${s.messages} of ${n}${r.firstError ? ` (first error: ${r.firstError})` : ''}`);
        rates[c].push(n / r.seconds);
        maxOpen[c] = Math.max(maxOpen[c], s.maxOpen);
        log(`  round ${i + 1} ${c.padEnd(10)} ${fmtInt(n / r.seconds)} msg/s  (${r.seconds.toFixed(2)} s, ${s.connections} connections, ≤${s.maxOpen} at once, ${fmtInt(s.bytes / n)} B/msg)`);
      }
    }
    const omnia = median(rates.omnia);
    const base = median(rates.nodemailer);
    console.log(`\nsend-email (${fmtInt(n)} messages, pool ${pool}, medians of ${rounds} alternating rounds; load ${loadAvg()})\n`);
    console.log(
      table(
        ['contender', 'messages/s', 'min', 'max', 'max connections'],
        [
          ['Omnia email adapter', fmtInt(omnia), fmtInt(Math.min(...rates.omnia)), fmtInt(Math.max(...rates.omnia)), String(maxOpen.omnia)],
          ['nodemailer pool (baseline)', fmtInt(base), fmtInt(Math.min(...rates.nodemailer)), fmtInt(Math.max(...rates.nodemailer)), String(maxOpen.nodemailer)],
        ],
      ),
    );
    console.log(`\nratio Omnia / baseline: ${fmtRatio(omnia / base)}`);
  } finally {
    await sink.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { messages: { type: 'string' }, rounds: { type: 'string' }, pool: { type: 'string' } } });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  benchSendEmail({ messages: num(values.messages), rounds: num(values.rounds), pool: num(values.pool) }).catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
