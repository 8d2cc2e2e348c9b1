// The journey canvas (@xyflow/react): the entry, every node with its summary, its validation errors and its live
// counts (visits / waiting), edges labelled by branch, and dangling references drawn to a red "missing" node.
// Editing: each named output (next, yes/no, branches, timeout…) is its own handle; dragging one onto a node sets that
// reference in the definition, selecting an edge and pressing Delete/Backspace clears it, and Delete on a selected
// node removes the node. Positions are a view only (the definition has none): laid out once, new nodes placed under
// the node they were added after, and "Tidy up" lays everything out again.
import { Background, type Connection, Controls, type Edge, type FinalConnectionState, Handle, MarkerType, type Node, type NodeChange, type NodeProps, Position, ReactFlow, type ReactFlowInstance, applyNodeChanges } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import './journeys.css';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ENTRY_ID, type JourneyDef, KIND_LABEL, edgesOf, entrySummary, layout, nodeSummary, outputsOf } from './graph.ts';

type Out = { field: string; label: string; connected: boolean };
type Data = {
  id: string;
  kind: string;
  label: string;
  summary: string;
  errors: string[];
  visits?: number;
  waiting?: number;
  visited: boolean;
  /** shown in the side panel (an edge may be selected instead, so not xyflow's `selected`) */
  current: boolean;
  outs: Out[];
  connectable: boolean;
};
type JFlowNode = Node<Data, 'j'>;

const JNodeView = memo(function JNodeView({ data }: NodeProps<JFlowNode>) {
  const entry = data.id === ENTRY_ID;
  const missing = data.kind === 'missing';
  const cls = ['jn', `jn-${data.kind}`, data.errors.length ? 'jn-error' : '', data.current ? 'jn-selected' : '', data.visited ? 'jn-visited' : '', data.outs.length > 1 ? 'jn-multi' : ''].join(' ');
  return (
    <div className={cls} data-node={data.id}>
      {entry ? null : <Handle type="target" position={Position.Top} isConnectable={data.connectable && !missing} className="jh-in" />}
      <div className="jn-head">
        <span className="jn-kind">{data.label}</span>
        {entry || missing ? null : <code className="jn-id">{data.id}</code>}
      </div>
      <div className="jn-sum">{data.summary}</div>
      {data.visits !== undefined || data.waiting !== undefined ? (
        <div className="jn-metrics" title="Visits (all versions) and people waiting here now">
          <span>
            <strong>{data.visits ?? 0}</strong> visits
          </span>
          <span>
            <strong>{data.waiting ?? 0}</strong> waiting
          </span>
        </div>
      ) : null}
      {data.errors.map((e, i) => (
        <div key={i} className="jn-err">
          {e}
        </div>
      ))}
      {data.outs.map((o, i) => (
        <Handle
          key={o.field}
          id={o.field}
          type="source"
          position={Position.Bottom}
          isConnectable={data.connectable}
          className={o.connected ? 'jh-out' : 'jh-out jh-open'}
          style={{ left: `${((i + 1) / (data.outs.length + 1)) * 100}%` }}
          title={data.connectable ? `Drag to connect “${o.label}”` : o.label}
        >
          {/* a connected output is named by its edge's label; an open one says which it is */}
          {!o.connected ? <span className="jh-label">{`${o.label} ⟂`}</span> : null}
        </Handle>
      ))}
    </div>
  );
});
const nodeTypes = { j: JNodeView };

export interface CanvasProps {
  def: JourneyDef;
  /** error messages per node id (ENTRY_ID for start / entry) */
  errors: Map<string, string[]>;
  metrics?: Record<string, { visits: number; waiting: number }> | null;
  visited?: Set<string>;
  selected: string | null;
  onSelect: (id: string | null) => void;
  /** template names by id, for the send nodes' summaries */
  names?: Record<string, string>;
  /** editing allowed (a viewer, or an archived journey: read-only canvas) */
  editable?: boolean;
  /** an output of `source` (its field, 'start' for the entry) now goes to `target` ('' = disconnected) */
  onConnect?: (source: string, field: string, target: string) => void;
  onDeleteNode?: (id: string) => void;
  /** a node just added from the palette, to place under `near` */
  placeNear?: { id: string; near: string | null } | null;
}

const NODE_W = 220;
const GAP_Y = 150;

export default function Canvas({ def, errors, metrics, visited, selected, onSelect, names, editable = false, onConnect, onDeleteNode, placeNear }: CanvasProps) {
  const edges = useMemo(() => edgesOf(def), [def]);
  const structure = JSON.stringify([Object.keys(def.nodes ?? {}), edges.map((e) => e.id)]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const pos = useMemo(() => layout(def, edges), [structure]);
  const [selEdge, setSelEdge] = useState<string | null>(null);
  const edgeById = useMemo(() => new Map(edges.map((e) => [e.id, e])), [edges]);
  if (selEdge && !edgeById.has(selEdge)) setSelEdge(null);

  // Until someone drags a node, every change lays the reachable part out again (a chain built step by step stays a
  // tidy column); after that, positions are theirs and only new nodes are placed.
  const moved = useRef(false);
  const reach = useMemo(() => {
    const seen = new Set([ENTRY_ID]);
    const q = [ENTRY_ID];
    for (let u = q.shift(); u !== undefined; u = q.shift()) for (const e of edges) if (e.source === u && !e.missing && !seen.has(e.target)) (seen.add(e.target), q.push(e.target));
    return seen;
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [structure]);
  const build = useCallback(
    (prev: JFlowNode[]): JFlowNode[] => {
      const before = new Map(prev.map((n) => [n.id, n]));
      const auto = !moved.current;
      const out: JFlowNode[] = [];
      const placed = () => [...out.map((n) => n.position)];
      // A node that was not on the canvas before: under the node it was added after (or that points to it), else
      // under everything; moved right until it overlaps nothing.
      const placeNew = (id: string) => {
        const near = (placeNear?.id === id ? placeNear.near : null) ?? edges.find((e) => e.target === id && e.source !== id)?.source ?? null;
        const np = near ? (out.find((n) => n.id === near)?.position ?? before.get(near)?.position) : undefined;
        const all = placed();
        const c = np ? { x: np.x, y: np.y + GAP_Y } : { x: all.length ? Math.min(...all.map((p) => p.x)) : 0, y: all.length ? Math.max(...all.map((p) => p.y)) + GAP_Y : 0 };
        while (all.some((p) => Math.abs(p.x - c.x) < NODE_W + 10 && Math.abs(p.y - c.y) < 120)) c.x += NODE_W + 30;
        return c;
      };
      const overlaps = (c: { x: number; y: number }) => out.some((n) => Math.abs(n.position.x - c.x) < NODE_W + 10 && Math.abs(n.position.y - c.y) < 100);
      const push = (id: string, d: Omit<Data, 'id' | 'current' | 'connectable'>, fallback?: { x: number; y: number }) => {
        const p = before.get(id);
        const real = id !== ENTRY_ID && d.kind !== 'missing';
        const ariaLabel = `${d.label}${real ? ` ${id}` : ''}: ${d.summary}${d.errors.length ? `. ${d.errors.join('. ')}` : ''}`;
        const laid = auto && reach.has(id) ? pos.get(id) : undefined;
        const kept = p?.position && !(auto && !reach.has(id) && overlaps(p.position)) ? p.position : undefined;
        const position = laid ?? kept ?? (before.size ? (fallback ?? placeNew(id)) : (pos.get(id) ?? fallback ?? { x: 0, y: 0 }));
        const current = id === selected;
        out.push({ ...(p ?? {}), id, type: 'j', position, data: { ...d, id, current, connectable: editable }, selected: current && !selEdge, selectable: true, draggable: true, deletable: false, ariaLabel });
      };
      const entryOut: Out[] = [{ field: 'start', label: 'start', connected: !!def.start }];
      push(ENTRY_ID, { kind: 'entry', label: 'Entry', summary: entrySummary(def.entry), errors: errors.get(ENTRY_ID) ?? [], visited: !!visited?.size, outs: entryOut }, before.size ? undefined : { x: 0, y: 0 });
      // The laid-out part first, so that nodes placed by hand avoid it.
      const order = Object.entries(def.nodes ?? {}).sort(([a], [b]) => Number(reach.has(b)) - Number(reach.has(a)));
      for (const [id, n] of order) {
        const outs = outputsOf(n).map((o) => ({ field: o.field, label: o.label, connected: !!o.target }));
        push(id, { kind: n.kind, label: KIND_LABEL[n.kind] ?? n.kind, summary: nodeSummary(n, names), errors: errors.get(id) ?? [], visits: metrics ? (metrics[id]?.visits ?? 0) : undefined, waiting: metrics ? (metrics[id]?.waiting ?? 0) : undefined, visited: !!visited?.has(id), outs });
      }
      for (const e of edges) {
        if (!e.missing || out.some((n) => n.id === `missing:${e.target}`)) continue;
        const src = out.find((n) => n.id === e.source)?.position ?? { x: 0, y: 0 };
        push(`missing:${e.target}`, { kind: 'missing', label: 'Missing node', summary: `“${e.target}” does not exist`, errors: [], visited: false, outs: [] }, { x: src.x + 250, y: src.y + 60 });
      }
      return out;
    },
    [def, edges, pos, reach, errors, metrics, visited, selected, names, editable, placeNear, selEdge],
  );
  const [nodes, setNodes] = useState<JFlowNode[]>(() => build([]));
  useEffect(() => setNodes((prev) => build(prev)), [build]);
  // A node added or removed (or a missing one drawn): fit the view again once it is measured. Not on a new edge:
  // the view should not jump under the pointer that just drew it.
  const flow = useRef<ReactFlowInstance<JFlowNode, Edge> | null>(null);
  const first = useRef(true);
  const fitTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refit = useCallback((ms: number) => {
    clearTimeout(fitTimer.current);
    fitTimer.current = setTimeout(() => void flow.current?.fitView({ padding: 0.15, maxZoom: 1, duration: 150 }), ms);
  }, []);
  const nodeSet = JSON.stringify([Object.keys(def.nodes ?? {}), edges.filter((e) => e.missing).map((e) => e.target)]);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    refit(400);
  }, [nodeSet, refit]);
  // The canvas changes size with the window (phone ↔ desktop, the side panel moving below): fit again.
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    let seen = false;
    const ro = new ResizeObserver(() => (seen ? refit(150) : (seen = true)));
    ro.observe(box.current);
    return () => (ro.disconnect(), clearTimeout(fitTimer.current));
  }, [refit]);
  const onNodesChange = useCallback((ch: NodeChange<JFlowNode>[]) => {
    if (ch.some((c) => c.type === 'position' && c.dragging)) moved.current = true;
    setNodes((ns) => applyNodeChanges(ch.filter((c) => c.type !== 'select' && c.type !== 'remove'), ns));
  }, []);

  const canTarget = (id: string | null | undefined) => !!id && id !== ENTRY_ID && !id.startsWith('missing:');
  const connectFromFlow = useCallback((c: Connection) => canTarget(c.target) && onConnect?.(c.source, c.sourceHandle ?? 'next', c.target), [onConnect]);
  // Dropped on a node's body rather than next to its input handle: still a connection to that node.
  const onConnectEnd = useCallback(
    (ev: MouseEvent | TouchEvent, st: FinalConnectionState) => {
      if (st.isValid || !st.fromNode || !st.fromHandle) return;
      const pt = 'changedTouches' in ev ? ev.changedTouches[0] : ev;
      if (!pt) return;
      const el = document.elementFromPoint(pt.clientX, pt.clientY)?.closest<HTMLElement>('.react-flow__node');
      const target = el?.dataset.id;
      if (canTarget(target)) onConnect?.(st.fromNode.id, st.fromHandle.id ?? 'next', target!);
    },
    [onConnect],
  );

  // Delete / Backspace act on what was last clicked in the canvas (an edge, else the selected node), and only when
  // the canvas has the focus or was just clicked: not while typing in the side panel or after clicking a button.
  const pointerInside = useRef(false);
  useEffect(() => {
    const down = (e: PointerEvent) => {
      pointerInside.current = !!box.current?.contains(e.target as globalThis.Node);
      // xyflow keeps the focus where it was on a click in the pane or on an edge: take it from the side panel so
      // Delete means the canvas's selection, not the character before the caret.
      const a = document.activeElement as HTMLElement | null;
      if (pointerInside.current && a && a !== document.body && !box.current!.contains(a)) a.blur();
    };
    const key = (e: KeyboardEvent) => {
      if (!editable || (e.key !== 'Delete' && e.key !== 'Backspace')) return;
      const a = document.activeElement;
      if (a && (a.tagName === 'INPUT' || a.tagName === 'SELECT' || a.tagName === 'TEXTAREA' || (a as HTMLElement).isContentEditable)) return;
      if (!(box.current?.contains(a) || pointerInside.current)) return;
      const edge = selEdge ? edgeById.get(selEdge) : undefined;
      if (edge) {
        e.preventDefault();
        onConnect?.(edge.source, edge.source === ENTRY_ID ? 'start' : edge.field.slice(`nodes.${edge.source}.`.length), '');
        setSelEdge(null);
      } else if (selected && def.nodes[selected]) {
        e.preventDefault();
        onDeleteNode?.(selected);
      }
    };
    document.addEventListener('pointerdown', down, true);
    document.addEventListener('keydown', key);
    return () => (document.removeEventListener('pointerdown', down, true), document.removeEventListener('keydown', key));
  }, [editable, selEdge, edgeById, selected, def.nodes, onConnect, onDeleteNode]);

  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e) => {
        const sel = e.id === selEdge;
        const color = sel ? '#3451d1' : e.missing ? '#c62828' : '#7a86a8';
        return {
          id: e.id,
          source: e.source,
          sourceHandle: e.source === ENTRY_ID ? 'start' : e.field.slice(`nodes.${e.source}.`.length),
          target: e.missing ? `missing:${e.target}` : e.target,
          label: e.label,
          type: 'smoothstep',
          selected: sel,
          selectable: editable,
          markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18, color },
          style: e.missing ? { stroke: color, strokeDasharray: '6 4', strokeWidth: 2 } : { stroke: color, strokeWidth: sel ? 3 : 1.5 },
          labelStyle: { fontSize: 11, fill: '#3a4360' },
          labelBgStyle: { fill: '#f6f7fb' },
          animated: !!visited?.has(e.source) && visited.has(e.target),
          focusable: false,
          interactionWidth: 16,
        };
      }),
    [edges, visited, selEdge, editable],
  );
  const sel = selEdge ? edgeById.get(selEdge) : undefined;

  return (
    <div
      ref={box}
      className={editable ? 'canvas-box canvas-editable' : 'canvas-box'}
      onKeyDown={(e) => {
        // Enter or Space on a focused node opens it in the side panel (Tab moves between nodes).
        const el = (e.target as HTMLElement).closest<HTMLElement>('.react-flow__node');
        if (!el || (e.key !== 'Enter' && e.key !== ' ')) return;
        const id = el.dataset.id ?? '';
        e.preventDefault();
        setSelEdge(null);
        onSelect(id === ENTRY_ID || id.startsWith('missing:') ? null : id);
      }}
    >
      <ReactFlow
        nodes={nodes}
        edges={flowEdges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onInit={(i) => void (flow.current = i)}
        onNodeClick={(_, n) => (setSelEdge(null), onSelect(n.id === ENTRY_ID || n.id.startsWith('missing:') ? null : n.id))}
        onEdgeClick={(_, e) => editable && setSelEdge(e.id)}
        onPaneClick={() => (setSelEdge(null), onSelect(null))}
        onConnect={connectFromFlow}
        onConnectEnd={onConnectEnd}
        isValidConnection={(c) => canTarget(c.target)}
        nodesConnectable={editable}
        connectionRadius={40}
        edgesFocusable={false}
        deleteKeyCode={null}
        fitView
        fitViewOptions={{ padding: 0.15, maxZoom: 1 }}
        minZoom={0.2}
        maxZoom={1.5}
        proOptions={{ hideAttribution: false }}
      >
        <Background gap={20} size={1} color="#dde1ee" />
        <Controls showInteractive={false} />
      </ReactFlow>
      <div className="canvas-tools">
        {sel ? (
          <span className="canvas-edge" role="status">
            <span>
              {sel.source === ENTRY_ID ? 'entry' : sel.source} → {sel.target}
              {sel.label ? ` (${sel.label})` : ''}
            </span>
            <button type="button" className="btn btn-small btn-danger-outline" onClick={() => (onConnect?.(sel.source, sel.source === ENTRY_ID ? 'start' : sel.field.slice(`nodes.${sel.source}.`.length), ''), setSelEdge(null))}>
              Delete connection
            </button>
          </span>
        ) : null}
        <button type="button" className="btn btn-small" onClick={() => ((moved.current = false), setNodes(build([])), refit(50))} title="Lay the nodes out again from the entry">
          Tidy up
        </button>
      </div>
    </div>
  );
}
