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
    // The cart's own product, and any the marketer names: buying it anywhere ends the reminders.
    promotes: { fromTrigger: true, ...(p.products ? { products: p.products } : {}) },
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
    promotes: { fromTrigger: true },
    entry: { kind: 'event', event: 'Product Viewed' },
    reentry: { policy: 'every', days: 7 },
    goal: { event: ORDER, withinDays: 3 },
    // Adding to the cart during the 4 h wait ends it at 'added' (the cart journey takes over); an order ends it anywhere.
    exits: [{ event: ORDER }],
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

/**
 * Checkout Started, no order in 30 min → email; still none a day later → a reminder on the best channel. Higher intent
 * than a cart (priority above cartAbandonment's), so a shorter first wait. An order converts and ends it.
 */
export function checkoutAbandonment(p: {
  templates: { email: string; reminderEmail: string; reminderSms?: string; reminderPush?: string };
  products?: string[];
}): JourneyDefinition {
  const t = p.templates;
  return {
    name: 'Checkout abandonment',
    topic: 'checkout',
    priority: 75,
    ...(p.products ? { promotes: { products: p.products } } : {}),
    entry: { kind: 'event', event: 'Checkout Started' },
    reentry: { policy: 'every', days: 1 },
    goal: { event: ORDER, withinDays: 7 },
    exits: [{ event: ORDER }],
    start: 'wait_30m',
    nodes: {
      // The goal sees an order first (converted); `next` only matters if a marketer removes the goal.
      wait_30m: { kind: 'wait_until', until: { event: ORDER }, timeoutAfter: { amount: 30, unit: 'minutes' }, next: 'ordered', onTimeout: 'email' },
      email: { kind: 'send', channel: 'email', templates: { email: t.email }, next: 'wait_1d' },
      wait_1d: { kind: 'wait_until', until: { event: ORDER }, timeoutAfter: { amount: 1, unit: 'days' }, next: 'ordered', onTimeout: 'remind' },
      remind: {
        kind: 'send',
        channel: 'best',
        templates: { email: t.reminderEmail, ...(t.reminderSms ? { sms: t.reminderSms } : {}), ...(t.reminderPush ? { push: t.reminderPush } : {}) },
        next: 'done',
      },
      ordered: { kind: 'exit', reason: 'ordered' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/**
 * A date trait (default `birthday`) → an email at 09:00 local on the day (`offsetDays` before / after), then an SMS
 * when a template is given; every year. Re-entry every 360 days, not 365: the anniversary comes back each year even
 * when leap years or the local 09:00 move it a little, yet a trait edited twice in a year cannot greet twice.
 */
export function birthday(p: { templates: { email: string; sms?: string }; trait?: string; offsetDays?: number }): JourneyDefinition {
  return {
    name: 'Birthday',
    topic: 'birthday',
    priority: 45,
    entry: { kind: 'date_trait', trait: p.trait ?? 'birthday', offsetDays: p.offsetDays ?? 0, time: '09:00', recurring: true },
    reentry: { policy: 'every', days: 360 },
    start: 'greet',
    nodes: {
      greet: { kind: 'send', channel: 'email', templates: { email: p.templates.email }, next: p.templates.sms ? 'sms' : 'done' },
      ...(p.templates.sms ? { sms: { kind: 'send' as const, channel: 'sms' as const, templates: { sms: p.templates.sms }, next: 'done' } } : {}),
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/**
 * Store Visited (at one of `storeIds`, or any store) → an SMS about the in-store sale, when the store runs one.
 *
 * Whether a promotion runs is a split on the triggering event's `promotion_active` (must be the boolean true; a
 * string 'true' does not match): the store system that emits the visit knows its promotions, per store and live. The
 * alternatives are worse: a profile trait is about the person, not the store; and a promotion window compared with
 * the visit time cannot be said at all — PropertyFilter compares an event *property* with constants, the event's
 * timestamp is not a property, and dates frozen into the definition would need a journey edit per promotion.
 * The split (not an entry filter) keeps the "no promotion" visits visible in the journey's exit metrics; the price is
 * that such a visit uses up the day's re-entry.
 */
export function storeVisit(p: { templates: { sms: string }; storeIds?: string[] }): JourneyDefinition {
  if (p.storeIds && p.storeIds.length === 0) throw new Error('storeVisit: storeIds must not be empty (leave it out for every store)');
  const ids = p.storeIds;
  const storeFilter = ids ? [ids.length === 1 ? { path: 'store_id', op: 'eq' as const, value: ids[0]! } : { path: 'store_id', op: 'in' as const, value: ids }] : undefined;
  return {
    name: 'In-store promotion',
    topic: 'store',
    priority: 55,
    entry: { kind: 'event', event: 'Store Visited', ...(storeFilter ? { filters: storeFilter } : {}) },
    reentry: { policy: 'every', days: 1 },
    start: 'promotion',
    nodes: {
      promotion: {
        kind: 'split',
        condition: { kind: 'trigger', event: 'Store Visited', filters: [{ path: 'promotion_active', op: 'eq', value: true }] },
        yes: 'sms',
        no: 'no_promotion',
      },
      sms: { kind: 'send', channel: 'sms', templates: { sms: p.templates.sms }, next: 'done' },
      no_promotion: { kind: 'exit', reason: 'no_promotion' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

/**
 * Order Ready for Pickup → a notice on the best channel (SMS, push, optionally email); not picked up within 2 days →
 * a reminder SMS. Templates are rendered with the triggering event, so they read the store's address from
 * `event.properties.store.address` (and the order from `event.properties.order_id`, as the event carries it).
 *
 * The topic (default 'pickup') must be a transactional topic in the workspace's messaging settings, so the notice
 * passes marketing unsubscribes, caps and quiet hours. Known limits of a definition that cannot refer back to its
 * trigger: any 'Order Picked Up' ends the wait (not only this order's), and since a person runs a journey once at a
 * time ('always' still refuses a concurrent run), a second order ready during the 2-day wait gets no notice.
 */
export function pickupReady(p: { templates: { sms: string; push: string; email?: string; reminderSms: string }; topic?: string }): JourneyDefinition {
  const t = p.templates;
  return {
    name: 'Order ready for pickup',
    topic: p.topic ?? 'pickup',
    priority: 90,
    entry: { kind: 'event', event: 'Order Ready for Pickup' },
    reentry: { policy: 'always' },
    start: 'ready',
    nodes: {
      ready: { kind: 'send', channel: 'best', templates: { sms: t.sms, push: t.push, ...(t.email ? { email: t.email } : {}) }, next: 'wait_pickup' },
      wait_pickup: { kind: 'wait_until', until: { event: 'Order Picked Up' }, timeoutAfter: { amount: 2, unit: 'days' }, next: 'picked_up', onTimeout: 'reminder' },
      reminder: { kind: 'send', channel: 'sms', templates: { sms: t.reminderSms }, next: 'done' },
      picked_up: { kind: 'exit', reason: 'picked_up' },
      done: { kind: 'exit', reason: 'completed' },
    },
  };
}

export const PLAYBOOKS = { welcomeSeries, cartAbandonment, postPurchase, browseAbandonment, winBack, checkoutAbandonment, birthday, storeVisit, pickupReady } as const;
export type PlaybookKey = keyof typeof PLAYBOOKS;

/** One parameter of a playbook, by its dotted path in the playbook's argument ('templates.email'). */
export interface PlaybookParam {
  name: string;
  /** what the value is: a template id, a segment id, an event / trait name, product or store ids, a number of days */
  type: 'template' | 'segment' | 'event' | 'trait' | 'products' | 'stores' | 'days' | 'topic';
  required: boolean;
  description: string;
}
export interface PlaybookInfo {
  key: PlaybookKey;
  name: string;
  description: string;
  params: PlaybookParam[];
}

const req = (name: string, type: PlaybookParam['type'], description: string): PlaybookParam => ({ name, type, required: true, description });
const opt = (name: string, type: PlaybookParam['type'], description: string): PlaybookParam => ({ name, type, required: false, description });

// A record first, so a playbook added to PLAYBOOKS without its gallery entry is a compile error.
const INFO: { [K in PlaybookKey]: Omit<PlaybookInfo, 'key'> } = {
  welcomeSeries: {
    name: 'Welcome series',
    description: 'Three emails over a week after signup; the first order ends it.',
    params: [req('templates.welcome', 'template', 'first email'), req('templates.second', 'template', 'after 2 days'), req('templates.third', 'template', 'after 5 more days'), opt('signupEvent', 'event', "default 'Signed Up'")],
  },
  cartAbandonment: {
    name: 'Cart abandonment',
    description: 'An email 1 hour after a product is added without an order, an SMS a day later.',
    params: [req('templates.email', 'template', 'after 1 hour'), req('templates.sms', 'template', 'after 24 hours'), opt('products', 'products', 'products the journey promotes')],
  },
  postPurchase: {
    name: 'Post-purchase',
    description: 'A thank-you, a cross-sell a week later and a review request after delivery.',
    params: [req('templates.thanks', 'template', 'right after the order'), req('templates.crossSell', 'template', 'after 7 days'), req('templates.review', 'template', 'after delivery')],
  },
  browseAbandonment: {
    name: 'Browse abandonment',
    description: 'A reminder at 10:00 local when a viewed product was not added to the cart within 4 hours.',
    params: [req('templates.email', 'template', 'the reminder'), opt('templates.push', 'template', 'the reminder as a push')],
  },
  winBack: {
    name: 'Win-back',
    description: 'An email when a customer becomes at risk, an offer a week later if still at risk.',
    params: [
      req('atRiskSegment', 'segment', 'the at-risk segment'),
      req('templates.email', 'template', 'we miss you'),
      req('templates.offerSms', 'template', 'the offer, for people reachable by SMS'),
      req('templates.offerEmail', 'template', 'the offer, for the others'),
    ],
  },
  checkoutAbandonment: {
    name: 'Checkout abandonment',
    description: 'An email 30 minutes after a checkout without an order, a reminder on the best channel a day later.',
    params: [
      req('templates.email', 'template', 'after 30 minutes'),
      req('templates.reminderEmail', 'template', 'the reminder after a day'),
      opt('templates.reminderSms', 'template', 'the reminder as an SMS'),
      opt('templates.reminderPush', 'template', 'the reminder as a push'),
      opt('products', 'products', 'products the journey promotes'),
    ],
  },
  birthday: {
    name: 'Birthday',
    description: 'A greeting at 09:00 local on the birthday (or days before / after), every year.',
    params: [req('templates.email', 'template', 'the greeting'), opt('templates.sms', 'template', 'a greeting by SMS as well'), opt('trait', 'trait', "the date trait, default 'birthday'"), opt('offsetDays', 'days', 'days before (< 0) or after (> 0), default 0')],
  },
  storeVisit: {
    name: 'In-store promotion',
    description: 'An SMS about the sale when someone visits a store that runs a promotion.',
    params: [req('templates.sms', 'template', 'the sale SMS'), opt('storeIds', 'stores', 'only these stores (default every store)')],
  },
  pickupReady: {
    name: 'Order ready for pickup',
    description: 'A pickup notice with the store address, and an SMS reminder after 2 days if not picked up.',
    params: [
      req('templates.sms', 'template', 'the notice as an SMS'),
      req('templates.push', 'template', 'the notice as a push'),
      opt('templates.email', 'template', 'the notice as an email'),
      req('templates.reminderSms', 'template', 'the reminder after 2 days'),
      opt('topic', 'topic', "a transactional topic, default 'pickup'"),
    ],
  },
};

/** The gallery: every playbook with a human name, a one-line description and the parameters it takes. */
export const PLAYBOOK_INFO: readonly PlaybookInfo[] = (Object.keys(PLAYBOOKS) as PlaybookKey[]).map((key) => ({ key, ...INFO[key] }));
