import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { orderRevenue } from '../ingest/normalize.ts';
import { minorToMajor, parseDecimal, toMinor } from './money.ts';

describe('exact order totals', () => {
  it('parses plain decimals at 10^-6', () => {
    expect(parseDecimal('2.55')).toBe(2_550_000n);
    expect(parseDecimal('-11062.06')).toBe(-11_062_060_000n);
    expect(parseDecimal('0.001')).toBe(1_000n);
    expect(parseDecimal('.5')).toBe(500_000n);
    expect(parseDecimal('3.')).toBe(3_000_000n);
    expect(parseDecimal(' 7 ')).toBe(7_000_000n);
    expect(parseDecimal('(12.50)')).toBe(-12_500_000n);
    expect(parseDecimal('1.2500000')).toBe(1_250_000n);
    for (const bad of ['', '-', '.', '1e3', '1,5', 'abc', '1.0000001', '--1']) expect(parseDecimal(bad)).toBeNull();
  });

  it('rounds an order once, half away from zero', () => {
    const amount = (lines: [string, string][]) => lines.reduce((s, [p, q]) => s + parseDecimal(p)! * parseDecimal(q)!, 0n);
    expect(toMinor(amount([['2.55', '6'], ['3.39', '6']]), 2)).toBe(3564);
    // Three 0.001 lines are 0.003: nothing in cents; 5 of them are 0.005 → 1 cent.
    expect(toMinor(amount([['0.001', '3']]), 2)).toBe(0);
    expect(toMinor(amount([['0.001', '5']]), 2)).toBe(1);
    expect(toMinor(amount([['0.001', '-5']]), 2)).toBe(-1);
    expect(toMinor(amount([['0.125', '1']]), 3)).toBe(125);
    expect(toMinor(amount([['1500', '1']]), 0)).toBe(1500);
  });

  it('normalizeCall reads back exactly the minor units a total carries', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e11, max: 1e11 }), fc.constantFrom(0, 2, 3), (minor, digits) => {
        const currency = digits === 0 ? 'JPY' : digits === 3 ? 'KWD' : 'GBP';
        const r = orderRevenue('Order Completed', { total: minorToMajor(minor, digits), currency });
        expect(r?.minor).toBe(minor);
      }),
    );
  });
});
