// The brand kit: what every email's layout (logo, colours, font, footer) and every sender identity is made of.
// Validated strictly because its values are written into MJML attributes and CSS without further escaping.
import type { FieldError } from './types.ts';

export interface BrandKit {
  name: string;
  logoUrl?: string;
  /** CSS hex colours (#rgb / #rrggbb). */
  colors: { primary: string; background: string; text: string };
  /** CSS font-family stack: letters, digits, spaces, commas, quotes, hyphens. */
  font: string;
  /** Postal address (CAN-SPAM), shown in every email footer. */
  address: string;
  footerText?: string;
  senderName: string;
  senderEmail: string;
  replyTo?: string;
  /** Alphanumeric SMS sender id (1-11 characters). */
  smsSenderName?: string;
}

export const DEFAULT_BRAND_KIT: BrandKit = Object.freeze({
  name: 'Omnia',
  colors: Object.freeze({ primary: '#4f46e5', background: '#f4f4f5', text: '#111827' }),
  font: 'Helvetica, Arial, sans-serif',
  address: 'Set your postal address in the brand kit',
  senderName: 'Omnia',
  senderEmail: 'no-reply@example.com',
}) as BrandKit;

const HEX = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const FONT = /^[A-Za-z0-9 ,'"-]{1,200}$/;
// Pragmatic address check: one @, no spaces or angle brackets (these go into From/Reply-To headers).
const EMAIL = /^[^\s@<>(),;:"\\]+@[^\s@<>(),;:"\\]+\.[^\s@<>(),;:"\\]+$/;
const SMS_SENDER = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const KEYS = new Set(['name', 'logoUrl', 'colors', 'font', 'address', 'footerText', 'senderName', 'senderEmail', 'replyTo', 'smsSenderName']);
const COLOR_KEYS = ['primary', 'background', 'text'] as const;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function validateBrandKit(input: unknown): { ok: true; value: BrandKit } | { ok: false; errors: FieldError[] } {
  if (!isRecord(input)) return { ok: false, errors: [{ field: 'brand', message: 'must be an object' }] };
  const errors: FieldError[] = [];
  const err = (field: string, message: string) => errors.push({ field, message });
  for (const k of Object.keys(input)) if (!KEYS.has(k)) err(k, 'unknown field');

  const text = (field: string, max: number, required: boolean, multiline = false): string | undefined => {
    const v = input[field];
    if (v === undefined || v === null) {
      if (required) err(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') return void err(field, 'must be a string');
    const t = v.trim();
    if (t.length === 0) return required ? void err(field, 'must not be empty') : undefined;
    if (t.length > max) return void err(field, `must be at most ${max} characters`);
    if (CONTROL.test(multiline ? t.replace(/\r?\n/g, '') : t)) return void err(field, 'must not contain control characters');
    return t;
  };

  const name = text('name', 100, true);
  const logoUrl = text('logoUrl', 2000, false);
  if (logoUrl !== undefined && !/^https:\/\/[^\s"'<>]+$/.test(logoUrl)) err('logoUrl', 'must be an https URL');
  const font = text('font', 200, true);
  if (font !== undefined && !FONT.test(font)) err('font', 'may only contain letters, digits, spaces, commas, quotes and hyphens');
  const address = text('address', 500, true, true);
  const footerText = text('footerText', 1000, false, true);
  const senderName = text('senderName', 100, true);
  const senderEmail = text('senderEmail', 254, true);
  if (senderEmail !== undefined && !EMAIL.test(senderEmail)) err('senderEmail', 'must be an email address');
  const replyTo = text('replyTo', 254, false);
  if (replyTo !== undefined && !EMAIL.test(replyTo)) err('replyTo', 'must be an email address');
  const smsSenderName = text('smsSenderName', 11, false);
  if (smsSenderName !== undefined && !SMS_SENDER.test(smsSenderName)) err('smsSenderName', 'must be 1-11 letters, digits or spaces, with at least one letter');

  const colors: Record<string, string> = {};
  const c = input.colors;
  if (!isRecord(c)) err('colors', c === undefined ? 'is required' : 'must be an object');
  else {
    for (const k of Object.keys(c)) if (!(COLOR_KEYS as readonly string[]).includes(k)) err(`colors.${k}`, 'unknown field');
    for (const k of COLOR_KEYS) {
      const v = c[k];
      if (typeof v !== 'string' || !HEX.test(v)) err(`colors.${k}`, 'must be a hex colour like #1a2b3c or #abc');
      else colors[k] = v.toLowerCase();
    }
  }

  if (errors.length) return { ok: false, errors };
  const value: BrandKit = {
    name: name!,
    colors: colors as BrandKit['colors'],
    font: font!,
    address: address!,
    senderName: senderName!,
    senderEmail: senderEmail!,
  };
  if (logoUrl !== undefined) value.logoUrl = logoUrl;
  if (footerText !== undefined) value.footerText = footerText;
  if (replyTo !== undefined) value.replyTo = replyTo;
  if (smsSenderName !== undefined) value.smsSenderName = smsSenderName;
  return { ok: true, value };
}
