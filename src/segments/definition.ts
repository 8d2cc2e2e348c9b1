// The segment definition language: one TypeBox schema validates API input, types the evaluator and documents the
// API. Semantic checks the schema cannot express (operator fits the value, limits, safe regexes) live in `checkDefinition`.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

export const MAX_DEPTH = 8;
export const MAX_NODES = 100;

const Scalar = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]);

/** A window of time: a positive number of units (rolling, ending now). */
export const Window = Type.Object(
  {
    amount: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
    unit: Type.Union([Type.Literal('seconds'), Type.Literal('minutes'), Type.Literal('hours'), Type.Literal('days'), Type.Literal('weeks')]),
  },
  { additionalProperties: false },
);
export type Window = Static<typeof Window>;

export const CompareOps = ['eq', 'neq', 'in', 'not_in', 'contains', 'not_contains', 'starts_with', 'ends_with', 'matches', 'exists', 'not_exists', 'gt', 'gte', 'lt', 'lte', 'between'] as const;
export const DateOps = ['before', 'after', 'within_last', 'not_within_last', 'within_next', 'anniversary_within'] as const;

/** A comparison of one value: traits, event properties and computed properties all use it. */
const Comparison = {
  op: Type.Union([...CompareOps, ...DateOps].map((o) => Type.Literal(o))),
  value: Type.Optional(Type.Union([Scalar, Type.Array(Scalar, { maxItems: 500 })])),
  /** for date ops: absolute ISO time (before/after) or a window (within_last / within_next / anniversary_within). */
  window: Type.Optional(Window),
};

export const PropertyFilter = Type.Object(
  {
    /** Dotted path into the event properties; `products[].category` matches when any product's category matches. */
    path: Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_$-]+(\\[\\])?(\\.[A-Za-z0-9_$-]+(\\[\\])?)*$' }),
    ...Comparison,
  },
  { additionalProperties: false },
);
export type PropertyFilter = Static<typeof PropertyFilter>;

const TraitCondition = Type.Object({ kind: Type.Literal('trait'), trait: Type.String({ minLength: 1, maxLength: 200 }), ...Comparison }, { additionalProperties: false });

const CountCmp = Type.Object(
  { op: Type.Union([Type.Literal('gte'), Type.Literal('lte'), Type.Literal('eq')]), value: Type.Integer({ minimum: 0, maximum: 1_000_000 }) },
  { additionalProperties: false },
);

const EventCondition = Type.Object(
  {
    kind: Type.Literal('event'),
    event: Type.String({ minLength: 1, maxLength: 256 }),
    /** performed: at least once; not_performed: never; count: `count` compares the number of matching events. */
    op: Type.Union([Type.Literal('performed'), Type.Literal('not_performed'), Type.Literal('count')]),
    count: Type.Optional(CountCmp),
    /** Rolling window ending now; absent = ever. */
    window: Type.Optional(Window),
    filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
    /** Include Omnia's own lifecycle events (message opened…); default false for client events. */
    internal: Type.Optional(Type.Boolean()),
    channel: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

const FirstLastCondition = Type.Object(
  {
    kind: Type.Union([Type.Literal('first_performed'), Type.Literal('last_performed')]),
    event: Type.String({ minLength: 1, maxLength: 256 }),
    op: Type.Union(DateOps.filter((o) => o !== 'anniversary_within' && o !== 'within_next').map((o) => Type.Literal(o))),
    value: Type.Optional(Type.String({ maxLength: 64 })),
    window: Type.Optional(Window),
    filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
  },
  { additionalProperties: false },
);

const GeoCondition = Type.Object(
  {
    kind: Type.Literal('geo'),
    country: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 300 })),
    city: Type.Optional(Type.Array(Type.String({ maxLength: 100 }), { minItems: 1, maxItems: 300 })),
    /** within km of a point, or of a named location (a store: POST /api/locations) */
    near: Type.Optional(
      Type.Union([
        Type.Object(
          {
            lat: Type.Number({ minimum: -90, maximum: 90 }),
            lon: Type.Number({ minimum: -180, maximum: 180 }),
            km: Type.Number({ exclusiveMinimum: 0, maximum: 20_000 }),
          },
          { additionalProperties: false },
        ),
        Type.Object(
          { location: Type.String({ minLength: 1, maxLength: 100 }), km: Type.Number({ exclusiveMinimum: 0, maximum: 20_000 }) },
          { additionalProperties: false },
        ),
      ]),
    ),
  },
  { additionalProperties: false },
);

const ConsentCondition = Type.Object(
  {
    kind: Type.Literal('reachable'),
    channel: Type.Union(['email', 'sms', 'push', 'webpush', 'whatsapp'].map((c) => Type.Literal(c))),
    topic: Type.Optional(Type.String({ maxLength: 64 })),
    /** true (default): has an address and has not unsubscribed; 'subscribed': has explicitly subscribed. */
    require: Type.Optional(Type.Union([Type.Literal('reachable'), Type.Literal('subscribed')])),
  },
  { additionalProperties: false },
);

const EngagementCondition = Type.Object(
  {
    kind: Type.Literal('engagement'),
    action: Type.Union(['delivered', 'opened', 'clicked', 'replied', 'converted'].map((c) => Type.Literal(c))),
    channel: Type.Optional(Type.Union(['email', 'sms', 'push', 'webpush', 'onsite', 'whatsapp'].map((c) => Type.Literal(c)))),
    window: Type.Optional(Window),
    negate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const COMPUTED_PROPERTIES = [
  'orders',
  'total_spent',
  'average_order_value',
  'first_order_at',
  'last_order_at',
  'average_days_between_orders',
  'expected_next_order_at',
  'days_since_last_order',
  'favourite_category',
  'channels_used',
  'rfm_stage',
  'rfm_recency',
  'rfm_frequency',
  'rfm_monetary',
] as const;

/** A user-defined computed property: an aggregate of one event property over a window (or ever). */
export const CustomProperty = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 256 }),
    agg: Type.Union(['count', 'sum', 'avg', 'min', 'max', 'first', 'last', 'distinct_count'].map((a) => Type.Literal(a))),
    /** the property aggregated (not needed for count) */
    path: Type.Optional(PropertyFilter.properties.path),
    window: Type.Optional(Window),
    filters: Type.Optional(Type.Array(PropertyFilter, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type CustomProperty = Static<typeof CustomProperty>;
export const CUSTOM_NAME = /^[a-z][a-z0-9_]{0,62}$/;

const ComputedCondition = Type.Object(
  { kind: Type.Literal('computed'), property: Type.String({ minLength: 1, maxLength: 100 }), ...Comparison },
  { additionalProperties: false },
);

const SegmentRef = Type.Object(
  { kind: Type.Literal('segment'), segmentId: Type.String({ minLength: 1, maxLength: 100 }), negate: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const ListRef = Type.Object(
  { kind: Type.Literal('list'), listId: Type.String({ minLength: 1, maxLength: 100 }), negate: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);

const Leaf = [TraitCondition, EventCondition, FirstLastCondition, GeoCondition, ConsentCondition, EngagementCondition, ComputedCondition, SegmentRef, ListRef];

export const Condition = Type.Recursive(
  (Self) =>
    Type.Union([
      ...Leaf,
      Type.Object({ kind: Type.Literal('and'), conditions: Type.Array(Self, { minItems: 1, maxItems: 50 }) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('or'), conditions: Type.Array(Self, { minItems: 1, maxItems: 50 }) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('not'), condition: Self }, { additionalProperties: false }),
    ]),
  { $id: 'SegmentCondition', title: 'SegmentCondition' },
);
export type Condition = Static<typeof Condition>;
export type LeafCondition = Exclude<Condition, { kind: 'and' | 'or' | 'not' }>;


export interface DefinitionError {
  path: string;
  message: string;
}

const WINDOW_MS: Record<Window['unit'], number> = { seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000, weeks: 604_800_000 };
export const windowMs = (w: Window) => Math.round(w.amount * WINDOW_MS[w.unit]);

/** A regex is accepted only when short and free of nested quantifiers (the shapes that backtrack catastrophically). */
export function safeRegex(src: string): string | null {
  if (src.length > 200) return 'regex longer than 200 characters';
  if (/\([^)]*[+*}][^)]*\)\s*[+*{]/.test(src)) return 'nested quantifiers could run away';
  if (/\\[1-9]/.test(src)) return 'backreferences are not allowed';
  try {
    new RegExp(src);
  } catch (e) {
    return `invalid regex: ${(e as Error).message}`;
  }
  return null;
}

/** Child path: the root is written as '(root)' alone, never as a prefix. */
const pre = (path: string) => (path === '(root)' ? '' : `${path}.`);

const NUMERIC_OPS = new Set(['gt', 'gte', 'lt', 'lte']);

function checkComparison(c: { op: string; value?: unknown; window?: Window }, path: string): DefinitionError | null {
  const { op, value } = c;
  if (op === 'exists' || op === 'not_exists') return null;
  if (['within_last', 'not_within_last', 'within_next', 'anniversary_within'].includes(op)) {
    return c.window ? null : { path: `${pre(path)}window`, message: `operator ${op} needs a window` };
  }
  if (value === undefined) return { path: `${pre(path)}value`, message: `operator ${op} needs a value` };
  if (NUMERIC_OPS.has(op) && typeof value !== 'number' && !(typeof value === 'string' && !Number.isNaN(Date.parse(value)))) {
    return { path: `${pre(path)}value`, message: `operator ${op} needs a number or a date` };
  }
  if ((op === 'in' || op === 'not_in') && !Array.isArray(value)) return { path: `${pre(path)}value`, message: `operator ${op} needs an array` };
  if (op === 'between' && !(Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number'))) {
    return { path: `${pre(path)}value`, message: 'operator between needs [min, max] numbers' };
  }
  if ((op === 'before' || op === 'after') && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
    return { path: `${pre(path)}value`, message: `operator ${op} needs an ISO date-time` };
  }
  if (['contains', 'not_contains', 'starts_with', 'ends_with', 'matches'].includes(op) && typeof value !== 'string') {
    return { path: `${pre(path)}value`, message: `operator ${op} needs a string` };
  }
  if (op === 'matches') {
    const bad = safeRegex(value as string);
    if (bad) return { path: `${pre(path)}value`, message: bad };
  }
  if (!['in', 'not_in', 'between'].includes(op) && Array.isArray(value)) return { path: `${pre(path)}value`, message: `operator ${op} takes one value, not an array` };
  return null;
}

const LEAF_BY_KIND: Record<string, ReturnType<typeof TypeCompiler.Compile>> = {};
for (const leaf of Leaf) {
  const kindSchema = (leaf.properties as Record<string, TSchema>).kind as TSchema & { const?: string; anyOf?: { const: string }[] };
  const kinds = kindSchema.anyOf ? kindSchema.anyOf.map((k) => k.const) : [kindSchema.const!];
  const c = TypeCompiler.Compile(leaf);
  for (const k of kinds) LEAF_BY_KIND[k] = c;
}

/** Schema check node by node (by `kind`), so an error names its exact path in the tree, not just "the root". */
function checkShape(node: unknown, path: string, depth: number): DefinitionError | null {
  if (depth > MAX_DEPTH + 1) return { path, message: `definition is nested deeper than ${MAX_DEPTH}` };
  if (!node || typeof node !== 'object' || Array.isArray(node)) return { path, message: 'must be a condition object' };
  const n = node as Record<string, unknown>;
  const at = (p: string) => (path === '(root)' ? p : `${pre(path)}${p}`);
  if (n.kind === 'and' || n.kind === 'or') {
    for (const k of Object.keys(n)) if (k !== 'kind' && k !== 'conditions') return { path: at(k), message: 'unknown field' };
    if (!Array.isArray(n.conditions) || n.conditions.length === 0 || n.conditions.length > 50) return { path: at('conditions'), message: 'must be an array of 1 to 50 conditions' };
    for (let i = 0; i < n.conditions.length; i++) {
      const e = checkShape(n.conditions[i], at(`conditions.${i}`), depth + 1);
      if (e) return e;
    }
    return null;
  }
  if (n.kind === 'not') {
    for (const k of Object.keys(n)) if (k !== 'kind' && k !== 'condition') return { path: at(k), message: 'unknown field' };
    return checkShape(n.condition, at('condition'), depth + 1);
  }
  const c = typeof n.kind === 'string' ? LEAF_BY_KIND[n.kind] : undefined;
  if (!c) return { path: at('kind'), message: `unknown condition kind ${JSON.stringify(n.kind)}` };
  if (c.Check(n)) return null;
  const e = c.Errors(n).First()!;
  const rel = e.path.replace(/^\//, '').replace(/\//g, '.');
  const unknown = e.message.includes('additional') || e.message.includes('Unexpected property');
  return { path: rel ? at(rel) : path, message: unknown ? 'unknown field' : e.message };
}

/** Validates a definition: schema, then limits and meaning. Returns the first error with its path in the tree. */
export function checkDefinition(def: unknown): DefinitionError | null {
  const shape = checkShape(def, '(root)', 0);
  if (shape) return shape;
  let nodes = 0;
  const walk = (c: Condition, path: string, depth: number): DefinitionError | null => {
    nodes++;
    if (nodes > MAX_NODES) return { path, message: `definition has more than ${MAX_NODES} conditions` };
    if (depth > MAX_DEPTH) return { path, message: `definition is nested deeper than ${MAX_DEPTH}` };
    switch (c.kind) {
      case 'and':
      case 'or':
        for (let i = 0; i < c.conditions.length; i++) {
          const e = walk(c.conditions[i]!, `${pre(path)}conditions.${i}`, depth + 1);
          if (e) return e;
        }
        return null;
      case 'not':
        return walk(c.condition, `${pre(path)}condition`, depth + 1);
      case 'trait':
      case 'computed':
        if (c.kind === 'computed' && !(COMPUTED_PROPERTIES as readonly string[]).includes(c.property) && !c.property.startsWith('custom.')) {
          return { path: `${pre(path)}property`, message: `unknown computed property ${c.property}` };
        }
        return checkComparison(c, path);
      case 'event': {
        if (c.op === 'count' && !c.count) return { path: `${pre(path)}count`, message: 'op count needs count: { op, value }' };
        if (c.op !== 'count' && c.count) return { path: `${pre(path)}count`, message: `count is only used with op count` };
        for (let i = 0; i < (c.filters ?? []).length; i++) {
          const e = checkComparison(c.filters![i]!, `${pre(path)}filters.${i}`);
          if (e) return e;
        }
        return null;
      }
      case 'first_performed':
      case 'last_performed':
        for (let i = 0; i < (c.filters ?? []).length; i++) {
          const e = checkComparison(c.filters![i]!, `${pre(path)}filters.${i}`);
          if (e) return e;
        }
        return checkComparison(c, path);
      case 'geo':
        if (!c.country && !c.city && !c.near) return { path, message: 'geo needs country, city or near' };
        return null;
      default:
        return null;
    }
  };
  return walk(def as Condition, '(root)', 0);
}

/** Segment ids a definition refers to (for cycle checks and dependency tracking). */
export function referencedSegments(c: Condition): string[] {
  switch (c.kind) {
    case 'and':
    case 'or':
      return c.conditions.flatMap(referencedSegments);
    case 'not':
      return referencedSegments(c.condition);
    case 'segment':
      return [c.segmentId];
    default:
      return [];
  }
}

/** Every leaf condition of a tree. */
export function leaves(c: Condition): LeafCondition[] {
  if (c.kind === 'and' || c.kind === 'or') return c.conditions.flatMap(leaves);
  if (c.kind === 'not') return leaves(c.condition);
  return [c];
}
