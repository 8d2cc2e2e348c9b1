// The segment builder in a real Chromium against a real Omnia (SQLite): the RFM card's empty state, then its chart
// after Recompute; a segment built from rows with a nested OR group of geo and engagement conditions, the live count
// following each change and matching the seeded people; a bad engagement window refused by the API with the message
// under that field inside the group, on the live count and on save (and nothing saved); the saved definition
// exactly as built; the JSON editor and back to the rows; the members with paging and why each matches; and the
// segment's members broken down by RFM stage. Screenshots at desktop and phone widths.
import { type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestOmnia, startTestOmnia } from './helpers.ts';
import { DESKTOP, PHONE, type TestBrowser, expectHeading, navTo, openBrowser, signIn } from './support/browser.ts';

const T = 60_000;
const OWNER = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' };
const NAME = 'Berlin or Paris buyers';

describe('dashboard segments (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let tb: TestBrowser;
  let page: Page;
  const pid: Record<string, string> = {};
  const shoot = (name: string, full = false) => tb.shoot(page, name, { full });
  const count = () => page.getByTestId('live-count');

  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    const setup = await fetch(`${o.url}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
    expect(setup.status).toBe(201);
    const at = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    // Buyers in Germany (Ann and 20 more, so the members page), Paris (Bea) and London (Dee); Cy never ordered.
    const people: [string, Record<string, unknown>, number][] = [
      ['ann', { country: 'DE', city: 'Berlin' }, 3],
      ['bea', { country: 'France', city: 'Paris' }, 1],
      ['dee', { country: 'GB', city: 'London' }, 2],
      ['cy', { country: 'DE', city: 'Hamburg' }, 0],
      ...Array.from({ length: 20 }, (_, i) => [`de${String(i).padStart(2, '0')}`, { country: 'DE', city: 'Munich' }, 1] as [string, Record<string, unknown>, number]),
    ];
    for (const [u, address, orders] of people) {
      expect((await o.track('/v1/identify', { userId: u, traits: { email: `${u}@example.com`, first_name: u, address }, timestamp: at(40) })).status).toBe(200);
      for (let k = 0; k < orders; k++) {
        const r = await o.track('/v1/track', { userId: u, event: 'Order Completed', properties: { order_id: `${u}-${k}`, total: 20 + 10 * k, currency: 'EUR' }, timestamp: at(2 + 5 * k) });
        expect(r.status).toBe(200);
      }
    }
    await o.settle();
    for (const u of ['ann', 'bea', 'dee', 'cy']) pid[u] = (await o.api('GET', `/api/profiles/lookup?email=${u}@example.com`)).body.id;
    tb = await openBrowser('omnia-segments-shots-');
    page = (await tb.newPage()).p;
    await signIn(page, o.url, OWNER.email, OWNER.password);
  }, T);

  afterAll(async () => {
    await tb?.close();
    await o?.close();
  }, T);

  it('the segments page shows RFM stages: empty until scored, then the chart', async () => {
    await navTo(page, 'Segments');
    await expectHeading(page, 'Segments');
    const rfm = page.locator('#rfm');
    await expect(rfm).toContainTextSoon('No RFM stages yet');
    await shoot('segments-rfm-empty');
    await rfm.getByRole('button', { name: 'Recompute' }).click();
    await expect(rfm).toContainTextSoon('23 customers scored'); // everyone with an order
    await expect(rfm.locator('.chart svg')).toBeVisibleSoon();
    const stages = (await o.api('GET', '/api/rfm')).body.stages as Record<string, number>;
    const some = Object.entries(stages).find(([, n]) => n > 0)!;
    await expect(rfm.getByTestId('rfm-data')).toContainTextSoon(`${some[0]}${some[1]}`);
    await shoot('segments-rfm');
  }, T);

  it('builds a nested OR group of geo and engagement, follows the live count, refuses a bad window next to its field, saves', async () => {
    await page.getByRole('button', { name: 'New segment' }).click();
    await expectHeading(page, 'New segment');
    await page.getByLabel('Name', { exact: true }).fill(NAME);
    const c1 = page.getByRole('group', { name: 'Condition 1: Did an event' });
    await c1.getByLabel('Event').fill('Order Completed');
    await expect(count()).toHaveTextSoon('23');
    // Condition 2: a group, any of: in Germany (Ann + 20), in Paris (Bea)…
    await page.getByRole('button', { name: 'Add group', exact: true }).click();
    const g = page.getByRole('group', { name: 'Condition 2: Group' });
    await expect(g.getByLabel('Group 2: people who match')).toHaveValueSoon(/^or$/);
    await expect(page.locator('.live-count')).toContainTextSoon('Complete the conditions'); // an empty group waits
    const addIn = async (grp: Locator, kind: string) => {
      await grp.getByLabel('Condition kind for group 2').selectOption(kind);
      await grp.getByRole('button', { name: 'Add condition for group 2' }).click();
    };
    await addIn(g, 'geo');
    const geo1 = g.getByRole('group', { name: 'Condition 2.1: Where they are' });
    await geo1.getByLabel('Countries').fill('DE');
    await expect(count()).toHaveTextSoon('21');
    await addIn(g, 'geo');
    const geo2 = g.getByRole('group', { name: 'Condition 2.2: Where they are' });
    await geo2.getByLabel('Cities').fill('Paris');
    await expect(count()).toHaveTextSoon('22');
    // …or clicked an email in the last 0 days: the API's 400 names conditions.1.conditions.2.window.amount.
    await addIn(g, 'engagement');
    const eng = g.getByRole('group', { name: 'Condition 2.3: Engaged with a message' });
    await eng.getByLabel('Action').selectOption('clicked');
    await eng.getByLabel('In the last').fill('0');
    const amountField = eng.locator('.field-invalid').filter({ has: page.getByLabel('In the last') });
    await expect(amountField).toContainTextSoon('greater than 0');
    await expect(page.locator('.live-count')).toContainTextSoon('Fix the highlighted field');
    await shoot('segment-builder-error', true);
    // Saving it anyway: refused, the message stays under the field, nothing saved.
    await page.getByRole('button', { name: 'Create segment' }).click();
    await expect(amountField).toContainTextSoon('greater than 0');
    await page.waitForTimeout(300);
    expect(new URL(page.url()).pathname).toBe('/segments/new');
    expect((await o.api('GET', '/api/segments')).body.segments.map((s: { name: string }) => s.name)).not.toContain(NAME);
    // Fixed: nobody clicked anything, so the OR group still holds for the same 22.
    await eng.getByLabel('In the last').fill('30');
    await expect(count()).toHaveTextSoon('22');
    await expect(eng.locator('.field-invalid')).toHaveCountSoon(0);
    // NOT on the Germany row: any of (not in Germany, in Paris) leaves the buyers outside Germany, Bea and Dee.
    await geo1.getByLabel('exclude (NOT)').check();
    await expect(count()).toHaveTextSoon('2');
    await geo1.getByLabel('exclude (NOT)').uncheck();
    await expect(count()).toHaveTextSoon('22');
    await shoot('segment-builder', true);
    // At phone width the nested rows stay inside the form (and the page does not scroll sideways).
    await page.setViewportSize(PHONE);
    const outside = await page.evaluate(() => {
      const form = document.querySelector('.segment-form')!.getBoundingClientRect();
      return [...document.querySelectorAll('.cond, .add-condition')].filter((el) => el.getBoundingClientRect().right > form.right + 0.5).map((el) => `${el.className} ${el.getAttribute('aria-label') ?? ''} right ${el.getBoundingClientRect().right} > ${form.right}`);
    });
    expect(outside).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await page.setViewportSize(DESKTOP);
    // The advanced JSON shows the same tree, and the rows come back from it.
    await page.getByRole('button', { name: 'JSON' }).click();
    await expect(page.getByLabel('Definition (JSON)')).toHaveValueSoon(/"kind": "or"[\s\S]*"kind": "engagement"/);
    await page.getByRole('button', { name: 'Builder' }).click();
    await expect(page.getByRole('group', { name: 'Condition 2.3: Engaged with a message' })).toBeVisibleSoon();
    await expect(count()).toHaveTextSoon('22');
    await page.getByRole('button', { name: 'Create segment' }).click();
    await page.waitForURL(/\/segments\/seg_/);
    const saved = (await o.api('GET', '/api/segments')).body.segments.find((s: { name: string }) => s.name === NAME);
    expect(saved.definition).toEqual({
      kind: 'and',
      conditions: [
        { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 30, unit: 'days' } },
        {
          kind: 'or',
          conditions: [
            { kind: 'geo', country: ['DE'] },
            { kind: 'geo', city: ['Paris'] },
            { kind: 'engagement', action: 'clicked', channel: 'email', window: { amount: 30, unit: 'days' } },
          ],
        },
      ],
    });
    expect((await o.api('GET', `/api/segments/${saved.id}`)).body.members).toBe(22);
  }, T);

  it('lists the members a page at a time, each with why they match, and breaks them down by RFM stage', async () => {
    const members = page.locator('#members');
    await expect(members).toContainTextSoon('1–20 of 22');
    // Members are shown as people (their name, then email), linked to their profile.
    await expect(members.getByRole('link', { name: 'ann', exact: true })).toHaveAttributeSoon('href', `/customers/${pid.ann}`);
    await expect(members.locator('.member', { hasText: 'ann@example.com' })).toHaveCountSoon(1);
    await expect(members.getByRole('link', { name: 'dee', exact: true })).toHaveCountSoon(0);
    await expect(members.getByRole('link', { name: 'Export CSV' })).toHaveAttributeSoon('href', `/api/segments/${new URL(page.url()).pathname.split('/')[2]}/export.csv`);
    // Ann: in Germany, not Paris, no click; the group holds through its first row.
    const ann = members.locator('.member').filter({ has: page.getByRole('link', { name: 'ann', exact: true }) });
    await expect(ann.locator('.why-summary')).toHaveTextSoon('2 of 2 conditions hold');
    await ann.getByText('Why they match').click();
    const why = ann.locator('.why-root');
    await expect(why).toContainTextSoon('✓ all of');
    await expect(why).toContainTextSoon('✓ Order Completed performed in last 30 days');
    await expect(why).toContainTextSoon('✓ any of');
    await expect(why).toContainTextSoon('✓ geo country in DE');
    await expect(why).toContainTextSoon('✗ geo city in Paris');
    await expect(why).toContainTextSoon('✗ clicked on email in last 30 days');
    await shoot('segment-members', true);
    await members.getByRole('button', { name: 'Next 20' }).click();
    await expect(members).toContainTextSoon('21–22 of 22');
    await expect(members.getByRole('button', { name: 'Next 20' })).toHaveCountSoon(0);
    await members.getByRole('button', { name: 'Previous 20' }).click();
    await expect(members).toContainTextSoon('1–20 of 22');
    // RFM: everyone, and this segment's members by stage (22 of the 23 customers: Dee is in London).
    const rfm = page.locator('#rfm');
    await expect(rfm.locator('.chart svg')).toBeVisibleSoon();
    await rfm.getByRole('button', { name: "Compare this segment's members" }).click();
    await expect(rfm.getByTestId('rfm-data')).toContainTextSoon('in this segment');
    const inSeg = await rfm.getByTestId('rfm-data').evaluate((el) => [...el.querySelectorAll('dd span')].reduce((a, s) => a + Number(/(\d+) in this segment/.exec(s.textContent ?? '')?.[1] ?? 0), 0));
    expect(inSeg).toBe(22);
    await rfm.scrollIntoViewIfNeeded();
    await shoot('segment-rfm');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(tb.problems).toEqual([]);
  }, T);
});
