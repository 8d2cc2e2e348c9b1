// GET /api/analytics/overview: the dashboard overview's figures for a period (see overview.ts).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { Store } from '../store/db.ts';
import { badRequest } from '../app/errors.ts';
import { overview } from './overview.ts';

const MAX_DAYS = 400;

export const OverviewQuery = Type.Object(
  {
    from: Type.Integer({ minimum: 0, description: 'start of the period (ms since the epoch, inclusive)' }),
    to: Type.Integer({ minimum: 1, description: 'end of the period (ms since the epoch, exclusive)' }),
    offset: Type.Optional(Type.Integer({ minimum: -840, maximum: 840, default: 0, description: 'minutes east of UTC for the daily buckets' })),
  },
  { additionalProperties: false },
);

export async function analyticsRoutes(app: FastifyInstance, opts: { store: Store }) {
  app.get(
    '/analytics/overview',
    {
      schema: {
        tags: ['analytics'],
        summary: 'Revenue and orders by channel and by attributed message channel, active and multi-channel customers, messages per channel, journey conversions',
        querystring: OverviewQuery,
      },
    },
    async (req) => {
      const q = req.query as { from: number; to: number; offset?: number };
      if (q.to <= q.from) throw badRequest('to must be after from', 'querystring.to');
      if (q.to - q.from > MAX_DAYS * 24 * 3600_000) throw badRequest(`the period is at most ${MAX_DAYS} days`, 'querystring.from');
      return overview(opts.store, req.workspaceId, { from: q.from, to: q.to, offsetMin: q.offset ?? 0 });
    },
  );
}
