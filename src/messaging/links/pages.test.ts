import { describe, expect, it } from 'vitest';
import { scanHtml } from './html.ts';
import {
  type Brand,
  contrast,
  DEFAULT_COLOR,
  errorPage,
  escapeHtml,
  normalizeBrand,
  optInConfirmPage,
  optInPromptPage,
  parseUnsubscribePost,
  safeHref,
  unsubscribeConfirmPage,
  unsubscribeDonePage,
} from './pages.ts';
import { maskPhone, parsePreferenceForm, preferenceCentrePage, type PreferenceTopic } from './preferences.ts';

const XSS = `"'><script>alert(1)</script><img src=x onerror=alert(2)>&amp;`;
const brand: Brand = { name: 'Acme Shop', primaryColor: '#ff6600', logoUrl: 'https://cdn.acme.example/logo.png' };
const evilBrand: Brand = { name: XSS, primaryColor: `red;}</style><script>alert(3)</script>`, logoUrl: `javascript:alert(4)` };
const topics: PreferenceTopic[] = [
  { id: 'newsletter', label: 'Newsletter', description: 'Weekly news', transactional: false },
  { id: 'promo:flash', label: 'Flash sales', transactional: false },
  { id: 'orders', label: 'Orders', description: 'Receipts and shipping', transactional: true },
];

const ALLOWED_TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'main', 'header', 'div', 'h1', 'p', 'a',
  'strong', 'form', 'input', 'button', 'fieldset', 'legend', 'label', 'span', 'img']);

/** Structure of a page: the tags and attributes it has, to show nothing was injected. */
function tagsOf(html: string) {
  const tags: { name: string; attrs: Record<string, string> }[] = [];
  scanHtml(html, (t) => tags.push({ name: t.name, attrs: Object.fromEntries(t.attrs.map((a) => [a.name, a.value])) }));
  return tags;
}

function expectWellFormedPage(html: string) {
  expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
  expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  expect(html).toContain('<meta charset="utf-8">');
  expect(html).toContain('<meta name="referrer" content="no-referrer">');
  expect(html).toMatch(/<title>[^<]+<\/title>/);
  expect(html.trimEnd().endsWith('</html>')).toBe(true);
  // Self-contained: no scripts, no external stylesheets or fonts; the only external URL is an https logo.
  const tags = tagsOf(html);
  for (const t of tags) {
    expect(ALLOWED_TAGS.has(t.name), t.name).toBe(true);
    for (const a of Object.keys(t.attrs)) expect(a.startsWith('on'), a).toBe(false);
    if (t.name === 'img') expect(t.attrs.src).toMatch(/^https:\/\//);
    if (t.name === 'a') expect(t.attrs.href).toMatch(/^(https?:\/\/|\/)/);
  }
  // Every form control has an accessible name.
  for (const t of tags.filter((t) => t.name === 'input' && t.attrs.type !== 'hidden')) {
    expect(t.attrs['aria-label'] ?? '').not.toBe('');
  }
  expect(html).not.toMatch(/<script/i);
  return tags;
}

const pages: [string, (s: string) => string][] = [
  ['unsubscribeConfirmPage', (s) =>
    unsubscribeConfirmPage({ brand: { ...evilBrand, name: s }, token: s, channel: s, topicLabel: s, email: s, preferencesUrl: s, action: s })],
  ['unsubscribeConfirmPage (URL fields)', (s) =>
    unsubscribeConfirmPage({ brand, token: 't', channel: 'email', topicLabel: 'News', preferencesUrl: `https://x.example/p/${s}`, action: `/u/${s}` })],
  ['unsubscribeDonePage', (s) =>
    unsubscribeDonePage({ brand: { ...evilBrand, name: s }, preferencesUrl: s, resubscribeToken: s, resubscribeAction: s })],
  ['preferenceCentrePage', (s) =>
    preferenceCentrePage({
      brand: { ...evilBrand, name: s },
      token: s,
      person: { email: s, phone: s },
      topics: [{ id: s, label: s, description: s, transactional: false }, { id: s + 't', label: s, description: s, transactional: true }],
      channels: ['email', 'sms'],
      state: () => 'subscribed',
      action: s,
      saved: true,
    })],
  ['optInConfirmPage', (s) => optInConfirmPage({ brand: { ...evilBrand, name: s }, confirmed: true, topicLabel: s })],
  ['optInPromptPage', (s) => optInPromptPage({ brand: { ...evilBrand, name: s }, token: s, topicLabel: s, action: s })],
  ['errorPage', (s) => errorPage({ brand: { ...evilBrand, name: s }, title: s, message: s })],
];

describe('consent pages', () => {
  it.each(pages)('%s escapes every interpolated value', (_n, render) => {
    const html = render(XSS);
    expectWellFormedPage(html);
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('javascript:');
    expect(html).not.toContain('alert(3)');
  });

  it('escapeHtml', () => {
    expect(escapeHtml(`<a href="x" title='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
    expect(escapeHtml('plain é 🎉')).toBe('plain é 🎉');
  });

  it.each([
    ['https://x.example/p/abc', 'https://x.example/p/abc'],
    ['/p/abc', '/p/abc'],
    ['//evil.example/', null],
    ['/\\evil.example/', null],
    ['javascript:alert(1)', null],
    [' JavaScript:alert(1)', null],
    ['data:text/html,x', null],
    ['p/abc', null],
  ])('safeHref(%s)', (u, want) => {
    expect(safeHref(u)).toBe(want);
  });

  it('validates the brand', () => {
    expect(normalizeBrand(brand)).toEqual({ name: 'Acme Shop', color: '#ff6600', logoUrl: 'https://cdn.acme.example/logo.png' });
    expect(normalizeBrand({ name: 'x', primaryColor: '#ABC' }).color).toBe('#abc');
    for (const c of ['red', '#12345', '#1234567', 'ff6600', '#ff660', 'url(x)', '#fff;']) {
      expect(normalizeBrand({ name: 'x', primaryColor: c }).color).toBe(DEFAULT_COLOR);
    }
    for (const logo of ['http://cdn.example/l.png', 'javascript:alert(1)', 'data:image/png;base64,AA', '//cdn.example/l.png']) {
      expect(normalizeBrand({ name: 'x', primaryColor: '#000', logoUrl: logo }).logoUrl).toBeUndefined();
    }
    const html = errorPage({ brand, title: 't', message: 'm' });
    expect(html).toContain('<img src="https://cdn.acme.example/logo.png" alt="Acme Shop" referrerpolicy="no-referrer">');
    expect(html).toContain('--brand:#ff6600');
  });

  it('picks readable text on the brand colour', () => {
    expect(errorPage({ brand: { name: 'x', primaryColor: '#ffee00' }, title: 't', message: 'm' })).toContain('--on-brand:#111111');
    expect(errorPage({ brand: { name: 'x', primaryColor: '#123456' }, title: 't', message: 'm' })).toContain('--on-brand:#ffffff');
    expect(contrast('#000000', '#ffffff')).toBeCloseTo(21, 5);
  });

  it('is usable at 390 px: fluid width, full-width buttons, 44 px targets', () => {
    const html = unsubscribeConfirmPage({ brand, token: 't', channel: 'email', topicLabel: 'News' });
    expect(html).toMatch(/main\{max-width:560px;margin:0 auto;padding:24px 16px/);
    expect(html).toMatch(/\.btn\{display:block;width:100%;min-height:48px/);
    expect(html).toMatch(/\.opt\{[^}]*min-height:44px/);
    expect(html).not.toMatch(/(?<![\w-])width:\s*\d{3,}px/); // no fixed widths (max-width only)
    expect(html).toMatch(/@media \(min-width:480px\)/);
  });

  it('unsubscribe confirmation posts the RFC 8058 body and the token', () => {
    const html = unsubscribeConfirmPage({
      brand, token: 'TOK-1_x', channel: 'sms', topicLabel: 'Flash sales', email: 'ann@example.com',
      preferencesUrl: 'https://omnia.example/p/PTOK', action: 'https://omnia.example/u/TOK-1_x',
    });
    const tags = expectWellFormedPage(html);
    const form = tags.filter((t) => t.name === 'form');
    expect(form).toEqual([{ name: 'form', attrs: { method: 'post', action: 'https://omnia.example/u/TOK-1_x' } }]);
    const hiddenFields = tags.filter((t) => t.name === 'input').map((t) => [t.attrs.name, t.attrs.value]);
    expect(hiddenFields).toEqual([['List-Unsubscribe', 'One-Click'], ['token', 'TOK-1_x']]);
    expect(html).toContain('<h1>Unsubscribe from Flash sales?</h1>');
    expect(html).toContain('Flash sales text messages at <strong>ann@example.com</strong>');
    expect(tags.find((t) => t.name === 'a')?.attrs.href).toBe('https://omnia.example/p/PTOK');
    // Without an action the form posts back to the page's own URL.
    expect(unsubscribeConfirmPage({ brand, token: 't', channel: 'email', topicLabel: 'x' })).toContain('<form method="post">');
  });

  it('unsubscribe done page, with and without resubscribe', () => {
    const withResub = unsubscribeDonePage({ brand, preferencesUrl: '/p/PT', resubscribeToken: 'RT' });
    const tags = expectWellFormedPage(withResub);
    expect(tags.filter((t) => t.name === 'input').map((t) => [t.attrs.name, t.attrs.value])).toEqual([['op', 'resubscribe'], ['token', 'RT']]);
    expect(tags.find((t) => t.name === 'a')?.attrs.href).toBe('/p/PT');
    expect(withResub).toContain('role="status"');
    expect(unsubscribeDonePage({ brand, preferencesUrl: '/p/PT' })).not.toContain('<form');
  });

  it.each<[Record<string, string | string[]>, ReturnType<typeof parseUnsubscribePost>]>([
    [{ 'List-Unsubscribe': 'One-Click' }, { action: 'unsubscribe' }],
    [{ 'List-Unsubscribe': 'One-Click', token: 't' }, { action: 'unsubscribe' }],
    [{ op: 'resubscribe', token: 'RT' }, { action: 'resubscribe', token: 'RT' }],
    [{ op: 'resubscribe' }, { action: null, error: 'resubscribe without a token' }],
    [{ op: 'nope' }, { action: null, error: 'unknown op "nope"' }],
    [{}, { action: null, error: 'expected List-Unsubscribe=One-Click' }],
    [{ 'List-Unsubscribe': ['One-Click', 'x'] }, { action: null, error: 'expected List-Unsubscribe=One-Click' }],
  ])('parseUnsubscribePost(%j)', (body, want) => {
    expect(parseUnsubscribePost(body)).toEqual(want);
  });

  it('opt-in pages', () => {
    expect(expectWellFormedPage(optInConfirmPage({ brand, confirmed: true, topicLabel: 'News' })).length).toBeGreaterThan(0);
    expect(optInConfirmPage({ brand, confirmed: true, topicLabel: 'News' })).toContain("You're subscribed to News");
    expect(optInConfirmPage({ brand, confirmed: false })).toContain("couldn't confirm");
    const prompt = optInPromptPage({ brand, token: 'CT', action: '/c/CT' });
    const tags = expectWellFormedPage(prompt);
    expect(tags.find((t) => t.name === 'form')?.attrs).toEqual({ method: 'post', action: '/c/CT' });
    expect(tags.filter((t) => t.name === 'input').map((t) => [t.attrs.name, t.attrs.value])).toEqual([['op', 'confirm'], ['token', 'CT']]);
  });

  it('error page without a brand', () => {
    const html = errorPage({ title: 'Link expired', message: 'This link has expired.' });
    expectWellFormedPage(html);
    expect(html).toContain('<title>Link expired</title>');
    expect(html).not.toContain('<header');
    expect(html).toContain(`--brand:${DEFAULT_COLOR}`);
  });
});

describe('preference centre', () => {
  const state = (c: string, t: string) => (t === 'newsletter' && c === 'email' ? 'subscribed' : t === 'promo:flash' && c === 'sms' ? 'unsubscribed' : 'never_asked');
  const page = preferenceCentrePage({ brand, token: 'PT', person: { email: 'ann@example.com', phone: '+1 415 555 0123' }, topics, channels: ['email', 'sms'], state });

  it('renders a checkbox per marketing topic × channel, transactional always on and disabled', () => {
    const tags = expectWellFormedPage(page);
    const boxes = tags.filter((t) => t.name === 'input' && t.attrs.type === 'checkbox');
    expect(boxes.map((b) => [b.attrs.name ?? null, b.attrs.checked !== undefined, b.attrs.disabled !== undefined, b.attrs['aria-label']])).toEqual([
      ['sub:email:newsletter', true, false, 'Email: Newsletter'],
      ['sub:sms:newsletter', false, false, 'SMS: Newsletter'],
      ['sub:email:promo:flash', false, false, 'Email: Flash sales'],
      ['sub:sms:promo:flash', false, false, 'SMS: Flash sales'],
      [null, true, true, 'Email: Orders'],
      [null, true, true, 'SMS: Orders'],
    ]);
    const shown = tags.filter((t) => t.name === 'input' && t.attrs.type === 'hidden').map((t) => [t.attrs.name, t.attrs.value]);
    expect(shown).toEqual([
      ['token', 'PT'],
      ['was:email:newsletter', 'subscribed'],
      ['was:sms:newsletter', 'never_asked'],
      ['was:email:promo:flash', 'never_asked'],
      ['was:sms:promo:flash', 'unsubscribed'],
    ]);
    // Every checkbox id is unique and has its label.
    const ids = boxes.map((b) => b.attrs.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(tags.some((t) => t.name === 'label' && t.attrs.for === id)).toBe(true);
    expect(tags.find((t) => t.name === 'form')?.attrs).toEqual({ method: 'post' });
    const buttons = tags.filter((t) => t.name === 'button').map((t) => t.attrs.value);
    expect(buttons).toEqual(['save', 'unsubscribe_all']);
    expect(page).toContain('Always on');
    expect(page).not.toContain('Your preferences have been saved');
  });

  it('masks the phone number and shows the email', () => {
    expect(page).toContain('<strong>ann@example.com</strong>');
    expect(page).toContain('+• ••• ••• •123');
    expect(page).not.toMatch(/415|555|0123/);
    expect(maskPhone('+447700900123')).toBe('+•••••••••123');
    expect(maskPhone('12')).toBe('12');
    expect(preferenceCentrePage({ brand, token: 't', person: {}, topics, channels: ['email'], state, saved: true, action: '/p/t' })).toContain(
      'role="status">Your preferences have been saved.',
    );
  });

  it('round trip: the form as a browser would post it', () => {
    // Tick sms/newsletter, untick email/newsletter, leave the rest.
    const body = {
      token: 'PT', op: 'save',
      'was:email:newsletter': 'subscribed', 'was:sms:newsletter': 'never_asked', 'sub:sms:newsletter': 'on',
      'was:email:promo:flash': 'never_asked', 'was:sms:promo:flash': 'unsubscribed',
    };
    expect(parsePreferenceForm(body, topics, ['email', 'sms'])).toEqual({
      ok: true,
      unsubscribeAll: false,
      changes: [
        { channel: 'email', topic: 'newsletter', state: 'unsubscribed' },
        { channel: 'sms', topic: 'newsletter', state: 'subscribed' },
      ],
    });
  });

  it.each<[string, Record<string, string | string[]>, object]>([
    ['nothing changed', { 'was:email:newsletter': 'subscribed', 'sub:email:newsletter': 'on' }, { ok: true, changes: [], unsubscribeAll: false }],
    ['unticked never_asked stays never_asked', { 'was:sms:newsletter': 'never_asked' }, { ok: true, changes: [], unsubscribeAll: false }],
    ['ticked without a shown state', { 'sub:email:promo:flash': 'on' }, { ok: true, changes: [{ channel: 'email', topic: 'promo:flash', state: 'subscribed' }], unsubscribeAll: false }],
    ['repeated identical values', { 'sub:email:promo:flash': ['on', 'on'] }, { ok: true, changes: [{ channel: 'email', topic: 'promo:flash', state: 'subscribed' }], unsubscribeAll: false }],
    ['unsubscribe from all marketing (ticks ignored, transactional untouched)', { op: 'unsubscribe_all', 'sub:email:newsletter': 'on' }, {
      ok: true,
      unsubscribeAll: true,
      changes: [
        { channel: 'email', topic: 'newsletter', state: 'unsubscribed' },
        { channel: 'sms', topic: 'newsletter', state: 'unsubscribed' },
        { channel: 'email', topic: 'promo:flash', state: 'unsubscribed' },
        { channel: 'sms', topic: 'promo:flash', state: 'unsubscribed' },
      ],
    }],
    ['unknown topic', { 'sub:email:nope': 'on' }, { ok: false, error: 'unknown fields: sub:email:nope', fields: ['sub:email:nope'] }],
    ['unknown channel', { 'sub:push:newsletter': 'on', 'was:fax:newsletter': 'subscribed' }, {
      ok: false, error: 'unknown fields: sub:push:newsletter, was:fax:newsletter', fields: ['sub:push:newsletter', 'was:fax:newsletter'],
    }],
    ['unknown field', { foo: 'bar', 'sub:': 'on', 'sub:email': 'on' }, { ok: false, error: 'unknown fields: foo, sub:, sub:email', fields: ['foo', 'sub:', 'sub:email'] }],
    ['transactional topic cannot be unsubscribed', { 'was:email:orders': 'subscribed' }, {
      ok: false, error: 'transactional topics cannot be changed: was:email:orders', fields: ['was:email:orders'],
    }],
    ['transactional topic cannot be ticked either', { 'sub:sms:orders': 'on' }, {
      ok: false, error: 'transactional topics cannot be changed: sub:sms:orders', fields: ['sub:sms:orders'],
    }],
    ['bad values', { op: 'delete', 'sub:email:newsletter': 'off', 'was:sms:newsletter': 'maybe', 'sub:sms:newsletter': ['on', 'x'] }, {
      ok: false, error: 'bad values for: op, sub:email:newsletter, was:sms:newsletter, sub:sms:newsletter',
      fields: ['op', 'sub:email:newsletter', 'was:sms:newsletter', 'sub:sms:newsletter'],
    }],
  ])('parsePreferenceForm: %s', (_n, body, want) => {
    expect(parsePreferenceForm(body, topics, ['email', 'sms'])).toEqual(want);
  });

  it('no "unsubscribe from all" when there is no marketing topic', () => {
    const html = preferenceCentrePage({ brand, token: 't', person: {}, topics: [topics[2]!], channels: ['email'], state });
    expect(html).not.toContain('unsubscribe_all');
  });
});
