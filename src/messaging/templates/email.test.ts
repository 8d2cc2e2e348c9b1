import { describe, expect, it } from 'vitest';
import { configureRenderCache } from './cache.ts';
import { renderTemplate } from './render.ts';
import { brand, ctx, email, PREFS, rejection, UNSUB } from './test-fixtures.ts';
import type { RenderContext, TemplateSource } from './types.ts';

const greeting = '<mj-section><mj-column><mj-text>Hello {{ profile.first_name | default: "there" }}</mj-text></mj-column></mj-section>';
const products = "{% for item in items limit: 5 %}{% render 'product_card', product: item %}{% endfor %}";
const esc = (s: string) => s.replace(/&/g, '&amp;');

describe('MJML body in the brand layout', () => {
  it('has header, brand colours and font, body, and a footer with address, footer text and links', async () => {
    const e = await email({ subject: 'Hi {{ profile.first_name }}', preheader: 'New in for {{ profile.first_name }}', mjml: greeting + products });
    expect(e.subject).toBe('Hi Ann');
    expect(e.from).toEqual({ name: 'Acme', address: 'hello@acme.example' });
    expect(e.replyTo).toBe('support@acme.example');
    expect(e.html).toMatch(/^<!doctype html>/i);
    expect(e.html).toContain('src="https://cdn.example.com/logo.png"');
    expect(e.html).toContain('alt="Acme &amp; Sons"');
    expect(e.html).toContain(brand.colors.background);
    expect(e.html).toContain(`background:${brand.colors.primary}`);
    expect(e.html).toContain('font-family:Helvetica, Arial, sans-serif');
    expect(e.html).toContain('Hello Ann');
    expect(e.html).toContain('1 High Street, London N1 1AA');
    expect(e.html).toContain('You receive this because you signed up at acme.example.');
    expect(e.html).toContain(`href="${esc(UNSUB)}"`);
    expect(e.html).toContain(`href="${esc(PREFS)}"`);
    // the five product cards
    for (let i = 1; i <= 5; i++) expect(e.html).toContain(`href="https://shop.example/p/${i}"`);
    expect(e.html).not.toContain('Product 6');
    expect(e.html).toContain('£62.50');
    // preheader: hidden preview text, and kept as a field
    expect(e.preheader).toBe('New in for Ann');
    expect(e.html).toMatch(/<div class="omnia-preheader" style="display:none[^"]*">New in for Ann<\/div>/);
    expect(e.warnings).toEqual([]);
  });

  it('the footer keeps the address, and keeps the unsubscribe link unless the body has its own', async () => {
    const own = '<mj-section><mj-column><mj-text><a href="{{ links.unsubscribe_url }}">Leave</a></mj-text></mj-column></mj-section>';
    const e = await email({ subject: 's', mjml: own });
    expect(e.html.split(`href="${esc(UNSUB)}"`).length - 1).toBe(1);
    expect(e.html).toContain('>Leave</a>');
    expect(e.html).toContain(brand.address);
    const plain = await email({ subject: 's', mjml: greeting });
    expect(plain.html.split(`href="${esc(UNSUB)}"`).length - 1).toBe(1);
    expect(plain.html).toContain('>Unsubscribe</a>');
  });

  it('without an unsubscribe URL (transactional) the footer still has the address, with a warning', async () => {
    const e = await email({ subject: 's', mjml: greeting }, ctx(undefined, { links: {} }));
    expect(e.html).toContain(brand.address);
    expect(e.html).not.toContain('Unsubscribe');
    expect(e.warnings.join()).toMatch(/no unsubscribe link/);
  });

  it('a full <mjml> document keeps its own head and gets the footer', async () => {
    const doc = `<mjml><mj-head><mj-attributes><mj-text color="#ff0000" /></mj-attributes></mj-head><mj-body background-color="#000000">${greeting}</mj-body></mjml>`;
    const e = await email({ subject: 's', preheader: 'p', mjml: doc });
    expect(e.html).toContain('color:#ff0000');
    expect(e.html).toContain('#000000');
    expect(e.html).not.toContain('logo.png');
    expect(e.html).toContain(brand.address);
    expect(e.html).toContain(`href="${esc(UNSUB)}"`);
    expect(e.html).toContain('omnia-preheader');
  });

  it('an MJML error after rendering is a RenderError on the mjml field', async () => {
    const e = await rejection(email({ subject: 's', mjml: '<mj-section><mj-column><mj-image width="{{ profile.traits.w }}" src="https://x/i.png" /></mj-column></mj-section>' }, ctx({ w: 'huge' })));
    expect(e).toMatchObject({ field: 'mjml' });
    expect(e.message).toMatch(/invalid MJML \(line 1 of the rendered MJML body\): Attribute width has invalid value: huge/);
  });

  it('subject: required after render, at most 255 characters', async () => {
    expect((await rejection(email({ subject: '{{ profile.traits.s }}', mjml: greeting }, ctx({ s: '   ' })))).message).toMatch(/subject: is empty/);
    expect((await rejection(email({ subject: '{{ profile.traits.s }}', mjml: greeting }, ctx({ s: 'x'.repeat(256) })))).message).toMatch(/256 characters/);
    expect((await email({ subject: '{{ profile.traits.s }}', mjml: greeting }, ctx({ s: 'x'.repeat(255) }))).subject).toHaveLength(255);
  });
});

describe('HTML templates', () => {
  it('get the preheader after <body> and the footer before </body>', async () => {
    const e = await email({ subject: 's', preheader: 'pre', html: '<html><body style="margin:0"><h1>Hi {{ profile.first_name }}</h1></body></html>' });
    expect(e.html).toMatch(/^<html><body style="margin:0"><div class="omnia-preheader"[^>]*>pre<\/div><h1>Hi Ann<\/h1><div class="omnia-footer"[^>]*>.*1 High Street.*Unsubscribe.*<\/div><\/body><\/html>$/);
  });

  it('a fragment without <body> gets them around it', async () => {
    const e = await email({ subject: 's', html: '<p>x</p>' });
    expect(e.html.startsWith('<p>x</p><div class="omnia-footer"')).toBe(true);
  });
});

describe('text part', () => {
  it('is generated from the HTML: content, links, footer; no preheader, images or markup', async () => {
    const e = await email({ subject: 's', preheader: 'hidden preview', mjml: greeting + products });
    expect(e.text).toContain('Hello Ann');
    expect(e.text).toContain('Product 1');
    expect(e.text).toContain('£12.50');
    expect(e.text).toContain('Shop now [https://shop.example/p/1]');
    expect(e.text).toContain('1 High Street, London N1 1AA');
    expect(e.text).toContain(`Unsubscribe [${UNSUB}]`);
    expect(e.text).not.toContain('hidden preview');
    expect(e.text).not.toContain('logo.png');
    expect(e.text).not.toMatch(/<[a-z]/i);
  });
});

describe('the compile memo changes nothing but speed', () => {
  const sources: TemplateSource[] = [
    { channel: 'email', subject: 'Hi {{ profile.first_name | default: "there" }}', preheader: '{{ profile.traits.tagline | default: "" }}', mjml: greeting + products },
    { channel: 'email', subject: 's', mjml: "{% render 'product_grid', products: items, limit: 5, columns: 2 %}<mj-section><mj-column><mj-image width=\"{{ profile.traits.w | default: 200 }}px\" src=\"{{ profile.traits.url | default: 'https://x/a.png' }}\" /></mj-column></mj-section>" },
    { channel: 'email', subject: 's', html: '<html><body><a href="{{ profile.traits.url | default: "/x" }}">{{ profile.traits.first_name | default: "" }}</a></body></html>' },
  ];
  const people: RenderContext[] = [
    ctx({ first_name: 'Ann', tagline: 'New & <hot>', url: 'https://a.example/?q=1&r=2' }),
    ctx({ first_name: 'Bob "B"', w: 300, url: 'javascript:alert(1)' }),
    ctx({}, { items: [{ title: 'Only one', price: 100, currency: 'EUR' }] }),
    ctx({ first_name: 'Ann', tagline: 'New & <hot>', url: 'https://a.example/?q=1&r=2' }),
  ];

  it('renders identically with the memo on (cold and warm) and off', async () => {
    for (const source of sources) {
      const run = async () => Promise.all(people.map((c) => renderTemplate(source, c, { brand, partials: {} })));
      configureRenderCache({ enabled: true, clear: true });
      const cold = await run();
      const warm = await run();
      configureRenderCache({ enabled: false });
      const off = await run();
      configureRenderCache({ enabled: true });
      expect(warm).toEqual(cold);
      expect(off).toEqual(cold);
      // and the personal parts really differ between people
      expect(JSON.stringify(cold[0])).not.toEqual(JSON.stringify(cold[1]));
      expect(cold[3]).toEqual(cold[0]);
    }
  });

  it('people whose emails differ only in printed values share one compiled skeleton', async () => {
    configureRenderCache({ enabled: true, clear: true });
    await renderTemplate(sources[0]!, people[0]!, { brand, partials: {} });
    await renderTemplate(sources[0]!, ctx({ first_name: 'Zed <z>', tagline: 'Other' }), { brand, partials: {} });
    expect(configureRenderCache({}).entries).toBe(1);
    await renderTemplate(sources[0]!, people[2]!, { brand, partials: {} }); // one product instead of five: other structure
    expect(configureRenderCache({}).entries).toBe(2);
  });
});
