// Strict variables, defaults, prototype access, bounded work, and the money/date filters.
import { describe, expect, it } from 'vitest';
import { RenderError } from './types.ts';
import { ctx, rejection, sms } from './test-fixtures.ts';

describe('strict variables', () => {
  it.each([
    ['{{ profile.traits.first_name }}', 'Ann'],
    ['{{ profile.first_name }}', 'Ann'],
    ['{{ profile.traits.first_name | default: "there" }}', 'Ann'],
    ['{{ profile.traits.nickname | default: "there" }}', 'there'],
    ['{{ profile.traits.address.city | default: "your city" }}', 'your city'],
    ['{% if profile.traits.vip %}VIP{% else %}regular{% endif %}', 'regular'],
    ['{% unless profile.traits.vip %}regular{% endunless %}', 'regular'],
    ['{{ event.properties.order_id }} {{ computed.ltv | default: 0 }}', 'A-1 0'],
    ['{{ brand.name }} {{ message.id }} {{ links.unsubscribe_url }}', 'Acme & Sons msg_1 https://omnia.example/u/abc?t=1&s=2'],
    ['{% for i in items limit: 2 %}{{ i.title }};{% endfor %}', 'Product 1;Product 2;'],
  ])('%s → %s', async (tpl, expected) => {
    expect(await sms(tpl)).toBe(expected);
  });

  it.each([
    ['{{ profile.traits.nickname }}', 'profile.traits.nickname'],
    ['{{ profile.traits.address.city }}', 'profile.traits.address'],
    ['Hi {{ nobody }}', 'nobody'],
    ['{{ event.properties.missing | upcase }}', 'event.properties.missing'],
    ['{% for p in items %}{{ p.colour }}{% endfor %}', 'p.colour'],
  ])('%s fails naming %s', async (tpl, variable) => {
    const e = await rejection(sms(tpl));
    expect(e).toBeInstanceOf(RenderError);
    expect(e.variable).toBe(variable);
    expect(e.field).toBe('body');
    expect(e.message).toContain(variable);
    expect(e.line).toBe(1);
  });

  it('treats a null trait and a null email as missing, not as empty', async () => {
    const c = ctx({ first_name: null });
    c.profile.email = null;
    expect((await rejection(sms('{{ profile.traits.first_name }}', c))).variable).toBe('profile.traits.first_name');
    expect((await rejection(sms('{{ profile.email }}', c))).variable).toBe('profile.email');
    expect(await sms('{{ profile.email | default: "none" }}', c)).toBe('none');
  });

  it('reports the line and column of the missing variable', async () => {
    const e = await rejection(sms('Hello\n  there {{ profile.traits.x }}'));
    expect([e.line, e.column]).toEqual([2, 12]);
  });

  it('names the block when the missing variable is inside one', async () => {
    const e = await rejection(sms("{% render 'greet' %}", ctx(), { greet: 'Hi {{ who }}' }));
    expect(e.variable).toBe('who');
    expect(e.message).toContain('greet');
  });

  it('an event-less context has no event variable', async () => {
    expect((await rejection(sms('{{ event.name }}', ctx(undefined, { event: null })))).variable).toBe('event');
  });
});

describe('prototype access is blocked', () => {
  it.each([
    '{{ profile.constructor }}',
    '{{ profile.traits.constructor.name }}',
    '{{ profile.traits.__proto__ }}',
    '{{ profile.traits.toString }}',
    '{{ items.constructor }}',
    '{{ brand.hasOwnProperty }}',
  ])('%s', async (tpl) => {
    const e = await rejection(sms(tpl));
    expect(e).toBeInstanceOf(RenderError);
    expect(e.message).toMatch(/missing variable/);
  });

  it('a "__proto__" key in data does not become a prototype', async () => {
    const traits = JSON.parse('{"__proto__": {"polluted": "yes"}, "first_name": "Ann"}') as Record<string, unknown>;
    expect(await sms('{{ profile.traits.polluted | default: "clean" }}', ctx(traits))).toBe('clean');
  });
});

describe('bounded work', () => {
  it.each([
    ['a huge range', '{% for i in (1..100000000) %}x{% endfor %}'],
    ['nested loops', '{% for i in (1..20000) %}{% for j in (1..20000) %}{% endfor %}{% endfor %}'],
    ['string doubling', '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}'],
  ])('%s fails fast with a clear error', async (_n, tpl) => {
    const t0 = Date.now();
    const e = await rejection(sms(tpl));
    expect(e).toBeInstanceOf(RenderError);
    expect(e.message).toMatch(/limit exceeded/);
    expect(Date.now() - t0).toBeLessThan(5000);
  }, 10_000);
});

describe('money and date filters', () => {
  it.each([
    ['{{ 1250 | money: "GBP" }}', '£12.50'],
    ['{{ 1250 | money: "USD" }}', '$12.50'],
    ['{{ 1250 | money: "JPY" }}', '¥1,250'],
    ['{{ 1250 | money: "EUR", "de-DE" }}', '12,50 €'],
    ['{{ "999" | money: "gbp" }}', '£9.99'],
    ['{{ event.properties.total | money: "GBP" }}', '£42.50'],
    ['{{ items[0].price | money: items[0].currency }}', '£12.50'],
  ])('%s → %s', async (tpl, expected) => {
    expect((await sms(tpl)).replace(/\u00a0/g, ' ')).toBe(expected);
  });

  it.each([['{{ "abc" | money: "GBP" }}', /amount must be a number/], ['{{ 100 | money: "XX" }}', /unknown currency/]])('%s fails', async (tpl, msg) => {
    expect((await rejection(sms(tpl))).message).toMatch(msg);
  });

  const ts = Date.UTC(2025, 0, 15, 23, 30); // 23:30 UTC
  it.each([
    ['Europe/London', '2025-01-15 23:30'],
    ['Asia/Tokyo', '2025-01-16 08:30'],
    ['America/New_York', '2025-01-15 18:30'],
  ])('date honours the profile time zone %s', async (zone, expected) => {
    const c = ctx({ first_name: 'Ann' }, { event: { name: 'x', properties: {}, timestamp: ts } });
    c.profile.timeZone = zone;
    expect(await sms('{{ event.timestamp | date: "%Y-%m-%d %H:%M" }}', c)).toBe(expected);
  });

  it('an explicit zone argument wins over the profile', async () => {
    const c = ctx({ first_name: 'Ann' }, { event: { name: 'x', properties: {}, timestamp: ts } });
    expect(await sms('{{ event.timestamp | date: "%H:%M", "Asia/Tokyo" }}', c)).toBe('08:30');
  });
});
