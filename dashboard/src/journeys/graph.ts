// A journey definition as a graph for the canvas: its edges (from next, onTimeout, yes/no, branches, else), nodes
// that edges point to but do not exist (drawn as "missing" so a dangling edge is visible), and a layered layout
// (breadth-first from the entry) — no layout library needed.

export type JNode = Record<string, any> & { kind: string };
export interface JourneyDef {
  name: string;
  topic: string;
  priority: number;
  entry: Record<string, any> & { kind: string };
  reentry: { policy: string; days?: number };
  goal?: { event: string; withinDays: number; filters?: unknown[] };
  exits?: unknown[];
  start: string;
  nodes: Record<string, JNode>;
  [k: string]: unknown;
}

export const ENTRY_ID = '__entry';

export interface GEdge {
  id: string;
  source: string;
  target: string;
  label?: string;
  /** the field holding the reference, as the API names it: nodes.<id>.next */
  field: string;
  missing: boolean;
}

export function edgesOf(def: JourneyDef): GEdge[] {
  const out: GEdge[] = [];
  const nodes = def.nodes ?? {};
  const add = (source: string, target: unknown, field: string, label?: string) => {
    if (typeof target !== 'string' || !target) return;
    out.push({ id: `${source}->${target}:${field}`, source, target, label, field, missing: !(target in nodes) });
  };
  add(ENTRY_ID, def.start, 'start');
  for (const [id, n] of Object.entries(nodes)) {
    const f = (k: string) => `nodes.${id}.${k}`;
    switch (n.kind) {
      case 'wait_until':
        add(id, n.next, f('next'), 'happened');
        add(id, n.onTimeout, f('onTimeout'), 'timeout');
        break;
      case 'split':
        add(id, n.yes, f('yes'), 'yes');
        add(id, n.no, f('no'), 'no');
        break;
      case 'multi_split':
        (n.branches ?? []).forEach((b: any, i: number) => add(id, b?.next, f(`branches.${i}.next`), `branch ${i + 1}`));
        add(id, n.else, f('else'), 'else');
        break;
      case 'random_split':
        (n.branches ?? []).forEach((b: any, i: number) => add(id, b?.next, f(`branches.${i}.next`), `${b?.weight ?? '?'}%`));
        break;
      default:
        add(id, n.next, f('next'));
    }
  }
  return out;
}

/**
 * Layered positions: each node one row below its deepest predecessor (longest path from the entry, loops through
 * waits ignored), so shared exits sink below every branch that reaches them; within a row, nodes sit under the
 * average of their parents to limit crossings. Nodes not reachable from the entry go in a last row.
 */
export function layout(def: JourneyDef, edges: GEdge[]): Map<string, { x: number; y: number }> {
  const succ = new Map<string, string[]>();
  for (const e of edges) if (!e.missing) succ.set(e.source, [...(succ.get(e.source) ?? []), e.target]);
  // Back edges (loops) by depth-first search from the entry.
  const state = new Map<string, 1 | 2>();
  const back = new Set<string>();
  const order: string[] = [];
  const dfs = (u: string) => {
    state.set(u, 1);
    for (const v of succ.get(u) ?? []) {
      if (state.get(v) === 1) back.add(`${u}>${v}`);
      else if (!state.has(v)) dfs(v);
    }
    state.set(u, 2);
    order.push(u);
  };
  dfs(ENTRY_ID);
  order.reverse(); // a topological order of the reachable part, back edges aside
  const depth = new Map<string, number>([[ENTRY_ID, 0]]);
  for (const u of order) for (const v of succ.get(u) ?? []) if (!back.has(`${u}>${v}`)) depth.set(v, Math.max(depth.get(v) ?? 0, depth.get(u)! + 1));
  let max = Math.max(...depth.values());
  for (const id of Object.keys(def.nodes ?? {})) if (!depth.has(id)) depth.set(id, max + 1);
  max = Math.max(...depth.values());
  const rows: string[][] = Array.from({ length: max + 1 }, () => []);
  for (const id of [...order, ...Object.keys(def.nodes ?? {}).filter((n) => !order.includes(n))]) rows[depth.get(id)!]!.push(id);
  const preds = new Map<string, string[]>();
  for (const e of edges) if (!e.missing && !back.has(`${e.source}>${e.target}`)) preds.set(e.target, [...(preds.get(e.target) ?? []), e.source]);
  const pos = new Map<string, { x: number; y: number }>();
  const GAP_X = 260;
  const GAP_Y = 170;
  rows.forEach((ids, d) => {
    const wanted = (id: string) => {
      const xs = (preds.get(id) ?? []).map((p) => pos.get(p)?.x).filter((x): x is number => x !== undefined);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0;
    };
    const sorted = d === 0 ? ids : [...ids].sort((a, b) => wanted(a) - wanted(b));
    sorted.forEach((id, i) => pos.set(id, { x: (i - (sorted.length - 1) / 2) * GAP_X + (sorted.length === 1 ? wanted(id) : 0), y: d * GAP_Y }));
  });
  return pos;
}

const dur = (d: any) => (d && typeof d === 'object' ? `${d.amount} ${d.unit}` : '?');
const trig = (t: any) => (t?.event ? `“${t.event}”` : t?.segment ? `segment ${t.op ?? ''} ${t.segment}` : '?');

export const KIND_LABEL: Record<string, string> = {
  delay: 'Delay',
  wait_until: 'Wait until',
  split: 'Split',
  multi_split: 'Multi-split',
  random_split: 'Random split',
  send: 'Send',
  update_trait: 'Update trait',
  list: 'List',
  webhook: 'Webhook',
  jump: 'Jump',
  exit: 'Exit',
};

export function nodeSummary(n: JNode, names: Record<string, string> = {}): string {
  switch (n.kind) {
    case 'delay':
      return n.duration ? `wait ${dur(n.duration)}` : n.until ? `until ${n.until.time}${n.until.weekdays ? ` on days ${n.until.weekdays.join(',')}` : ''}` : 'wait ?';
    case 'wait_until':
      return `${trig(n.until)} or ${dur(n.timeoutAfter)}`;
    case 'split':
      return n.condition?.kind ? `if ${n.condition.kind}${n.condition.channel ? ` ${n.condition.channel}` : ''}${n.condition.trait ? ` ${n.condition.trait}` : ''}` : 'if …';
    case 'multi_split':
      return `${(n.branches ?? []).length} branches + else`;
    case 'random_split':
      return `${(n.branches ?? []).length} branches${n.holdout ? `, ${n.holdout}% holdout` : ''}`;
    case 'send':
      return `${n.channel === 'best' ? 'best channel' : n.channel}: ${Object.entries(n.templates ?? {}).map(([c, t]) => `${n.channel === 'best' ? `${c} ` : ''}“${names[t as string] ?? t}”`).join(', ') || 'no template'}`;
    case 'update_trait':
      return `${n.trait} = ${JSON.stringify(n.value)}`;
    case 'list':
      return `${n.op} ${n.listId}`;
    case 'webhook':
      return String(names[n.templateId] ?? n.templateId ?? '?');
    case 'jump':
      return `to ${n.journeyId}`;
    case 'exit':
      return n.reason ?? 'exit';
    default:
      return '';
  }
}

export function entrySummary(e: JourneyDef['entry']): string {
  switch (e?.kind) {
    case 'event':
      return `Event “${e.event}”`;
    case 'segment':
      return `${e.op === 'left' ? 'Leaves' : 'Enters'} segment ${e.segment}`;
    case 'date_trait':
      return `Date trait ${e.trait} at ${e.time}`;
    case 'api':
      return 'API call';
    case 'schedule':
      return e.at ? `Once at ${e.at}` : `Every ${e.every} at ${e.time}`;
    default:
      return 'Entry';
  }
}

/** Defaults for a new node of a kind (the empty references show as errors until connected). */
export function newNode(kind: string, next = ''): JNode {
  switch (kind) {
    case 'delay':
      return { kind, duration: { amount: 1, unit: 'days' }, next };
    case 'wait_until':
      return { kind, until: { event: 'Order Completed' }, timeoutAfter: { amount: 1, unit: 'days' }, next, onTimeout: next };
    case 'split':
      return { kind, condition: { kind: 'reachable', channel: 'sms' }, yes: next, no: next };
    case 'send':
      return { kind, channel: 'email', templates: {}, next };
    case 'update_trait':
      return { kind, trait: 'journey_step', value: 'done', next };
    case 'exit':
      return { kind, reason: 'completed' };
    default:
      return { kind, next };
  }
}
