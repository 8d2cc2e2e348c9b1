// Fuzzing the tracking API with fast-check (fixed seed, so every run sends the same payloads): random and mutated
// Segment calls, random JSON, random bytes and corrupted JSON, with random Content-Types, encodings and auth, at the
// single-call endpoints, the short paths and /v1/batch. Invariants:
//   - never a 5xx (and never a dropped connection); every refusal is a 4xx with the { error: { code, message } } shape;
//   - every 200 for a single call is stored (by its messageId, or as one more row when it had none);
//   - every 200 for a batch accounts for each item (accepted + duplicates + rejected) and stores every non-rejected one;
//   - the server is healthy afterwards and still ingests.
// Violations are collected rather than stopping at the first, so one run reports every distinct failure.
// The full run is on SQLite; PostgreSQL gets a smaller run of the same generator (another seed).
import zlib from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const RUNS: Record<string, { seed: number; numRuns: number }> = {
  sqlite: { seed: 20240601, numRuns: 2500 },
  postgres: { seed: 7, numRuns: 500 },
};

const SINGLE_PATHS = ['/v1/track', '/v1/identify', '/v1/page', '/v1/screen', '/v1/group', '/v1/alias', '/v1/t', '/v1/i', '/v1/p', '/v1/s', '/v1/g', '/v1/a'];
const BATCH_PATHS = ['/v1/batch', '/v1/b'];
const TYPE_OF: Record<string, string> = { t: 'track', i: 'identify', p: 'page', s: 'screen', g: 'group', a: 'alias' };
const typeOfPath = (p: string) => {
  const last = p.split('/').pop()!;
  return TYPE_OF[last] ?? last;
};

// Strings that reach every corner: any UTF-16 code unit (NUL, lone surrogates), emoji, long runs, plain ASCII.
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const nastyString = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: anyUnit, maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\u0000', '\ud800', '😀', '__proto__', 'constructor', 'null', '1e400', '-0', '2024-01-01', '5') },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 2000 }).map((n) => 'x'.repeat(n)) },
);
const nastyNumber = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom(0, -0, 1e17, -1e20, 1e308, Number.MAX_SAFE_INTEGER + 2, 0.1 + 0.2));
const isoDate = fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
const timeValue = fc.oneof({ weight: 12, arbitrary: isoDate }, { weight: 1, arbitrary: nastyString }, { weight: 1, arbitrary: nastyNumber });
const leaf: fc.Arbitrary<unknown> = fc.oneof(nastyString, nastyNumber, fc.boolean(), fc.constant(null));
const jsonish: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(nastyString, tie('value'), { maxKeys: 4 })),
})).value;
const dict = fc.dictionary(nastyString, jsonish, { maxKeys: 5 });
const idValue = fc.oneof({ weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, { weight: 1, arbitrary: nastyString }, { weight: 1, arbitrary: nastyNumber });

// A plausible call of some type: the fields each type uses, then 0–3 mutations (drop a key, replace a value).
const FIELDS = ['type', 'messageId', 'userId', 'anonymousId', 'event', 'name', 'category', 'groupId', 'previousId', 'properties', 'traits', 'context', 'timestamp', 'originalTimestamp', 'sentAt', 'integrations', 'channel', 'writeKey'];
type MsgIdMode = 'unique' | 'absent' | 'repeat' | 'random';
const callArb = (type: string) =>
  fc.oneof({ weight: 1, arbitrary: cleanCallArb(type) }, { weight: 2, arbitrary: nastyCallArb(type) });

// Mostly-valid calls with nasty content in the free-form parts (properties, traits, context).
const cleanCallArb = (type: string) =>
  fc
    .record({
      userId: fc.string({ minLength: 1, maxLength: 20 }),
      event: fc.constantFrom('Order Completed', 'Order Refunded', 'Product Viewed', 'Signed Up'),
      name: fc.string({ maxLength: 20 }),
      groupId: fc.string({ minLength: 1, maxLength: 20 }),
      previousId: fc.string({ minLength: 1, maxLength: 20 }),
      properties: fc.oneof(dict, fc.record({ total: nastyNumber, currency: fc.constantFrom('USD', 'eur', 'JPY', 'KWD', 'XXXX') })),
      traits: dict,
      context: dict,
      timestamp: fc.option(isoDate, { nil: undefined }),
      sentAt: fc.option(isoDate, { nil: undefined }),
      msgIdMode: fc.constantFrom<MsgIdMode>('unique', 'unique', 'unique', 'absent', 'repeat'),
    })
    .map(({ msgIdMode, ...base }) => {
      const call: Record<string, unknown> = { ...base };
      if (type !== 'track') delete call.event;
      if (type !== 'page' && type !== 'screen') delete call.name;
      if (type !== 'group') delete call.groupId;
      if (type !== 'alias') delete call.previousId;
      if (call.timestamp === undefined) delete call.timestamp;
      if (call.sentAt === undefined) delete call.sentAt;
      return { call, msgIdMode, randomId: '' };
    });

const nastyCallArb = (type: string) =>
  fc
    .record(
      {
        userId: fc.option(idValue, { nil: undefined }),
        anonymousId: fc.option(idValue, { nil: undefined }),
        event: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('Order Completed', 'Order Refunded', 'Product Viewed', 'Signed Up') }, { weight: 2, arbitrary: nastyString }),
        name: fc.option(nastyString, { nil: undefined }),
        category: fc.option(nastyString, { nil: undefined }),
        groupId: idValue,
        previousId: idValue,
        properties: fc.oneof(
          dict,
          fc.record({ total: fc.oneof(nastyNumber, nastyString), currency: fc.oneof(fc.constantFrom('USD', 'eur', 'JPY', 'KWD', 'XXXX'), nastyString), products: fc.array(dict, { maxLength: 3 }) }),
        ),
        traits: fc.oneof(dict, fc.record({ email: fc.oneof(fc.emailAddress(), nastyString), phone: fc.oneof(fc.constantFrom('+447700900123', '07700 900123', '123'), nastyString), consent: jsonish })),
        context: fc.oneof(
          dict,
          fc.record(
            {
              channel: fc.oneof(fc.constantFrom('web', 'email', 'pos', 'mobile', 'browser'), nastyString),
              library: fc.record({ name: fc.oneof(fc.constantFrom('analytics.js', 'analytics-ios', 'analytics-node'), nastyString) }),
              traits: dict,
              externalIds: fc.array(fc.record({ id: idValue, type: nastyString }), { maxLength: 3 }),
              timezone: nastyString,
            },
            { requiredKeys: [] },
          ),
        ),
        timestamp: timeValue,
        originalTimestamp: timeValue,
        sentAt: timeValue,
      },
      { requiredKeys: [] },
    )
    .chain((base) =>
      fc.tuple(
        fc.constant(base),
        fc.array(fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(fc.constant(undefined), jsonish)), { maxLength: 3 }),
        fc.constantFrom<MsgIdMode>('unique', 'unique', 'unique', 'unique', 'absent', 'repeat', 'random'),
        nastyString,
      ),
    )
    .map(([base, mutations, msgIdMode, randomId]) => {
      const call: Record<string, unknown> = { ...base };
      if (type !== 'track') delete call.event;
      if (type !== 'page' && type !== 'screen') (delete call.name, delete call.category);
      if (type !== 'group') delete call.groupId;
      if (type !== 'alias') delete call.previousId;
      for (const [k, v] of mutations) {
        if (v === undefined) delete call[k];
        else call[k] = v;
      }
      return { call, msgIdMode, randomId };
    });

type Payload =
  | { kind: 'single'; path: string; call: Record<string, unknown>; msgIdMode: MsgIdMode; randomId: string }
  | { kind: 'batch'; path: string; items: { call: Record<string, unknown>; msgIdMode: MsgIdMode; randomId: string }[]; extra: Record<string, unknown> }
  | { kind: 'json'; path: string; value: unknown }
  | { kind: 'bytes'; path: string; bytes: Uint8Array }
  | { kind: 'corrupt'; path: string; call: Record<string, unknown>; cut: number; flip: number; ch: string };

const anyPath = fc.constantFrom(...SINGLE_PATHS, ...BATCH_PATHS);
const payloadArb: fc.Arbitrary<Payload> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...SINGLE_PATHS).chain((path) => callArb(typeOfPath(path)).map((c) => ({ kind: 'single' as const, path, ...c }))) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      path: fc.constantFrom(...BATCH_PATHS),
      items: fc.array(
        fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom('track', 'identify', 'page', 'screen', 'group', 'alias') },
          { weight: 1, arbitrary: fc.oneof(nastyString, fc.constant(undefined), nastyNumber) },
        ).chain((type) => callArb(typeof type === 'string' ? type : 'track').map((c) => ({ ...c, call: { ...c.call, type } }))),
        { maxLength: 8 },
      ),
      extra: fc.record({ sentAt: timeValue, context: fc.oneof(dict, nastyString), integrations: jsonish }, { requiredKeys: [] }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('json' as const), path: anyPath, value: jsonish }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), path: anyPath, bytes: fc.uint8Array({ maxLength: 200 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('corrupt' as const),
      path: anyPath,
      call: callArb('track').map((c) => c.call),
      cut: fc.nat(),
      flip: fc.nat(),
      ch: fc.constantFrom('"', '{', '}', ',', ':', '\\', 'x', ']', '\u0000'),
    }),
  },
);

type Encoding = 'none' | 'gzip' | 'x-gzip' | 'deflate' | 'deflate-raw' | 'br-label' | 'gzip-label-plain' | 'GZIP';
const envelopeArb = fc.record({
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/json; charset=utf-8', '') },
    { weight: 1, arbitrary: fc.constantFrom('multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=utf-16', '*/*', 'invalid') },
    { weight: 1, arbitrary: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 }) },
  ),
  encoding: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<Encoding>('none', 'gzip', 'deflate') },
    { weight: 1, arbitrary: fc.constantFrom<Encoding>('x-gzip', 'deflate-raw', 'br-label', 'gzip-label-plain', 'GZIP') },
  ),
  auth: fc.oneof({ weight: 12, arbitrary: fc.constantFrom('basic', 'body') }, { weight: 1, arbitrary: fc.constantFrom('none', 'wrong', 'admin') }),
});

/** What in a payload could explain a failure: strings PostgreSQL's text/jsonb cannot hold, numbers past int8 range. */
function suspects(v: unknown, acc = new Set<string>()): Set<string> {
  if (typeof v === 'string') {
    if (v.includes('\u0000')) acc.add('NUL character');
    if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)) acc.add('lone surrogate');
  } else if (Array.isArray(v)) v.forEach((x) => suspects(x, acc));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if ((k === 'total' || k === 'revenue') && Math.abs(Number(x)) * 1000 >= 2 ** 63) acc.add('order total past int8 range');
      suspects(k, acc);
      suspects(x, acc);
    }
  }
  return acc;
}

interface Violation {
  run: number;
  what: string;
  status?: number;
  response?: string;
  request: string;
}

describe.each(BACKENDS)('fuzzing the tracking API (%s)', (backend) => {
  let o: TestOmnia;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
  });
  afterAll(async () => {
    await o?.close();
  });

  const hasRow = async (messageId: string) =>
    !!(await o.rt.store.db.selectFrom('events').select('seq').where('workspace_id', '=', 'default').where('message_id', '=', messageId).executeTakeFirst());
  // Only ingested rows: the identity processor writes internal events (Profiles Merged…) in the background meanwhile.
  const countRows = async () => Number((await o.rt.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('internal', '=', 0).executeTakeFirstOrThrow()).n);

  it(`random and mutated payloads: never a 5xx, every 200 stored (seed ${RUNS[backend]!.seed}, ${RUNS[backend]!.numRuns} runs)`, async () => {
    const { seed, numRuns } = RUNS[backend]!;
    const samples = fc.sample(fc.tuple(payloadArb, envelopeArb), { seed, numRuns });
    const violations: Violation[] = [];
    const statuses = new Map<number, number>();
    const usedIds: string[] = [];
    let n = 0;
    const msgId = (mode: MsgIdMode, randomId: string): unknown => {
      if (mode === 'absent') return undefined;
      if (mode === 'repeat' && usedIds.length) return usedIds[(n * 7919) % usedIds.length];
      if (mode === 'random') return randomId;
      const id = `fz-${backend}-${seed}-${n}-${usedIds.length}`;
      usedIds.push(id);
      return id;
    };
    const withId = (call: Record<string, unknown>, mode: MsgIdMode, randomId: string) => {
      const id = msgId(mode, randomId);
      const c = { ...call };
      if (id === undefined) delete c.messageId;
      else c.messageId = id;
      return c;
    };

    for (const [i, [p, env]] of samples.entries()) {
      n = i;
      // Build the body.
      let obj: unknown;
      let text: string | null = null;
      let bytes: Buffer;
      if (p.kind === 'single') obj = withId(p.call, p.msgIdMode, p.randomId);
      else if (p.kind === 'batch') obj = { ...p.extra, batch: p.items.map((it) => withId(it.call, it.msgIdMode, it.randomId)) };
      else if (p.kind === 'json') obj = p.value;
      if (obj !== undefined && env.auth === 'body' && obj && typeof obj === 'object' && !Array.isArray(obj)) obj = { ...(obj as object), writeKey: o.writeKey };
      if (p.kind === 'bytes') bytes = Buffer.from(p.bytes);
      else if (p.kind === 'corrupt') {
        const s = JSON.stringify(p.call);
        const at = p.flip % (s.length + 1);
        text = (s.slice(0, at) + p.ch + s.slice(at + 1)).slice(0, Math.max(1, s.length - (p.cut % 4)));
        bytes = Buffer.from(text);
      } else {
        text = JSON.stringify(obj) ?? 'null';
        bytes = Buffer.from(text);
      }
      // Encode.
      const headers: Record<string, string> = {};
      if (env.contentType) headers['content-type'] = env.contentType;
      let body = bytes;
      switch (env.encoding) {
        case 'gzip':
        case 'GZIP':
          body = zlib.gzipSync(bytes);
          headers['content-encoding'] = env.encoding;
          break;
        case 'x-gzip':
          body = zlib.gzipSync(bytes);
          headers['content-encoding'] = 'x-gzip';
          break;
        case 'deflate':
          body = zlib.deflateSync(bytes);
          headers['content-encoding'] = 'deflate';
          break;
        case 'deflate-raw':
          body = zlib.deflateRawSync(bytes);
          headers['content-encoding'] = 'deflate';
          break;
        case 'br-label':
          headers['content-encoding'] = 'br';
          break;
        case 'gzip-label-plain':
          headers['content-encoding'] = 'gzip';
          break;
      }
      if (env.auth === 'basic') headers.authorization = o.basic;
      else if (env.auth === 'wrong') headers.authorization = `Basic ${Buffer.from('omw_wrong:').toString('base64')}`;
      else if (env.auth === 'admin') headers.authorization = `Basic ${Buffer.from(`${o.adminKey}:`).toString('base64')}`;

      const singleWithoutId = p.kind === 'single' && typeof (obj as Record<string, unknown>)?.messageId !== 'string';
      const before = singleWithoutId ? await countRows() : 0;
      const describeReq = () => `${p.path} ${JSON.stringify(headers)} ${(text ?? bytes.toString('base64')).slice(0, 400)}`;

      let status: number;
      let resText: string;
      try {
        const res = await fetch(o.url + p.path, { method: 'POST', headers, body: new Uint8Array(body) });
        status = res.status;
        resText = await res.text();
      } catch (e) {
        violations.push({ run: i, what: `request failed: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}`, request: describeReq() });
        continue;
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      let res: any;
      try {
        res = JSON.parse(resText);
      } catch {
        res = undefined;
      }
      if (status >= 500) {
        const why = [...suspects(obj ?? text)].sort().join(' + ') || 'no suspect';
        violations.push({ run: i, what: `5xx (payload has: ${why})`, status, response: resText.slice(0, 200), request: describeReq() });
        continue;
      }
      if (status !== 200) {
        if (!(status >= 400 && typeof res?.error?.code === 'string' && typeof res?.error?.message === 'string')) {
          violations.push({ run: i, what: 'refusal without the error shape', status, response: resText.slice(0, 200), request: describeReq() });
        }
        continue;
      }
      // 200: it must have been a valid call with a valid key, and be stored.
      if (env.auth !== 'basic' && env.auth !== 'body') violations.push({ run: i, what: `200 with auth=${env.auth}`, status, request: describeReq() });
      if (p.kind === 'single') {
        const id = (obj as Record<string, unknown>).messageId;
        if (typeof id === 'string') {
          if (!(await hasRow(id))) violations.push({ run: i, what: '200 but not stored', status, response: resText, request: describeReq() });
        } else if (res?.duplicate !== true && (await countRows()) !== before + 1) {
          violations.push({ run: i, what: '200 (no messageId) but no new row', status, response: resText, request: describeReq() });
        }
      } else if (p.kind === 'batch') {
        const items = (obj as { batch: Record<string, unknown>[] }).batch;
        const rejected = new Set<number>((res?.rejected ?? []).map((r: { index: number }) => r.index));
        if (res?.accepted + res?.duplicates + rejected.size !== items.length) {
          violations.push({ run: i, what: 'batch counts do not add up', status, response: resText.slice(0, 300), request: describeReq() });
        }
        for (const [k, item] of items.entries()) {
          if (!rejected.has(k) && typeof item.messageId === 'string' && !(await hasRow(item.messageId))) {
            violations.push({ run: i, what: `batch item ${k} accepted but not stored`, status, response: resText.slice(0, 300), request: describeReq() });
          }
        }
      } else {
        // Random JSON, bytes or corrupted text that happened to be a valid call: fine, nothing to check by id.
      }
    }

    // Health afterwards, and ingestion still works.
    const health = await fetch(`${o.url}/health`);
    expect(health.status).toBe(200);
    const after = await o.track('/v1/track', { userId: 'fuzz-after', event: 'After Fuzz', messageId: `fz-after-${backend}` });
    expect(after.status).toBe(200);
    await o.settle();
    expect(await hasRow(`fz-after-${backend}`)).toBe(true);
    expect((await o.api('GET', '/api/profiles/lookup?userId=fuzz-after')).status).toBe(200);

    const byWhat = new Map<string, Violation[]>();
    for (const v of violations) byWhat.set(v.what, [...(byWhat.get(v.what) ?? []), v]);
    const summary = [...byWhat.entries()].map(([what, vs]) => ({ what, count: vs.length, examples: vs.slice(0, 3) }));
    const histogram = JSON.stringify(Object.fromEntries(statuses));
    expect(summary, `status histogram ${histogram}`).toEqual([]);
    // The generator must really reach both sides: plenty of accepted calls and plenty of refusals.
    expect(statuses.get(200) ?? 0, histogram).toBeGreaterThan(numRuns / 8);
    expect([...statuses.entries()].filter(([st]) => st >= 400 && st < 500).reduce((a, [, c]) => a + c, 0), histogram).toBeGreaterThan(numRuns / 4);
  });
});
