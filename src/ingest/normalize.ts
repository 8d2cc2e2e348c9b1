// Pure: one Segment call → one row of the event log, or a field error. No I/O here, so it is tested directly.
import { randomUUID } from 'node:crypto';
import { type AnyCall, type CallType, CallTypes, type FieldError, validateCall } from '../schema/events.ts';

export const MAX_EVENT_BYTES = 32 * 1024;
export const MAX_BATCH_BYTES = 500 * 1024;
export const MAX_BATCH_EVENTS = 2500;

export interface EventRow {
  workspace_id: string;
  message_id: string;
  type: CallType;
  event: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  channel: string;
  internal: number;
  timestamp: number;
  received_at: number;
  properties: string;
  traits: string;
  context: string;
  revenue_minor: number | null;
  currency: string | null;
}

import { CHANNELS } from './channels.ts';
export { CHANNELS, NOT_CHANNELS } from './channels.ts';

export interface NormalizeContext {
  workspaceId: string;
  receivedAt: number;
  /** sentAt of the enclosing batch, when the event has none of its own. */
  batchSentAt?: string;
  batchContext?: Record<string, unknown>;
}

export function isCallType(t: unknown): t is CallType {
  return typeof t === 'string' && (CallTypes as readonly string[]).includes(t);
}

// ISO-8601 date-time (RFC 3339 profile). Date.parse alone is lenient ("5" → 2001-05-01).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

function parseTime(v: unknown, field: string): number | FieldError | undefined {
  if (v === undefined || v === null) return undefined;
  const t = typeof v === 'string' && ISO_8601.test(v.trim()) ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) return { field, message: 'must be an ISO-8601 date-time' };
  return t;
}

/**
 * Timestamps as the Segment spec computes them: a client's `timestamp` is its originalTimestamp; when the client
 * also says when it sent the call (sentAt), its clock skew is removed: timestamp = receivedAt - (sentAt - original).
 */
export function correctedTimestamp(call: AnyCall, receivedAt: number, batchSentAt?: string): number | FieldError {
  const original = parseTime(call.originalTimestamp ?? call.timestamp, call.originalTimestamp ? 'originalTimestamp' : 'timestamp');
  if (typeof original === 'object') return original;
  const sent = parseTime(call.sentAt ?? batchSentAt, 'sentAt');
  if (typeof sent === 'object') return sent;
  if (original === undefined) return receivedAt;
  if (sent === undefined) return original;
  return receivedAt - (sent - original);
}

function idString(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  return String(v);
}

const LIBRARY_CHANNEL: [RegExp, string][] = [
  [/analytics\.js|analytics-next|rudder.*js|omnia-sdk/i, 'web'],
  [/ios|android|react-native|flutter|kotlin|swift/i, 'app'],
];

/** Which touchpoint an event came from: explicit context.channel/properties.channel, else inferred. */
export function inferChannel(type: CallType, call: AnyCall): string {
  const ctx = (call.context ?? {}) as Record<string, any>;
  // The top-level `channel` is set by libraries themselves ("server" on every RudderStack call): only its browser and
  // mobile values say something; context.channel and properties.channel are the sender's deliberate choice.
  const top = call.channel === 'browser' || call.channel === 'mobile' ? call.channel : undefined;
  const explicit = ctx.channel ?? call.properties?.channel ?? top;
  if (typeof explicit === 'string') {
    const e = explicit.toLowerCase();
    if ((CHANNELS as readonly string[]).includes(e)) return e;
    if (e === 'browser') return 'web';
    if (e === 'mobile') return 'app';
    if (e === 'pos') return 'store';
  }
  if (type === 'page') return 'web';
  if (type === 'screen') return 'app';
  const lib = typeof ctx.library?.name === 'string' ? ctx.library.name : '';
  for (const [re, ch] of LIBRARY_CHANNEL) if (re.test(lib)) return ch;
  return 'server';
}

const ZERO_DECIMAL = new Set(['JPY', 'KRW', 'VND', 'CLP', 'ISK', 'UGX', 'XAF', 'XOF', 'PYG', 'RWF', 'KMF', 'GNF', 'VUV', 'XPF', 'DJF', 'BIF']);
const THREE_DECIMAL = new Set(['BHD', 'JOD', 'KWD', 'OMR', 'TND', 'IQD', 'LYD']);

export function currencyDigits(currency: string): number {
  if (ZERO_DECIMAL.has(currency)) return 0;
  if (THREE_DECIMAL.has(currency)) return 3;
  return 2;
}

function num(v: unknown): number | null {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : null;
}

/** Order value in minor units for the e-commerce order events (refunds count negative). */
export function orderRevenue(event: string | null, props: Record<string, unknown>): { minor: number; currency: string } | null {
  if (event !== 'Order Completed' && event !== 'Order Refunded') return null;
  const currency = typeof props.currency === 'string' && /^[A-Za-z]{3}$/.test(props.currency) ? props.currency.toUpperCase() : 'USD';
  let major = num(props.total) ?? num(props.revenue);
  if (major === null && Array.isArray(props.products)) {
    major = 0;
    for (const p of props.products as Record<string, unknown>[]) major += (num(p?.price) ?? 0) * (num(p?.quantity) ?? 1);
  }
  if (major === null) return null;
  let minor = Math.round(major * 10 ** currencyDigits(currency));
  // revenue_minor is int8 and must be exact: past 2^53 minor units is not a real order.
  if (!Number.isSafeInteger(minor)) return null;
  if (event === 'Order Refunded' && minor > 0) minor = -minor;
  return { minor, currency };
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// PostgreSQL text/jsonb cannot hold U+0000, and jsonb refuses unpaired surrogates: replace them with U+FFFD so
// both backends store the same thing.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
const UNSTORABLE_ESCAPE = /\\u0000|\\ud[89a-f]/i;
function storable<T>(v: T): T {
  if (typeof v === 'string') return (UNSTORABLE.test(v) ? v.replace(UNSTORABLE_ALL, '\ufffd') : v) as T;
  if (Array.isArray(v)) return v.map(storable) as T;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[storable(k)] = storable(x);
    return out as T;
  }
  return v;
}

export type Normalized = { ok: true; row: EventRow } | { ok: false; error: FieldError };

/** Validates and normalises one call of the given type (for batch items, `type` comes from the item). */
export function normalizeCall(type: CallType, raw: unknown, nctx: NormalizeContext): Normalized {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, error: { field: '(event)', message: 'must be a JSON object' } };
  const serialized = JSON.stringify(raw);
  const size = byteLength(serialized);
  if (size > MAX_EVENT_BYTES) return { ok: false, error: { field: '(event)', message: `event is ${size} bytes; the limit is 32KB per event` } };
  const err = validateCall(type, raw);
  if (err) return { ok: false, error: err };
  // Identifiers are refused rather than rewritten, so dedupe and lookups keep the client's exact value.
  for (const f of ['messageId', 'userId', 'anonymousId', 'event', 'name', 'category', 'groupId', 'previousId'] as const) {
    const v = (raw as Record<string, unknown>)[f];
    if (typeof v === 'string' && UNSTORABLE.test(v)) return { ok: false, error: { field: f, message: 'must not contain U+0000 or unpaired surrogates' } };
  }
  // JSON.stringify writes NUL and lone surrogates as \u escapes: only then is the deep copy needed.
  const clean = !UNSTORABLE_ESCAPE.test(serialized);
  const call = (clean ? raw : storable(raw)) as AnyCall;
  const context: Record<string, unknown> = { ...(nctx.batchContext ? storable(nctx.batchContext) : {}), ...(call.context ?? {}) };
  const ts = correctedTimestamp(call, nctx.receivedAt, nctx.batchSentAt);
  if (typeof ts === 'object') return { ok: false, error: ts };

  let userId = idString(call.userId);
  let anonymousId = idString(call.anonymousId);
  if (type === 'alias') userId = idString(call.userId);
  if (!userId && !anonymousId && type !== 'alias' && !hasContextIdentity(context, call.traits)) {
    return { ok: false, error: { field: 'userId', message: 'either userId or anonymousId (or an email/phone in traits) is required' } };
  }

  let properties: Record<string, unknown> = call.properties ?? {};
  let traits: Record<string, unknown> = call.traits ?? {};
  let eventName: string | null = null;
  if (type === 'track') eventName = call.event!;
  else if (type === 'page' || type === 'screen') {
    eventName = call.name ?? null;
    properties = { ...properties };
    if (call.category) properties.category ??= call.category;
  } else if (type === 'group') {
    properties = { groupId: String(call.groupId) };
  } else if (type === 'alias') {
    properties = { previousId: String(call.previousId) };
  }
  if (type !== 'identify' && type !== 'group') traits = (context.traits as Record<string, unknown>) ?? {};

  const rev = orderRevenue(eventName, properties);
  return {
    ok: true,
    row: {
      workspace_id: nctx.workspaceId,
      message_id: call.messageId ?? `omnia-${randomUUID()}`,
      type,
      event: eventName,
      user_id: userId,
      anonymous_id: anonymousId,
      channel: inferChannel(type, call),
      internal: 0,
      timestamp: ts,
      received_at: nctx.receivedAt,
      properties: JSON.stringify(properties),
      traits: JSON.stringify(traits),
      context: JSON.stringify(context),
      revenue_minor: rev?.minor ?? null,
      currency: rev?.currency ?? null,
    },
  };
}

function hasContextIdentity(context: Record<string, unknown>, traits?: Record<string, unknown>): boolean {
  const t = { ...((context.traits as Record<string, unknown>) ?? {}), ...(traits ?? {}) };
  return (
    (typeof t.email === 'string' && t.email.includes('@')) ||
    (typeof t.phone === 'string' && t.phone.length > 3) ||
    (Array.isArray(context.externalIds) && context.externalIds.length > 0)
  );
}
