// Pure: which identifiers an event carries, normalised. Order is strength: a userId outranks an email, an email a
// phone, and an anonymous id (a device cookie) is the weakest link.
import { getCountries, parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';

export type IdentifierKind = 'user_id' | 'email' | 'phone' | 'push_token' | 'anonymous_id' | `external:${string}`;

export interface Identifier {
  kind: IdentifierKind;
  value: string;
}

export const KIND_RANK: Record<string, number> = { user_id: 0, email: 1, phone: 2, push_token: 4, anonymous_id: 5 };
export const rank = (kind: string) => KIND_RANK[kind] ?? 3;

export function normalizeEmail(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const e = v.trim().toLowerCase();
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e) && e.length <= 320 ? e : null;
}

const COUNTRY_ALIASES: Record<string, string> = { uk: 'GB', 'great britain': 'GB', england: 'GB', usa: 'US', eire: 'IE', rsa: 'ZA', holland: 'NL', 'czech republic': 'CZ' };
let countryNames: Map<string, string> | null = null;

/** English country names → ISO codes, built from the runtime's own region names (no table to keep up to date). */
function countryByName(name: string): string | undefined {
  if (!countryNames) {
    countryNames = new Map(Object.entries(COUNTRY_ALIASES));
    const names = new Intl.DisplayNames(['en'], { type: 'region' });
    // Only assigned codes (libphonenumber's list): Intl also names retired ones (DD "Germany", UK "United Kingdom").
    for (const code of getCountries()) {
      const n = names.of(code);
      if (n && n !== code) countryNames.set(n.toLowerCase(), code);
    }
  }
  return countryNames.get(name.toLowerCase());
}

/** ISO 3166 alpha-2 code for a code or an English country name; undefined when unknown. */
export function countryCode(v: unknown): CountryCode | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^[A-Za-z]{2}$/.test(s)) return s.toUpperCase() as CountryCode;
  return countryByName(s) as CountryCode | undefined;
}

/** E.164, or null when it is not a valid number (a national number needs the person's country). */
export function normalizePhone(v: unknown, country?: CountryCode): string | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const p = parsePhoneNumberFromString(String(v), country);
  // isPossible (right length for the country) rather than isValid: number ranges change faster than the metadata.
  return p && p.isPossible() ? p.number : null;
}

export interface IdentitySource {
  type: string;
  user_id: string | null;
  anonymous_id: string | null;
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  properties: Record<string, unknown>;
}

export function extractIdentifiers(ev: IdentitySource): Identifier[] {
  const out: Identifier[] = [];
  const seen = new Set<string>();
  const add = (kind: IdentifierKind, value: string | null | undefined) => {
    if (!value) return;
    const k = `${kind}\u0000${value}`;
    if (seen.has(k)) return;
    seen.add(k);
    out.push({ kind, value: value.slice(0, 512) });
  };
  const t = ev.traits ?? {};
  const ctx = ev.context ?? {};
  const loc = (ctx.location ?? {}) as Record<string, unknown>;
  const address = (t.address ?? {}) as Record<string, unknown>;
  const country = countryCode(t.country) ?? countryCode(address.country) ?? countryCode(loc.country);
  add('user_id', ev.user_id);
  add('email', normalizeEmail(t.email));
  add('phone', normalizePhone(t.phone, country));
  const ext = ctx.externalIds;
  if (Array.isArray(ext)) {
    for (const x of ext.slice(0, 20)) {
      if (x && typeof x === 'object' && (typeof x.id === 'string' || typeof x.id === 'number') && typeof x.type === 'string') {
        const type = x.type.toLowerCase().replace(/[^a-z0-9_.-]/g, '_').slice(0, 64);
        if (type === 'email') add('email', normalizeEmail(x.id));
        else if (type === 'phone') add('phone', normalizePhone(x.id, country));
        else add(`external:${type}`, String(x.id));
      }
    }
  }
  const device = (ctx.device ?? {}) as Record<string, unknown>;
  if (typeof device.token === 'string') add('push_token', device.token);
  add('anonymous_id', ev.anonymous_id);
  out.sort((a, b) => rank(a.kind) - rank(b.kind));
  return out;
}
