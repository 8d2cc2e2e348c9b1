// The paced load generator of `trigger-latency`, run as a CHILD PROCESS (forked with IPC), in the pattern of
// bench/lib/segments-sender.ts: its send times must not be delayed when Omnia's event loop is busy. Open loop: request
// k (one POST /v1/batch of `batch` events) is sent at t0 + k × batch/rate whether or not earlier requests have been
// answered, over keep-alive connections.
//
// Every event is an 'Order Completed' with a unique order id, for a person who already exists: event number e of the
// run (e = request × batch + slot) is for userId `${userPrefix}${first + e}` and carries order_id `${orderPrefix}${e}`.
// Each person orders once, so each order starts the post-purchase journey afresh (a person already in it would not
// re-enter: see mayEnter in src/journeys/step.ts).
//
// Times are CLOCK_MONOTONIC milliseconds, comparable with the parent's and the SMTP sink's on Linux.
import http from 'node:http';
import { fileURLToPath } from 'node:url';

export interface OrderRun {
  cmd: 'run';
  url: string;
  authorization: string;
  /** events per second */
  rate: number;
  /** events per request */
  batch: number;
  durationS: number;
  userPrefix: string;
  /** index of the first person of this run */
  first: number;
  orderPrefix: string;
}

export interface OrderResult {
  type: 'result';
  /** per request: monotonic send time (just before the body is written), ack time (response fully read), status */
  sent: number[];
  ack: number[];
  status: number[];
  maxScheduleLagMs: number;
  errors: number;
}

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Requests a run of `durationS` at `rate` sends (the parent sizes the people it creates with the same formula). */
export function requestsFor(rate: number, batch: number, durationS: number): number {
  return Math.max(1, Math.round((durationS * 1000) / ((batch / rate) * 1000)));
}

const UA = 'analytics-node/2.1.0';
const PRODUCTS = [
  { product_id: 'p-17', sku: 'CND-17', name: 'Amber candle', category: 'Candles', price: 24.5, quantity: 2 },
  { product_id: 'p-4', sku: 'KIT-04', name: 'Linen tea towel', category: 'Kitchen', price: 9.9, quantity: 1 },
  { product_id: 'p-31', sku: 'LMP-31', name: 'Brass lantern', category: 'Lighting', price: 49, quantity: 1 },
];

function body(m: OrderRun, req: number): string {
  const ts = new Date().toISOString();
  const batch: Record<string, unknown>[] = [];
  for (let j = 0; j < m.batch; j++) {
    const e = req * m.batch + j;
    const products = [PRODUCTS[e % 3]!, ...(e % 2 ? [PRODUCTS[(e + 1) % 3]!] : [])];
    const total = products.reduce((s, p) => s + p.price * p.quantity, 0);
    batch.push({
      type: 'track',
      event: 'Order Completed',
      userId: `${m.userPrefix}${m.first + e}`,
      messageId: `${m.orderPrefix}msg-${e}`,
      timestamp: ts,
      properties: { order_id: `${m.orderPrefix}${e}`, total, revenue: total, currency: 'EUR', products },
      context: { library: { name: 'analytics-node', version: '2.1.0' }, userAgent: UA },
    });
  }
  return JSON.stringify({ batch, sentAt: ts });
}

function run(m: OrderRun): Promise<OrderResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const u = new URL('/v1/batch', m.url);
  const interval = (m.batch / m.rate) * 1000;
  const total = requestsFor(m.rate, m.batch, m.durationS);
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

if (process.send && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.on('message', (raw) => {
    const m = raw as OrderRun | { cmd: 'exit' };
    if (m.cmd === 'run') run(m).then((r) => process.send!(r), (e: unknown) => process.send!({ type: 'error', message: String((e as Error)?.stack ?? e) }));
    else if (m.cmd === 'exit') {
      process.disconnect?.();
      process.exit(0);
    }
  });
}
