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
  const GAP_Y = 150;
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

/** A condition in a few words for the node's card: "reachable sms and plan is gold". */
export function condSummary(c: any): string {
  if (!c?.kind) return '…';
  switch (c.kind) {
    case 'and':
    case 'or':
      return (c.conditions ?? []).length ? (c.conditions ?? []).map(condSummary).join(` ${c.kind} `) : '(no conditions)';
    case 'not':
      return `not ${condSummary(c.condition)}`;
    case 'trait':
      return `${c.trait || '?'} ${c.op}${c.value !== undefined ? ` ${JSON.stringify(c.value)}` : ''}`;
    case 'computed':
      return `${c.property} ${c.op}${c.value !== undefined ? ` ${JSON.stringify(c.value)}` : ''}`;
    case 'event':
      return `${c.op === 'not_performed' ? 'never did' : 'did'} “${c.event || '?'}”`;
    case 'segment':
      return `${c.negate ? 'not ' : ''}in segment ${c.segmentId || '?'}`;
    case 'reachable':
      return `reachable by ${c.channel}`;
    case 'trigger':
      return `entry event ${(c.filters ?? []).map((f: any) => `${f.path} ${f.op}${f.value !== undefined ? ` ${JSON.stringify(f.value)}` : ''}`).join(', ')}`;
    default:
      return c.kind;
  }
}

export function nodeSummary(n: JNode, names: Record<string, string> = {}): string {
  switch (n.kind) {
    case 'delay':
      return n.duration ? `wait ${dur(n.duration)}` : n.until ? `until ${n.until.time}${n.until.weekdays ? ` on days ${n.until.weekdays.join(',')}` : ''}` : 'wait ?';
    case 'wait_until':
      return `${trig(n.until)} or ${dur(n.timeoutAfter)}`;
    case 'split':
      return `if ${condSummary(n.condition)}`;
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

/** One output of a node: the handle id on the canvas is `field` (as the API names it after nodes.<id>.). */
export interface Output {
  field: string;
  label: string;
  target: string;
}

/** The outputs of a node in display order (the same fields edgesOf reads), connected or not. */
export function outputsOf(n: JNode): Output[] {
  const o = (field: string, label: string, target: unknown): Output => ({ field, label, target: typeof target === 'string' ? target : '' });
  switch (n.kind) {
    case 'wait_until':
      return [o('next', 'happened', n.next), o('onTimeout', 'timeout', n.onTimeout)];
    case 'split':
      return [o('yes', 'yes', n.yes), o('no', 'no', n.no)];
    case 'multi_split':
      return [...(n.branches ?? []).map((b: any, i: number) => o(`branches.${i}.next`, `branch ${i + 1}`, b?.next)), o('else', 'else', n.else)];
    case 'random_split':
      return (n.branches ?? []).map((b: any, i: number) => o(`branches.${i}.next`, `${String.fromCharCode(65 + (i % 26))} ${b?.weight ?? '?'}%`, b?.next));
    case 'jump':
    case 'exit':
      return [];
    default:
      return [o('next', 'next', n.next)];
  }
}

/** The node with one output (a field of outputsOf) pointed at `target` ('' = not connected). */
export function withOutput(n: JNode, field: string, target: string): JNode {
  const m = /^branches\.(\d+)\.next$/.exec(field);
  if (m) return { ...n, branches: (n.branches ?? []).map((b: any, i: number) => (i === Number(m[1]) ? { ...b, next: target } : b)) };
  return { ...n, [field]: target };
}

/** Sets an edge: from the entry (`start`) or a node's output. */
export function connect(def: JourneyDef, source: string, field: string, target: string): JourneyDef {
  if (source === ENTRY_ID) return { ...def, start: target };
  const n = def.nodes[source];
  return n ? { ...def, nodes: { ...def.nodes, [source]: withOutput(n, field, target) } } : def;
}

/** Removes a node; whatever pointed at it becomes unconnected (shown as an error to fix, not a silent exit). */
export function removeNode(def: JourneyDef, id: string): JourneyDef {
  const nodes: Record<string, JNode> = {};
  for (const [k, n] of Object.entries(def.nodes)) {
    if (k === id) continue;
    nodes[k] = outputsOf(n).reduce((acc, out) => (out.target === id ? withOutput(acc, out.field, '') : acc), n);
  }
  return { ...def, nodes, start: def.start === id ? '' : def.start };
}

/** A free id for a new node: email, email_2, email_3… */
export function freeId(def: JourneyDef, base: string): string {
  if (!def.nodes[base]) return base;
  for (let i = 2; ; i++) if (!def.nodes[`${base}_${i}`]) return `${base}_${i}`;
}

/** The palette: every node kind, sends once per channel (a marketer thinks "add an SMS", not "a send of channel sms"). */
export const PALETTE: { key: string; label: string; group: 'Message' | 'Timing' | 'Logic' | 'Action' }[] = [
  { key: 'send:email', label: 'Email', group: 'Message' },
  { key: 'send:sms', label: 'SMS', group: 'Message' },
  { key: 'send:push', label: 'Push', group: 'Message' },
  { key: 'send:onsite', label: 'In-app', group: 'Message' },
  { key: 'send:best', label: 'Best channel', group: 'Message' },
  { key: 'webhook', label: 'Webhook', group: 'Message' },
  { key: 'delay', label: 'Delay', group: 'Timing' },
  { key: 'wait_until', label: 'Wait until', group: 'Timing' },
  { key: 'split', label: 'Split (yes/no)', group: 'Logic' },
  { key: 'multi_split', label: 'Multi-split', group: 'Logic' },
  { key: 'random_split', label: 'A/B split', group: 'Logic' },
  { key: 'update_trait', label: 'Update trait', group: 'Action' },
  { key: 'list', label: 'List add/remove', group: 'Action' },
  { key: 'jump', label: 'Jump to journey', group: 'Action' },
  { key: 'exit', label: 'Exit', group: 'Action' },
];
/** The id a palette entry's node gets (then made unique by freeId). */
export const paletteBase = (key: string) => (key.startsWith('send:') ? (key.slice(5) === 'best' ? 'send' : key.slice(5)) : key === 'random_split' ? 'ab_split' : key);

/** Defaults for a new node (a palette key: a kind, or send:<channel>). Outputs start unconnected: '' shows as an error
 *  on the node until connected, so a half-built journey cannot be published by accident. */
export function newNode(key: string, next = ''): JNode {
  const [kind, channel] = key.split(':') as [string, string | undefined];
  switch (kind) {
    case 'delay':
      return { kind, duration: { amount: 1, unit: 'hours' }, next };
    case 'wait_until':
      return { kind, until: { event: 'Order Completed' }, timeoutAfter: { amount: 1, unit: 'days' }, next, onTimeout: next };
    case 'split':
      return { kind, condition: { kind: 'reachable', channel: 'sms' }, yes: next, no: next };
    case 'multi_split':
      return { kind, branches: [{ condition: { kind: 'trait', trait: 'plan', op: 'eq', value: 'gold' }, next }], else: next };
    case 'random_split':
      return { kind, branches: [{ weight: 50, next }, { weight: 50, next }] };
    case 'send':
      return { kind, channel: channel ?? 'email', templates: {}, next };
    case 'update_trait':
      return { kind, trait: 'journey_step', value: 'done', next };
    case 'list':
      return { kind, op: 'add', listId: '', next };
    case 'webhook':
      return { kind, templateId: '', next };
    case 'jump':
      return { kind, journeyId: '' };
    case 'exit':
      return { kind, reason: 'completed' };
    default:
      return { kind, next };
  }
}
