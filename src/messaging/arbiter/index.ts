// The arbiter's public face: one decision point per person for every outbound message (pure logic, no I/O).
//
// arbitrate(pending, person, policy, now) decides one person's batch, highest priority first (then earlier
// notBefore, then id); decisions come back in `pending` order. Per message:
//   1. channel: a named channel must be reachable (else skip 'unreachable') and not excluded (else 'no_channel');
//      'best' tries the preferred channel, then policy.fallbackOrder, skipping excluded / unreachable / suppressed /
//      not-consented channels (reroutedFrom = the first choice when another one is chosen; 'no_channel' if none);
//   2. suppression ('suppressed', all messages);  3. consent (marketing: 'unsubscribed' blocks, and channels whose
//      policy.consentRequired is 'subscribed' — SMS by default — need 'subscribed', else 'no_consent'; transactional:
//      only an unsubscribe from that exact topic, via person.consentExact when given);
//   4. support conversation open: marketing skipped ('support_open');
//   5. caps (marketing): recent marketing sends + this batch's sends in the person's local day / Monday-based week;
//      full → defer to the next local period start ('defer') or skip 'over_cap' ('drop'); a cap of 0 always skips;
//   6. quiet hours ('all' + channel rules, country-restricted ones only for that country; transactional only with
//      quietHoursForTransactional) → defer to the first instant no rule forbids;
//   steps 5–6 repeat from max(now, notBefore) until both allow: send if that is now, else defer until then.
export { arbitrate } from './arbitrate.ts';
export type { ConsentState, Decision, MessageIntent, PersonState, SkipCode } from './arbitrate.ts';
export { DEFAULT_CONSENT_REQUIRED, DEFAULT_POLICY, validatePolicy } from './policy.ts';
export type { ArbiterPolicy, Cap, ConsentRule, PolicyError, PolicyResult, QuietHours } from './policy.ts';
export { nextAllowedTime } from './quiet.ts';
export { formatLocal, isValidTimeZone, localParts, possibleInstants, zonedTimeToUtc } from './local-time.ts';
export type { LocalParts } from './local-time.ts';
