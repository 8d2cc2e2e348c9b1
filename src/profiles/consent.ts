// Consent per channel and per topic: subscribed / unsubscribed / never asked, with its source and time. Kept per
// profile row (a merged cluster reads the newest per channel+topic), and every change goes into the timeline.
import type { Kysely, Transaction } from 'kysely';
import { insertInternalEvent } from '../identity/graph.ts';
import type { DB } from '../store/types.ts';

type Tx = Transaction<DB> | Kysely<DB>;

export const CONSENT_CHANNELS = ['email', 'sms', 'push', 'webpush', 'whatsapp', 'messenger', 'instagram', 'onsite', 'voice'] as const;
export const CONSENT_STATES = ['subscribed', 'unsubscribed', 'never_asked'] as const;
export type ConsentState = (typeof CONSENT_STATES)[number];
/** A consent given without a topic applies to every topic of the channel. */
export const ALL_TOPICS = 'all';

export interface ConsentChange {
  channel: string;
  topic: string;
  state: ConsentState;
}

/** Pure: reads `traits.consent` ({ email: 'subscribed', sms: { marketing: 'unsubscribed' } }) into changes. */
export function parseConsentTraits(value: unknown): ConsentChange[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: ConsentChange[] = [];
  for (const [channel, v] of Object.entries(value as Record<string, unknown>)) {
    if (!(CONSENT_CHANNELS as readonly string[]).includes(channel)) continue;
    if (typeof v === 'string' || typeof v === 'boolean') {
      const s = toState(v);
      if (s) out.push({ channel, topic: ALL_TOPICS, state: s });
    } else if (v && typeof v === 'object') {
      for (const [topic, tv] of Object.entries(v as Record<string, unknown>)) {
        const s = toState(tv);
        if (s && /^[a-z0-9_-]{1,64}$/i.test(topic)) out.push({ channel, topic, state: s });
      }
    }
  }
  return out;
}

function toState(v: unknown): ConsentState | null {
  if (v === true) return 'subscribed';
  if (v === false) return 'unsubscribed';
  return typeof v === 'string' && (CONSENT_STATES as readonly string[]).includes(v) ? (v as ConsentState) : null;
}

export async function setConsent(tx: Tx, ws: string, profileId: string, change: ConsentChange, at: number, source: string): Promise<boolean> {
  const prev = await tx
    .selectFrom('consents')
    .select(['state', 'updated_at'])
    .where('workspace_id', '=', ws)
    .where('profile_id', '=', profileId)
    .where('channel', '=', change.channel)
    .where('topic', '=', change.topic)
    .executeTakeFirst();
  if (prev && prev.updated_at > at) return false; // an older event arriving late does not undo a newer choice
  if (prev?.state === change.state) return false;
  await tx
    .insertInto('consents')
    .values({ workspace_id: ws, profile_id: profileId, channel: change.channel, topic: change.topic, state: change.state, source, updated_at: at })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'profile_id', 'channel', 'topic']).doUpdateSet({ state: change.state, source, updated_at: at }),
    )
    .execute();
  await insertInternalEvent(tx, ws, profileId, 'Consent Changed', { ...change, previous: prev?.state ?? 'never_asked', source }, at);
  return true;
}

export async function applyConsentTraits(tx: Tx, ws: string, profileId: string, value: unknown, at: number, source: string): Promise<void> {
  for (const c of parseConsentTraits(value)) await setConsent(tx, ws, profileId, c, at, source);
}
