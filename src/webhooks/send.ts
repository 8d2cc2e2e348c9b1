// One HTTP attempt: POST the body to the URL through the SSRF guard, with an overall deadline, no redirects followed,
// no connection reuse (every attempt connects to freshly checked addresses), and at most a short prefix of the
// response kept for the delivery log.
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import net from 'node:net';
import { BlockedAddressError, type Resolver, classifyAddress, guardedLookup, hostOf } from './ssrf.ts';

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The first bytes of the response body (for the delivery log). */
  response: string | null;
  /** Retry-After of a 429/503, in ms. */
  retryAfterMs: number | null;
  /** The address connected to (after the guard). */
  address: string | null;
  /** Nothing was sent: the guard refused the destination. */
  blocked: boolean;
}

const RESPONSE_KEEP = 1024;

export interface SendOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  allowPrivate: boolean;
  timeoutMs: number;
  resolve: Resolver;
}

export async function sendWebhook(o: SendOptions): Promise<AttemptResult> {
  const started = performance.now();
  const done = (r: Partial<AttemptResult>): AttemptResult => ({
    statusCode: null,
    error: null,
    response: null,
    retryAfterMs: null,
    address: null,
    blocked: false,
    ...r,
    durationMs: Math.round(performance.now() - started),
  });
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    return done({ error: 'invalid URL', blocked: true });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return done({ error: `unsupported scheme ${url.protocol}`, blocked: true });
  if (url.protocol === 'http:' && !o.allowPrivate) return done({ error: 'plain http is only allowed with allowPrivateNetwork', blocked: true });
  const host = hostOf(url);
  let address: string | null = null;
  // An IP literal never reaches a lookup function: check it here. Names are checked inside the socket's lookup.
  if (net.isIP(host)) {
    const reason = o.allowPrivate ? null : classifyAddress(host);
    if (reason) return done({ error: `refused: ${new BlockedAddressError(host, host, reason).message}`, blocked: true });
    address = host;
  }

  return new Promise<AttemptResult>((resolve) => {
    let finished = false;
    const finish = (r: Partial<AttemptResult>) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(done({ address, ...r }));
    };
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(url, {
      method: 'POST',
      headers: { ...o.headers, 'content-length': String(Buffer.byteLength(o.body)) },
      agent: false,
      lookup: guardedLookup(o.allowPrivate, o.resolve, (a) => (address = a[0] ?? null)),
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`timed out after ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })), o.timeoutMs);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const blocked = e.code === 'EBLOCKEDADDRESS';
      finish({ error: blocked ? `refused: ${e.message}` : `${e.code && !e.message.includes(e.code) ? `${e.code}: ` : ''}${e.message}`, blocked });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let kept = 0;
      const status = res.statusCode ?? 0;
      let retryAfterMs: number | null = null;
      const ra = res.headers['retry-after'];
      if ((status === 429 || status === 503) && typeof ra === 'string') {
        const secs = /^\d+$/.test(ra.trim()) ? Number(ra.trim()) * 1000 : Date.parse(ra) - Date.now();
        if (Number.isFinite(secs) && secs > 0) retryAfterMs = secs;
      }
      const end = () => {
        const text = Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_KEEP);
        const location = status >= 300 && status < 400 ? res.headers.location : undefined;
        finish({
          statusCode: status,
          response: text || null,
          retryAfterMs,
          error: status >= 200 && status < 300 ? null : location ? `redirect to ${location} not followed` : `HTTP ${status}`,
        });
        res.destroy();
      };
      res.on('data', (c: Buffer) => {
        if (kept < RESPONSE_KEEP) chunks.push(c);
        kept += c.length;
        if (kept >= RESPONSE_KEEP) end();
      });
      res.on('end', end);
      res.on('error', end);
    });
    req.end(o.body);
  });
}
