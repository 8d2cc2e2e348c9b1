// The browser side of the dashboard's end-to-end tests: Debian's Chromium through playwright-core, pages that record
// cumulative layout shift and browser errors, screenshots at desktop and phone widths, the dashboard build when
// stale, and polling assertions on locators. Each dashboard test file starts its own Omnia and calls openBrowser().
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page, chromium } from 'playwright-core';
import { expect } from 'vitest';
import { buildDashboard, dashboardSizes, dashboardStale } from '../../dashboard/build.mjs';
import { tempDir } from '../helpers.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

declare global {
  interface Window {
    __cls: number;
  }
}

/** Builds the dashboard if its sources changed since the last build; logs the JS sizes (gzip). */
export async function ensureDashboardBuilt() {
  const stale = dashboardStale();
  if (stale) {
    const started = Date.now();
    await buildDashboard({ quiet: true });
    console.log(`dashboard built (${stale}) in ${Date.now() - started} ms`);
  }
  const js = dashboardSizes().filter((s) => s.file.endsWith('.js'));
  console.log(`dashboard JS: ${js.map((s) => `${s.file} ${(s.gzip / 1024).toFixed(1)} kB`).join(', ')} (gzip)`);
}

export interface TestBrowser {
  browser: Browser;
  /** Browser errors seen so far (page errors, console errors other than expected 4xx answers). */
  problems: string[];
  shots: string;
  newPage(): Promise<{ c: BrowserContext; p: Page }>;
  /** Screenshots of the current screen at desktop and phone widths (the viewport goes back to desktop). */
  shoot(p: Page, name: string, opts?: { full?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(shotsPrefix = 'omnia-dashboard-shots-'): Promise<TestBrowser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: the dashboard tests need Debian's chromium package`);
  await ensureDashboardBuilt();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const shots = tempDir(shotsPrefix);
  console.log(`screenshots in ${shots}`);
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];
  return {
    browser,
    problems,
    shots,
    async newPage() {
      const c = await browser.newContext({ viewport: DESKTOP });
      contexts.push(c);
      // Cumulative layout shift, to check that async content does not move the page.
      await c.addInitScript(() => {
        window.__cls = 0;
        new PerformanceObserver((l) => {
          for (const e of l.getEntries() as (PerformanceEntry & { value: number; hadRecentInput: boolean })[]) if (!e.hadRecentInput) window.__cls += e.value;
        }).observe({ type: 'layout-shift', buffered: true });
      });
      const p = await c.newPage();
      p.setDefaultTimeout(20_000);
      p.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      p.on('console', (m) => {
        // 401/403/404 answers are expected in places (signed-out probe, viewer writes, wrong password).
        // Sandboxed previews (email HTML) may not run scripts: Chromium says so, as it should.
        if (m.type() === 'error' && !/status of 40[0134]/.test(m.text()) && !/Blocked script execution in 'about:srcdoc'/.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      return { c, p };
    },
    async shoot(p, name, opts = {}) {
      for (const [label, size] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
        await p.setViewportSize(size);
        await p.waitForTimeout(450);
        const file = path.join(shots, `${name}-${label}.png`);
        await p.screenshot({ path: file, fullPage: opts.full ?? false });
        console.log(`screenshot: ${file}`);
      }
      await p.setViewportSize(DESKTOP);
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
      if (problems.length) console.log(`browser problems:\n${problems.join('\n')}`);
    },
  };
}

/** Signs in through the login form (the owner must exist). */
export async function signIn(p: Page, url: string, email: string, password: string) {
  await p.goto(`${url}/login`);
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await expect(p.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisibleSoon();
}

/** First run: creates the owner through the setup page and lands on the overview. */
export async function createOwner(p: Page, url: string, owner = { name: 'Olivia Owner', email: 'olivia@candle.example', password: 'owner-password-1' }) {
  await p.goto(url);
  await p.getByLabel('Your name').fill(owner.name);
  await p.getByLabel('Email').fill(owner.email);
  await p.getByLabel('Password').fill(owner.password);
  await p.getByRole('button', { name: 'Create account and sign in' }).click();
  await expect(p.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisibleSoon();
}

export const navTo = (p: Page, label: string) => p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
export const expectHeading = (p: Page, name: string | RegExp) => expect(p.getByRole('heading', { level: 1, name })).toBeVisibleSoon();

// Polling assertions on locators (playwright-core has no expect of its own): the locator is re-read until the
// condition holds or 20 s pass.
const POLL_MS = 20_000;
export async function until(what: string, fn: () => Promise<boolean>) {
  const end = Date.now() + POLL_MS;
  let last: unknown;
  for (;;) {
    try {
      if (await fn()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
// textContent, not innerText: the text as written, whatever CSS text-transform shows.
const text = async (l: Locator) => ((await l.textContent({ timeout: 1000 })) ?? '').replace(/\s+/g, ' ');
expect.extend({
  async toBeVisibleSoon(l: Locator) {
    await until(`${l} is visible`, () => l.first().isVisible());
    return { pass: true, message: () => '' };
  },
  async toContainTextSoon(l: Locator, s: string) {
    let seen = '';
    await until(`${l} contains "${s}" (last seen: "${seen.slice(0, 300)}")`, async () => (seen = await text(l.first())).includes(s));
    return { pass: true, message: () => '' };
  },
  async toHaveTextSoon(l: Locator, s: string) {
    let seen = '';
    await until(`${l} has text "${s}"`, async () => (seen = (await text(l.first())).trim()) === s).catch((e) => {
      throw new Error(`${(e as Error).message}; last seen "${seen}"`);
    });
    return { pass: true, message: () => '' };
  },
  async toHaveCountSoon(l: Locator, n: number) {
    await until(`${l} has ${n} elements`, async () => (await l.count()) === n);
    return { pass: true, message: () => '' };
  },
  async toHaveValueSoon(l: Locator, re: RegExp) {
    await until(`${l} has a value matching ${re}`, async () => re.test(await l.inputValue({ timeout: 1000 })));
    return { pass: true, message: () => '' };
  },
  async toBeDisabledSoon(l: Locator) {
    await until(`${l} is disabled`, () => l.first().isDisabled());
    return { pass: true, message: () => '' };
  },
  async toBeHidden(l: Locator) {
    await until(`${l} is hidden`, async () => !(await l.first().isVisible()));
    return { pass: true, message: () => '' };
  },
  async toBeFocused(l: Locator) {
    await until(`${l} is focused`, () => l.first().evaluate((el) => el === document.activeElement));
    return { pass: true, message: () => '' };
  },
  async toHaveAttributeSoon(l: Locator, name: string, value: string) {
    await until(`${l} has ${name}="${value}"`, async () => (await l.first().getAttribute(name)) === value);
    return { pass: true, message: () => '' };
  },
});
declare module 'vitest' {
  interface Assertion<T> {
    toBeVisibleSoon(): Promise<T>;
    toContainTextSoon(s: string): Promise<T>;
    toHaveTextSoon(s: string): Promise<T>;
    toHaveCountSoon(n: number): Promise<T>;
    toHaveValueSoon(re: RegExp): Promise<T>;
    toBeHidden(): Promise<T>;
    toBeFocused(): Promise<T>;
    toBeDisabledSoon(): Promise<T>;
    toHaveAttributeSoon(name: string, value: string): Promise<T>;
  }
}
