// Channel resolution with the per-channel eligibility checks (reachability, suppression, consent). For a named channel
// the first failing check is the decision; for 'best' the person's preferred channel is tried first, then the
// policy's fallback order, and the first eligible channel wins (the others' reasons go into the decision's reason).
import type { ChannelName } from '../types.ts';
import { type ArbiterPolicy, DEFAULT_CONSENT_REQUIRED } from './policy.ts';
import type { MessageIntent, PersonState, SkipCode } from './arbitrate.ts';

export type Resolution =
  | { skip: null; channel: ChannelName; reroutedFrom?: ChannelName; note: string }
  | { skip: { code: SkipCode; why: string }; channel?: undefined; reroutedFrom?: undefined; note?: undefined };

interface Ineligible {
  code: SkipCode;
  why: string;
}

/** Why a channel cannot carry the message for this person, or null if it can. */
export function ineligible(channel: ChannelName, msg: MessageIntent, person: PersonState, policy: ArbiterPolicy): Ineligible | null {
  if (msg.exclude && msg.exclude.includes(channel)) return { code: 'no_channel', why: `${channel} was already tried (excluded)` };
  if (person.reachable[channel] !== true) return { code: 'unreachable', why: `${channel} is not reachable (no address, or an expired subscription)` };
  const sup = person.suppressed[channel];
  if (sup !== undefined && sup !== null) return { code: 'suppressed', why: `${channel} is suppressed (${sup || 'no reason given'})` };
  if (msg.transactional) {
    const state = (person.consentExact ?? person.consent)(channel, msg.topic);
    if (state === 'unsubscribed') return { code: 'unsubscribed', why: `unsubscribed from "${msg.topic}" on ${channel}` };
    return null;
  }
  const state = person.consent(channel, msg.topic);
  if (state === 'unsubscribed') return { code: 'unsubscribed', why: `unsubscribed from "${msg.topic}" on ${channel}` };
  if (state !== 'subscribed' && (policy.consentRequired?.[channel] ?? DEFAULT_CONSENT_REQUIRED[channel]) === 'subscribed') {
    return { code: 'no_consent', why: `marketing ${channel} needs an explicit opt-in to "${msg.topic}" (consent: ${state})` };
  }
  return null;
}

export function resolveChannel(msg: MessageIntent, person: PersonState, policy: ArbiterPolicy): Resolution {
  if (msg.channel !== 'best') {
    const bad = ineligible(msg.channel, msg, person, policy);
    if (bad) return { skip: bad };
    return { skip: null, channel: msg.channel, note: '' };
  }
  const pref = person.preferredChannel ?? null;
  const candidates: ChannelName[] = pref ? [pref] : [];
  for (const c of policy.fallbackOrder) if (c !== pref) candidates.push(c);
  const rejected: string[] = [];
  for (const c of candidates) {
    const bad = ineligible(c, msg, person, policy);
    if (bad) {
      rejected.push(bad.why);
      continue;
    }
    const first = candidates[0]!;
    if (c === first) return { skip: null, channel: c, note: pref ? ` (best: the preferred channel)` : ` (best: first in the fallback order)` };
    const from = pref ? `the preferred channel ${first}` : first;
    return { skip: null, channel: c, reroutedFrom: first, note: `; best channel rerouted from ${from} to ${c}: ${rejected.join('; ')}` };
  }
  return { skip: { code: 'no_channel', why: `no channel can carry it (best: ${candidates.join(' → ')}): ${rejected.join('; ')}` } };
}
