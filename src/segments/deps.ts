// Pure: what can change a segment's answer. The incremental evaluator re-evaluates a person only for segments whose
// dependencies intersect what changed about them; segment references are followed so dependents are re-evaluated too.
import type { Condition, CustomProperty } from './definition.ts';
import { ENGAGEMENT_EVENTS } from './evaluate.ts';

export interface Deps {
  /** needs each event's context (geo reads context.location) */
  context?: boolean;
  /** reasons ('e:Order Completed', 'i:Message Opened', 'traits', 'consent', 'identity', 'list', 'rfm') */
  reasons: Set<string>;
  /** any client event at all (channels_used, geo from event context) */
  anyEvent: boolean;
  segments: Set<string>;
}

export function dependencies(
  c: Condition,
  custom: Record<string, CustomProperty> = {},
  d: Deps = { reasons: new Set(), anyEvent: false, segments: new Set() },
): Deps {
  switch (c.kind) {
    case 'and':
    case 'or':
      for (const x of c.conditions) dependencies(x, custom, d);
      break;
    case 'not':
      dependencies(c.condition, custom, d);
      break;
    case 'trait':
      d.reasons.add('traits');
      break;
    case 'event':
      d.reasons.add(`${c.internal ? 'i' : 'e'}:${c.event}`);
      break;
    case 'first_performed':
    case 'last_performed':
      d.reasons.add(`e:${c.event}`);
      break;
    case 'geo':
      d.reasons.add('traits');
      d.anyEvent = true;
      d.context = true;
      break;
    case 'reachable':
      d.reasons.add('consent');
      d.reasons.add('identity');
      break;
    case 'engagement':
      for (const e of Object.values(ENGAGEMENT_EVENTS)) d.reasons.add(`i:${e}`);
      break;
    case 'computed':
      if (c.property.startsWith('rfm_')) d.reasons.add('rfm');
      else if (c.property.startsWith('custom.')) {
        const def = custom[c.property.slice(7)];
        if (def) d.reasons.add(`e:${def.event}`);
        else d.anyEvent = true; // defined later: be safe
      }
      else if (c.property === 'channels_used') d.anyEvent = true;
      else {
        d.reasons.add('e:Order Completed');
        d.reasons.add('e:Order Refunded');
      }
      break;
    case 'segment':
      d.segments.add(c.segmentId);
      break;
    case 'list':
      d.reasons.add('list');
      break;
  }
  return d;
}

/** Does anything in `reasons` (what changed about a person) touch a segment with these dependencies? */
export function touches(deps: Deps, reasons: Set<string>): boolean {
  if (reasons.has('all') || reasons.has('merge')) return true;
  for (const r of reasons) {
    if (deps.reasons.has(r)) return true;
    if (deps.anyEvent && r.startsWith('e:')) return true;
  }
  return false;
}

/**
 * Orders segments so that every segment comes after the segments it refers to. Returns null when the references
 * form a cycle (which definitions must not).
 */
export function topoOrder<T extends { id: string; deps: Deps }>(segs: T[]): T[] | null {
  const byId = new Map(segs.map((s) => [s.id, s]));
  const out: T[] = [];
  const state = new Map<string, 1 | 2>();
  const visit = (s: T): boolean => {
    const st = state.get(s.id);
    if (st === 2) return true;
    if (st === 1) return false;
    state.set(s.id, 1);
    for (const ref of s.deps.segments) {
      const t = byId.get(ref);
      if (t && !visit(t)) return false;
    }
    state.set(s.id, 2);
    out.push(s);
    return true;
  };
  for (const s of segs) if (!visit(s)) return null;
  return out;
}

/** Which events (and whether their context) evaluation needs, so loading facts reads only those. */
export interface FactNeeds {
  events: Set<string> | 'all';
  context: boolean;
}

export function factNeeds(depsList: Deps[]): FactNeeds {
  const names = new Set<string>();
  let all = false;
  let context = false;
  for (const d of depsList) {
    if (d.anyEvent) all = true;
    if (d.context) context = true;
    for (const r of d.reasons) if (r.startsWith('e:') || r.startsWith('i:')) names.add(r.slice(2));
  }
  return { events: all ? 'all' : names, context };
}
