// The tracking API's edge, on both backends: every kind of bad input is refused with a 4xx that names the field or
// limit and stores nothing; the good paths clients really use (text/plain, gzip labelled form-urlencoded, deflate,
// writeKey in the body, short paths, partial batches, retries, clock skew, CORS) work; backpressure answers 429 with
// Retry-After and never drops an acknowledged event.
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../src/app/server.ts';
import { EventWriter } from '../src/ingest/writer.ts';
import { BACKENDS, type Backend, type TestOmnia, startTestOmnia } from './helpers.ts';

const KB = 1024;

interface Raw {
  status: number;
  body: any;
  headers: Headers;
}

async function raw(url: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> }): Promise<Raw> {
  const res = await fetch(url, { method: init.method ?? 'POST', headers: init.headers, body: init.body as BodyInit | undefined });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

const json = (v: unknown) => JSON.stringify(v);
const basicOf = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

async function countEvents(o: TestOmnia): Promise<number> {
  await o.settle();
  const r = await o.rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(r.n);
}

async function storedIds(o: TestOmnia, ids: string[]): Promise<Map<string, any>> {
  if (ids.length === 0) return new Map();
  const rows = await o.rt.store.db.selectFrom('events').selectAll().where('workspace_id', '=', 'default').where('message_id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.message_id, r]));
}

interface BadCase {
  name: string;
  path?: string;
  method?: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Replaces the default Basic auth header (null: no Authorization header at all). */
  auth?: (o: TestOmnia) => Promise<string | null> | string | null;
  status: number;
  field?: string;
  message: RegExp;
}

const ev = (extra: Record<string, unknown> = {}) => ({ userId: 'bad-input-user', event: 'Should Not Store', messageId: `bad-${randomUUID()}`, ...extra });
const bigString = (n: number) => 'x'.repeat(n);
// ~5MB of JSON that gzips to a few KB.
const gzipBomb = () => zlib.gzipSync(Buffer.from(json({ ...ev(), properties: { pad: bigString(5 * 1024 * KB) } })));

const BAD: BadCase[] = [
  { name: 'malformed JSON', body: '{"userId": "u", "event": ', status: 400, field: '(body)', message: /not valid JSON/ },
  { name: 'empty body with a content type', body: '', headers: { 'content-type': 'application/json' }, status: 400, field: '(body)', message: /empty/ },
  { name: 'JSON array, not an object', body: json([ev()]), status: 400, field: '(event)', message: /JSON object/ },
  { name: 'JSON string, not an object', body: json('track'), status: 400, field: '(event)', message: /JSON object/ },
  { name: 'JSON null', body: 'null', status: 400, field: '(event)', message: /JSON object/ },
  { name: 'JSON number', body: '42', status: 400, field: '(event)', message: /JSON object/ },
  { name: 'event: 5', body: json(ev({ event: 5 })), status: 400, field: 'event', message: /event/ },
  { name: 'identify traits: "x"', path: '/v1/identify', body: json({ userId: 'u', traits: 'x' }), status: 400, field: 'traits', message: /traits/ },
  { name: 'properties: [] (array)', body: json(ev({ properties: [1, 2] })), status: 400, field: 'properties', message: /properties/ },
  { name: 'timestamp: "yesterday"', body: json(ev({ timestamp: 'yesterday' })), status: 400, field: 'timestamp', message: /ISO-8601/ },
  { name: 'sentAt: "soon"', body: json(ev({ sentAt: 'soon' })), status: 400, field: 'sentAt', message: /ISO-8601/ },
  // Date.parse is lenient: "5" would silently become 2001-05-01 and "Tuesday 12" 2001-12-01.
  { name: 'timestamp: "5" (not ISO-8601)', body: json(ev({ timestamp: '5' })), status: 400, field: 'timestamp', message: /ISO-8601/ },
  { name: 'messageId: "" (empty)', body: json(ev({ messageId: '' })), status: 400, field: 'messageId', message: /messageId/ },
  { name: 'userId: {} (object)', body: json(ev({ userId: { id: 1 } })), status: 400, field: 'userId', message: /userId/ },
  { name: 'track without event', body: json({ userId: 'u', properties: {} }), status: 400, field: 'event', message: /event/ },
  { name: 'track with event ""', body: json(ev({ event: '' })), status: 400, field: 'event', message: /event/ },
  { name: 'no userId nor anonymousId', body: json({ event: 'Orphan', properties: { a: 1 } }), status: 400, field: 'userId', message: /userId or anonymousId/ },
  { name: 'alias without previousId', path: '/v1/alias', body: json({ userId: 'u' }), status: 400, field: 'previousId', message: /previousId/ },
  { name: 'group without groupId', path: '/v1/group', body: json({ userId: 'u' }), status: 400, field: 'groupId', message: /groupId/ },
  { name: 'batch missing', path: '/v1/batch', body: json({ events: [ev({ type: 'track' })] }), status: 400, field: 'batch', message: /batch.*array/ },
  { name: 'batch is an object', path: '/v1/batch', body: json({ batch: { 0: ev({ type: 'track' }) } }), status: 400, field: 'batch', message: /batch.*array/ },
  { name: 'batch is a string', path: '/v1/batch', body: json({ batch: 'x' }), status: 400, field: 'batch', message: /batch.*array/ },
  { name: 'batch body is an array', path: '/v1/batch', body: json([ev({ type: 'track' })]), status: 400, field: 'batch', message: /batch.*array/ },
  {
    name: 'batch of 2,501 events',
    path: '/v1/batch',
    body: json({ batch: Array.from({ length: 2501 }, (_, i) => ({ type: 'track', userId: 'u', event: 'e', messageId: `b2501-${i}` })) }),
    status: 400,
    field: 'batch',
    message: /2500/,
  },
  { name: 'batch whose only event has no type', path: '/v1/batch', body: json({ batch: [ev()] }), status: 400, field: 'batch.0.type', message: /batch\.0\.type/ },
  { name: 'batch whose only event is invalid', path: '/v1/batch', body: json({ batch: [{ type: 'track', userId: 'u' }] }), status: 400, field: 'batch.0.event', message: /batch\.0\.event/ },
  { name: 'event over 32KB', body: json(ev({ properties: { pad: bigString(33 * KB) } })), status: 400, field: '(event)', message: /32KB/ },
  {
    name: 'event over 32KB in a batch',
    path: '/v1/batch',
    body: json({ batch: [ev({ type: 'track', properties: { pad: bigString(33 * KB) } })] }),
    status: 400,
    field: 'batch.0.(event)',
    message: /32KB/,
  },
  {
    name: 'body over 500KB (plain)',
    path: '/v1/batch',
    body: json({ batch: Array.from({ length: 20 }, () => ev({ type: 'track', properties: { pad: bigString(30 * KB) } })) }),
    status: 400,
    field: '(body)',
    message: /500KB/,
  },
  {
    name: 'body over 500KB by one byte (whitespace padding)',
    body: (() => {
      const s = json(ev());
      return s + ' '.repeat(500 * KB + 1 - s.length);
    })(),
    status: 400,
    field: '(body)',
    message: /500KB/,
  },
  {
    name: 'body over the raw limit (1.1MB, never read whole)',
    path: '/v1/batch',
    body: json({ batch: [], pad: bigString(1100 * KB) }),
    status: 400,
    message: /500KB/,
  },
  {
    name: 'body over 500KB gzip-compressed',
    path: '/v1/batch',
    body: zlib.gzipSync(json({ batch: Array.from({ length: 20 }, () => ev({ type: 'track', properties: { pad: bigString(30 * KB) } })) })),
    headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
    status: 400,
    field: '(body)',
    message: /500KB/,
  },
  { name: 'gzip bomb (5MB decoded)', body: gzipBomb(), headers: { 'content-encoding': 'gzip' }, status: 400, field: '(body)', message: /500KB/ },
  {
    name: 'deflate bomb (5MB decoded)',
    body: zlib.deflateSync(Buffer.from(json({ ...ev(), properties: { pad: bigString(5 * 1024 * KB) } }))),
    headers: { 'content-encoding': 'deflate' },
    status: 400,
    field: '(body)',
    message: /500KB/,
  },
  { name: 'bad gzip bytes', body: Buffer.from('this is not gzip at all'), headers: { 'content-encoding': 'gzip' }, status: 400, field: '(body)', message: /gzip/ },
  {
    name: 'truncated gzip',
    body: zlib.gzipSync(json(ev())).subarray(0, 20),
    headers: { 'content-encoding': 'gzip' },
    status: 400,
    field: '(body)',
    message: /gzip/,
  },
  { name: 'bad deflate bytes', body: Buffer.from([1, 2, 3, 4, 5, 6, 7]), headers: { 'content-encoding': 'deflate' }, status: 400, field: '(body)', message: /deflate/ },
  { name: 'gzip that holds no JSON', body: zlib.gzipSync('not json'), headers: { 'content-encoding': 'gzip' }, status: 400, field: '(body)', message: /JSON/ },
  { name: 'Content-Encoding: br', body: json(ev()), headers: { 'content-encoding': 'br' }, status: 415, message: /Content-Encoding br/ },
  { name: 'Content-Encoding: compress', body: json(ev()), headers: { 'content-encoding': 'compress' }, status: 415, message: /Content-Encoding/ },
  { name: 'missing auth', body: json(ev()), auth: () => null, status: 401, message: /missing write key/ },
  { name: 'missing auth on a batch', path: '/v1/batch', body: json({ batch: [ev({ type: 'track' })] }), auth: () => null, status: 401, message: /missing write key/ },
  { name: 'wrong write key', body: json(ev()), auth: () => basicOf('omw_not_a_real_key'), status: 401, message: /invalid write key/ },
  { name: 'wrong write key in the body', body: json(ev({ writeKey: 'omw_not_a_real_key' })), auth: () => null, status: 401, message: /invalid write key/ },
  { name: 'write key as the Basic password, not the user', body: json(ev()), auth: (o) => `Basic ${Buffer.from(`:${o.writeKey}`).toString('base64')}`, status: 401, message: /write key/ },
  { name: 'write key as a Bearer token', body: json(ev()), auth: (o) => `Bearer ${o.writeKey}`, status: 401, message: /write key/ },
  { name: 'admin key used as write key', body: json(ev()), auth: (o) => basicOf(o.adminKey), status: 401, message: /invalid write key/ },
  {
    name: 'revoked write key',
    body: json(ev()),
    auth: async (o) => {
      const created = await o.api('POST', '/api/keys', { kind: 'write', name: 'to revoke' });
      expect(created.status).toBe(201);
      // Works before the revoke (through the key cache, which the revoke must clear).
      expect((await raw(`${o.url}/v1/track`, { body: json(ev({ event: 'Before Revoke' })), headers: { authorization: basicOf(created.body.key) } })).status).toBe(200);
      expect((await o.api('DELETE', `/api/keys/${created.body.id}`)).status).toBe(200);
      return basicOf(created.body.key);
    },
    status: 401,
    message: /invalid write key/,
  },
  { name: 'unknown path /v1/unknown', path: '/v1/unknown', body: json(ev()), status: 404, message: /no route/ },
  { name: 'unknown path /v2/track', path: '/v2/track', body: json(ev()), status: 404, message: /no route/ },
  { name: 'unknown short path /v1/x', path: '/v1/x', body: json(ev()), status: 404, message: /no route/ },
  { name: 'trailing segment /v1/track/extra', path: '/v1/track/extra', body: json(ev()), status: 404, message: /no route/ },
  { name: 'GET /v1/track', path: '/v1/track', method: 'GET', status: 404, message: /no route/ },
];

describe.each(BACKENDS)('tracking API edge (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    raw(o.url + path, { body, headers: { authorization: o.basic, ...headers } });

  describe('bad input: 4xx naming the field or limit, nothing stored', () => {
    it.each(BAD)('$name → $status', async (c) => {
      const auth = c.auth ? await c.auth(o) : o.basic;
      const before = await countEvents(o);
      const headers: Record<string, string> = { ...(c.body !== undefined && !c.headers?.['content-type'] ? { 'content-type': 'application/json' } : {}), ...c.headers };
      if (auth) headers.authorization = auth;
      const res = await raw(o.url + (c.path ?? '/v1/track'), { method: c.method, body: c.body, headers });
      expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(c.status);
      expect(res.body?.error?.message).toMatch(c.message);
      if (c.field !== undefined) expect(res.body.error.field).toBe(c.field);
      expect(typeof res.body.error.code).toBe('string');
      expect(await countEvents(o)).toBe(before);
    });
  });

  describe('good paths', () => {
    it('text/plain body (analytics.js style) is parsed as JSON and stored', async () => {
      const messageId = `plain-${randomUUID()}`;
      const res = await post('/v1/track', json({ userId: 'u-plain', event: 'Plain', messageId }), { 'content-type': 'text/plain;charset=UTF-8' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ success: true });
      expect((await storedIds(o, [messageId])).get(messageId)).toMatchObject({ type: 'track', event: 'Plain', user_id: 'u-plain' });
    });

    it('a body with no Content-Type at all is parsed as JSON', async () => {
      const messageId = `noct-${randomUUID()}`;
      // A Buffer body: fetch sets no Content-Type.
      const res = await post('/v1/track', Buffer.from(json({ userId: 'u-noct', event: 'No CT', messageId })));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await storedIds(o, [messageId])).has(messageId)).toBe(true);
    });

    it('gzip body labelled application/x-www-form-urlencoded (RudderStack node SDK) is decoded', async () => {
      const ids = [`gz-${randomUUID()}`, `gz-${randomUUID()}`];
      const body = zlib.gzipSync(json({ batch: ids.map((messageId) => ({ type: 'track', userId: 'u-gz', event: 'Gz', messageId })), sentAt: new Date().toISOString() }));
      const res = await post('/v1/batch', body, { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body).toMatchObject({ success: true, accepted: 2, duplicates: 0, rejected: [] });
      expect([...(await storedIds(o, ids)).keys()].sort()).toEqual([...ids].sort());
    });

    it.each([
      ['zlib-wrapped deflate', (b: Buffer) => zlib.deflateSync(b)],
      ['raw deflate', (b: Buffer) => zlib.deflateRawSync(b)],
      ['x-gzip', (b: Buffer) => zlib.gzipSync(b)],
    ])('%s body is decoded', async (label, encode) => {
      const messageId = `enc-${randomUUID()}`;
      const res = await post('/v1/track', encode(Buffer.from(json({ userId: 'u-enc', event: label, messageId }))), {
        'content-type': 'application/json',
        'content-encoding': label === 'x-gzip' ? 'x-gzip' : 'deflate',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await storedIds(o, [messageId])).get(messageId)?.event).toBe(label);
    });

    it('writeKey in the body instead of Basic auth', async () => {
      const messageId = `wk-${randomUUID()}`;
      const res = await raw(`${o.url}/v1/track`, { body: json({ writeKey: o.writeKey, userId: 'u-wk', event: 'WK', messageId }), headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      const b = `wkb-${randomUUID()}`;
      const res2 = await raw(`${o.url}/v1/batch`, {
        body: json({ writeKey: o.writeKey, batch: [{ type: 'track', userId: 'u-wk', event: 'WK', messageId: b }] }),
        headers: { 'content-type': 'application/json' },
      });
      expect(res2.status).toBe(200);
      expect([...(await storedIds(o, [messageId, b])).keys()].sort()).toEqual([messageId, b].sort());
    });

    it('a body exactly 500KB is accepted (the limit is inclusive)', async () => {
      const messageId = `limit-${randomUUID()}`;
      const s = json({ userId: 'u-limit', event: 'Limit', messageId });
      const res = await post('/v1/track', s + ' '.repeat(500 * KB - s.length), { 'content-type': 'application/json' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect((await storedIds(o, [messageId])).has(messageId)).toBe(true);
    });

    it('a batch of exactly 2,500 events is accepted', async () => {
      const tag = randomUUID();
      const batch = Array.from({ length: 2500 }, (_, i) => ({ type: 'track', userId: 'u-2500', event: 'e', messageId: `b2500-${tag}-${i}` }));
      const res = await post('/v1/batch', json({ batch }), { 'content-type': 'application/json' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 2500, duplicates: 0, rejected: [] });
      expect((await storedIds(o, batch.map((b) => b.messageId))).size).toBe(2500);
    });

    const SHORT: [string, string, Record<string, unknown>, string | null][] = [
      ['i', 'identify', { userId: 'u-short', traits: { email: 'short@example.com' } }, null],
      ['t', 'track', { userId: 'u-short', event: 'Short Track' }, 'Short Track'],
      ['p', 'page', { userId: 'u-short', name: 'Short Page' }, 'Short Page'],
      ['s', 'screen', { userId: 'u-short', name: 'Short Screen' }, 'Short Screen'],
      ['g', 'group', { userId: 'u-short', groupId: 'g-1', traits: { name: 'Acme' } }, null],
      ['a', 'alias', { userId: 'u-short', previousId: 'anon-short' }, null],
    ];
    it.each(SHORT)('short path /v1/%s stores a %s call', async (short, type, body, event) => {
      const messageId = `short-${short}-${randomUUID()}`;
      const res = await post(`/v1/${short}`, json({ ...body, messageId }), { 'content-type': 'application/json' });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const row = (await storedIds(o, [messageId])).get(messageId);
      expect(row).toMatchObject({ type, event, user_id: 'u-short' });
    });

    it('short path /v1/b is the batch endpoint', async () => {
      const ids = [`sb-${randomUUID()}`, `sb-${randomUUID()}`];
      const res = await post('/v1/b', json({ batch: [{ type: 'page', anonymousId: 'a-sb', messageId: ids[0] }, { type: 'screen', anonymousId: 'a-sb', messageId: ids[1] }] }), {
        'content-type': 'application/json',
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ accepted: 2 });
      const rows = await storedIds(o, ids);
      expect(rows.get(ids[0]!)?.type).toBe('page');
      expect(rows.get(ids[1]!)?.type).toBe('screen');
    });

    it('a batch with bad events reports each by index and stores the others', async () => {
      const ids = Array.from({ length: 5 }, () => `mixed-${randomUUID()}`);
      const batch = [
        { type: 'track', userId: 'u-mixed', event: 'Good 0', messageId: ids[0] },
        { type: 'track', userId: 'u-mixed', messageId: ids[1] }, // no event
        { type: 'identify', userId: 'u-mixed', traits: { plan: 'gold' }, messageId: ids[2] },
        { type: 'explode', userId: 'u-mixed', messageId: ids[3] }, // unknown type
        { type: 'page', userId: 'u-mixed', name: 'Good 4', messageId: ids[4], timestamp: 'not a date' },
      ];
      const before = await countEvents(o);
      const res = await post('/v1/batch', json({ batch }), { 'content-type': 'application/json' });
      expect(res.status).toBe(200);
      expect(res.body.accepted).toBe(2);
      expect(res.body.duplicates).toBe(0);
      expect(res.body.rejected.map((r: any) => [r.index, r.field])).toEqual([
        [1, 'batch.1.event'],
        [3, 'batch.3.type'],
        [4, 'batch.4.timestamp'],
      ]);
      for (const r of res.body.rejected) expect(typeof r.message).toBe('string');
      expect(await countEvents(o)).toBe(before + 2);
      expect([...(await storedIds(o, ids)).keys()].sort()).toEqual([ids[0], ids[2]].sort());
    });

    it('a retried batch (same messageIds) is not double counted; the response counts the duplicates', async () => {
      const ids = Array.from({ length: 4 }, () => `retry-${randomUUID()}`);
      const body = json({ batch: ids.map((messageId, i) => ({ type: 'track', userId: 'u-retry', event: `Retry ${i}`, messageId })) });
      const before = await countEvents(o);
      const first = await post('/v1/batch', body, { 'content-type': 'application/json' });
      expect(first.body).toMatchObject({ success: true, accepted: 4, duplicates: 0 });
      const second = await post('/v1/batch', body, { 'content-type': 'application/json' });
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ success: true, accepted: 0, duplicates: 4 });
      // A partial retry: two old, one new.
      const extra = `retry-${randomUUID()}`;
      const third = await post('/v1/batch', json({ batch: [ids[0], ids[1], extra].map((messageId) => ({ type: 'track', userId: 'u-retry', event: 'R', messageId })) }), {
        'content-type': 'application/json',
      });
      expect(third.body).toMatchObject({ accepted: 1, duplicates: 2 });
      // The same messageId twice inside one batch counts once.
      const dupe = `retry-${randomUUID()}`;
      const fourth = await post('/v1/batch', json({ batch: [dupe, dupe].map((messageId) => ({ type: 'track', userId: 'u-retry', event: 'R', messageId })) }), {
        'content-type': 'application/json',
      });
      expect(fourth.body).toMatchObject({ accepted: 1, duplicates: 1 });
      // A single call retried says so.
      const single = json({ userId: 'u-retry', event: 'Single', messageId: ids[0] });
      expect((await post('/v1/track', single, { 'content-type': 'application/json' })).body).toEqual({ success: true, duplicate: true });
      expect(await countEvents(o)).toBe(before + 6);
      // The stored event is the first one, not overwritten by the retry.
      expect((await storedIds(o, [ids[0]!])).get(ids[0]!)?.event).toBe('Retry 0');
    });

    it('a missing messageId is assigned (and each call without one is a new event)', async () => {
      const userId = `u-nomid-${randomUUID()}`;
      for (let i = 0; i < 2; i++) expect((await post('/v1/track', json({ userId, event: 'No Mid' }), { 'content-type': 'application/json' })).status).toBe(200);
      const b = await post('/v1/batch', json({ batch: [{ type: 'track', userId, event: 'No Mid' }] }), { 'content-type': 'application/json' });
      expect(b.body.accepted).toBe(1);
      const rows = await o.rt.store.db.selectFrom('events').select('message_id').where('user_id', '=', userId).execute();
      expect(rows).toHaveLength(3);
      expect(new Set(rows.map((r) => r.message_id)).size).toBe(3);
      for (const r of rows) expect(r.message_id).toMatch(/^omnia-[0-9a-f-]{36}$/);
    });

    it('timestamps are corrected for client clock skew: timestamp = receivedAt - (sentAt - originalTimestamp)', async () => {
      const userId = `u-skew-${randomUUID()}`;
      // The client's clock is 3 hours fast; it queued each event a while before sending it.
      const skew = 3 * 3600_000;
      const clientNow = Date.now() + skew;
      const iso = (t: number) => new Date(t).toISOString();
      const calls = {
        // single call, event-level sentAt, 5 s in the queue
        single: { userId, event: 'Skew Single', messageId: `skew-s-${randomUUID()}`, originalTimestamp: iso(clientNow - 5000), sentAt: iso(clientNow) },
        // batch events: batch-level sentAt, one using `timestamp` as its original time (server libraries), 60 s
        batchTs: { type: 'track', userId, event: 'Skew Batch ts', messageId: `skew-b1-${randomUUID()}`, timestamp: iso(clientNow - 60_000) },
        // an event-level sentAt wins over the batch's
        batchOwn: { type: 'track', userId, event: 'Skew Batch own', messageId: `skew-b2-${randomUUID()}`, originalTimestamp: iso(clientNow - 2000), sentAt: iso(clientNow - 1000) },
        // no sentAt anywhere would keep the client's time (single call); no time at all → receivedAt
        noSent: { userId, event: 'Skew None', messageId: `skew-n-${randomUUID()}`, timestamp: '2020-01-02T03:04:05.678Z' },
        noTime: { userId, event: 'Skew No Time', messageId: `skew-t-${randomUUID()}` },
      };
      expect((await post('/v1/track', json(calls.single), { 'content-type': 'application/json' })).status).toBe(200);
      expect((await post('/v1/batch', json({ sentAt: iso(clientNow), batch: [calls.batchTs, calls.batchOwn] }), { 'content-type': 'application/json' })).status).toBe(200);
      expect((await post('/v1/track', json(calls.noSent), { 'content-type': 'application/json' })).status).toBe(200);
      expect((await post('/v1/track', json(calls.noTime), { 'content-type': 'application/json' })).status).toBe(200);
      await o.settle();
      const profile = (await o.api('GET', `/api/profiles/lookup?userId=${userId}`)).body;
      const tl = (await o.api('GET', `/api/profiles/${profile.id}/events?limit=50&internal=false`)).body.events as any[];
      const byId = new Map(tl.map((e) => [e.messageId, e]));
      const tsOf = (k: keyof typeof calls) => byId.get(calls[k].messageId);
      expect(tsOf('single').timestamp).toBe(tsOf('single').receivedAt - 5000);
      expect(tsOf('batchTs').timestamp).toBe(tsOf('batchTs').receivedAt - 60_000);
      expect(tsOf('batchOwn').timestamp).toBe(tsOf('batchOwn').receivedAt - 1000);
      expect(tsOf('noSent').timestamp).toBe(Date.parse('2020-01-02T03:04:05.678Z'));
      expect(tsOf('noTime').timestamp).toBe(tsOf('noTime').receivedAt);
      // The timeline is ordered by the corrected time (newest first), so the 2020 event is last.
      expect(tl[tl.length - 1].messageId).toBe(calls.noSent.messageId);
      expect(tl.map((e) => e.timestamp)).toEqual([...tl.map((e) => e.timestamp)].sort((a, b) => b - a));
    });

    it('answers the CORS preflight (OPTIONS with Origin) and sets CORS headers on the POST', async () => {
      for (const path of ['/v1/track', '/v1/batch', '/v1/t']) {
        const pre = await raw(o.url + path, {
          method: 'OPTIONS',
          headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
        });
        expect(pre.status).toBeGreaterThanOrEqual(200);
        expect(pre.status).toBeLessThan(300);
        expect(pre.headers.get('access-control-allow-origin')).toBe('https://shop.example');
        expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
        expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/authorization/);
        expect(pre.headers.get('access-control-allow-headers')?.toLowerCase()).toMatch(/content-type/);
      }
      const messageId = `cors-${randomUUID()}`;
      const res = await post('/v1/track', json({ userId: 'u-cors', event: 'Cors', messageId }), { 'content-type': 'text/plain', origin: 'https://shop.example' });
      expect(res.status).toBe(200);
      expect(res.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    });

    it.each([
      ['a NUL in a property value', { properties: { note: 'a\u0000b' } }],
      ['a NUL in a property key', { properties: { 'a\u0000': 1 } }],
      ['a lone surrogate in a property value', { properties: { note: 'x\ud800y' } }],
      ['a NUL in the event name', { event: 'Bad\u0000Name' }],
      ['a NUL in the userId', { userId: 'nul\u0000user' }],
      // revenue_minor is int8: 1e17 dollars is 1e19 cents.
      ['an absurd order total', { event: 'Order Completed', properties: { total: 1e17 } }],
    ])('an event with %s is stored or refused with a 400, never a 500', async (_label, extra) => {
      const messageId = `nul-${randomUUID()}`;
      const res = await post('/v1/track', json({ userId: 'u-nul', event: 'Nul', messageId, ...extra }), { 'content-type': 'application/json' });
      expect([200, 400], JSON.stringify(res.body)).toContain(res.status);
      if (res.status === 400) expect(res.body.error.field).toBeTruthy();
      expect((await storedIds(o, [messageId])).has(messageId)).toBe(res.status === 200);
    });

    it('one unstorable event does not fail the other requests committed in the same group commit', async () => {
      // Requests sent together are written in one transaction; a bad one must not take the others down with it.
      const ids = Array.from({ length: 20 }, () => `grp-${randomUUID()}`);
      const results = await Promise.all(
        ids.map((messageId, i) =>
          post('/v1/track', json({ userId: 'u-grp', event: 'Group Commit', messageId, properties: i === 7 ? { note: 'nul\u0000' } : { i } }), {
            'content-type': 'application/json',
          }),
        ),
      );
      const stored = await storedIds(o, ids);
      results.forEach((r, i) => {
        if (i !== 7) expect(r.status, `request ${i}: ${JSON.stringify(r.body)}`).toBe(200);
        expect(stored.has(ids[i]!), `request ${i}`).toBe(r.status === 200);
      });
    });
  });

  describe('backpressure', () => {
    // A server whose writer admits one queued row; the store is held busy so the queue cannot drain, which makes the
    // overload deterministic. Every 200 must be stored; every 429 carries Retry-After and stored nothing.
    let app: FastifyInstance;
    let url: string;
    let writer: EventWriter;
    beforeAll(async () => {
      writer = new EventWriter(o.rt.store, { maxQueuedRows: 1 });
      writer.onCommit(() => o.rt.processor.wake());
      app = await buildServer({ ...o.rt, writer }, { logLevel: 'silent' });
      await app.listen({ port: 0, host: '127.0.0.1' });
      url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      await app?.close();
      await writer?.close();
    });

    /** Holds the store's write path until release() is called (SQLite: its one connection; PostgreSQL: a table lock). */
    async function holdStore(b: Backend): Promise<() => Promise<void>> {
      if (b === 'sqlite') {
        let release!: () => void;
        const gate = new Promise<void>((r) => (release = r));
        let held!: () => void;
        const acquired = new Promise<void>((r) => (held = r));
        const done = o.rt.store.db.connection().execute(async () => {
          held();
          await gate;
        });
        await acquired;
        return async () => {
          release();
          await done;
        };
      }
      const client = await o.rt.store.pool!.connect();
      await client.query('BEGIN');
      await client.query('LOCK TABLE events IN EXCLUSIVE MODE');
      return async () => {
        await client.query('COMMIT');
        client.release();
      };
    }

    it('answers 429 with Retry-After when the writer is overloaded, and never drops an acknowledged event', async () => {
      const send = (messageId: string) =>
        raw(`${url}/v1/track`, { body: json({ userId: 'u-bp', event: 'Backpressure', messageId }), headers: { authorization: o.basic, 'content-type': 'application/json' } });
      // Warm the key cache so authentication does not need the store while it is held.
      expect((await send(`bp-warm-${randomUUID()}`)).status).toBe(200);
      const release = await holdStore(backend);
      const ids = Array.from({ length: 30 }, () => `bp-${randomUUID()}`);
      let results: Raw[];
      try {
        const first = send(ids[0]!); // queued, waits for the store
        // Wait until the first request's row is queued.
        for (let i = 0; i < 1000 && writer.queued === 0; i++) await new Promise((r) => setTimeout(r, 5));
        expect(writer.overloaded).toBe(true);
        const rest = await Promise.all(ids.slice(1).map(send));
        for (const r of rest) {
          expect(r.status).toBe(429);
          expect(r.headers.get('retry-after')).toBe('1');
          expect(r.body.error.code).toBe('overloaded');
        }
        // A batch is refused as a whole too.
        const batchId = `bp-batch-${randomUUID()}`;
        const b = await raw(`${url}/v1/batch`, {
          body: json({ batch: [{ type: 'track', userId: 'u-bp', event: 'BP', messageId: batchId }] }),
          headers: { authorization: o.basic, 'content-type': 'application/json' },
        });
        expect(b.status).toBe(429);
        ids.push(batchId);
        results = [await releaseAnd(release, first), ...rest, b];
      } catch (e) {
        await release().catch(() => {});
        throw e;
      }
      expect(results[0]!.status).toBe(200);
      await writer.flush();
      const stored = await storedIds(o, ids);
      results.forEach((r, i) => expect(stored.has(ids[i]!), `${ids[i]} answered ${r.status}`).toBe(r.status === 200));
      // Once the writer caught up, the refused events go through when retried.
      for (const messageId of ids.slice(1, -1)) expect((await send(messageId)).status).toBe(200);
      expect((await storedIds(o, ids.slice(0, -1))).size).toBe(ids.length - 1);
    });

    async function releaseAnd(release: () => Promise<void>, p: Promise<Raw>): Promise<Raw> {
      await release();
      return p;
    }
  });
});
