import { describe, expect, it } from 'vitest';
import { type JourneyDefinition, checkJourney } from './definition.ts';
import {
  PLAYBOOKS,
  PLAYBOOK_INFO,
  type PlaybookParam,
  birthday,
  browseAbandonment,
  cartAbandonment,
  checkoutAbandonment,
  pickupReady,
  postPurchase,
  storeVisit,
  welcomeSeries,
  winBack,
} from './playbooks.ts';
import { type Facts, type JourneyAction, type JourneyInput, type StepResult, advance, eventMatches, mayEnter } from './step.ts';

const facts: Facts = { evaluate: () => false, random: () => 0, timeZone: 'Europe/Paris' };
const playbooks = [
  ['welcome series', welcomeSeries({ templates: { welcome: 'w1', second: 'w2', third: 'w3' } })],
  ['cart abandonment', cartAbandonment({ templates: { email: 'c1', sms: 'c2' }, products: ['sku_1'] })],
  ['post-purchase', postPurchase({ templates: { thanks: 'p1', crossSell: 'p2', review: 'p3' } })],
  ['browse abandonment', browseAbandonment({ templates: { email: 'b1', push: 'b2' } })],
  ['win-back', winBack({ templates: { email: 'r1', offerSms: 'r2', offerEmail: 'r3' }, atRiskSegment: 'seg_at_risk' })],
  ['checkout abandonment', checkoutAbandonment({ templates: { email: 'k1', reminderEmail: 'k2', reminderSms: 'k3', reminderPush: 'k4' }, products: ['sku_1'] })],
  ['checkout abandonment, email only', checkoutAbandonment({ templates: { email: 'k1', reminderEmail: 'k2' } })],
  ['birthday', birthday({ templates: { email: 'd1', sms: 'd2' }, trait: 'born_on', offsetDays: -3 })],
  ['birthday, email only', birthday({ templates: { email: 'd1' } })],
  ['store visit', storeVisit({ templates: { sms: 's1' }, storeIds: ['st_1', 'st_2'] })],
  ['store visit, one store', storeVisit({ templates: { sms: 's1' }, storeIds: ['st_1'] })],
  ['store visit, any store', storeVisit({ templates: { sms: 's1' } })],
  ['pickup ready', pickupReady({ templates: { sms: 'u1', push: 'u2', email: 'u3', reminderSms: 'u4' } })],
  ['pickup ready, no email', pickupReady({ templates: { sms: 'u1', push: 'u2', reminderSms: 'u4' }, topic: 'orders' })],
] as const;

describe('playbooks', () => {
  it.each(playbooks)('%s passes checkJourney', (_n, def) => {
    expect(checkJourney(def)).toEqual([]);
  });

  it.each(playbooks)('%s uses the template ids it was given', (_n, def) => {
    const ids = Object.values(def.nodes).flatMap((n) => (n.kind === 'send' ? Object.values(n.templates) : []));
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((id) => /^[a-z]\d$/.test(id!))).toBe(true);
  });

  it('welcome series: three emails over 7 days, then done', () => {
    const def = welcomeSeries({ templates: { welcome: 'w1', second: 'w2', third: 'w3' } });
    const t0 = Date.parse('2026-03-27T10:00:00Z');
    const sends: string[] = [];
    let r = advance(def, null, { kind: 'enter', version: 1, entryId: 'e', event: { name: 'Signed Up', properties: {}, timestamp: t0 } }, t0, facts);
    for (let i = 0; i < 5 && r.state.status === 'waiting'; i++) {
      for (const a of r.actions) if (a.kind === 'send') sends.push(a.templates.email!);
      r = advance(def, r.state, { kind: 'timer' }, r.state.waitingUntil!, facts);
    }
    for (const a of r.actions) if (a.kind === 'send') sends.push(a.templates.email!);
    expect(sends).toEqual(['w1', 'w2', 'w3']);
    expect(r.state.exitReason).toBe('completed');
  });
});

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const T = (iso: string) => Date.parse(iso);
const ev = (name: string, at: number, properties: Record<string, unknown> = {}): JourneyInput => ({ kind: 'event', event: { name, properties, timestamp: at } });
const enter = (name?: string, at = 0, properties: Record<string, unknown> = {}): JourneyInput => ({
  kind: 'enter',
  version: 1,
  entryId: 'e1',
  ...(name ? { event: { name, properties, timestamp: at } } : {}),
});
const sends = (r: StepResult) => r.actions.filter((a): a is Extract<JourneyAction, { kind: 'send' }> => a.kind === 'send').map((a) => ({ node: a.nodeId, channel: a.channel, templates: a.templates, topic: a.topic }));
const timer = (def: JourneyDefinition, r: StepResult, f: Facts) => advance(def, r.state, { kind: 'timer' }, r.state.waitingUntil!, f);

describe('checkout abandonment', () => {
  const def = checkoutAbandonment({ templates: { email: 'k1', reminderEmail: 'k2', reminderSms: 'k3' } });
  const t0 = T('2026-05-01T12:00:00Z');

  it('no order: an email after 30 min, a best-channel reminder a day later, then done', () => {
    const r0 = advance(def, null, enter('Checkout Started', t0), t0, facts);
    expect(r0.state).toMatchObject({ node: 'wait_30m', status: 'waiting', waitingUntil: t0 + 30 * M });
    const r1 = timer(def, r0, facts);
    expect(sends(r1)).toEqual([{ node: 'email', channel: 'email', templates: { email: 'k1' }, topic: 'checkout' }]);
    expect(r1.state).toMatchObject({ node: 'wait_1d', waitingUntil: t0 + 30 * M + D });
    const r2 = timer(def, r1, facts);
    expect(sends(r2)).toEqual([{ node: 'remind', channel: 'best', templates: { email: 'k2', sms: 'k3' }, topic: 'checkout' }]);
    expect(r2.state).toMatchObject({ status: 'exited', exitReason: 'completed' });
  });

  it('an order within 30 min converts before any message', () => {
    const r0 = advance(def, null, enter('Checkout Started', t0), t0, facts);
    const r1 = advance(def, r0.state, ev('Order Completed', t0 + 10 * M), t0 + 10 * M, facts);
    expect(r1.actions).toEqual([{ kind: 'converted' }, { kind: 'exit', reason: 'goal' }]);
  });

  it('an order after the email converts: no reminder', () => {
    const r1 = timer(def, advance(def, null, enter('Checkout Started', t0), t0, facts), facts);
    const r2 = advance(def, r1.state, ev('Order Completed', t0 + 5 * H), t0 + 5 * H, facts);
    expect(r2.state.status).toBe('converted');
    expect(advance(def, r2.state, { kind: 'timer' }, t0 + 2 * D, facts).actions).toEqual([]);
  });
});

describe('birthday', () => {
  it('enters on the date trait at 09:00 local, every year', () => {
    expect(birthday({ templates: { email: 'd1' } }).entry).toEqual({ kind: 'date_trait', trait: 'birthday', offsetDays: 0, time: '09:00', recurring: true });
    expect(birthday({ templates: { email: 'd1' }, trait: 'born_on', offsetDays: -7 }).entry).toMatchObject({ trait: 'born_on', offsetDays: -7 });
  });

  it('an email then an SMS, on the birthday topic, and done', () => {
    const def = birthday({ templates: { email: 'd1', sms: 'd2' } });
    const r = advance(def, null, enter(), T('2026-06-10T07:00:00Z'), facts);
    expect(sends(r)).toEqual([
      { node: 'greet', channel: 'email', templates: { email: 'd1' }, topic: 'birthday' },
      { node: 'sms', channel: 'sms', templates: { sms: 'd2' }, topic: 'birthday' },
    ]);
    expect(r.state).toMatchObject({ status: 'exited', exitReason: 'completed' });
    expect(sends(advance(birthday({ templates: { email: 'd1' } }), null, enter(), 0, facts)).map((x) => x.node)).toEqual(['greet']);
  });

  it('re-enters next year, not twice in one year', () => {
    const def = birthday({ templates: { email: 'd1' } });
    const h = { count: 1, lastEnteredAt: 0, active: false };
    expect(mayEnter(def, h, 200 * D)).toBe(false);
    expect(mayEnter(def, h, 365 * D)).toBe(true);
  });

  it('an offset outside ±366 days fails checkJourney', () => {
    expect(checkJourney(birthday({ templates: { email: 'd1' }, offsetDays: 400 }))[0]?.path).toBe('entry.offsetDays');
  });
});

describe('store visit', () => {
  const def = storeVisit({ templates: { sms: 's1' }, storeIds: ['st_1', 'st_2'] });
  const visit = (properties: Record<string, unknown>) => ({ name: 'Store Visited', properties, timestamp: 0 });
  const entryMatch = (d: JourneyDefinition) => d.entry as { event: string; filters?: [] };

  it('enters only for the listed stores (in; eq for one; no filter for any)', () => {
    expect(eventMatches(entryMatch(def), visit({ store_id: 'st_2' }), 0)).toBe(true);
    expect(eventMatches(entryMatch(def), visit({ store_id: 'st_9' }), 0)).toBe(false);
    const one = storeVisit({ templates: { sms: 's1' }, storeIds: ['st_1'] });
    expect(one.entry).toMatchObject({ filters: [{ path: 'store_id', op: 'eq', value: 'st_1' }] });
    expect(eventMatches(entryMatch(one), visit({ store_id: 'ST_1' }), 0)).toBe(true);
    expect(eventMatches(entryMatch(storeVisit({ templates: { sms: 's1' } })), visit({ store_id: 'any' }), 0)).toBe(true);
    expect(() => storeVisit({ templates: { sms: 's1' }, storeIds: [] })).toThrow(/storeIds must not be empty/);
  });

  it('a store running a promotion → the sale SMS on the store topic', () => {
    const r = advance(def, null, enter('Store Visited', 0, { store_id: 'st_1', promotion_active: true }), 0, facts);
    expect(sends(r)).toEqual([{ node: 'sms', channel: 'sms', templates: { sms: 's1' }, topic: 'store' }]);
    expect(r.state.exitReason).toBe('completed');
  });

  it.each([
    ['false', { promotion_active: false }],
    ['missing', {}],
    ["the string 'true' (must be a boolean)", { promotion_active: 'true' }],
  ])('no promotion (%s) → no SMS', (_n, props) => {
    const r = advance(def, null, enter('Store Visited', 0, { store_id: 'st_1', ...props }), 0, facts);
    expect(sends(r)).toEqual([]);
    expect(r.state.exitReason).toBe('no_promotion');
  });

  it('at most once a day', () => {
    const h = { count: 1, lastEnteredAt: 0, active: false };
    expect([mayEnter(def, h, 20 * H), mayEnter(def, h, D)]).toEqual([false, true]);
  });
});

describe('pickup ready', () => {
  const def = pickupReady({ templates: { sms: 'u1', push: 'u2', email: 'u3', reminderSms: 'u4' } });
  const t0 = T('2026-05-01T15:00:00Z');
  const ready = enter('Order Ready for Pickup', t0, { order_id: 'o1', store: { address: '1 Main St' } });

  it('a notice on the best channel, the trigger kept for the templates; picked up → no reminder', () => {
    const r0 = advance(def, null, ready, t0, facts);
    expect(sends(r0)).toEqual([{ node: 'ready', channel: 'best', templates: { sms: 'u1', push: 'u2', email: 'u3' }, topic: 'pickup' }]);
    expect(r0.state.trigger?.properties).toMatchObject({ store: { address: '1 Main St' } });
    expect(r0.state).toMatchObject({ node: 'wait_pickup', waitingUntil: t0 + 2 * D, waitingFor: { event: 'Order Picked Up' } });
    const r1 = advance(def, r0.state, ev('Order Picked Up', t0 + 5 * H), t0 + 5 * H, facts);
    expect(r1.actions).toEqual([{ kind: 'exit', reason: 'picked_up' }]);
    expect(advance(def, r1.state, { kind: 'timer' }, t0 + 2 * D, facts).actions).toEqual([]);
  });

  it('not picked up within 2 days → a reminder SMS, then done', () => {
    const r0 = advance(def, null, ready, t0, facts);
    expect(advance(def, r0.state, { kind: 'timer' }, t0 + 2 * D - 1, facts).actions).toEqual([{ kind: 'schedule', at: t0 + 2 * D }]);
    const r1 = timer(def, r0, facts);
    expect(sends(r1)).toEqual([{ node: 'reminder', channel: 'sms', templates: { sms: 'u4' }, topic: 'pickup' }]);
    expect(r1.state).toMatchObject({ status: 'exited', exitReason: 'completed' });
  });

  it('every order may enter (after the previous run ended)', () => {
    expect(mayEnter(def, { count: 3, lastEnteredAt: t0, active: false }, t0 + 1)).toBe(true);
    expect(pickupReady({ templates: { sms: 'u1', push: 'u2', reminderSms: 'u4' }, topic: 'orders' }).topic).toBe('orders');
  });
});

describe('PLAYBOOK_INFO', () => {
  /** A value for each parameter, by its type, set at its dotted path. */
  const sample = (params: PlaybookParam[], which: (p: PlaybookParam) => boolean) => {
    const arg: Record<string, unknown> = {};
    params.filter(which).forEach((p, i) => {
      const value = p.type === 'template' ? `tpl_${i}` : p.type === 'products' || p.type === 'stores' ? ['id_1', 'id_2'] : p.type === 'days' ? 1 : `${p.type}_${i}`;
      const keys = p.name.split('.');
      let o = arg;
      for (const k of keys.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
      o[keys.at(-1)!] = value;
    });
    return arg;
  };

  it('lists every playbook once, with a name, a description and parameters', () => {
    expect(PLAYBOOK_INFO.map((i) => i.key)).toEqual(Object.keys(PLAYBOOKS));
    for (const i of PLAYBOOK_INFO) {
      expect(i.name).not.toBe('');
      expect(i.description).toMatch(/^[A-Z].*\.$/);
      expect(new Set(i.params.map((p) => p.name)).size).toBe(i.params.length);
      expect(i.params.some((p) => p.required && p.type === 'template')).toBe(true);
    }
  });

  it.each(PLAYBOOK_INFO.map((i) => [i.key, i] as const))('%s: built from its listed parameters it passes checkJourney and uses every template given', (key, info) => {
    const build = PLAYBOOKS[key] as (p: Record<string, unknown>) => JourneyDefinition;
    for (const which of [(p: PlaybookParam) => p.required, () => true]) {
      const arg = sample(info.params, which);
      const def = build(arg);
      expect(checkJourney(def)).toEqual([]);
      const used = new Set(Object.values(def.nodes).flatMap((n) => (n.kind === 'send' ? Object.values(n.templates) : [])));
      const given = Object.values((arg.templates ?? {}) as Record<string, string>);
      expect([...used].sort()).toEqual([...given].sort());
    }
  });
});
