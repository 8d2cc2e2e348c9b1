// segment-webhook: a purchase → the segment change → a signed webhook received by a subscriber. How long from sending
// the purchase to the webhook arriving? Same-run baseline: the HTTP ack latency of the same purchase requests.
//
// Layout: Omnia in this process (openRuntime with workers + buildServer on 127.0.0.1, as `serve --role all`), a plain
// node:http receiver in this process on 127.0.0.1, purchases sent one by one at a steady pace (default 50/s, each a
// fresh person), so the figure is latency under light load, not throughput.
import http from 'node:http';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { openRuntime } from '../src/app/runtime.ts';
import { buildServer } from '../src/app/server.ts';
import { bootstrapDefaultWorkspace } from '../src/workspaces/keys.ts';
import { type Backend, PG_ADMIN_URL, createDatabase, fmtMs, fmtRatio, log, rmDir, table, tempDir } from './lib/common.ts';

const TARGET_P99_MS = 250;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
}

async function runOne(backend: Backend, n: number, rate: number) {
  const dir = tempDir('omnia-bench-wh-');
  const db = backend === 'postgres' ? await createDatabase(PG_ADMIN_URL, 'segwh') : null;
  const rt = await openRuntime(db ? { databaseUrl: db.url } : { dataDir: dir });
  const writeKey = 'omw_bench_wh';
  const adminKey = 'oma_bench_wh';
  await bootstrapDefaultWorkspace(rt.store, { writeKey, adminKey });
  const app = await buildServer(rt, { logLevel: 'silent' });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  const received = new Map<string, number>();
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const at = performance.now();
      try {
        const ev = JSON.parse(body);
        const uid = ev?.data?.profile?.userId;
        if (ev.type === 'segment.entered' && typeof uid === 'string' && !received.has(uid)) received.set(uid, at);
      } catch {
        /* a ping */
      }
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`;
  const admin = (path: string, body: unknown) =>
    fetch(base + path, { method: 'POST', headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => {
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return r.json();
    });
  await admin('/api/segments?wait=true', { name: 'Bought in 30 days', definition: { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 30, unit: 'days' } } });
  await admin('/api/webhooks', { url: hook, events: ['segment.entered'], allowPrivateNetwork: true });

  const auth = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
  const sent = new Map<string, number>();
  const acks: number[] = [];
  const start = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const uid = `wh-${i}`;
    const t0 = performance.now();
    sent.set(uid, t0);
    inflight.push(
      fetch(`${base}/v1/track`, { method: 'POST', headers: { authorization: auth }, body: JSON.stringify({ userId: uid, event: 'Order Completed', properties: { total: 20 } }) }).then(async (r) => {
        await r.arrayBuffer();
        acks.push(performance.now() - t0);
      }),
    );
  }
  await Promise.all(inflight);
  for (let i = 0; i < 200 && received.size < n; i++) await new Promise((r) => setTimeout(r, 50));
  const lat = [...received].map(([uid, at]) => at - sent.get(uid)!);
  await app.close();
  await new Promise((r) => receiver.close(() => r(null)));
  await rt.close();
  if (db) await db.drop();
  rmDir(dir);
  return { n, got: lat.length, p50: pct(lat, 50), p99: pct(lat, 99), max: Math.max(...lat), ackP50: pct(acks, 50), ackP99: pct(acks, 99) };
}

export async function benchSegmentWebhook(backends: Backend[], n = 500, rate = 50): Promise<string> {
  const rows: string[][] = [];
  const res: Record<string, Awaited<ReturnType<typeof runOne>>> = {};
  for (const b of backends) {
    log(`segment-webhook on ${b}: ${n} purchases at ${rate}/s`);
    res[b] = await runOne(b, n, rate);
  }
  const col = (f: (r: Awaited<ReturnType<typeof runOne>>) => string) => backends.map((b) => f(res[b]!));
  rows.push(['webhooks received / purchases', ...col((r) => `${r.got} / ${r.n}`)]);
  rows.push(['purchase → webhook p50 / p99', ...col((r) => `${fmtMs(r.p50)} / ${fmtMs(r.p99)}`)]);
  rows.push(['purchase → webhook max', ...col((r) => fmtMs(r.max))]);
  rows.push(['baseline: HTTP ack p50 / p99', ...col((r) => `${fmtMs(r.ackP50)} / ${fmtMs(r.ackP99)}`)]);
  rows.push(['ratio webhook p99 / ack p99', ...col((r) => fmtRatio(r.p99 / r.ackP99))]);
  rows.push([`target p99 < ${TARGET_P99_MS} ms`, ...col((r) => (r.p99 < TARGET_P99_MS && r.got === r.n ? 'PASS' : 'BELOW'))]);
  return `segment-webhook: purchase sent → segment.entered webhook received by a loopback subscriber (${n} purchases, ${rate}/s, each a new person)\n\n${table(['', ...backends.map((b) => (b === 'sqlite' ? 'SQLite' : 'PostgreSQL'))], rows)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'both' }, n: { type: 'string', default: '500' }, rate: { type: 'string', default: '50' } } });
  const backends: Backend[] = values.backend === 'both' ? ['sqlite', 'postgres'] : [values.backend as Backend];
  benchSegmentWebhook(backends, Number(values.n), Number(values.rate)).then(
    (out) => console.log(out),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
