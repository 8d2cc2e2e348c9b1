// SMS, push, on-site and webhook rendering.
import { describe, expect, it } from 'vitest';
import { ctx, rejection, render } from './test-fixtures.ts';
import type { RenderedPush } from '../types.ts';

async function push(source: { title: string; body: string; icon?: string; url?: string }, traits: Record<string, unknown> = { first_name: 'Ann' }) {
  const r = await render({ channel: 'push', ...source }, ctx(traits));
  if (r.content.channel !== 'push') throw new Error('not push');
  return { push: r.content.push as RenderedPush, warnings: r.warnings };
}

describe('sms', () => {
  it('renders the body with its encoding and segments', async () => {
    const r = await render({ channel: 'sms', body: ' Hi {{ profile.first_name }}, 20% off today! ' });
    expect(r.content).toEqual({ channel: 'sms', sms: { body: 'Hi Ann, 20% off today!', encoding: 'GSM-7', segments: 1, units: 22 } });
    expect(r.warnings).toEqual([]);
  });

  it('warns about UCS-2 and multiple segments, naming the characters', async () => {
    const r = await render({ channel: 'sms', body: '{{ profile.first_name }} it’s here 🎉 ' + 'x'.repeat(80) });
    expect(r.content.channel === 'sms' && r.content.sms).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(r.warnings[0]).toMatch(/UCS-2.*"’", "🎉"/);
    expect(r.warnings[1]).toMatch(/2 segments/);
  });

  it('an empty result is an error', async () => {
    expect((await rejection(render({ channel: 'sms', body: '{{ profile.traits.x | default: "" }}' }))).message).toMatch(/body: is empty/);
  });
});

describe('push', () => {
  it('renders title, body, icon, url and the message id', async () => {
    const { push: p, warnings } = await push({ title: 'Hi {{ profile.first_name }}', body: 'Your order {{ event.properties.order_id }}', icon: 'https://cdn.example/i.png', url: '/orders/{{ event.properties.order_id }}' });
    expect(p).toEqual({ title: 'Hi Ann', body: 'Your order A-1', icon: 'https://cdn.example/i.png', url: '/orders/A-1', data: { messageId: 'msg_1' } });
    expect(warnings).toEqual([]);
  });

  it.each([
    [64, 'x'.repeat(64), false],
    [65, 'x'.repeat(63) + '…', true],
  ])('title of %i characters', async (n, expected, warned) => {
    const { push: p, warnings } = await push({ title: '{{ profile.traits.t }}', body: 'b' }, { t: 'x'.repeat(n) });
    expect(p.title).toBe(expected);
    expect(Array.from(p.title).length).toBeLessThanOrEqual(64);
    expect(warnings.some((w) => /title was \d+ characters; truncated to 64/.test(w))).toBe(warned);
  });

  it.each([
    [240, false],
    [241, true],
    [1000, true],
  ])('body of %i characters', async (n, warned) => {
    const { push: p, warnings } = await push({ title: 't', body: '{{ profile.traits.b }}' }, { b: 'y'.repeat(n) });
    expect(Array.from(p.body).length).toBe(Math.min(n, 240));
    expect(p.body.endsWith('…')).toBe(warned);
    expect(warnings.some((w) => /body was \d+ characters; truncated to 240/.test(w))).toBe(warned);
  });

  it('never cuts an emoji in half', async () => {
    const { push: p } = await push({ title: '{{ profile.traits.t }}', body: 'b' }, { t: '😀'.repeat(70) });
    expect(p.title).toBe('😀'.repeat(63) + '…');
  });

  it.each([
    ['icon', 'http://cdn.example/i.png'],
    ['icon', '/i.png'],
    ['url', 'javascript:alert(1)'],
    ['url', '//evil.example/x'],
    ['url', 'http://shop.example'],
  ])('%s %s from data is refused', async (field, value) => {
    const e = await rejection(push({ title: 't', body: 'b', [field]: '{{ profile.traits.v }}' }, { v: value }));
    expect(e).toMatchObject({ field });
  });
});

describe('onsite', () => {
  it('renders kind, plain title, escaped HTML and url', async () => {
    const r = await render({ channel: 'onsite', kind: 'modal', title: '{{ profile.first_name }}, 10% off', body: '<p>Code <b>{{ profile.traits.code }}</b></p>', url: 'https://shop.example/sale' }, ctx({ first_name: 'Ann', code: 'A&B' }));
    expect(r.content).toEqual({ channel: 'onsite', onsite: { kind: 'modal', title: 'Ann, 10% off', html: '<p>Code <b>A&amp;B</b></p>', url: 'https://shop.example/sale' } });
  });

  it('refuses script coming from a block', async () => {
    const e = await rejection(render({ channel: 'onsite', kind: 'banner', title: 't', body: "{% render 'evil' %}" }, ctx(), { evil: '<script>steal()</script>' }));
    expect(e.message).toMatch(/<script> is not allowed/);
  });
});

describe('webhook', () => {
  it('renders JSON', async () => {
    const r = await render({ channel: 'webhook', body: '{"email": "{{ profile.email }}", "order": "{{ event.properties.order_id }}", "total": {{ event.properties.total }}}' });
    expect(r.content.channel === 'webhook' && JSON.parse(r.content.webhook.body)).toEqual({ email: 'ann@example.com', order: 'A-1', total: 4250 });
  });
});
