// The journey canvas editor in a real Chromium against a real Omnia (SQLite): a cart-abandonment journey built from
// a blank draft with the palette, mouse drags from output handles to nodes and the keyboard "Next step" selects;
// bad input (an invalid delay, an unconnected node) shown on the node and next to the field, with nothing saved or
// published (checked through the API); a split condition built with rows; an edge and a node deleted; and a viewer's
// read-only canvas. Screenshots at desktop and phone widths go to a temporary folder whose path is printed.
import { type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestOmnia, startTestOmnia } from './helpers.ts';
import { type TestBrowser, expectHeading, openBrowser, signIn } from './support/browser.ts';

const T = 60_000;
const OWNER = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' };
const VIEWER = { email: 'victor@candle.example', password: 'viewer-password-1' };

describe('dashboard journey editor (sqlite, Chromium)', () => {
  let o: TestOmnia;
  let tb: TestBrowser;
  let page: Page;
  const ids = { email: '', sms: '', journey: '' };

  beforeAll(async () => {
    o = await startTestOmnia('sqlite');
    const setup = await fetch(`${o.url}/api/auth/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(OWNER) });
    expect(setup.status).toBe(201);
    expect((await o.api('POST', '/api/users', { email: VIEWER.email, password: VIEWER.password, role: 'viewer', name: 'Victor Viewer' })).status).toBe(201);
    const email = await o.api('POST', '/api/templates', { name: 'Cart reminder', source: { channel: 'email', subject: 'Your cart', mjml: '<mj-section><mj-column><mj-text>Still there?</mj-text></mj-column></mj-section>' } });
    const sms = await o.api('POST', '/api/templates', { name: 'Cart SMS', source: { channel: 'sms', body: 'Your cart is waiting. Reply STOP to opt out' } });
    expect([email.status, sms.status]).toEqual([201, 201]);
    ids.email = email.body.id;
    ids.sms = sms.body.id;
    tb = await openBrowser('omnia-journey-editor-shots-');
    ({ p: page } = await tb.newPage());
    await signIn(page, o.url, OWNER.email, OWNER.password);
  }, T);

  afterAll(async () => {
    await tb?.close();
    await o?.close();
  }, T);

  const canvas = () => page.locator('.canvas-wrap');
  const node = (id: string) => canvas().locator(`.react-flow__node[data-id="${id}"]`);
  const handle = (id: string, field: string) => node(id).locator(`.react-flow__handle.source[data-handleid="${field}"]`);
  const status = () => canvas().locator('.canvas-status');
  const published = async () => (await o.api('GET', `/api/journeys/${ids.journey}`)).body;
  /** A mouse drag from an output handle to the middle of a node, as a person draws an edge. */
  async function drag(from: Locator, to: Locator) {
    await page.waitForTimeout(600); // the canvas refits after a node is added: let it settle before aiming
    const a = (await from.boundingBox())!;
    const b = (await to.boundingBox())!;
    await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await page.mouse.down();
    await page.mouse.move(a.x + a.width / 2 + 8, a.y + a.height / 2 + 12, { steps: 3 });
    await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 12 });
    await page.mouse.up();
  }
  const add = async (label: string, id: string) => {
    await page.getByRole('toolbar', { name: 'Add a step' }).getByRole('button', { name: `Add ${label}`, exact: true }).click();
    await expect(node(id)).toBeVisibleSoon();
    await expect(page.locator('.side-panel h2')).toContainTextSoon(id);
  };
  const panel = () => page.locator('.side-panel');

  it('builds a cart abandonment journey from a blank draft with the palette, drags and the keyboard, then publishes it', async () => {
    await page.goto(`${o.url}/journeys`);
    await expectHeading(page, 'Journeys');
    await page.getByRole('button', { name: 'New blank journey' }).click();
    await expectHeading(page, 'Untitled journey');
    ids.journey = /\/journeys\/([^/?]+)/.exec(page.url())![1]!;
    await expect(node('done')).toBeVisibleSoon();
    // Journey settings: entry event, re-entry, goal.
    await panel().getByLabel('Name', { exact: true }).fill('Cart abandonment');
    await panel().getByLabel('People enter on').selectOption('event');
    await panel().getByLabel('Entry event', { exact: true }).fill('Product Added');
    await panel().getByLabel('Re-entry').selectOption('every');
    await panel().getByLabel('Goal event (optional)').fill('Order Completed');

    // Delay 1 h; first an invalid amount: the error is next to the field and on the node.
    await add('Delay', 'delay');
    await panel().getByLabel('Wait for').fill('0');
    await expect(panel().locator('#n-delay-duration-amount-err')).toContainTextSoon('0');
    await expect(node('delay').locator('.jn-err')).toContainTextSoon('duration.amount');
    await panel().getByLabel('Wait for').fill('1');
    await expect(panel().getByLabel('Unit')).toHaveValueSoon(/^hours$/);
    // Entry → delay by dragging the entry's handle onto the delay.
    await drag(handle('__entry', 'start'), node('delay'));
    await expect(canvas().locator('[data-testid="rf__edge-__entry->delay:start"]')).toHaveCountSoon(1);

    // Email after the delay (placed under it), its template chosen among the email templates only.
    await add('Email', 'email');
    const tpl = panel().getByLabel('Template', { exact: true });
    expect(await tpl.locator('option').allTextContents()).toEqual(['Choose a template…', 'Cart reminder']);
    await tpl.selectOption({ label: 'Cart reminder' });
    await drag(handle('delay', 'next'), node('email'));
    await expect(canvas().locator('[data-testid="rf__edge-delay->email:nodes.delay.next"]')).toHaveCountSoon(1);

    // A second delay, connected from the email with the keyboard alternative.
    await add('Delay', 'delay_2');
    await panel().getByLabel('Wait for').fill('23');
    await panel().locator('.node-list').getByRole('button', { name: /^Send email/ }).click();
    await panel().getByLabel('Next step', { exact: true }).focus();
    await panel().getByLabel('Next step', { exact: true }).selectOption('delay_2');
    await expect(canvas().locator('[data-testid="rf__edge-email->delay_2:nodes.email.next"]')).toHaveCountSoon(1);

    // SMS, dragged from delay_2; its output not connected yet: an unfinished node.
    await panel().locator('.node-list').getByRole('button', { name: /delay_2/ }).click();
    await add('SMS', 'sms');
    await panel().getByLabel('Template', { exact: true }).selectOption({ label: 'Cart SMS' });
    await drag(handle('delay_2', 'next'), node('sms'));
    await expect(canvas().locator('[data-testid="rf__edge-delay_2->sms:nodes.delay_2.next"]')).toHaveCountSoon(1);
    await expect(node('sms').locator('.jn-err')).toContainTextSoon('not connected');
    await expect(page.getByRole('button', { name: 'Publish', exact: true })).toBeDisabledSoon();
    await page.waitForTimeout(500);
    await tb.shoot(page, 'journey-unfinished');
    // Saving is refused by the API (it names the field): nothing saved, nothing published.
    await page.getByRole('button', { name: 'Save draft' }).click();
    await expect(node('sms').locator('.jn-err')).toContainTextSoon('not connected');
    let j = await published();
    expect(j.version).toBe(0);
    expect(j.status).toBe('draft');
    expect(Object.keys(j.draft.nodes)).toEqual(['done']);

    // sms → done with the keyboard: no problems left; publish.
    await panel().locator('.node-list').getByRole('button', { name: /^Send sms/ }).click();
    await panel().getByLabel('Next step', { exact: true }).selectOption('done');
    await expect(status()).toHaveTextSoon('No problems found');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await expect(page.locator('.subtitle')).toContainTextSoon('version 1');
    j = await published();
    expect(j.status).toBe('active');
    const d = j.definition;
    expect(d.entry).toEqual({ kind: 'event', event: 'Product Added' });
    expect(d.goal).toMatchObject({ event: 'Order Completed' });
    expect(d.start).toBe('delay');
    expect(d.nodes).toEqual({
      done: { kind: 'exit', reason: 'completed' },
      delay: { kind: 'delay', duration: { amount: 1, unit: 'hours' }, next: 'email' },
      email: { kind: 'send', channel: 'email', templates: { email: ids.email }, next: 'delay_2' },
      delay_2: { kind: 'delay', duration: { amount: 23, unit: 'hours' }, next: 'sms' },
      sms: { kind: 'send', channel: 'sms', templates: { sms: ids.sms }, next: 'done' },
    });
    await page.locator('.react-flow__pane').click({ position: { x: 5, y: 300 } });
    await page.waitForTimeout(500);
    await tb.shoot(page, 'journey-built');
  }, T);

  it('builds a split condition with rows, deletes an edge and a node on the canvas, and a dangling edge blocks publishing', async () => {
    // A yes/no split after the email: its condition from rows (all of: reachable by SMS, trait plan is gold).
    await panel().locator('.node-list').getByRole('button', { name: /^Send email/ }).click();
    await add('Split (yes/no)', 'split');
    await panel().getByLabel('Condition kind', { exact: true }).selectOption('trait');
    await panel().getByRole('button', { name: 'Add condition' }).click();
    await panel().getByRole('textbox', { name: 'Trait', exact: true }).fill('plan');
    await panel().getByRole('textbox', { name: 'Value', exact: true }).fill('gold');
    await panel().getByLabel('Matches when').selectOption('and');
    await panel().getByLabel('If yes: next step').selectOption('sms');
    await panel().getByLabel('If no: next step').selectOption('done');
    await panel().getByText('Node as JSON').click();
    const json = JSON.parse(await panel().getByLabel('Every field of the node').inputValue());
    expect(json.condition).toEqual({ kind: 'and', conditions: [{ kind: 'reachable', channel: 'sms' }, { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' }] });
    // The rows are the segment builder's: a split can ask anything a segment can, e.g. "opened an email in the last
    // 30 days" (engagement), which the server accepts as a split condition.
    await panel().getByLabel('Condition kind', { exact: true }).selectOption('engagement');
    await panel().getByRole('button', { name: 'Add condition', exact: true }).click();
    const engaged = { kind: 'engagement', action: 'opened', channel: 'email', window: { amount: 30, unit: 'days' } };
    await expect.poll(async () => JSON.parse(await panel().getByLabel('Every field of the node').inputValue()).condition.conditions?.[2], { timeout: 10_000 }).toEqual(engaged);
    const check = await o.api('POST', '/api/journeys/validate', { name: 'x', topic: 'marketing', priority: 50, reentry: { policy: 'once' }, entry: { kind: 'event', event: 'Product Added' }, start: 's', nodes: { s: { kind: 'split', condition: engaged, yes: 'd', no: 'd' }, d: { kind: 'exit' } } });
    expect(check.body.errors).toEqual([]);
    await panel().getByRole('button', { name: 'Remove condition 3' }).click();
    await expect.poll(async () => JSON.parse(await panel().getByLabel('Every field of the node').inputValue()).condition).toEqual(json.condition);
    // Nothing points at the split yet: it is unreachable, shown on the node; publishing is blocked.
    await expect(node('split').locator('.jn-err')).toContainTextSoon('not reachable from start');
    await expect(page.getByRole('button', { name: 'Publish new version' })).toBeDisabledSoon();
    await page.waitForTimeout(500);
    await tb.shoot(page, 'journey-split');

    // Delete an edge: click it, press Delete → the email's next is cleared (an error on the email node).
    await canvas().scrollIntoViewIfNeeded();
    await page.waitForTimeout(400);
    const from = (await handle('email', 'next').boundingBox())!;
    const to = (await node('delay_2').boundingBox())!;
    await page.mouse.click((from.x + from.width / 2 + to.x + to.width / 2) / 2, (from.y + from.height + to.y) / 2);
    await expect(canvas().locator('.canvas-edge')).toContainTextSoon('email → delay_2');
    await page.keyboard.press('Delete');
    await expect(canvas().locator('[data-testid="rf__edge-email->delay_2:nodes.email.next"]')).toHaveCountSoon(0);
    await expect(node('email').locator('.jn-err')).toContainTextSoon('not connected');
    // Delete a node: select it on the canvas, press Delete; what pointed at it is cleared too.
    await node('split').click();
    await page.keyboard.press('Delete');
    await expect(node('split')).toHaveCountSoon(0);
    // A dangling reference (a node id that does not exist, typed in the node's JSON) is drawn to a missing node.
    await panel().locator('.node-list').getByRole('button', { name: /^Send email/ }).click();
    await panel().getByText('Node as JSON').click();
    await panel().getByLabel('Every field of the node').fill(JSON.stringify({ kind: 'send', channel: 'email', templates: { email: ids.email }, next: 'nowhere' }));
    await panel().getByRole('button', { name: 'Apply JSON' }).click();
    await expect(node('email').locator('.jn-err')).toContainTextSoon('nowhere');
    await expect(node('missing:nowhere')).toBeVisibleSoon();
    await expect(page.getByRole('button', { name: 'Publish new version' })).toBeDisabledSoon();
    const j = await published();
    expect(j.version).toBe(1);
    expect(j.definition.nodes.email.next).toBe('delay_2');
    await page.getByRole('button', { name: 'Discard changes' }).click();
    await expect(canvas().locator('[data-testid="rf__edge-email->delay_2:nodes.email.next"]')).toHaveCountSoon(1);
    await expect(status()).toHaveTextSoon('No problems found');
  }, T);

  it('a viewer sees the canvas read-only', async () => {
    const { p } = await tb.newPage();
    await signIn(p, o.url, VIEWER.email, VIEWER.password);
    await p.goto(`${o.url}/journeys/${ids.journey}`);
    await expectHeading(p, 'Cart abandonment');
    const c = p.locator('.canvas-wrap');
    for (const n of ['delay', 'email', 'delay_2', 'sms', 'done']) await expect(c.locator(`[data-node="${n}"]`)).toBeVisibleSoon();
    await expect(c.locator('.canvas-status')).toHaveTextSoon('Read only');
    expect(await p.getByRole('toolbar', { name: 'Add a step' }).count()).toBe(0);
    expect(await c.locator('.react-flow__handle.connectable').count()).toBe(0);
    await c.locator('.react-flow__node[data-id="email"]').click();
    await expect(p.locator('.side-panel h2')).toContainTextSoon('email');
    await expect(p.locator('.side-panel').getByLabel('Next step', { exact: true })).toBeDisabledSoon();
    await tb.shoot(p, 'journey-viewer');
    // A drag from a handle draws nothing and changes nothing (it only moves the node in this view).
    const a = (await c.locator('.react-flow__node[data-id="email"] .react-flow__handle.source').boundingBox())!;
    const b = (await c.locator('.react-flow__node[data-id="done"]').boundingBox())!;
    await p.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
    await p.mouse.down();
    await p.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 10 });
    await p.mouse.up();
    await p.keyboard.press('Delete');
    await p.waitForTimeout(300);
    expect(await p.locator('.badge-warn', { hasText: 'unsaved changes' }).count()).toBe(0);
    await expect(p.getByRole('button', { name: 'Publish new version' })).toBeDisabledSoon();
    expect((await published()).definition.nodes.email.next).toBe('delay_2');
    expect(tb.problems).toEqual([]);
  }, T);
});
