// The marketer's dashboard (dashboard/, React + Vite) in a real Chromium against a real Omnia (SQLite): first-run
// setup, sign-in and sign-out, customers and their timeline, undoing a merge, the segment builder with its live count,
// a journey on the canvas (publish, a dangling edge shown on its node, test mode), a template preview at phone width,
// the phone layout, a viewer's read-only UI (and the API's 403), and session expiry. Screenshots of each main screen
// at desktop (1280×800) and phone (390×844) widths go to a temporary folder whose path is printed.
import { type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardSizes } from '../dashboard/build.mjs';
import { type TestOmnia, startTestOmnia, tempDir } from './helpers.ts';
import { DESKTOP, PHONE, type TestBrowser, until, expectHeading, navTo, openBrowser } from './support/browser.ts';
import { type TestSmtpServer, startSmtpServer } from './support/smtp-server.ts';
import Fastify from 'fastify';
import { dashboardStatic } from '../src/app/dashboard-static.ts';

const T = 120_000;
const OWNER = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' };
const VIEWER = { email: 'victor@candle.example', password: 'viewer-password-1' };

describe('dashboard (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let ctx: BrowserContext;
  let page: Page;
  let smtp: TestSmtpServer;
  let tb: TestBrowser;
  const ids = { ann: '', dee: '', emailTpl: '', smsTpl: '', segment: '', journey: '', merge: '', broadcast: '' };
  const shoot = (name: string, opts: { full?: boolean; p?: Page } = {}) => tb.shoot(opts.p ?? page, name, opts);
  const newPage = () => tb.newPage();
  const nav = navTo;
  const heading = expectHeading;

  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    expect((await o.api('PUT', '/api/messaging/policy', { caps: [], quietHours: [] })).status).toBe(200);
    smtp = await startSmtpServer();
    expect((await o.api('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' })).status).toBe(200);
    // Templates
    const email = await o.api('POST', '/api/templates', {
      name: 'Cart reminder',
      source: {
        channel: 'email',
        subject: 'You left something behind, {{ profile.first_name | default: "there" }}',
        mjml: '<mj-section><mj-column><mj-text font-size="18px">Hi {{ profile.first_name | default: "there" }}, your candles are still in your cart.</mj-text><mj-button href="https://shop.example.com/cart">Back to your cart</mj-button></mj-column></mj-section>',
      },
    });
    expect(email.status).toBe(201);
    ids.emailTpl = email.body.id;
    const sms = await o.api('POST', '/api/templates', { name: 'Cart SMS', source: { channel: 'sms', body: 'Hi {{ profile.first_name | default: "there" }}, your cart at Candle Co is waiting: https://shop.example.com/cart Reply STOP to opt out' } });
    expect(sms.status).toBe(201);
    ids.smsTpl = sms.body.id;
    // People and events
    const now = Date.now();
    const at = (minsAgo: number) => new Date(now - minsAgo * 60_000).toISOString();
    const calls: [string, unknown][] = [
      ['/v1/identify', { userId: 'u1', traits: { email: 'ann@example.com', phone: '+447700900123', first_name: 'Ann', last_name: 'Lee', plan: 'gold', consent: { email: 'subscribed', sms: 'subscribed' } }, context: { timezone: 'Europe/London' }, timestamp: at(120) }],
      ['/v1/page', { userId: 'u1', name: 'Candles', properties: { path: '/candles' }, timestamp: at(100) }],
      ['/v1/track', { userId: 'u1', event: 'Product Viewed', properties: { product_id: 'sku-1', name: 'Fig candle', price: 30 }, timestamp: at(90) }],
      ['/v1/track', { userId: 'u1', event: 'Order Completed', properties: { order_id: 'pos-1', total: 30, currency: 'GBP', products: [{ product_id: 'sku-1', category: 'Candles' }] }, context: { channel: 'store' }, timestamp: at(60) }],
      ['/v1/identify', { userId: 'u2', traits: { email: 'bea@example.com', first_name: 'Bea', plan: 'basic' }, timestamp: at(50) }],
      ['/v1/track', { userId: 'u2', event: 'Product Added', properties: { product_id: 'sku-2', price: 18 }, timestamp: at(40) }],
      ['/v1/identify', { userId: 'u3', traits: { email: 'cy@example.com', first_name: 'Cy' }, timestamp: at(30) }],
      ['/v1/track', { anonymousId: 'anon-dee', event: 'Product Viewed', properties: { product_id: 'sku-3' }, timestamp: at(20) }],
      ['/v1/identify', { userId: 'u4', traits: { email: 'dee@example.com', first_name: 'Dee' }, timestamp: at(15) }],
    ];
    for (const [p, body] of calls) expect((await o.track(p, body)).status).toBe(200);
    await o.settle();
    // Dee's anonymous browsing meets her account: a merge (undone in the UI later).
    expect((await o.track('/v1/identify', { userId: 'u4', anonymousId: 'anon-dee', timestamp: at(10) })).status).toBe(200);
    await o.settle();
    const merges = await o.api('GET', '/api/profiles/merges');
    expect(merges.body.merges.length).toBe(1);
    ids.merge = merges.body.merges[0].id;
    ids.ann = (await o.api('GET', '/api/profiles/lookup?email=ann@example.com')).body.id;
    ids.dee = (await o.api('GET', '/api/profiles/lookup?email=dee@example.com')).body.id;
    // A segment and a journey from a playbook
    const seg = await o.api('POST', '/api/segments?wait=true', { name: 'Gold plan', definition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' } });
    expect(seg.status).toBe(201);
    ids.segment = seg.body.id;
    const j = await o.api('POST', '/api/playbooks/cartAbandonment', { templates: { email: ids.emailTpl, sms: ids.smsTpl } });
    expect(j.status).toBe(201);
    ids.journey = j.body.id;
    const bc = await o.api('POST', '/api/broadcasts', { name: 'Spring sale', segmentId: ids.segment, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: ids.emailTpl } }] });
    expect(bc.status).toBe(201);
    ids.broadcast = bc.body.id;
    expect((await o.api('POST', '/api/rfm/recompute')).status).toBe(200);

    tb = await openBrowser();
    ({ c: ctx, p: page } = await newPage());
  }, T);

  afterAll(async () => {
    await tb?.close();
    await o?.close();
    await smtp?.close();
  }, T);

  it('serves the built dashboard at / and client routes, immutable assets, and keeps the API 404s', async () => {
    const root = await fetch(`${o.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('cache-control')).toBe('no-store');
    expect(root.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await root.text();
    expect(html).toContain('<div id="root"></div>');
    expect(html).toContain('<meta name="omnia-setup" content="required">');
    const deep = await fetch(`${o.url}/customers/${ids.ann}`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
    for (const u of ['/settings', '/settings/keys', '/templates/new', '/broadcasts/new']) expect(await (await fetch(o.url + u)).text(), u).toBe(html);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(o.url + asset, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(js.headers.get('content-encoding')).toBe('br');
    // The production build (React's production runtime): the entry chunk stays small; charts and canvas load apart.
    const entry = dashboardSizes().find((x) => asset.endsWith(x.file))!;
    expect(entry.gzip).toBeLessThan(110 * 1024);
    expect((await fetch(`${o.url}/api/nope`)).status).toBe(404);
    expect((await fetch(`${o.url}/assets/nope.js`)).status).toBe(404);
    expect((await fetch(`${o.url}/health`)).status).toBe(200);
  });

  it('without a build, / and client routes answer with the landing page', async () => {
    const app = Fastify();
    await app.register(dashboardStatic, { store: o.rt.store, fallback: () => '<h1>Omnia is running</h1>', dir: tempDir() });
    for (const u of ['/', '/customers/prf_x']) {
      const r = await app.inject({ url: u });
      expect(r.statusCode).toBe(200);
      expect(r.body).toBe('<h1>Omnia is running</h1>');
    }
    expect((await app.inject({ url: '/assets/index.js' })).statusCode).toBe(404);
    await app.close();
  });

  it('first run: creates the owner, lands on the overview with the role shown', async () => {
    await page.goto(o.url);
    await heading(page, 'Create the owner account');
    await page.getByLabel('Your name').fill(OWNER.name);
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    // The API's 400 names the field: the message is next to the password.
    await expect(page.locator('#password-err')).toContainTextSoon('at least 10');
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Create account and sign in' }).click();
    await heading(page, 'Overview');
    await expect(page.locator('.role-badge')).toHaveTextSoon('owner');
    await expect(page.locator('dl[aria-label="Your workspace"] .stat').first()).toContainTextSoon('Journeys live');
    await expect(page.locator('#chart-rfm')).toBeVisibleSoon();
    // The period's figures: Ann's store order (£30) and the four people active in it.
    const period = page.locator('dl[aria-label="This period"]');
    await expect(period).toContainTextSoon('£30.00');
    await expect(period).toContainTextSoon('1 order');
    await expect(page.locator('#chart-revenue svg')).toBeVisibleSoon();
    await expect(page.locator('#chart-revenue')).toContainTextSoon('Show the data');
    await page.getByRole('button', { name: '7 days' }).click();
    await expect(page.getByRole('button', { name: '7 days' })).toHaveAttributeSoon('aria-pressed', 'true');
    await expect(period).toContainTextSoon('£30.00');
    await page.waitForTimeout(500);
    const cls = await page.evaluate(() => window.__cls);
    console.log(`overview CLS ${cls.toFixed(4)}`);
    expect(cls).toBeLessThan(0.1);
    await shoot('overview');
  }, T);

  it('signs out; a wrong password is refused; signs in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in');
    await expect(page.locator('.login-card .notice-info')).toContainTextSoon('You have signed out');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toContainTextSoon('Invalid email or password');
    await shoot('login');
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading(page, 'Overview');
  }, T);

  it('customers: finds a person, reads their profile and one timeline across channels, filters it', async () => {
    await nav(page, 'Customers');
    await heading(page, 'Customers');
    await page.getByLabel('Search customers').fill('ann@');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByRole('link', { name: /ann@example\.com/ })).toBeVisibleSoon();
    await shoot('customers-search');
    await page.getByRole('link', { name: /ann@example\.com/ }).click();
    await heading(page, 'Ann Lee');
    const timeline = page.getByRole('list', { name: 'Events, newest first' });
    await expect(timeline).toContainTextSoon('Order Completed');
    await expect(timeline).toContainTextSoon('Product Viewed');
    await expect(timeline).toContainTextSoon('Segment Entered'); // Omnia's own events are in the same timeline
    await expect(page.locator('#identity')).toContainTextSoon('+447700900123');
    await expect(page.locator('#traits')).toContainTextSoon('gold');
    await expect(page.locator('#computed')).toContainTextSoon('£30.00');
    await expect(page.locator('#segments')).toContainTextSoon('Gold plan');
    await page.getByLabel('Channel', { exact: true }).selectOption('store');
    await expect(timeline.locator('.tl-item')).toHaveCountSoon(1);
    await expect(timeline).toContainTextSoon('Order Completed');
    await page.getByLabel('Channel', { exact: true }).selectOption('');
    await expect(timeline).toContainTextSoon('Product Viewed');
    // By last name: the hit shows the name.
    await page.goto(`${o.url}/customers`);
    await page.getByLabel('Search customers').fill('lee');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect(page.getByRole('link', { name: /Ann Lee/ })).toBeVisibleSoon();
    await expect(page.getByRole('list', { name: '1 matching customers' })).toBeVisibleSoon();
    // Searching by profile id opens the same person.
    await page.goto(`${o.url}/customers?q=${ids.ann}`);
    await expect(page.getByRole('link', { name: /profile id/ })).toBeVisibleSoon();
    await page.goto(`${o.url}/customers/${ids.ann}`);
    await heading(page, 'Ann Lee');
    await expect(timeline).toContainTextSoon('Order Completed');
    await page.waitForTimeout(400);
    const cls = await page.evaluate(() => window.__cls);
    console.log(`profile CLS ${cls.toFixed(4)}`);
    expect(cls).toBeLessThan(0.1);
    await shoot('profile', { full: true });
  }, T);

  it('undoes a merge from the profile (with confirmation)', async () => {
    await page.goto(`${o.url}/customers/${ids.dee}`);
    await heading(page, 'Dee');
    const row = page.locator(`#merges tr[data-merge="${ids.merge}"]`);
    await row.getByRole('button', { name: /Undo merge/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Undo this merge?' });
    await dialog.getByRole('button', { name: 'Undo merge' }).click();
    await expect(row).toContainTextSoon('undone');
    const merges = await o.api('GET', '/api/profiles/merges');
    expect(merges.body.merges[0].undoneAt).not.toBeNull();
  }, T);

  it('segments: builds a condition, sees the live count, gets the error next to the field, saves', async () => {
    await nav(page, 'Segments');
    await heading(page, 'Segments');
    await expect(page.getByRole('link', { name: 'Gold plan' })).toBeVisibleSoon();
    await shoot('segments-list');
    await page.getByRole('button', { name: 'New segment' }).click();
    await heading(page, 'New segment');
    await page.getByLabel('Name').fill('Store buyers');
    const cond = page.getByRole('group', { name: 'Condition 1: Did an event' });
    await cond.getByLabel('Event').fill('Order Completed');
    await expect(page.getByTestId('live-count')).toHaveTextSoon('1');
    await expect(page.locator('.live-count')).toContainTextSoon('people match');
    // A property filter that matches nobody, then one that matches.
    await cond.getByRole('button', { name: 'Add property filter' }).click();
    const filter = cond.getByRole('group', { name: 'Property filter 1' });
    await filter.getByLabel('Property', { exact: true }).fill('total');
    await filter.getByLabel('Operator', { exact: true }).selectOption('gt');
    await filter.getByLabel('Value', { exact: true }).fill('100');
    await expect(page.getByTestId('live-count')).toHaveTextSoon('0');
    await filter.getByLabel('Value', { exact: true }).fill('20');
    await expect(page.getByTestId('live-count')).toHaveTextSoon('1');
    // A bad window: the API's 400 names definition.conditions.0.window.amount, shown under that field.
    await cond.getByLabel('In the last').fill('0');
    await expect(cond.locator('.field-invalid').filter({ has: page.getByLabel('In the last') })).toContainTextSoon('greater than 0');
    await cond.getByLabel('In the last').fill('90');
    await expect(page.getByTestId('live-count')).toHaveTextSoon('1');
    // A second condition: reachable by email (Ann is).
    await page.getByLabel('Condition kind').selectOption('reachable');
    await page.getByRole('button', { name: 'Add condition' }).click();
    await expect(page.getByRole('group', { name: 'Condition 2: Reachable on a channel' })).toBeVisibleSoon();
    await expect(page.getByTestId('live-count')).toHaveTextSoon('1');
    await shoot('segment-editor', { full: true });
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/segments\/seg_/);
    // The member is shown as the person (name and email), linked to her profile.
    await expect(page.locator('#members').getByRole('link', { name: 'Ann Lee' })).toHaveAttributeSoon('href', `/customers/${ids.ann}`);
    await expect(page.locator('#members')).toContainTextSoon('ann@example.com');
    // Why Ann matches: each condition with its verdict, as the engine explains it.
    await page.locator('#members').getByText('Why they match').first().click();
    const why = page.locator('#members .why-root').first();
    await expect(why).toContainTextSoon('✓ all of');
    await expect(why).toContainTextSoon('Order Completed performed in last 90 days');
    await expect(why.locator('.why-no')).toHaveCountSoon(0);
    const list = await o.api('GET', '/api/segments');
    const saved = list.body.segments.find((s: any) => s.name === 'Store buyers');
    expect(saved.definition.conditions[0]).toMatchObject({ kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 90, unit: 'days' }, filters: [{ path: 'total', op: 'gt', value: 20 }] });
    expect(saved.definition.conditions[1]).toEqual({ kind: 'reachable', channel: 'email' });
    // The JSON editor shows the same definition.
    await page.getByRole('button', { name: 'JSON' }).click();
    await expect(page.getByLabel('Definition (JSON)')).toHaveValueSoon(/"Order Completed"/);
  }, T);

  it('journeys: opens the playbook journey on the canvas, publishes it, shows a dangling edge on its node, runs test mode', async () => {
    await nav(page, 'Journeys');
    await heading(page, 'Journeys');
    await expect(page.getByRole('link', { name: 'Cart abandonment' })).toBeVisibleSoon();
    await shoot('journeys-list');
    await page.getByRole('link', { name: 'Cart abandonment' }).click();
    await heading(page, 'Cart abandonment');
    const canvas = page.locator('.canvas-wrap');
    for (const n of ['wait_1h', 'email', 'wait_23h', 'sms', 'ordered', 'done']) await expect(canvas.locator(`[data-node="${n}"]`)).toBeVisibleSoon();
    await expect(canvas.locator('.canvas-status')).toHaveTextSoon('No problems found');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await expect(page.locator('.subtitle')).toContainTextSoon('version 1');
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('active');
    expect((await o.api('GET', `/api/journeys/${ids.journey}`)).body.status).toBe('active');
    await expect(canvas.locator('[data-node="email"] .jn-metrics')).toContainTextSoon('visits');
    // Bea adds to her cart: she enters and waits at the first node; the counts are on the canvas.
    expect((await o.track('/v1/track', { userId: 'u2', event: 'Product Added', properties: { product_id: 'sku-2' } })).status).toBe(200);
    await o.settle();
    await page.reload();
    await expect(canvas.locator('[data-node="wait_1h"] .jn-metrics')).toContainTextSoon('1 waiting');
    await expect(page.locator('.metrics-strip')).toContainTextSoon('Entered');
    // Edit the email node: its next points nowhere → the validation error is on the node, and a missing node is drawn.
    await page.locator('.node-list').getByRole('button', { name: /email/ }).click();
    await page.getByText('Node as JSON').click();
    const nodeJson = page.getByLabel('Every field of the node');
    await nodeJson.fill(JSON.stringify({ ...JSON.parse(await nodeJson.inputValue()), next: 'nowhere' }));
    await page.getByRole('button', { name: 'Apply JSON' }).click();
    await expect(canvas.locator('[data-node="email"] .jn-err')).toContainTextSoon('nowhere');
    await expect(canvas.locator('[data-node="missing:nowhere"]')).toBeVisibleSoon();
    await expect(page.getByRole('button', { name: 'Publish new version' })).toBeDisabledSoon();
    await page.waitForTimeout(700); // the canvas fits the missing node into view
    await shoot('journey-canvas-error');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    // Keyboard: Enter on a focused node opens it in the side panel.
    await canvas.locator('.react-flow__node[data-id="sms"]').focus();
    await page.keyboard.press('Enter');
    await expect(page.locator('.side-panel h2')).toContainTextSoon('Send sms');
    await expect(canvas.locator('.canvas-status')).toHaveTextSoon('No problems found');
    // Test mode: Ann adds to cart; a day on the simulated clock: the email after an hour, the SMS a day later.
    await page.getByLabel('Person (profile id or email)').fill('ann@example.com');
    await page.getByLabel('Version').selectOption('published');
    await page.getByLabel('Trigger event').fill('Product Added');
    await page.getByRole('button', { name: 'Run test' }).click();
    const result = page.locator('.test-result');
    await expect(result).toContainTextSoon('send email');
    await expect(result).toContainTextSoon('You left something behind, Ann');
    await expect(canvas.locator('[data-node="email"].jn-visited')).toBeVisibleSoon();
    await shoot('journey-canvas', { full: true });
  }, T);

  it('journeys: the playbook gallery installs a draft', async () => {
    await page.goto(`${o.url}/playbooks`);
    await heading(page, 'Playbook gallery');
    await page.getByRole('button', { name: 'Use the Welcome series playbook' }).click();
    await shoot('playbooks');
    // The required templates are pre-filled with email templates; install.
    await page.getByRole('button', { name: 'Install as draft' }).click();
    await heading(page, 'Welcome series');
    await expect(page.locator('.subtitle')).toContainTextSoon('never published');
    await shoot('playbooks-installed');
  }, T);

  it('journeys: a playbook installs with starter templates for the messages without one', async () => {
    await page.goto(`${o.url}/playbooks`);
    await heading(page, 'Playbook gallery');
    // This workspace has email and SMS templates but no push one: the pickup notice's SMS fields are pre-filled with
    // the SMS template, its push is left to a starter (the optional email is left out).
    await page.getByRole('button', { name: 'Use the Order ready for pickup playbook' }).click();
    const push = page.getByLabel('the notice as a push');
    await expect(push).toHaveValueSoon(/^$/);
    await expect(push.locator('option').first()).toHaveTextSoon('A starter template (edit it later)');
    const before = (await o.api('GET', '/api/templates')).body.templates.length;
    await page.getByRole('button', { name: 'Install as draft' }).click();
    await heading(page, 'Order ready for pickup');
    const after = (await o.api('GET', '/api/templates')).body.templates as { name: string; channel: string }[];
    expect(after.length).toBe(before + 1);
    expect(after.find((t) => t.name === 'Ready for pickup (push)')).toMatchObject({ channel: 'push' });
  }, T);

  it('templates: previews an email at phone width and counts SMS segments', async () => {
    await nav(page, 'Templates');
    await heading(page, 'Templates');
    await page.getByRole('link', { name: 'Cart reminder' }).click();
    await heading(page, 'Cart reminder');
    const frame = page.locator('iframe.email-frame');
    await expect(frame).toBeVisibleSoon();
    await page.getByRole('button', { name: 'Phone (390 px)' }).click();
    await expect(page.locator('iframe.email-frame[data-width="phone"]')).toBeVisibleSoon();
    expect(Math.round((await frame.boundingBox())!.width)).toBe(390);
    await expect(page.frameLocator('iframe.email-frame').getByText('your candles are still in your cart')).toBeVisibleSoon();
    await expect(page.locator('.email-head')).toContainTextSoon('You left something behind, Alex');
    await shoot('template-email-phone');
    await page.getByRole('button', { name: 'Desktop' }).click();
    await shoot('template-email-desktop');
    await page.goto(`${o.url}/templates/${ids.smsTpl}`);
    await expect(page.getByTestId('sms-counter')).toContainTextSoon('GSM-7');
    await expect(page.getByTestId('sms-counter')).toContainTextSoon('1 segment');
    await page.getByRole('button', { name: 'Phone (390 px)' }).click();
    await shoot('template-sms');
  }, T);

  it('phone layout: a menu button opens the navigation; screens fit 390 px', async () => {
    await page.setViewportSize(PHONE);
    await page.goto(`${o.url}/`);
    await heading(page, 'Overview');
    const menu = page.getByRole('button', { name: 'Menu' });
    await expect(menu).toBeVisibleSoon();
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
    await menu.click();
    await expect(menu).toHaveAttributeSoon('aria-expanded', 'true');
    await shoot('phone-menu-open');
    await page.setViewportSize(PHONE);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await heading(page, 'Customers');
    await expect(page.getByRole('navigation', { name: 'Main' })).toBeHidden();
    for (const u of ['/', `/customers/${ids.ann}`, `/segments/${ids.segment}`, `/journeys/${ids.journey}`, `/templates/${ids.emailTpl}`, '/broadcasts']) {
      await page.goto(o.url + u);
      await page.locator('h1').waitFor();
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `horizontal overflow on ${u}`).toBeLessThanOrEqual(0);
    }
    // Keyboard: the skip link is the first stop and moves focus to the main content.
    await page.goto(`${o.url}/customers`);
    await heading(page, 'Customers');
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
    await page.setViewportSize(DESKTOP);
  }, T);

  it('a viewer sees a read-only dashboard, and the API refuses their writes', async () => {
    const add = await o.api('POST', '/api/users', { email: VIEWER.email, password: VIEWER.password, role: 'viewer', name: 'Victor Viewer' });
    expect(add.status).toBe(201);
    const { p } = await newPage();
    await p.goto(`${o.url}/segments/${ids.segment}`);
    await heading(p, 'Sign in');
    await p.getByLabel('Email').fill(VIEWER.email);
    await p.getByLabel('Password').fill(VIEWER.password);
    await p.getByRole('button', { name: 'Sign in' }).click();
    // Back where they were going, read-only.
    await heading(p, 'Gold plan');
    await expect(p.locator('.role-badge')).toHaveTextSoon('viewer');
    await expect(p.locator('.readonly-banner')).toContainTextSoon('read-only');
    await expect(p.getByRole('button', { name: 'Save changes' })).toBeDisabledSoon();
    await expect(p.getByLabel('Name')).toBeDisabledSoon();
    await expect(p.getByRole('button', { name: 'Archive' })).toBeDisabledSoon();
    await shoot('viewer-segment', { p });
    // The API enforces it: a write with the session and its CSRF token is a 403.
    const r = await p.evaluate(async () => {
      const me = await (await fetch('/api/auth/me')).json();
      const res = await fetch('/api/segments', { method: 'POST', headers: { 'content-type': 'application/json', 'x-omnia-csrf': me.csrf }, body: JSON.stringify({ name: 'x', definition: { kind: 'trait', trait: 'a', op: 'exists' } }) });
      return { status: res.status, body: await res.json() };
    });
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain('viewer');
    await p.goto(`${o.url}/journeys/${ids.journey}`);
    await heading(p, 'Cart abandonment');
    await expect(p.getByRole('button', { name: 'Pause' })).toBeDisabledSoon();
    await p.goto(`${o.url}/customers/${ids.ann}`);
    await heading(p, 'Ann Lee');
    await expect(p.getByRole('button', { name: 'Erase…' })).toBeDisabledSoon();
    await expect(p.getByLabel('Consent (all topics)').first()).toBeDisabledSoon();
  }, T);

  it('a session that expires sends the user back to sign in, with the reason', async () => {
    await page.goto(`${o.url}/segments`);
    await heading(page, 'Segments');
    await expect(page.locator('tbody tr')).toHaveCountSoon(2); // loaded (no request still in flight)
    // Every owner session idle for 13 hours: the next request finds it expired.
    await o.rt.store.db.updateTable('sessions').set({ last_seen_at: Date.now() - 13 * 3600_000 }).execute();
    await page.getByRole('link', { name: 'Gold plan' }).click();
    await heading(page, 'Sign in');
    await expect(page.locator('.login-card .notice-info')).toContainTextSoon('Your session has expired');
    await page.getByLabel('Email').fill(OWNER.email);
    await page.getByLabel('Password').fill(OWNER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back to the screen they were opening.
    await heading(page, 'Gold plan');
    expect(new URL(page.url()).pathname).toBe(`/segments/${ids.segment}`);
  }, T);

  it('broadcasts: lists them, sends one, shows its progress; the overview charts what was sent', async () => {
    await nav(page, 'Broadcasts');
    await heading(page, 'Broadcasts');
    await page.getByRole('link', { name: 'Spring sale' }).click();
    await heading(page, 'Spring sale');
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByRole('dialog', { name: 'Send this broadcast?' }).getByRole('button', { name: 'Send' }).click();
    await until('the broadcast leaves draft', async () => (await page.locator('.subtitle .badge').first().textContent()) !== 'draft');
    await until('the broadcast is sent', async () => {
      await o.settle();
      return (await o.api('GET', `/api/broadcasts/${ids.broadcast}`)).body.messages?.sent === 1;
    });
    await page.reload();
    await expect(page.locator('#progress')).toContainTextSoon('sent: 1');
    await shoot('broadcast');
    await nav(page, 'Overview');
    await heading(page, 'Overview');
    await expect(page.locator('#chart-status svg')).toBeVisibleSoon();
    await expect(page.locator('#chart-conv svg')).toBeVisibleSoon();
    await shoot('overview-data', { full: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading(page, 'Sign in');
    expect(await page.evaluate(async () => (await fetch('/api/auth/me')).status)).toBe(401);
  }, T);

  it('had no errors in the browser', () => {
    expect(tb.problems).toEqual([]);
  });
});

