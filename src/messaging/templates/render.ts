// renderTemplate: one template source + one person → the channel's RenderedContent. SMS, push, on-site and webhook
// are here; email is in render-email.ts.
import type { RenderedContent, RenderedOnsite, RenderedPush } from '../types.ts';
import type { BrandKit } from './brand-kit.ts';
import { buildScope } from './context.ts';
import { isSafeUrl } from './escape.ts';
import { renderField } from './engine.ts';
import type { RenderState } from './filters.ts';
import { oneLine, renderEmail } from './render-email.ts';
import { OutputSlots, hasToken } from './slots.ts';
import { nonGsmCharacters, smsSegments } from './sms.ts';
import { RenderError, type RenderContext, type TemplateSource } from './types.ts';

export interface RenderOptions {
  brand: BrandKit;
  /** The workspace's blocks (name → Liquid); the built-in blocks are available too. */
  partials: Record<string, string>;
}

export const PUSH_TITLE_MAX = 64;
export const PUSH_BODY_MAX = 240;

/** Cuts to `max` characters (code points, never half a surrogate pair), the last being an ellipsis. */
export function truncate(s: string, max: number): { text: string; truncated: boolean; length: number } {
  const chars = Array.from(s);
  if (chars.length <= max) return { text: s, truncated: false, length: chars.length };
  return { text: `${chars.slice(0, max - 1).join('').trimEnd()}…`, truncated: true, length: chars.length };
}

/** Push icons must be https; a click URL may also be a path on the site (`/cart`), never `//host`. */
export function checkPushUrl(value: string, kind: 'icon' | 'url'): string | null {
  if (/^https:\/\/[^\s]+$/i.test(value)) return null;
  if (kind === 'url' && /^\/(?!\/)[^\s]*$/.test(value)) return null;
  return kind === 'icon' ? 'must be an https URL' : 'must be an https URL or a path starting with /';
}

/** Markup an on-site fragment may not contain: it is inserted into the customer's own site. */
export function unsafeOnsiteMarkup(html: string): string | null {
  const tag = /<\s*(script|iframe|object|embed|frame|frameset|link|meta|base|form|style)\b/i.exec(html);
  if (tag) return `<${tag[1]!.toLowerCase()}> is not allowed in on-site messages`;
  if (/<[^>]*\son[a-z]+\s*=/i.test(html)) return 'event handler attributes (on…=) are not allowed in on-site messages';
  for (const m of html.matchAll(/\s(?:href|src|action|formaction)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
    const v = m[1] ?? m[2] ?? m[3] ?? '';
    if (!hasToken(v) && !isSafeUrl(v)) return `link "${v}" is not allowed: only http(s), mailto and tel URLs`;
  }
  return null;
}

async function optionalUrl(field: string, src: string | undefined, kind: 'icon' | 'url', scope: Record<string, unknown>, state: RenderState, partials: Record<string, string>): Promise<string | undefined> {
  if (src === undefined) return undefined;
  const v = (await renderField(field, 'text', src, scope, state, partials)).trim();
  if (!v) return undefined;
  const problem = checkPushUrl(v, kind);
  if (problem) throw new RenderError(field, `${problem} (got "${v.slice(0, 100)}")`);
  return v;
}

export async function renderTemplate(source: TemplateSource, ctx: RenderContext, opts: RenderOptions): Promise<{ content: RenderedContent; warnings: string[] }> {
  const scope = buildScope(ctx, opts.brand);
  const state: RenderState = ctx.profile.timeZone ? { timeZone: ctx.profile.timeZone } : {};
  const partials = opts.partials;
  const warnings: string[] = [];
  const text = (field: string, src: string) => renderField(field, 'text', src, scope, state, partials);

  switch (source.channel) {
    case 'email': {
      if ((source.mjml === undefined) === (source.html === undefined)) throw new RenderError('mjml', 'an email template needs exactly one of mjml or html');
      const email = await renderEmail(source, ctx, scope, opts.brand, partials, state, warnings);
      return { content: { channel: 'email', email }, warnings };
    }
    case 'sms': {
      const body = (await text('body', source.body)).trim();
      if (!body) throw new RenderError('body', 'is empty after rendering');
      const c = smsSegments(body);
      if (c.encoding === 'UCS-2') warnings.push(`SMS is sent as UCS-2 (70 characters per message) because of ${nonGsmCharacters(body).slice(0, 5).map((x) => JSON.stringify(x)).join(', ')}`);
      if (c.segments > 1) warnings.push(`SMS takes ${c.segments} segments (${c.units} ${c.encoding === 'GSM-7' ? 'GSM-7 characters' : 'UCS-2 units'})`);
      return { content: { channel: 'sms', sms: { body, ...c } }, warnings };
    }
    case 'push': {
      const title = truncate(oneLine(await text('title', source.title)), PUSH_TITLE_MAX);
      const body = truncate((await text('body', source.body)).trim(), PUSH_BODY_MAX);
      if (!title.text) throw new RenderError('title', 'is empty after rendering');
      if (title.truncated) warnings.push(`push title was ${title.length} characters; truncated to ${PUSH_TITLE_MAX}`);
      if (body.truncated) warnings.push(`push body was ${body.length} characters; truncated to ${PUSH_BODY_MAX}`);
      const push: RenderedPush = { title: title.text, body: body.text };
      const icon = await optionalUrl('icon', source.icon, 'icon', scope, state, partials);
      const url = await optionalUrl('url', source.url, 'url', scope, state, partials);
      if (icon) push.icon = icon;
      if (url) push.url = url;
      if (ctx.message) push.data = { messageId: ctx.message.id };
      return { content: { channel: 'push', push }, warnings };
    }
    case 'onsite': {
      const title = oneLine(await text('title', source.title));
      const slots = new OutputSlots();
      const skeleton = await renderField('body', 'html', source.body, scope, { ...state, slots }, partials);
      const unsafe = unsafeOnsiteMarkup(skeleton);
      if (unsafe) throw new RenderError('body', unsafe);
      const onsite: RenderedOnsite = { kind: source.kind, title, html: slots.fillHtml(skeleton).trim() };
      const url = await optionalUrl('url', source.url, 'url', scope, state, partials);
      if (url) onsite.url = url;
      return { content: { channel: 'onsite', onsite }, warnings };
    }
    case 'webhook': {
      const body = (await renderField('body', 'json', source.body, scope, state, partials)).trim();
      try {
        JSON.parse(body);
      } catch (err) {
        throw new RenderError('body', `does not render to valid JSON: ${(err as Error).message}`);
      }
      return { content: { channel: 'webhook', webhook: { body } }, warnings };
    }
    default:
      throw new RenderError('channel', `unknown channel ${JSON.stringify((source as { channel?: unknown }).channel)}`);
  }
}
