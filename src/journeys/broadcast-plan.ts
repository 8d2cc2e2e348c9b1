// Planning a broadcast (a one-off send to a segment), pure: who gets which variant, when each message goes, how the
// sends are spread under a rate cap, and which variant won the A/B test. No clock, no randomness: the runtime passes
// `now`, and every draw is a hash of (broadcast, profile), so re-planning after a crash assigns the same variants.
import { createHash } from 'node:crypto';
import { isValidTimeZone, zonedTimeToUtc } from '../messaging/arbiter/local-time.ts';

const MINUTE = 60_000;

// ---- variants ----

export interface VariantWeight {
  id: string;
  /** relative weight (> 0); weights need not add up to anything */
  weight: number;
}
export interface VariantPlan {
  variants: VariantWeight[];
  /**
   * Share of recipients (0..1) in the A/B test; the rest wait for the winner. Absent (or one variant): everyone is in
   * the test, i.e. a plain weighted split. 0 holds everyone back for a winner chosen some other way.
   */
  testShare?: number;
}
export interface Assignment {
  group: 'test' | 'rest';
  /** null for 'rest': they get the winner once it is picked */
  variant: string | null;
}

/** Throws with a message naming the field when a plan cannot be used. */
export function checkVariantPlan(plan: VariantPlan): void {
  if (!plan || !Array.isArray(plan.variants) || plan.variants.length === 0) throw new Error('variant plan: variants must be a non-empty array');
  const seen = new Set<string>();
  plan.variants.forEach((v, i) => {
    if (typeof v?.id !== 'string' || v.id === '') throw new Error(`variant plan: variants.${i}.id must be a non-empty string`);
    if (seen.has(v.id)) throw new Error(`variant plan: variants.${i}.id ${JSON.stringify(v.id)} is used twice`);
    seen.add(v.id);
    if (typeof v.weight !== 'number' || !Number.isFinite(v.weight) || v.weight <= 0) throw new Error(`variant plan: variants.${i}.weight must be a finite number > 0 (got ${v.weight})`);
  });
  const s = plan.testShare;
  if (s !== undefined && (typeof s !== 'number' || !(s >= 0 && s <= 1))) throw new Error(`variant plan: testShare must be between 0 and 1 (got ${s})`);
}

/**
 * Two independent uniforms in [0, 1) from sha256(broadcast, profile): 48 bits each (exact in a double). Independent so
 * that the variant split inside the test group follows the weights whatever the test share. The id lengths are part
 * of the input so ('a:b', 'c') and ('a', 'b:c') cannot collide.
 */
function uniforms(broadcastId: string, profileId: string): [number, number] {
  const h = createHash('sha256').update(`${broadcastId.length}:${broadcastId}:${profileId}`).digest();
  return [h.readUIntBE(0, 6) / 2 ** 48, h.readUIntBE(6, 6) / 2 ** 48];
}

/** The variant whose cumulative weight band holds u (the last one if rounding leaves u at the very end). */
function byWeight(variants: VariantWeight[], u: number): string {
  const total = variants.reduce((a, v) => a + v.weight, 0);
  let x = u * total;
  for (const v of variants) if ((x -= v.weight) < 0) return v.id;
  return variants[variants.length - 1]!.id;
}

/** Which group and variant a profile gets in a broadcast: the same inputs always give the same answer. */
export function assignVariant(broadcastId: string, profileId: string, plan: VariantPlan): Assignment {
  checkVariantPlan(plan);
  if (typeof broadcastId !== 'string' || broadcastId === '') throw new Error('assignVariant: broadcastId must be a non-empty string');
  if (typeof profileId !== 'string' || profileId === '') throw new Error('assignVariant: profileId must be a non-empty string');
  const [g, v] = uniforms(broadcastId, profileId);
  const split = plan.testShare !== undefined && plan.variants.length > 1;
  if (split && g >= plan.testShare!) return { group: 'rest', variant: null };
  return { group: 'test', variant: byWeight(plan.variants, v) };
}

// ---- send time ----

export interface SendTimeOptions {
  now: number;
  /** a scheduled instant (ms) … */
  at?: number;
  /** … or a wall time 'HH:MM' on `date` 'YYYY-MM-DD' in each recipient's zone */
  localTime?: string;
  date?: string;
  /** the recipient's IANA zone; missing or unknown → defaultZone */
  zone?: string | null;
  /** default 'UTC' */
  defaultZone?: string;
}

const HHMM = /^([01][0-9]|2[0-3]):([0-5][0-9])$/;
const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * When a recipient's message should go (ms). Nothing scheduled → now; `at` → that instant (now if it is past);
 * `localTime` + `date` → that wall time in the recipient's zone.
 *
 * A local time that has already passed in a zone (Kolkata's 09:00 is long gone when a broadcast planned at 09:00 in
 * Berlin starts) is sent now rather than the next day: the broadcast is about that date, and a day-late "today only"
 * is worse than an early-morning one (quiet hours, applied later by the arbiter, still hold it back at night).
 * Around DST a wall time is read the 'compatible' way: skipped (02:30 on spring-forward) → the instant the clock
 * would show had it not jumped (03:30 new time); repeated (fall-back) → the earlier one.
 */
export function sendTime(opts: SendTimeOptions): number {
  const { now } = opts;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new Error('sendTime: now must be a finite number of ms');
  if (opts.at !== undefined && opts.localTime !== undefined) throw new Error('sendTime: give either at or localTime, not both');
  if (opts.at !== undefined) {
    if (typeof opts.at !== 'number' || !Number.isFinite(opts.at)) throw new Error('sendTime: at must be a finite number of ms');
    return Math.max(opts.at, now);
  }
  if (opts.localTime === undefined) {
    if (opts.date !== undefined) throw new Error('sendTime: date is only used with localTime');
    return now;
  }
  const t = HHMM.exec(opts.localTime);
  if (!t) throw new Error(`sendTime: localTime must be HH:MM (24 h), got ${JSON.stringify(opts.localTime)}`);
  if (opts.date === undefined) throw new Error('sendTime: localTime needs a date YYYY-MM-DD');
  const d = YMD.exec(opts.date);
  const [y, m, day] = d ? [Number(d[1]), Number(d[2]), Number(d[3])] : [0, 0, 0];
  const check = new Date(Date.UTC(y, m - 1, day));
  if (!d || check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== day) throw new Error(`sendTime: date must be a real date YYYY-MM-DD, got ${JSON.stringify(opts.date)}`);
  const fallback = opts.defaultZone ?? 'UTC';
  if (!isValidTimeZone(fallback)) throw new Error(`sendTime: defaultZone ${JSON.stringify(fallback)} is not a time zone`);
  const zone = opts.zone && isValidTimeZone(opts.zone) ? opts.zone : fallback;
  return Math.max(zonedTimeToUtc(y, m, day, Number(t[1]), Number(t[2]), zone), now);
}

// ---- throttle ----

export interface Slot {
  /** the earliest instant (ms) this recipient's message may go (sendTime's answer) */
  earliest: number;
}

/**
 * A notBefore per recipient (same order as `slots`) such that no 60-second window, sliding and half-open ([t, t + 60 s)),
 * holds more than `perMinute` sends — so no calendar minute does either — and no one goes before their earliest time. Recipients go in order of their earliest time; among
 * equal times, in list order (the list is the send order). Greedy and as early as possible: each send waits only for
 * the one `perMinute` places before it to leave the window — a full minute's quota may go at once (bursts within
 * the cap are the dispatcher's to smooth). O(n) when the earliest times are already in order, else O(n log n).
 */
export function throttle(slots: readonly Slot[], perMinute: number): number[] {
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new Error(`throttle: perMinute must be an integer ≥ 1 (got ${perMinute})`);
  const n = slots.length;
  const earliest = new Float64Array(n);
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const e = slots[i]!.earliest;
    if (typeof e !== 'number' || !Number.isFinite(e)) throw new Error(`throttle: slots.${i}.earliest must be a finite number of ms`);
    earliest[i] = e;
    if (i > 0 && e < earliest[i - 1]!) sorted = false;
  }
  // Time order; stable by construction (ties fall back to the list position). Already sorted (the usual case: one
  // send time for all) → no sort at all.
  const order = sorted ? null : Array.from({ length: n }, (_, i) => i).sort((a, b) => earliest[a]! - earliest[b]! || a - b);
  const out = new Array<number>(n);
  // ring[k % cap] = the notBefore of the k-th send in time order, the next to leave the window. With perMinute ≥ n
  // the cap can never bind (and a huge perMinute must not allocate a huge ring).
  const cap = perMinute <= n ? perMinute : 0;
  const ring = new Float64Array(cap);
  let last = -Infinity;
  for (let k = 0; k < n; k++) {
    const i = order ? order[k]! : k;
    let t = earliest[i]! > last ? earliest[i]! : last;
    if (cap > 0) {
      const j = k % cap;
      if (k >= cap && ring[j]! + MINUTE > t) t = ring[j]! + MINUTE;
      ring[j] = t;
    }
    out[i] = t;
    last = t;
  }
  return out;
}

// ---- winner ----

export interface VariantStats {
  variant: string;
  /** recipients assigned to the variant (informative; rates are per message sent) */
  recipients: number;
  sent: number;
  opens: number;
  clicks: number;
  orders: number;
  /** attributed revenue in minor units (cents) */
  revenueMinor: number;
}
export type WinnerMetric = 'opens' | 'clicks' | 'orders' | 'revenue';

export interface WinnerResult {
  winner: string;
  /** metric per message sent, per variant (0 for a variant with nothing sent); revenue: minor units per message */
  rates: Record<string, number>;
  reason: string;
  /**
   * Winner vs runner-up, two-proportion z-test (two-sided, pooled), for opens / clicks / orders only — informative:
   * the winner is the best rate whatever the p-value, and a p-value read after peeking at the results repeatedly
   * overstates the evidence. null for revenue (a mean of amounts, not a proportion: a test would need the per-message
   * variance the aggregates lack), without a runner-up that sent anything, or when counts exceed sends.
   */
  significance: { runnerUp: string; z: number; pValue: number } | null;
}

const STAT_FIELDS = ['recipients', 'sent', 'opens', 'clicks', 'orders', 'revenueMinor'] as const;

const countOf = (s: VariantStats, metric: WinnerMetric) => (metric === 'revenue' ? s.revenueMinor : s[metric]);

/** The variant with the best rate of `metric` per message sent; ties go to the earlier variant in the list. */
export function pickWinner(stats: readonly VariantStats[], metric: WinnerMetric): WinnerResult {
  if (!['opens', 'clicks', 'orders', 'revenue'].includes(metric)) throw new Error(`pickWinner: metric must be opens, clicks, orders or revenue (got ${JSON.stringify(metric)})`);
  if (!Array.isArray(stats) || stats.length === 0) throw new Error('pickWinner: stats must be a non-empty array');
  const seen = new Set<string>();
  stats.forEach((s, i) => {
    if (typeof s?.variant !== 'string' || s.variant === '') throw new Error(`pickWinner: stats.${i}.variant must be a non-empty string`);
    if (seen.has(s.variant)) throw new Error(`pickWinner: stats.${i}.variant ${JSON.stringify(s.variant)} appears twice`);
    seen.add(s.variant);
    for (const f of STAT_FIELDS) if (!Number.isInteger(s[f]) || s[f] < 0) throw new Error(`pickWinner: stats.${i}.${f} must be an integer ≥ 0 (got ${s[f]})`);
  });
  const rates: Record<string, number> = {};
  for (const s of stats) rates[s.variant] = s.sent > 0 ? countOf(s, metric) / s.sent : 0;
  const label = metric === 'revenue' ? 'revenue per message' : `${metric} rate`;
  const fmt = (v: string) => (metric === 'revenue' ? `${rates[v]!.toFixed(2)} minor units` : `${(rates[v]! * 100).toFixed(2)}%`);

  // Strictly better replaces: the earlier variant keeps a tie. Nothing sent → never a candidate.
  const ranked = stats.filter((s) => s.sent > 0);
  if (ranked.length === 0) return { winner: stats[0]!.variant, rates, reason: `no variant has sent anything yet: ${stats[0]!.variant}, the first, by default`, significance: null };
  let best = ranked[0]!;
  for (const s of ranked) if (rates[s.variant]! > rates[best.variant]!) best = s;
  let runnerUp: VariantStats | null = null;
  for (const s of ranked) if (s !== best && (runnerUp === null || rates[s.variant]! > rates[runnerUp.variant]!)) runnerUp = s;

  const skipped = stats.length - ranked.length;
  const note = skipped > 0 ? ` (${skipped} variant${skipped > 1 ? 's' : ''} with nothing sent left out)` : '';
  let reason: string;
  if (!runnerUp) reason = `${best.variant} is the only variant that sent anything${note}`;
  else if (rates[runnerUp.variant] === rates[best.variant]) {
    reason = `${best.variant} and ${runnerUp.variant} tie on ${label} (${fmt(best.variant)}); the earlier in the list wins${note}`;
  } else reason = `${best.variant} has the best ${label}: ${fmt(best.variant)} vs ${fmt(runnerUp.variant)} for ${runnerUp.variant}${note}`;

  let significance: WinnerResult['significance'] = null;
  if (runnerUp && metric !== 'revenue') {
    const x1 = countOf(best, metric);
    const x2 = countOf(runnerUp, metric);
    if (x1 <= best.sent && x2 <= runnerUp.sent) significance = { runnerUp: runnerUp.variant, ...twoProportionZ(x1, best.sent, x2, runnerUp.sent) };
  }
  return { winner: best.variant, rates, reason, significance };
}

/**
 * Two-proportion z-test with the pooled proportion: z = (p1 − p2) / sqrt(p(1 − p)(1/n1 + 1/n2)), two-sided p-value
 * 2(1 − Φ(|z|)). All successes or none (no variance): z = 0, p = 1 — no evidence either way.
 */
export function twoProportionZ(x1: number, n1: number, x2: number, n2: number): { z: number; pValue: number } {
  const p = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (!(se > 0)) return { z: 0, pValue: 1 };
  const z = (x1 / n1 - x2 / n2) / se;
  return { z, pValue: Math.min(1, erfc(Math.abs(z) / Math.SQRT2)) };
}

/** Complementary error function, Chebyshev fit (Numerical Recipes erfcc): relative error < 1.2e-7 everywhere. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
