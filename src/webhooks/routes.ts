// Admin endpoints for outbound webhooks: subscriptions, secret rotation, test pings, the delivery log, redelivery.
// Bodies are checked by parseSubscriptionInput / WebhookService (which name the failing field, e.g. `url` or
// `events.1`); the TypeBox schemas document them in the OpenAPI spec.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { FastifyRequest } from 'fastify';
import { isInstanceAdmin } from '../app/auth.ts';
import { HttpError } from '../app/errors.ts';
import { webhookEventTypes } from './events.ts';
import { type SubscriptionInput, type WebhookService, parseSubscriptionInput } from './service.ts';

const tags = ['webhooks'];
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), deliveryId: Type.String({ minLength: 1, maxLength: 100 }) });
const Body = Type.Object(
  {
    url: Type.String({ maxLength: 2048, description: 'https URL (http only with allowPrivateNetwork)' }),
    events: Type.Array(Type.String(), { minItems: 1, maxItems: 50, description: "Event types or families: 'segment.entered', 'segment.left', 'segment.*' (GET /api/webhooks/event-types)" }),
    segmentIds: Type.Optional(Type.Union([Type.Array(Type.String(), { minItems: 1, maxItems: 100 }), Type.Null()], { description: 'Only events of these segments (segment.* types); null or absent for all' })),
    enabled: Type.Optional(Type.Boolean({ default: true })),
    allowPrivateNetwork: Type.Optional(Type.Boolean({ default: false, description: 'Allow loopback/private/link-local destinations and plain http (development only)' })),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
const Rotate = Type.Object(
  { graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400, default: 86_400, description: 'How long the old secret keeps signing too' })) },
  { additionalProperties: false },
);

export async function webhookRoutes(app: FastifyInstance, { webhooks }: { webhooks: WebhookService }): Promise<void> {
  const noValidation = { validatorCompiler: () => () => true };
  const idOf = (req: { params: unknown }) => (req.params as { id: string }).id;
  // Private-network destinations reach the Omnia host's own network: on a shared instance, only its operators (admin
  // keys of the default workspace) may allow them, never a tenant.
  const input = (req: FastifyRequest, partial: boolean): SubscriptionInput => {
    const i = parseSubscriptionInput(req.body, partial);
    if (i.allowPrivateNetwork && !isInstanceAdmin(req)) {
      throw new HttpError(403, 'forbidden', 'only instance admins (admin keys of the default workspace) can allow private-network destinations', 'allowPrivateNetwork');
    }
    return i;
  };

  app.get('/webhooks/event-types', { schema: { tags, summary: 'Event types a webhook can subscribe to' } }, async () => ({
    eventTypes: webhookEventTypes().map((t) => ({ type: t.type, description: t.description })),
  }));

  app.get('/webhooks', { schema: { tags, summary: 'Webhook subscriptions of this workspace' } }, async (req) => ({ webhooks: await webhooks.list(req.workspaceId) }));

  app.post('/webhooks', { schema: { tags, summary: 'Create a webhook; the signing secret (whsec_…) is returned this once', body: Body }, ...noValidation }, async (req, reply) => {
    const created = await webhooks.create(req.workspaceId, input(req, false));
    reply.status(201);
    return created;
  });

  app.get('/webhooks/:id', { schema: { tags, summary: 'A webhook subscription', params: IdParams } }, async (req) => webhooks.get(req.workspaceId, idOf(req)));

  app.patch('/webhooks/:id', { schema: { tags, summary: 'Change a webhook (enabling it again clears the disabled reason)', params: IdParams, body: Type.Partial(Body) }, ...noValidation }, async (req) =>
    webhooks.update(req.workspaceId, idOf(req), input(req, true)),
  );

  app.delete('/webhooks/:id', { schema: { tags, summary: 'Delete a webhook and its delivery log', params: IdParams } }, async (req) => {
    await webhooks.remove(req.workspaceId, idOf(req));
    return { deleted: idOf(req) };
  });

  app.post('/webhooks/:id/rotate-secret', { schema: { tags, summary: 'New signing secret (returned once); the old one keeps signing during the grace period', params: IdParams, body: Rotate }, ...noValidation }, async (req) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b !== 'object' || Array.isArray(b)) throw new HttpError(400, 'invalid_request', 'body must be a JSON object', '(body)');
    for (const k of Object.keys(b)) if (k !== 'graceSeconds') throw new HttpError(400, 'invalid_request', `unknown field ${k}`, k);
    const grace = b.graceSeconds ?? 86_400;
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0 || grace > 7 * 86_400) {
      throw new HttpError(400, 'invalid_request', 'graceSeconds must be an integer from 0 to 604800', 'graceSeconds');
    }
    return webhooks.rotateSecret(req.workspaceId, idOf(req), grace * 1000);
  });

  app.post('/webhooks/:id/test', { schema: { tags, summary: 'Send a webhook.ping now and answer with the attempt', params: IdParams } }, async (req) => ({
    delivery: await webhooks.test(req.workspaceId, idOf(req)),
  }));

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        tags,
        summary: 'Deliveries, newest first, each with its attempts (status code, error, duration)',
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
          cursor: Type.Optional(Type.String({ maxLength: 100 })),
          status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed'), Type.Literal('cancelled')])),
        }),
      },
    },
    async (req) => {
      const q = req.query as { limit?: number; cursor?: string; status?: string };
      return webhooks.deliveries(req.workspaceId, idOf(req), { limit: q.limit ?? 20, cursor: q.cursor, status: q.status });
    },
  );

  app.get('/webhooks/:id/deliveries/:deliveryId', { schema: { tags, summary: 'One delivery with its attempts', params: DeliveryParams } }, async (req) => {
    const p = req.params as { id: string; deliveryId: string };
    return webhooks.delivery(req.workspaceId, p.id, p.deliveryId);
  });

  app.post('/webhooks/:id/deliveries/:deliveryId/retry', { schema: { tags, summary: 'Send a delivery again now (one more attempt)', params: DeliveryParams } }, async (req) => {
    const p = req.params as { id: string; deliveryId: string };
    return { delivery: await webhooks.redeliver(req.workspaceId, p.id, p.deliveryId) };
  });
}
