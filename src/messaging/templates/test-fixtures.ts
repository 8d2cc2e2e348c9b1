// Shared fixtures for the templates tests (not a test file itself).
import { DEFAULT_BRAND_KIT, type BrandKit } from './brand-kit.ts';
import { renderTemplate } from './render.ts';
import type { RenderContext, TemplateSource } from './types.ts';
import type { RenderedContent } from '../types.ts';

export const brand: BrandKit = {
  ...DEFAULT_BRAND_KIT,
  name: 'Acme & Sons',
  logoUrl: 'https://cdn.example.com/logo.png',
  address: '1 High Street, London N1 1AA',
  footerText: 'You receive this because you signed up at acme.example.',
  senderName: 'Acme',
  senderEmail: 'hello@acme.example',
  replyTo: 'support@acme.example',
};

export const UNSUB = 'https://omnia.example/u/abc?t=1&s=2';
export const PREFS = 'https://omnia.example/p/abc';

export function ctx(traits: Record<string, unknown> = { first_name: 'Ann' }, extra: Partial<RenderContext> = {}): RenderContext {
  return {
    profile: { id: 'prof_1', email: 'ann@example.com', phone: '+447700900000', traits, timeZone: 'Europe/London' },
    event: { name: 'Order Completed', properties: { order_id: 'A-1', total: 4250 } },
    links: { unsubscribeUrl: UNSUB, preferencesUrl: PREFS },
    message: { id: 'msg_1' },
    items: [1, 2, 3, 4, 5, 6].map((i) => ({ title: `Product ${i}`, url: `https://shop.example/p/${i}`, image_url: `https://cdn.example.com/p${i}.png`, price: 1250 * i, currency: 'GBP' })),
    ...extra,
  };
}

export async function render(source: TemplateSource, c: RenderContext = ctx(), partials: Record<string, string> = {}): Promise<{ content: RenderedContent; warnings: string[] }> {
  return renderTemplate(source, c, { brand, partials });
}

export async function sms(body: string, c?: RenderContext, partials?: Record<string, string>): Promise<string> {
  const r = await render({ channel: 'sms', body }, c, partials);
  if (r.content.channel !== 'sms') throw new Error('not sms');
  return r.content.sms.body;
}

export async function email(source: Omit<Extract<TemplateSource, { channel: 'email' }>, 'channel'>, c?: RenderContext, partials?: Record<string, string>) {
  const r = await render({ channel: 'email', ...source }, c, partials);
  if (r.content.channel !== 'email') throw new Error('not email');
  return { ...r.content.email, warnings: r.warnings };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}
