// The overview's figures (GET /api/analytics/overview) on both backends, from real traffic: orders on web, store and
// app, an email really sent over SMTP and clicked through Omnia's redirect (attributed), a Segment-spec email click
// outside the window (not attributed), an order before the period and one in another currency; then bad periods.
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';
import { type TestSmtpServer, startSmtpServer } from './support/smtp-server.ts';
import { messagingHelpers } from './support/messaging.ts';

const DAY = 24 * 3600_000;
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

describe.each(BACKENDS)('analytics overview (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  const T0 = Date.UTC(2026, 2, 10, 12);
  let now = T0;
  const iso = (t: number) => new Date(t).toISOString();
  const { person, send } = messagingHelpers(() => o, () => now);
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    smtp = await startSmtpServer();
    const put = async (path: string, body: unknown) => expect((await o.api('PUT', path, body)).status).toBe(200);
    await put('/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' });
    await put('/api/messaging/policy', { caps: [], quietHours: [] });
    const tpl = await o.api('POST', '/api/templates', {
      name: 'New in',
      source: { channel: 'email', subject: 'New scents', mjml: '<mj-section><mj-column><mj-text>New in.</mj-text><mj-button href="https://shop.candle.test/new">Shop now</mj-button></mj-column></mj-section>' },
    });
    expect(tpl.status).toBe(201);
    ids.tpl = tpl.body.id;

    // People exist three weeks before the period (their identify calls are outside it).
    now = T0 - 21 * DAY;
    ids.ann = await person('ann', { email: 'ann@example.com', first_name: 'Ann', consent: { email: 'subscribed' } });
    for (const u of ['bob', 'cy', 'dee', 'eve']) ids[u] = await person(u, { email: `${u}@example.com` });
    now = T0;
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
  });

  const order = (userId: string, at: number, total: number, channel: string, currency = 'GBP') =>
    o.track('/v1/track', { userId, event: 'Order Completed', properties: { order_id: `${userId}-${at}`, total, currency }, context: { channel }, timestamp: iso(at) });

  it('reports revenue by channel, attributed revenue, multi-channel customers and messages from real traffic', async () => {
    // Ann: a web visit, an email sent and clicked 10 minutes later, then a web order an hour after.
    expect((await o.track('/v1/page', { userId: 'ann', name: 'Home', timestamp: iso(T0 - 2 * 3600_000) })).status).toBe(200);
    await send({ to: { userId: 'ann' }, channel: 'email', template: ids.tpl, topic: 'marketing' });
    await o.settle();
    const raw = smtp.messages.find((m) => m.to.includes('ann@example.com'));
    expect(raw, 'the email reached the SMTP server').toBeDefined();
    const html = String((await simpleParser(raw!.raw)).html);
    const href = /<a\s+href="([^"]+)"[^>]*>\s*Shop now/.exec(html)?.[1]?.replace(/&amp;/g, '&');
    expect(href).toContain('/t/c/');
    now = T0 + 10 * 60_000;
    const click = await fetch(href!, { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
    expect(click.status).toBe(302);
    now = T0 + 2 * 3600_000;
    expect((await order('ann', T0 + 3600_000, 50, 'web')).status).toBe(200);
    // Bob buys in the store; Cy in the app, a week after clicking an email elsewhere (outside the 5-day window).
    expect((await order('bob', T0 - DAY, 30, 'store')).status).toBe(200);
    expect((await o.track('/v1/track', { userId: 'cy', event: 'Email Link Clicked', properties: { link_url: 'https://shop.candle.test' }, timestamp: iso(T0 - 8 * DAY) })).status).toBe(200);
    expect((await order('cy', T0 - DAY, 20, 'app')).status).toBe(200);
    // Dee ordered before the period; Eve paid in euros.
    expect((await order('dee', T0 - 10 * DAY, 99, 'web')).status).toBe(200);
    expect((await order('eve', T0 - 3600_000, 40, 'web', 'EUR')).status).toBe(200);
    await o.settle();

    const r = await o.api('GET', `/api/analytics/overview?from=${T0 - 7 * DAY}&to=${T0 + DAY}&offset=0`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const v = r.body;
    expect(v.currency).toBe('GBP');
    expect(v.revenue.total).toEqual({ orders: 3, revenueMinor: 10000 });
    expect(v.revenue.otherCurrencyOrders).toBe(1);
    expect(v.revenue.byChannel).toEqual([
      { channel: 'web', orders: 1, revenueMinor: 5000 },
      { channel: 'store', orders: 1, revenueMinor: 3000 },
      { channel: 'app', orders: 1, revenueMinor: 2000 },
    ]);
    expect(v.revenue.attributed).toEqual([{ channel: 'email', orders: 1, revenueMinor: 5000 }]);
    expect(v.revenue.daily).toHaveLength(9); // noon to noon: 9 calendar days
    const day = (t: number) => v.revenue.daily.find((d: { day: string }) => d.day === new Date(t).toISOString().slice(0, 10));
    expect(day(T0)).toMatchObject({ orders: 1, revenueMinor: 5000, byChannel: { web: 5000 } });
    expect(day(T0 - DAY)).toMatchObject({ orders: 2, revenueMinor: 5000, byChannel: { store: 3000, app: 2000 } });
    // Active: Ann (web + email click), Bob (store), Cy (app), Eve (web); Dee only before the period.
    expect(v.customers).toMatchObject({ active: 4, multiChannel: 1, multiChannelShare: 0.25, byChannelCount: { '1': 3, '2': 1, '3+': 0 } });
    expect(v.customers.averageOrderMinor).toEqual({ multiChannel: 5000, singleChannel: 2500 });
    const email = v.messages.find((m: { channel: string }) => m.channel === 'email');
    expect(email).toMatchObject({ sent: 1, clicked: 1 });
    expect(v.latestActivityAt).toBe(T0 + 3600_000);
    expect(v.journeys).toEqual([]);

    // A period holding only Dee's order, and one with nothing in it.
    const early = (await o.api('GET', `/api/analytics/overview?from=${T0 - 11 * DAY}&to=${T0 - 9 * DAY}`)).body;
    expect(early.revenue.total).toEqual({ orders: 1, revenueMinor: 9900 });
    expect(early.revenue.attributed).toEqual([]);
    const empty = (await o.api('GET', `/api/analytics/overview?from=${T0 + 5 * DAY}&to=${T0 + 6 * DAY}`)).body;
    expect(empty).toMatchObject({ currency: null, revenue: { total: { orders: 0, revenueMinor: 0 }, byChannel: [], attributed: [] }, customers: { active: 0 }, messages: [] });
    expect(empty.latestActivityAt).toBe(T0 + 3600_000);
  });

  it.each([
    ['from missing', `to=${T0}`, 'querystring.from'],
    ['to before from', `from=${T0}&to=${T0 - 1}`, 'querystring.to'],
    ['to equal to from', `from=${T0}&to=${T0}`, 'querystring.to'],
    ['a period over 400 days', `from=${T0 - 401 * DAY}&to=${T0}`, 'querystring.from'],
    ['not a number', `from=yesterday&to=${T0}`, 'querystring.from'],
    ['an offset beyond 14 h', `from=${T0 - DAY}&to=${T0}&offset=900`, 'querystring.offset'],
    ['an unknown parameter', `from=${T0 - DAY}&to=${T0}&channel=web`, 'querystring'],
  ])('refuses %s with a 400 naming the field', async (_n, qs, field) => {
    const r = await o.api('GET', `/api/analytics/overview?${qs}`);
    expect(r.status).toBe(400);
    expect(r.body.error.field ?? '').toContain(field);
  });
});
