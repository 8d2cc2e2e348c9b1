import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newId } from '../../store/ids.ts';
import { deriveLinkKey, MAX_TOKEN_LENGTH, peekToken, signToken, TOKEN_PURPOSES, verifyToken } from './tokens.ts';

const master = Buffer.from('0123456789abcdef0123456789abcdef');
const key = deriveLinkKey(master, 'ws_a');
const otherKey = deriveLinkKey(master, 'ws_b');
const NOW = 1_750_000_000_000;
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('signed link tokens', () => {
  it.each<[string, Record<string, string | number>]>([
    ['empty payload', {}],
    ['click', { ws: 'ws_a', m: newId('msg'), p: newId('prof'), u: 'https://shop.example/p/1?utm_source=omnia&x=é' }],
    ['unsubscribe', { ws: 'default', p: newId('prof'), t: 'newsletter', c: 'email' }],
    ['numbers', { a: 0, b: 1, c: -1, d: 2 ** 53 - 1, e: -(2 ** 53 - 1), f: 1.5, g: -0, h: 1e300, i: 127, j: 128 }],
    ['unicode keys and values', { 'ключ': '値', '🎉': '', long: 'x'.repeat(2000) }],
    ['id-like but not ids', { a: 'prof_0123456789abcdefghjkmn', b: 'prof_0123456789ABCDEFGHJKMN', c: 'prof_0123456789abcdefghjkmi', d: '_0123456789abcdefghjkmnpq' }],
  ])('round-trips %s', (_name, payload) => {
    const token = signToken(key, 'click', payload);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    const r = verifyToken(key, 'click', token, NOW);
    expect(r).toEqual({ ok: true, payload });
    if (r.ok) for (const k of Object.keys(payload)) expect(Object.is(r.payload[k], payload[k])).toBe(true);
    expect(peekToken(token)).toEqual({ payload });
  });

  it('is compact: Omnia ids are packed, the MAC is 128 bits', () => {
    const payload = { ws: newId('ws'), m: newId('msg'), p: newId('prof'), t: 'newsletter', c: 'email' };
    const token = signToken(key, 'unsubscribe', payload);
    // 1 header + 3 × (1 tag + 2 key + 1 + ~3 prefix + 14) + "t"/"c" strings + 16 MAC ≈ 100 bytes ≈ 134 chars.
    expect(token.length).toBeLessThan(140);
    expect(JSON.stringify(payload).length).toBeGreaterThan(token.length - 22);
    expect(signToken(key, 'open', {}).length).toBe(Math.ceil((17 * 4) / 3));
  });

  it('keeps a __proto__ key as data', () => {
    const payload = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    const r = verifyToken(key, 'click', signToken(key, 'click', payload), NOW);
    expect(r.ok && Object.keys(r.payload)).toEqual(['__proto__', 'a']);
    expect(r.ok && Object.getPrototypeOf(r.payload)).toBe(Object.prototype);
  });

  it('binds the purpose: wrong_purpose when signed for a known purpose, bad_signature for an unknown one', () => {
    const token = signToken(key, 'click', { ws: 'ws_a', u: 'https://x.example' });
    for (const p of TOKEN_PURPOSES.filter((p) => p !== 'click')) {
      expect(verifyToken(key, p, token, NOW)).toEqual({ ok: false, reason: 'wrong_purpose' });
    }
    expect(verifyToken(key, 'custom', token, NOW)).toEqual({ ok: false, reason: 'wrong_purpose' });
    expect(verifyToken(otherKey, 'unsubscribe', token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    const custom = signToken(key, 'custom', {});
    expect(verifyToken(key, 'custom', custom, NOW).ok).toBe(true);
    expect(verifyToken(key, 'click', custom, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('binds the key: another workspace key never verifies', () => {
    const token = signToken(key, 'click', { ws: 'ws_a' });
    expect(verifyToken(otherKey, 'click', token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(deriveLinkKey(master, 'ws_a').equals(key)).toBe(true);
    expect(deriveLinkKey(Buffer.from('another master secret!!'), 'ws_a').equals(key)).toBe(false);
    expect(key.length).toBe(32);
  });

  it.each([
    ['far future', NOW + 1, true],
    ['exactly now', NOW, false],
    ['past', NOW - 1, false],
    ['epoch', 0, false],
  ])('expiry: %s', (_n, expiresAt, ok) => {
    const token = signToken(key, 'confirm', { p: 'x' }, { expiresAt });
    const r = verifyToken(key, 'confirm', token, NOW);
    expect(r).toEqual(ok ? { ok: true, payload: { p: 'x' }, expiresAt } : { ok: false, reason: 'expired' });
  });

  it('checks the signature before the expiry', () => {
    const token = signToken(key, 'confirm', {}, { expiresAt: NOW - 1 });
    expect(verifyToken(otherKey, 'confirm', token, NOW)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'abc+def/ghi='],
    ['padding', signToken(key, 'open', {}) + '='],
    ['whitespace', ' ' + signToken(key, 'open', {})],
    ['too short', 'AAAA'],
    ['unknown version', Buffer.alloc(20, 0x20).toString('base64url')],
    ['too long', 'A'.repeat(MAX_TOKEN_LENGTH + 1)],
  ])('malformed: %s', (_n, token) => {
    expect(verifyToken(key, 'open', token, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(peekToken(token)).toBeNull();
  });

  it('flipping any character never verifies', () => {
    const token = signToken(key, 'click', { ws: 'ws_a', m: newId('msg'), u: 'https://x.example/a?b=c' }, { expiresAt: NOW + 1000 });
    for (let i = 0; i < token.length; i++) {
      for (const c of B64URL) {
        if (c === token[i]) continue;
        const bad = token.slice(0, i) + c + token.slice(i + 1);
        const r = verifyToken(key, 'click', bad, NOW);
        expect(r.ok).toBe(false);
        expect(['bad_signature', 'malformed']).toContain(!r.ok && r.reason);
      }
    }
    for (let i = 0; i < token.length; i++) {
      expect(verifyToken(key, 'click', token.slice(0, i) + token.slice(i + 1), NOW).ok).toBe(false);
    }
  });

  it('rejects bad inputs when signing', () => {
    expect(() => signToken(Buffer.alloc(8), 'click', {})).toThrow(/key/);
    expect(() => signToken(key, '', {})).toThrow(/purpose/);
    expect(() => signToken(key, 'click', { '': 'x' })).toThrow(/key/);
    expect(() => signToken(key, 'click', { ['k'.repeat(32)]: 'x' })).toThrow(/key/);
    expect(() => signToken(key, 'click', { a: NaN })).toThrow(/finite/);
    expect(() => signToken(key, 'click', { a: Infinity })).toThrow(/finite/);
    expect(() => signToken(key, 'click', { a: 1 }, { expiresAt: 1.5 })).toThrow(/expiresAt/);
    expect(() => signToken(key, 'click', { u: 'x'.repeat(MAX_TOKEN_LENGTH) })).toThrow(/longer/);
    expect(() => deriveLinkKey(Buffer.alloc(4), 'ws')).toThrow();
  });
});

describe('token properties', () => {
  const value = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ maxLength: 40 }),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom('prof', 'msg', 'ws', 'x').map((p) => newId(p)),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
  );
  const payload = fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }).filter((k) => Buffer.byteLength(k) <= 31), value, {
    maxKeys: 8,
  });

  it('random payloads round-trip', () => {
    fc.assert(
      fc.property(payload, fc.option(fc.integer({ min: 0, max: 2 ** 45 })), fc.constantFrom(...TOKEN_PURPOSES), (p, exp, purpose) => {
        const token = signToken(key, purpose, p, exp === null ? {} : { expiresAt: exp });
        const r = verifyToken(key, purpose, token, -1);
        expect(r.ok).toBe(true);
        if (r.ok) {
          expect(Object.keys(r.payload)).toEqual(Object.keys(p));
          for (const k of Object.keys(p)) expect(Object.is(r.payload[k], p[k])).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random mutations never verify', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), ch: fc.constantFrom(...B64URL) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), ch: fc.constantFrom(...B64URL) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), ch: fc.constant('') }),
      fc.record({ kind: fc.constant('bitflip' as const), at: fc.nat(), ch: fc.integer({ min: 0, max: 7 }).map(String) }),
    );
    fc.assert(
      fc.property(payload, fc.array(mutation, { minLength: 1, maxLength: 4 }), (p, muts) => {
        const token = signToken(key, 'click', p);
        let bad = token;
        for (const m of muts) {
          if (m.kind === 'bitflip') {
            const bytes = Buffer.from(bad, 'base64url');
            if (bytes.length === 0) continue;
            bytes[m.at % bytes.length]! ^= 1 << Number(m.ch);
            bad = bytes.toString('base64url');
            continue;
          }
          const i = m.at % (bad.length + (m.kind === 'insert' ? 1 : 0));
          bad = bad.slice(0, i) + m.ch + bad.slice(i + (m.kind === 'insert' ? 0 : 1));
        }
        fc.pre(bad !== token);
        expect(verifyToken(key, 'click', bad, 0).ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
