// Journeys end to end on both backends, with real parts: events through the tracking API, the identity processor,
// the journey worker, the messaging outbox and arbiter, a real SMTP server and a local stand-in speaking Twilio's
// Messages API. A simulated clock (injected) moves hours and days.
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';
import { startTwilioStandin, type TwilioStandin } from './support/twilio-standin.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const HOUR = 3_600_000;
const MIN = 60_000;

describe.each(BACKENDS)('journeys (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let sms: TwilioStandin;
  // Tuesday 10 March 2026, 12:00 UTC.
  let now = Date.UTC(2026, 2, 10, 12, 0);
  const tpl: Record<string, string> = {};

  const at = () => new Date(now).toISOString();
  const ok = async (method: string, path: string, body?: unknown, status = 200) => {
    const r = await o.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
    return r.body;
  };
  const identify = async (userId: string, traits: Record<string, unknown>) => {
    expect((await o.track('/v1/identify', { userId, traits, context: { timezone: 'Europe/London' }, timestamp: at() })).status).toBe(200);
    await o.settle();
    return (await ok('GET', `/api/profiles/lookup?userId=${encodeURIComponent(userId)}`)).id as string;
  };
  const track = async (who: { userId?: string; anonymousId?: string }, event: string, properties: Record<string, unknown> = {}, context: Record<string, unknown> = {}) => {
    expect((await o.track('/v1/track', { ...who, event, properties, context, timestamp: at() })).status).toBe(200);
    await o.settle();
  };
  const advance = async (ms: number) => {
    now += ms;
    await o.settle();
  };
  const mailsTo = async (address: string) => (await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)))).filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.text.includes(address)));
  const smsTo = (phone: string) => sms.messages.filter((m) => m.to === phone);
  const publish = async (id: string) => ok('POST', `/api/journeys/${id}/publish`, {});

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    smtp = await startSmtpServer();
    sms = await startTwilioStandin();
    await ok('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.shop.test' });
    await ok('PUT', '/api/messaging/providers/sms', { baseUrl: sms.baseUrl, accountSid: sms.accountSid, authToken: sms.authToken, from: '+15005550006' });
    await ok('PUT', '/api/messaging/policy', { caps: [], quietHours: [] });
    const t = async (key: string, source: unknown) => {
      tpl[key] = (await ok('POST', '/api/templates', { name: key, source }, 201)).id;
    };
    const email = (subject: string) => ({ channel: 'email', subject, mjml: `<mj-section><mj-column><mj-text>${subject} {{ event.properties.product_id | default: "" }}</mj-text></mj-column></mj-section>` });
    await t('cartEmail', email('You left something in your cart'));
    await t('cartSms', { channel: 'sms', body: 'Still thinking about it? Your cart is waiting. Reply STOP to opt out' });
    await t('thanks', email('Thank you for your order'));
    await t('crossSell', email('You might also like'));
    await t('review', email('How was it?'));
    await t('promoA', email('Sale on sku-9 (A)'));
    await t('promoB', email('Sale on sku-9 (B)'));
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
    await sms?.close();
  });

  it('cart abandonment: email after 1 h, SMS after 24 h; a store purchase at hour 2 stops the SMS and starts post-purchase', async () => {
    const cart = await ok('POST', '/api/playbooks/cartAbandonment', { templates: { email: tpl.cartEmail, sms: tpl.cartSms } }, 201);
    expect(cart.status).toBe('draft');
    await publish(cart.id);
    const post = await ok('POST', '/api/playbooks/postPurchase', { templates: { thanks: tpl.thanks, crossSell: tpl.crossSell, review: tpl.review } }, 201);
    await publish(post.id);

    const consent = { email: 'subscribed', sms: 'subscribed' };
    const amy = await identify('amy', { email: 'amy@example.com', phone: '+447911123401', consent });
    const ben = await identify('ben', { email: 'ben@example.com', phone: '+447911123402', consent });
    await track({ userId: 'amy' }, 'Product Added', { product_id: 'sku-1', price: 20 });
    await track({ userId: 'ben' }, 'Product Added', { product_id: 'sku-2', price: 35 });
    let runs = (await ok('GET', `/api/profiles/${amy}/journeys`)).journeys;
    expect(runs).toEqual([expect.objectContaining({ journeyId: cart.id, status: 'waiting', node: 'wait_1h' })]);
    expect(await mailsTo('amy@example.com')).toHaveLength(0);

    await advance(HOUR);
    const amyMails = await mailsTo('amy@example.com');
    expect(amyMails.map((m) => m.subject)).toEqual(['You left something in your cart']);
    expect(amyMails[0]!.text).toContain('sku-1');
    expect((await mailsTo('ben@example.com')).map((m) => m.subject)).toEqual(['You left something in your cart']);

    // Ben buys in the store at hour 2: the cart journey converts (goal), the post-purchase journey starts.
    await advance(HOUR);
    await track({ userId: 'ben' }, 'Order Completed', { order_id: 'pos-1', revenue: 35, currency: 'GBP', products: [{ product_id: 'sku-2' }] }, { channel: 'store' });
    expect((await mailsTo('ben@example.com')).map((m) => m.subject)).toEqual(['You left something in your cart', 'Thank you for your order']);
    runs = (await ok('GET', `/api/profiles/${ben}/journeys`)).journeys;
    expect(runs.find((r: { journeyId: string }) => r.journeyId === cart.id)).toMatchObject({ status: 'converted', exitReason: 'goal' });
    expect(runs.find((r: { journeyId: string }) => r.journeyId === post.id)).toMatchObject({ status: 'waiting', node: 'wait_7d' });

    await advance(22 * HOUR);
    expect(smsTo('+447911123401').map((m) => m.body)).toEqual(['Still thinking about it? Your cart is waiting. Reply STOP to opt out']);
    expect(smsTo('+447911123402')).toHaveLength(0);
    runs = (await ok('GET', `/api/profiles/${amy}/journeys`)).journeys;
    expect(runs[0]).toMatchObject({ status: 'exited', exitReason: 'completed', path: ['wait_1h', 'email', 'wait_23h', 'sms', 'done'] });

    const m = await ok('GET', `/api/journeys/${cart.id}/metrics`);
    expect(m).toMatchObject({ entered: 2, inJourney: 0, exited: { completed: 1 }, treatment: { people: 2, converted: 1 } });
    expect(m.nodes.email.visits).toBe(2);
    expect(m.nodes.sms.visits).toBe(1);
    expect(m.messages.sent).toBe(3);
    expect((await ok('GET', `/api/journeys/${post.id}/metrics`)).entered).toBe(1);
  });

  it('two journeys promoting one product: the cap defers the second, the purchase cancels it, the log says why', async () => {
    await ok('PUT', '/api/messaging/policy', { caps: [{ scope: 'all', period: 'day', max: 1 }], quietHours: [] });
    const promo = (name: string, event: string, template: string) => ({
      name,
      topic: 'marketing',
      priority: 50,
      promotes: { products: ['sku-9'] },
      entry: { kind: 'event', event, filters: [{ path: 'product_id', op: 'eq', value: 'sku-9' }] },
      reentry: { policy: 'once' },
      start: 'send',
      nodes: {
        send: { kind: 'send', channel: 'email', templates: { email: template }, next: 'later' },
        later: { kind: 'delay', duration: { amount: 2, unit: 'days' }, next: 'again' },
        again: { kind: 'send', channel: 'email', templates: { email: template }, next: 'done' },
        done: { kind: 'exit' },
      },
    });
    const j1 = await ok('POST', '/api/journeys', promo('sku-9 viewed', 'Product Viewed', tpl.promoA), 201);
    const j2 = await ok('POST', '/api/journeys', promo('sku-9 wishlisted', 'Product Wishlisted', tpl.promoB), 201);
    await publish(j1.id);
    await publish(j2.id);
    const cal = await identify('cal', { email: 'cal@example.com', consent: { email: 'subscribed' } });
    await track({ userId: 'cal' }, 'Product Viewed', { product_id: 'sku-9' });
    await track({ userId: 'cal' }, 'Product Wishlisted', { product_id: 'sku-9' });
    expect((await mailsTo('cal@example.com')).map((m) => m.subject)).toEqual(['Sale on sku-9 (A)']);
    let msgs = (await ok('GET', `/api/profiles/${cal}/messages`)).messages as { id: string; status: string; source: string }[];
    const deferred = msgs.find((x) => x.source === `journey:${j2.id}`)!;
    expect(deferred.status).toBe('deferred');

    // Cal buys sku-9 by the store's chat: the deferred promotion is cancelled; journey 1's second send never happens.
    await advance(HOUR);
    await track({ userId: 'cal' }, 'Order Completed', { order_id: 'chat-7', revenue: 12, products: [{ product_id: 'sku-9' }] }, { channel: 'chat' });
    await advance(3 * 24 * HOUR);
    // (Post-purchase, from the first test, thanks Cal for the order: not a promotion.)
    expect((await mailsTo('cal@example.com')).map((m) => m.subject).filter((s) => s?.startsWith('Sale'))).toEqual(['Sale on sku-9 (A)']);
    msgs = (await ok('GET', `/api/profiles/${cal}/messages`)).messages;
    expect(msgs.filter((x) => [`journey:${j1.id}`, `journey:${j2.id}`].includes(x.source)).map((x) => x.status).sort()).toEqual(['cancelled', 'sent']);
    const runs = (await ok('GET', `/api/profiles/${cal}/journeys`)).journeys as { journeyId: string; exitReason: string }[];
    expect(runs.find((r) => r.journeyId === j1.id)!.exitReason).toBe('purchased_promoted');
    expect(runs.find((r) => r.journeyId === j2.id)!.exitReason).toBe('purchased_promoted');
    // Every message that did not go has its reason in the decision log.
    const log = (await ok('GET', `/api/messages/${deferred.id}`)).decisions as { action: string; code: string | null; reason: string }[];
    expect(log.map((d) => d.action)).toEqual(['defer', 'skip']);
    expect(log[0]!.reason).toMatch(/1 of 1 marketing messages already sent/);
    expect(log[1]).toMatchObject({ code: 'purchased' });
    expect(log[1]!.reason).toMatch(/bought product sku-9 on channel chat \(order chat-7\)/);
    await ok('PUT', '/api/messaging/policy', { caps: [], quietHours: [] });
  });

  it('an A/B broadcast picks its winner by revenue and sends it to the rest', async () => {
    const people = 60;
    for (let i = 0; i < people; i++) expect((await o.track('/v1/identify', { userId: `vip${i}`, traits: { email: `vip${i}@example.com`, vip: true, consent: { email: 'subscribed' } }, timestamp: at() })).status).toBe(200);
    await o.settle();
    const seg = await ok('POST', '/api/segments?wait=true', { name: 'VIPs', definition: { kind: 'trait', trait: 'vip', op: 'eq', value: true } }, 201);
    await o.settle();
    const body = { name: 'Spring sale', segmentId: seg.id, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.promoA } }, { id: 'B', templates: { email: tpl.promoB } }], abTest: { testShare: 0.5, metric: 'revenue', afterMinutes: 60 } };
    const b = await ok('POST', '/api/broadcasts', body, 201);
    await ok('POST', `/api/broadcasts/${b.id}/send`);
    await o.settle();
    let p = await ok('GET', `/api/broadcasts/${b.id}`);
    expect(p.status).toBe('testing');
    const test = p.groups.filter((g: { group: string }) => g.group === 'test');
    expect(test.map((g: { variant: string }) => g.variant).sort()).toEqual(['A', 'B']);
    const rest = p.groups.find((g: { group: string }) => g.group === 'rest').recipients;
    expect(rest + test.reduce((a: number, g: { recipients: number }) => a + g.recipients, 0)).toBe(people);
    // Variant A's readers buy little, B's buy more: B wins on revenue even if A had more orders.
    const vipMails = async () => (await mailsTo('@example.com')).filter((m) => /vip\d+@/.test(String((m.to as { text: string }).text)));
    const sentA = (await vipMails()).filter((m) => m.subject === 'Sale on sku-9 (A)');
    const sentB = (await vipMails()).filter((m) => m.subject === 'Sale on sku-9 (B)');
    expect(sentA.length + sentB.length).toBe(people - rest);
    const userOf = (m: (typeof sentA)[number]) => /vip(\d+)@/.exec(String((m.to as { text: string }).text))![0]!.slice(0, -1);
    for (const m of sentA.slice(0, 3)) await track({ userId: userOf(m) }, 'Order Completed', { order_id: `a-${userOf(m)}`, revenue: 5, currency: 'GBP' });
    await track({ userId: userOf(sentB[0]!) }, 'Order Completed', { order_id: 'b-1', revenue: 90, currency: 'GBP' });
    await advance(61 * MIN);
    p = await ok('GET', `/api/broadcasts/${b.id}`);
    expect(p.status).toBe('sent');
    expect(p.winner).toBe('B');
    expect(p.results.metric).toBe('revenue');
    const va = p.results.variants.find((v: { variant: string }) => v.variant === 'A');
    const vb = p.results.variants.find((v: { variant: string }) => v.variant === 'B');
    expect(va).toMatchObject({ orders: 3, revenueMinor: 1500 });
    expect(vb).toMatchObject({ orders: 1, revenueMinor: 9000 });
    const all = await vipMails();
    expect(all.filter((m) => m.subject === 'Sale on sku-9 (B)').length).toBe(sentB.length + rest);
    expect(all.filter((m) => m.subject === 'Sale on sku-9 (A)').length).toBe(sentA.length);
    expect(p.messages.sent).toBe(people);
  });

  it('a person merged while in a journey goes on once, not twice', async () => {
    const welcome = {
      name: 'Browse reminder',
      topic: 'marketing',
      priority: 40,
      entry: { kind: 'event', event: 'Category Viewed' },
      reentry: { policy: 'once' },
      start: 'wait',
      nodes: { wait: { kind: 'delay', duration: { amount: 1, unit: 'hours' }, next: 'send' }, send: { kind: 'send', channel: 'email', templates: { email: tpl.crossSell }, next: 'done' }, done: { kind: 'exit' } },
    };
    const j = await ok('POST', '/api/journeys', welcome, 201);
    await publish(j.id);
    const dee = await identify('dee', { email: 'dee@example.com', consent: { email: 'subscribed' } });
    await track({ userId: 'dee' }, 'Category Viewed', { category: 'candles' });
    await track({ anonymousId: 'anon-dee' }, 'Category Viewed', { category: 'candles' });
    const before = await o.rt.store.db.selectFrom('journey_runs').select(['profile_id', 'status']).where('journey_id', '=', j.id).execute();
    expect(before.map((r) => r.status)).toEqual(['waiting', 'waiting']);
    // The anonymous visitor logs in: the two profiles merge while both wait.
    expect((await o.track('/v1/identify', { userId: 'dee', anonymousId: 'anon-dee', timestamp: at() })).status).toBe(200);
    await o.settle();
    await advance(HOUR);
    expect((await mailsTo('dee@example.com')).filter((m) => m.subject === 'You might also like')).toHaveLength(1);
    const runs = (await ok('GET', `/api/profiles/${dee}/journeys`)).journeys.filter((r: { journeyId: string }) => r.journeyId === j.id);
    expect(runs.map((r: { status: string; exitReason: string }) => `${r.status}:${r.exitReason}`).sort()).toEqual(['exited:exit_node', 'exited:merged']);
  });

  it('test mode: steps a journey for one profile on a simulated clock; renders, asks the arbiter, sends nothing', async () => {
    const cart = (await ok('GET', '/api/journeys')).journeys.find((j: { name: string }) => j.name === 'Cart abandonment');
    const amy = (await ok('GET', '/api/profiles/lookup?userId=amy')).id;
    const mails = smtp.messages.length;
    const texts = sms.messages.length;
    const r = await ok('POST', `/api/journeys/${cart.id}/test`, { profileId: amy, use: 'published', trigger: { name: 'Product Added', properties: { product_id: 'sku-7' } }, steps: [{ wait: { amount: 1, unit: 'hours' } }, { wait: { amount: 23, unit: 'hours' } }] });
    expect(r.messages.map((m: { node: string; channel: string }) => `${m.node}:${m.channel}`)).toEqual(['email:email', 'sms:sms']);
    expect(r.messages[0].rendered.email.subject).toBe('You left something in your cart');
    expect(r.messages[0].rendered.email.html).toContain('sku-7');
    expect(r.messages[0].decision.action).toBe('send');
    expect(r.messages[1].rendered.sms.body).toContain('Your cart is waiting');
    expect(r.final).toMatchObject({ status: 'exited', exitReason: 'completed' });
    expect(r.timeline.map((t: { input: string }) => t.input)).toEqual(['enter', 'timer', 'timer']);
    expect(smtp.messages.length).toBe(mails);
    expect(sms.messages.length).toBe(texts);
    // An order mid-way converts in the simulation too.
    const r2 = await ok('POST', `/api/journeys/${cart.id}/test`, { profileId: amy, use: 'published', trigger: { name: 'Product Added', properties: {} }, steps: [{ wait: { amount: 2, unit: 'hours' } }, { event: { name: 'Order Completed', properties: { revenue: 3 } } }, { wait: { amount: 2, unit: 'days' } }] });
    expect(r2.messages).toHaveLength(1);
    expect(r2.final).toMatchObject({ status: 'converted', exitReason: 'goal' });
  });

  it('versions: people in flight stay on theirs; pause holds timers; archive ends runs', async () => {
    const def = (template: string) => ({
      name: 'Versioned',
      topic: 'marketing',
      priority: 10,
      entry: { kind: 'api' },
      reentry: { policy: 'always' },
      start: 'wait',
      nodes: { wait: { kind: 'delay', duration: { amount: 1, unit: 'hours' }, next: 'send' }, send: { kind: 'send', channel: 'email', templates: { email: template }, next: 'done' }, done: { kind: 'exit' } },
    });
    const j = await ok('POST', '/api/journeys', def(tpl.thanks), 201);
    await publish(j.id);
    await identify('eve', { email: 'eve@example.com', consent: { email: 'subscribed' } });
    await identify('fay', { email: 'fay@example.com', consent: { email: 'subscribed' } });
    await ok('POST', `/api/journeys/${j.id}/entries`, { people: [{ userId: 'eve' }] }, 202);
    await o.settle();
    await ok('PUT', `/api/journeys/${j.id}`, def(tpl.review));
    expect((await publish(j.id)).version).toBe(2);
    await ok('POST', `/api/journeys/${j.id}/entries`, { people: [{ email: 'fay@example.com' }] }, 202);
    await o.settle();
    await ok('POST', `/api/journeys/${j.id}/pause`);
    await advance(2 * HOUR);
    expect(await mailsTo('eve@example.com')).toHaveLength(0);
    await ok('POST', `/api/journeys/${j.id}/resume`);
    await o.settle();
    expect((await mailsTo('eve@example.com')).map((m) => m.subject)).toEqual(['Thank you for your order']);
    expect((await mailsTo('fay@example.com')).map((m) => m.subject)).toEqual(['How was it?']);
    await ok('POST', `/api/journeys/${j.id}/entries`, { people: [{ userId: 'eve' }] }, 202);
    await o.settle();
    await ok('POST', `/api/journeys/${j.id}/archive`);
    const m = await ok('GET', `/api/journeys/${j.id}/metrics`);
    expect(m).toMatchObject({ entered: 3, inJourney: 0, exited: { exit_node: 2, archived: 1 } });
    expect((await o.api('POST', `/api/journeys/${j.id}/entries`, { people: [{ userId: 'eve' }] })).status).toBe(409);
  });

  it('conversions count after a run ends; a paused journey still lets people leave on the goal; archive cancels what is pending; erasure removes runs', async () => {
    const def = (name: string, nodes: Record<string, unknown>, start: string) => ({ name, topic: 'marketing', priority: 20, entry: { kind: 'api' }, reentry: { policy: 'always' }, goal: { event: 'Order Completed', withinDays: 7 }, start, nodes });
    const quick = await ok('POST', '/api/journeys', def('Quick', { hi: { kind: 'send', channel: 'email', templates: { email: tpl.crossSell }, next: 'done' }, done: { kind: 'exit' } }, 'hi'), 201);
    const slow = await ok('POST', '/api/journeys', def('Slow', { wait: { kind: 'delay', duration: { amount: 2, unit: 'days' }, next: 'hi' }, hi: { kind: 'send', channel: 'email', templates: { email: tpl.review }, next: 'done' }, done: { kind: 'exit' } }, 'wait'), 201);
    await publish(quick.id);
    await publish(slow.id);
    const gus = await identify('gus', { email: 'gus@example.com', consent: { email: 'subscribed' } });
    await identify('hal', { email: 'hal@example.com', consent: { email: 'subscribed' } });
    await ok('POST', `/api/journeys/${quick.id}/entries`, { people: [{ userId: 'gus' }] }, 202);
    await ok('POST', `/api/journeys/${slow.id}/entries`, { people: [{ userId: 'hal' }] }, 202);
    await o.settle();
    expect((await ok('GET', `/api/journeys/${quick.id}/metrics`)).exited).toEqual({ exit_node: 1 });
    // Gus buys two days after his journey ended: still its conversion (within the 7-day goal window).
    await advance(2 * 24 * HOUR - HOUR);
    await ok('POST', `/api/journeys/${slow.id}/pause`);
    await track({ userId: 'gus' }, 'Order Completed', { order_id: 'g-1', revenue: 40, currency: 'GBP' });
    let m = await ok('GET', `/api/journeys/${quick.id}/metrics`);
    expect(m.treatment).toMatchObject({ people: 1, converted: 1, revenueMinor: 4000 });
    // Hal buys while Slow is paused: he leaves on the goal and never gets its email after the resume.
    await track({ userId: 'hal' }, 'Order Completed', { order_id: 'h-1', revenue: 10, currency: 'GBP' });
    await ok('POST', `/api/journeys/${slow.id}/resume`);
    await advance(3 * 24 * HOUR);
    expect((await mailsTo('hal@example.com')).filter((x) => x.subject === 'How was it?')).toHaveLength(0);
    m = await ok('GET', `/api/journeys/${slow.id}/metrics`);
    expect(m).toMatchObject({ converted: 1, exited: { goal: 1 } });
    // A message held by the cap when its journey is archived is cancelled, with the reason logged.
    await ok('PUT', '/api/messaging/policy', { caps: [{ scope: 'all', period: 'day', max: 1 }], quietHours: [] });
    await ok('POST', `/api/journeys/${quick.id}/entries`, { people: [{ userId: 'gus' }] }, 202);
    await o.settle();
    await ok('POST', `/api/journeys/${quick.id}/entries`, { people: [{ userId: 'gus' }] }, 202);
    await o.settle();
    const held = ((await ok('GET', `/api/profiles/${gus}/messages`)).messages as { id: string; status: string; source: string }[]).find((x) => x.source === `journey:${quick.id}` && x.status === 'deferred');
    expect(held).toBeDefined();
    await ok('POST', `/api/journeys/${quick.id}/archive`);
    const log = (await ok('GET', `/api/messages/${held!.id}`)) as { status: string; decisions: { code: string | null; reason: string }[] };
    expect(log.status).toBe('cancelled');
    expect(log.decisions.at(-1)!.reason).toMatch(/archived/);
    await ok('PUT', '/api/messaging/policy', { caps: [], quietHours: [] });
    // Erasure removes the person's runs (their state holds the triggering event's properties).
    expect((await o.api('DELETE', `/api/profiles/${gus}`)).status).toBeLessThan(300);
    expect(await o.rt.store.db.selectFrom('journey_runs').select('entry_id').where('profile_id', '=', gus).execute()).toHaveLength(0);
  });

  it('bad input: invalid graphs are refused naming the node; nothing is saved or published', async () => {
    const count = async () => (await ok('GET', '/api/journeys')).journeys.length;
    const n0 = await count();
    const base = () => ({
      name: 'Bad',
      topic: 'marketing',
      priority: 10,
      entry: { kind: 'event', event: 'X' },
      reentry: { policy: 'once' },
      start: 'a',
      nodes: { a: { kind: 'send', channel: 'email', templates: { email: tpl.thanks }, next: 'b' }, b: { kind: 'exit' } } as Record<string, unknown>,
    });
    const cases: [string, (d: ReturnType<typeof base>) => void, string][] = [
      ['dangling edge', (d) => ((d.nodes.a as { next: string }).next = 'nowhere'), 'nodes.a.next'],
      ['unreachable node', (d) => (d.nodes.c = { kind: 'exit' }), 'nodes.c'],
      ['send without a template', (d) => (d.nodes.a = { kind: 'send', channel: 'email', templates: {}, next: 'b' }), 'nodes.a.templates'],
      ['instant cycle', (d) => (d.nodes.b = { kind: 'split', condition: { kind: 'trait', trait: 'x', op: 'exists' }, yes: 'a', no: 'a' }), 'nodes.'],
      ['split without else', (d) => (d.nodes.b = { kind: 'split', condition: { kind: 'trait', trait: 'x', op: 'exists' }, yes: 'a' }), 'nodes.b.no'],
      ['unknown template', (d) => ((d.nodes.a as { templates: unknown }).templates = { email: 'tpl_missing' }), 'nodes.a.templates.email'],
      ['template on the wrong channel', (d) => ((d.nodes.a as { templates: unknown }).templates = { email: tpl.cartSms }), 'nodes.a.templates.email'],
      ['unknown segment', (d) => (d.entry = { kind: 'segment', segment: 'seg_missing', op: 'entered' } as never), 'definition'],
      ['unknown node kind', (d) => (d.nodes.b = { kind: 'teleport' }), 'nodes.b.kind'],
    ];
    for (const [label, mutate, field] of cases) {
      const d = base();
      mutate(d);
      const r = await o.api('POST', '/api/journeys', d);
      expect(r.status, label).toBe(400);
      expect(r.body.error.field, `${label}: ${r.body.error.message}`).toContain(field);
      const v = await ok('POST', '/api/journeys/validate', d);
      expect(v.valid, label).toBe(false);
    }
    expect(await count()).toBe(n0);
    // A valid draft whose later edit is broken keeps its draft; publish of a broken draft cannot happen.
    const good = await ok('POST', '/api/journeys', base(), 201);
    const broken = base();
    (broken.nodes.a as { next: string }).next = 'zzz';
    expect((await o.api('PUT', `/api/journeys/${good.id}`, broken)).status).toBe(400);
    expect((await ok('GET', `/api/journeys/${good.id}`)).draft.nodes.a.next).toBe('b');
    expect((await o.api('POST', `/api/journeys/${good.id}/pause`)).status).toBe(409);
    expect((await o.api('POST', '/api/journeys/jny_nope/publish', {})).status).toBe(404);
    // Broadcasts and playbooks name their fields too.
    const bad = await o.api('POST', '/api/broadcasts', { name: 'x', segmentId: 'seg_missing', channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.thanks } }] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('segmentId');
    const bad2 = await o.api('POST', '/api/broadcasts', { name: 'x', segmentId: 's', channel: 'email', topic: 'marketing', variants: [] });
    expect(bad2.status).toBe(400);
    expect(bad2.body.error.field).toBe('variants');
    const bad3 = await o.api('POST', '/api/playbooks/cartAbandonment', { templates: { email: tpl.cartEmail } });
    expect(bad3.status).toBe(400);
    expect(bad3.body.error.field).toBe('templates.sms');
    expect((await o.api('POST', '/api/playbooks/nope', {})).status).toBe(404);
  });
});
