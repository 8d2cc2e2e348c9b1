// The arbiter: one decision per pending message for ONE person at `now`, pure and synchronous. The outbox worker
// loads the person's state and recent sends, calls `arbitrate`, and writes every decision (with its reason) to the
// decision log. Checks per message, in order:
//   channel resolution → suppression → consent → support pause (marketing) → caps (marketing) → quiet hours → send.
import type { ChannelName } from '../types.ts';
import { DAY, formatDay, formatLocal, isValidTimeZone, localDayNumber, mondayOfWeek, startOfLocalDay, weekOfDay } from './local-time.ts';
import { type ArbiterPolicy, type Cap, type CompiledPolicy, compilePolicy, quietRulesFor } from './policy.ts';
import { nextAllowed } from './quiet.ts';
import { resolveChannel } from './channels.ts';

export type ConsentState = 'subscribed' | 'unsubscribed' | 'never_asked';

export interface PersonState {
  profileId: string;
  /** IANA zone; invalid/missing → policy.defaultTimeZone */
  timeZone?: string | null;
  /** ISO 3166 alpha-2 (any case), for country-restricted quiet hours */
  country?: string | null;
  /** per channel: is there an address (email, phone, live push subscription, …); missing = false */
  reachable: Partial<Record<ChannelName, boolean>>;
  /** consent lookup by channel and topic; the caller resolves the 'all'-topic fallback */
  consent: (channel: ChannelName, topic: string) => ConsentState;
  /**
   * Exact-topic consent WITHOUT the 'all'-topic fallback, used for transactional messages (only an unsubscribe from
   * that very topic blocks them). When absent, `consent` is used for them too.
   */
  consentExact?: (channel: ChannelName, topic: string) => ConsentState;
  /** suppression per channel with its reason (bounced, complained, suppression list) */
  suppressed: Partial<Record<ChannelName, string>>;
  /** open support conversation: marketing is paused */
  supportOpen: boolean;
  preferredChannel?: ChannelName | null;
  /** messages already SENT to this person (any source), for caps */
  recent: { at: number; channel: ChannelName; marketing: boolean }[];
}

export interface MessageIntent {
  id: string;
  channel: ChannelName | 'best';
  topic: string;
  transactional: boolean;
  /** higher wins; 0..100 */
  priority: number;
  /** earliest time it may go (a deferral's until, a journey's schedule) */
  notBefore?: number;
  /** channels already tried and failed/undelivered: 'best' picks the next eligible one in order */
  exclude?: ChannelName[];
}

export type SkipCode = 'unsubscribed' | 'no_consent' | 'suppressed' | 'unreachable' | 'support_open' | 'over_cap' | 'no_channel' | 'quiet_hours';

export type Decision =
  | { id: string; action: 'send'; channel: ChannelName; reason: string; reroutedFrom?: ChannelName | 'best' }
  | { id: string; action: 'defer'; until: number; channel: ChannelName; reason: string; reroutedFrom?: ChannelName | 'best' }
  | { id: string; action: 'skip'; reason: string; code: SkipCode };

interface Ctx {
  person: PersonState;
  policy: ArbiterPolicy;
  cp: CompiledPolicy;
  zone: string;
  zoneLabel: string;
  country: string | null;
  now: number;
  nowDay: number;
  /** local day numbers and channels of marketing sends in `recent`, computed on first need */
  recentDays: number[] | null;
  recentChannels: ChannelName[] | null;
  recentWeeks: number[] | null;
  /** channels of marketing messages decided 'send' earlier in this batch (they go at `now`) */
  batch: ChannelName[];
}

/**
 * Decides a batch of pending messages for ONE person at `now`. Messages are considered highest priority first (then
 * earlier notBefore, missing = now; then id), and a marketing message decided 'send' counts against the caps of the
 * ones after it. Decisions come back in the order of `pending`.
 */
export function arbitrate(pending: MessageIntent[], person: PersonState, policy: ArbiterPolicy, now: number): Decision[] {
  const validZone = isValidTimeZone(person.timeZone);
  const zone = validZone ? (person.timeZone as string) : policy.defaultTimeZone;
  const ctx: Ctx = {
    person,
    policy,
    cp: compilePolicy(policy),
    zone,
    zoneLabel: validZone ? zone : `${zone}, the workspace zone`,
    country: person.country ? person.country.toUpperCase() : null,
    now,
    nowDay: localDayNumber(now, zone),
    recentDays: null,
    recentChannels: null,
    recentWeeks: null,
    batch: [],
  };
  const n = pending.length;
  const order: number[] = new Array(n);
  // Insertion sort: batches are small (a person's queue), and it is stable and allocation-free.
  for (let i = 0; i < n; i++) {
    let j = i;
    while (j > 0 && before(pending[i]!, pending[order[j - 1]!]!, now)) {
      order[j] = order[j - 1]!;
      j--;
    }
    order[j] = i;
  }
  const out = new Array<Decision>(n);
  for (let k = 0; k < n; k++) out[order[k]!] = decide(pending[order[k]!]!, ctx);
  return out;
}

/** Whether x is decided before y: higher priority, then earlier notBefore (missing = now), then smaller id. */
function before(x: MessageIntent, y: MessageIntent, now: number): boolean {
  if (x.priority !== y.priority) return x.priority > y.priority;
  const nx = x.notBefore ?? now;
  const ny = y.notBefore ?? now;
  if (nx !== ny) return nx < ny;
  return x.id < y.id;
}

function decide(msg: MessageIntent, ctx: Ctx): Decision {
  const { person, policy } = ctx;
  const marketing = !msg.transactional;
  const kind = marketing ? 'marketing' : 'transactional';

  // 1. Channel (and, for 'best', suppression and consent as part of choosing).
  const r = resolveChannel(msg, person, policy);
  if (r.skip) return { id: msg.id, action: 'skip', code: r.skip.code, reason: `skip: ${r.skip.why}` };
  const channel = r.channel;
  const via = r.note;

  // 4. Support pause.
  if (marketing && person.supportOpen) {
    return { id: msg.id, action: 'skip', code: 'support_open', reason: `skip: marketing ${channel} is paused while a support conversation is open` };
  }

  // 5–6. Caps and quiet hours: find the first instant ≥ max(now, notBefore) at which both allow sending.
  const { now } = ctx;
  const quietRules = marketing || policy.quietHoursForTransactional ? quietRulesFor(ctx.cp, channel, ctx.country) : [];
  const caps = marketing ? ctx.cp.capsFor[channel] : [];
  const notes: string[] = [];
  let t = now;
  if (msg.notBefore !== undefined && msg.notBefore > now) {
    t = msg.notBefore;
    notes.push(`scheduled for ${formatLocal(t, ctx.zone)}`);
  }
  let capUse = '';
  for (let iter = 0; ; iter++) {
    if (iter >= 64) {
      return { id: msg.id, action: 'skip', code: 'over_cap', reason: `skip: no time found at which caps and quiet hours allow ${kind} ${channel} (${notes.join('; ')})` };
    }
    let moved = false;
    if (caps.length > 0) {
      const full = fullCap(caps, channel, t, ctx);
      if (full) {
        const what = capWhat(full.cap);
        if (full.cap.max === 0) {
          return { id: msg.id, action: 'skip', code: 'over_cap', reason: `skip: the cap allows 0 ${what} per ${full.cap.period}` };
        }
        const inBatch = full.inBatch > 0 ? `, ${full.inBatch} of them just now in this batch` : '';
        const used = `${full.count} of ${full.cap.max} ${what} already sent ${periodLabel(full.cap, full.day, ctx)}${inBatch}`;
        if (policy.overCap === 'drop') {
          return { id: msg.id, action: 'skip', code: 'over_cap', reason: `skip: ${used}; over the cap (policy drops messages over a cap)${via}` };
        }
        notes.push(`${used}; next local ${full.cap.period} starts ${formatLocal(full.next, ctx.zone)}`);
        t = full.next;
        moved = true;
      } else capUse = capsUsage(caps, channel, t, ctx);
    }
    if (quietRules.length > 0) {
      const q = nextAllowed(t, quietRules, ctx.zone);
      if (q.at === null) {
        return { id: msg.id, action: 'skip', code: 'quiet_hours', reason: `skip: quiet hours never allow ${channel} for this person (${q.rules.map((x) => x.label).join(', ')})` };
      }
      if (q.at !== t) {
        const at = t === now ? `it is ${formatLocal(t, ctx.zone).slice(11, 16)} in ${ctx.zoneLabel}` : `${formatLocal(t, ctx.zone)} is inside them`;
        notes.push(`quiet hours ${q.rules.map((x) => x.label).join(', then ')} (${at}); allowed from ${formatLocal(q.at, ctx.zone)}`);
        t = q.at;
        moved = true;
      }
    }
    if (!moved) break;
  }

  if (t === now) {
    if (marketing) ctx.batch.push(channel);
    let reason = `send: ${kind} ${channel}${via}`;
    if (marketing) reason += caps.length > 0 ? `; within caps (${capUse})` : '; no caps apply';
    else reason += policy.quietHoursForTransactional ? '; caps and support pause do not apply to transactional messages' : '; caps, support pause and quiet hours do not apply to transactional messages';
    if (quietRules.length > 0) reason += '; outside quiet hours';
    const d: Decision = { id: msg.id, action: 'send', channel, reason };
    if (r.reroutedFrom) d.reroutedFrom = r.reroutedFrom;
    return d;
  }
  const d: Decision = { id: msg.id, action: 'defer', until: t, channel, reason: `deferred: ${notes.join('; ')}${via}` };
  if (r.reroutedFrom) d.reroutedFrom = r.reroutedFrom;
  return d;
}

function capWhat(cap: Cap): string {
  return cap.scope === 'all' ? 'marketing messages' : `marketing ${cap.scope} messages`;
}

function periodLabel(cap: Cap, day: number, ctx: Ctx): string {
  return cap.period === 'day'
    ? `on ${formatDay(day)} (${ctx.zoneLabel})`
    : `in the week of ${formatDay(mondayOfWeek(weekOfDay(day)))} (${ctx.zoneLabel})`;
}

function loadRecent(ctx: Ctx): void {
  const days: number[] = [];
  const weeks: number[] = [];
  const chans: ChannelName[] = [];
  for (const r of ctx.person.recent) {
    if (!r.marketing) continue;
    const d = localDayNumber(r.at, ctx.zone);
    days.push(d);
    weeks.push(weekOfDay(d));
    chans.push(r.channel);
  }
  ctx.recentDays = days;
  ctx.recentWeeks = weeks;
  ctx.recentChannels = chans;
}

/** Of countIn's count, how many are this batch's sends. */
function batchIn(cap: Cap, day: number, ctx: Ctx): number {
  const same = cap.period === 'day' ? day === ctx.nowDay : weekOfDay(day) === weekOfDay(ctx.nowDay);
  if (!same) return 0;
  let n = 0;
  for (const c of ctx.batch) if (cap.scope === 'all' || c === cap.scope) n++;
  return n;
}

/** Marketing messages counted by `cap` in the local day/week `day` falls in (recent sends + this batch's sends). */
function countIn(cap: Cap, day: number, ctx: Ctx): number {
  if (!ctx.recentDays) loadRecent(ctx);
  const days = ctx.recentDays!;
  const chans = ctx.recentChannels!;
  const all = cap.scope === 'all';
  let n = 0;
  if (cap.period === 'day') {
    for (let i = 0; i < days.length; i++) if (days[i] === day && (all || chans[i] === cap.scope)) n++;
    if (day === ctx.nowDay) for (const c of ctx.batch) if (all || c === cap.scope) n++;
  } else {
    const w = weekOfDay(day);
    const weeks = ctx.recentWeeks!;
    for (let i = 0; i < weeks.length; i++) if (weeks[i] === w && (all || chans[i] === cap.scope)) n++;
    if (weekOfDay(ctx.nowDay) === w) for (const c of ctx.batch) if (all || c === cap.scope) n++;
  }
  return n;
}

interface FullCap {
  cap: Cap;
  count: number;
  /** of count, sends decided in this batch */
  inBatch: number;
  day: number;
  /** start of the next local period of the cap that ends furthest away among the full ones */
  next: number;
}

/** Among the caps counting `channel`, the full one whose period ends last (null: all have room at t). */
function fullCap(caps: Cap[], _channel: ChannelName, t: number, ctx: Ctx): FullCap | null {
  const day = localDayNumber(t, ctx.zone);
  let best: FullCap | null = null;
  for (const cap of caps) {
    const count = countIn(cap, day, ctx);
    if (count < cap.max) continue;
    if (cap.max === 0) return { cap, count, inBatch: 0, day, next: t };
    const nextDay = cap.period === 'day' ? day + 1 : mondayOfWeek(weekOfDay(day) + 1);
    let next = startOfLocalDay(nextDay, ctx.zone, t);
    if (Number.isNaN(next) || next <= t) next = t + DAY; // cannot happen for real zones; keeps the loop moving
    if (!best || next > best.next) best = { cap, count, inBatch: batchIn(cap, day, ctx), day, next };
  }
  return best;
}

/** "all/day 2 of 3, all/week 5 of 10" counting the message being sent. */
function capsUsage(caps: Cap[], _channel: ChannelName, t: number, ctx: Ctx): string {
  const day = localDayNumber(t, ctx.zone);
  let s = '';
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i]!;
    s += `${i > 0 ? ', ' : ''}${cap.scope}/${cap.period} ${countIn(cap, day, ctx) + 1} of ${cap.max}`;
  }
  return s;
}
