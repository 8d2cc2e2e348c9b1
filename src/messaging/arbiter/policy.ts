// The arbiter's policy: frequency caps, quiet hours, consent rules and channel fallback, as a workspace configures
// them; its validation (every error names the field); and its compiled form (parsed windows), cached per policy object.
import { CHANNELS, type ChannelName } from '../types.ts';
import { isValidTimeZone } from './local-time.ts';

/** A frequency cap on MARKETING messages; day/week are the person's local calendar (weeks start on Monday). */
export interface Cap {
  scope: 'all' | ChannelName;
  period: 'day' | 'week';
  /** Messages allowed in the period; 0 = none on that scope. */
  max: number;
}

/**
 * A window during which messages on `channel` must not be sent, in the person's local time. `start`/`end` are
 * 'HH:MM' ('24:00' allowed as an end); a window with end < start wraps midnight (21:00–08:00). `days` (0 = Sunday ..
 * 6 = Saturday) restricts the rule to windows STARTING on those local days (a Friday 21:00–08:00 window covers
 * Saturday morning); `countries` (ISO 3166 alpha-2) restricts it to people in those countries.
 */
export interface QuietHours {
  channel: 'all' | ChannelName;
  start: string;
  end: string;
  countries?: string[];
  days?: number[];
}

export type ConsentRule = 'subscribed' | 'not_unsubscribed';

export interface ArbiterPolicy {
  caps: Cap[];
  quietHours: QuietHours[];
  /** What happens to a marketing message that does not fit under a cap: wait for the next period, or skip it. */
  overCap: 'defer' | 'drop';
  /** Channels tried, in order, for channel 'best' (after the person's preferred channel). */
  fallbackOrder: ChannelName[];
  /** Used when the person has no (valid) time zone: the workspace's zone. */
  defaultTimeZone: string;
  /** Whether quiet hours hold back transactional messages too (default false). */
  quietHoursForTransactional: boolean;
  /**
   * Consent a MARKETING message needs per channel: 'subscribed' (explicit opt-in) or 'not_unsubscribed' (soft
   * opt-in: 'never_asked' is enough). Transactional messages are only blocked by 'unsubscribed' for their topic.
   */
  consentRequired: Record<ChannelName, ConsentRule>;
}

export const DEFAULT_CONSENT_REQUIRED: Readonly<Record<ChannelName, ConsentRule>> = Object.freeze({
  email: 'not_unsubscribed',
  sms: 'subscribed',
  push: 'not_unsubscribed',
  onsite: 'not_unsubscribed',
  webhook: 'not_unsubscribed',
});

export const DEFAULT_POLICY: ArbiterPolicy = Object.freeze({
  caps: Object.freeze([
    Object.freeze({ scope: 'all', period: 'day', max: 3 }),
    Object.freeze({ scope: 'all', period: 'week', max: 10 }),
  ]) as Cap[],
  quietHours: Object.freeze([
    Object.freeze({ channel: 'sms', start: '21:00', end: '08:00' }),
    Object.freeze({ channel: 'push', start: '22:00', end: '08:00' }),
  ]) as QuietHours[],
  overCap: 'defer',
  fallbackOrder: Object.freeze(['push', 'sms', 'email']) as ChannelName[],
  defaultTimeZone: 'UTC',
  quietHoursForTransactional: false,
  consentRequired: DEFAULT_CONSENT_REQUIRED as Record<ChannelName, ConsentRule>,
}) as ArbiterPolicy;

export interface PolicyError {
  field: string;
  message: string;
}

export type PolicyResult = { ok: true; value: ArbiterPolicy } | { ok: false; errors: PolicyError[] };

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes of the day of 'HH:MM' (and '24:00' when allowed), or null. */
export function parseHHMM(s: unknown, allow24 = false): number | null {
  if (typeof s !== 'string') return null;
  if (allow24 && s === '24:00') return 1440;
  const m = HHMM.exec(s);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

function isChannel(x: unknown): x is ChannelName {
  return typeof x === 'string' && (CHANNELS as readonly string[]).includes(x);
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const POLICY_KEYS = ['caps', 'quietHours', 'overCap', 'fallbackOrder', 'defaultTimeZone', 'quietHoursForTransactional', 'consentRequired'];

/**
 * Checks a policy as a workspace stores it. Missing fields take DEFAULT_POLICY's values (so `{ caps: [] }` is a valid
 * policy with the default quiet hours); unknown fields are errors. Every error names its field ("quietHours[1].start").
 */
export function validatePolicy(input: unknown): PolicyResult {
  const errors: PolicyError[] = [];
  const err = (field: string, message: string) => errors.push({ field, message });
  if (!isPlainObject(input)) return { ok: false, errors: [{ field: '', message: 'policy must be an object' }] };
  for (const k of Object.keys(input)) if (!POLICY_KEYS.includes(k)) err(k, `unknown field "${k}"`);

  const caps: Cap[] = [];
  const rawCaps = input.caps ?? DEFAULT_POLICY.caps;
  if (!Array.isArray(rawCaps)) err('caps', 'must be an array');
  else {
    const seen = new Map<string, number>();
    rawCaps.forEach((c: unknown, i) => {
      const f = `caps[${i}]`;
      if (!isPlainObject(c)) return err(f, 'must be an object');
      for (const k of Object.keys(c)) if (!['scope', 'period', 'max'].includes(k)) err(`${f}.${k}`, `unknown field "${k}"`);
      let ok = true;
      if (c.scope !== 'all' && !isChannel(c.scope)) {
        err(`${f}.scope`, `must be "all" or a channel (${CHANNELS.join(', ')}), got ${JSON.stringify(c.scope)}`);
        ok = false;
      }
      if (c.period !== 'day' && c.period !== 'week') {
        err(`${f}.period`, `must be "day" or "week", got ${JSON.stringify(c.period)}`);
        ok = false;
      }
      if (typeof c.max !== 'number' || !Number.isInteger(c.max) || c.max < 0) {
        err(`${f}.max`, `must be a whole number ≥ 0, got ${JSON.stringify(c.max)}`);
        ok = false;
      }
      if (!ok) return;
      const key = `${String(c.scope)}/${String(c.period)}`;
      const prev = seen.get(key);
      if (prev !== undefined) err(f, `duplicate cap: caps[${prev}] already limits ${String(c.scope)} per ${String(c.period)}`);
      else seen.set(key, i);
      caps.push({ scope: c.scope as Cap['scope'], period: c.period as Cap['period'], max: c.max as number });
    });
  }

  const quietHours: QuietHours[] = [];
  const rawQuiet = input.quietHours ?? DEFAULT_POLICY.quietHours;
  if (!Array.isArray(rawQuiet)) err('quietHours', 'must be an array');
  else {
    rawQuiet.forEach((q: unknown, i) => {
      const f = `quietHours[${i}]`;
      if (!isPlainObject(q)) return err(f, 'must be an object');
      for (const k of Object.keys(q)) if (!['channel', 'start', 'end', 'countries', 'days'].includes(k)) err(`${f}.${k}`, `unknown field "${k}"`);
      let ok = true;
      if (q.channel !== 'all' && !isChannel(q.channel)) {
        err(`${f}.channel`, `must be "all" or a channel (${CHANNELS.join(', ')}), got ${JSON.stringify(q.channel)}`);
        ok = false;
      }
      const s = parseHHMM(q.start);
      const e = parseHHMM(q.end, true);
      if (s === null) {
        err(`${f}.start`, `must be a time "HH:MM" (00:00–23:59), got ${JSON.stringify(q.start)}`);
        ok = false;
      }
      if (e === null) {
        err(`${f}.end`, `must be a time "HH:MM" (00:00–24:00), got ${JSON.stringify(q.end)}`);
        ok = false;
      }
      if (s !== null && e !== null && s === e) {
        err(`${f}.end`, `equals start: an empty window (use "00:00"–"24:00" for a whole day)`);
        ok = false;
      }
      let countries: string[] | undefined;
      if (q.countries !== undefined) {
        if (!Array.isArray(q.countries) || q.countries.length === 0) {
          err(`${f}.countries`, 'must be a non-empty array of ISO 3166 alpha-2 codes (omit it for every country)');
          ok = false;
        } else {
          countries = [];
          q.countries.forEach((c: unknown, j) => {
            if (typeof c !== 'string' || !/^[A-Za-z]{2}$/.test(c)) {
              err(`${f}.countries[${j}]`, `must be an ISO 3166 alpha-2 code like "US", got ${JSON.stringify(c)}`);
              ok = false;
            } else countries!.push(c.toUpperCase());
          });
        }
      }
      let days: number[] | undefined;
      if (q.days !== undefined) {
        if (!Array.isArray(q.days) || q.days.length === 0) {
          err(`${f}.days`, 'must be a non-empty array of weekdays 0 (Sunday)..6 (Saturday) (omit it for every day)');
          ok = false;
        } else {
          days = [];
          q.days.forEach((d: unknown, j) => {
            if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 6) {
              err(`${f}.days[${j}]`, `must be a weekday 0 (Sunday)..6 (Saturday), got ${JSON.stringify(d)}`);
              ok = false;
            } else if (days!.includes(d)) {
              err(`${f}.days[${j}]`, `duplicate weekday ${d}`);
              ok = false;
            } else days!.push(d);
          });
        }
      }
      if (!ok) return;
      const rule: QuietHours = { channel: q.channel as QuietHours['channel'], start: q.start as string, end: q.end as string };
      if (countries) rule.countries = countries;
      if (days) rule.days = days;
      quietHours.push(rule);
    });
  }

  const overCap = input.overCap ?? DEFAULT_POLICY.overCap;
  if (overCap !== 'defer' && overCap !== 'drop') err('overCap', `must be "defer" or "drop", got ${JSON.stringify(overCap)}`);

  const fallbackOrder: ChannelName[] = [];
  const rawOrder = input.fallbackOrder ?? DEFAULT_POLICY.fallbackOrder;
  if (!Array.isArray(rawOrder) || rawOrder.length === 0) err('fallbackOrder', 'must be a non-empty array of channels');
  else {
    rawOrder.forEach((c: unknown, i) => {
      if (!isChannel(c)) err(`fallbackOrder[${i}]`, `unknown channel ${JSON.stringify(c)} (channels: ${CHANNELS.join(', ')})`);
      else if (fallbackOrder.includes(c)) err(`fallbackOrder[${i}]`, `duplicate channel "${c}"`);
      else fallbackOrder.push(c);
    });
  }

  const defaultTimeZone = input.defaultTimeZone ?? DEFAULT_POLICY.defaultTimeZone;
  if (!isValidTimeZone(defaultTimeZone)) err('defaultTimeZone', `unknown time zone ${JSON.stringify(defaultTimeZone)} (an IANA name like "Europe/Berlin")`);

  const qht = input.quietHoursForTransactional ?? DEFAULT_POLICY.quietHoursForTransactional;
  if (typeof qht !== 'boolean') err('quietHoursForTransactional', `must be true or false, got ${JSON.stringify(qht)}`);

  const consentRequired: Record<ChannelName, ConsentRule> = { ...DEFAULT_CONSENT_REQUIRED };
  const rawConsent = input.consentRequired;
  if (rawConsent !== undefined) {
    if (!isPlainObject(rawConsent)) err('consentRequired', 'must be an object of channel → "subscribed" | "not_unsubscribed"');
    else {
      for (const [k, v] of Object.entries(rawConsent)) {
        if (!isChannel(k)) err(`consentRequired.${k}`, `unknown channel "${k}" (channels: ${CHANNELS.join(', ')})`);
        else if (v !== 'subscribed' && v !== 'not_unsubscribed') err(`consentRequired.${k}`, `must be "subscribed" or "not_unsubscribed", got ${JSON.stringify(v)}`);
        else consentRequired[k] = v;
      }
    }
  }

  if (errors.length === 0) {
    // A set of rules that never lets some channel go (for someone) would defer forever: refuse it here.
    for (const problem of alwaysQuiet(quietHours)) err('quietHours', problem);
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      caps,
      quietHours,
      overCap: overCap as ArbiterPolicy['overCap'],
      fallbackOrder,
      defaultTimeZone: defaultTimeZone as string,
      quietHoursForTransactional: qht as boolean,
      consentRequired,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Compiled form

export interface CompiledQuiet {
  rule: QuietHours;
  /** index in policy.quietHours */
  index: number;
  channel: 'all' | ChannelName;
  start: number;
  /** 1..1440 */
  end: number;
  wraps: boolean;
  /** bit i set = applies to windows starting on weekday i; 127 = every day */
  dayMask: number;
  countries: Set<string> | null;
  /** "21:00–08:00 for sms in US, FR on Sun" */
  label: string;
}

export interface CompiledPolicy {
  policy: ArbiterPolicy;
  quiet: CompiledQuiet[];
  /** country ('' = none) → channel → the quiet rules that apply */
  quietFor: Map<string, Partial<Record<ChannelName, CompiledQuiet[]>>>;
  /** per channel: the caps that count it (scope 'all' or that channel) */
  capsFor: Record<ChannelName, Cap[]>;
  anyCaps: boolean;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function compileQuiet(rule: QuietHours, index: number): CompiledQuiet {
  const start = parseHHMM(rule.start);
  const end = parseHHMM(rule.end, true);
  if (start === null || end === null || start === end) throw new Error(`quietHours[${index}]: invalid window ${rule.start}–${rule.end} (validate the policy first)`);
  let dayMask = 127;
  if (rule.days) {
    dayMask = 0;
    for (const d of rule.days) dayMask |= 1 << d;
  }
  const countries = rule.countries ? new Set(rule.countries.map((c) => c.toUpperCase())) : null;
  let label = `${rule.start}–${rule.end} for ${rule.channel === 'all' ? 'all channels' : rule.channel}`;
  if (countries) label += ` in ${[...countries].join(', ')}`;
  if (rule.days) label += ` on ${rule.days.map((d) => DAY_NAMES[d]).join(', ')}`;
  return { rule, index, channel: rule.channel, start, end, wraps: end < start, dayMask, countries, label };
}

const compiled = new WeakMap<ArbiterPolicy, CompiledPolicy>();

/** The compiled policy, cached per policy object (treat policies as immutable once used). */
export function compilePolicy(policy: ArbiterPolicy): CompiledPolicy {
  let c = compiled.get(policy);
  if (!c) {
    const capsFor = {} as Record<ChannelName, Cap[]>;
    for (const ch of CHANNELS) capsFor[ch] = policy.caps.filter((cap) => cap.scope === 'all' || cap.scope === ch);
    c = {
      policy,
      quiet: policy.quietHours.map(compileQuiet),
      quietFor: new Map(),
      capsFor,
      anyCaps: policy.caps.length > 0,
    };
    compiled.set(policy, c);
  }
  return c;
}

/** The quiet-hours rules that apply to a channel for a person in `country` (null: only rules without countries). */
export function quietRulesFor(c: CompiledPolicy, channel: ChannelName, country: string | null): CompiledQuiet[] {
  const key = country ?? '';
  let byChannel = c.quietFor.get(key);
  if (!byChannel) {
    if (c.quietFor.size > 5_000) c.quietFor.clear();
    byChannel = {};
    c.quietFor.set(key, byChannel);
  }
  let rules = byChannel[channel];
  if (!rules) {
    rules = c.quiet.filter((q) => (q.channel === 'all' || q.channel === channel) && (q.countries === null || (country !== null && q.countries.has(country))));
    byChannel[channel] = rules;
  }
  return rules;
}

/** Whether a rule forbids the local wall time (weekday 0..6, minute of day 0..1439). */
export function forbids(q: CompiledQuiet, weekday: number, minuteOfDay: number): boolean {
  if (!q.wraps) return minuteOfDay >= q.start && minuteOfDay < q.end && (q.dayMask & (1 << weekday)) !== 0;
  if (minuteOfDay >= q.start) return (q.dayMask & (1 << weekday)) !== 0;
  if (minuteOfDay < q.end) return (q.dayMask & (1 << ((weekday + 6) % 7))) !== 0;
  return false;
}

/** Problems where the rules leave some channel no minute of the week, for some group of countries. */
function alwaysQuiet(quietHours: QuietHours[]): string[] {
  const rules = quietHours.map(compileQuiet);
  const countrySets: (string | null)[] = [null, ...new Set(rules.flatMap((r) => (r.countries ? [...r.countries] : [])))];
  const out: string[] = [];
  for (const ch of CHANNELS) {
    for (const country of countrySets) {
      const apply = rules.filter((q) => (q.channel === 'all' || q.channel === ch) && (q.countries === null || (country !== null && q.countries.has(country))));
      if (apply.length === 0) continue;
      let open = false;
      for (let w = 0; w < 7 && !open; w++) for (let m = 0; m < 1440 && !open; m++) if (!apply.some((q) => forbids(q, w, m))) open = true;
      if (!open) out.push(`the quiet hours leave no time in the week at which ${ch} may be sent${country ? ` to people in ${country}` : ''}`);
    }
  }
  return out;
}
