// Quiet hours: whether local wall-clock rules forbid an instant, and the first instant at or after a time at which
// none does. Windows are wall-clock windows: on a fall-back night the repeated hour is quiet (or not) both times; on a
// spring-forward night a window ending inside the skipped hour ends at the jump.
import type { ChannelName } from '../types.ts';
import { DAY, MINUTE, isValidTimeZone, nextInstantAtWall, offsetMs, weekdayOfDay } from './local-time.ts';
import { type ArbiterPolicy, type CompiledQuiet, compilePolicy, forbids, quietRulesFor } from './policy.ts';

/** The first rule (in policy order) forbidding the instant, or null. */
export function quietAt(ts: number, rules: readonly CompiledQuiet[], zone: string): CompiledQuiet | null {
  if (rules.length === 0) return null;
  const wall = ts + offsetMs(ts, zone);
  const dayNumber = Math.floor(wall / DAY);
  const weekday = weekdayOfDay(dayNumber);
  const minuteOfDay = Math.floor((wall - dayNumber * DAY) / MINUTE);
  for (const q of rules) if (forbids(q, weekday, minuteOfDay)) return q;
  return null;
}

/** The first instant after `ts` at which rule `q` (forbidding at `ts`) stops forbidding. */
export function windowEnd(q: CompiledQuiet, ts: number, zone: string): number {
  const wall = ts + offsetMs(ts, zone);
  const dayNumber = Math.floor(wall / DAY);
  const minuteOfDay = Math.floor((wall - dayNumber * DAY) / MINUTE);
  const endDay = q.wraps && minuteOfDay >= q.start ? dayNumber + 1 : dayNumber;
  const end = nextInstantAtWall(ts, endDay * DAY + q.end * MINUTE, zone);
  return Number.isNaN(end) || end <= ts ? ts + MINUTE : end;
}

export interface QuietResult {
  /** the first instant ≥ ts at which no rule forbids sending; null if there is none within 8 days */
  at: number | null;
  /** the rule that forbade `ts` itself (null if sending was allowed at ts) */
  rule: CompiledQuiet | null;
  /** every rule that held the message back on the way to `at`, in the order met */
  rules: CompiledQuiet[];
}

/** The first instant ≥ ts at which none of `rules` forbids sending, in `zone`. */
export function nextAllowed(ts: number, rules: readonly CompiledQuiet[], zone: string): QuietResult {
  const first = quietAt(ts, rules, zone);
  if (!first) return { at: ts, rule: null, rules: [] };
  const met: CompiledQuiet[] = [];
  let t = ts;
  for (let i = 0; i < 256; i++) {
    let latest = -Infinity;
    let any = false;
    const wall = t + offsetMs(t, zone);
    const dayNumber = Math.floor(wall / DAY);
    const weekday = weekdayOfDay(dayNumber);
    const minuteOfDay = Math.floor((wall - dayNumber * DAY) / MINUTE);
    for (const q of rules) {
      if (!forbids(q, weekday, minuteOfDay)) continue;
      any = true;
      if (!met.includes(q)) met.push(q);
      const e = windowEnd(q, t, zone);
      if (e > latest) latest = e;
    }
    if (!any) return { at: t, rule: first, rules: met };
    if (latest - ts > 8 * DAY) break;
    t = latest;
  }
  return { at: null, rule: first, rules: met };
}

/**
 * The first instant ≥ ts at which the policy's quiet hours allow sending on `channel` to a person in `timeZone`
 * (invalid or missing: the policy's default zone) and `country`: `ts` itself when sending is allowed then; null when
 * the rules never allow it (validatePolicy rejects such policies).
 */
export function nextAllowedTime(
  ts: number,
  channel: ChannelName,
  where: { timeZone?: string | null; country?: string | null },
  policy: ArbiterPolicy,
): number | null {
  const zone = isValidTimeZone(where.timeZone) ? where.timeZone : policy.defaultTimeZone;
  const country = where.country ? where.country.toUpperCase() : null;
  return nextAllowed(ts, quietRulesFor(compilePolicy(policy), channel, country), zone).at;
}
