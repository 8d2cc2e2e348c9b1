// The journey canvas (@xyflow/react): the entry, every node with its summary, its validation errors and its live
// counts (visits / waiting), edges labelled by branch, and dangling references drawn to a red "missing" node.
// Nodes can be dragged to tidy the view (positions are not saved); clicking or pressing Enter selects a node.
import { Background, Controls, type Edge, Handle, MarkerType, type Node, type NodeChange, type NodeProps, Position, ReactFlow, type ReactFlowInstance, applyNodeChanges } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ENTRY_ID, type JourneyDef, KIND_LABEL, edgesOf, entrySummary, layout, nodeSummary } from './graph.ts';

type Data = {
  id: string;
  kind: string;
  label: string;
  summary: string;
  errors: string[];
  visits?: number;
  waiting?: number;
  visited: boolean;
};
type JFlowNode = Node<Data, 'j'>;

const JNodeView = memo(function JNodeView({ data, selected }: NodeProps<JFlowNode>) {
  const entry = data.id === ENTRY_ID;
  const missing = data.kind === 'missing';
  const cls = ['jn', `jn-${data.kind}`, data.errors.length ? 'jn-error' : '', selected ? 'jn-selected' : '', data.visited ? 'jn-visited' : ''].join(' ');
  return (
    <div className={cls} data-node={data.id}>
      {entry ? null : <Handle type="target" position={Position.Top} isConnectable={false} />}
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
      {data.kind === 'exit' || data.kind === 'jump' || missing ? null : <Handle type="source" position={Position.Bottom} isConnectable={false} />}
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
}

export default function Canvas({ def, errors, metrics, visited, selected, onSelect, names }: CanvasProps) {
  const edges = useMemo(() => edgesOf(def), [def]);
  const structure = JSON.stringify([Object.keys(def.nodes ?? {}), edges.map((e) => e.id)]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const pos = useMemo(() => layout(def, edges), [structure]);

  const build = useCallback(
    (prev: JFlowNode[]): JFlowNode[] => {
      const before = new Map(prev.map((n) => [n.id, n]));
      const out: JFlowNode[] = [];
      const push = (id: string, d: Omit<Data, 'id'>, fallback: { x: number; y: number }) => {
        const p = before.get(id);
        const ariaLabel = `${d.label}${id === ENTRY_ID || d.kind === 'missing' ? '' : ` ${id}`}: ${d.summary}${d.errors.length ? `. ${d.errors.join('. ')}` : ''}`;
        out.push({ ...(p ?? {}), id, type: 'j', position: p?.position ?? pos.get(id) ?? fallback, data: { ...d, id }, selected: id === selected, selectable: true, draggable: true, ariaLabel });
      };
      push(ENTRY_ID, { kind: 'entry', label: 'Entry', summary: entrySummary(def.entry), errors: errors.get(ENTRY_ID) ?? [], visited: !!visited?.size }, { x: 0, y: 0 });
      for (const [id, n] of Object.entries(def.nodes ?? {})) {
        push(
          id,
          { kind: n.kind, label: KIND_LABEL[n.kind] ?? n.kind, summary: nodeSummary(n, names), errors: errors.get(id) ?? [], visits: metrics ? (metrics[id]?.visits ?? 0) : undefined, waiting: metrics ? (metrics[id]?.waiting ?? 0) : undefined, visited: !!visited?.has(id) },
          { x: 0, y: 0 },
        );
      }
      for (const e of edges) {
        if (!e.missing || out.some((n) => n.id === `missing:${e.target}`)) continue;
        const src = out.find((n) => n.id === e.source)?.position ?? { x: 0, y: 0 };
        push(`missing:${e.target}`, { kind: 'missing', label: 'Missing node', summary: `“${e.target}” does not exist`, errors: [], visited: false }, { x: src.x + 250, y: src.y + 60 });
      }
      return out;
    },
    [def, edges, pos, errors, metrics, visited, selected, onSelect, names],
  );
  const [nodes, setNodes] = useState<JFlowNode[]>(() => build([]));
  useEffect(() => setNodes((prev) => build(prev)), [build]);
  // A node added, removed or pointed elsewhere (a missing one drawn): fit the view again once it is measured.
  const flow = useRef<ReactFlowInstance<JFlowNode, Edge> | null>(null);
  const first = useRef(true);
  const fitTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  const refit = useCallback((ms: number) => {
    clearTimeout(fitTimer.current);
    fitTimer.current = setTimeout(() => void flow.current?.fitView({ padding: 0.15, maxZoom: 1, duration: 150 }), ms);
  }, []);
  useEffect(() => {
    if (first.current) return void (first.current = false);
    refit(400);
  }, [structure, refit]);
  // The canvas changes size with the window (phone ↔ desktop, the side panel moving below): fit again.
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    let seen = false;
    const ro = new ResizeObserver(() => (seen ? refit(150) : (seen = true)));
    ro.observe(box.current);
    return () => (ro.disconnect(), clearTimeout(fitTimer.current));
  }, [refit]);
  const onNodesChange = useCallback((ch: NodeChange<JFlowNode>[]) => setNodes((ns) => applyNodeChanges(ch.filter((c) => c.type !== 'select' && c.type !== 'remove'), ns)), []);

  const flowEdges = useMemo<Edge[]>(
    () =>
      edges.map((e) => ({
        id: e.id,
        source: e.source,
        target: e.missing ? `missing:${e.target}` : e.target,
        label: e.label,
        type: 'smoothstep',
        markerEnd: { type: MarkerType.ArrowClosed, width: 18, height: 18, color: e.missing ? '#c62828' : '#7a86a8' },
        style: e.missing ? { stroke: '#c62828', strokeDasharray: '6 4', strokeWidth: 2 } : { stroke: '#7a86a8', strokeWidth: 1.5 },
        labelStyle: { fontSize: 11, fill: '#3a4360' },
        labelBgStyle: { fill: '#f6f7fb' },
        animated: !!visited?.has(e.source) && visited.has(e.target),
        focusable: false,
      })),
    [edges, visited],
  );

  return (
    <div
      ref={box}
      className="canvas-box"
      onKeyDown={(e) => {
        // Enter or Space on a focused node opens it in the side panel (Tab moves between nodes).
        const el = (e.target as HTMLElement).closest<HTMLElement>('.react-flow__node');
        if (!el || (e.key !== 'Enter' && e.key !== ' ')) return;
        const id = el.dataset.id ?? '';
        e.preventDefault();
        onSelect(id === ENTRY_ID || id.startsWith('missing:') ? null : id);
      }}
    >
    <ReactFlow
      nodes={nodes}
      edges={flowEdges}
      nodeTypes={nodeTypes}
      onNodesChange={onNodesChange}
      onInit={(i) => void (flow.current = i)}
      onNodeClick={(_, n) => onSelect(n.id === ENTRY_ID || n.id.startsWith('missing:') ? null : n.id)}
      onPaneClick={() => onSelect(null)}
      nodesConnectable={false}
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
    </div>
  );
}
