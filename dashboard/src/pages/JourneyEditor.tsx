// One journey: the canvas with per-node counts and validation errors, a side panel to edit the selected node (or the
// journey's settings), save / publish / pause / resume / archive, metrics, and test mode on a simulated clock.
import { Suspense, lazy, useCallback, useEffect, useMemo, useState } from 'react';
import { ApiError, enc, get, post, put } from '../api.ts';
import { dateTime, num, pct } from '../format.ts';
import { ENTRY_ID, type JNode, type JourneyDef, KIND_LABEL, newNode } from '../journeys/graph.ts';
import { Link, useLoc } from '../router.tsx';
import { readOnlyReason, useSession } from '../session.tsx';
import { Card, Empty, ErrorBox, Field, KV, Loading, Page, StatusBadge, WriteButton, described, useAsync, useConfirm, useDebounced, useToast } from '../ui.tsx';

const Canvas = lazy(() => import('../journeys/Canvas.tsx'));

interface Journey {
  id: string;
  name: string;
  status: string;
  version: number;
  draft: JourneyDef;
  definition?: JourneyDef;
  versions?: { version: number; publishedAt: number }[];
  updatedAt: number;
  publishedAt: number | null;
}
interface JErr {
  path: string;
  message: string;
}
interface Template {
  id: string;
  name: string;
  channel: string;
}

const nodeOfPath = (path: string) => /^nodes\.([A-Za-z0-9_-]+)(?:\.|$)/.exec(path)?.[1] ?? null;
const stripPath = (e: JErr) => (e.message.startsWith(`${e.path}: `) ? e.message.slice(e.path.length + 2) : e.message);
/** "next: points to …" for a node's field, the bare message for the node itself. */
function nodeMessage(e: JErr, id: string) {
  const rel = e.path.slice(`nodes.${id}`.length).replace(/^\./, '');
  return rel ? `${rel}: ${stripPath(e)}` : stripPath(e);
}

export default function JourneyEditor({ id }: { id: string }) {
  const s = useSession();
  const can = s.can('journeys');
  const toast = useToast();
  const confirm = useConfirm();
  const loc = useLoc();
  const res = useAsync(() => get<Journey>(`/journeys/${enc(id)}`), [id]);
  const templates = useAsync(() => get<{ templates: Template[] }>('/templates').then((r) => r.templates), []);
  const segments = useAsync(() => get<{ segments: { id: string; name: string }[] }>('/segments').then((r) => r.segments), []);
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
    const byNode = new Map<string, string[]>();
    const general: string[] = [];
    const all = [...errors];
    if (actionErr?.field && !all.some((e) => e.path === actionErr.field)) all.push({ path: actionErr.field, message: actionErr.message });
    for (const e of all) {
      const n = nodeOfPath(e.path);
      if (n && draft?.nodes?.[n]) byNode.set(n, [...(byNode.get(n) ?? []), nodeMessage(e, n)]);
      else if (e.path === 'start' || e.path.startsWith('entry')) byNode.set(ENTRY_ID, [...(byNode.get(ENTRY_ID) ?? []), `${e.path}: ${stripPath(e)}`]);
      else general.push(e.path && e.path !== '(root)' && e.path !== 'definition' ? `${e.path}: ${stripPath(e)}` : stripPath(e));
    }
    return { byNode, general };
  }, [errors, actionErr, draft]);
  const errorCount = errors.length;

  const setNode = useCallback((nid: string, n: JNode | null) => {
    setDraft((d) => {
      if (!d) return d;
      const nodes = { ...d.nodes };
      if (n) nodes[nid] = n;
      else delete nodes[nid];
      return { ...d, nodes };
    });
  }, []);

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
      <div className="journey-layout">
        <div className="canvas-wrap" aria-label="Journey canvas" role="region">
          <div className="canvas-status" aria-live="polite">
            {validating ? 'Checking…' : errorCount ? `${errorCount} problem${errorCount === 1 ? '' : 's'} to fix` : can ? 'No problems found' : ''}
          </div>
          <Suspense fallback={<Loading rows={5} height={520} />}>
            <Canvas names={names} def={draft} errors={byNode} metrics={m?.nodes ?? (j.version ? {} : null)} visited={visited} selected={selected} onSelect={setSelected} />
          </Suspense>
        </div>
        <aside className="side-panel" aria-label="Edit">
          <fieldset disabled={!editable} className="plain-fieldset" title={can ? undefined : readOnlyReason(s.me?.role ?? null)}>
            <legend className="sr-only">Journey editor</legend>
            <NodeList draft={draft} selected={selected} onSelect={setSelected} byNode={byNode} />
            {selected && draft.nodes[selected] ? (
              <NodeForm key={selected} id={selected} node={draft.nodes[selected]!} draft={draft} templates={templates.data ?? []} errs={errors.filter((e) => nodeOfPath(e.path) === selected)} onChange={(n) => setNode(selected, n)} onDelete={() => (setNode(selected, null), setSelected(null))} />
            ) : (
              <Settings draft={draft} setDraft={setDraft} segments={segments.data ?? []} topics={topics.data ?? []} errs={errors} onAdd={(nid) => setSelected(nid)} />
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

const UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks'];
const CHANNELS = ['email', 'sms', 'push', 'onsite', 'webhook'];

function NodeForm({ id, node, draft, templates, errs, onChange, onDelete }: { id: string; node: JNode; draft: JourneyDef; templates: Template[]; errs: JErr[]; onChange: (n: JNode) => void; onDelete: () => void }) {
  const e = (field: string) => {
    const hit = errs.find((x) => x.path === `nodes.${id}.${field}` || x.path.startsWith(`nodes.${id}.${field}.`));
    return hit ? stripPath(hit) : null;
  };
  const nodeErr = errs.filter((x) => x.path === `nodes.${id}`).map(stripPath);
  const set = (patch: Record<string, unknown>) => onChange({ ...node, ...patch } as JNode);
  const p = `n-${id}`;
  const [json, setJson] = useState(() => JSON.stringify(node, null, 2));
  const [jsonErr, setJsonErr] = useState<string | null>(null);
  useEffect(() => setJson(JSON.stringify(node, null, 2)), [node]);
  const ids = Object.keys(draft.nodes).filter((x) => x !== id);

  const ref = (field: string, label: string) => (
    <Field id={`${p}-${field}`} label={label} error={e(field)} hint="Id of the next node">
      <input {...described(`${p}-${field}`, e(field), true)} list={`${p}-ids`} value={String(node[field] ?? '')} onChange={(ev) => set({ [field]: ev.target.value })} autoComplete="off" spellCheck={false} />
    </Field>
  );
  const duration = (field: string, label: string) => {
    const d = (node[field] as { amount: number; unit: string } | undefined) ?? { amount: 1, unit: 'days' };
    return (
      <div className="row-2">
        <Field id={`${p}-${field}-amount`} label={label} error={e(`${field}.amount`) ?? e(field)}>
          <input {...described(`${p}-${field}-amount`, e(`${field}.amount`) ?? e(field))} type="number" value={String(d.amount)} onChange={(ev) => set({ [field]: { ...d, amount: Number(ev.target.value) } })} />
        </Field>
        <Field id={`${p}-${field}-unit`} label="Unit" error={e(`${field}.unit`)}>
          <select id={`${p}-${field}-unit`} value={d.unit} onChange={(ev) => set({ [field]: { ...d, unit: ev.target.value } })}>
            {UNITS.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </Field>
      </div>
    );
  };
  const templateSelect = (ch: string) => {
    const f = `templates.${ch}`;
    const cur = (node.templates ?? {})[ch] ?? '';
    const fit = templates.filter((t) => t.channel === ch);
    return (
      <Field key={ch} id={`${p}-tpl-${ch}`} label={`${ch} template`} error={e(f)}>
        <select
          {...described(`${p}-tpl-${ch}`, e(f))}
          value={cur}
          onChange={(ev) => {
            const t = { ...(node.templates ?? {}) };
            if (ev.target.value) t[ch] = ev.target.value;
            else delete t[ch];
            set({ templates: t });
          }}
        >
          <option value="">None</option>
          {fit.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
          {cur && !fit.some((t) => t.id === cur) ? <option value={cur}>{cur}</option> : null}
        </select>
      </Field>
    );
  };

  let body: React.ReactNode = null;
  switch (node.kind) {
    case 'send':
      body = (
        <>
          <Field id={`${p}-channel`} label="Channel" error={e('channel')}>
            <select id={`${p}-channel`} value={node.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              {[...CHANNELS, 'best'].map((c) => (
                <option key={c} value={c}>
                  {c === 'best' ? 'best channel (arbiter picks)' : c}
                </option>
              ))}
            </select>
          </Field>
          {(node.channel === 'best' ? ['email', 'sms', 'push'] : [node.channel]).map(templateSelect)}
          {e('templates') ? <p className="field-error">{e('templates')}</p> : null}
          {ref('next', 'Then')}
        </>
      );
      break;
    case 'delay':
      body = (
        <>
          {node.until ? (
            <Field id={`${p}-until`} label="Until local time (HH:MM)" error={e('until')}>
              <input {...described(`${p}-until`, e('until'))} value={node.until.time ?? ''} onChange={(ev) => set({ until: { ...node.until, time: ev.target.value } })} placeholder="10:00" />
            </Field>
          ) : (
            duration('duration', 'Wait')
          )}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => (node.until ? set({ until: undefined, duration: { amount: 1, unit: 'days' } }) : set({ duration: undefined, until: { time: '10:00' } }))}>
            {node.until ? 'Wait a duration instead' : 'Wait until a time of day instead'}
          </button>
          {ref('next', 'Then')}
        </>
      );
      break;
    case 'wait_until':
      body = (
        <>
          {'segment' in (node.until ?? {}) ? (
            <Field id={`${p}-useg`} label="Until segment change (segment id)" error={e('until')}>
              <input {...described(`${p}-useg`, e('until'))} value={node.until.segment} onChange={(ev) => set({ until: { ...node.until, segment: ev.target.value } })} />
            </Field>
          ) : (
            <Field id={`${p}-uevent`} label="Until event" error={e('until.event') ?? e('until')}>
              <input {...described(`${p}-uevent`, e('until.event') ?? e('until'))} value={node.until?.event ?? ''} onChange={(ev) => set({ until: { ...node.until, event: ev.target.value } })} />
            </Field>
          )}
          {duration('timeoutAfter', 'Or time out after')}
          {ref('next', 'When it happens')}
          {ref('onTimeout', 'On timeout')}
        </>
      );
      break;
    case 'split':
      body = (
        <>
          <JsonField id={`${p}-cond`} label="Condition (segment condition JSON)" value={node.condition} error={e('condition')} onChange={(v) => set({ condition: v })} />
          {ref('yes', 'If yes')}
          {ref('no', 'If no')}
        </>
      );
      break;
    case 'multi_split':
    case 'random_split':
      body = (
        <>
          <JsonField id={`${p}-branches`} label="Branches (JSON)" value={node.branches} error={e('branches')} onChange={(v) => set({ branches: v })} />
          {node.kind === 'multi_split' ? ref('else', 'Else') : (
            <Field id={`${p}-holdout`} label="Holdout share (%)" error={e('holdout')}>
              <input id={`${p}-holdout`} type="number" value={node.holdout ?? ''} onChange={(ev) => set({ holdout: ev.target.value === '' ? undefined : Number(ev.target.value) })} />
            </Field>
          )}
        </>
      );
      break;
    case 'update_trait':
      body = (
        <>
          <Field id={`${p}-trait`} label="Trait" error={e('trait')}>
            <input {...described(`${p}-trait`, e('trait'))} value={node.trait ?? ''} onChange={(ev) => set({ trait: ev.target.value })} />
          </Field>
          <Field id={`${p}-value`} label="Value" error={e('value')}>
            <input {...described(`${p}-value`, e('value'))} value={node.value === null ? 'null' : String(node.value ?? '')} onChange={(ev) => set({ value: ev.target.value })} />
          </Field>
          {ref('next', 'Then')}
        </>
      );
      break;
    case 'list':
      body = (
        <>
          <Field id={`${p}-op`} label="Operation" error={e('op')}>
            <select id={`${p}-op`} value={node.op} onChange={(ev) => set({ op: ev.target.value })}>
              <option value="add">add to list</option>
              <option value="remove">remove from list</option>
            </select>
          </Field>
          <Field id={`${p}-list`} label="List id" error={e('listId')}>
            <input {...described(`${p}-list`, e('listId'))} value={node.listId ?? ''} onChange={(ev) => set({ listId: ev.target.value })} />
          </Field>
          {ref('next', 'Then')}
        </>
      );
      break;
    case 'webhook':
      body = (
        <>
          <Field id={`${p}-tpl`} label="Webhook template id" error={e('templateId')}>
            <input {...described(`${p}-tpl`, e('templateId'))} value={node.templateId ?? ''} onChange={(ev) => set({ templateId: ev.target.value })} />
          </Field>
          {ref('next', 'Then')}
        </>
      );
      break;
    case 'jump':
      body = (
        <Field id={`${p}-jny`} label="Journey id" error={e('journeyId')}>
          <input {...described(`${p}-jny`, e('journeyId'))} value={node.journeyId ?? ''} onChange={(ev) => set({ journeyId: ev.target.value })} />
        </Field>
      );
      break;
    case 'exit':
      body = (
        <Field id={`${p}-reason`} label="Exit reason" error={e('reason')}>
          <input {...described(`${p}-reason`, e('reason'))} value={node.reason ?? ''} onChange={(ev) => set({ reason: ev.target.value || undefined })} />
        </Field>
      );
      break;
  }

  return (
    <div className="node-form" aria-labelledby={`${p}-title`}>
      <h2 id={`${p}-title`} className="panel-title">
        {KIND_LABEL[node.kind] ?? node.kind} <code>{id}</code>
      </h2>
      {nodeErr.map((m, i) => (
        <p key={i} className="field-error" role="alert">
          {m}
        </p>
      ))}
      <datalist id={`${p}-ids`}>
        {ids.map((x) => (
          <option key={x} value={x} />
        ))}
      </datalist>
      {body}
      <details className="details">
        <summary>Node as JSON</summary>
        <Field id={`${p}-json`} label="Every field of the node" error={jsonErr}>
          <textarea {...described(`${p}-json`, jsonErr)} className="code" rows={8} spellCheck={false} value={json} onChange={(ev) => setJson(ev.target.value)} />
        </Field>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            try {
              const v = JSON.parse(json);
              setJsonErr(null);
              onChange(v);
            } catch (x) {
              setJsonErr(`Not valid JSON: ${(x as Error).message}`);
            }
          }}
        >
          Apply JSON
        </button>
      </details>
      <div className="form-actions">
        <button type="button" className="btn btn-danger-outline btn-small" onClick={onDelete}>
          Delete node
        </button>
      </div>
    </div>
  );
}

function JsonField({ id, label, value, error, onChange }: { id: string; label: string; value: unknown; error: string | null; onChange: (v: unknown) => void }) {
  const [text, setText] = useState(() => JSON.stringify(value, null, 2));
  const [parseErr, setParseErr] = useState<string | null>(null);
  return (
    <Field id={id} label={label} error={parseErr ?? error}>
      <textarea
        {...described(id, parseErr ?? error)}
        className="code"
        rows={6}
        spellCheck={false}
        value={text}
        onChange={(ev) => {
          setText(ev.target.value);
          try {
            const v = JSON.parse(ev.target.value);
            setParseErr(null);
            onChange(v);
          } catch (x) {
            setParseErr(`Not valid JSON: ${(x as Error).message}`);
          }
        }}
      />
    </Field>
  );
}

const NEW_KINDS = ['send', 'delay', 'wait_until', 'split', 'update_trait', 'exit'];

function Settings({ draft, setDraft, segments, topics, errs, onAdd }: { draft: JourneyDef; setDraft: (f: (d: JourneyDef | null) => JourneyDef | null) => void; segments: { id: string; name: string }[]; topics: { id: string }[]; errs: JErr[]; onAdd: (id: string) => void }) {
  const set = (patch: Partial<JourneyDef>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  const e = (f: string) => {
    const hit = errs.find((x) => x.path === f || x.path.startsWith(`${f}.`));
    return hit ? stripPath(hit) : null;
  };
  const [kind, setKind] = useState('send');
  const [newId, setNewId] = useState('');
  const [addErr, setAddErr] = useState<string | null>(null);
  const add = () => {
    const nid = newId.trim() || `${kind}_${Object.keys(draft.nodes).length + 1}`;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(nid)) return setAddErr('Ids are 1–64 letters, digits, _ or -');
    if (draft.nodes[nid]) return setAddErr(`There is already a node ${nid}`);
    setAddErr(null);
    set({ nodes: { ...draft.nodes, [nid]: newNode(kind) } });
    setNewId('');
    onAdd(nid);
  };
  const entry = draft.entry;
  return (
    <div className="settings-form">
      <h2 className="panel-title">Journey settings</h2>
      <Field id="j-name" label="Name" error={e('name')}>
        <input {...described('j-name', e('name'))} value={draft.name} onChange={(ev) => set({ name: ev.target.value })} />
      </Field>
      <div className="row-2">
        <Field id="j-topic" label="Topic" error={e('topic')}>
          <select {...described('j-topic', e('topic'))} value={draft.topic} onChange={(ev) => set({ topic: ev.target.value })}>
            {[...new Set([draft.topic, ...topics.map((t) => t.id)])].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field id="j-priority" label="Priority (0–100)" error={e('priority')}>
          <input {...described('j-priority', e('priority'))} type="number" min={0} max={100} value={draft.priority} onChange={(ev) => set({ priority: Number(ev.target.value) })} />
        </Field>
      </div>
      <Field id="j-entry" label="Entry" error={e('entry.kind')}>
        <select
          id="j-entry"
          value={entry.kind}
          onChange={(ev) => {
            const k = ev.target.value;
            set({ entry: k === 'event' ? { kind: k, event: 'Signed Up' } : k === 'segment' ? { kind: k, segment: segments[0]?.id ?? '', op: 'entered' } : k === 'schedule' ? { kind: k, every: 'day', time: '10:00' } : k === 'date_trait' ? { kind: k, trait: 'birthday', offsetDays: 0, time: '09:00' } : { kind: 'api' } });
          }}
        >
          <option value="event">an event</option>
          <option value="segment">a segment change</option>
          <option value="date_trait">a date trait (birthday…)</option>
          <option value="schedule">a schedule</option>
          <option value="api">an API call</option>
        </select>
      </Field>
      {entry.kind === 'event' ? (
        <Field id="j-entry-event" label="Entry event" error={e('entry.event') ?? e('entry')}>
          <input {...described('j-entry-event', e('entry.event') ?? e('entry'))} value={entry.event ?? ''} onChange={(ev) => set({ entry: { ...entry, event: ev.target.value } })} />
        </Field>
      ) : entry.kind === 'segment' ? (
        <div className="row-2">
          <Field id="j-entry-seg" label="Segment" error={e('entry.segment') ?? e('entry')}>
            <select {...described('j-entry-seg', e('entry.segment') ?? e('entry'))} value={entry.segment ?? ''} onChange={(ev) => set({ entry: { ...entry, segment: ev.target.value } })}>
              {segments.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </Field>
          <Field id="j-entry-op" label="When people" error={e('entry.op')}>
            <select id="j-entry-op" value={entry.op} onChange={(ev) => set({ entry: { ...entry, op: ev.target.value } })}>
              <option value="entered">enter it</option>
              <option value="left">leave it</option>
            </select>
          </Field>
        </div>
      ) : entry.kind === 'api' ? null : (
        <JsonField id="j-entry-json" label="Entry (JSON)" value={entry} error={e('entry')} onChange={(v) => set({ entry: v as JourneyDef['entry'] })} />
      )}
      <div className="row-2">
        <Field id="j-reentry" label="Re-entry" error={e('reentry.policy')}>
          <select id="j-reentry" value={draft.reentry.policy} onChange={(ev) => set({ reentry: ev.target.value === 'every' ? { policy: 'every', days: draft.reentry.days ?? 1 } : { policy: ev.target.value } })}>
            <option value="once">once per person</option>
            <option value="every">every N days</option>
            <option value="always">whenever not in it</option>
          </select>
        </Field>
        {draft.reentry.policy === 'every' ? (
          <Field id="j-reentry-days" label="Days" error={e('reentry.days')}>
            <input {...described('j-reentry-days', e('reentry.days'))} type="number" value={draft.reentry.days ?? ''} onChange={(ev) => set({ reentry: { ...draft.reentry, days: Number(ev.target.value) } })} />
          </Field>
        ) : null}
      </div>
      <div className="row-2">
        <Field id="j-goal" label="Goal event (optional)" error={e('goal.event') ?? e('goal')}>
          <input {...described('j-goal', e('goal.event') ?? e('goal'))} value={draft.goal?.event ?? ''} onChange={(ev) => set({ goal: ev.target.value ? { ...(draft.goal ?? { withinDays: 7 }), event: ev.target.value } : undefined })} placeholder="Order Completed" />
        </Field>
        {draft.goal ? (
          <Field id="j-goal-days" label="Within days" error={e('goal.withinDays')}>
            <input {...described('j-goal-days', e('goal.withinDays'))} type="number" value={draft.goal.withinDays} onChange={(ev) => set({ goal: { ...draft.goal!, withinDays: Number(ev.target.value) } })} />
          </Field>
        ) : null}
      </div>
      <Field id="j-start" label="First node" error={e('start')}>
        <select {...described('j-start', e('start'))} value={draft.start} onChange={(ev) => set({ start: ev.target.value })}>
          {[...new Set([draft.start, ...Object.keys(draft.nodes)])].map((n) => (
            <option key={n}>{n}</option>
          ))}
        </select>
      </Field>
      <div className="add-node" role="group" aria-label="Add a node">
        <h3>Add a node</h3>
        <div className="row-2">
          <Field id="new-kind" label="Kind">
            <select id="new-kind" value={kind} onChange={(ev) => setKind(ev.target.value)}>
              {NEW_KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABEL[k]}
                </option>
              ))}
            </select>
          </Field>
          <Field id="new-id" label="Id (optional)" error={addErr}>
            <input {...described('new-id', addErr)} value={newId} onChange={(ev) => setNewId(ev.target.value)} placeholder={`${kind}_${Object.keys(draft.nodes).length + 1}`} />
          </Field>
        </div>
        <button type="button" className="btn btn-small" onClick={add}>
          Add node
        </button>
        <p className="hint">A new node is not connected: point another node's “Then” at it.</p>
      </div>
    </div>
  );
}

function TestMode({ journey, draft, dirty, can, saveDraft, onPath }: { journey: Journey; draft: JourneyDef; dirty: boolean; can: boolean; saveDraft: () => Promise<boolean>; onPath: (s: Set<string> | undefined) => void }) {
  const [who, setWho] = useState('');
  const [use, setUse] = useState<'draft' | 'published'>(journey.version ? 'published' : 'draft');
  const [trigger, setTrigger] = useState(draft.entry.kind === 'event' ? draft.entry.event : '');
  const [props, setProps] = useState('{}');
  const [steps, setSteps] = useState('[\n  { "wait": { "amount": 1, "unit": "days" } }\n]');
  const [err, setErr] = useState<ApiError | Error | null>(null);
  const [result, setResult] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const runTest = async () => {
    setErr(null);
    setBusy(true);
    try {
      let profileId = who.trim();
      if (!profileId) throw new ApiError(400, 'invalid', 'Give a profile id or an email', 'profileId');
      if (profileId.includes('@')) profileId = (await get<{ id: string }>(`/profiles/lookup?email=${enc(profileId)}`)).id;
      if (use === 'draft' && dirty && !(await saveDraft())) throw new Error('Save the draft first: it has errors');
      let properties: unknown;
      let parsedSteps: unknown;
      try {
        properties = JSON.parse(props || '{}');
      } catch {
        throw new ApiError(400, 'invalid', 'Trigger properties: not valid JSON', 'trigger.properties');
      }
      try {
        parsedSteps = JSON.parse(steps || '[]');
      } catch {
        throw new ApiError(400, 'invalid', 'Steps: not valid JSON', 'steps');
      }
      const r = await post(`/journeys/${enc(journey.id)}/test`, { profileId, use, ...(trigger.trim() ? { trigger: { name: trigger.trim(), properties } } : {}), steps: parsedSteps });
      setResult(r);
      onPath(new Set(r.final?.path ?? []));
    } catch (x) {
      setErr(x as Error);
      setResult(null);
      onPath(undefined);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => (err instanceof ApiError && err.field?.startsWith(f) ? err.message : null);
  return (
    <Card title="Test mode" id="test-mode" actions={result ? <button type="button" className="btn btn-small btn-ghost" onClick={() => (setResult(null), onPath(undefined))}>Clear</button> : null}>
      <p className="hint">Runs the journey for one real person on a simulated clock: nothing is sent or saved. Messages show what the arbiter would decide.</p>
      <form
        className="test-form"
        onSubmit={(e) => {
          e.preventDefault();
          void runTest();
        }}
      >
        <fieldset disabled={!can || busy} className="plain-fieldset">
          <legend className="sr-only">Test parameters</legend>
          <div className="grid grid-3 grid-tight">
            <Field id="t-who" label="Person (profile id or email)" error={fe('profileId')}>
              <input {...described('t-who', fe('profileId'))} value={who} onChange={(e) => setWho(e.target.value)} autoComplete="off" />
            </Field>
            <Field id="t-use" label="Version">
              <select id="t-use" value={use} onChange={(e) => setUse(e.target.value as 'draft')}>
                <option value="draft">the draft</option>
                <option value="published" disabled={!journey.version}>
                  the published version
                </option>
              </select>
            </Field>
            <Field id="t-trigger" label="Trigger event" error={fe('trigger.name')}>
              <input {...described('t-trigger', fe('trigger.name'))} value={trigger} onChange={(e) => setTrigger(e.target.value)} />
            </Field>
          </div>
          <div className="grid grid-2 grid-tight">
            <Field id="t-props" label="Trigger properties (JSON)" error={fe('trigger.properties')}>
              <textarea {...described('t-props', fe('trigger.properties'))} className="code" rows={3} value={props} onChange={(e) => setProps(e.target.value)} spellCheck={false} />
            </Field>
            <Field id="t-steps" label="Then (steps, JSON)" error={fe('steps')} hint='{"wait":{"amount":2,"unit":"hours"}}, {"event":{"name":"Order Completed"}}'>
              <textarea {...described('t-steps', fe('steps'), true)} className="code" rows={3} value={steps} onChange={(e) => setSteps(e.target.value)} spellCheck={false} />
            </Field>
          </div>
          {err && !(err instanceof ApiError && err.field) ? <ErrorBox error={err} /> : null}
          <WriteButton area="journeys" type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Running…' : 'Run test'}
          </WriteButton>
        </fieldset>
      </form>
      {result ? <TestResult r={result} /> : null}
    </Card>
  );
}

function TestResult({ r }: { r: any }) {
  return (
    <div className="test-result" aria-live="polite">
      <h3>
        Result: <StatusBadge status={r.final?.status ?? 'unknown'} /> {r.final?.exitReason ? <span className="muted">({r.final.exitReason})</span> : null}
      </h3>
      <p className="muted small">Path: {(r.final?.path ?? []).join(' → ') || '—'}</p>
      {!r.timeline?.length ? (
        <Empty title="Nothing happened" />
      ) : (
        <ol className="timeline test-timeline" aria-label="Simulated timeline">
          {r.timeline.map((t: any, i: number) => (
            <li key={i} className="tl-item">
              <span className="tl-dot" aria-hidden="true" />
              <div className="tl-main">
                <div className="tl-head">
                  <strong>{t.input}</strong>
                  <time className="muted small">{dateTime(t.at)}</time>
                  <StatusBadge status={t.status} />
                </div>
                <div className="small">
                  {t.visited?.length ? <>passed {t.visited.join(' → ')} · </> : null}now at <code>{t.node}</code>
                  {t.waitingUntil ? ` until ${dateTime(t.waitingUntil)}` : ''}
                </div>
                {(t.actions ?? []).length ? (
                  <ul className="plain small actions">
                    {t.actions.map((a: any, k: number) => (
                      <li key={k}>
                        {a.kind === 'send' ? (
                          <>
                            <strong>send</strong> {a.channel} at <code>{a.node}</code>{a.decision ? ` — ${a.decision.reason}` : ''}
                          </>
                        ) : a.kind === 'schedule' ? (
                          <>wake at {dateTime(a.at)}</>
                        ) : (
                          <>
                            <strong>{a.kind}</strong> {a.reason ?? a.trait ?? ''}
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      )}
      {r.messages?.length ? (
        <>
          <h3>Messages ({r.messages.length})</h3>
          <ul className="plain test-messages">
            {r.messages.map((m: any, i: number) => (
              <li key={i} className="card card-inner">
                <KV
                  rows={[
                    ['When', dateTime(m.at)],
                    ['Node', <code key="n">{m.node}</code>],
                    ['Channel', m.channel],
                    ['Decision', m.decision?.reason ?? '—'],
                    ['Content', m.rendered?.email?.subject ?? m.rendered?.sms?.body ?? m.rendered?.push?.title ?? m.rendered?.error ?? '—'],
                  ]}
                />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
