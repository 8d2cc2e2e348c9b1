// Helpers shared by the messaging tests: make a person through the tracking API, and send through the admin API.
import { expect } from 'vitest';
import type { TestOmnia } from '../helpers.ts';

export function messagingHelpers(omnia: () => TestOmnia, clock: () => number) {
  return {
    /** identify → settle → the person's profile id. */
    async person(userId: string, traits: Record<string, unknown>, timezone = 'Europe/London'): Promise<string> {
      const o = omnia();
      expect((await o.track('/v1/identify', { userId, traits, context: { timezone }, timestamp: new Date(clock()).toISOString() })).status).toBe(200);
      await o.settle();
      const r = await o.api('GET', `/api/profiles/lookup?userId=${encodeURIComponent(userId)}`);
      expect(r.status).toBe(200);
      return r.body.id as string;
    },
    /** POST /api/messages, expecting 202; the message id. */
    async send(body: Record<string, unknown>): Promise<string> {
      const r = await omnia().api('POST', '/api/messages', body);
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      return r.body.id as string;
    },
  };
}
