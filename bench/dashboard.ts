// dashboard: how long the marketer waits for the dashboard's two busiest screens, measured in Debian's Chromium.
//
// Omnia runs in this process (API + workers, as `omnia serve`), with `--people` customers (identify, page views and
// an order on web, app or store within the last 30 days) and one person with `--events` timeline events (default
// 10,000) across web, app and store. The owner's session cookie is put in each browser context.
//
// Figures, median of `--rounds` (default 5) alternating rounds, each in a fresh browser context (cold HTTP cache):
// - first render of the overview: navigation start → every chart and figure of the period has replaced its
//   placeholder (no aria-busy left in <main>, a chart drawn);
// - first render of the heavy person's profile: navigation start → the page, its timeline's first page and every
//   panel rendered;
// - the same-run baseline: the sign-in page (same bundle, one API call, no data).
// Then the API calls those two screens made (recorded from the browser), each repeated sequentially with the session
// cookie: p50 and p99, against GET /health repeated the same way. Nothing here asserts on timings.
import { type Browser, chromium } from 'playwright-core';
import { type Backend, createDatabase, fmtMs, fmtRatio, log, median, rmDir, table, tempDir } from './lib/common.ts';
import { dist, monoMs, sleep, startOmniaAdmin, type OmniaAdmin } from './lib/segments-common.ts';
import { buildDashboard, dashboardSizes, dashboardStale } from '../dashboard/build.mjs';
import { setupFirstOwner } from '../src/access/users.ts';
import { SESSION_COOKIE, createSession } from '../src/access/sessions.ts';
import { DEFAULT_WORKSPACE } from '../src/workspaces/keys.ts';

export interface DashboardBenchOptions {
  backends: Backend[];
  rounds: number;
  people: number;
  events: number;
  apiRepeats: number;
  pgAdminUrl: string;
}

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const DAY = 24 * 3600_000;
const CHANNELS = ['web', 'app', 'store'] as const;

async function seed(o: OmniaAdmin, people: number, events: number): Promise<void> {
  const now = Date.now();
  const iso = (t: number) => new Date(t).toISOString();
  const batches: unknown[][] = [];
  let cur: unknown[] = [];
  const push = (e: unknown) => {
    cur.push(e);
    if (cur.length >= 500) batches.push(cur), (cur = []);
  };
  for (let i = 0; i < people; i++) {
    const userId = `bench-${i}`;
    const t = now - ((i * 7919) % 30) * DAY - (i % 1440) * 60_000;
    const channel = CHANNELS[i % 3]!;
    push({ type: 'identify', userId, traits: { email: `${userId}@bench.example`, first_name: `Person${i}` }, timestamp: iso(t - 3600_000) });
    push({ type: 'page', userId, name: 'Home', properties: { path: '/' }, timestamp: iso(t - 1800_000) });
    push({ type: 'track', userId, event: 'Order Completed', properties: { order_id: `o-${i}`, total: 10 + (i % 90), currency: 'GBP', products: [{ product_id: `sku-${i % 40}`, price: 10 + (i % 90) }] }, context: { channel }, timestamp: iso(t) });
  }
  push({ type: 'identify', userId: 'heavy', traits: { email: 'heavy@bench.example', first_name: 'Hattie', last_name: 'Heavy' }, timestamp: iso(now - 60 * DAY) });
  for (let i = 0; i < events - 1; i++) {
    const t = now - 60 * DAY + Math.floor((i / events) * 59 * DAY);
    const channel = CHANNELS[i % 3]!;
    if (i % 50 === 49) push({ type: 'track', userId: 'heavy', event: 'Order Completed', properties: { order_id: `h-${i}`, total: 25, currency: 'GBP' }, context: { channel }, timestamp: iso(t) });
    else if (i % 2) push({ type: 'track', userId: 'heavy', event: 'Product Viewed', properties: { product_id: `sku-${i % 40}`, price: 25 }, context: { channel }, timestamp: iso(t) });
    else push({ type: 'page', userId: 'heavy', name: 'Product', properties: { path: `/p/${i % 40}` }, context: { channel }, timestamp: iso(t) });
  }
  if (cur.length) batches.push(cur);
  for (const batch of batches) {
    const r = await fetch(`${o.url}/v1/batch`, { method: 'POST', headers: { authorization: o.writeAuth, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
    if (r.status !== 200) throw new Error(`batch: ${r.status} ${await r.text()}`);
  }
  // Wait for the identity processor to attribute everything, then let the segment engine and RFM catch up.
  for (;;) {
    const left = await o.rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('profile_id', 'is', null).executeTakeFirstOrThrow();
    if (Number(left.n) === 0) break;
    await sleep(250);
  }
  await o.api('POST', '/api/rfm/recompute');
}

interface Measured {
  ms: number;
  calls: string[];
}

async function firstRender(browser: Browser, url: string, path: string, cookie: string | null, ready: Ready): Promise<Measured> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    if (cookie) await ctx.addCookies([{ name: SESSION_COOKIE, value: cookie, url }]);
    const page = await ctx.newPage();
    const calls: string[] = [];
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/') && r.method() === 'GET') calls.push(u.pathname + u.search);
    });
    await page.goto(url + path, { waitUntil: 'commit' });
    await page.waitForFunction(ready, undefined, { timeout: 60_000, polling: 'raf' });
    const ms = await page.evaluate(() => performance.now());
    return { ms, calls };
  } finally {
    await ctx.close();
  }
}

// Functions, not strings: the dashboard's CSP (script-src 'self') forbids evaluating strings.
type Ready = () => boolean;
const OVERVIEW_READY: Ready = () => {
  const m = document.querySelector('main');
  return !!m && !!m.querySelector('h1') && !m.querySelector('[aria-busy="true"]') && !!m.querySelector('#chart-revenue svg');
};
const PROFILE_READY: Ready = () => {
  const m = document.querySelector('main');
  return !!m && !!m.querySelector('h1') && !m.querySelector('[aria-busy="true"]') && m.querySelectorAll('.tl-item').length > 0;
};
const LOGIN_READY: Ready = () => /Sign in/.test(document.querySelector('h1')?.textContent ?? '') && !!document.querySelector('input[type=password]');

async function apiLatency(o: OmniaAdmin, path: string, cookie: string | null, n: number) {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = monoMs();
    const r = await fetch(o.url + path, { headers: cookie ? { cookie: `${SESSION_COOKIE}=${cookie}` } : {} });
    await r.arrayBuffer();
    if (!r.ok) throw new Error(`${path}: ${r.status}`);
    xs.push(monoMs() - t);
  }
  return dist(xs);
}

export async function benchDashboard(opts: DashboardBenchOptions): Promise<string> {
  const stale = dashboardStale();
  if (stale) {
    log(`building the dashboard (${stale})`);
    await buildDashboard({ quiet: true });
  }
  const js = dashboardSizes().filter((s) => s.file.endsWith('.js'));
  const out: string[] = [`dashboard JS (gzip): ${js.map((s) => `${s.file} ${(s.gzip / 1024).toFixed(1)} kB`).join(', ')}; total ${(js.reduce((a, s) => a + s.gzip, 0) / 1024).toFixed(1)} kB`];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    for (const backend of opts.backends) {
      const dataDir = backend === 'sqlite' ? tempDir('omnia-bench-dashboard-') : undefined;
      const db = backend === 'postgres' ? await createDatabase(opts.pgAdminUrl, 'dashboard') : undefined;
      const o = await startOmniaAdmin(backend, { dataDir, databaseUrl: db?.url });
      try {
        const t0 = monoMs();
        await seed(o, opts.people, opts.events);
        log(`${backend}: seeded ${opts.people.toLocaleString('en-US')} people and one with ${opts.events.toLocaleString('en-US')} events in ${((monoMs() - t0) / 1000).toFixed(1)} s`);
        const owner = await setupFirstOwner(o.rt.store, { email: 'owner@bench.example', password: 'bench-password-1' }, Date.now());
        const { token } = await createSession(o.rt.store, owner.id, DEFAULT_WORKSPACE, Date.now());
        const heavy = await o.api<{ id: string }>('GET', '/api/profiles/lookup?userId=heavy');
        const times = { login: [] as number[], overview: [] as number[], profile: [] as number[] };
        const calls = new Set<string>();
        // One warm-up of each (the server's first queries, Chromium's first start), then alternating measured rounds.
        await firstRender(browser, o.url, '/', token, OVERVIEW_READY);
        await firstRender(browser, o.url, `/customers/${heavy.id}`, token, PROFILE_READY);
        for (let r = 0; r < opts.rounds; r++) {
          times.login.push((await firstRender(browser, o.url, '/login', null, LOGIN_READY)).ms);
          const ov = await firstRender(browser, o.url, '/', token, OVERVIEW_READY);
          times.overview.push(ov.ms);
          const pr = await firstRender(browser, o.url, `/customers/${heavy.id}`, token, PROFILE_READY);
          times.profile.push(pr.ms);
          for (const c of [...ov.calls, ...pr.calls]) calls.add(c);
        }
        const base = median(times.login);
        const row = (name: string, xs: number[]) => [name, fmtMs(median(xs)), fmtMs(Math.min(...xs)), fmtMs(Math.max(...xs)), fmtRatio(median(xs) / base)];
        out.push(
          `\n${backend}: first render in Chromium, median of ${opts.rounds} (fresh context each, cold cache)\n` +
            table(['screen', 'median', 'min', 'max', 'ratio to sign-in page'], [row('sign-in page (baseline)', times.login), row('overview (30 days)', times.overview), row(`profile, ${opts.events.toLocaleString('en-US')} events`, times.profile)]),
        );
        const health = await apiLatency(o, '/health', null, opts.apiRepeats);
        const rows: string[][] = [['GET /health (baseline)', fmtMs(health.p50), fmtMs(health.p99), '1.00']];
        // Query strings carry the period's instants: one entry per distinct path shape is enough.
        const shapes = new Map<string, string>();
        for (const c of calls) shapes.set(c.replace(/\d{10,}/g, 'T').replace(heavy.id, ':id'), c);
        for (const [shape, c] of [...shapes.entries()].sort()) {
          const d = await apiLatency(o, c, token, opts.apiRepeats);
          rows.push([`GET ${shape.length > 70 ? `${shape.slice(0, 67)}...` : shape}`, fmtMs(d.p50), fmtMs(d.p99), fmtRatio(d.p99 / health.p99)]);
        }
        out.push(`\n${backend}: API calls of the overview and the profile, ${opts.apiRepeats} sequential requests each\n` + table(['call', 'p50', 'p99', 'p99 ratio to /health'], rows));
      } finally {
        await o.close();
        if (dataDir) rmDir(dataDir);
        await db?.drop();
      }
    }
  } finally {
    await browser.close();
  }
  return out.join('\n');
}
