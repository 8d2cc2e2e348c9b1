import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type VariantPlan, type VariantStats, assignVariant, erfc, pickWinner, sendTime, throttle, twoProportionZ } from './broadcast-plan.ts';

const T = (iso: string) => Date.parse(iso);
const ids = (n: number) => Array.from({ length: n }, (_, i) => `prof_${i}`);

describe('assignVariant', () => {
  const ab: VariantPlan = { variants: [{ id: 'A', weight: 1 }, { id: 'B', weight: 1 }] };

  it('is deterministic: the same inputs give the same answer', () => {
    for (const p of ids(200)) expect(assignVariant('bc_1', p, ab)).toEqual(assignVariant('bc_1', p, ab));
    expect(assignVariant('bc_1', 'prof_7', { ...ab, testShare: 0.3 })).toEqual(assignVariant('bc_1', 'prof_7', { ...ab, testShare: 0.3 }));
  });

  it('depends on the broadcast: another broadcast reshuffles people', () => {
    const a = ids(1000).map((p) => assignVariant('bc_1', p, ab).variant);
    const b = ids(1000).map((p) => assignVariant('bc_2', p, ab).variant);
    const same = a.filter((v, i) => v === b[i]).length;
    expect(same).toBeGreaterThan(400);
    expect(same).toBeLessThan(600);
  });

  it('does not confuse ids that concatenate alike', () => {
    const plan: VariantPlan = { variants: [{ id: 'A', weight: 1 }, { id: 'B', weight: 1 }], testShare: 0.5 };
    const pairs = ids(64).map((p) => [assignVariant('x:y', p, plan), assignVariant('x', `y:${p}`, plan)]);
    expect(pairs.some(([a, b]) => a!.variant !== b!.variant || a!.group !== b!.group)).toBe(true);
  });

  it('follows the weights over 10,000 profiles (±3%)', () => {
    const plan: VariantPlan = { variants: [{ id: 'A', weight: 50 }, { id: 'B', weight: 30 }, { id: 'C', weight: 20 }] };
    const n = 10_000;
    const count: Record<string, number> = { A: 0, B: 0, C: 0 };
    for (const p of ids(n)) {
      const r = assignVariant('bc_weights', p, plan);
      expect(r.group).toBe('test');
      count[r.variant!]!++;
    }
    expect(Math.abs(count.A! / n - 0.5)).toBeLessThan(0.03);
    expect(Math.abs(count.B! / n - 0.3)).toBeLessThan(0.03);
    expect(Math.abs(count.C! / n - 0.2)).toBeLessThan(0.03);
  });

  it('puts testShare of people in the test, split by weight, and the rest without a variant', () => {
    const plan: VariantPlan = { variants: [{ id: 'A', weight: 3 }, { id: 'B', weight: 1 }], testShare: 0.2 };
    const n = 10_000;
    const rs = ids(n).map((p) => assignVariant('bc_share', p, plan));
    const test = rs.filter((r) => r.group === 'test');
    expect(Math.abs(test.length / n - 0.2)).toBeLessThan(0.03);
    expect(rs.filter((r) => r.group === 'rest').every((r) => r.variant === null)).toBe(true);
    expect(Math.abs(test.filter((r) => r.variant === 'A').length / test.length - 0.75)).toBeLessThan(0.03);
  });

  it('a larger test share keeps everyone already in the test (same hash, a wider band)', () => {
    const small = { ...ab, testShare: 0.1 };
    const big = { ...ab, testShare: 0.4 };
    for (const p of ids(2000)) {
      const a = assignVariant('bc_grow', p, small);
      if (a.group === 'test') expect(assignVariant('bc_grow', p, big)).toEqual(a);
    }
  });

  it('testShare 1 puts everyone in the test; 0 holds everyone back; one variant ignores testShare', () => {
    for (const p of ids(300)) {
      expect(assignVariant('b', p, { ...ab, testShare: 1 }).group).toBe('test');
      expect(assignVariant('b', p, { ...ab, testShare: 0 })).toEqual({ group: 'rest', variant: null });
      expect(assignVariant('b', p, { variants: [{ id: 'only', weight: 1 }], testShare: 0.1 })).toEqual({ group: 'test', variant: 'only' });
    }
  });

  it.each([
    ['no variants', { variants: [] }, /non-empty array/],
    ['weight 0', { variants: [{ id: 'A', weight: 0 }] }, /variants\.0\.weight must be a finite number > 0/],
    ['negative weight', { variants: [{ id: 'A', weight: 1 }, { id: 'B', weight: -2 }] }, /variants\.1\.weight/],
    ['NaN weight', { variants: [{ id: 'A', weight: Number.NaN }] }, /variants\.0\.weight/],
    ['duplicate id', { variants: [{ id: 'A', weight: 1 }, { id: 'A', weight: 1 }] }, /used twice/],
    ['empty id', { variants: [{ id: '', weight: 1 }] }, /variants\.0\.id/],
    ['testShare > 1', { variants: [{ id: 'A', weight: 1 }], testShare: 1.5 }, /testShare must be between 0 and 1/],
    ['testShare < 0', { variants: [{ id: 'A', weight: 1 }], testShare: -0.1 }, /testShare must be between 0 and 1/],
    ['testShare NaN', { variants: [{ id: 'A', weight: 1 }], testShare: Number.NaN }, /testShare/],
  ] as [string, VariantPlan, RegExp][])('rejects %s', (_n, plan, msg) => {
    expect(() => assignVariant('b', 'p', plan)).toThrow(msg);
  });

  it('rejects empty ids', () => {
    expect(() => assignVariant('', 'p', ab)).toThrow(/broadcastId/);
    expect(() => assignVariant('b', '', ab)).toThrow(/profileId/);
  });
});

describe('sendTime', () => {
  const now = T('2026-03-01T00:00:00Z');

  it('nothing scheduled → now; at → that instant, or now once it is past', () => {
    expect(sendTime({ now })).toBe(now);
    expect(sendTime({ now, at: now + 5000 })).toBe(now + 5000);
    expect(sendTime({ now, at: now - 5000 })).toBe(now);
  });

  const cases: [string, string, string, string][] = [
    ['Los Angeles, the day before spring-forward (PST)', 'America/Los_Angeles', '2026-03-07 09:00', '2026-03-07T17:00:00Z'],
    ['Los Angeles, spring-forward day (PDT)', 'America/Los_Angeles', '2026-03-08 09:00', '2026-03-08T16:00:00Z'],
    ['Los Angeles, a skipped 02:30 → 03:30 PDT', 'America/Los_Angeles', '2026-03-08 02:30', '2026-03-08T10:30:00Z'],
    ['Los Angeles, a repeated 01:30 → the first (PDT)', 'America/Los_Angeles', '2026-11-01 01:30', '2026-11-01T08:30:00Z'],
    ['Berlin, the day before spring-forward (CET)', 'Europe/Berlin', '2026-03-28 09:00', '2026-03-28T08:00:00Z'],
    ['Berlin, spring-forward day (CEST)', 'Europe/Berlin', '2026-03-29 09:00', '2026-03-29T07:00:00Z'],
    ['Berlin, a skipped 02:30 → 03:30 CEST', 'Europe/Berlin', '2026-03-29 02:30', '2026-03-29T01:30:00Z'],
    ['Berlin, a repeated 02:30 → the first (CEST)', 'Europe/Berlin', '2026-10-25 02:30', '2026-10-25T00:30:00Z'],
    ['Berlin, after fall-back (CET)', 'Europe/Berlin', '2026-10-25 09:00', '2026-10-25T08:00:00Z'],
    ['Kolkata, +05:30 all year', 'Asia/Kolkata', '2026-03-08 09:00', '2026-03-08T03:30:00Z'],
    ['Kolkata, in northern summer too', 'Asia/Kolkata', '2026-07-01 09:00', '2026-07-01T03:30:00Z'],
  ];
  it.each(cases)('%s', (_n, zone, local, want) => {
    const [date, localTime] = local.split(' ') as [string, string];
    expect(new Date(sendTime({ now, localTime, date, zone })).toISOString()).toBe(new Date(want).toISOString());
  });

  it('a local time already passed in a zone is sent now, the others wait for theirs', () => {
    // 09:00 in Berlin on 2026-06-10 = 07:00Z; Kolkata's 09:00 was 03:30Z, Los Angeles' will be 16:00Z.
    const at0900Berlin = T('2026-06-10T07:00:00Z');
    const o = { now: at0900Berlin, localTime: '09:00', date: '2026-06-10' };
    expect(sendTime({ ...o, zone: 'Europe/Berlin' })).toBe(at0900Berlin);
    expect(sendTime({ ...o, zone: 'Asia/Kolkata' })).toBe(at0900Berlin);
    expect(sendTime({ ...o, zone: 'America/Los_Angeles' })).toBe(T('2026-06-10T16:00:00Z'));
  });

  it('a missing or unknown zone falls back to defaultZone (UTC by default)', () => {
    const o = { now, localTime: '09:00', date: '2026-06-10' };
    expect(sendTime({ ...o })).toBe(T('2026-06-10T09:00:00Z'));
    expect(sendTime({ ...o, zone: null })).toBe(T('2026-06-10T09:00:00Z'));
    expect(sendTime({ ...o, zone: 'Mars/Olympus' })).toBe(T('2026-06-10T09:00:00Z'));
    expect(sendTime({ ...o, zone: 'Mars/Olympus', defaultZone: 'Asia/Kolkata' })).toBe(T('2026-06-10T03:30:00Z'));
  });

  it.each([
    ['both at and localTime', { now, at: now, localTime: '09:00', date: '2026-06-10' }, /either at or localTime/],
    ['a bad time', { now, localTime: '9:00', date: '2026-06-10' }, /HH:MM/],
    ['24:00', { now, localTime: '24:00', date: '2026-06-10' }, /HH:MM/],
    ['no date', { now, localTime: '09:00' }, /needs a date/],
    ['a date that does not exist', { now, localTime: '09:00', date: '2026-02-30' }, /real date/],
    ['a bad date', { now, localTime: '09:00', date: '10/06/2026' }, /real date/],
    ['a date without a time', { now, date: '2026-06-10' }, /only used with localTime/],
    ['a bad now', { now: Number.NaN }, /now must be/],
    ['a bad at', { now, at: Number.POSITIVE_INFINITY }, /at must be/],
    ['a bad defaultZone', { now, localTime: '09:00', date: '2026-06-10', defaultZone: 'Nowhere/Land' }, /defaultZone/],
  ] as [string, Parameters<typeof sendTime>[0], RegExp][])('rejects %s', (_n, opts, msg) => {
    expect(() => sendTime(opts)).toThrow(msg);
  });
});

/** The largest number of sends in any half-open 60 s window. */
function maxPerWindow(times: number[]): number {
  const s = [...times].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < s.length; hi++) {
    while (s[hi]! - s[lo]! >= 60_000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

describe('throttle', () => {
  it('sends a minute’s quota at once, then waits for the window', () => {
    const t0 = T('2026-06-10T07:00:00Z');
    const out = throttle(Array.from({ length: 7 }, () => ({ earliest: t0 })), 3);
    expect(out.map((t) => (t - t0) / 60_000)).toEqual([0, 0, 0, 1, 1, 1, 2]);
  });

  it('keeps earliest times that fit, and respects list order among equal times', () => {
    const out = throttle([{ earliest: 120_000 }, { earliest: 0 }, { earliest: 0 }, { earliest: 30_000 }], 2);
    // time order: #1 (0), #2 (0), #3 (30 s → waits for #1 to leave: 60 s), #0 (120 s)
    expect(out).toEqual([120_000, 0, 0, 60_000]);
  });

  it('a cap above the number of recipients changes nothing; an empty list plans nothing', () => {
    const slots = [{ earliest: 5 }, { earliest: 1 }, { earliest: 5 }];
    expect(throttle(slots, 1_000_000_000)).toEqual([5, 1, 5]);
    expect(throttle([], 10)).toEqual([]);
  });

  it('rejects a bad cap or earliest time', () => {
    expect(() => throttle([{ earliest: 0 }], 0)).toThrow(/perMinute must be an integer ≥ 1/);
    expect(() => throttle([{ earliest: 0 }], 1.5)).toThrow(/perMinute/);
    expect(() => throttle([{ earliest: Number.NaN }], 1)).toThrow(/slots\.0\.earliest/);
  });

  it('property: never before earliest, never more than perMinute in a 60 s window, ties in list order, no needless wait', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10 * 60_000 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 50 }),
        (earliest, perMinute) => {
          const out = throttle(earliest.map((e) => ({ earliest: e })), perMinute);
          expect(out).toHaveLength(earliest.length);
          out.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(earliest[i]!));
          expect(maxPerWindow(out)).toBeLessThanOrEqual(perMinute);
          for (let i = 0; i < earliest.length; i++) {
            for (let j = i + 1; j < earliest.length; j++) if (earliest[i] === earliest[j]) expect(out[i]).toBeLessThanOrEqual(out[j]!);
            // Held back only when the minute before its send was full: going any earlier would break the cap.
            if (out[i]! > earliest[i]!) expect(out.filter((t) => t >= out[i]! - 60_000 && t < out[i]!).length).toBe(perMinute);
          }
        },
      ),
      { numRuns: 200, seed: 20260610 },
    );
  });

  // No timing assertion here (benchmarks are separate): the size is checked for correctness only.
  it('plans 200,000 recipients under the cap, sorted or not', () => {
    const t0 = T('2026-06-10T07:00:00Z');
    const same = Array.from({ length: 200_000 }, () => ({ earliest: t0 }));
    // Spread over a day's zones, in no particular order (a deterministic scramble, no Math.random).
    const mixed = Array.from({ length: 200_000 }, (_, i) => ({ earliest: t0 + ((i * 7919) % 86_400) * 1000 }));
    for (const slots of [same, mixed]) {
      const out = throttle(slots, 5000);
      expect(maxPerWindow(out)).toBeLessThanOrEqual(5000);
    }
    // 200,000 at once under 5,000 per minute: 40 minutes, the last batch in minute 39.
    expect(throttle(same, 5000).reduce((a, b) => Math.max(a, b)) - t0).toBe(39 * 60_000);
  });
});

const stat = (variant: string, sent: number, o: Partial<VariantStats> = {}): VariantStats => ({ variant, recipients: sent, sent, opens: 0, clicks: 0, orders: 0, revenueMinor: 0, ...o });

describe('pickWinner', () => {
  const stats = [
    stat('A', 1000, { opens: 300, clicks: 40, orders: 5, revenueMinor: 90_000 }),
    stat('B', 1000, { opens: 250, clicks: 60, orders: 4, revenueMinor: 120_000 }),
    stat('C', 500, { opens: 140, clicks: 20, orders: 6, revenueMinor: 30_000 }),
  ];
  it.each([
    ['opens', 'A', { A: 0.3, B: 0.25, C: 0.28 }],
    ['clicks', 'B', { A: 0.04, B: 0.06, C: 0.04 }],
    ['orders', 'C', { A: 0.005, B: 0.004, C: 0.012 }],
    ['revenue', 'B', { A: 90, B: 120, C: 60 }],
  ] as const)('by %s: %s', (metric, winner, rates) => {
    const r = pickWinner(stats, metric);
    expect(r.winner).toBe(winner);
    for (const [v, rate] of Object.entries(rates)) expect(r.rates[v]).toBeCloseTo(rate, 10);
    expect(r.reason).toContain(`${winner} has the best`);
  });

  it('reports a two-proportion z-test against the runner-up for counts, none for revenue', () => {
    const clicks = pickWinner(stats, 'clicks').significance!;
    // B 60/1000 vs A 40/1000 and C 20/500 (both 4%): A is the earlier runner-up. pooled 0.05, se = sqrt(.05·.95·.002)
    expect(clicks.runnerUp).toBe('A');
    expect(clicks.z).toBeCloseTo(0.02 / Math.sqrt(0.05 * 0.95 * 0.002), 6);
    expect(clicks.pValue).toBeCloseTo(0.040174, 5); // 2(1 − Φ(2.052))
    expect(pickWinner(stats, 'revenue').significance).toBeNull();
  });

  it('ties go to the earlier variant in the list', () => {
    const r = pickWinner([stat('A', 100, { clicks: 10 }), stat('B', 200, { clicks: 20 }), stat('C', 50, { clicks: 5 })], 'clicks');
    expect(r.winner).toBe('A');
    expect(r.reason).toMatch(/A and B tie/);
    expect(r.significance).toMatchObject({ runnerUp: 'B', z: 0, pValue: 1 });
    expect(pickWinner([stat('B', 200, { clicks: 20 }), stat('A', 100, { clicks: 10 })], 'clicks').winner).toBe('B');
  });

  it('a variant with nothing sent never wins, even listed first; all with nothing sent → the first', () => {
    const r = pickWinner([stat('A', 0), stat('B', 100, { opens: 0 }), stat('C', 100, { opens: 0 })], 'opens');
    expect(r.winner).toBe('B');
    expect(r.rates).toEqual({ A: 0, B: 0, C: 0 });
    expect(r.reason).toMatch(/1 variant with nothing sent left out/);
    const none = pickWinner([stat('A', 0), stat('B', 0)], 'orders');
    expect(none).toEqual({ winner: 'A', rates: { A: 0, B: 0 }, reason: expect.stringMatching(/no variant has sent anything/), significance: null });
    const alone = pickWinner([stat('A', 0), stat('B', 10, { clicks: 1 })], 'clicks');
    expect(alone).toMatchObject({ winner: 'B', significance: null, reason: expect.stringMatching(/only variant that sent/) });
  });

  it('no z-test when counts exceed sends (repeat opens counted)', () => {
    expect(pickWinner([stat('A', 10, { opens: 25 }), stat('B', 10, { opens: 3 })], 'opens').significance).toBeNull();
  });

  it.each([
    ['no stats', [], 'opens', /non-empty array/],
    ['a bad metric', [stat('A', 1)], 'likes', /metric must be/],
    ['a duplicate variant', [stat('A', 1), stat('A', 2)], 'opens', /appears twice/],
    ['a negative count', [stat('A', 10, { clicks: -1 })], 'clicks', /stats\.0\.clicks must be an integer ≥ 0/],
    ['a fractional count', [stat('A', 10.5)], 'clicks', /stats\.0\.recipients/],
  ] as [string, VariantStats[], 'opens', RegExp][])('rejects %s', (_n, s, metric, msg) => {
    expect(() => pickWinner(s, metric)).toThrow(msg);
  });
});

describe('twoProportionZ and erfc', () => {
  it('erfc matches known values', () => {
    expect(erfc(0)).toBeCloseTo(1, 6);
    expect(erfc(1)).toBeCloseTo(0.157299207, 6);
    expect(erfc(-1)).toBeCloseTo(1.842700793, 6);
    expect(erfc(1.959963985 / Math.SQRT2)).toBeCloseTo(0.05, 6);
  });

  it('symmetric, and no variance → z 0, p 1', () => {
    const a = twoProportionZ(30, 100, 20, 100);
    const b = twoProportionZ(20, 100, 30, 100);
    expect(a.z).toBeCloseTo(-b.z, 12);
    expect(a.pValue).toBeCloseTo(b.pValue, 12);
    expect(twoProportionZ(0, 100, 0, 100)).toEqual({ z: 0, pValue: 1 });
    expect(twoProportionZ(100, 100, 50, 50)).toEqual({ z: 0, pValue: 1 });
  });
});
