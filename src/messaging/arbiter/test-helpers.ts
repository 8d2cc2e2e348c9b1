// Builders shared by the arbiter's tests (not part of the public API).
import type { ChannelName } from '../types.ts';
import type { ConsentState, MessageIntent, PersonState } from './arbitrate.ts';
import { type ArbiterPolicy, DEFAULT_CONSENT_REQUIRED } from './policy.ts';

/** '2026-03-04T07:30' (UTC) → ms */
export const utc = (s: string): number => Date.parse(`${s}Z`);

export const BASE_POLICY: ArbiterPolicy = {
  caps: [],
  quietHours: [],
  overCap: 'defer',
  fallbackOrder: ['push', 'sms', 'email'],
  defaultTimeZone: 'UTC',
  quietHoursForTransactional: false,
  consentRequired: { ...DEFAULT_CONSENT_REQUIRED },
};

export const policy = (over: Partial<ArbiterPolicy> = {}): ArbiterPolicy => ({ ...BASE_POLICY, ...over });

export interface PersonSpec extends Partial<Omit<PersonState, 'consent' | 'consentExact'>> {
  /** 'sms' or 'sms:topic' → state; unspecified: 'subscribed' */
  consents?: Record<string, ConsentState>;
  /** exact-topic states for transactional lookups ('sms:topic'); falls back to consents[channel:topic] or 'never_asked' */
  exact?: Record<string, ConsentState>;
}

export function person(spec: PersonSpec = {}): PersonState {
  const { consents = {}, exact, ...rest } = spec;
  const p: PersonState = {
    profileId: 'p1',
    timeZone: 'UTC',
    country: null,
    reachable: { email: true, sms: true, push: true, onsite: true, webhook: true },
    suppressed: {},
    supportOpen: false,
    recent: [],
    consent: (ch: ChannelName, topic: string) => consents[`${ch}:${topic}`] ?? consents[ch] ?? 'subscribed',
    ...rest,
  };
  if (exact) p.consentExact = (ch, topic) => exact[`${ch}:${topic}`] ?? consents[`${ch}:${topic}`] ?? 'never_asked';
  return p;
}

let seq = 0;
export function msg(over: Partial<MessageIntent> = {}): MessageIntent {
  return { id: over.id ?? `m${++seq}`, channel: 'email', topic: 'promo', transactional: false, priority: 50, ...over };
}

/** n marketing sends on a channel at the given UTC times */
export const sent = (channel: ChannelName, ...at: string[]) => at.map((s) => ({ at: utc(s), channel, marketing: true }));
