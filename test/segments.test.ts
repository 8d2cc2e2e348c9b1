// Segments over HTTP on both backends, with an injected clock: real-time entry, exit at the exact second,
// references, lists, preview, members with why, history, versions, bad definitions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MembershipChange } from '../src/segments/engine.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const DAY = 86_400_000;

describe.each(BACKENDS)('segments (%s)', (backend) => {
  let o: TestOmnia;
  let now = Date.UTC(2026, 2, 1, 9, 0, 0);
  const changes: MembershipChange[] = [];
  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    o.rt.segments.subscribe((c) => changes.push(c));
  });
  afterAll(async () => {
    await o?.close();
  });

  const iso = (t: number) => new Date(t).toISOString();
  const create = async (name: string, definition: unknown) => {
    const r = await o.api('POST', '/api/segments?wait=true', { name, definition });
    if (r.status !== 201) throw new Error(JSON.stringify(r.body));
    return r.body;
  };
  const members = async (id: string) => (await o.api('GET', `/api/segments/${id}/members?limit=500`)).body.members.map((m: any) => m.profileId).sort();
  const pid = async (userId: string) => (await o.api('GET', `/api/profiles/lookup?userId=${userId}`)).body.id;

  it('a purchase enters "bought in the last 30 days" at once; 30 days later it leaves at the exact second', async () => {
    const seg = await create('Recent buyers', { kind: 'event', event: 'Order Completed', op: 'performed', window: { amount: 30, unit: 'days' } });
    expect(seg.members).toBe(0);
    const boughtAt = now;
    await o.track('/v1/track', { userId: 'buyer-1', event: 'Order Completed', properties: { total: 40, currency: 'EUR' }, timestamp: iso(boughtAt) });
    await o.settle();
    const id = await pid('buyer-1');
    expect(await members(seg.id)).toEqual([id]);
    expect(changes.find((c) => c.profileId === id && c.segmentId === seg.id)).toMatchObject({ change: 'entered' });

    now += 30 * DAY - 1000; // one second before expiry: still in
    await o.settle();
    expect(await members(seg.id)).toEqual([id]);
    now += 5000; // a little after: out, and the change is dated at the exact expiry
    await o.settle();
    expect(await members(seg.id)).toEqual([]);
    const left = changes.find((c) => c.profileId === id && c.change === 'left');
    expect(left?.at).toBe(boughtAt + 30 * DAY);
    const history = (await o.api('GET', `/api/profiles/${id}/segments`)).body.history;
    expect(history.map((h: any) => [h.change, h.at])).toEqual([
      ['left', boughtAt + 30 * DAY],
      ['entered', boughtAt],
    ]);
    expect(history[0].cause).toBe('time');
  });

  it('bad definitions are refused with the path in the tree, and nothing is saved', async () => {
    const before = (await o.api('GET', '/api/segments')).body.segments.length;
    const bad = [
      { name: 'x', definition: { kind: 'and', conditions: [{ kind: 'trait', trait: 'a', op: 'exists' }, { kind: 'event', event: 'E', op: 'performed', window: { amount: 0, unit: 'days' } }] } },
      { name: 'x', definition: { kind: 'trait', trait: 'a', op: 'matches', value: '(a*)*b' } },
      { name: 'x', definition: { kind: 'segment', segmentId: 'seg_missing' } },
      { name: '', definition: { kind: 'trait', trait: 'a', op: 'exists' } },
      { name: 'x' },
      { name: 'x', definition: { kind: 'trait', trait: 'a', op: 'exists' }, colour: 'red' },
    ];
    const fields = [];
    for (const b of bad) {
      const r = await o.api('POST', '/api/segments', b);
      expect(r.status).toBe(400);
      fields.push(r.body.error.field);
    }
    expect(fields[0]).toBe('definition.conditions.1.window.amount');
    expect(fields[1]).toBe('definition.value');
    expect(fields[3]).toBe('name');
    expect(fields[4]).toBe('definition');
    expect((await o.api('GET', '/api/segments')).body.segments.length).toBe(before);
  });

  it('references, cycles, lists, preview, members with why, CSV export, versions and archive', async () => {
    for (const [u, country, n] of [
      ['de-1', 'Germany', 3],
      ['de-2', 'DE', 1],
      ['fr-1', 'France', 4],
    ] as const) {
      await o.track('/v1/identify', { userId: u, traits: { email: `${u}@example.com`, country }, timestamp: iso(now) });
      for (let i = 0; i < n; i++) await o.track('/v1/track', { userId: u, event: 'Order Completed', properties: { total: 10 }, timestamp: iso(now - i * DAY) });
    }
    await o.settle();
    const frequent = await create('3+ orders in 90 days', { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 3 }, window: { amount: 90, unit: 'days' } });
    const germanFrequent = await create('German frequent buyers', { kind: 'and', conditions: [{ kind: 'segment', segmentId: frequent.id }, { kind: 'geo', country: ['DE'] }] });
    expect(await members(germanFrequent.id)).toEqual([await pid('de-1')]);

    // A cycle through references is refused.
    const cyc = await o.api('PATCH', `/api/segments/${frequent.id}`, { definition: { kind: 'segment', segmentId: germanFrequent.id } });
    expect(cyc.status).toBe(400);
    expect(cyc.body.error.message).toContain('cycle');

    // de-2 buys twice more → enters frequent, and (through the reference) the German segment too.
    for (let i = 0; i < 2; i++) await o.track('/v1/track', { userId: 'de-2', event: 'Order Completed', properties: { total: 10 }, timestamp: iso(now) });
    await o.settle();
    expect(await members(germanFrequent.id)).toEqual([await pid('de-1'), await pid('de-2')].sort());

    // Each member says who they are (email, user id; a name when the traits have one), not only the profile id.
    const listed = (await o.api('GET', `/api/segments/${germanFrequent.id}/members`)).body.members;
    expect(listed.map((m: any) => ({ email: m.email, userId: m.userId })).sort((a: any, b: any) => a.userId.localeCompare(b.userId))).toEqual([
      { email: 'de-1@example.com', userId: 'de-1' },
      { email: 'de-2@example.com', userId: 'de-2' },
    ]);
    const why = (await o.api('GET', `/api/segments/${germanFrequent.id}/members`)).body.members[0].why;
    expect(why.value).toBe(true);
    expect(why.children.map((c: any) => c.kind)).toEqual(['segment', 'geo']);

    const preview = (await o.api('POST', '/api/segments/preview', { definition: { kind: 'geo', country: ['France'] } })).body;
    expect(preview.count).toBe(1);
    expect((await o.api('POST', '/api/segments/preview', { definition: { kind: 'geo' } })).status).toBe(400);

    const csv = await fetch(`${o.url}/api/segments/${germanFrequent.id}/export.csv`, { headers: { authorization: `Bearer ${o.adminKey}` } });
    const text = await csv.text();
    expect(text.split('\r\n')[0]).toBe('profile_id,user_id,email,phone,entered_at');
    expect(text).toContain('de-1@example.com');

    // A manual list, used by a segment.
    const list = (await o.api('POST', '/api/lists', { name: 'VIP' })).body;
    const inList = await create('VIPs', { kind: 'list', listId: list.id });
    const added = (await o.api('POST', `/api/lists/${list.id}/members`, { add: [{ userId: 'fr-1' }, { email: 'nobody@example.com' }] })).body;
    expect(added).toMatchObject({ added: 1, unknown: [{ index: 1 }] });
    await o.settle();
    expect(await members(inList.id)).toEqual([await pid('fr-1')]);
    const up = await fetch(`${o.url}/api/lists/${list.id}/upload`, { method: 'POST', headers: { authorization: `Bearer ${o.adminKey}`, 'content-type': 'text/csv' }, body: 'email\nde-2@example.com\n' });
    expect((await up.json()).added).toBe(1);
    await o.settle();
    expect(await members(inList.id)).toEqual([await pid('fr-1'), await pid('de-2')].sort());
    await o.api('POST', `/api/lists/${list.id}/members`, { remove: [{ userId: 'fr-1' }] });
    await o.settle();
    expect(await members(inList.id)).toEqual([await pid('de-2')]);

    // A new version recomputes; versions are kept; a segment in use cannot be archived.
    const v2 = await o.api('PATCH', `/api/segments/${frequent.id}?wait=true`, { definition: { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 4 }, window: { amount: 90, unit: 'days' } } });
    expect(v2.body.version).toBe(2);
    expect(await members(frequent.id)).toEqual([await pid('fr-1')]);
    expect((await o.api('GET', `/api/segments/${frequent.id}/versions`)).body.versions.map((v: any) => v.version)).toEqual([2, 1]);
    expect((await o.api('DELETE', `/api/segments/${frequent.id}`)).status).toBe(409);
    expect((await o.api('DELETE', `/api/segments/${germanFrequent.id}`)).status).toBe(200);
    expect((await o.api('DELETE', `/api/segments/${frequent.id}`)).status).toBe(200);
    expect((await o.api('GET', `/api/segments/${frequent.id}/members`)).body.members).toEqual([]);
  });

  it('a merge moves membership to the surviving person', async () => {
    const seg = await create('Viewed candles', { kind: 'event', event: 'Product Viewed', op: 'performed', filters: [{ path: 'category', op: 'eq', value: 'Candles' }] });
    await o.track('/v1/identify', { userId: 'merge-u', traits: { name: 'M' }, timestamp: iso(now - DAY) });
    await o.settle();
    await o.track('/v1/track', { anonymousId: 'merge-anon', event: 'Product Viewed', properties: { category: 'Candles' }, timestamp: iso(now) });
    await o.settle();
    const anonId = (await o.api('GET', '/api/profiles/lookup?anonymousId=merge-anon')).body.id;
    expect(await members(seg.id)).toEqual([anonId]);
    await o.track('/v1/identify', { userId: 'merge-u', anonymousId: 'merge-anon', timestamp: iso(now) });
    await o.settle();
    const userId = await pid('merge-u');
    expect(userId).not.toBe(anonId);
    expect(await members(seg.id)).toEqual([userId]);
  });

  it('user-defined computed properties: define, use in a segment, read on the profile; bad input refused', async () => {
    const bad = await o.api('PUT', '/api/computed-properties/Bad-Name', { definition: { event: 'E', agg: 'count' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('name');
    expect((await o.api('PUT', '/api/computed-properties/spend', { definition: { event: 'E', agg: 'sum' } })).body.error.field).toBe('definition.path');
    expect((await o.api('PUT', '/api/computed-properties/spend', { definition: { event: 'E', agg: 'median', path: 'x' } })).body.error.field).toBe('definition.agg');
    expect((await o.api('POST', '/api/segments', { name: 'x', definition: { kind: 'computed', property: 'custom.nope', op: 'gt', value: 1 } })).status).toBe(400);

    const put = await o.api('PUT', '/api/computed-properties/candle_spend_30d', {
      definition: { event: 'Order Completed', agg: 'sum', path: 'total', window: { amount: 30, unit: 'days' }, filters: [{ path: 'products[].category', op: 'eq', value: 'Candles' }] },
    });
    expect(put.status).toBe(200);
    const seg = await create('Candle lovers', { kind: 'computed', property: 'custom.candle_spend_30d', op: 'gte', value: 50 });
    await o.track('/v1/track', { userId: 'candle-1', event: 'Order Completed', properties: { total: 30, products: [{ category: 'Candles' }] }, timestamp: iso(now) });
    await o.settle();
    expect(await members(seg.id)).toEqual([]);
    await o.track('/v1/track', { userId: 'candle-1', event: 'Order Completed', properties: { total: 25, products: [{ category: 'Candles' }] }, timestamp: iso(now) });
    await o.settle();
    const id = await pid('candle-1');
    expect(await members(seg.id)).toEqual([id]);
    const computed = (await o.api('GET', `/api/profiles/${id}/computed`)).body;
    expect(computed).toMatchObject({ orders: 2, total_spent: 5500, custom: { candle_spend_30d: 55 } });
    expect((await o.api('DELETE', '/api/computed-properties/candle_spend_30d')).status).toBe(409);
  });

  it('near a named store location; moving the store recomputes', async () => {
    expect((await o.api('PUT', '/api/locations/berlin-mitte', { name: 'Berlin Mitte', lat: 91, lon: 0 })).status).toBe(400);
    expect((await o.api('PUT', '/api/locations/berlin-mitte', { name: 'Berlin Mitte', lat: 52.52, lon: 13.405 })).status).toBe(200);
    expect((await o.api('POST', '/api/segments', { name: 'x', definition: { kind: 'geo', near: { location: 'nowhere', km: 5 } } })).status).toBe(400);
    await o.track('/v1/identify', { userId: 'near-1', traits: { address: { city: 'Berlin', latitude: 52.5, longitude: 13.45 } }, timestamp: iso(now) });
    await o.track('/v1/identify', { userId: 'far-1', traits: { address: { city: 'Munich', latitude: 48.14, longitude: 11.58 } }, timestamp: iso(now) });
    await o.settle();
    const seg = await create('Near the Berlin store', { kind: 'geo', near: { km: 10, location: 'berlin-mitte' } });
    expect(await members(seg.id)).toEqual([await pid('near-1')]);
    expect((await o.api('DELETE', '/api/locations/berlin-mitte')).status).toBe(409);
    await o.api('PUT', '/api/locations/berlin-mitte', { name: 'Munich now', lat: 48.137, lon: 11.575 });
    await o.rt.segments.recompute('default');
    expect(await members(seg.id)).toEqual([await pid('far-1')]);
  });

  it('RFM stages for every customer, usable in segments', async () => {
    const r = await o.api('POST', '/api/rfm/recompute');
    expect(r.status).toBe(200);
    const customers = Number(
      (
        await o.rt.store.db
          .selectFrom('events as e')
          .innerJoin('profiles as p', (j) => j.onRef('p.id', '=', 'e.profile_id'))
          .select((eb) => eb.fn.count<number>('p.canonical_id').distinct().as('n'))
          .where('e.event', '=', 'Order Completed')
          .executeTakeFirst()
      )?.n,
    );
    const total = Object.values(r.body.stages as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(total).toBe(customers);
    const champions = await create('Champions', { kind: 'computed', property: 'rfm_stage', op: 'eq', value: 'Champions' });
    expect(champions.members).toBe(r.body.stages.Champions);
  });
});
