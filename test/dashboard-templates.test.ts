// The template editor in Chromium against a real Omnia (SQLite): a new email template with its live preview at phone
// width, rendered as a real customer, saved; a Liquid error shown next to its field and nothing saved; an SMS
// template whose segment counter goes from 1 to 2 as the body grows; a new version from Edit.
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestOmnia, startTestOmnia } from './helpers.ts';
import { type TestBrowser, createOwner, expectHeading, openBrowser } from './support/browser.ts';

const T = 120_000;

describe('template editor (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let tb: TestBrowser;
  let page: Page;
  const templates = async () => (await o.api('GET', '/api/templates')).body.templates as { id: string; name: string; version: number; source: any }[];

  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    expect((await o.track('/v1/identify', { userId: 'z1', traits: { email: 'zoe@example.com', first_name: 'Zoë' } })).status).toBe(200);
    await o.settle();
    tb = await openBrowser('omnia-template-shots-');
    ({ p: page } = await tb.newPage());
    await createOwner(page, o.url);
  }, T);
  afterAll(async () => {
    await tb?.close();
    await o?.close();
  }, T);

  it('creates an email template with a live preview, rendered as a real customer', async () => {
    await page.goto(`${o.url}/templates`);
    await page.getByRole('link', { name: 'New template' }).click();
    await expectHeading(page, 'New template');
    await page.getByLabel('Name', { exact: true }).fill('Welcome');
    const frame = page.frameLocator('iframe.email-frame');
    await expect(frame.getByText('Hi Alex,')).toBeVisibleSoon(); // the preview's sample person
    await page.getByLabel('Body (MJML)').fill('<mj-section><mj-column><mj-text>Welcome aboard, {{ profile.first_name | default: "friend" }}!</mj-text></mj-column></mj-section>');
    await expect(frame.getByText('Welcome aboard, Alex!')).toBeVisibleSoon();
    await page.getByLabel('Preview as').fill('zoe@');
    await page.getByRole('button', { name: 'Render' }).click();
    await expect(frame.getByText('Welcome aboard, Zoë!')).toBeVisibleSoon();
    await page.getByRole('button', { name: 'Phone (390 px)' }).click();
    expect(await page.locator('iframe.email-frame').evaluate((f) => f.getBoundingClientRect().width)).toBe(390);
    await tb.shoot(page, 'template-editor');
    // A Liquid error: shown next to the subject, nothing saved.
    await page.getByLabel('Subject').fill('Hello {{ profile.first_name ');
    await page.getByRole('button', { name: 'Create template' }).click();
    await expect(page.locator('#tpl-subject-err')).toBeVisibleSoon();
    expect((await templates()).map((t) => t.name)).not.toContain('Welcome');
    await page.getByLabel('Subject').fill('Welcome, {{ profile.first_name | default: "friend" }}');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.waitForURL(/\/templates\/tpl_[^/]+$/);
    const saved = (await templates()).find((t) => t.name === 'Welcome')!;
    expect(saved.source).toMatchObject({ channel: 'email', subject: 'Welcome, {{ profile.first_name | default: "friend" }}' });
    expect(saved.source.mjml).toContain('Welcome aboard');
    // Edit: a new version.
    await page.getByRole('link', { name: 'Edit' }).click();
    await expectHeading(page, 'Edit Welcome');
    await page.getByLabel('Preheader').fill('Your first order ships free');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await page.waitForURL(/\/templates\/tpl_[^/]+$/);
    const v2 = (await templates()).find((t) => t.name === 'Welcome')!;
    expect(v2.version).toBe(2);
    expect(v2.source.preheader).toBe('Your first order ships free');
  }, T);

  it('counts SMS segments as the body grows', async () => {
    await page.goto(`${o.url}/templates/new`);
    await page.getByLabel('Channel').selectOption('sms');
    await page.getByLabel('Name', { exact: true }).fill('Short SMS');
    await page.getByLabel('Message').fill('Your order is ready for pick-up.');
    await expect(page.getByTestId('sms-count')).toContainTextSoon('1 segment');
    await page.getByLabel('Message').fill(`Your order is ready for pick-up. ${'x'.repeat(140)}`);
    await expect(page.getByTestId('sms-count')).toContainTextSoon('2 segments');
    await tb.shoot(page, 'template-editor-sms');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.waitForURL(/\/templates\/tpl_[^/]+$/);
    expect((await templates()).find((t) => t.name === 'Short SMS')?.source.channel).toBe('sms');
  }, T);

  it('makes an onsite modal and a push notification, each with its mock', async () => {
    await page.goto(`${o.url}/templates/new`);
    await page.getByLabel('Channel').selectOption('onsite');
    await page.getByLabel('Name', { exact: true }).fill('Modal offer');
    await page.getByLabel('Kind').selectOption('modal');
    await page.getByLabel('Title').fill('Hello {{ profile.first_name | default: "you" }}');
    await expect(page.locator('.te-onsite[data-kind="modal"]')).toContainTextSoon('Hello Alex');
    await page.getByRole('button', { name: 'Create template' }).click();
    await page.waitForURL(/\/templates\/tpl_[^/]+$/);
    expect((await templates()).find((t) => t.name === 'Modal offer')?.source).toMatchObject({ channel: 'onsite', kind: 'modal' });
    await page.goto(`${o.url}/templates/new`);
    await page.getByLabel('Channel').selectOption('push');
    await page.getByLabel('Text').fill('Your cart misses you');
    await page.getByLabel('Preview as').fill('zoe@');
    await page.getByRole('button', { name: 'Render' }).click();
    await expect(page.getByRole('img', { name: /Notification: Hi Zoë/ })).toBeVisibleSoon();
    await expect(page.getByText('Rendered for zoe@example.com')).toBeVisibleSoon();
  }, T);

  it('had no errors in the browser', () => {
    expect(tb.problems).toEqual([]);
  });
});

describe('brand kit (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let tb: TestBrowser;
  let page: Page;
  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    tb = await openBrowser('omnia-brand-shots-');
    ({ p: page } = await tb.newPage());
    await createOwner(page, o.url);
  }, T);
  afterAll(async () => {
    await tb?.close();
    await o?.close();
  }, T);

  it('previews the unsaved kit, refuses a bad colour next to its field, saves', async () => {
    await page.goto(`${o.url}/templates`);
    await page.getByRole('link', { name: 'Brand kit' }).click();
    await expectHeading(page, 'Brand kit');
    await page.getByLabel('Brand name').fill('Candle Co');
    const frame = page.frameLocator('iframe.email-frame');
    await expect(frame.getByText('This is how your emails look.')).toBeVisibleSoon();
    await page.getByLabel('Primary colour', { exact: true }).fill('#aa3300');
    await expect.poll(async () => (await page.locator('iframe.email-frame').getAttribute('srcdoc'))?.toLowerCase().includes('#aa3300'), { timeout: 10_000 }).toBe(true);
    await page.getByLabel('Address', { exact: false }).first().fill('1 High Street, Leeds LS1 1AA');
    await page.getByLabel('Sender email').fill('hello@candle.test');
    // A bad colour: the API's own validator runs in the page, so its message is under the field as it is typed, and
    // a Save sends nothing. The API refuses the same value with the same words.
    const puts: string[] = [];
    page.on('request', (r) => void (r.method() === 'PUT' && puts.push(r.url())));
    await page.getByLabel('Text colour', { exact: true }).fill('dark');
    await expect(page.locator('#brand-text-err')).toBeVisibleSoon();
    const shown = (await page.locator('#brand-text-err').textContent()) ?? '';
    await page.getByRole('button', { name: 'Save brand kit' }).click();
    await expect(page.locator('#brand-text')).toBeFocused();
    expect(puts).toEqual([]);
    const current = (await o.api('GET', '/api/messaging/brand')).body;
    expect(current.name).not.toBe('Candle Co');
    const refused = await o.api('PUT', '/api/messaging/brand', { ...current, colors: { ...current.colors, text: 'dark' } });
    expect(refused.status).toBe(400);
    expect(shown.length).toBeGreaterThan(0);
    // (The page writes the message as a sentence: capital first letter, full stop.)
    expect(refused.body.error.message.toLowerCase()).toContain(shown.trim().replace(/\.$/, '').toLowerCase());
    await page.getByLabel('Text colour', { exact: true }).fill('#222222');
    await page.getByRole('button', { name: 'Save brand kit' }).click();
    await expect.poll(async () => (await o.api('GET', '/api/messaging/brand')).body.colors?.primary, { timeout: 10_000 }).toBe('#aa3300');
    const saved = (await o.api('GET', '/api/messaging/brand')).body;
    expect(saved).toMatchObject({ name: 'Candle Co', senderEmail: 'hello@candle.test', colors: { primary: '#aa3300', text: '#222222' } });
    await tb.shoot(page, 'brand-kit');
    expect(tb.problems).toEqual([]);
  }, T);
});
