import { describe, expect, it } from 'vitest';
import { type JourneyDefinition, checkJourney } from './definition.ts';
import { cartAbandonment } from './playbooks.ts';
import { type Facts, type JourneyInput, type JourneyState, MAX_INSTANT_STEPS, addDuration, advance, mayEnter, nextLocalTime } from './step.ts';

const H = 3_600_000;
const D = 24 * H;
const T = (iso: string) => Date.parse(iso);
const facts = (o: Partial<Facts> = {}): Facts => ({ evaluate: () => false, random: () => 0, timeZone: 'UTC', ...o });
const enter = (event?: { name: string; properties?: Record<string, unknown> }, at = 0): JourneyInput => ({
  kind: 'enter',
  version: 3,
  entryId: 'e1',
  ...(event ? { event: { name: event.name, properties: event.properties ?? {}, timestamp: at } } : {}),
});
const ev = (name: string, at: number, properties: Record<string, unknown> = {}): JourneyInput => ({ kind: 'event', event: { name, properties, timestamp: at } });

const journey = (nodes: JourneyDefinition['nodes'], extra: Partial<JourneyDefinition> = {}): JourneyDefinition => ({
  name: 'T',
  topic: 'promo',
  priority: 20,
  entry: { kind: 'api' },
  reentry: { policy: 'always' },
  start: Object.keys(nodes)[0]!,
  nodes,
  ...extra,
});

describe('cart abandonment on a simulated clock', () => {
  const def = cartAbandonment({ templates: { email: 'tpl_cart_email', sms: 'tpl_cart_sms' } });
  const t0 = T('2026-05-01T12:00:00Z');
  const f = facts();

  it('email after 1 h, an order mid-wait converts and exits, no SMS', () => {
    const r1 = advance(def, null, enter({ name: 'Product Added', properties: { sku: 'A1' } }, t0), t0, f);
    expect(r1.state).toMatchObject({ node: 'wait_1h', status: 'waiting', waitingUntil: t0 + H, waitingFor: { event: 'Order Completed' } });
    expect(r1.actions).toEqual([{ kind: 'schedule', at: t0 + H }]);

    const r2 = advance(def, r1.state, { kind: 'timer' }, t0 + H, f);
    expect(r2.actions).toEqual([
      { kind: 'send', nodeId: 'email', channel: 'email', templates: { email: 'tpl_cart_email' }, topic: 'cart', priority: 70, step: '3:email:e1', promotes: { fromTrigger: true } },
      { kind: 'schedule', at: t0 + 24 * H },
    ]);
    expect(r2.state).toMatchObject({ node: 'wait_23h', status: 'waiting', waitingUntil: t0 + 24 * H });

    const r3 = advance(def, r2.state, ev('Order Completed', t0 + 2 * H, { channel: 'store' }), t0 + 2 * H, f);
    expect(r3.actions).toEqual([{ kind: 'converted' }, { kind: 'exit', reason: 'goal' }]);
    expect(r3.state).toMatchObject({ status: 'converted', exitReason: 'goal', convertedAt: t0 + 2 * H });
    expect(r3.state.waitingUntil).toBeUndefined();

    const r4 = advance(def, r3.state, { kind: 'timer' }, t0 + 24 * H, f);
    expect(r4.actions).toEqual([]);
    expect(r3.state.path).toEqual(['wait_1h', 'email', 'wait_23h']);
  });

  it('without an order: SMS after 24 h, then exit', () => {
    let s = advance(def, null, enter({ name: 'Product Added' }, t0), t0, f).state;
    s = advance(def, s, { kind: 'timer' }, t0 + H, f).state;
    const r = advance(def, s, { kind: 'timer' }, t0 + 24 * H, f);
    expect(r.actions).toEqual([
      { kind: 'send', nodeId: 'sms', channel: 'sms', templates: { sms: 'tpl_cart_sms' }, topic: 'cart', priority: 70, step: '3:sms:e1', promotes: { fromTrigger: true } },
      { kind: 'exit', reason: 'completed' },
    ]);
    expect(r.state.status).toBe('exited');
  });

  it('replaying the same inputs gives the same actions (crash recovery)', () => {
    const s = advance(def, null, enter({ name: 'Product Added' }, t0), t0, f).state;
    const a = advance(def, s, { kind: 'timer' }, t0 + H, f);
    const b = advance(def, s, { kind: 'timer' }, t0 + H, f);
    expect(b).toEqual(a);
    expect(s.node).toBe('wait_1h'); // the input state is not modified
  });

  it('an early timer moves nothing and asks for the timer again', () => {
    const s = advance(def, null, enter({ name: 'Product Added' }, t0), t0, f).state;
    const r = advance(def, s, { kind: 'timer' }, t0 + H - 1, f);
    expect(r.actions).toEqual([{ kind: 'schedule', at: t0 + H }]);
    expect(r.state).toEqual(s);
  });

  it('an unrelated event is ignored; a late event after the timeout takes the timeout branch first', () => {
    const s = advance(def, null, enter({ name: 'Product Added' }, t0), t0, f).state;
    expect(advance(def, s, ev('Page Viewed', t0 + 1), t0 + 1, f).actions).toEqual([]);
    const late = advance(def, s, ev('Page Viewed', t0 + 2 * H), t0 + 2 * H, f);
    expect(late.actions.map((a) => a.kind)).toEqual(['send', 'schedule']);
  });
});

describe('goals and exit rules', () => {
  const def = journey(
    {
      w: { kind: 'wait_until', until: { event: 'Clicked' }, timeoutAfter: { amount: 3, unit: 'days' }, next: 'yes', onTimeout: 'no' },
      yes: { kind: 'exit', reason: 'clicked' },
      no: { kind: 'exit', reason: 'timeout' },
    },
    { goal: { event: 'Order Completed', filters: [{ path: 'total', op: 'gte', value: 50 }], withinDays: 1 }, exits: [{ segment: 'unsubscribed', op: 'entered' }, { event: 'Refund' }] },
  );
  const s0 = advance(def, null, enter(), 0, facts()).state;
  const cases: [string, JourneyInput, number, object[], Partial<JourneyState>][] = [
    ['goal met', ev('Order Completed', 2 * H, { total: 80 }), 2 * H, [{ kind: 'converted' }, { kind: 'exit', reason: 'goal' }], { status: 'converted' }],
    ['goal filters not met', ev('Order Completed', 2 * H, { total: 10 }), 2 * H, [], { status: 'waiting' }],
    ['goal after its window', ev('Order Completed', 2 * D, { total: 80 }), 2 * D, [{ kind: 'exit', reason: 'goal_after_window' }], { status: 'exited' }],
    ['segment exit rule mid-wait', { kind: 'segment', segmentId: 'unsubscribed', change: 'entered' }, H, [{ kind: 'exit', reason: 'exit_rule:0' }], { status: 'exited' }],
    ['segment change of the other direction', { kind: 'segment', segmentId: 'unsubscribed', change: 'left' }, H, [], { status: 'waiting' }],
    ['event exit rule', ev('Refund', H), H, [{ kind: 'exit', reason: 'exit_rule:1' }], { status: 'exited' }],
    ['the awaited event', ev('Clicked', H), H, [{ kind: 'exit', reason: 'clicked' }], { status: 'exited', exitReason: 'clicked' }],
  ];
  it.each(cases)('%s', (_n, input, now, actions, state) => {
    const r = advance(def, s0, input, now, facts());
    expect(r.actions).toEqual(actions);
    expect(r.state).toMatchObject(state);
  });
});

describe('delays in the person’s zone', () => {
  const cases: [string, string, { time: string; weekdays?: number[] } | { amount: number; unit: 'days' | 'hours' }, string][] = [
    ['until 09:00 across London spring-forward', '2026-03-28T10:00:00Z', { time: '09:00' }, '2026-03-29T08:00:00Z'],
    ['until 09:00 across London fall-back', '2026-10-24T12:00:00Z', { time: '09:00' }, '2026-10-25T09:00:00Z'],
    ['until 09:00 later the same day', '2026-03-29T06:00:00Z', { time: '09:00' }, '2026-03-29T08:00:00Z'],
    ['until 09:00 on Mondays', '2026-03-28T10:00:00Z', { time: '09:00', weekdays: [1] }, '2026-03-30T08:00:00Z'],
    ['1 day = same wall time, 23 h', '2026-03-28T10:00:00Z', { amount: 1, unit: 'days' }, '2026-03-29T09:00:00Z'],
    ['24 hours = elapsed time', '2026-03-28T10:00:00Z', { amount: 24, unit: 'hours' }, '2026-03-29T10:00:00Z'],
  ];
  it.each(cases)('%s', (_n, from, spec, want) => {
    const zone = 'Europe/London';
    const at = 'time' in spec ? nextLocalTime(T(from), spec.time, spec.weekdays, zone) : addDuration(T(from), spec, zone);
    expect(new Date(at).toISOString()).toBe(new Date(want).toISOString());
  });

  it('a delay node schedules 09:00 New York time across its DST change', () => {
    const def = journey({ d: { kind: 'delay', until: { time: '09:00' }, next: 'x' }, x: { kind: 'exit' } });
    // Sat 2026-03-07 20:00 EST; the clocks go forward on Sunday 2026-03-08 → 09:00 EDT = 13:00Z
    const r = advance(def, null, enter(), T('2026-03-08T01:00:00Z'), facts({ timeZone: 'America/New_York' }));
    expect(r.actions).toEqual([{ kind: 'schedule', at: T('2026-03-08T13:00:00Z') }]);
    expect(r.state).toMatchObject({ status: 'waiting', node: 'd', waitingUntil: T('2026-03-08T13:00:00Z') });
  });
});

describe('random split and holdout', () => {
  const def = journey({
    r: { kind: 'random_split', branches: [{ weight: 45, next: 'a' }, { weight: 45, next: 'b' }], holdout: 10 },
    a: { kind: 'exit', reason: 'A' },
    b: { kind: 'exit', reason: 'B' },
  });
  const cases: [number, string][] = [
    [0, 'A'],
    [0.449, 'A'],
    [0.45, 'B'],
    [0.89, 'B'],
    [0.9, 'holdout'],
    [0.999, 'holdout'],
  ];
  it.each(cases)('random %f → %s', (r, reason) => {
    const a = advance(def, null, enter(), 0, facts({ random: () => r }));
    const b = advance(def, null, enter(), 0, facts({ random: () => r }));
    expect(a).toEqual(b);
    expect(a.state.exitReason).toBe(reason);
  });

  it('weights under 100 without holdout are shares of their total', () => {
    const d = journey({ r: { kind: 'random_split', branches: [{ weight: 30, next: 'a' }, { weight: 30, next: 'b' }] }, a: { kind: 'exit', reason: 'A' }, b: { kind: 'exit', reason: 'B' } });
    expect(checkJourney(d)).toEqual([]);
    expect(advance(d, null, enter(), 0, facts({ random: () => 0.6 })).state.exitReason).toBe('B');
  });
});

describe('instant nodes', () => {
  it('walks split (trigger event), update_trait, list, webhook, send, jump in one step', () => {
    const def = journey({
      s: { kind: 'split', condition: { kind: 'trigger', filters: [{ path: 'products[].category', op: 'eq', value: 'candles' }] }, yes: 'm', no: 'x' },
      m: { kind: 'multi_split', branches: [{ condition: { kind: 'list', listId: 'vip' }, next: 'x' }, { condition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'pro' }, next: 't' }], else: 'x' },
      t: { kind: 'update_trait', trait: 'candle_fan', value: true, next: 'l' },
      l: { kind: 'list', op: 'add', listId: 'fans', next: 'h' },
      h: { kind: 'webhook', templateId: 'wh1', next: 'p' },
      p: { kind: 'send', channel: 'best', templates: { push: 'tp', email: 'te' }, topic: 'offers', priority: 90, next: 'j' },
      j: { kind: 'jump', journeyId: 'jrn_2' },
      x: { kind: 'exit' },
    }, { promotes: { categories: ['candles'] } });
    expect(checkJourney(def)).toEqual([]);
    const f = facts({ evaluate: (c) => c.kind === 'trait' });
    const r = advance(def, null, enter({ name: 'Order Completed', properties: { products: [{ category: 'Soap' }, { category: 'Candles' }] } }), 5, f);
    expect(r.actions).toEqual([
      { kind: 'update_trait', nodeId: 't', trait: 'candle_fan', value: true },
      { kind: 'list', nodeId: 'l', op: 'add', listId: 'fans' },
      { kind: 'webhook', nodeId: 'h', templateId: 'wh1', step: '3:h:e1' },
      { kind: 'send', nodeId: 'p', channel: 'best', templates: { push: 'tp', email: 'te' }, topic: 'offers', priority: 90, step: '3:p:e1', promotes: { categories: ['candles'] } },
      { kind: 'jump', nodeId: 'j', journeyId: 'jrn_2' },
      { kind: 'exit', reason: 'jump' },
    ]);
    expect(r.state.path).toEqual(['s', 'm', 't', 'l', 'h', 'p', 'j']);
    // No triggering event (API entry): the trigger condition is false.
    expect(advance(def, null, enter(), 5, f).actions).toEqual([{ kind: 'exit', reason: 'exit_node' }]);
  });

  it('a send visited again through a loop gets a new step id', () => {
    const def = journey({
      s: { kind: 'send', channel: 'email', templates: { email: 't' }, next: 'd' },
      d: { kind: 'delay', duration: { amount: 1, unit: 'days' }, next: 's' },
    });
    expect(checkJourney(def)).toEqual([]);
    const r1 = advance(def, null, enter(), 0, facts());
    const r2 = advance(def, r1.state, { kind: 'timer' }, D, facts());
    expect([r1.actions[0], r2.actions[0]].map((a) => (a as { step: string }).step)).toEqual(['3:s:e1', '3:s:e1:2']);
  });

  it('the instant-step guard exits a run that would loop forever', () => {
    // Valid graph (the cycle passes through a wait_until), but the segment condition is already true on arrival.
    const def = journey({
      w: { kind: 'wait_until', until: { segment: 'vip', op: 'entered' }, timeoutAfter: { amount: 1, unit: 'days' }, next: 'u', onTimeout: 'x' },
      u: { kind: 'update_trait', trait: 'n', value: 1, next: 'w' },
      x: { kind: 'exit' },
    });
    expect(checkJourney(def)).toEqual([]);
    const r = advance(def, null, enter(), 0, facts({ evaluate: () => true }));
    expect(r.actions.filter((a) => a.kind === 'update_trait')).toHaveLength(MAX_INSTANT_STEPS / 2);
    expect(r.actions.at(-1)).toEqual({ kind: 'exit', reason: 'instant_step_limit' });
    expect(r.state).toMatchObject({ status: 'exited', exitReason: 'instant_step_limit' });
  });

  it('a wait on a segment not yet satisfied waits, and the segment change wakes it', () => {
    const def = journey({
      w: { kind: 'wait_until', until: { segment: 'vip', op: 'entered' }, timeoutAfter: { amount: 1, unit: 'days' }, next: 'y', onTimeout: 'x' },
      y: { kind: 'exit', reason: 'vip' },
      x: { kind: 'exit' },
    });
    const s = advance(def, null, enter(), 0, facts()).state;
    expect(s).toMatchObject({ status: 'waiting', waitingFor: { segment: 'vip', op: 'entered' }, waitingUntil: D });
    expect(advance(def, s, { kind: 'segment', segmentId: 'vip', change: 'entered' }, H, facts()).state.exitReason).toBe('vip');
  });
});

describe('mayEnter', () => {
  const cases: [string, JourneyDefinition['reentry'], number | undefined, { count: number; lastEnteredAt?: number; active: boolean }, number, boolean][] = [
    ['first entry', { policy: 'once' }, undefined, { count: 0, active: false }, 0, true],
    ['once, again', { policy: 'once' }, undefined, { count: 1, lastEnteredAt: 0, active: false }, D, false],
    ['always, again', { policy: 'always' }, undefined, { count: 5, lastEnteredAt: 0, active: false }, 1, true],
    ['always, while in it', { policy: 'always' }, undefined, { count: 1, lastEnteredAt: 0, active: true }, 1, false],
    ['every 7 d, too soon', { policy: 'every', days: 7 }, undefined, { count: 1, lastEnteredAt: 0, active: false }, 6 * D, false],
    ['every 7 d, after', { policy: 'every', days: 7 }, undefined, { count: 1, lastEnteredAt: 0, active: false }, 7 * D, true],
    ['entry limit reached', { policy: 'always' }, 2, { count: 2, lastEnteredAt: 0, active: false }, D, false],
  ];
  it.each(cases)('%s', (_n, reentry, entryLimit, h, now, want) => {
    expect(mayEnter({ reentry, ...(entryLimit ? { entryLimit } : {}) }, h, now)).toBe(want);
  });
});
