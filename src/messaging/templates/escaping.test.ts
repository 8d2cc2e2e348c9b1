// Escaping by context: HTML (email, on-site), plain text (SMS, push, subject, text part), URLs, JSON.
import { describe, expect, it } from 'vitest';
import { isSafeUrl } from './escape.ts';
import { OutputSlots } from './slots.ts';
import { brand, ctx, email, rejection, render, sms } from './test-fixtures.ts';

const XSS = '<script>alert("x")</script>';
const mj = (text: string) => `<mj-section><mj-column><mj-text>${text}</mj-text></mj-column></mj-section>`;

async function onsite(body: string, traits: Record<string, unknown>) {
  const r = await render({ channel: 'onsite', kind: 'banner', title: 'T {{ profile.traits.name | default: "-" }}', body }, ctx(traits));
  if (r.content.channel !== 'onsite') throw new Error('not onsite');
  return r.content.onsite;
}

async function webhook(body: string, traits: Record<string, unknown>) {
  const r = await render({ channel: 'webhook', body }, ctx(traits));
  if (r.content.channel !== 'webhook') throw new Error('not webhook');
  return r.content.webhook.body;
}

describe('HTML contexts escape every output', () => {
  it('MJML email body', async () => {
    const e = await email({ subject: 'Hi', mjml: mj('Hello {{ profile.traits.name }}') }, ctx({ name: XSS }));
    expect(e.html).toContain('Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(e.html).not.toContain('<script>alert');
  });

  it('HTML email body', async () => {
    const e = await email({ subject: 'Hi', html: '<html><body><p title="{{ profile.traits.name }}">{{ profile.traits.name }}</p></body></html>' }, ctx({ name: XSS }));
    expect(e.html).toContain('<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;');
    expect(e.html).not.toContain('<script>');
  });

  it('on-site body', async () => {
    const o = await onsite('<p>{{ profile.traits.name }}</p>', { name: XSS });
    expect(o.html).toBe('<p>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p>');
    expect(o.title).toBe(`T ${XSS}`); // the title is plain text, for the site to insert as text
  });

  it('a value cannot break out of a quoted or unquoted attribute', async () => {
    const o = await onsite(`<a href="/x" title="{{ profile.traits.name }}" data-x={{ profile.traits.name }}>x</a>`, { name: '" onmouseover="alert(1)' });
    expect(o.html).toBe('<a href="/x" title="&quot; onmouseover=&quot;alert(1)" data-x="&quot; onmouseover=&quot;alert(1)">x</a>');
  });

  it('`raw` is not an opt-out', async () => {
    const o = await onsite('{{ profile.traits.name | raw }}', { name: '<b>x</b>' });
    expect(o.html).toBe('&lt;b&gt;x&lt;/b&gt;');
  });

  it('a captured fragment is escaped once more when printed, like any string (and filters see its text)', async () => {
    const o = await onsite('{% capture c %}<b>{{ profile.traits.name }}</b>{% endcapture %}{{ c | size }}|{{ c }}', { name: 'A&B' });
    expect(o.html).toBe('14|&lt;b&gt;A&amp;amp;B&lt;/b&gt;'); // size of "<b>A&amp;B</b>"
  });

  it('block output is markup, its values escaped', async () => {
    const o = await render({ channel: 'onsite', kind: 'modal', title: 't', body: "{% render 'chip', label: profile.traits.name %}" }, ctx({ name: XSS }), { chip: '<span class="chip">{{ label }}</span>' });
    expect(o.content.channel === 'onsite' && o.content.onsite.html).toBe('<span class="chip">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</span>');
  });
});

describe('URL scheme guard', () => {
  it.each([
    ['javascript:alert(1)', '#'],
    ['JavaScript:alert(1)', '#'],
    [' javascript:alert(1)', '#'],
    ['java\tscript:alert(1)', '#'],
    ['data:text/html,<script>alert(1)</script>', '#'],
    ['vbscript:msgbox(1)', '#'],
    ['https://shop.example/a?b=1&c=2', 'https://shop.example/a?b=1&amp;c=2'],
    ['http://shop.example/', 'http://shop.example/'],
    ['mailto:ann@example.com', 'mailto:ann@example.com'],
    ['tel:+447700900000', 'tel:+447700900000'],
    ['/cart', '/cart'],
  ])('href from a trait %j → %j', async (url, expected) => {
    const o = await onsite('<a href="{{ profile.traits.url }}">go</a>', { url });
    expect(o.html).toBe(`<a href="${expected}">go</a>`);
    const e = await email({ subject: 'x', mjml: '<mj-section><mj-column><mj-button href="{{ profile.traits.url }}">Go</mj-button><mj-image src="{{ profile.traits.url }}" /></mj-column></mj-section>' }, ctx({ url }));
    expect(e.html).toContain(`href="${expected}"`);
    expect(e.html).toContain(`src="${expected}"`);
  });

  it('a static https prefix keeps the value as a path or query', async () => {
    const o = await onsite('<a href="https://shop.example/search?q={{ profile.traits.q | url_encode }}">s</a>', { q: 'javascript:alert(1) & more' });
    expect(o.html).toBe('<a href="https://shop.example/search?q=javascript%3Aalert(1)+%26+more">s</a>');
  });

  it('url_encode encodes reserved characters', async () => {
    expect(await sms('{{ profile.traits.q | url_encode }}', ctx({ q: 'a b&c=d/é' }))).toBe('a+b%26c%3Dd%2F%C3%A9');
  });

  it.each([
    ['https://x', true],
    ['mailto:x', true],
    ['relative/path', true],
    ['?q=1', true],
    ['#top', true],
    ['javascript:x', false],
    ['j\u0000avascript:x', false],
    ['file:///etc/passwd', false],
  ])('isSafeUrl(%j) = %s', (url, ok) => {
    expect(isSafeUrl(url)).toBe(ok);
  });
});

describe('plain-text contexts', () => {
  it('SMS prints values as they are, without control characters', async () => {
    expect(await sms('Hi {{ profile.traits.name }}!', ctx({ name: 'Tom & "Jerry" <3\u0007\u001b' }))).toBe('Hi Tom & "Jerry" <3!');
  });

  it('push title and body are plain text', async () => {
    const r = await render({ channel: 'push', title: '{{ profile.traits.name }}', body: 'a & b {{ profile.traits.name }}' }, ctx({ name: 'R&D <team>' }));
    expect(r.content.channel === 'push' && r.content.push).toMatchObject({ title: 'R&D <team>', body: 'a & b R&D <team>' });
  });

  it('the subject is one line (no header injection) and not HTML-escaped', async () => {
    const e = await email({ subject: 'Hi {{ profile.traits.name }}', mjml: mj('x') }, ctx({ name: 'A&B\r\nBcc: evil@example.com' }));
    expect(e.subject).toBe('Hi A&B Bcc: evil@example.com');
  });

  it('the generated text part shows values as text', async () => {
    const e = await email({ subject: 's', mjml: mj('Hello {{ profile.traits.name }}') }, ctx({ name: '<b>Ann & co</b>' }));
    expect(e.text).toContain('Hello <b>Ann & co</b>');
  });

  it('a given text part is rendered as plain text', async () => {
    const e = await email({ subject: 's', mjml: mj('x'), text: 'Hi {{ profile.traits.name }}' }, ctx({ name: '<Ann>' }));
    expect(e.text).toBe('Hi <Ann>');
  });
});

describe('JSON (webhook) context', () => {
  it('a value with quotes and backslashes stays inside its string', async () => {
    const name = 'x", "admin": true, "y": "\\';
    const body = await webhook('{"name": "{{ profile.traits.name }}", "id": "{{ profile.id }}"}', { name });
    expect(JSON.parse(body)).toEqual({ name, id: 'prof_1' });
  });

  it('control characters and newlines cannot break the JSON', async () => {
    const body = await webhook('{"v": "{{ profile.traits.v }}"}', { v: 'a\nb\u0001c\u2028' });
    expect(JSON.parse(body)).toEqual({ v: 'a\nbc\u2028' });
  });

  it('| json prints a JSON literal', async () => {
    const body = await webhook('{"traits": {{ profile.traits | json }}, "n": {{ event.properties.total | json }}, "s": {{ profile.traits.name | json }}}', { name: 'a"b', tags: ['x'] });
    expect(JSON.parse(body)).toEqual({ traits: { name: 'a"b', tags: ['x'] }, n: 4250, s: 'a"b' });
  });

  it('output that is not JSON is a RenderError', async () => {
    const e = await rejection(webhook('{"name": {{ profile.traits.name }}}', { name: 'Ann' }));
    expect(e.message).toMatch(/body: does not render to valid JSON/);
    // an unquoted value cannot inject structure either: its quotes are escaped, so the result does not parse
    const e2 = await rejection(webhook('{"n": {{ profile.traits.n }}}', { n: '1, "admin": true' }));
    expect(e2.message).toMatch(/valid JSON/);
  });
});

describe('slots', () => {
  it('fillHtml and fillText treat the same skeleton per context', () => {
    const s = new OutputSlots();
    const t = s.add('a <b> & "c"\n  d');
    expect(s.fillHtml(`<p title="${t}">${t}</p>`)).toBe('<p title="a &lt;b&gt; &amp; &quot;c&quot;\n  d">a &lt;b&gt; &amp; &quot;c&quot;\n  d</p>');
    expect(s.fillText(`x ${t}`)).toBe('x a <b> & "c" d');
  });

  it('data cannot forge a token', async () => {
    const o = await onsite('{{ profile.traits.a }}|{{ profile.traits.b }}', { a: 'A', b: '\ue0000\ue001' });
    expect(o.html).toBe('A|0');
    expect(brand.name).toBe('Acme & Sons');
  });
});
