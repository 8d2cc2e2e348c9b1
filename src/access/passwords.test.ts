// Password hashes: salted per hash, parameters stored with it, verified in constant time, tampering refused.
import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

describe('passwords', () => {
  it('hashes with scrypt, a fresh salt each time, the parameters stored with the hash', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('verifies hashes made with other parameters (they travel with the hash)', async () => {
    const light = await hashPassword('another password', { N: 1 << 10, r: 8, p: 1, keyLen: 32 });
    expect(light.startsWith('scrypt$1024$8$1$')).toBe(true);
    expect(await verifyPassword('another password', light)).toBe(true);
  });

  it('refuses malformed or tampered hashes instead of trusting their parameters', async () => {
    const h = await hashPassword('correct horse battery');
    const [, , r, p, salt, key] = h.split('$');
    for (const bad of ['', 'plain', `bcrypt$32768$${r}$${p}$${salt}$${key}`, `scrypt$1000$${r}$${p}$${salt}$${key}`, `scrypt$${1 << 24}$${r}$${p}$${salt}$${key}`, `scrypt$32768$${r}$${p}$${salt}$`]) {
      expect(await verifyPassword('correct horse battery', bad)).toBe(false);
    }
  });

  it('requires at least 10 characters', () => {
    expect(passwordProblem('123456789')).toMatch(/at least 10/);
    expect(passwordProblem('1234567890')).toBeNull();
    expect(passwordProblem(12345678901)).toMatch(/string/);
    expect(passwordProblem('x'.repeat(2000))).toMatch(/at most/);
  });
});
