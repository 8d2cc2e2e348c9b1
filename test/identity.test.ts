// The identity graph end to end over HTTP, on both backends: the phone → login → store purchase → link journey,
// undo, conflicts between userIds, and merges racing each other.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

describe.each(BACKENDS)('identity graph (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  const profileBy = async (q: string) => (await o.api('GET', `/api/profiles/lookup?${q}`)).body;
  const snapshot = async (id: string) => {
    const p = (await o.api("GET", `/api/profiles/${id}`)).body;
    if (!p.identifiers) throw new Error(JSON.stringify(p));
    const ev = (await o.api('GET', `/api/profiles/${id}/events?limit=500&internal=false`)).body;
    return {
      id: p.id,
      identifiers: p.identifiers.map((i: any) => `${i.kind}:${i.value}`).sort(),
      traits: p.traits,
      events: ev.events.map((e: any) => e.messageId).sort(),
      orders: p.computed.orders,
    };
  };

  it('phone browsing, login, store purchase by phone, then a link → one profile; undo restores both exactly', async () => {
    // An existing customer account, created earlier.
    expect((await o.track('/v1/identify', { messageId: 'acc-1', userId: 'cust-42', traits: { email: 'Ann@Example.com', name: 'Ann' } })).status).toBe(200);
    await o.settle();
    // Anonymous browsing on a phone.
    for (let i = 0; i < 3; i++) {
      await o.track('/v1/page', { messageId: `pv-${i}`, anonymousId: 'phone-anon-1', name: 'Product', properties: { path: `/p/${i}` }, context: { device: { type: 'mobile' } } });
    }
    await o.settle();
    const anon = await profileBy('anonymousId=phone-anon-1');
    const account = await profileBy('userId=cust-42');
    expect(anon.id).not.toBe(account.id);

    // Login on the phone: the anonymous profile joins the (older) account.
    await o.track('/v1/identify', { messageId: 'login-1', userId: 'cust-42', anonymousId: 'phone-anon-1', traits: { email: 'ann@example.com' } });
    await o.settle();
    expect((await profileBy('anonymousId=phone-anon-1')).id).toBe(account.id);

    // A purchase in the store identified only by a phone number → its own profile for now.
    await o.track('/v1/track', {
      messageId: 'pos-1',
      event: 'Order Completed',
      properties: { order_id: 'S-1', total: 30, currency: 'GBP', products: [{ product_id: 'candle', price: 30, quantity: 1 }] },
      context: { channel: 'store', traits: { phone: '+44 7700 900123' } },
    });
    await o.settle();
    const store = await profileBy('phone=%2B447700900123');
    expect(store.id).not.toBe(account.id);
    const beforeAccount = await snapshot(account.id);
    const beforeStore = await snapshot(store.id);
    expect(beforeStore.orders).toBe(1);

    // The customer adds the phone to their account → the store profile merges in.
    await o.track('/v1/identify', { messageId: 'link-1', userId: 'cust-42', traits: { phone: '07700 900123', country: 'GB' } });
    await o.settle();
    const merged = await profileBy('phone=%2B447700900123');
    expect(merged.id).toBe(account.id);
    expect(merged.identifiers.map((i: any) => i.kind).sort()).toEqual(['anonymous_id', 'email', 'phone', 'user_id']);
    expect(merged.computed.orders).toBe(1);
    expect(merged.computed.channelsUsed).toEqual(expect.arrayContaining(['store', 'web']));
    const timeline = (await o.api('GET', `/api/profiles/${account.id}/events?limit=500&internal=false`)).body.events.map((e: any) => e.messageId);
    expect(timeline).toEqual(expect.arrayContaining(['acc-1', 'pv-0', 'pv-1', 'pv-2', 'login-1', 'pos-1', 'link-1']));

    // Every merge is in the log with its cause.
    const log = (await o.api('GET', `/api/profiles/merges?profileId=${account.id}`)).body.merges;
    expect(log).toHaveLength(2);
    expect(log[0].cause).toMatchObject({ kind: 'event', messageId: 'link-1', identifier: { kind: 'phone', value: '+447700900123' } });
    expect(log[1].cause).toMatchObject({ kind: 'event', messageId: 'login-1', identifier: { kind: 'anonymous_id', value: 'phone-anon-1' } });
    expect(log[0].survivorId).toBe(account.id);

    // Undo the last merge: both profiles exactly as before it (the linking identify stays in the account's timeline).
    const undo = await o.api('POST', `/api/profiles/merges/${log[0].id}/undo`);
    expect(undo.status).toBe(200);
    const afterAccount = await snapshot(account.id);
    const afterStore = await snapshot(store.id);
    expect(afterStore).toEqual(beforeStore);
    expect({ ...afterAccount, events: afterAccount.events.filter((m: string) => m !== 'link-1') }).toEqual(beforeAccount);
    expect((await profileBy('phone=%2B447700900123')).id).toBe(store.id);
    // Undoing twice is refused; an unknown merge is 404.
    expect((await o.api('POST', `/api/profiles/merges/${log[0].id}/undo`)).status).toBe(409);
    expect((await o.api('POST', `/api/profiles/merges/mrg_nope/undo`)).status).toBe(404);

    // The same link again is not merged silently: it goes to the review queue.
    await o.track('/v1/identify', { messageId: 'link-2', userId: 'cust-42', traits: { phone: '+447700900123' } });
    await o.settle();
    expect((await profileBy('phone=%2B447700900123')).id).toBe(store.id);
    const conflicts = (await o.api('GET', '/api/identity/conflicts')).body.conflicts;
    expect(conflicts.some((c: any) => c.reason.includes('undone merge'))).toBe(true);
  });

  it('searches by name (first, last, full, the name trait) as well as identifiers; a merged person answers with the survivor', async () => {
    const people = [
      { userId: 'nm-1', traits: { email: 'zed.one@example.com', first_name: 'Zelda', last_name: 'Quimby' } },
      { userId: 'nm-2', traits: { email: 'zed.two@example.com', firstName: 'Zachary', lastName: 'Quill' } },
      { userId: 'nm-3', traits: { email: 'zed.three@example.com', name: 'Quentin Zorro' } },
      { userId: 'nm-4', traits: { email: 'zed.four@example.com', first_name: 'Percy_%' } },
    ];
    for (const p of people) expect((await o.track('/v1/identify', p)).status).toBe(200);
    await o.settle();
    const search = async (q: string) => {
      const r = await o.api('GET', `/api/profiles?search=${encodeURIComponent(q)}`);
      expect(r.status).toBe(200);
      return r.body.profiles as { profileId: string; name?: string; matched: { kind: string; value: string }[] }[];
    };
    const ids = Object.fromEntries(await Promise.all(people.map(async (p) => [p.userId, (await profileBy(`userId=${p.userId}`)).id])));
    // Last names (snake_case and camelCase traits), case-insensitive prefix
    expect((await search('qui')).map((h) => h.profileId).sort()).toEqual([ids['nm-1'], ids['nm-2']].sort());
    expect((await search('qui')).find((h) => h.profileId === ids['nm-1'])!.matched).toEqual([{ kind: 'name', value: 'Zelda Quimby' }]);
    // Full name and the name trait
    expect((await search('zelda q')).map((h) => h.profileId)).toEqual([ids['nm-1']]);
    expect((await search('Quentin')).map((h) => h.profileId)).toEqual([ids['nm-3']]);
    expect((await search('zorro')).map((h) => h.profileId)).toEqual([ids['nm-3']]);
    // Identifiers still match first; a profile matched both ways is listed once, with its name
    const zed = await search('zed.');
    expect(zed.map((h) => h.profileId).sort()).toEqual(Object.values(ids).sort());
    expect(zed.find((h) => h.profileId === ids['nm-1'])!.matched.map((m) => m.kind)).toEqual(['email']);
    // LIKE wildcards in the text are literal
    expect((await search('percy_%')).map((h) => h.profileId)).toEqual([ids['nm-4']]);
    expect(await search('p%')).toEqual([]);
    expect(await search('nobody-by-this-name')).toEqual([]);
    // After a merge, only the survivor answers to the name
    expect((await o.track('/v1/identify', { anonymousId: 'nm-anon', traits: { first_name: 'Quincy' } })).status).toBe(200);
    await o.settle();
    const anonId = (await profileBy('anonymousId=nm-anon')).id;
    expect((await search('quincy')).map((h) => h.profileId)).toEqual([anonId]);
    expect((await o.track('/v1/identify', { userId: 'nm-3', anonymousId: 'nm-anon' })).status).toBe(200);
    await o.settle();
    const survivor = (await profileBy('anonymousId=nm-anon')).id;
    expect(survivor).toBe((await profileBy('userId=nm-3')).id);
    // The person answers to the names of both their profiles, as the survivor.
    expect((await search('quincy')).map((h) => h.profileId)).toEqual([survivor]);
    expect((await search('quentin')).map((h) => h.profileId)).toEqual([survivor]);
  });

  it('channels used: a web visit and a store order count; a server-side call and an import do not', async () => {
    await o.track('/v1/page', { messageId: 'ch-web', userId: 'chan-1', name: 'Home', context: { channel: 'web' } });
    await o.track('/v1/track', { messageId: 'ch-srv', userId: 'chan-1', event: 'Subscription Renewed', context: { channel: 'server' } });
    await o.track('/v1/track', { messageId: 'ch-imp', userId: 'chan-1', event: 'Order Completed', properties: { total: 5 }, context: { channel: 'import' } });
    await o.settle();
    const p = await profileBy('userId=chan-1');
    expect(p.computed.channelsUsed).toEqual(['web']);
    const computed = (await o.api('GET', `/api/profiles/${p.id}/computed`)).body;
    expect(computed).toMatchObject({ channels_used: 1, omnichannel: false });
    await o.track('/v1/track', { messageId: 'ch-store', userId: 'chan-1', event: 'Order Completed', properties: { total: 7 }, context: { channel: 'store' } });
    await o.settle();
    expect((await profileBy('userId=chan-1')).computed.channelsUsed).toEqual(['store', 'web']);
  });

  it('two different userIds never merge; the conflict is resolved by API', async () => {
    await o.track('/v1/identify', { userId: 'u-a', traits: { email: 'shared@example.com' } });
    await o.settle();
    await o.track('/v1/identify', { userId: 'u-b', traits: { email: 'shared@example.com' } });
    await o.settle();
    const a = await profileBy('userId=u-a');
    const b = await profileBy('userId=u-b');
    expect(a.id).not.toBe(b.id);
    const open = (await o.api('GET', '/api/identity/conflicts')).body.conflicts.filter((c: any) => [c.profileA, c.profileB].includes(a.id));
    expect(open).toHaveLength(1);
    expect((await o.api('POST', `/api/identity/conflicts/${open[0].id}/resolve`, { action: 'explode' })).status).toBe(400);
    const res = await o.api('POST', `/api/identity/conflicts/${open[0].id}/resolve`, { action: 'merge' });
    expect(res.status).toBe(200);
    expect((await profileBy('userId=u-b')).id).toBe((await profileBy('userId=u-a')).id);
    expect((await o.api('POST', `/api/identity/conflicts/${open[0].id}/resolve`, { action: 'merge' })).status).toBe(409);
  });

  it('alias links an anonymous id to a user', async () => {
    await o.track('/v1/track', { anonymousId: 'anon-alias', event: 'Product Viewed', properties: { product_id: 'x' } });
    await o.track('/v1/identify', { userId: 'alias-user', traits: { name: 'Al' } });
    await o.settle();
    await o.track('/v1/alias', { previousId: 'anon-alias', userId: 'alias-user' });
    await o.settle();
    expect((await profileBy('anonymousId=anon-alias')).id).toBe((await profileBy('userId=alias-user')).id);
  });

  it('concurrent requests linking the same people produce one profile and no double merge', async () => {
    // Three profiles, then many requests at once each linking all three.
    await o.track('/v1/identify', { userId: 'race-u', traits: {} });
    await o.track('/v1/track', { anonymousId: 'race-anon', event: 'x' });
    await o.track('/v1/track', { event: 'y', context: { traits: { email: 'race@example.com' } } });
    await o.settle();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        o.track('/v1/identify', { messageId: `race-${i}`, userId: 'race-u', anonymousId: 'race-anon', traits: { email: 'race@example.com' } }),
      ),
    );
    await o.settle();
    const p = await profileBy('userId=race-u');
    expect(p.mergedProfileIds).toHaveLength(2);
    const log = (await o.api('GET', `/api/profiles/merges?profileId=${p.id}`)).body.merges;
    expect(log).toHaveLength(2);
  });
});
