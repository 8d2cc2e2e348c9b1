// The HTTP app: composes the domain modules' routes. Each module registers in its own encapsulated scope.
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ingestRoutes } from '../ingest/routes.ts';
import { identityRoutes } from '../identity/routes.ts';
import { profileRoutes } from '../profiles/routes.ts';
import { segmentRoutes } from '../segments/routes.ts';
import { webhookRoutes } from '../webhooks/routes.ts';
import { messagingRoutes } from '../messaging/routes.ts';
import { journeyRoutes } from '../journeys/routes.ts';
import { messagingPublicRoutes } from '../messaging/public-routes.ts';
import { sdkRoutes } from '../sdk/routes.ts';
import { workspaceRoutes } from '../workspaces/routes.ts';
import { authRoutes, userRoutes } from '../access/routes.ts';
import { analyticsRoutes } from '../analytics/routes.ts';
import { requireAdminKey } from './auth.ts';
import { installErrorHandler } from './errors.ts';
import type { Runtime } from './runtime.ts';
import { dashboardPage } from './dashboard.ts';
import { dashboardStatic } from './dashboard-static.ts';

export interface ServerOptions {
  logLevel?: string;
  /** Serve the admin API and dashboard (role api/all). */
  api?: boolean;
}

export async function buildServer(rt: Runtime, opts: ServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logLevel === 'silent' ? false : { level: opts.logLevel ?? 'info' },
    bodyLimit: 1024 * 1024,
    // Signed link tokens (click redirects carry their destination) are path parameters longer than the default 100.
    routerOptions: { maxParamLength: 4096 },
    // Clients retry on network errors; keep idle sockets open for batching clients.
    keepAliveTimeout: 30_000,
    // One log line per request would cost more than the ingestion itself; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Omnia API', version: '0.1.0', description: 'Tracking API (Segment spec) at /v1, admin API at /api.' },
      components: {
        securitySchemes: {
          writeKey: { type: 'http', scheme: 'basic', description: 'Write key as the user name, empty password' },
          adminKey: { type: 'http', scheme: 'bearer', description: 'Admin API key' },
          sessionCookie: { type: 'apiKey', in: 'cookie', name: 'omnia_session', description: 'Dashboard session (POST /api/auth/login); POST/PUT/PATCH/DELETE also need the x-omnia-csrf header' },
        },
      },
    },
  });

  app.get('/health', { schema: { hide: true } }, async () => {
    await rt.store.db.selectFrom('workspaces').select('id').limit(1).execute();
    return { status: 'ok', store: rt.store.dialect, ingestQueue: rt.writer.queued };
  });

  await app.register(async (scope) => ingestRoutes(scope, { store: rt.store, writer: rt.writer, overloaded: () => rt.overloaded?.() ?? false }));

  await app.register(messagingPublicRoutes, { messaging: rt.messaging });
  await app.register(sdkRoutes);

  if (opts.api !== false) {
    await app.register(authRoutes, { prefix: '/api/auth', store: rt.store, now: () => rt.segments.now() });
    await app.register(
      async (api) => {
        api.addHook('onRoute', (route) => {
          route.schema = { ...(route.schema ?? {}), security: [{ adminKey: [] }, { sessionCookie: [] }] };
        });
        requireAdminKey(api, rt.store, { now: () => rt.segments.now() });
        await api.register(workspaceRoutes, { store: rt.store });
        await api.register(userRoutes, { store: rt.store, now: () => rt.segments.now() });
        await api.register(profileRoutes, { store: rt.store });
        await api.register(identityRoutes, { store: rt.store });
        await api.register(segmentRoutes, { store: rt.store, engine: rt.segments });
        await api.register(webhookRoutes, { webhooks: rt.webhooks });
        await api.register(messagingRoutes, { messaging: rt.messaging });
        await api.register(journeyRoutes, { journeys: rt.journeys });
        await api.register(analyticsRoutes, { store: rt.store });
      },
      { prefix: '/api' },
    );
    app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
    await app.register(swaggerUi, { routePrefix: '/api/docs' });
    // The dashboard (dashboard/dist) at / and its client routes; the landing page when it has not been built.
    await app.register(dashboardStatic, { store: rt.store, fallback: dashboardPage });
  }
  return app;
}
