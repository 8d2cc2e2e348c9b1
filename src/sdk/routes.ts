// The browser SDK, served as written (no build step): GET /sdk/omnia.js and GET /sdk/sw.js (the push service worker
// stores copy to their own origin). Read once at startup; the ETag lets browsers revalidate cheaply after the short
// max-age, so a new Omnia version reaches every store within minutes.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const FILES = ['omnia.js', 'sw.js'].map((name) => {
  const body = readFileSync(new URL(`./${name}`, import.meta.url));
  return { name, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
});

export async function sdkRoutes(app: FastifyInstance): Promise<void> {
  for (const f of FILES) {
    app.get(`/sdk/${f.name}`, { schema: { hide: true } }, async (req, reply) => {
      reply
        .header('content-type', 'application/javascript; charset=utf-8')
        .header('etag', f.etag)
        .header('cache-control', 'public, max-age=300')
        // Lets a store use <script crossorigin integrity=…> (SRI) with it.
        .header('access-control-allow-origin', '*')
        .header('x-content-type-options', 'nosniff');
      const inm = req.headers['if-none-match'];
      if (inm && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === f.etag)) return reply.status(304).send();
      return reply.send(f.body);
    });
  }
}
