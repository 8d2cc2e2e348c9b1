// The broadcast composer and detail in a real Chromium against a real Omnia (SQLite) with a real SMTP server: an A/B
// broadcast composed in the UI to a segment of seeded people (bad input first: the API's 400 under the field it names,
// nothing saved), saved, edited, sent with a confirmation that states its reach; live progress on the detail (it polls
// by itself: no reload) until the test group is sent; clicks on the tracked links in the real emails of variant B;
// the winner picked after the test period (a skewed clock) and marked with its reason; the rest gets B. Then cancel
// of a scheduled broadcast, and a viewer who cannot compose (no buttons; the API's 403). Screenshots at both widths.
import { simpleParser } from 'mailparser';
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestOmnia, startTestOmnia } from './helpers.ts';
import { DESKTOP, PHONE, type TestBrowser, expectHeading, openBrowser, signIn, until } from './support/browser.ts';
import { type TestSmtpServer, startSmtpServer } from './support/smtp-server.ts';

const T = 60_000;
const OWNER = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' };
const VIEWER = { email: 'victor@candle.example', password: 'viewer-password-1' };
const PEOPLE = 20;
const CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36';

describe('dashboard broadcasts (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let tb: TestBrowser;
  let page: Page;
  // Omnia's clock runs ahead by `skew` (the A/B test period passes without waiting an hour).
  let skew = 0;
  const ids = { a: '', b: '', sms: '', segment: '', broadcast: '' };
  const broadcasts = async () => (await o.api('GET', '/api/broadcasts')).body.broadcasts as any[];

  beforeAll(async () => {
    o = await startTestOmnia('sqlite', { clock: () => Date.now() + skew });
    smtp = await startSmtpServer();
    expect((await o.api('PUT', '/api/messaging/policy', { caps: [], quietHours: [] })).status).toBe(200);
    expect((await o.api('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' })).status).toBe(200);
    const setup = await fetch(`${o.url}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
    expect(setup.status).toBe(201);
    expect((await o.api('POST', '/api/users', { email: VIEWER.email, password: VIEWER.password, role: 'viewer', name: 'Victor Viewer' })).status).toBe(201);
    const email = async (name: string, subject: string) => {
      const mjml = `<mj-section><mj-column><mj-text>${subject}</mj-text><mj-button href="https://shop.example.com/sale">Shop the sale</mj-button></mj-column></mj-section>`;
      const r = await o.api('POST', '/api/templates', { name, source: { channel: 'email', subject, mjml } });
      expect(r.status).toBe(201);
      return r.body.id as string;
    };
    ids.a = await email('Spring A', 'Spring sale (A)');
    ids.b = await email('Spring B', 'Spring sale (B)');
    const sms = await o.api('POST', '/api/templates', { name: 'Sale SMS', source: { channel: 'sms', body: 'Spring sale today. Reply STOP to opt out' } });
    ids.sms = sms.body.id;
    for (let i = 0; i < PEOPLE; i++) expect((await o.track('/v1/identify', { userId: `vip${i}`, traits: { email: `vip${i}@example.com`, first_name: `Vip${i}`, vip: true, consent: { email: 'subscribed' } } })).status).toBe(200);
    await o.settle();
    const seg = await o.api('POST', '/api/segments?wait=true', { name: 'VIPs', definition: { kind: 'trait', trait: 'vip', op: 'eq', value: true } });
    expect(seg.status).toBe(201);
    ids.segment = seg.body.id;
    tb = await openBrowser('omnia-broadcast-shots-');
    ({ p: page } = await tb.newPage());
    await signIn(page, o.url, OWNER.email, OWNER.password);
  }, T);

  afterAll(async () => {
    await tb?.close();
    await o?.close();
    await smtp?.close();
  }, T);

  const variant = (id: string) => page.getByRole('group', { name: `Variant ${id}` });
  /** The field (label + control + error) around a control. */
  const fieldOf = (label: string | RegExp, scope = page.locator('form')) => scope.locator('.field').filter({ has: page.getByLabel(label, { exact: typeof label === 'string' }) });

  it('composes an A/B broadcast: bad input is shown next to its field and nothing is saved; then saves a draft', async () => {
    await page.goto(`${o.url}/broadcasts`);
    await expectHeading(page, 'Broadcasts');
    await page.getByRole('link', { name: 'New broadcast' }).click();
    await expectHeading(page, 'New broadcast');
    await page.getByLabel('Name', { exact: true }).fill('Spring sale');
    await expect(page.getByLabel('Topic')).toHaveValueSoon(/^marketing$/);
    await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'VIPs' });
    await expect(page.getByTestId('segment-members')).toContainTextSoon(`${PEOPLE} people in this segment now`);
    // Only email templates are offered for an email broadcast.
    const tplA = variant('A').getByLabel('Email template', { exact: true });
    expect(await tplA.locator('option').allTextContents()).toEqual(['Choose a template…', 'Spring A', 'Spring B']);
    await tplA.selectOption({ label: 'Spring A' });
    await expect(variant('A').getByRole('link', { name: /Preview the email template of variant A/ })).toHaveAttributeSoon('href', `/templates/${ids.a}`);
    await page.getByRole('button', { name: 'Add variant' }).click();
    await expect(variant('B')).toBeVisibleSoon();
    await page.getByRole('checkbox', { name: /^A\/B test/ }).check();
    await page.getByLabel('Test group').fill('100');
    await page.getByLabel('Winner by').selectOption('clicks');
    await page.getByLabel('Pick the winner after').fill('1');
    await page.getByLabel('Unit').selectOption('hours');

    // Bad input 1: a test group of 100 % (the API's testShare must be < 1) → under "Test group", focused, nothing saved.
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect(fieldOf('Test group').locator('.field-error')).toContainTextSoon('less than 100 %');
    await expect(fieldOf('Test group').locator('.field-error')).toContainTextSoon('abTest.testShare');
    await expect(page.getByLabel('Test group')).toBeFocused();
    await expect(page.getByLabel('Test group')).toHaveAttributeSoon('aria-invalid', 'true');
    expect(await broadcasts()).toEqual([]);
    // Bad input 2: variant B has no template → under B's template select.
    await page.getByLabel('Test group').fill('50');
    await expect(page.locator('.field-error')).toHaveCountSoon(0); // an edit clears the old error
    await expect(fieldOf('Test group')).toContainTextSoon(`≈ 10 people of ${PEOPLE}`);
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect(fieldOf('Email template', variant('B')).locator('.field-error')).toContainTextSoon('channel email needs a template');
    await expect(fieldOf('Email template', variant('A')).locator('.field-error')).toHaveCountSoon(0);
    await expect(variant('B').getByLabel('Email template', { exact: true })).toBeFocused();
    expect(await broadcasts()).toEqual([]);
    await tb.shoot(page, 'composer-error');

    await variant('B').getByLabel('Email template', { exact: true }).selectOption({ label: 'Spring B' });
    await tb.shoot(page, 'composer', { full: true });
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expectHeading(page, 'Spring sale');
    ids.broadcast = /\/broadcasts\/([^/?]+)$/.exec(page.url())![1]!;
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('draft');
    const saved = await broadcasts();
    expect(saved.length).toBe(1);
    await page.goto(`${o.url}/broadcasts`);
    await page.getByRole('row', { name: /Spring sale/ }).getByRole('link', { name: 'Edit', exact: true }).click();
    await expectHeading(page, 'Edit “Spring sale”');
    await page.getByRole('link', { name: 'Cancel', exact: true }).click();
    await expectHeading(page, 'Spring sale');
    expect(saved[0].definition).toEqual({
      name: 'Spring sale',
      segmentId: ids.segment,
      audience: 'snapshot',
      channel: 'email',
      topic: 'marketing',
      variants: [
        { id: 'A', templates: { email: ids.a } },
        { id: 'B', templates: { email: ids.b } },
      ],
      abTest: { testShare: 0.5, metric: 'clicks', afterMinutes: 60 },
    });
  }, T);

  it('edits the draft, sends it with a confirmation of its reach, and watches the live progress and the winner', async () => {
    await page.getByRole('link', { name: 'Edit', exact: true }).click();
    await expectHeading(page, 'Edit “Spring sale”');
    await expect(page.getByLabel('Test group')).toHaveValueSoon(/^50$/);
    await expect(page.getByLabel('Pick the winner after')).toHaveValueSoon(/^1$/);
    await expect(variant('B').getByLabel('Email template', { exact: true })).toHaveValueSoon(new RegExp(`^${ids.b}$`));
    await page.getByLabel('Name', { exact: true }).fill('Spring sale 2026');
    await page.getByRole('button', { name: 'Send…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send this broadcast?' });
    await expect(dialog.getByTestId('send-reach')).toContainTextSoon(`It will reach up to ${PEOPLE} people: the members of “VIPs” when it starts, now.`);
    await expect(dialog).toContainTextSoon('About 50 % (≈ 10 people) get variants A, B first; after 1 hour the variant with the best click rate goes to the other ≈ 10 people.');
    await tb.shoot(page, 'send-confirm');
    // The edit was saved before asking.
    expect((await broadcasts())[0].name).toBe('Spring sale 2026');
    await dialog.getByRole('button', { name: `Send to ${PEOPLE} people` }).click();
    await expectHeading(page, 'Spring sale 2026');
    expect(new URL(page.url()).pathname).toBe(`/broadcasts/${ids.broadcast}`);

    // The test group goes; the page follows on its own (it polls every 2 s).
    let test = 0;
    await until('the test group is sent', async () => {
      await o.settle();
      const b = (await o.api('GET', `/api/broadcasts/${ids.broadcast}`)).body;
      test = (b.groups ?? []).filter((g: any) => g.group === 'test').reduce((a: number, g: any) => a + g.recipients, 0);
      return b.status === 'testing' && b.messages?.sent === test;
    });
    expect(test).toBeGreaterThan(0);
    expect(test).toBeLessThan(PEOPLE);
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('testing');
    await expect(page.getByTestId('figure-sent')).toContainTextSoon(`Sent${test}`);
    await expect(page.getByTestId('figure-planned')).toContainTextSoon(`Planned${PEOPLE}`);
    await expect(page.locator('#progress')).toContainTextSoon(`${PEOPLE - test} waiting for the test's winner`);
    await expect(page.locator('#results')).toContainTextSoon('Testing: the winner by click rate is picked');
    await tb.shoot(page, 'detail-testing', { full: true });

    // Real emails: recipients of B click its tracked link (as people do, a while after it arrived); A's do not.
    const mails = await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));
    expect(mails.length).toBe(test);
    const ofB = mails.filter((m) => m.subject === 'Spring sale (B)');
    expect(ofB.length).toBeGreaterThan(0);
    expect(mails.filter((m) => m.subject === 'Spring sale (A)').length).toBe(test - ofB.length);
    skew += 60_000;
    for (const m of ofB.slice(0, 2)) {
      const href = /href="([^"]*\/t\/c\/[^"]*)"/.exec(String(m.html))![1]!.replace(/&amp;/g, '&');
      const r = await fetch(href, { redirect: 'manual', headers: { 'user-agent': CHROME_UA } });
      expect(r.status).toBeGreaterThanOrEqual(300);
      expect(r.headers.get('location')).toContain('shop.example.com/sale');
    }
    await expect(page.locator('#progress tr[data-variant="B"] td').nth(3)).toHaveTextSoon(String(Math.min(2, ofB.length)));
    // The test period passes: B wins on clicks, and the rest of the audience gets B.
    skew += 61 * 60_000;
    await until('the broadcast is sent', async () => {
      await o.settle();
      const b = (await o.api('GET', `/api/broadcasts/${ids.broadcast}`)).body;
      return b.status === 'sent' && b.messages?.sent === PEOPLE;
    });
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('sent');
    await expect(page.getByTestId('winner')).toContainTextSoon('Winner: B');
    await expect(page.getByTestId('winner')).toContainTextSoon('B has the best clicks rate');
    await expect(page.locator('#results tr.row-winner')).toContainTextSoon('winner');
    await expect(page.locator('#results tr[data-variant="A"]')).toContainTextSoon('0.0 %');
    await expect(page.getByTestId('figure-sent')).toContainTextSoon(`Sent${PEOPLE}`);
    await expect(page.getByTestId('figure-clicked')).toContainTextSoon(`Clicked${Math.min(2, ofB.length)}`);
    await expect(page.locator('.bc-live')).toHaveTextSoon('');
    const all = await Promise.all(smtp.messages.map((m) => simpleParser(m.raw)));
    expect(all.length).toBe(PEOPLE);
    expect(all.filter((m) => m.subject === 'Spring sale (B)').length).toBe(ofB.length + PEOPLE - test);
    await tb.shoot(page, 'detail-sent', { full: true });
    // The list: no Edit once sent.
    await page.goto(`${o.url}/broadcasts`);
    await expect(page.getByRole('row', { name: /Spring sale 2026/ })).toContainTextSoon('sent');
    await expect(page.getByRole('row', { name: /Spring sale 2026/ }).getByRole('link', { name: 'Edit', exact: true })).toHaveCountSoon(0);
  }, T);

  it('schedules at a date and time, cancels it; a throttled A/B send is cancelled while testing', async () => {
    await page.goto(`${o.url}/broadcasts/new`);
    await expectHeading(page, 'New broadcast');
    await page.getByLabel('Name', { exact: true }).fill('Slow sale');
    await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'VIPs' });
    await variant('A').getByLabel('Email template', { exact: true }).selectOption({ label: 'Spring A' });
    await page.getByLabel('At a date and time').check();
    const tomorrow = new Date(Date.now() + 86_400_000);
    const local = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}T10:30`;
    await page.getByLabel('Date and time', { exact: true }).fill(local);
    await page.getByRole('button', { name: 'Schedule…' }).click();
    // The instant is the browser's local time, sent as an ISO date-time: the broadcast is scheduled for it.
    await page.getByRole('dialog', { name: 'Schedule this broadcast?' }).getByRole('button', { name: `Schedule for ${PEOPLE} people` }).click();
    await expectHeading(page, 'Slow sale');
    const scheduledId = /\/broadcasts\/([^/?]+)$/.exec(page.url())![1]!;
    const sch = (await o.api('GET', `/api/broadcasts/${scheduledId}`)).body;
    expect(sch.status).toBe('scheduled');
    expect(new Date(sch.definition.schedule.at).getTime()).toBe(new Date(local).getTime());
    await tb.shoot(page, 'broadcast-scheduled');
    await page.getByRole('button', { name: 'Cancel broadcast' }).click();
    await page.getByRole('dialog', { name: 'Cancel this broadcast?' }).getByRole('button', { name: 'Cancel broadcast' }).click();
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('cancelled');
    // A second one, sent now instead.
    await page.goto(`${o.url}/broadcasts/new`);
    await expectHeading(page, 'New broadcast');
    await page.getByLabel('Name', { exact: true }).fill('Slow sale');
    await page.getByLabel('Segment', { exact: true }).selectOption({ label: 'VIPs' });
    await variant('A').getByLabel('Email template', { exact: true }).selectOption({ label: 'Spring A' });
    // Now, throttled to 1 a minute, as an A/B test: the test group's messages are held over the next minutes.
    await page.getByLabel('Send now').check();
    await page.getByLabel('Throttle (optional)').fill('1');
    await page.getByRole('button', { name: 'Add variant' }).click();
    await variant('B').getByLabel('Email template', { exact: true }).selectOption({ label: 'Spring B' });
    await page.getByRole('checkbox', { name: /^A\/B test/ }).check();
    await page.getByLabel('Test group', { exact: true }).fill('50');
    await page.getByRole('button', { name: 'Send…' }).click();
    await page.getByRole('dialog', { name: 'Send this broadcast?' }).getByRole('button', { name: `Send to ${PEOPLE} people` }).click();
    await expectHeading(page, 'Slow sale');
    const id = /\/broadcasts\/([^/?]+)$/.exec(page.url())![1]!;
    await until('the test is running', async () => {
      await o.settle();
      return (await o.api('GET', `/api/broadcasts/${id}`)).body.status === 'testing';
    });
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('testing');
    await until('the page shows held messages', async () => Number((await page.getByTestId('figure-queued').locator('dd').textContent()) ?? 0) > 0);
    await page.getByRole('button', { name: 'Cancel broadcast' }).click();
    await page.getByRole('dialog', { name: 'Cancel this broadcast?' }).getByRole('button', { name: 'Cancel broadcast' }).click();
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('cancelled');
    const b = (await o.api('GET', `/api/broadcasts/${id}`)).body;
    expect(b.status).toBe('cancelled');
    expect(b.messages.cancelled).toBeGreaterThan(0);
    await expect(page.locator('#progress')).toContainTextSoon(`cancelled: ${b.messages.cancelled}`);
    await expect(page.getByRole('button', { name: 'Cancel broadcast' })).toHaveCountSoon(0);
  }, T);

  it('a sent broadcast with messages still held by its throttle offers to cancel the waiting ones', async () => {
    const r = await o.api('POST', '/api/broadcasts', { name: 'Trickle', segmentId: ids.segment, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: ids.a } }], throttlePerMinute: 1 });
    expect(r.status).toBe(201);
    expect((await o.api('POST', `/api/broadcasts/${r.body.id}/send`)).status).toBeLessThan(300);
    await until('every message is planned', async () => {
      await o.settle();
      return (await o.api('GET', `/api/broadcasts/${r.body.id}`)).body.status === 'sent';
    });
    await page.goto(`${o.url}/broadcasts/${r.body.id}`);
    await expectHeading(page, 'Trickle');
    const stop = page.getByRole('button', { name: /^Cancel the \d+ waiting$/ });
    await expect(stop).toBeVisibleSoon();
    await stop.click();
    await page.getByRole('dialog', { name: 'Cancel this broadcast?' }).getByRole('button', { name: 'Cancel broadcast' }).click();
    await expect(page.locator('.subtitle .badge').first()).toHaveTextSoon('cancelled');
    const b = (await o.api('GET', `/api/broadcasts/${r.body.id}`)).body;
    expect(b.messages.cancelled).toBeGreaterThan(0);
    expect((b.messages.queued ?? 0) + (b.messages.deferred ?? 0)).toBe(0);
  }, T);

  it('a viewer cannot compose: no buttons, a read-only form, and the API refuses', async () => {
    const draft = await o.api('POST', '/api/broadcasts', { name: 'Autumn draft', segmentId: ids.segment, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: ids.a } }] });
    expect(draft.status).toBe(201);
    const { p } = await tb.newPage();
    await signIn(p, o.url, VIEWER.email, VIEWER.password);
    await p.goto(`${o.url}/broadcasts`);
    await expectHeading(p, 'Broadcasts');
    await expect(p.getByRole('link', { name: 'Autumn draft' })).toBeVisibleSoon();
    await expect(p.getByRole('link', { name: 'New broadcast' })).toHaveCountSoon(0);
    await expect(p.getByRole('link', { name: /^Edit/ })).toHaveCountSoon(0);
    await p.getByRole('link', { name: 'Autumn draft' }).click();
    await expectHeading(p, 'Autumn draft');
    await expect(p.getByRole('button', { name: 'Send…' })).toBeDisabledSoon();
    await expect(p.getByRole('link', { name: 'Edit' })).toHaveCountSoon(0);
    await tb.shoot(p, 'viewer-detail');
    await p.goto(`${o.url}/broadcasts/${draft.body.id}/edit`);
    await expectHeading(p, 'Edit “Autumn draft”');
    await expect(p.getByRole('note').filter({ hasText: 'cannot change this' }).last()).toBeVisibleSoon();
    await expect(p.getByLabel('Name', { exact: true })).toBeDisabledSoon();
    await expect(p.getByRole('button', { name: 'Save draft' })).toHaveCountSoon(0);
    await expect(p.getByRole('button', { name: /^(Send|Schedule)…$/ })).toHaveCountSoon(0);
    const r = await p.evaluate(async (segmentId) => {
      const me = await (await fetch('/api/auth/me')).json();
      const res = await fetch('/api/broadcasts', { method: 'POST', headers: { 'content-type': 'application/json', 'x-omnia-csrf': me.csrf }, body: JSON.stringify({ name: 'x', segmentId, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: 'tpl' } }] }) });
      return res.status;
    }, ids.segment);
    expect(r).toBe(403);
    expect((await broadcasts()).map((b) => b.name).sort()).toEqual(['Autumn draft', 'Slow sale', 'Slow sale', 'Spring sale 2026', 'Trickle']);
  }, T);

  it('the list, the composer and the detail fit 390 px (no page-wide horizontal scroll)', async () => {
    await page.setViewportSize(PHONE);
    for (const u of ['/broadcasts', '/broadcasts/new', `/broadcasts/${ids.broadcast}`]) {
      await page.goto(o.url + u);
      await page.locator('h1').waitFor();
      await page.waitForTimeout(400);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `horizontal overflow on ${u}`).toBeLessThanOrEqual(0);
    }
    await page.setViewportSize(DESKTOP);
  }, T);

  it('had no errors in the browser', () => {
    expect(tb.problems).toEqual([]);
  });
});
