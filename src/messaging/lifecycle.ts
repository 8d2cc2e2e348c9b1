// Omnia's own message lifecycle events (Message Sent, Delivered, Opened, Clicked, Bounced, Unsubscribed, Replied…):
// internal rows of the one event log, with the message's channel, so segments ("opened an email in 30 days"), the
// timeline and analytics all read the same facts. Each one queues the person for segment re-evaluation.
import type { Kysely, Transaction } from 'kysely';
import { enqueueSegmentWork } from '../segments/engine.ts';
import type { DB } from '../store/types.ts';
import { newId } from '../store/ids.ts';
import { toJson } from '../store/json.ts';

type Tx = Transaction<DB> | Kysely<DB>;

export const LIFECYCLE = {
  sent: 'Message Sent',
  delivered: 'Message Delivered',
  opened: 'Message Opened',
  clicked: 'Message Clicked',
  bounced: 'Message Bounced',
  complained: 'Message Complained',
  failed: 'Message Failed',
  unsubscribed: 'Message Unsubscribed',
  replied: 'Message Replied',
  dismissed: 'Message Dismissed',
} as const;

export async function insertLifecycleEvent(
  tx: Tx,
  ws: string,
  profileId: string,
  event: string,
  channel: string,
  properties: Record<string, unknown>,
  at: number,
): Promise<void> {
  await tx
    .insertInto('events')
    .values({
      workspace_id: ws,
      message_id: newId('omnia'),
      profile_id: profileId,
      type: 'track',
      event,
      user_id: null,
      anonymous_id: null,
      channel,
      internal: 1,
      timestamp: at,
      received_at: at,
      properties: toJson(properties),
      traits: '{}',
      context: '{}',
      revenue_minor: null,
      currency: null,
    })
    .execute();
  await enqueueSegmentWork(tx, ws, new Map([[profileId, new Set([`i:${event}`])]]), at);
}
