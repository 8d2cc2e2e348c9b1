import { describe, expect, it } from 'vitest';
import { validateTemplate } from './validate.ts';
import type { FieldError } from './types.ts';

function errors(source: unknown, partials: Record<string, string> = {}): FieldError[] {
  const r = validateTemplate(source, partials);
  if (r.ok) throw new Error(`expected errors, got ok: ${JSON.stringify(r)}`);
  return r.errors;
}

function ok(source: unknown, partials: Record<string, string> = {}) {
  const r = validateTemplate(source, partials);
  if (!r.ok) throw new Error(`expected ok, got ${JSON.stringify(r.errors)}`);
  return r;
}

const section = '<mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>';

describe('shape', () => {
  it.each([
    [null, 'source'],
    [{ channel: 'fax' }, 'channel'],
    [{ channel: 'sms' }, 'body'],
    [{ channel: 'sms', body: '  ' }, 'body'],
    [{ channel: 'sms', body: 5 }, 'body'],
    [{ channel: 'sms', body: 'x', title: 'y' }, 'title'],
    [{ channel: 'email', mjml: section }, 'subject'],
    [{ channel: 'email', subject: 'x' }, 'mjml'],
    [{ channel: 'email', subject: 'x', mjml: section, html: '<p>x</p>' }, 'mjml'],
    [{ channel: 'onsite', kind: 'popup', title: 't', body: 'b' }, 'kind'],
    [{ channel: 'push', title: 't' }, 'body'],
  ])('%j → error on %s', (source, field) => {
    expect(errors(source).map((e) => e.field)).toContain(field);
  });

  it('returns only the known fields', () => {
    expect(ok({ channel: 'push', title: 't', body: 'b', url: '/x' }).value).toEqual({ channel: 'push', title: 't', body: 'b', url: '/x' });
  });
});

describe('Liquid syntax errors name field, line and column', () => {
  it.each([
    [{ channel: 'sms', body: 'Hi\n  {{ profile.first_name ' }, 'body', 2, 3],
    [{ channel: 'sms', body: 'Hi {% if profile.traits.vip %}VIP' }, 'body', 1, 4],
    [{ channel: 'email', subject: 'Hi {{ x | nosuchfilter }}', mjml: section }, 'subject', 1, 4],
    [{ channel: 'email', subject: 's', preheader: '{% bogus %}', mjml: section }, 'preheader', 1, 1],
    [{ channel: 'email', subject: 's', mjml: `${section}\n\n{% for x in items %}` }, 'mjml', 3, 1],
    [{ channel: 'email', subject: 's', html: '<p>\n{{ "unclosed }}</p>' }, 'html', 2, 1],
    [{ channel: 'email', subject: 's', mjml: section, text: 'a\nb\nc {% endif %}' }, 'text', 3, 3],
    [{ channel: 'push', title: '{% if %}', body: 'b' }, 'title', 1, 6],
    [{ channel: 'push', title: 't', body: 'b', url: '{{ }' }, 'url', 1, 1],
    [{ channel: 'onsite', kind: 'modal', title: 't', body: '<p>{% for %}</p>' }, 'body', 1, 4],
    [{ channel: 'webhook', body: '{\n "a": "{{ x | }"\n}' }, 'body', 2, 8],
  ])('%j', (source, field, line, column) => {
    const e = errors(source);
    expect(e[0]).toMatchObject({ field, line, column });
    expect(e[0]!.message.length).toBeGreaterThan(5);
  });

  it('rejects the raw filter', () => {
    expect(errors({ channel: 'sms', body: 'x\n{{ profile.traits.bio | raw }}' })[0]).toMatchObject({ field: 'body', line: 2, message: expect.stringMatching(/raw filter/) });
  });
});

describe('blocks (partials)', () => {
  it('a missing block is an error naming it, with its position', () => {
    expect(errors({ channel: 'sms', body: "Hi\n{% render 'coupon' %}" })).toEqual([{ field: 'body', message: 'block "coupon" does not exist', line: 2, column: 1 }]);
  });

  it('finds blocks inside {% liquid %} and blocks rendered by blocks', () => {
    expect(errors({ channel: 'sms', body: "{% liquid\n render 'nope'\n%}" })[0]!.message).toBe('block "nope" does not exist');
    expect(errors({ channel: 'sms', body: "{% render 'outer' %}" }, { outer: "{% render 'inner' %}" })[0]!.message).toBe('block "outer": block "inner" does not exist');
  });

  it('a block name must be a literal', () => {
    expect(errors({ channel: 'sms', body: '{% render profile.traits.block %}' })[0]!.message).toMatch(/quoted/);
  });

  it('workspace and built-in blocks resolve; recursion terminates', () => {
    ok({ channel: 'sms', body: "{% render 'promo' %}" }, { promo: "{% render 'promo2' %}", promo2: "{% if false %}{% render 'promo' %}{% endif %}" });
    ok({ channel: 'email', subject: 's', mjml: "{% for item in items %}{% render 'product_card', product: item %}{% endfor %}{% render 'product_grid', products: items %}" });
  });
});

describe('MJML structure', () => {
  it('reports MJML errors with the template line', () => {
    const mjml = ['<mj-section>', '  <mj-column>', '    <mj-text>ok</mj-text>', '    <mj-image width="wide" src="x.png" />', '    <mj-unknown />', '  </mj-column>', '  <mj-text>not in a column</mj-text>', '</mj-section>'].join('\n');
    const e = errors({ channel: 'email', subject: 's', mjml });
    expect(e.map((x) => [x.field, x.line])).toEqual([
      ['mjml', 4],
      ['mjml', 5],
      ['mjml', 7],
    ]);
    expect(e[0]!.message).toMatch(/width/);
  });

  it('Liquid does not hide line numbers, and Liquid in a typed attribute is left to render time', () => {
    const mjml = "{% if profile.traits.vip %}\n<mj-section>\n{% endif %}\n<mj-column><mj-image width=\"{{ w }}\" src=\"x\"/><mj-foo/></mj-column></mj-section>";
    expect(errors({ channel: 'email', subject: 's', mjml }).map((x) => [x.line, x.message])).toEqual([[4, "Element mj-foo doesn't exist or is not registered"]]);
  });

  it('checks a full document too', () => {
    ok({ channel: 'email', subject: 's', mjml: `<mjml><mj-body>${section}</mj-body></mjml>` });
    expect(errors({ channel: 'email', subject: 's', mjml: '<mjml><mj-head></mj-head></mjml>' })[0]!.message).toMatch(/mj-body/);
    expect(errors({ channel: 'email', subject: 's', mjml: '<mjml>\n<mj-body>\n<mj-text>x</mj-text>\n</mj-body></mjml>' })[0]).toMatchObject({ line: 3 });
  });
});

describe('static checks', () => {
  it.each([
    [{ channel: 'push', title: 't', body: 'b', icon: 'http://x/i.png' }, 'icon'],
    [{ channel: 'push', title: 't', body: 'b', url: 'javascript:alert(1)' }, 'url'],
    [{ channel: 'push', title: 't', body: 'b', url: '//evil.example' }, 'url'],
    [{ channel: 'onsite', kind: 'banner', title: 't', body: '<script>x</script>' }, 'body'],
    [{ channel: 'onsite', kind: 'banner', title: 't', body: '<img src=x onerror="alert(1)">' }, 'body'],
    [{ channel: 'onsite', kind: 'banner', title: 't', body: '<a href="javascript:void(0)">x</a>' }, 'body'],
    [{ channel: 'email', subject: 'x'.repeat(256), mjml: section }, 'subject'],
  ])('%j → %s', (source, field) => {
    expect(errors(source).map((e) => e.field)).toContain(field);
  });

  it('URLs with Liquid are checked at render time instead', () => {
    ok({ channel: 'push', title: 't', body: 'b', url: '{{ event.properties.url }}', icon: 'https://cdn.example/i.png' });
  });
});

describe('variables and warnings', () => {
  it('lists what the template and its blocks read from the context', () => {
    const r = ok(
      {
        channel: 'email',
        subject: 'Hi {{ profile.first_name | default: "there" }}',
        mjml: "{% for item in items limit: 3 %}{% render 'product_card', product: item %}{% endfor %}{% render 'sig' %}<mj-section><mj-column><mj-text>{{ event.properties['order id'] }}</mj-text></mj-column></mj-section>",
      },
      { sig: '<mj-section><mj-column><mj-text>{{ brand.name }} {{ signoff | default: "" }}</mj-text></mj-column></mj-section>' },
    );
    expect(r.variables).toEqual(['brand.name', "event.properties['order id']", 'items', 'profile.first_name']);
    expect(r.warnings).toEqual([]);
  });

  it('warns about variables Omnia never provides', () => {
    const r = ok({ channel: 'sms', body: '{{ profile.traits.x | default: "" }} {{ customer.name | default: "" }} {{ profile.firstname | default: "" }} {{ links.unsub | default: "" }}' });
    expect(r.variables).toEqual(['customer.name', 'links.unsub', 'profile.firstname', 'profile.traits.x']);
    expect(r.warnings.map((w) => /"([^"]+)"/.exec(w)![1])).toEqual(['customer.name', 'links.unsub', 'profile.firstname']);
  });

  it('warns when default comes after a filter that would fail first', () => {
    const r = ok({ channel: 'sms', body: '{{ profile.traits.name | upcase | default: "X" }}' });
    expect(r.warnings.join('\n')).toMatch(/default.*first/);
  });
});
