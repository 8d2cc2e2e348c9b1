// The journey definition language: a graph of nodes, one TypeBox schema for API validation, types and OpenAPI (the
// same approach as src/segments/definition.ts). What the schema cannot say — edges point at nodes, every node is
// reachable, no instant cycle, a send has its template, weights add up — lives in `checkJourney`, whose errors name
// the node and field (`nodes.<id>.<field>`), so a 400 tells the marketer exactly what to fix.
import '../schema/formats.ts';
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Condition, PropertyFilter, checkDefinition } from '../segments/definition.ts';
import type { ChannelName as MessagingChannel } from '../messaging/types.ts';

export const MAX_JOURNEY_NODES = 200;
export const MAX_BRANCHES = 20;
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

const Id = Type.String({ minLength: 1, maxLength: 100 });
const NodeRef = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]{1,64}$' });
const EventName = Type.String({ minLength: 1, maxLength: 256 });
const Filters = Type.Array(PropertyFilter, { maxItems: 20 });
/** Local wall-clock time 'HH:MM' (24 h). */
const LocalTime = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
/** Local weekdays, 0 = Sunday .. 6 = Saturday. */
const Weekdays = Type.Array(Type.Integer({ minimum: 0, maximum: 6 }), { minItems: 1, maxItems: 7 });
const Scalar = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]);
const Obj = <T extends Parameters<typeof Type.Object>[0]>(props: T) => Type.Object(props, { additionalProperties: false });

/** A positive amount of time. Days and weeks are calendar days in the person's zone (same wall time after DST). */
export const Duration = Obj({
  amount: Type.Number({ exclusiveMinimum: 0, maximum: 100_000 }),
  unit: Type.Union([Type.Literal('seconds'), Type.Literal('minutes'), Type.Literal('hours'), Type.Literal('days'), Type.Literal('weeks')]),
});
export type Duration = Static<typeof Duration>;

/** An event by name with optional property filters (the segments' PropertyFilter). */
export const EventMatch = Obj({ event: EventName, filters: Type.Optional(Filters) });
export type EventMatch = Static<typeof EventMatch>;
/** A change of segment membership. */
export const SegmentChange = Obj({ segment: Id, op: Type.Union([Type.Literal('entered'), Type.Literal('left')]) });
export type SegmentChange = Static<typeof SegmentChange>;
/** What a wait or an exit rule reacts to. */
export const Trigger = Type.Union([EventMatch, SegmentChange]);
export type Trigger = Static<typeof Trigger>;

// ---- entry ----
const EventEntry = Obj({ kind: Type.Literal('event'), event: EventName, filters: Type.Optional(Filters) });
const SegmentEntry = Obj({ kind: Type.Literal('segment'), segment: Id, op: Type.Union([Type.Literal('entered'), Type.Literal('left')]) });
/** A date trait (birthday, renewal…): `offsetDays` before (<0) or after (>0) the date, at a local time. */
const DateTraitEntry = Obj({
  kind: Type.Literal('date_trait'),
  trait: Type.String({ minLength: 1, maxLength: 200 }),
  offsetDays: Type.Integer({ minimum: -366, maximum: 366 }),
  time: LocalTime,
  /** every year on the anniversary (default) or only on the date itself */
  recurring: Type.Optional(Type.Boolean()),
});
const ApiEntry = Obj({ kind: Type.Literal('api') });
/** Recurring (`every` day / week at `time` local, weekdays for weeks) or once at a fixed ISO instant (`at`). */
const ScheduleEntry = Obj({
  kind: Type.Literal('schedule'),
  every: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('week')])),
  time: Type.Optional(LocalTime),
  weekdays: Type.Optional(Weekdays),
  at: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  /** optional audience: only members of this segment enter */
  segment: Type.Optional(Id),
});
const ENTRIES = [EventEntry, SegmentEntry, DateTraitEntry, ApiEntry, ScheduleEntry];
export const JourneyEntry = Type.Union(ENTRIES);
export type JourneyEntry = Static<typeof JourneyEntry>;

// ---- nodes ----
/** A condition on the event that made the person enter (its properties; optionally its name). */
export const TriggerCondition = Obj({ kind: Type.Literal('trigger'), event: Type.Optional(EventName), filters: Type.Array(PropertyFilter, { minItems: 1, maxItems: 20 }) });
export type TriggerCondition = Static<typeof TriggerCondition>;
/** Split conditions: any segments Condition (profile, segment, list, events…) or the triggering event's properties. */
export const SplitCondition = Type.Union([Condition, TriggerCondition]);
export type SplitCondition = Static<typeof SplitCondition>;

const ChannelName = Type.Union(['email', 'sms', 'push', 'onsite', 'webhook'].map((c) => Type.Literal(c as 'email' | 'sms' | 'push' | 'onsite' | 'webhook')));
const TemplateId = Type.String({ minLength: 1, maxLength: 100 });

const DelayNode = Obj({
  kind: Type.Literal('delay'),
  /** wait this long … */
  duration: Type.Optional(Duration),
  /** … or until the next local time (on one of the weekdays) in the person's zone */
  until: Type.Optional(Obj({ time: LocalTime, weekdays: Type.Optional(Weekdays) })),
  next: NodeRef,
});
const WaitUntilNode = Obj({
  kind: Type.Literal('wait_until'),
  /** an event (with filters), or a segment membership change (already true on arrival → continue at once) */
  until: Trigger,
  timeoutAfter: Duration,
  next: NodeRef,
  onTimeout: NodeRef,
});
const SplitNode = Obj({ kind: Type.Literal('split'), condition: SplitCondition, yes: NodeRef, no: NodeRef });
const MultiSplitNode = Obj({
  kind: Type.Literal('multi_split'),
  branches: Type.Array(Obj({ condition: SplitCondition, next: NodeRef }), { minItems: 1, maxItems: MAX_BRANCHES }),
  else: NodeRef,
});
/** Weights and the holdout are shares that add up to at most 100; a person is drawn in proportion to them (40 + holdout 10 holds out 10/50 = 20%). */
const RandomSplitNode = Obj({
  kind: Type.Literal('random_split'),
  branches: Type.Array(Obj({ weight: Type.Number(), next: NodeRef }), { minItems: 1, maxItems: MAX_BRANCHES }),
  /** share that leaves the journey as a control group (exit reason 'holdout') */
  holdout: Type.Optional(Type.Number()),
});
const SendNode = Obj({
  kind: Type.Literal('send'),
  channel: Type.Union([ChannelName, Type.Literal('best')]),
  templates: Obj({
    email: Type.Optional(TemplateId),
    sms: Type.Optional(TemplateId),
    push: Type.Optional(TemplateId),
    onsite: Type.Optional(TemplateId),
    webhook: Type.Optional(TemplateId),
  }),
  /** default: the journey's topic / priority */
  topic: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  next: NodeRef,
});
const UpdateTraitNode = Obj({ kind: Type.Literal('update_trait'), trait: Type.String({ minLength: 1, maxLength: 200 }), value: Scalar, next: NodeRef });
const ListNode = Obj({ kind: Type.Literal('list'), op: Type.Union([Type.Literal('add'), Type.Literal('remove')]), listId: Id, next: NodeRef });
const WebhookNode = Obj({ kind: Type.Literal('webhook'), templateId: TemplateId, next: NodeRef });
const JumpNode = Obj({ kind: Type.Literal('jump'), journeyId: Id });
const ExitNode = Obj({ kind: Type.Literal('exit'), reason: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) });

const NODES = [DelayNode, WaitUntilNode, SplitNode, MultiSplitNode, RandomSplitNode, SendNode, UpdateTraitNode, ListNode, WebhookNode, JumpNode, ExitNode];
export const JourneyNode = Type.Union(NODES);
export type JourneyNode = Static<typeof JourneyNode>;
export type NodeKind = JourneyNode['kind'];
// The schema's channels are messaging's ChannelName, exactly (a compile error here when one side changes).
type SendTemplates = Extract<JourneyNode, { kind: 'send' }>['templates'];
type _SameChannels = [keyof SendTemplates] extends [MessagingChannel] ? ([MessagingChannel] extends [keyof SendTemplates] ? true : never) : never;
const _sameChannels: _SameChannels = true;
void _sameChannels;
export type NodeOf<K extends NodeKind> = Extract<JourneyNode, { kind: K }>;

// ---- journey ----
const Goal = Obj({ event: EventName, filters: Type.Optional(Filters), withinDays: Type.Number({ exclusiveMinimum: 0, maximum: 3650 }) });
const Header = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  topic: Type.String({ minLength: 1, maxLength: 64 }),
  priority: Type.Integer({ minimum: 0, maximum: 100 }),
  /** what the journey promotes: a purchase of one of these cancels its pending promotions (cross-channel) */
  promotes: Type.Optional(
    Obj({
      products: Type.Optional(Type.Array(Id, { maxItems: 500 })),
      categories: Type.Optional(Type.Array(Id, { maxItems: 100 })),
      /** also the product(s) of the event that made the person enter (the cart's product for cart abandonment) */
      fromTrigger: Type.Optional(Type.Boolean()),
    }),
  ),
  reentry: Obj({ policy: Type.Union([Type.Literal('once'), Type.Literal('every'), Type.Literal('always')]), days: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3650 })) }),
  /** at most this many entries per person, ever */
  entryLimit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  goal: Type.Optional(Goal),
  start: NodeRef,
};
export const JourneyDefinition = Type.Object(
  {
    ...Header,
    entry: JourneyEntry,
    exits: Type.Optional(Type.Array(Trigger, { maxItems: 20 })),
    nodes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }), JourneyNode, { minProperties: 1, maxProperties: MAX_JOURNEY_NODES }),
  },
  { additionalProperties: false, $id: 'JourneyDefinition', title: 'JourneyDefinition' },
);
export type JourneyDefinition = Static<typeof JourneyDefinition>;

export interface JourneyError {
  path: string;
  message: string;
}

// ---- shape checks, piece by piece so every error names its place ----
const compile = (s: TSchema) => TypeCompiler.Compile(s);
const HEADER = compile(Type.Object({ ...Header, entry: Type.Unknown(), exits: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 20 })), nodes: Type.Unknown() }, { additionalProperties: false }));
const byKind = (schemas: TSchema[]) => Object.fromEntries(schemas.map((s) => [(s.properties.kind as { const: string }).const, compile(s)]));
const ENTRY_BY_KIND = byKind(ENTRIES);
const NODE_BY_KIND = byKind(NODES);
const EVENT_MATCH = compile(EventMatch);
const SEGMENT_CHANGE = compile(SegmentChange);
const TRIGGER_CONDITION = compile(TriggerCondition);

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The first schema error of `value`, at `path` + its relative path; 'unknown field' for additional properties. */
function schemaError(c: ReturnType<typeof compile>, value: unknown, path: string): JourneyError | null {
  if (c.Check(value)) return null;
  const errors = [...c.Errors(value)];
  // Prefer an unknown field, then a missing one: the most actionable message first.
  const e = errors.find((x) => x.message === 'Unexpected property') ?? errors.find((x) => x.message === 'Expected required property') ?? errors[0]!;
  const rel = e.path.replace(/^\//, '').replace(/\//g, '.');
  const message = e.message === 'Unexpected property' ? 'unknown field' : e.message === 'Expected required property' ? 'missing required field' : e.message;
  return { path: rel ? `${path}.${rel}` : path, message };
}

/** Property filters (at `parent`.filters) checked with the segments' own rules (operator fits the value, safe regexes…). */
function filtersError(filters: unknown, parent: string): JourneyError | null {
  if (!Array.isArray(filters)) return null;
  const e = checkDefinition({ kind: 'event', event: 'x', op: 'performed', filters });
  return e ? { path: `${parent}.${e.path}`, message: e.message } : null;
}

function triggerError(t: unknown, path: string): JourneyError | null {
  if (!isObj(t)) return { path, message: 'must be { event, filters? } or { segment, op }' };
  if ('segment' in t) return schemaError(SEGMENT_CHANGE, t, path);
  if ('event' in t) return schemaError(EVENT_MATCH, t, path) ?? filtersError(t.filters, path);
  return { path, message: 'must be { event, filters? } or { segment, op }' };
}

function conditionError(c: unknown, path: string): JourneyError | null {
  if (isObj(c) && c.kind === 'trigger') return schemaError(TRIGGER_CONDITION, c, path) ?? filtersError(c.filters, path);
  const e = checkDefinition(c);
  return e ? { path: e.path === '(root)' ? path : `${path}.${e.path}`, message: e.message } : null;
}

function nodeShapeError(n: unknown, path: string): JourneyError | null {
  if (!isObj(n)) return { path, message: 'must be a node object' };
  const c = typeof n.kind === 'string' ? NODE_BY_KIND[n.kind] : undefined;
  if (!c) return { path: `${path}.kind`, message: `unknown node kind ${JSON.stringify(n.kind)}` };
  // Conditions first: the segments checker names the exact place inside them.
  if (n.kind === 'split' && 'condition' in n) {
    const e = conditionError(n.condition, `${path}.condition`);
    if (e) return e;
  }
  if (n.kind === 'multi_split' && Array.isArray(n.branches)) {
    for (let i = 0; i < n.branches.length; i++) {
      const b = n.branches[i];
      if (isObj(b) && 'condition' in b) {
        const e = conditionError(b.condition, `${path}.branches.${i}.condition`);
        if (e) return e;
      }
    }
  }
  if (n.kind === 'wait_until' && 'until' in n) {
    const e = triggerError(n.until, `${path}.until`);
    if (e) return e;
  }
  return schemaError(c, n, path);
}

function shapeErrors(def: unknown): JourneyError[] {
  if (!isObj(def)) return [{ path: '(root)', message: 'must be a journey object' }];
  const out: JourneyError[] = [];
  const head = schemaError(HEADER, def, '(root)');
  if (head) out.push({ ...head, path: head.path.replace(/^\(root\)\./, '') });
  const entry = def.entry;
  if (!isObj(entry)) out.push({ path: 'entry', message: 'must be an entry object' });
  else {
    const c = typeof entry.kind === 'string' ? ENTRY_BY_KIND[entry.kind] : undefined;
    const e = c ? (schemaError(c, entry, 'entry') ?? filtersError(entry.filters, 'entry')) : { path: 'entry.kind', message: `unknown entry kind ${JSON.stringify(entry.kind)}` };
    if (e) out.push(e);
  }
  if (isObj(def.goal)) {
    const e = filtersError(def.goal.filters, 'goal');
    if (e) out.push(e);
  }
  if (Array.isArray(def.exits)) {
    def.exits.forEach((t, i) => {
      const e = triggerError(t, `exits.${i}`);
      if (e) out.push(e);
    });
  }
  if (!isObj(def.nodes)) {
    if (!head || !head.path.startsWith('nodes')) out.push({ path: 'nodes', message: 'must be an object of nodes by id' });
    return out;
  }
  const ids = Object.keys(def.nodes);
  if (ids.length === 0) out.push({ path: 'nodes', message: 'a journey needs at least one node' });
  if (ids.length > MAX_JOURNEY_NODES) out.push({ path: 'nodes', message: `a journey has at most ${MAX_JOURNEY_NODES} nodes (has ${ids.length})` });
  for (const id of ids) {
    if (!NODE_ID.test(id)) {
      out.push({ path: `nodes.${id}`, message: 'node ids are 1 to 64 letters, digits, _ or -' });
      continue;
    }
    const e = nodeShapeError(def.nodes[id], `nodes.${id}`);
    if (e) out.push(e);
  }
  return out;
}

// ---- graph ----
/** The outgoing edges of a node as [field, target] (field as it appears in error paths). */
export function edges(n: JourneyNode): [string, string][] {
  switch (n.kind) {
    case 'delay':
    case 'send':
    case 'update_trait':
    case 'list':
    case 'webhook':
      return [['next', n.next]];
    case 'wait_until':
      return [
        ['next', n.next],
        ['onTimeout', n.onTimeout],
      ];
    case 'split':
      return [
        ['yes', n.yes],
        ['no', n.no],
      ];
    case 'multi_split':
      return [...n.branches.map((b, i): [string, string] => [`branches.${i}.next`, b.next]), ['else', n.else]];
    case 'random_split':
      return n.branches.map((b, i) => [`branches.${i}.next`, b.next]);
    case 'jump':
    case 'exit':
      return [];
  }
}

/** Nodes where a person waits for time or an event: the only ones a cycle may pass through. */
export const isWaitingNode = (n: JourneyNode) => n.kind === 'delay' || n.kind === 'wait_until';

function semanticErrors(def: JourneyDefinition): JourneyError[] {
  const out: JourneyError[] = [];
  const nodes = def.nodes;
  const has = (id: string) => Object.prototype.hasOwnProperty.call(nodes, id);
  if (def.reentry.policy === 'every' && def.reentry.days === undefined) out.push({ path: 'reentry.days', message: "policy 'every' needs days (re-enter at most once per N days)" });
  if (def.reentry.policy !== 'every' && def.reentry.days !== undefined) out.push({ path: 'reentry.days', message: `days is only used with policy 'every'` });
  if (def.entry.kind === 'schedule') {
    const s = def.entry;
    if (s.at !== undefined && (s.every !== undefined || s.time !== undefined || s.weekdays !== undefined)) out.push({ path: 'entry', message: 'a schedule is either once (at) or recurring (every + time), not both' });
    else if (s.at === undefined && s.every === undefined) out.push({ path: 'entry.every', message: 'a schedule needs every (day | week) with a time, or at (an ISO time)' });
    else if (s.every !== undefined && s.time === undefined) out.push({ path: 'entry.time', message: 'a recurring schedule needs a local time HH:MM' });
    else if (s.every === 'week' && s.weekdays === undefined) out.push({ path: 'entry.weekdays', message: 'a weekly schedule needs weekdays' });
    else if (s.every === 'day' && s.weekdays !== undefined) out.push({ path: 'entry.weekdays', message: 'weekdays are only used with every: week' });
    else if (s.at !== undefined && Number.isNaN(Date.parse(s.at))) out.push({ path: 'entry.at', message: 'must be an ISO date-time' });
  }
  if (!has(def.start)) out.push({ path: 'start', message: `start node ${JSON.stringify(def.start)} does not exist` });

  for (const [id, n] of Object.entries(nodes)) {
    const p = `nodes.${id}`;
    for (const [field, target] of edges(n)) {
      if (!has(target)) out.push({ path: `${p}.${field}`, message: `points to ${JSON.stringify(target)}, which is not a node` });
      else if (target === id && !isWaitingNode(n)) out.push({ path: `${p}.${field}`, message: 'points to itself (an instant loop)' });
    }
    switch (n.kind) {
      case 'delay':
        if ((n.duration === undefined) === (n.until === undefined)) out.push({ path: p, message: 'a delay needs exactly one of duration or until' });
        break;
      case 'send': {
        const channels = Object.keys(n.templates) as (keyof typeof n.templates)[];
        if (channels.length === 0) out.push({ path: `${p}.templates`, message: 'a send needs at least one template' });
        else if (n.channel !== 'best' && !n.templates[n.channel]) out.push({ path: `${p}.templates.${n.channel}`, message: `channel ${n.channel} has no template` });
        break;
      }
      case 'random_split': {
        let total = n.holdout ?? 0;
        n.branches.forEach((b, i) => {
          if (!(b.weight > 0)) out.push({ path: `${p}.branches.${i}.weight`, message: 'weights must be > 0' });
          total += b.weight;
        });
        if (n.holdout !== undefined && !(n.holdout > 0)) out.push({ path: `${p}.holdout`, message: 'a holdout must be > 0 (leave it out for none)' });
        if (total > 100) out.push({ path: `${p}.branches`, message: `weights and holdout add up to ${total}, more than 100` });
        break;
      }
      default:
        break;
    }
  }
  if (out.some((e) => e.path === 'start' || e.message.includes('which is not a node'))) return out;

  // Reachability from start.
  const seen = new Set<string>([def.start]);
  const queue = [def.start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const [, t] of edges(nodes[id]!)) {
      if (!seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  for (const id of Object.keys(nodes)) if (!seen.has(id)) out.push({ path: `nodes.${id}`, message: 'not reachable from start' });

  // Instant cycles: a cycle among nodes a person passes through at once (edges out of delay / wait_until removed).
  const state = new Map<string, 1 | 2>(); // 1 on the stack, 2 done
  const stack: string[] = [];
  const reported = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 1);
    stack.push(id);
    const n = nodes[id]!;
    if (!isWaitingNode(n)) {
      for (const [field, t] of edges(n)) {
        if (t === id) continue; // reported above
        const s = state.get(t);
        if (s === 1) {
          const cycle = [...stack.slice(stack.indexOf(t)), t];
          const key = [...cycle].sort().join(',');
          if (!reported.has(key)) {
            reported.add(key);
            out.push({ path: `nodes.${id}.${field}`, message: `instant cycle ${cycle.join(' → ')}: it must pass through a delay or wait_until` });
          }
        } else if (s === undefined) visit(t);
      }
    }
    stack.pop();
    state.set(id, 2);
  };
  for (const id of Object.keys(nodes)) if (!state.has(id)) visit(id);
  return out;
}

/** Validates a journey: schema (every part by itself), then the graph and meaning. Empty = valid. */
export function checkJourney(def: unknown): JourneyError[] {
  const shape = shapeErrors(def);
  if (shape.length > 0) return shape;
  return semanticErrors(def as JourneyDefinition);
}

/** Throws with every error when `def` is not a valid journey; returns it typed otherwise. */
export function assertJourney(def: unknown): JourneyDefinition {
  const errors = checkJourney(def);
  if (errors.length > 0) throw new Error(`invalid journey: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  return def as JourneyDefinition;
}
