// Omnia's own message lifecycle events (Message Sent, Delivered, Opened, Clicked, Bounced, Unsubscribed, Replied…):
// internal rows of the one event log, with the message's channel, so segments ("opened an email in 30 days"), the
// timeline and analytics all read the same facts. Each one queues the person for segment re-evaluation.
import type { Kysely, Transaction } from 'kysely';
import { enqueueSegmentWork } from '../segments/engine.ts';
import type { DB } from '../store/types.ts';
import { insertInternalEvent } from '../identity/graph.ts';

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
  // properties.channel too: segments' engagement conditions filter on it.
  await insertInternalEvent(tx, ws, profileId, event, { ...properties, channel }, at, channel);
  await enqueueSegmentWork(tx, ws, new Map([[profileId, new Set([`i:${event}`])]]), at);
}
