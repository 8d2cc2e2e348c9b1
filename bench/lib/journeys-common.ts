// Shared bits of the journey benchmarks (trigger-latency, broadcast): percentiles with p90, people created the way
// send-outbox.ts creates them (normalizeCall + the group-commit writer, then attribution), the forked order sender, and
// the plain-nodemailer baseline.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import type { Runtime } from '../../src/app/runtime.ts';
import { normalizeCall } from '../../src/ingest/normalize.ts';
import { pct } from './segments-common.ts';
import type { OrderResult, OrderRun } from './journeys-sender.ts';

export interface Dist4 {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function dist4(xs: number[]): Dist4 {
  const a = Array.from(Float64Array.from(xs).sort());
  return { n: a.length, p50: pct(a, 50), p90: pct(a, 90), p99: pct(a, 99), max: a.length ? a[a.length - 1]! : NaN };
}

/**
 * `n` people with an email address, a first name and email consent, identified as `${prefix}${i}`: identify calls
 * normalised by Omnia's own normalizeCall, written through the writer in chunks, then attributed (processor.drain).
 */
export async function createPeople(rt: Runtime, ws: string, n: number, prefix: string, extraTraits: Record<string, unknown> = {}): Promise<void> {
  const now = Date.now();
  const chunk = 2000;
  for (let i = 0; i < n; i += chunk) {
    const rows = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) {
      const c = normalizeCall(
        'identify',
        { userId: `${prefix}${j}`, traits: { email: `${prefix}${j}@mail.example`, first_name: `Name${j}`, consent: { email: 'subscribed' }, ...extraTraits } },
        { workspaceId: ws, receivedAt: now },
      );
      if (c.ok) rows.push(c.row);
    }
    await rt.writer.write(rows);
  }
  await rt.writer.flush();
  await rt.processor.drain();
}

const SENDER = fileURLToPath(new URL('./journeys-sender.ts', import.meta.url));

/** The order sender in its child process. */
export class OrderSender {
  private constructor(private readonly child: ReturnType<typeof fork>) {}
  static start(): OrderSender {
    return new OrderSender(fork(SENDER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  run(r: Omit<OrderRun, 'cmd'>): Promise<OrderResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`sender exited (${code}) during a run`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        const msg = m as OrderResult | { type: 'error'; message: string };
        if (msg.type === 'error') reject(new Error(msg.message));
        else resolve(msg);
      });
      this.child.send({ cmd: 'run', ...r } satisfies OrderRun);
    });
  }
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'exit' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }
}

/** The baseline's HTML: `pad` bytes of filler in lines of 72 characters (no quoted-printable soft breaks). */
function paddedHtml(pad: number): string {
  const line = `${'x'.repeat(70)}\r\n`;
  const n = Math.max(0, pad);
  return `<html><body>${line.repeat(Math.floor(n / line.length))}${'x'.repeat(n % line.length)}</body></html>`;
}

/**
 * Baseline: plain nodemailer, pooled (`pool` connections, 100 messages per connection like Omnia's adapter default),
 * sending one pre-rendered HTML message with `pad` bytes of filler `n` times to the sink, 64 × pool sendMail calls in
 * flight. Returns messages/s. (calibratePad finds the `pad` that gives a message of a wanted size on the wire.)
 */
export async function nodemailerRound(n: number, port: number, pool: number, pad: number): Promise<number> {
  const transport = nodemailer.createTransport({ pool: true, host: '127.0.0.1', port, secure: false, maxConnections: pool, maxMessages: 100 });
  const html = paddedHtml(pad);
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await transport.sendMail({ from: 'Shop <hello@shop.example>', to: `u${i}@mail.example`, subject: `Spring sale, Name${i}`, text: 'Spring sale', html, messageId: `<m${i}@mail.shop.example>` });
    }
  };
  await Promise.all(Array.from({ length: 64 * pool }, worker));
  const s = (performance.now() - t0) / 1000;
  transport.close();
  return n / s;
}

/** The filler that makes nodemailerRound's message `bytes` long at the sink (two probe messages, measured). */
export async function calibratePad(port: number, bytes: number, measure: (send: () => Promise<void>) => Promise<number>): Promise<number> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false });
  const probe = (pad: number) => measure(async () => {
    await transport.sendMail({ from: 'Shop <hello@shop.example>', to: 'u0@mail.example', subject: 'Spring sale, Name0', text: 'Spring sale', html: paddedHtml(pad), messageId: '<m0@mail.shop.example>' });
  });
  const a = await probe(0);
  const b = await probe(10_000);
  transport.close();
  const perByte = (b - a) / 10_000;
  return Math.max(0, Math.round((bytes - a) / perByte));
}
