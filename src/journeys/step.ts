// The journey interpreter, pure: given a definition, one person's state in it, one input and the time, it answers the
// new state and what to do (send, update a trait, schedule a timer…). No I/O, no clock, no Math.random: the runtime
// injects `facts` (condition evaluator, random source, the person's zone), so replaying the same inputs after a crash
// gives the same actions — and the same deterministic outbox step ids, so nothing is sent twice.
//
// Order of work for an input: (1) a finished run ignores everything; (2) event and segment inputs first check the
// goal and the exit rules, wherever the person is, even mid-wait; (3) a wait whose time is up takes its timeout
// branch before the input is applied; (4) the input wakes the node it is waiting at, if it is what the node waits
// for; (5) instant nodes are walked until a waiting node or an exit (at most MAX_INSTANT_STEPS, a bug guard).
import { getPath, compare } from '../segments/evaluate.ts';
import type { Condition, PropertyFilter } from '../segments/definition.ts';
import type { ChannelName } from '../messaging/types.ts';
import { localParts, zonedTimeToUtc } from '../messaging/arbiter/local-time.ts';
import type { Duration, EventMatch, JourneyDefinition, JourneyNode, SplitCondition, Trigger } from './definition.ts';

export const MAX_INSTANT_STEPS = 100;
/** Re-entry 'every N days' allows an entry this much early. */
export const REENTRY_SLACK_MS = 3_600_000;
/** The path keeps the last nodes visited (a journey looping through a delay must not grow its state forever). */
export const MAX_PATH = 200;

export interface JourneyEvent {
  name: string;
  properties: Record<string, unknown>;
  timestamp: number;
}

export type JourneyInput =
  | { kind: 'enter'; version: number; entryId: string; event?: JourneyEvent }
  | { kind: 'timer' }
  | { kind: 'event'; event: JourneyEvent }
  | { kind: 'segment'; segmentId: string; change: 'entered' | 'left' };

export type JourneyStatus = 'active' | 'waiting' | 'exited' | 'converted';

export interface JourneyState {
  /** the definition version the person entered (people in flight stay on it) and this entry's id */
  version: number;
  entryId: string;
  enteredAt: number;
  node: string;
  enteredNodeAt: number;
  /** delay: when it ends; wait_until: its timeout */
  waitingUntil?: number;
  /** wait_until: what ends the wait early */
  waitingFor?: Trigger;
  status: JourneyStatus;
  exitReason?: string;
  convertedAt?: number;
  /** node ids in the order visited (the last MAX_PATH) */
  path: string[];
  /** visits per send/webhook node, so a node visited again (a loop through a delay) gets a new step id */
  visits?: Record<string, number>;
  /** the event that made the person enter (split conditions of kind 'trigger' read it) */
  trigger?: JourneyEvent;
}

export interface Facts {
  /** a segments Condition about this person, now (trigger conditions are evaluated here, not by facts) */
  evaluate(condition: Condition): boolean;
  /** uniform in [0, 1); seed it per (journey, entry, node) for replays */
  random(): number;
  /** the person's IANA zone */
  timeZone: string;
}

export type JourneyAction =
  | {
      kind: 'send';
      nodeId: string;
      channel: ChannelName | 'best';
      templates: Partial<Record<ChannelName, string>>;
      topic: string;
      priority: number;
      /** the outbox step: `<version>:<node>:<entry id>` (`:<n>` appended from the 2nd visit); source is `journey:<id>` */
      step: string;
      promotes?: JourneyDefinition['promotes'];
    }
  | { kind: 'update_trait'; nodeId: string; trait: string; value: string | number | boolean | null }
  | { kind: 'list'; nodeId: string; op: 'add' | 'remove'; listId: string }
  | { kind: 'webhook'; nodeId: string; templateId: string; step: string }
  | { kind: 'jump'; nodeId: string; journeyId: string }
  | { kind: 'schedule'; at: number }
  | { kind: 'exit'; reason: string }
  | { kind: 'converted' };

export interface StepResult {
  state: JourneyState;
  actions: JourneyAction[];
  /** nodes visited by this step, in order (per-node counters and the throughput figure count them) */
  visited: string[];
}

const UNIT_MS = { seconds: 1000, minutes: 60_000, hours: 3_600_000 } as const;
const DAY = 86_400_000;

/**
 * `from` + a duration. Seconds/minutes/hours are elapsed time; days/weeks are calendar days in the zone (the same wall
 * time, 23 or 25 hours later across a DST change); a fractional day's remainder is elapsed time.
 */
export function addDuration(from: number, d: Duration, zone: string): number {
  if (d.unit === 'seconds' || d.unit === 'minutes' || d.unit === 'hours') return from + Math.round(d.amount * UNIT_MS[d.unit]);
  const days = d.unit === 'weeks' ? d.amount * 7 : d.amount;
  const whole = Math.floor(days);
  const p = localParts(from, zone);
  const msInMinute = from - Math.floor(from / 60_000) * 60_000;
  const base = zonedTimeToUtc(p.year, p.month, p.day + whole, p.hour, p.minute, zone) + msInMinute;
  return base + Math.round((days - whole) * DAY);
}

/** The first instant after `from` at which the local clock reads `time` (on one of `weekdays`, 0 = Sunday). */
export function nextLocalTime(from: number, time: string, weekdays: number[] | undefined, zone: string): number {
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const p = localParts(from, zone);
  for (let k = 0; k <= 8; k++) {
    const weekday = new Date(Date.UTC(p.year, p.month - 1, p.day + k)).getUTCDay();
    if (weekdays && !weekdays.includes(weekday)) continue;
    const at = zonedTimeToUtc(p.year, p.month, p.day + k, hh, mm, zone);
    if (at > from) return at;
  }
  throw new Error(`no local time ${time} within 8 days`); // unreachable: weekdays is non-empty
}

/** Does an event match a name + property filters? */
export function eventMatches(m: { event: string; filters?: PropertyFilter[] }, e: JourneyEvent, now: number): boolean {
  return m.event === e.name && (m.filters ?? []).every((f) => compare(f, getPath(e.properties, f.path), now).value);
}

function triggerMatches(t: Trigger, input: JourneyInput, now: number): boolean {
  if ('segment' in t) return input.kind === 'segment' && input.segmentId === t.segment && input.change === t.op;
  return input.kind === 'event' && eventMatches(t as EventMatch, input.event, now);
}

function conditionHolds(c: SplitCondition, state: JourneyState, facts: Facts, now: number): boolean {
  if (c.kind === 'trigger') {
    const e = state.trigger;
    if (!e || (c.event !== undefined && c.event !== e.name)) return false;
    return c.filters.every((f) => compare(f, getPath(e.properties, f.path), now).value);
  }
  return facts.evaluate(c);
}

const finished = (s: JourneyState) => s.status === 'exited' || s.status === 'converted';

function clearWait(s: JourneyState): void {
  delete s.waitingUntil;
  delete s.waitingFor;
}

function exit(s: JourneyState, actions: JourneyAction[], reason: string): void {
  clearWait(s);
  s.status = 'exited';
  s.exitReason = reason;
  actions.push({ kind: 'exit', reason });
}

/** Visits `id` and walks on through instant nodes until the person waits or leaves. */
let visited: string[] | null = null;

function walk(def: JourneyDefinition, s: JourneyState, id: string, now: number, facts: Facts, actions: JourneyAction[]): void {
  let current: string | null = id;
  let steps = 0;
  while (current !== null) {
    if (++steps > MAX_INSTANT_STEPS) {
      exit(s, actions, 'instant_step_limit');
      return;
    }
    const nodeId: string = current;
    const n: JourneyNode | undefined = def.nodes[nodeId];
    if (!n) {
      exit(s, actions, `missing_node:${nodeId}`);
      return;
    }
    clearWait(s);
    s.node = nodeId;
    s.enteredNodeAt = now;
    s.status = 'active';
    s.path.push(nodeId);
    visited?.push(nodeId);
    if (s.path.length > MAX_PATH) s.path.splice(0, s.path.length - MAX_PATH);
    const stepId = () => {
      const visits = (s.visits ??= {});
      const v = (visits[nodeId] = (visits[nodeId] ?? 0) + 1);
      return `${s.version}:${nodeId}:${s.entryId}${v > 1 ? `:${v}` : ''}`;
    };
    current = null;
    switch (n.kind) {
      case 'delay': {
        const at = n.duration ? addDuration(now, n.duration, facts.timeZone) : nextLocalTime(now, n.until!.time, n.until!.weekdays, facts.timeZone);
        s.status = 'waiting';
        s.waitingUntil = at;
        actions.push({ kind: 'schedule', at });
        return;
      }
      case 'wait_until': {
        // A segment condition already true on arrival ends the wait at once.
        if ('segment' in n.until) {
          const member = facts.evaluate({ kind: 'segment', segmentId: n.until.segment });
          if (member === (n.until.op === 'entered')) {
            current = n.next;
            break;
          }
        }
        const at = addDuration(now, n.timeoutAfter, facts.timeZone);
        s.status = 'waiting';
        s.waitingUntil = at;
        s.waitingFor = n.until;
        actions.push({ kind: 'schedule', at });
        return;
      }
      case 'split':
        current = conditionHolds(n.condition, s, facts, now) ? n.yes : n.no;
        break;
      case 'multi_split':
        current = n.branches.find((b) => conditionHolds(b.condition, s, facts, now))?.next ?? n.else;
        break;
      case 'random_split': {
        const total: number = n.branches.reduce((a: number, b: { weight: number }) => a + b.weight, 0) + (n.holdout ?? 0);
        let x: number = facts.random() * total;
        const pick: { weight: number; next: string } | undefined = n.branches.find((b: { weight: number }): boolean => (x -= b.weight) < 0);
        if (!pick) {
          // Only the holdout share is left (or rounding put x exactly at the end without a holdout: the last branch).
          if (n.holdout) {
            exit(s, actions, 'holdout');
            return;
          }
          current = n.branches[n.branches.length - 1]!.next;
        } else current = pick.next;
        break;
      }
      case 'send':
        actions.push({
          kind: 'send',
          nodeId,
          channel: n.channel,
          templates: { ...n.templates },
          topic: n.topic ?? def.topic,
          priority: n.priority ?? def.priority,
          step: stepId(),
          ...(def.promotes ? { promotes: def.promotes } : {}),
        });
        current = n.next;
        break;
      case 'update_trait':
        actions.push({ kind: 'update_trait', nodeId, trait: n.trait, value: n.value });
        current = n.next;
        break;
      case 'list':
        actions.push({ kind: 'list', nodeId, op: n.op, listId: n.listId });
        current = n.next;
        break;
      case 'webhook':
        actions.push({ kind: 'webhook', nodeId, templateId: n.templateId, step: stepId() });
        current = n.next;
        break;
      case 'jump':
        actions.push({ kind: 'jump', nodeId, journeyId: n.journeyId });
        exit(s, actions, 'jump');
        return;
      case 'exit':
        exit(s, actions, n.reason ?? 'exit_node');
        return;
    }
  }
}

function clone(s: JourneyState): JourneyState {
  return { ...s, path: [...s.path], ...(s.visits ? { visits: { ...s.visits } } : {}) };
}

/** A wait whose time is up moves on: a delay to next, a wait_until to onTimeout. */
function fireTimer(def: JourneyDefinition, s: JourneyState, now: number, facts: Facts, actions: JourneyAction[]): void {
  const n = def.nodes[s.node];
  if (!n) return exit(s, actions, `missing_node:${s.node}`);
  if (n.kind === 'delay') walk(def, s, n.next, now, facts, actions);
  else if (n.kind === 'wait_until') walk(def, s, n.onTimeout, now, facts, actions);
}

/** Goal and exit rules, on every event / segment input. True when the person left. */
function checkGoalAndExits(def: JourneyDefinition, s: JourneyState, input: JourneyInput, now: number, actions: JourneyAction[]): boolean {
  // A goal event from before the entry (it arrived late) is not a conversion of this entry.
  if (def.goal && input.kind === 'event' && input.event.timestamp >= s.enteredAt && eventMatches(def.goal, input.event, now)) {
    if (input.event.timestamp - s.enteredAt <= def.goal.withinDays * DAY) {
      clearWait(s);
      s.status = 'converted';
      s.convertedAt = input.event.timestamp;
      s.exitReason = 'goal';
      actions.push({ kind: 'converted' }, { kind: 'exit', reason: 'goal' });
    } else exit(s, actions, 'goal_after_window');
    return true;
  }
  const i = (def.exits ?? []).findIndex((t) => triggerMatches(t, input, now));
  if (i >= 0) {
    exit(s, actions, `exit_rule:${i}`);
    return true;
  }
  return false;
}

/**
 * One step of one person's run. `state` is null (or ignored) for an 'enter' input. The returned state is a new
 * object; the input state is not modified.
 */
export function advance(def: JourneyDefinition, state: JourneyState | null, input: JourneyInput, now: number, facts: Facts): StepResult {
  const seen: string[] = [];
  visited = seen;
  try {
    const r = step(def, state, input, now, facts);
    return { ...r, visited: seen };
  } finally {
    visited = null;
  }
}

function step(def: JourneyDefinition, state: JourneyState | null, input: JourneyInput, now: number, facts: Facts): Omit<StepResult, 'visited'> {
  const actions: JourneyAction[] = [];
  if (input.kind === 'enter') {
    const s: JourneyState = {
      version: input.version,
      entryId: input.entryId,
      enteredAt: now,
      node: def.start,
      enteredNodeAt: now,
      status: 'active',
      path: [],
      ...(input.event ? { trigger: input.event } : {}),
    };
    walk(def, s, def.start, now, facts, actions);
    return { state: s, actions };
  }
  if (!state) throw new Error(`advance: input ${input.kind} needs a state (only 'enter' starts a run)`);
  const s = clone(state);
  if (finished(s)) return { state: s, actions };
  if (input.kind !== 'timer' && checkGoalAndExits(def, s, input, now, actions)) return { state: s, actions };
  if (s.status !== 'waiting' || s.waitingUntil === undefined) return { state: s, actions };

  if (s.waitingUntil <= now) {
    fireTimer(def, s, now, facts, actions);
    // The input may still concern the node reached after the timeout (e.g. the next wait).
    if (input.kind === 'timer' || finished(s)) return { state: s, actions };
  } else if (input.kind === 'timer') {
    // Early (clock skew, duplicate timer): nothing moves; the timer is asked for again, idempotently.
    actions.push({ kind: 'schedule', at: s.waitingUntil });
    return { state: s, actions };
  }
  const n = def.nodes[s.node];
  if (s.status === 'waiting' && n?.kind === 'wait_until' && s.waitingFor && triggerMatches(s.waitingFor, input, now)) {
    walk(def, s, n.next, now, facts, actions);
  }
  return { state: s, actions };
}

export interface EntryHistory {
  /** entries so far (any status) */
  count: number;
  lastEnteredAt?: number;
  /** the person is in the journey now */
  active: boolean;
}

/** Re-entry policy and entry limit: may this person enter now? ('always' still refuses a second concurrent run.) */
export function mayEnter(def: Pick<JourneyDefinition, 'reentry' | 'entryLimit'>, h: EntryHistory, now: number): boolean {
  if (h.active) return false;
  if (def.entryLimit !== undefined && h.count >= def.entryLimit) return false;
  if (h.count === 0) return true;
  switch (def.reentry.policy) {
    case 'once':
      return false;
    case 'always':
      return true;
    case 'every':
      // An hour of slack: a daily schedule processed a little earlier than yesterday, or a 23-hour DST day, still counts
      // as the next day.
      return h.lastEnteredAt === undefined || now - h.lastEnteredAt >= (def.reentry.days ?? 0) * DAY - REENTRY_SLACK_MS;
  }
}
