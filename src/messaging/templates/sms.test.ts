import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { smsSegments, withOptOutFooter } from './sms.ts';

const emoji = '😀'; // one code point, two UTF-16 units

describe('smsSegments', () => {
  it.each([
    ['empty', '', 'GSM-7', 0, 0],
    ['1 char', 'a', 'GSM-7', 1, 1],
    ['160 GSM-7', 'a'.repeat(160), 'GSM-7', 160, 1],
    ['161 GSM-7', 'a'.repeat(161), 'GSM-7', 161, 2],
    ['306 GSM-7 (2 × 153)', 'a'.repeat(306), 'GSM-7', 306, 2],
    ['307 GSM-7', 'a'.repeat(307), 'GSM-7', 307, 3],
    ['€ counts 2', '€', 'GSM-7', 2, 1],
    ['[ counts 2', '[', 'GSM-7', 2, 1],
    ['80 € = 160 units', '€'.repeat(80), 'GSM-7', 160, 1],
    ['158 a + € = 160', 'a'.repeat(158) + '€', 'GSM-7', 160, 1],
    ['159 a + € = 161', 'a'.repeat(159) + '€', 'GSM-7', 161, 2],
    // 306 units, but the € cannot straddle the 153 boundary: 152 | € + 151 | 1 → 3 segments, not 2.
    ['152 a + € + 153 a: € not split', 'a'.repeat(152) + '€' + 'a'.repeat(152), 'GSM-7', 306, 3],
    ['GSM accents stay GSM-7', 'é à ü Ñ ß £ ¥ §', 'GSM-7', 15, 1],
    ['newline is GSM-7', 'a\nb', 'GSM-7', 3, 1],
    ['70 UCS-2', 'ж'.repeat(70), 'UCS-2', 70, 1],
    ['71 UCS-2', 'ж'.repeat(71), 'UCS-2', 71, 2],
    ['134 UCS-2 (2 × 67)', 'ж'.repeat(134), 'UCS-2', 134, 2],
    ['135 UCS-2', 'ж'.repeat(135), 'UCS-2', 135, 3],
    ['emoji forces UCS-2, counts 2', emoji, 'UCS-2', 2, 1],
    ['emoji + 68 = 70 units', emoji + 'a'.repeat(68), 'UCS-2', 70, 1],
    ['emoji + 69 = 71 units', emoji + 'a'.repeat(69), 'UCS-2', 71, 2],
    ['66 + emoji + 67: pair not split across the 67 boundary', 'a'.repeat(66) + emoji + 'a'.repeat(66), 'UCS-2', 134, 3],
    ['67 + emoji + 65 fits 2 segments', 'a'.repeat(67) + emoji + 'a'.repeat(65), 'UCS-2', 134, 2],
    ['curly apostrophe forces UCS-2', 'It’s', 'UCS-2', 4, 1],
  ])('%s', (_name, text, encoding, units, segments) => {
    expect(smsSegments(text)).toEqual({ encoding, units, segments });
  });

  it('never needs fewer segments than units / per-segment capacity, nor more than one per character', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '€', 'ж', emoji, ' ', '['), maxLength: 400 }), (s) => {
        const r = smsSegments(s);
        const [single, part] = r.encoding === 'GSM-7' ? [160, 153] : [70, 67];
        if (r.units === 0) return r.segments === 0;
        if (r.units <= single) return r.segments === 1;
        return r.segments >= Math.ceil(r.units / part) && r.segments <= Array.from(s).length;
      }),
    );
  });
});

describe('withOptOutFooter', () => {
  it.each([
    ['adds the default line', 'Sale today', 'Sale today\nReply STOP to opt out'],
    ['trims trailing whitespace first', 'Sale today \n', 'Sale today\nReply STOP to opt out'],
    ['leaves a body that already mentions STOP', 'Sale. Text STOP to quit', 'Sale. Text STOP to quit'],
  ])('%s', (_n, body, expected) => {
    expect(withOptOutFooter(body)).toBe(expected);
  });

  it('takes a custom text', () => {
    expect(withOptOutFooter('Hi', 'STOP to end')).toBe('Hi\nSTOP to end');
  });
});
