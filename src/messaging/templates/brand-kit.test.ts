import { describe, expect, it } from 'vitest';
import { DEFAULT_BRAND_KIT, validateBrandKit } from './brand-kit.ts';

const good = {
  name: 'Acme',
  logoUrl: 'https://cdn.example.com/logo.png',
  colors: { primary: '#FF6600', background: '#fff', text: '#111827' },
  font: '"Helvetica Neue", Arial, sans-serif',
  address: '1 High Street\nLondon',
  footerText: 'Thanks for shopping',
  senderName: 'Acme Shop',
  senderEmail: 'hello@acme.example',
  replyTo: 'support@acme.example',
  smsSenderName: 'ACME',
};

describe('validateBrandKit', () => {
  it('accepts a complete kit and normalises colours to lower case', () => {
    const r = validateBrandKit(good);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.colors.primary).toBe('#ff6600');
  });

  it('accepts the default kit', () => {
    expect(validateBrandKit(DEFAULT_BRAND_KIT).ok).toBe(true);
  });

  it.each([
    ['name', { name: '' }],
    ['name', { name: undefined }],
    ['logoUrl', { logoUrl: 'http://cdn.example.com/logo.png' }],
    ['logoUrl', { logoUrl: 'javascript:alert(1)' }],
    ['colors.primary', { colors: { ...good.colors, primary: 'red' } }],
    ['colors.background', { colors: { ...good.colors, background: '#ffff' } }],
    ['colors.text', { colors: { ...good.colors, text: '#12345g' } }],
    ['colors.accent', { colors: { ...good.colors, accent: '#000' } }],
    ['colors', { colors: undefined }],
    ['font', { font: 'Arial; } body { display:none' }],
    ['font', { font: 'Arial</style>' }],
    ['address', { address: '   ' }],
    ['senderEmail', { senderEmail: 'not-an-email' }],
    ['senderEmail', { senderEmail: 'a@b.c\r\nBcc: x@y.z' }],
    ['senderName', { senderName: 'Acme\r\nBcc: x@y.z' }],
    ['replyTo', { replyTo: 'nope' }],
    ['smsSenderName', { smsSenderName: 'TOOLONGSENDER' }],
    ['smsSenderName', { smsSenderName: '12345' }],
    ['bogus', { bogus: 1 }],
  ])('names the field: %s', (field, patch) => {
    const r = validateBrandKit({ ...good, ...patch });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field)).toContain(field);
  });

  it('reports every bad field at once', () => {
    const r = validateBrandKit({ ...good, name: 3, senderEmail: 'x', colors: { primary: 'x', background: '#fff', text: '#000' } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.field).sort()).toEqual(['colors.primary', 'name', 'senderEmail']);
  });

  it('rejects a non-object', () => {
    expect(validateBrandKit('x')).toEqual({ ok: false, errors: [{ field: 'brand', message: 'must be an object' }] });
  });
});
