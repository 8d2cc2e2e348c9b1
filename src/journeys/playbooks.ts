// Ready-made journeys as data: each is a function of the template ids (and segment ids) a workspace uses, returning a
// plain definition the marketer can edit before publishing. Every playbook passes checkJourney (playbooks.test.ts).
import type { JourneyDefinition } from './definition.ts';

const ORDER = 'Order Completed';

/** Signup → email, 2 days, email, 5 days, email; the first order ends it (converted). */
export function welcomeSeries(p: { templates: { welcome: string; second: string; third: string }; signupEvent?: string }): JourneyDefinition {
  return {
    name: 'Welcome series',
    topic: 'newsletter',
    priority: 40,
    entry: { kind: 'event', event: p.signupEvent ?? 'Signed Up' },
    reentry: { policy: 'once' },
    goal: { event: ORDER, withinDays: 14 },
    exits: [{ event: ORDER }],
    start: 'welcome',
    nodes: {
      welcome: { kind: 'send', channel: 'email', templates: { email: p.templates.welcome }, next: 'wait_2d' },
      wait_2d: { kind: 'delay', duration: { amount: 2, unit: 'days' }, next: 'second' },
      second: { kind: 'send', channel: 'email', templates: { email: p.templates.second }, next: 'wait_5d' },
      wait_5d: { kind: 'delay', duration: { amount: 5, unit: 'days' }, next: 'third' },
      third: { kind: 'send', channel: 'email', templates: { email: p.templates.third }, next: 'done' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/** Product Added, no order in 1 h → email; still none 23 h later → SMS. An order on any channel converts and ends it. */
export function cartAbandonment(p: { templates: { email: string; sms: string }; products?: string[] }): JourneyDefinition {
  return {
    name: 'Cart abandonment',
    topic: 'cart',
    priority: 70,
    ...(p.products ? { promotes: { products: p.products } } : {}),
    entry: { kind: 'event', event: 'Product Added' },
    reentry: { policy: 'every', days: 1 },
    goal: { event: ORDER, withinDays: 7 },
    exits: [{ event: ORDER }],
    start: 'wait_1h',
    nodes: {
      wait_1h: { kind: 'wait_until', until: { event: ORDER }, timeoutAfter: { amount: 1, unit: 'hours' }, next: 'ordered', onTimeout: 'email' },
      email: { kind: 'send', channel: 'email', templates: { email: p.templates.email }, next: 'wait_23h' },
      wait_23h: { kind: 'wait_until', until: { event: ORDER }, timeoutAfter: { amount: 23, unit: 'hours' }, next: 'ordered', onTimeout: 'sms' },
      sms: { kind: 'send', channel: 'sms', templates: { sms: p.templates.sms }, next: 'done' },
      ordered: { kind: 'exit', reason: 'ordered' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/** Order → thank you; 7 days later a cross-sell; once delivered (or after 14 days without) a review request. */
export function postPurchase(p: { templates: { thanks: string; crossSell: string; review: string } }): JourneyDefinition {
  return {
    name: 'Post-purchase',
    topic: 'post_purchase',
    priority: 50,
    entry: { kind: 'event', event: ORDER },
    reentry: { policy: 'always' },
    start: 'thanks',
    nodes: {
      thanks: { kind: 'send', channel: 'email', templates: { email: p.templates.thanks }, next: 'wait_7d' },
      wait_7d: { kind: 'delay', duration: { amount: 7, unit: 'days' }, next: 'cross_sell' },
      cross_sell: { kind: 'send', channel: 'best', templates: { email: p.templates.crossSell }, next: 'delivered' },
      delivered: { kind: 'wait_until', until: { event: 'Order Delivered' }, timeoutAfter: { amount: 14, unit: 'days' }, next: 'after_delivery', onTimeout: 'review' },
      after_delivery: { kind: 'delay', duration: { amount: 2, unit: 'days' }, next: 'review' },
      review: { kind: 'send', channel: 'email', templates: { email: p.templates.review }, next: 'done' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/** Product Viewed, nothing added to the cart in 4 h → a reminder on the best channel at 10:00 local. */
export function browseAbandonment(p: { templates: { email: string; push?: string } }): JourneyDefinition {
  return {
    name: 'Browse abandonment',
    topic: 'browse',
    priority: 30,
    entry: { kind: 'event', event: 'Product Viewed' },
    reentry: { policy: 'every', days: 7 },
    goal: { event: ORDER, withinDays: 3 },
    exits: [{ event: ORDER }, { event: 'Product Added' }],
    start: 'wait_4h',
    nodes: {
      wait_4h: { kind: 'wait_until', until: { event: 'Product Added' }, timeoutAfter: { amount: 4, unit: 'hours' }, next: 'added', onTimeout: 'morning' },
      morning: { kind: 'delay', until: { time: '10:00' }, next: 'remind' },
      remind: { kind: 'send', channel: 'best', templates: { email: p.templates.email, ...(p.templates.push ? { push: p.templates.push } : {}) }, next: 'done' },
      added: { kind: 'exit', reason: 'added_to_cart' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/** Entering the RFM "at risk" stage segment → email; a week later, if still at risk, an offer by SMS (else email). */
export function winBack(p: { templates: { email: string; offerSms: string; offerEmail: string }; atRiskSegment: string }): JourneyDefinition {
  return {
    name: 'Win-back',
    topic: 'winback',
    priority: 35,
    entry: { kind: 'segment', segment: p.atRiskSegment, op: 'entered' },
    reentry: { policy: 'every', days: 90 },
    goal: { event: ORDER, withinDays: 30 },
    exits: [{ segment: p.atRiskSegment, op: 'left' }],
    start: 'miss_you',
    nodes: {
      miss_you: { kind: 'send', channel: 'email', templates: { email: p.templates.email }, next: 'wait_7d' },
      wait_7d: { kind: 'delay', duration: { amount: 7, unit: 'days' }, next: 'sms_ok' },
      sms_ok: { kind: 'split', condition: { kind: 'reachable', channel: 'sms' }, yes: 'offer_sms', no: 'offer_email' },
      offer_sms: { kind: 'send', channel: 'sms', templates: { sms: p.templates.offerSms }, next: 'done' },
      offer_email: { kind: 'send', channel: 'email', templates: { email: p.templates.offerEmail }, next: 'done' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

export const PLAYBOOKS = { welcomeSeries, cartAbandonment, postPurchase, browseAbandonment, winBack } as const;
