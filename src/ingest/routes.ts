// The tracking API, as Segment's: /v1/identify|track|page|screen|group|alias|batch and the short paths /v1/i|t|p|s|g|a|b.
// Bodies are JSON whatever the Content-Type says (analytics.js posts text/plain, RudderStack's node SDK posts gzip
// labelled form-urlencoded); gzip and deflate Content-Encoding are decoded with the size limit applied after decoding.
import zlib from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import { HttpError, badRequest } from '../app/errors.ts';
import { BatchCall, type CallType, schemaByType } from '../schema/events.ts';
import type { Store } from '../store/db.ts';
import { authenticateKey } from '../workspaces/keys.ts';
import { type EventRow, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, isCallType, normalizeCall } from './normalize.ts';
import type { EventWriter } from './writer.ts';

const SHORT: Record<string, CallType | 'batch'> = { i: 'identify', t: 'track', p: 'page', s: 'screen', g: 'group', a: 'alias', b: 'batch' };
// The raw body may be larger than the decoded limit only by compression; anything beyond this is refused unread.
const RAW_LIMIT = 2 * MAX_BATCH_BYTES;

function decodeBody(req: FastifyRequest, raw: Buffer): unknown {
  let buf = raw;
  const enc = String(req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  try {
    if (enc === 'gzip' || enc === 'x-gzip') buf = zlib.gunzipSync(raw, { maxOutputLength: MAX_BATCH_BYTES + 1 });
    else if (enc === 'deflate') {
      // Clients send either zlib-wrapped or raw deflate; accept both.
      try {
        buf = zlib.inflateSync(raw, { maxOutputLength: MAX_BATCH_BYTES + 1 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw e;
        buf = zlib.inflateRawSync(raw, { maxOutputLength: MAX_BATCH_BYTES + 1 });
      }
    } else if (enc !== 'identity' && enc !== '') throw new HttpError(415, 'unsupported_encoding', `Content-Encoding ${enc} is not supported (use gzip or deflate)`);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw badRequest('decoded body exceeds the 500KB limit per request', '(body)', 'body_too_large');
    throw badRequest(`body is not valid ${enc} data`, '(body)', 'invalid_encoding');
  }
  if (buf.length > MAX_BATCH_BYTES) throw badRequest(`body is ${buf.length} bytes; the limit is 500KB per request`, '(body)', 'body_too_large');
  if (buf.length === 0) throw badRequest('body is empty; send a JSON object', '(body)', 'invalid_json');
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch {
    throw badRequest('body is not valid JSON', '(body)', 'invalid_json');
  }
}

function writeKeyOf(req: FastifyRequest, body: unknown): string | null {
  const h = req.headers.authorization;
  if (h && /^basic /i.test(h)) {
    const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    const user = decoded.split(':')[0];
    if (user) return user;
  }
  const wk = body && typeof body === 'object' ? (body as { writeKey?: unknown }).writeKey : undefined;
  return typeof wk === 'string' && wk ? wk : null;
}

export interface IngestDeps {
  store: Store;
  writer: EventWriter;
  /** Other reasons to refuse for now (the identity backlog); the writer's own queue is always checked. */
  overloaded?: () => boolean;
}

export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  // This scope's OPTIONS * route answers every browser preflight, the messaging module's GET endpoints (/v1/onsite) too.
  await app.register(cors, { origin: true, methods: ['GET', 'POST', 'OPTIONS'], maxAge: 86400 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: RAW_LIMIT }, (req, body, done) => {
    try {
      done(null, decodeBody(req, body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  const authenticate = async (req: FastifyRequest): Promise<string> => {
    const key = writeKeyOf(req, req.body);
    if (!key) throw new HttpError(401, 'unauthorized', 'missing write key: use HTTP Basic auth with the write key as user, or "writeKey" in the body');
    const info = await authenticateKey(deps.store, key, 'write');
    if (!info) throw new HttpError(401, 'unauthorized', 'invalid write key');
    return info.workspaceId;
  };

  const backpressure = () => {
    if (deps.writer.overloaded || deps.overloaded?.()) throw new HttpError(429, 'overloaded', 'ingestion is behind; retry later', undefined, { 'retry-after': '1' });
  };

  const single = (type: CallType) => async (req: FastifyRequest) => {
    if (req.body === undefined) throw badRequest('body is empty; send a JSON object', '(body)', 'invalid_json');
    const ws = await authenticate(req);
    backpressure();
    const n = normalizeCall(type, req.body, { workspaceId: ws, receivedAt: Date.now() });
    if (!n.ok) throw new HttpError(400, 'invalid_event', `${n.error.field}: ${n.error.message}`, n.error.field);
    const [isNew] = await deps.writer.write([n.row]);
    return { success: true, ...(isNew ? {} : { duplicate: true }) };
  };

  const batch = async (req: FastifyRequest) => {
    if (req.body === undefined) throw badRequest('body is empty; send a JSON object', '(body)', 'invalid_json');
    const ws = await authenticate(req);
    backpressure();
    const body = req.body as Record<string, unknown>;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.batch)) throw badRequest('"batch" must be an array of events', 'batch');
    const items = body.batch as unknown[];
    if (items.length > MAX_BATCH_EVENTS) throw badRequest(`batch has ${items.length} events; the limit is 2500 per batch`, 'batch', 'batch_too_large');
    const receivedAt = Date.now();
    const batchSentAt = typeof body.sentAt === 'string' ? body.sentAt : undefined;
    const batchContext = body.context && typeof body.context === 'object' ? (body.context as Record<string, unknown>) : undefined;
    const rows: EventRow[] = [];
    const rowIndex: number[] = [];
    const rejected: { index: number; field: string; message: string }[] = [];
    items.forEach((item, index) => {
      const type = (item as { type?: unknown } | null)?.type;
      if (!isCallType(type)) {
        rejected.push({ index, field: `batch.${index}.type`, message: 'must be one of identify, track, page, screen, group, alias' });
        return;
      }
      const n = normalizeCall(type, item, { workspaceId: ws, receivedAt, batchSentAt, batchContext });
      if (n.ok) {
        rows.push(n.row);
        rowIndex.push(index);
      } else rejected.push({ index, field: `batch.${index}.${n.error.field}`, message: n.error.message });
    });
    if (rows.length === 0 && rejected.length > 0) {
      throw new HttpError(400, 'invalid_batch', `no valid event in the batch; first error: ${rejected[0]!.field}: ${rejected[0]!.message}`, rejected[0]!.field);
    }
    const inserted = await deps.writer.write(rows);
    const duplicates = inserted.filter((x) => !x).length;
    return { success: true, accepted: rows.length - duplicates, duplicates, rejected };
  };

  const batchSchema = { body: BatchCall, tags: ['tracking'], summary: 'Send up to 2,500 calls at once' };
  for (const [short, type] of Object.entries(SHORT)) {
    const handler = type === 'batch' ? batch : single(type);
    const schema = type === 'batch' ? batchSchema : { body: schemaByType[type], tags: ['tracking'], summary: `Segment ${type} call` };
    for (const url of [`/v1/${type}`, `/v1/${short}`]) {
      app.post(url, {
        schema: { ...schema, hide: url === `/v1/${short}`, security: [{ writeKey: [] }] },
        // The schema documents the call; validation happens per event in the handler so one bad event in a batch
        // is reported by index while the good ones are kept.
        validatorCompiler: () => () => true,
        handler,
      });
    }
  }
}
