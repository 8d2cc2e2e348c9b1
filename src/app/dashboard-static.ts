// Serves the marketer's dashboard (the React app in dashboard/, built by Vite into dashboard/dist) at `/`, with
// index.html for every client route so deep links and reloads work. Hashed assets are immutable (and pre-compressed
// .br/.gz siblings, written by dashboard/build.mjs, are used when the browser accepts them). The API under /api is
// untouched. Without a build (a production install without dev dependencies, or a failed build) `/` answers with the
// landing page given as the fallback; the check is per request, so a build made while the server runs is picked up.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Store } from '../store/db.ts';

export const DASHBOARD_DIST = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

/** The SPA's client routes (each also with sub-paths). Anything else keeps the API's own 404. */
export const CLIENT_ROUTES = ['/login', '/setup', '/customers', '/segments', '/journeys', '/playbooks', '/templates', '/broadcasts', '/settings'];

export interface DashboardOptions {
  /** First-run detection: when no user exists yet, index.html tells the app to show the owner setup form. */
  store: Store;
  /** The page served at / (and client routes) when no build exists. */
  fallback: () => string;
  /** dashboard/dist by default. */
  dir?: string;
}

// Same-origin scripts only (Vite emits no inline script); inline styles are used by the canvas and charts. Email
// previews render in a sandboxed srcdoc iframe, which inherits this policy: remote images and fonts are allowed.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline' https:",
  "img-src 'self' data: blob: https: http:",
  "font-src 'self' data: https:",
  "connect-src 'self'",
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export async function dashboardStatic(app: FastifyInstance, opts: DashboardOptions): Promise<void> {
  const dir = opts.dir ?? DASHBOARD_DIST;
  const indexFile = path.join(dir, 'index.html');
  let cached: { mtimeMs: number; html: string } | null = null;

  const readIndex = (): string | null => {
    try {
      const st = fs.statSync(indexFile);
      if (!cached || cached.mtimeMs !== st.mtimeMs) cached = { mtimeMs: st.mtimeMs, html: fs.readFileSync(indexFile, 'utf8') };
      return cached.html;
    } catch {
      cached = null;
      return null;
    }
  };

  const serveIndex = async (reply: FastifyReply) => {
    const html = readIndex();
    if (html === null) return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(opts.fallback());
    const anyUser = await opts.store.db.selectFrom('users').select('id').limit(1).executeTakeFirst();
    const setup = anyUser ? 'done' : 'required';
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .send(html.replace('<meta name="omnia-setup" content="">', `<meta name="omnia-setup" content="${setup}">`));
  };

  await app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: path.join(dir, 'assets'),
      prefix: '/assets/',
      decorateReply: false,
      // File names carry a content hash: cache them for good.
      immutable: true,
      maxAge: '365d',
      preCompressed: true,
      index: false,
      // No build yet is a normal state (the landing page is served): no warning about the missing folder.
      suppressWarning: true,
    });
  });

  const hide = { schema: { hide: true } };
  app.get('/', hide, async (_req, reply) => serveIndex(reply));
  for (const r of CLIENT_ROUTES) {
    app.get(r, hide, async (_req, reply) => serveIndex(reply));
    app.get(`${r}/*`, hide, async (_req, reply) => serveIndex(reply));
  }
}
