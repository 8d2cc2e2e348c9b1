// Loads what the arbiter needs to know about one person (their addresses, consent, suppressions, time zone, what was
// already sent to them on every channel) from the store, and what a template may read about them.
import type { Kysely, Transaction } from 'kysely';
import { readProfile, type ProfileView } from '../profiles/read.ts';
import type { DB } from '../store/types.ts';
import { fromJson } from '../store/json.ts';
import type { ConsentState, PersonState } from './arbiter/index.ts';
import type { ChannelName, PushSubscriptionJson } from './types.ts';

type Tx = Transaction<DB> | Kysely<DB>;

/** Caps look back at most a week (and a day of zone slack). */
export const RECENT_WINDOW_MS = 8 * 86_400_000;

/** Which consent channels speak for a message channel (web push consent may be stored as 'push' or 'webpush'). */
const CONSENT_CHANNELS: Record<ChannelName, string[]> = {
  email: ['email'],
  sms: ['sms'],
  push: ['push', 'webpush'],
  onsite: ['onsite'],
  webhook: ['webhook'],
};

export interface LoadedPerson {
  state: PersonState;
  profile: ProfileView;
  email: string | null;
  phone: string | null;
  push: PushSubscriptionJson[];
}

/** Push subscriptions kept per person (older ones are dropped when a new device subscribes). */
export const MAX_PUSH_DEVICES = 10;

const SUPPORT_TRAIT = 'support_open';
const PREFERRED_TRAIT = 'preferred_channel';

function countryOf(traits: Record<string, unknown>): string | null {
  const direct = traits.country;
  const nested = traits.address && typeof traits.address === 'object' ? (traits.address as Record<string, unknown>).country : undefined;
  const c = typeof direct === 'string' ? direct : typeof nested === 'string' ? nested : null;
  return c && /^[A-Za-z]{2}$/.test(c) ? c.toUpperCase() : null;
}

export async function loadPerson(db: Tx, ws: string, canonicalId: string, now: number): Promise<LoadedPerson | null> {
  const profile = await readProfile(db as Kysely<DB>, ws, canonicalId, { activity: false });
  if (!profile) return null;
  const ids = [profile.id, ...profile.mergedProfileIds.filter((p) => p !== profile.id)];
  const email = profile.identifiers.find((i) => i.kind === 'email')?.value ?? null;
  const phone = profile.identifiers.find((i) => i.kind === 'phone')?.value ?? null;
  const [pushRows, suppressions, recent] = await Promise.all([
    // The newest devices only: a push costs one request per device.
    db.selectFrom('push_subscriptions').select(['endpoint', 'keys']).where('workspace_id', '=', ws).where('profile_id', 'in', ids).orderBy('created_at', 'desc').limit(MAX_PUSH_DEVICES).execute(),
    db
      .selectFrom('suppressions')
      .select(['channel', 'address', 'reason'])
      .where('workspace_id', '=', ws)
      .where((eb) =>
        eb.or([
          eb.and([eb('channel', '=', 'email'), eb('address', '=', email ?? '')]),
          eb.and([eb('channel', '=', 'sms'), eb('address', '=', phone ?? '')]),
        ]),
      )
      .execute(),
    db
      .selectFrom('messages')
      .select(['channel', 'sent_at', 'transactional'])
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', ids)
      .where('status', 'in', ['sending', 'sent', 'delivered'])
      .where('sent_at', '>', now - RECENT_WINDOW_MS)
      .execute(),
  ]);
  const push = pushRows.map((r) => ({ endpoint: r.endpoint, keys: fromJson<PushSubscriptionJson['keys']>(r.keys) }));
  const consentBy = new Map(profile.channels.map((c) => [c.channel, c.consent]));
  const consent = (channel: ChannelName, topic: string): ConsentState => {
    // The newest explicit choice wins: the topic's own or the channel-wide one ("unsubscribe from everything" after
    // a topic subscription stops that topic too; a topic subscription after a global opt-out re-opens just it).
    let best: { state: string; updatedAt: number } | null = null;
    for (const name of CONSENT_CHANNELS[channel]) {
      const c = consentBy.get(name);
      for (const pick of [c?.[topic], c?.all && c.all.source !== 'none' ? c.all : undefined]) {
        if (pick && (!best || pick.updatedAt > best.updatedAt)) best = pick;
      }
    }
    return (best?.state as ConsentState | undefined) ?? 'never_asked';
  };
  // Transactional messages: only a choice about that exact topic counts (a global marketing opt-out does not stop
  // a receipt).
  const consentExact = (channel: ChannelName, topic: string): ConsentState => {
    let best: { state: string; updatedAt: number } | null = null;
    for (const name of CONSENT_CHANNELS[channel]) {
      const pick = consentBy.get(name)?.[topic];
      if (pick && (!best || pick.updatedAt > best.updatedAt)) best = pick;
    }
    return (best?.state as ConsentState | undefined) ?? 'never_asked';
  };
  const suppressed: PersonState['suppressed'] = {};
  for (const s of suppressions) suppressed[s.channel as ChannelName] = s.reason;
  const preferred = profile.traits[PREFERRED_TRAIT];
  const state: PersonState = {
    profileId: profile.id,
    timeZone: profile.timeZone,
    country: countryOf(profile.traits),
    reachable: { email: !!email, sms: !!phone, push: push.length > 0, onsite: true, webhook: true },
    consent,
    consentExact,
    suppressed,
    supportOpen: profile.traits[SUPPORT_TRAIT] === true,
    preferredChannel: typeof preferred === 'string' && ['email', 'sms', 'push', 'onsite', 'webhook'].includes(preferred) ? (preferred as ChannelName) : null,
    recent: recent.filter((r) => r.channel).map((r) => ({ at: Number(r.sent_at), channel: r.channel as ChannelName, marketing: r.transactional === 0 })),
  };
  return { state, profile, email, phone, push };
}
