// The variables a template sees, built from a RenderContext. Values are copied into plain objects so that the
// template reads own data properties only (no class instances, getters or prototypes), and null becomes absent so
// that strict variables treat "no value" the same whether the key is missing or null.
import type { BrandKit } from './brand-kit.ts';
import type { RenderContext } from './types.ts';

const MAX_DEPTH = 24;

function plain(v: unknown, depth: number): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
  if (v instanceof Date) return v;
  if (depth >= MAX_DEPTH) return undefined;
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1) ?? null);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (k === '__proto__') continue;
    const c = plain(x, depth + 1);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

function obj(v: unknown): Record<string, unknown> {
  const p = plain(v, 1);
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

function set(target: Record<string, unknown>, key: string, v: unknown): void {
  const p = plain(v, 1);
  if (p !== undefined) target[key] = p;
}

/** Brand values as templates see them (snake_case, like every other Liquid variable). */
export function brandScope(brand: BrandKit): Record<string, unknown> {
  const b: Record<string, unknown> = { name: brand.name, colors: { ...brand.colors }, font: brand.font, address: brand.address, sender_name: brand.senderName, sender_email: brand.senderEmail };
  set(b, 'logo_url', brand.logoUrl);
  set(b, 'footer_text', brand.footerText);
  set(b, 'reply_to', brand.replyTo);
  set(b, 'sms_sender_name', brand.smsSenderName);
  return b;
}

export function buildScope(ctx: RenderContext, brand: BrandKit): Record<string, unknown> {
  const traits = obj(ctx.profile.traits);
  const profile: Record<string, unknown> = { id: ctx.profile.id, traits };
  set(profile, 'email', ctx.profile.email);
  set(profile, 'phone', ctx.profile.phone);
  set(profile, 'time_zone', ctx.profile.timeZone);
  set(profile, 'first_name', traits.first_name ?? traits.firstName);
  set(profile, 'last_name', traits.last_name ?? traits.lastName);

  const scope: Record<string, unknown> = {
    profile,
    computed: obj(ctx.computed),
    // An empty product list is a normal state (a loop renders nothing), not a missing variable.
    items: Array.isArray(ctx.items) ? (plain(ctx.items, 0) as unknown[]) : [],
    brand: brandScope(brand),
  };
  if (ctx.event) {
    const event: Record<string, unknown> = { name: ctx.event.name, properties: obj(ctx.event.properties) };
    set(event, 'timestamp', ctx.event.timestamp);
    scope.event = event;
  }
  const links: Record<string, unknown> = {};
  set(links, 'unsubscribe_url', ctx.links?.unsubscribeUrl);
  set(links, 'preferences_url', ctx.links?.preferencesUrl);
  set(links, 'view_in_browser_url', ctx.links?.viewInBrowserUrl);
  scope.links = links;
  if (ctx.message) scope.message = { id: ctx.message.id };
  return scope;
}

/** The variables a template may read, for the "unknown variable" warnings. `*` matches any one key or deeper. */
export const KNOWN_VARIABLES = [
  'profile.id', 'profile.email', 'profile.phone', 'profile.time_zone', 'profile.first_name', 'profile.last_name', 'profile.traits.*',
  'event.name', 'event.properties.*', 'event.timestamp',
  'computed.*', 'items', 'items.*',
  'brand.name', 'brand.logo_url', 'brand.colors.primary', 'brand.colors.background', 'brand.colors.text', 'brand.font', 'brand.address',
  'brand.footer_text', 'brand.sender_name', 'brand.sender_email', 'brand.reply_to', 'brand.sms_sender_name',
  'links.unsubscribe_url', 'links.preferences_url', 'links.view_in_browser_url',
  'message.id',
];
