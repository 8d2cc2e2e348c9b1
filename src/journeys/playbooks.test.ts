import { describe, expect, it } from 'vitest';
import { checkJourney } from './definition.ts';
import { browseAbandonment, cartAbandonment, postPurchase, welcomeSeries, winBack } from './playbooks.ts';
import { type Facts, advance } from './step.ts';

const facts: Facts = { evaluate: () => false, random: () => 0, timeZone: 'Europe/Paris' };
const playbooks = [
  ['welcome series', welcomeSeries({ templates: { welcome: 'w1', second: 'w2', third: 'w3' } })],
  ['cart abandonment', cartAbandonment({ templates: { email: 'c1', sms: 'c2' }, products: ['sku_1'] })],
  ['post-purchase', postPurchase({ templates: { thanks: 'p1', crossSell: 'p2', review: 'p3' } })],
  ['browse abandonment', browseAbandonment({ templates: { email: 'b1', push: 'b2' } })],
  ['win-back', winBack({ templates: { email: 'r1', offerSms: 'r2', offerEmail: 'r3' }, atRiskSegment: 'seg_at_risk' })],
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
