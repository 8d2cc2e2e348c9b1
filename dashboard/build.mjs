#!/usr/bin/env node
// Builds the dashboard (Vite, dashboard/vite.config.mjs) into dashboard/dist, atomically: it builds into a temporary
// folder and swaps it in, so a server never serves half a build and a failed build keeps the previous one.
//
//   node dashboard/build.mjs              build now (exit 1 on failure)
//   node dashboard/build.mjs --if-stale   build only when dist is missing or older than its sources; never fails
//                                         (npm's prestart: a failed build logs and Omnia serves its landing page)
//
// Also writes .gz and .br next to each JS/CSS asset (served by @fastify/static's preCompressed) and reports sizes.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

export const DASHBOARD_DIR = path.dirname(fileURLToPath(import.meta.url));
export const DIST_DIR = path.join(DASHBOARD_DIR, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.mjs', 'build.mjs', 'tsconfig.json'];

function newestMtime(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let max = st.mtimeMs;
  for (const e of fs.readdirSync(p)) max = Math.max(max, newestMtime(path.join(p, e)));
  return max;
}

/** Why the build is stale ('missing', 'sources changed'), or null when dist is up to date. */
export function dashboardStale() {
  let built;
  try {
    built = fs.statSync(path.join(DIST_DIR, 'index.html')).mtimeMs;
  } catch {
    return 'dist is missing';
  }
  const src = Math.max(...SOURCES.map((s) => newestMtime(path.join(DASHBOARD_DIR, s))));
  return src > built ? 'sources changed since the last build' : null;
}

/** Gzip size of every JS and CSS asset, largest first. */
export function dashboardSizes(dir = DIST_DIR) {
  const assets = path.join(dir, 'assets');
  const out = [];
  for (const f of fs.existsSync(assets) ? fs.readdirSync(assets) : []) {
    if (!/\.(js|css)$/.test(f)) continue;
    const buf = fs.readFileSync(path.join(assets, f));
    out.push({ file: f, bytes: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length });
  }
  return out.sort((a, b) => b.gzip - a.gzip);
}

function compress(dir) {
  const assets = path.join(dir, 'assets');
  for (const f of fs.readdirSync(assets)) {
    if (!/\.(js|css|svg)$/.test(f)) continue;
    const p = path.join(assets, f);
    const buf = fs.readFileSync(p);
    fs.writeFileSync(`${p}.gz`, zlib.gzipSync(buf, { level: 9 }));
    fs.writeFileSync(`${p}.br`, zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }));
  }
}

/** Builds into a temporary folder, then swaps it in for dist. Resolves with the asset sizes. */
export async function buildDashboard({ quiet = false } = {}) {
  const { build } = await import('vite');
  const tmp = path.join(DASHBOARD_DIR, `.build-${process.pid}-${Date.now()}`);
  // Always a production build (React's production runtime), even from a test runner that set NODE_ENV=test.
  const env = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: path.join(DASHBOARD_DIR, 'vite.config.mjs'),
      mode: 'production',
      define: { 'process.env.NODE_ENV': JSON.stringify('production') },
      build: { outDir: tmp, emptyOutDir: true },
      logLevel: quiet ? 'error' : 'warn',
    });
    compress(tmp);
    const old = `${DIST_DIR}.old-${process.pid}`;
    if (fs.existsSync(DIST_DIR)) fs.renameSync(DIST_DIR, old);
    fs.renameSync(tmp, DIST_DIR);
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    if (env === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = env;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return dashboardSizes();
}

const kb = (n) => `${(n / 1024).toFixed(1)} kB`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  const started = Date.now();
  try {
    const why = dashboardStale();
    if (ifStale && !why) process.exit(0);
    console.log(`dashboard: building (${why ?? 'requested'})…`);
    const sizes = await buildDashboard();
    const js = sizes.filter((s) => s.file.endsWith('.js'));
    console.log(`dashboard: built in ${((Date.now() - started) / 1000).toFixed(1)} s; JS ${kb(js.reduce((a, s) => a + s.gzip, 0))} gzip in ${js.length} chunks`);
    for (const s of sizes) console.log(`  ${s.file.padEnd(40)} ${kb(s.bytes).padStart(10)}  ${kb(s.gzip).padStart(9)} gzip`);
  } catch (err) {
    console.error(`dashboard: build failed: ${err?.message ?? err}`);
    if (!ifStale) process.exit(1);
    console.error('dashboard: Omnia will serve its landing page at / until the dashboard builds (npm run build:dashboard)');
  }
}
