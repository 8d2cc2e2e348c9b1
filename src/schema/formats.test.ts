import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, it } from 'vitest';
import { isDateTime } from './formats.ts';

describe('date-time format (TypeBox schemas compiled outside Fastify)', () => {
  it.each([
    ['2026-12-02T10:30:00Z', true],
    ['2026-12-02T10:30Z', true],
    ['2026-12-02T10:30:00.123+01:00', true],
    ['2026-12-02 10:30:00-0500', true],
    ['2026-12-02T10:30:00', false], // no zone: not an instant
    ['2026-12-02', false],
    ['2026-13-02T10:30:00Z', false],
    ['2026-02-30T10:30:00Z', true], // the pattern allows it; Date.parse rolls it over like ajv-formats' fast mode
    ['2026-12-02T24:00:00Z', false],
    ['tomorrow', false],
    ['', false],
  ])('%s → %s', (v, ok) => {
    expect(isDateTime(v)).toBe(ok);
  });
  it('is registered: a compiled schema accepts instants and refuses the rest', () => {
    const C = TypeCompiler.Compile(Type.Object({ at: Type.String({ format: 'date-time' }) }));
    expect(C.Check({ at: '2026-12-02T10:30:00Z' })).toBe(true);
    expect(C.Check({ at: 'soon' })).toBe(false);
  });
});
