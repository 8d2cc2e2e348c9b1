// One journey: the palette and the canvas (drag from an output to a node to connect it, Delete to remove), per-node
// counts and validation errors, a side panel that edits the selected node (NodeForm) or the journey's settings, save /
// publish / pause / resume / archive, metrics, and test mode. The draft lives here until saved: the API refuses to
// save a draft with errors, so a half-built journey stays in the browser (the page warns before leaving it).
import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, enc, get, post, put } from '../api.ts';
import { num, pct, dateTime } from '../format.ts';
import type { Named } from '../journeys/Conditions.tsx';
import { type JErr, placeErrors } from '../journeys/errors.ts';
import { ENTRY_ID, type JNode, type JourneyDef, KIND_LABEL, connect, freeId, newNode, paletteBase, removeNode } from '../journeys/graph.ts';
import { type Catalog, NodeForm, type Template } from '../journeys/NodeForm.tsx';
import { Palette } from '../journeys/Palette.tsx';
import { Settings } from '../journeys/Settings.tsx';
import { type Journey, TestMode } from '../journeys/TestMode.tsx';
import { Link, useLoc } from '../router.tsx';
import { readOnlyReason, useSession } from '../session.tsx';
import { ErrorBox, Loading, Page, StatusBadge, WriteButton, useAsync, useConfirm, useDebounced, useToast } from '../ui.tsx';

const Canvas = lazy(() => import('../journeys/Canvas.tsx'));
const list = <T,>(path: string, key: string) => get<Record<string, T[]>>(path).then((r) => r[key] ?? []);

export default function JourneyEditor({ id }: { id: string }) {
  const s = useSession();
  const can = s.can('journeys');
  const toast = useToast();
  const confirm = useConfirm();
  const loc = useLoc();
  const res = useAsync(() => get<Journey>(`/journeys/${enc(id)}`), [id]);
  const templates = useAsync(() => list<Template>('/templates', 'templates'), []);
  const segments = useAsync(() => list<Named>('/segments', 'segments'), []);
  const lists = useAsync(() => list<Named>('/lists', 'lists').catch(() => []), []);
  const journeys = useAsync(() => list<Named>('/journeys', 'journeys'), []);
  const topics = useAsync(() => get<{ topics: { id: string; label?: string }[] }>('/messaging/topics').then((r) => r.topics), []);
  const j = res.data;
  const metrics = useAsync(() => (j && j.version > 0 ? get<any>(`/journeys/${enc(id)}/metrics`) : Promise.resolve(null)), [id, j?.version, j?.status]);

  const [draft, setDraft] = useState<JourneyDef | null>(null);
  const [savedKey, setSavedKey] = useState('');
  const [selected, setSelected] = useState<string | null>(loc.query.get('node'));
  const [errors, setErrors] = useState<JErr[]>([]);
  const [validating, setValidating] = useState(false);
  const [actionErr, setActionErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [visited, setVisited] = useState<Set<string> | undefined>(undefined);
  const [placeNear, setPlaceNear] = useState<{ id: string; near: string | null } | null>(null);

  useEffect(() => {
    if (!j) return;
    setDraft(structuredClone(j.draft));
    setSavedKey(JSON.stringify(j.draft));
  }, [j]);
  const key = draft ? JSON.stringify(draft) : '';
  const dirty = !!draft && key !== savedKey;

  // Unsaved changes: the browser asks before leaving the page.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [dirty]);

  // Validate the draft as it changes: every shape and graph error, each naming its node and field.
  useDebounced(
    () => {
      if (!draft || !can) return;
      let live = true;
      setValidating(true);
      post<{ valid: boolean; errors: JErr[] }>('/journeys/validate', draft).then(
        (r) => {
          if (!live) return;
          setErrors(r.errors);
          setValidating(false);
        },
        (e) => {
          if (!live) return;
          setErrors([{ path: '(root)', message: e instanceof Error ? e.message : String(e) }]);
          setValidating(false);
        },
      );
      return () => void (live = false);
    },
    [key, can],
    300,
  );

  const { byNode, general } = useMemo(() => {
    const all = [...errors];
    if (actionErr?.field && !all.some((e) => e.path === actionErr.field)) all.push({ path: actionErr.field, message: actionErr.message });
    return placeErrors(all, draft);
  }, [errors, actionErr, draft]);
  const errorCount = errors.length;

  const setNode = useCallback((nid: string, n: JNode) => setDraft((d) => (d ? { ...d, nodes: { ...d.nodes, [nid]: n } } : d)), []);
  const deleteNode = useCallback((nid: string) => {
    setDraft((d) => (d ? removeNode(d, nid) : d));
    setSelected((s) => (s === nid ? null : s));
  }, []);
  // An edge drawn on the canvas (or cleared: target ''), from the entry (field 'start') or a node's output.
  const onConnect = useCallback((source: string, field: string, target: string) => setDraft((d) => (d ? connect(d, source, field, target) : d)), []);
  const addNode = (key: string) => {
    if (!draft) return;
    const nid = freeId(draft, paletteBase(key));
    setDraft({ ...draft, nodes: { ...draft.nodes, [nid]: newNode(key) } });
    setPlaceNear({ id: nid, near: selected && draft.nodes[selected] ? selected : null });
    setSelected(nid);
  };

  const saveDraft = async (): Promise<boolean> => {
    if (!draft) return false;
    setActionErr(null);
    try {
      const r = await put<Journey>(`/journeys/${enc(id)}`, draft);
      setSavedKey(JSON.stringify(r.draft));
      return true;
    } catch (e) {
      setActionErr(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
      return false;
    }
  };
  const run = async (name: string, fn: () => Promise<void>) => {
    setBusy(name);
    setActionErr(null);
    try {
      await fn();
    } catch (e) {
      setActionErr(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    } finally {
      setBusy(null);
    }
  };
  const save = () => run('save', async () => void ((await saveDraft()) && toast('Draft saved')));
  const publish = () =>
    run('publish', async () => {
      if (dirty && !(await saveDraft())) return;
      const r = await post<Journey>(`/journeys/${enc(id)}/publish`, {});
      res.setData(r);
      toast(`Published version ${r.version}: new entries use it`);
    });
  const status = (action: 'pause' | 'resume' | 'archive') =>
    run(action, async () => {
      if (action === 'archive' && !(await confirm({ title: 'Archive this journey?', body: <p>Everyone still in it exits (reason archived). An archived journey cannot be edited, published or resumed.</p>, confirm: 'Archive', danger: true }))) return;
      const r = await post<Journey>(`/journeys/${enc(id)}/${action}`);
      res.setData({ ...j!, ...r });
      toast(action === 'pause' ? 'Paused: no new entries, people in flight hold' : action === 'resume' ? 'Resumed' : 'Archived');
    });

  if (res.error) {
    return (
      <Page title="Journey">
        <ErrorBox error={res.error} onRetry={res.reload} />
      </Page>
    );
  }
  if (!j || !draft) {
    return (
      <Page title="Journey" subtitle={'\u00a0'} wide>
        <Loading rows={8} height={560} />
      </Page>
    );
  }

  const archived = j.status === 'archived';
  const names = Object.fromEntries((templates.data ?? []).map((t) => [t.id, t.name]));
  const editable = can && !archived;
  const m = metrics.data;
  const publishBlocked = errorCount > 0 || validating;
  const cat: Catalog = { templates: templates.data ?? [], segments: segments.data ?? [], lists: lists.data ?? [], journeys: (journeys.data ?? []).filter((x) => x.id !== id), topics: topics.data ?? [] };
  // A save's or publish's 400 names a field too: shown next to it like the live validation's errors.
  const allErrors = actionErr?.field && !errors.some((e) => e.path === actionErr.field) ? [...errors, { path: actionErr.field, message: actionErr.message }] : errors;
  return (
    <Page
      wide
      title={draft.name || j.name}
      subtitle={
        <>
          <StatusBadge status={j.status} />
          <span>{j.version ? `version ${j.version}${j.publishedAt ? `, published ${dateTime(j.publishedAt)}` : ''}` : 'never published'}</span>
          {dirty ? <span className="badge badge-warn">unsaved changes</span> : null}
          <span className="muted">
            <Link href="/journeys">All journeys</Link>
          </span>
        </>
      }
      actions={
        <>
          {dirty ? (
            <button type="button" className="btn btn-ghost" onClick={() => (setDraft(structuredClone(JSON.parse(savedKey))), setActionErr(null))}>
              Discard changes
            </button>
          ) : null}
          <WriteButton area="journeys" onClick={() => void save()} disabled={!dirty || archived || busy !== null}>
            {busy === 'save' ? 'Saving…' : 'Save draft'}
          </WriteButton>
          <WriteButton area="journeys" className="btn btn-primary" onClick={() => void publish()} disabled={archived || busy !== null || publishBlocked} title={errorCount ? `Fix the ${errorCount} error(s) first` : undefined}>
            {busy === 'publish' ? 'Publishing…' : j.version ? 'Publish new version' : 'Publish'}
          </WriteButton>
          {j.status === 'active' ? (
            <WriteButton area="journeys" onClick={() => void status('pause')} disabled={busy !== null}>
              Pause
            </WriteButton>
          ) : null}
          {j.status === 'paused' ? (
            <WriteButton area="journeys" onClick={() => void status('resume')} disabled={busy !== null}>
              Resume
            </WriteButton>
          ) : null}
          {j.version > 0 && !archived ? (
            <WriteButton area="journeys" className="btn btn-danger-outline" onClick={() => void status('archive')} disabled={busy !== null}>
              Archive
            </WriteButton>
          ) : null}
        </>
      }
    >
      {actionErr && !actionErr.field ? <ErrorBox error={actionErr} /> : null}
      {general.length ? (
        <div className="notice notice-error" role="alert">
          <strong>This journey cannot be published yet:</strong>
          <ul>
            {general.map((g, i) => (
              <li key={i}>{g}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <MetricsStrip m={m} loading={metrics.loading && !m} published={j.version > 0} />
      {editable ? <Palette onAdd={addNode} /> : null}
      <div className="journey-layout">
        <div className="canvas-wrap" aria-label="Journey canvas" role="region">
          <div className="canvas-status" aria-live="polite">
            {validating ? 'Checking…' : errorCount ? `${errorCount} problem${errorCount === 1 ? '' : 's'} to fix` : can ? 'No problems found' : 'Read only'}
          </div>
          <Suspense fallback={<Loading rows={5} height={520} />}>
            <Canvas names={names} def={draft} errors={byNode} metrics={m?.nodes ?? (j.version ? {} : null)} visited={visited} selected={selected} onSelect={setSelected} editable={editable} onConnect={onConnect} onDeleteNode={deleteNode} placeNear={placeNear} />
          </Suspense>
        </div>
        <aside className="side-panel" aria-label="Edit">
          <fieldset disabled={!editable} className="plain-fieldset" title={can ? undefined : readOnlyReason(s.me?.role ?? null)}>
            <legend className="sr-only">Journey editor</legend>
            <NodeList draft={draft} selected={selected} onSelect={setSelected} byNode={byNode} />
            {selected && draft.nodes[selected] ? (
              <NodeForm key={selected} id={selected} node={draft.nodes[selected]!} draft={draft} cat={cat} errors={allErrors} onChange={(n) => setNode(selected, n)} onDelete={() => deleteNode(selected)} />
            ) : (
              <Settings draft={draft} setDraft={setDraft} segments={cat.segments} topics={cat.topics} errs={allErrors} />
            )}
          </fieldset>
        </aside>
      </div>
      <TestMode journey={j} draft={draft} dirty={dirty} can={can} saveDraft={saveDraft} onPath={setVisited} />
    </Page>
  );
}


function MetricsStrip({ m, loading, published }: { m: any; loading: boolean; published: boolean }) {
  if (!published) return <p className="metrics-strip muted">Counts appear once the journey is published and people enter it.</p>;
  if (loading || !m) return <div className="metrics-strip" aria-busy="true" />;
  const sent = m.messages?.sent ?? 0;
  return (
    <dl className="metrics-strip" aria-label="Journey metrics">
      <div>
        <dt>Entered</dt>
        <dd>{num(m.entered)}</dd>
      </div>
      <div>
        <dt>In journey</dt>
        <dd>{num(m.inJourney)}</dd>
      </div>
      <div>
        <dt>Converted</dt>
        <dd>
          {num(m.converted)} <span className="muted small">({pct(m.treatment?.conversionRate)})</span>
        </dd>
      </div>
      <div>
        <dt>Lift vs holdout</dt>
        <dd>{m.lift === null ? '—' : `${m.lift >= 0 ? '+' : ''}${(m.lift * 100).toFixed(1)} pts`}</dd>
      </div>
      <div>
        <dt>Revenue</dt>
        <dd>{m.revenueMinor ? num(m.revenueMinor / 100) : '—'}</dd>
      </div>
      <div>
        <dt>Messages sent</dt>
        <dd>{num(sent)}</dd>
      </div>
    </dl>
  );
}

function NodeList({ draft, selected, onSelect, byNode }: { draft: JourneyDef; selected: string | null; onSelect: (id: string | null) => void; byNode: Map<string, string[]> }) {
  return (
    <details className="node-list" open>
      <summary>Nodes ({Object.keys(draft.nodes).length})</summary>
      <ul>
        <li>
          <button type="button" className={selected === null ? 'node-btn current' : 'node-btn'} aria-pressed={selected === null} onClick={() => onSelect(null)}>
            Journey settings{byNode.get(ENTRY_ID)?.length ? <span className="err-dot" aria-label="has errors" /> : null}
          </button>
        </li>
        {Object.entries(draft.nodes).map(([nid, n]) => (
          <li key={nid}>
            <button type="button" className={selected === nid ? 'node-btn current' : 'node-btn'} aria-pressed={selected === nid} onClick={() => onSelect(nid)}>
              <span className="muted small">{KIND_LABEL[n.kind] ?? n.kind}</span> {nid}
              {byNode.get(nid)?.length ? <span className="err-dot" aria-label="has errors" /> : null}
            </button>
          </li>
        ))}
      </ul>
    </details>
  );
}

