// The Settings screens in a real Chromium against a real Omnia (SQLite): tabs as links; the SMTP provider set to a
// real test SMTP server in the UI and its connection checked (the health endpoint: there is no test send); a cap
// and quiet hours saved (checked through the API); a bad cap refused with the message next to its field and nothing
// saved; an API key created, its secret shown once and used (200), then revoked (401); a marketer added, who signs
// in and sees the owner-only notes on keys and users.
import { type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestOmnia, startTestOmnia } from './helpers.ts';
import { type TestBrowser, expectHeading, navTo, openBrowser, signIn } from './support/browser.ts';

const tab = (p: Page, name: string) => p.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name }).click();
import { type TestSmtpServer, startSmtpServer } from './support/smtp-server.ts';

const T = 60_000;
const OWNER = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' };
const MARKETER = { name: 'Mark Marketer', email: 'mark@candle.example', password: 'marketer-password-1' };

describe('dashboard settings (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  let tb: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    smtp = await startSmtpServer();
    const setup = await fetch(`${o.url}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
    expect(setup.status).toBe(201);
    tb = await openBrowser('omnia-settings-shots-');
    page = (await tb.newPage()).p;
    await signIn(page, o.url, OWNER.email, OWNER.password);
  }, T);

  afterAll(async () => {
    await tb?.close();
    await o?.close();
    await smtp?.close();
  }, T);

  it('tabs are links; /settings is the channels tab', async () => {
    // Client navigation: the server does not serve /settings as a dashboard route yet (CLIENT_ROUTES lacks it).
    await navTo(page, 'Settings');
    await expectHeading(page, 'Settings');
    expect(new URL(page.url()).pathname).toBe('/settings');
    const tabs = page.getByRole('navigation', { name: 'Settings sections' });
    await expect(tabs.getByRole('link', { name: 'Channels' })).toHaveAttributeSoon('aria-current', 'page');
    await tabs.getByRole('link', { name: 'Policy' }).click();
    await expect(tabs.getByRole('link', { name: 'Policy' })).toHaveAttributeSoon('aria-current', 'page');
    expect(new URL(page.url()).pathname).toBe('/settings/policy');
    await tabs.getByRole('link', { name: 'Channels' }).click();
    expect(new URL(page.url()).pathname).toBe('/settings/channels');
  }, T);

  it('sets SMTP to the test server and checks the connection; the password is never shown', async () => {
    const form = page.getByRole('form', { name: 'Email (SMTP) provider' });
    await form.getByLabel('SMTP host').fill('127.0.0.1');
    await form.getByLabel('Port', { exact: true }).fill(String(smtp.port));
    await form.getByLabel('Message-ID domain').fill('mail.candle.test');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect(page.locator('#provider-email .card-head')).toContainTextSoon('configured');
    await expect(page.locator('tr[data-channel="email"]')).toContainTextSoon('configured');
    const stored = await o.api('GET', '/api/messaging/providers');
    expect(stored.body.providers.email).toMatchObject({ host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.candle.test' });
    await form.getByRole('button', { name: 'Check connection' }).click();
    await expect(page.locator('#provider-email .health-result')).toContainTextSoon('Connection OK');
    // Send test: a real email reaches the SMTP server; a bad address is refused next to the field.
    const testForm = page.getByRole('form', { name: 'Send a test email' });
    await testForm.getByLabel('Send a test email to').fill('nobody-at-example');
    await testForm.evaluate((f) => f.setAttribute('novalidate', ''));
    await testForm.getByRole('button', { name: 'Send test' }).click();
    await expect(page.locator('#test-to-email-err')).toBeVisibleSoon();
    expect(smtp.messages.some((m) => m.to.includes('nobody-at-example'))).toBe(false);
    const before = smtp.messages.length;
    await testForm.getByLabel('Send a test email to').fill('owner-inbox@example.com');
    await testForm.getByRole('button', { name: 'Send test' }).click();
    await expect(testForm).toContainTextSoon('Sent to owner-inbox@example.com');
    expect(smtp.messages.length).toBe(before + 1);
    expect(smtp.messages.at(-1)!.to).toContain('owner-inbox@example.com');

    // A user and password: the password is sent, stored masked, and the field stays empty after reload.
    await form.getByLabel('User name').fill('mailer');
    await form.getByLabel('Password').fill('smtp-secret-1');
    await form.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await o.api('GET', '/api/messaging/providers')).body.providers.email.auth?.user).toBe('mailer');
    expect((await o.api('GET', '/api/messaging/providers')).body.providers.email.auth.pass).toBe('********');
    await tab(page, 'Policy');
    await tab(page, 'Channels');
    await expect(page.getByRole('form', { name: 'Email (SMTP) provider' }).getByLabel('User name')).toHaveValueSoon(/^mailer$/);
    expect(await page.getByRole('form', { name: 'Email (SMTP) provider' }).getByLabel('Password').inputValue()).toBe('');
    expect(await page.content()).not.toContain('smtp-secret-1');
    // Saving again with the password left empty keeps the stored one (sent back as the mask).
    await page.getByRole('form', { name: 'Email (SMTP) provider' }).getByLabel('Port', { exact: true }).fill(String(smtp.port));
    await page.getByRole('form', { name: 'Email (SMTP) provider' }).getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Email (SMTP) saved' })).toBeVisibleSoon();
    // Back to no sign-in (the test server has no AUTH), and the connection is fine again.
    await page.getByRole('form', { name: 'Email (SMTP) provider' }).getByLabel('User name').fill('');
    await page.getByRole('form', { name: 'Email (SMTP) provider' }).getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await o.api('GET', '/api/messaging/providers')).body.providers.email.auth).toBeUndefined();
    await tb.shoot(page, 'settings-channels', { full: true });
  }, T);

  it('saves a cap and quiet hours; a bad cap shows its error next to the field and saves nothing', async () => {
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Policy' }).click();
    await expect(page.getByRole('button', { name: 'Save policy' })).toBeVisibleSoon();
    // Start from none: remove every row.
    while (await page.getByRole('button', { name: /^Remove cap/ }).count()) await page.getByRole('button', { name: /^Remove cap/ }).first().click();
    while (await page.getByRole('button', { name: /^Remove quiet hours/ }).count()) await page.getByRole('button', { name: /^Remove quiet hours/ }).first().click();
    await page.getByRole('button', { name: 'Add a cap' }).click();
    const cap = page.getByRole('group', { name: 'Cap 1' });
    await cap.getByLabel('Channel').selectOption('email');
    await cap.getByLabel('Per').selectOption('week');
    await cap.getByLabel('At most').fill('4');
    await page.getByRole('button', { name: 'Add quiet hours' }).click();
    const q = page.getByRole('group', { name: 'Quiet hours 1' });
    await q.getByLabel('Channel').selectOption('all');
    await q.getByLabel('From').fill('22:30');
    await q.getByLabel('Until').fill('07:15');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(async () => (await o.api('GET', '/api/messaging/policy')).body.caps).toEqual([{ scope: 'email', period: 'week', max: 4 }]);
    expect((await o.api('GET', '/api/messaging/policy')).body.quietHours).toEqual([{ channel: 'all', start: '22:30', end: '07:15' }]);

    // A bad cap (max 0 is allowed: "none on that scope", so -1): the API's validator runs in the page, so its
    // message is next to that row's field as it is typed; Save sends nothing and focuses the field.
    const puts: string[] = [];
    page.on('request', (r) => void (r.method() === 'PUT' && puts.push(r.url())));
    await page.getByRole('button', { name: 'Add a cap' }).click();
    const cap2 = page.getByRole('group', { name: 'Cap 2' });
    await cap2.getByLabel('At most').fill('-1');
    await expect(page.locator('#cap-1-max-err')).toContainTextSoon('whole number');
    expect(await page.locator('#cap-1-max').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('#cap-0-max-err').count()).toBe(0);
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect(page.locator('#cap-1-max')).toBeFocused();
    await tb.shoot(page, 'settings-policy-error', { full: true });
    // A second cap on the same channel and period as a valid one: the duplicate is named on its row.
    await cap2.getByLabel('At most').fill('2');
    await expect(page.locator('#cap-1-max-err')).toHaveCountSoon(0);
    await page.getByRole('button', { name: 'Add a cap' }).click();
    await expect(page.locator('#cap-2-max-err')).toContainTextSoon('already limits all per day');
    await page.getByRole('button', { name: 'Remove cap 3' }).click();
    expect(puts).toEqual([]);
    expect((await o.api('GET', '/api/messaging/policy')).body.caps).toEqual([{ scope: 'email', period: 'week', max: 4 }]);
    await page.getByRole('button', { name: 'Remove cap 2' }).click();
  }, T);

  it('edits the rest of the policy: quiet-hour countries and weekdays, over-cap, time zone, fallback order, consent', async () => {
    const puts: string[] = [];
    page.on('request', (r) => void (r.method() === 'PUT' && puts.push(r.url())));
    const q = page.getByRole('group', { name: 'Quiet hours 1' });
    // Bad values are the validator's errors at their fields as they are typed; Save sends nothing.
    await q.getByLabel('Only in countries').fill('us, Canada');
    await expect(page.locator('#quiet-0-countries-err')).toContainTextSoon('ISO 3166');
    await page.getByLabel('Default time zone').fill('Mars/Olympus');
    await expect(page.locator('#policy-zone-err')).toContainTextSoon('time zone "Mars/Olympus"');
    await page.getByRole('button', { name: 'Save policy' }).click();
    expect(puts).toEqual([]);
    await tb.shoot(page, 'settings-policy-rules-error', { full: true });

    await q.getByLabel('Only in countries').fill('us, ca');
    await q.getByLabel('Fri').check();
    await q.getByLabel('Sat').check();
    await page.getByLabel('Default time zone').fill('Europe/Berlin');
    await page.getByLabel('A marketing message over a cap').selectOption('drop');
    await page.getByLabel('Quiet hours hold back transactional messages too', { exact: false }).check();
    await page.getByRole('button', { name: 'Move sms up' }).click(); // push, sms, email → sms, push, email
    await page.getByRole('button', { name: 'Remove email from the order' }).click();
    await page.getByRole('button', { name: 'Add onsite' }).click();
    await page.getByLabel('email', { exact: true }).selectOption('subscribed');
    await expect(page.locator('.field-error')).toHaveCountSoon(0);
    await page.getByRole('button', { name: 'Save policy' }).click();
    await expect.poll(async () => (await o.api('GET', '/api/messaging/policy')).body.overCap, { timeout: 10_000 }).toBe('drop');
    expect((await o.api('GET', '/api/messaging/policy')).body).toMatchObject({
      quietHours: [{ channel: 'all', start: '22:30', end: '07:15', countries: ['US', 'CA'], days: [5, 6] }],
      defaultTimeZone: 'Europe/Berlin',
      quietHoursForTransactional: true,
      fallbackOrder: ['sms', 'push', 'onsite'],
      consentRequired: { email: 'subscribed', sms: 'subscribed' },
      caps: [{ scope: 'email', period: 'week', max: 4 }],
    });
    expect(puts).toHaveLength(1);
    // After a reload the form shows what was saved.
    await page.reload();
    await expect(page.getByLabel('Default time zone')).toHaveValueSoon(/^Europe\/Berlin$/);
    await expect(page.getByRole('group', { name: 'Quiet hours 1' }).getByLabel('Only in countries')).toHaveValueSoon(/^US, CA$/);
  }, T);

  it('creates an API key, shows its secret once, the key works, and revoked it is refused', async () => {
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'API keys' }).click();
    await page.getByLabel('Name').fill('Shop server');
    await page.getByLabel('Kind').selectOption('admin');
    await page.getByRole('button', { name: 'Create key' }).click();
    const secret = page.getByTestId('new-key');
    await expect(secret).toBeVisibleSoon();
    const key = (await secret.textContent())!.trim();
    expect(key).toMatch(/^oma_/);
    await expect(page.locator('#key-secret').getByRole('button', { name: 'Copy' })).toBeVisibleSoon();
    await expect(page.locator('#keys')).toContainTextSoon('Shop server');
    await expect(page.locator('#keys tr', { hasText: 'Shop server' })).toContainTextSoon('never');
    await tb.shoot(page, 'settings-keys', { full: true });
    expect((await o.api('GET', '/api/keys', undefined, key)).status).toBe(200);

    await page.getByRole('button', { name: 'Revoke Shop server' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
    await expect(page.locator('#keys tr', { hasText: 'Shop server' })).toContainTextSoon('revoked');
    // The list reloaded after the revoke: the key's use above shows as its last use.
    await expect(page.locator('#keys tr', { hasText: 'Shop server' })).toContainTextSoon(' ago');
    await expect(page.getByTestId('new-key')).toBeHidden();
    expect((await o.api('GET', '/api/keys', undefined, key)).status).toBe(401);
  }, T);

  it('adds a marketer; the last owner cannot be demoted; the marketer sees the owner-only notes', async () => {
    await page.getByRole('navigation', { name: 'Settings sections' }).getByRole('link', { name: 'Users' }).click();
    const add = page.getByRole('form', { name: 'Add a member' });
    await add.getByLabel('Email').fill(MARKETER.email);
    await add.getByLabel('Name').fill(MARKETER.name);
    await add.getByLabel('Password').fill('short');
    await add.getByLabel('Role').selectOption('marketer');
    await add.getByRole('button', { name: 'Add member' }).click();
    await expect(page.locator('#member-password-err')).toContainTextSoon('10');
    await add.getByLabel('Password').fill(MARKETER.password);
    await add.getByRole('button', { name: 'Add member' }).click();
    await expect(page.locator(`tr[data-user="${MARKETER.email}"]`)).toContainTextSoon(MARKETER.name);
    expect(await page.getByLabel(`Role of ${MARKETER.email}`).inputValue()).toBe('marketer');
    // The API refuses to demote the last owner; its message is shown.
    await page.getByLabel(`Role of ${OWNER.email}`).selectOption('viewer');
    await expect(page.locator('#members [role="alert"]')).toContainTextSoon('owner');
    await expect(page.getByLabel(`Role of ${OWNER.email}`)).toHaveValueSoon(/^owner$/);
    await tb.shoot(page, 'settings-users', { full: true });

    const m = (await tb.newPage()).p;
    await signIn(m, o.url, MARKETER.email, MARKETER.password);
    await navTo(m, 'Settings');
    await expectHeading(m, 'Settings');
    await tab(m, 'API keys');
    await expect(m.locator('.owner-only')).toContainTextSoon('Only owners can change API keys');
    await tab(m, 'Users');
    await expect(m.locator('.owner-only')).toContainTextSoon('Only owners can change users');
    await tab(m, 'Channels');
    await expect(m.locator('.owner-only')).toContainTextSoon('Only owners can change channel providers');
    // The providers API is owners-only too: no form is offered.
    expect(await m.getByRole('form', { name: 'Email (SMTP) provider' }).count()).toBe(0);
    // Marketers may change the policy.
    await tab(m, 'Policy');
    await expect(m.getByRole('button', { name: 'Save policy' })).toBeVisibleSoon();
    expect(await m.getByRole('button', { name: 'Save policy' }).isDisabled()).toBe(false);
    await tb.shoot(m, 'settings-marketer-policy');

    // Removing the marketer asks first.
    await page.getByRole('button', { name: `Remove ${MARKETER.email}` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove member' }).click();
    await expect(page.locator(`tr[data-user="${MARKETER.email}"]`)).toBeHidden();
    // The one failed request expected: the 409 refusing to demote the last owner.
    expect(tb.problems.filter((x) => !/status of 409/.test(x))).toEqual([]);
  }, T);
});
