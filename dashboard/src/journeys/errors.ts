// Validation errors of a draft (POST /api/journeys/validate, or a 400's field) placed where the marketer looks: on
// the canvas node, next to the form field. The API's schema messages are for developers ("Expected string length
// greater or equal to 1"); an unconnected output is said as such, with what to do.
import { ENTRY_ID, type JourneyDef, outputsOf } from './graph.ts';

export interface JErr {
  path: string;
  message: string;
}

export const nodeOfPath = (path: string) => /^nodes\.([A-Za-z0-9_-]+)(?:\.|$)/.exec(path)?.[1] ?? null;
export const stripPath = (e: JErr) => (e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message);

/** The error in plain words: an empty reference is "not connected", whatever schema rule it broke first. */
export function friendly(e: JErr, def: JourneyDef | null): JErr {
  if (!def) return e;
  if (e.path === 'start' && !def.start) return { path: e.path, message: 'the entry is not connected to a first step' };
  const id = nodeOfPath(e.path);
  const n = id ? def.nodes[id] : undefined;
  if (!n || !id) return e;
  const rel = e.path.slice(`nodes.${id}.`.length);
  const out = outputsOf(n).find((o) => o.field === rel);
  if (out && !out.target) return { path: e.path, message: `${out.label === 'next' ? 'next step' : `“${out.label}”`} is not connected` };
  return e;
}

/** "next: points to …" for a node's field, the bare message for the node itself. */
function nodeMessage(e: JErr, id: string) {
  const rel = e.path.slice(`nodes.${id}`.length).replace(/^\./, '');
  const m = stripPath(e);
  return rel && !m.includes('not connected') ? `${rel}: ${m}` : m;
}

/** Errors per canvas node (ENTRY_ID for entry / start) and the rest (journey settings) as lines. */
export function placeErrors(errors: JErr[], def: JourneyDef | null): { byNode: Map<string, string[]>; general: string[] } {
  const byNode = new Map<string, string[]>();
  const general: string[] = [];
  const add = (k: string, m: string) => byNode.set(k, [...(byNode.get(k) ?? []), m]);
  for (const raw of errors) {
    const e = friendly(raw, def);
    const n = nodeOfPath(e.path);
    if (n && def?.nodes?.[n]) add(n, nodeMessage(e, n));
    else if (e.path === 'start' || e.path.startsWith('entry')) add(ENTRY_ID, e.path === 'start' && !def?.start ? stripPath(e) : `${e.path}: ${stripPath(e)}`);
    else general.push(e.path && e.path !== '(root)' && e.path !== 'definition' ? `${e.path}: ${stripPath(e)}` : stripPath(e));
  }
  return { byNode, general };
}

/** A lookup of a node's field errors, relative to the node: e('duration.amount') claims that path and below it. */
export function fieldErrors(errors: JErr[], def: JourneyDef, id: string) {
  const mine = errors.filter((x) => nodeOfPath(x.path) === id).map((x) => friendly(x, def));
  const base = `nodes.${id}`;
  return {
    e: (field: string) => {
      const hit = mine.find((x) => x.path === `${base}.${field}` || x.path.startsWith(`${base}.${field}.`));
      return hit ? stripPath(hit) : null;
    },
    /** errors about the node as a whole (unreachable, a delay with both duration and until…) */
    own: mine.filter((x) => x.path === base).map(stripPath),
    /** every error under a prefix, with its path relative to it (for the condition rows) */
    under: (prefix: string) => mine.filter((x) => x.path === `${base}.${prefix}` || x.path.startsWith(`${base}.${prefix}.`)).map((x) => ({ path: x.path.slice(`${base}.${prefix}`.length).replace(/^\./, ''), message: stripPath(x) })),
  };
}
export type FieldErrors = ReturnType<typeof fieldErrors>;
