// The paced load generator of `segment-latency`, run as a CHILD PROCESS (forked with IPC) so that its send times are
// not delayed when Omnia's event loop is busy (an in-process loop would stall with it and hide the latency it
// causes). Open loop: batch k is sent at t0 + k × interval whether or not earlier requests have been answered, over
// keep-alive connections. Every event is for a fresh userId (a new person), so each one changes memberships.
//
// Times are CLOCK_MONOTONIC milliseconds (monoMs), comparable with the parent's on Linux.
import http from 'node:http';
import { monoMs } from './segments-common.ts';

export interface SenderRun {
  cmd: 'run';
  url: string;
  authorization: string;
  /** events per second */
  rate: number;
  /** events per request */
  batch: number;
  durationS: number;
  /** userIds are `${prefix}${request}-${slot}` */
  prefix: string;
}

export interface SenderResult {
  type: 'result';
  /** per request: monotonic send time (just before the body is written), ack time (response fully read), status */
  sent: number[];
  ack: number[];
  status: number[];
  /** how late the sender itself was against its schedule (ms) */
  maxScheduleLagMs: number;
  errors: number;
}

/**
 * The event kinds, cycled over the slots of a batch. Each changes at least one of the benchmark's segments for a new
 * person (see bench/segments-latency.ts for the segments and which kind enters which).
 */
export const KINDS = ['candle-order', 'product-viewed', 'identify-gold', 'cart-in-germany', 'search', 'signed-up', 'small-order-germany'] as const;

const UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

function event(kind: (typeof KINDS)[number], userId: string, messageId: string, ts: string): Record<string, unknown> {
  const base = { userId, messageId, timestamp: ts, context: { library: { name: 'analytics.js', version: '2.11.1' }, userAgent: UA, ip: '203.0.113.7' } };
  const berlin = { ...base.context, location: { country: 'Germany', city: 'Berlin' } };
  switch (kind) {
    case 'candle-order':
      return {
        ...base,
        type: 'track',
        event: 'Order Completed',
        properties: { order_id: `o-${messageId}`, total: 120, currency: 'EUR', products: [{ product_id: 'p-17', category: 'Candles', price: 60, quantity: 2 }] },
      };
    case 'product-viewed':
      return { ...base, type: 'track', event: 'Product Viewed', properties: { product_id: 'p-3', category: 'Lighting', price: 12.5 } };
    case 'identify-gold':
      return { ...base, type: 'identify', traits: { plan: 'gold', first_name: 'Ada' } };
    case 'cart-in-germany':
      return { ...base, context: berlin, type: 'track', event: 'Cart Viewed', properties: { cart_id: `c-${messageId}`, items: 2 } };
    case 'search':
      return { ...base, type: 'track', event: 'Products Searched', properties: { query: 'lantern' } };
    case 'signed-up':
      return { ...base, type: 'track', event: 'Signed Up', properties: { method: 'email' } };
    case 'small-order-germany':
      return {
        ...base,
        context: berlin,
        type: 'track',
        event: 'Order Completed',
        properties: { order_id: `o-${messageId}`, total: 20, currency: 'EUR', products: [{ product_id: 'p-4', category: 'Kitchen', price: 20, quantity: 1 }] },
      };
  }
}

function body(m: SenderRun, req: number): string {
  const ts = new Date().toISOString();
  const batch: Record<string, unknown>[] = [];
  for (let j = 0; j < m.batch; j++) batch.push(event(KINDS[(req * m.batch + j) % KINDS.length]!, `${m.prefix}${req}-${j}`, `${m.prefix}m${req}-${j}`, ts));
  return JSON.stringify({ batch, sentAt: ts });
}

function run(m: SenderRun): Promise<SenderResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const u = new URL('/v1/batch', m.url);
  const interval = (m.batch / m.rate) * 1000;
  const total = Math.max(1, Math.round((m.durationS * 1000) / interval));
  const sent = new Array<number>(total).fill(NaN);
  const ack = new Array<number>(total).fill(NaN);
  const status = new Array<number>(total).fill(0);
  let done = 0;
  let errors = 0;
  let maxLag = 0;
  return new Promise((resolve) => {
    const finish = () => {
      if (++done < total) return;
      agent.destroy();
      resolve({ type: 'result', sent, ack, status, maxScheduleLagMs: maxLag, errors });
    };
    const send = (i: number) => {
      const payload = body(m, i);
      const req = http.request(
        { agent, hostname: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'application/json', authorization: m.authorization, 'content-length': Buffer.byteLength(payload) } },
        (res) => {
          res.resume();
          res.on('end', () => {
            ack[i] = monoMs();
            status[i] = res.statusCode ?? 0;
            finish();
          });
        },
      );
      req.on('error', () => {
        errors++;
        finish();
      });
      sent[i] = monoMs();
      req.end(payload);
    };
    const t0 = monoMs() + 20;
    let next = 0;
    const tick = () => {
      const now = monoMs();
      while (next < total && t0 + next * interval <= now) {
        maxLag = Math.max(maxLag, now - (t0 + next * interval));
        send(next++);
      }
      if (next < total) setTimeout(tick, Math.max(0, t0 + next * interval - monoMs()));
    };
    setTimeout(tick, 20);
  });
}

process.on('message', (raw) => {
  const m = raw as SenderRun | { cmd: 'exit' };
  if (m.cmd === 'run') run(m).then((r) => process.send!(r), (e: unknown) => process.send!({ type: 'error', message: String((e as Error)?.stack ?? e) }));
  else if (m.cmd === 'exit') {
    process.disconnect?.();
    process.exit(0);
  }
});
