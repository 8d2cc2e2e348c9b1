import { describe, expect, it } from 'vitest';
import { deriveLinkKey, signToken } from './tokens.ts';
import {
  clickUrl,
  confirmUrl,
  listUnsubscribeHeaders,
  openPixelUrl,
  parseLinkPath,
  parseLinkUrl,
  preferencesUrl,
  unsubscribeMailAddress,
  unsubscribeUrl,
} from './urls.ts';

const key = deriveLinkKey(Buffer.alloc(32, 7), 'ws_a');
const T = signToken(key, 'click', { ws: 'ws_a', u: 'https://shop.example/' });

describe('link URLs', () => {
  it.each([
    ['http://localhost:3000', 'http://localhost:3000/'],
    ['http://localhost:3000/', 'http://localhost:3000/'],
    ['https://Mail.Example.com/omnia', 'https://mail.example.com/omnia/'],
    ['https://mail.example.com/omnia/', 'https://mail.example.com/omnia/'],
  ])('builds every kind under %s', (publicUrl, base) => {
    expect(openPixelUrl(publicUrl, T)).toBe(`${base}t/o/${T}.gif`);
    expect(clickUrl(publicUrl, T)).toBe(`${base}t/c/${T}`);
    expect(unsubscribeUrl(publicUrl, T)).toBe(`${base}u/${T}`);
    expect(preferencesUrl(publicUrl, T)).toBe(`${base}p/${T}`);
    expect(confirmUrl(publicUrl, T)).toBe(`${base}c/${T}`);
  });

  it('refuses bad inputs', () => {
    expect(() => clickUrl('localhost:3000', T)).toThrow(/http/);
    expect(() => clickUrl('not a url', T)).toThrow(/URL/);
    expect(() => clickUrl('https://x.example/?a=1', T)).toThrow(/query/);
    expect(() => clickUrl('https://x.example', 'a/b')).toThrow(/base64url/);
  });

  it.each([
    [`/t/o/${T}.gif`, { kind: 'open', token: T }],
    [`/t/c/${T}`, { kind: 'click', token: T }],
    [`/u/${T}`, { kind: 'unsubscribe', token: T }],
    [`/p/${T}`, { kind: 'preferences', token: T }],
    [`/c/${T}`, { kind: 'confirm', token: T }],
    [`/t/o/${T}`, null],
    [`/t/c/${T}.gif`, null],
    [`/u/${T}/x`, null],
    ['/u/', null],
    ['/x/abc', null],
  ])('parses path %s', (path, want) => {
    expect(parseLinkPath(path)).toEqual(want);
  });

  it('recognises Omnia links by prefix under publicUrl, or by token shape without it', () => {
    const pub = 'https://mail.example.com/omnia';
    expect(parseLinkUrl(unsubscribeUrl(pub, T), pub)).toEqual({ kind: 'unsubscribe', token: T });
    expect(parseLinkUrl(`https://other.example/omnia/u/${T}`, pub)).toBeNull();
    expect(parseLinkUrl(`https://mail.example.com/u/${T}`, pub)).toBeNull();
    // Without publicUrl: any origin and prefix, but the token must be structurally valid.
    expect(parseLinkUrl(`https://mail.example.com/omnia/p/${T}?x=1`)).toEqual({ kind: 'preferences', token: T });
    expect(parseLinkUrl(`https://x.example/t/c/${T}`)).toEqual({ kind: 'click', token: T });
    expect(parseLinkUrl('https://shop.example/p/blue-shirt-with-a-very-long-product-slug')).toBeNull();
    expect(parseLinkUrl('https://shop.example/c/shoes')).toBeNull();
    expect(parseLinkUrl('not a url')).toBeNull();
  });

  it('builds List-Unsubscribe headers (RFC 2369 + RFC 8058)', () => {
    const u = unsubscribeUrl('https://mail.example.com', T);
    const mailto = unsubscribeMailAddress('mail.example.com', 'abc_-1');
    expect(mailto).toBe('unsubscribe+abc_-1@mail.example.com');
    expect(listUnsubscribeHeaders({ mailto, httpsUrl: u })).toEqual({
      'List-Unsubscribe': `<mailto:unsubscribe+abc_-1@mail.example.com?subject=unsubscribe>, <${u}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    });
    expect(listUnsubscribeHeaders({ httpsUrl: u })['List-Unsubscribe']).toBe(`<${u}>`);
    expect(() => listUnsubscribeHeaders({ httpsUrl: 'javascript:alert(1)' })).toThrow();
    expect(() => listUnsubscribeHeaders({ httpsUrl: u, mailto: 'a@b.example>\r\nBcc: x@y' })).toThrow();
    expect(() => unsubscribeMailAddress('bad domain\r\n', 'abc')).toThrow();
    // A URL with characters that would break the header is percent-encoded by URL, never passed raw.
    expect(listUnsubscribeHeaders({ httpsUrl: 'https://x.example/u/a b>c' })['List-Unsubscribe']).toBe(
      '<https://x.example/u/a%20b%3Ec>',
    );
  });
});
