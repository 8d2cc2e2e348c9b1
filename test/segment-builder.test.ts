// The dashboard's segment builder model (dashboard/src/segments/builder.ts) against the server's definition language
// (src/segments/definition.ts): every condition kind goes definition → rows → definition unchanged, what the rows
// produce passes the server's own checkDefinition, what the rows cannot show exactly stays in the JSON editor, and
// the API's error paths land on the right row and field. (Here, not next to builder.ts: vitest includes only
// src/ and test/.)
import { describe, expect, it } from 'vitest';
import { type Built, type Row, fromDefinition, newRow, toCondition, toDefinition } from '../dashboard/src/segments/builder.ts';
import { claimedField, incomplete, locate } from '../dashboard/src/segments/where.ts';
import { checkDefinition } from '../src/segments/definition.ts';

const W = { amount: 30, unit: 'days' };
const ev = { kind: 'event', event: 'Order Completed', op: 'performed' };
// One of each leaf kind, with the options each has (schema-valid: checked below).
const LEAVES: [string, Record<string, unknown>][] = [
  ['trait eq', { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' }],
  ['trait number as text', { kind: 'trait', trait: 'zip', op: 'eq', value: '10115' }],
  ['trait in', { kind: 'trait', trait: 'plan', op: 'in', value: ['gold', 'silver', 3] }],
  ['trait within_last', { kind: 'trait', trait: 'signed_up_at', op: 'within_last', window: { amount: 2, unit: 'weeks' } }],
  ['trait before', { kind: 'trait', trait: 'birthday', op: 'before', value: '2000-01-01' }],
  ['trait exists', { kind: 'trait', trait: 'email', op: 'exists' }],
  ['event count + filters', { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 3 }, window: { amount: 90, unit: 'days' }, filters: [{ path: 'products[].category', op: 'eq', value: 'Candles' }, { path: 'total', op: 'gt', value: 50 }] }],
  ['event ever', { kind: 'event', event: 'Signed Up', op: 'not_performed' }],
  ['event internal on a channel', { kind: 'event', event: 'Message Opened', op: 'performed', internal: true, channel: 'email', window: { amount: 45, unit: 'seconds' } }],
  ['event filter with a window', { kind: 'event', event: 'Order Completed', op: 'performed', filters: [{ path: 'shipped_at', op: 'within_last', window: { amount: 3, unit: 'days' } }] }],
  ['first_performed after', { kind: 'first_performed', event: 'Order Completed', op: 'after', value: '2026-01-01T00:00:00.000Z' }],
  ['last_performed not_within_last', { kind: 'last_performed', event: 'Order Completed', op: 'not_within_last', window: W, filters: [{ path: 'total', op: 'gte', value: 10 }] }],
  ['geo country + city', { kind: 'geo', country: ['DE', 'France'], city: ['Berlin'] }],
  ['geo near a location', { kind: 'geo', near: { location: 'berlin-mitte', km: 10 } }],
  ['geo near a point', { kind: 'geo', country: ['DE'], near: { lat: 52.52, lon: 13.405, km: 2.5 } }],
  ['engagement', { kind: 'engagement', action: 'opened', channel: 'email', window: W }],
  ['engagement any channel, negated', { kind: 'engagement', action: 'clicked', negate: true }],
  ['reachable', { kind: 'reachable', channel: 'sms', topic: 'marketing', require: 'subscribed' }],
  ['computed', { kind: 'computed', property: 'total_spent', op: 'between', value: [1000, 5000] }],
  ['computed custom', { kind: 'computed', property: 'custom.candle_spend_30d', op: 'gt', value: 100 }],
  ['rfm stage', { kind: 'computed', property: 'rfm_stage', op: 'in', value: ['Champions', "Can't lose them"] }],
  ['segment negated', { kind: 'segment', segmentId: 'seg_1', negate: true }],
  ['list', { kind: 'list', listId: 'lst_1' }],
  ['list negated', { kind: 'list', listId: 'lst_1', negate: true }],
];
const TREES: [string, unknown][] = [
  ['all of every leaf', { kind: 'and', conditions: LEAVES.map(([, c]) => c) }],
  ['any of', { kind: 'or', conditions: [LEAVES[0]![1], LEAVES[13]![1]] }],
  ['NOT per row', { kind: 'and', conditions: [{ kind: 'not', condition: LEAVES[0]![1] }, { kind: 'not', condition: LEAVES[12]![1] }, ev] }],
  ['nested OR inside AND', { kind: 'and', conditions: [ev, { kind: 'or', conditions: [LEAVES[15]![1], LEAVES[13]![1]] }] }],
  ['NOT group, three deep', { kind: 'or', conditions: [{ kind: 'not', condition: { kind: 'and', conditions: [ev, { kind: 'or', conditions: [LEAVES[22]![1], { kind: 'not', condition: LEAVES[17]![1] }] }] } }] }],
  ['one condition alone', LEAVES[6]![1]],
  ['one NOT condition alone', { kind: 'not', condition: LEAVES[11]![1] }],
  ['a NOT group alone', { kind: 'not', condition: { kind: 'or', conditions: [ev, LEAVES[0]![1]] } }],
];

describe('segment builder ↔ definition', () => {
  it.each([...LEAVES.map(([n, c]) => [`leaf: ${n}`, { kind: 'and', conditions: [c] }] as [string, unknown]), ...TREES])('%s: round trips exactly and the server accepts it', (_name, def) => {
    expect(checkDefinition(def), 'the fixture itself is valid').toBeNull();
    const built = fromDefinition(def);
    expect(built, 'the rows can show it').not.toBeNull();
    const back = toDefinition(built!);
    expect(back).toEqual(def);
    expect(checkDefinition(back)).toBeNull();
    // and once more through the rows: stable
    expect(toDefinition(fromDefinition(back)!)).toEqual(def);
  });

  it('covers every leaf kind of the schema', () => {
    const kinds = new Set(LEAVES.map(([, c]) => c.kind));
    for (const k of ['trait', 'event', 'first_performed', 'last_performed', 'geo', 'reachable', 'engagement', 'computed', 'segment', 'list']) expect(kinds, k).toContain(k);
  });

  // New rows, filled in the way a marketer would: what they produce is valid for the server.
  const filled = (r: Row): Row => {
    switch (r.kind) {
      case 'trait':
        return { ...r, trait: 'plan', value: 'gold' };
      case 'event':
      case 'when':
        return { ...r, event: 'Order Completed' };
      case 'segment':
        return { ...r, segmentId: 'seg_x' };
      case 'list':
        return { ...r, listId: 'lst_x' };
      case 'rfm':
        return { ...r, stages: ['Champions'] };
      case 'geo':
        return { ...r, countries: 'DE, FR' };
      case 'group':
        return { ...r, rows: [filled(newRow('engagement')), filled(newRow('geo'))] };
      default:
        return r;
    }
  };
  it.each(['trait', 'event', 'when', 'geo', 'engagement', 'segment', 'list', 'reachable', 'rfm', 'computed', 'group'] as const)('a new %s row, filled in, is valid and round trips', (kind) => {
    for (const negate of [false, true]) {
      const row = { ...filled(newRow(kind)), negate };
      const def = toDefinition({ match: 'and', rows: [row] });
      expect(checkDefinition(def)).toBeNull();
      expect(toDefinition(fromDefinition(def)!)).toEqual(def);
      expect(incomplete([row])).toBe(false);
      expect(incomplete([newRow(kind)]), 'an unfilled row waits').toBe(!['engagement', 'reachable', 'computed'].includes(kind));
    }
  });

  it.each<[string, unknown]>([
    ['a double NOT', { kind: 'not', condition: { kind: 'not', condition: ev } }],
    ['NOT around a segment (it has its own negate)', { kind: 'not', condition: { kind: 'segment', segmentId: 's' } }],
    ['a value with a comma in a list', { kind: 'trait', trait: 'a', op: 'in', value: ['x,y'] }],
    ['an unknown field', { kind: 'trait', trait: 'a', op: 'eq', value: 1, note: 'x' }],
    ['rfm stage by eq', { kind: 'computed', property: 'rfm_stage', op: 'eq', value: 'Lost' }],
    ['a geo city with a comma', { kind: 'geo', city: ['Washington, D.C.'] }],
    ['an explicit default the rows would drop', { kind: 'segment', segmentId: 's', negate: false }],
    ['an unknown kind', { kind: 'weather', sunny: true }],
  ])('%s stays in the JSON editor', (_n, def) => {
    expect(fromDefinition(def)).toBeNull();
  });

  it('what the rows produce from bad input is refused by the server at the path the builder shows', () => {
    const eng = { ...newRow('engagement'), window: { amount: '0', unit: 'days' } } as Row;
    const geo = { ...newRow('geo'), near: 'location', location: 'store-1', km: '' } as Row;
    const group = { ...newRow('group'), rows: [newRow('reachable'), eng] } as Row;
    const b: Built = { match: 'and', rows: [{ ...newRow('trait'), trait: 'plan', value: 'x' } as Row, group, { ...geo, negate: true }] };
    const err = checkDefinition(toDefinition(b))!;
    expect(err.path).toBe('conditions.1.conditions.1.window.amount');
    expect(locate(`definition.${err.path}`, b)).toEqual({ at: '1.1', path: 'window.amount' });
    b.rows[1] = { ...group, rows: [newRow('reachable')] } as Row;
    const err2 = checkDefinition(toDefinition(b))!;
    expect(err2.path).toBe('conditions.2.condition.near'); // km: '' is sent as null, not as a silent 0
    const at = locate(`definition.${err2.path}`, b)!;
    expect(at).toEqual({ at: '2', path: 'near' });
    expect(claimedField(b.rows[2]!, at.path)).toBe('near.km');
  });

  it.each<[string, Built, string, { at: string; path: string } | null]>([
    ['a NOT group', { match: 'or', rows: [{ ...newRow('group'), negate: true, rows: [newRow('trait'), newRow('event')] } as Row] }, 'definition.conditions.0.condition.conditions.1.event', { at: '0.1', path: 'event' }],
    ['a single condition', { match: 'and', single: true, rows: [{ ...newRow('event'), negate: true } as Row] }, 'definition.condition.window.amount', { at: '0', path: 'window.amount' }],
    ['a native negate', { match: 'and', rows: [{ ...newRow('segment'), negate: true } as Row] }, 'definition.conditions.0.segmentId', { at: '0', path: 'segmentId' }],
    ['an empty group', { match: 'and', rows: [newRow('group')] }, 'definition.conditions.0.conditions', { at: '0', path: 'conditions' }],
    ['the root', { match: 'and', rows: [] }, 'definition.conditions', null],
    ['another field', { match: 'and', rows: [] }, 'name', null],
  ])('locates an error in %s', (_n, b, field, want) => {
    expect(locate(field, b)).toEqual(want);
  });

  it('a NOT on a segment, list or engagement row uses its own negate, not a wrapper', () => {
    for (const k of ['segment', 'list', 'engagement'] as const) expect(toCondition({ ...newRow(k), negate: true })).toMatchObject({ kind: k, negate: true });
    expect(toCondition({ ...newRow('geo'), negate: true })).toMatchObject({ kind: 'not', condition: { kind: 'geo' } });
  });
});
