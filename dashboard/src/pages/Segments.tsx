// Segments: the list with member counts, and the editor: a condition builder for the common kinds (trait, event count
// in a window with property filters, segment membership, reachable / consent, RFM stage, computed properties), a raw
// JSON editor for everything else, a live count of the draft (POST /api/segments/preview) and save with the API's
// error next to the field it names.
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, del, enc, get, patch, post } from '../api.ts';
import { ago, dateTime, num } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { readOnlyReason, useSession } from '../session.tsx';
import { type Built, COMPUTED, DATE_OPS, NO_VALUE_OPS, OPS, OP_LABEL, REACH_CHANNELS, RFM_STAGES, ROW_KINDS, type Row, type RowKind, UNITS, WINDOW_OPS, bare, fromDefinition, locate, newRow, toDefinition } from '../segments/builder.ts';
import { Card, Empty, ErrorBox, Field, Loading, Page, WriteButton, described, useAsync, useConfirm, useDebounced, useToast } from '../ui.tsx';

interface Segment {
  id: string;
  name: string;
  description: string;
  definition: unknown;
  version: number;
  updatedAt: number;
  members?: number;
}

export function Segments() {
  const res = useAsync(async () => {
    const { segments } = await get<{ segments: Segment[] }>('/segments');
    return Promise.all(segments.map((s) => get<Segment>(`/segments/${enc(s.id)}`).catch(() => s)));
  }, []);
  return (
    <Page
      title="Segments"
      subtitle="Real-time groups of people, kept current as events arrive"
      actions={
        <WriteButton area="segments" className="btn btn-primary" onClick={() => navigate('/segments/new')}>
          New segment
        </WriteButton>
      }
    >
      <Card>
        {res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : !res.data ? (
          <Loading rows={5} height={200} />
        ) : !res.data.length ? (
          <Empty title="No segments yet">Create one to group people by what they did, who they are, or where they can be reached.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col" className="num">
                    Members
                  </th>
                  <th scope="col">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {res.data.map((s) => (
                  <tr key={s.id}>
                    <td>
                      <Link href={`/segments/${enc(s.id)}`}>{s.name}</Link>
                      {s.description ? <div className="muted small">{s.description}</div> : null}
                    </td>
                    <td className="num">{num(s.members)}</td>
                    <td>v{s.version}</td>
                    <td title={dateTime(s.updatedAt)}>{ago(s.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </Page>
  );
}

const STARTER: Built = { match: 'and', rows: [] };
const incomplete = (b: Built) =>
  b.rows.some((r) => (r.kind === 'trait' && !r.trait.trim()) || (r.kind === 'event' && !r.event.trim()) || (r.kind === 'segment' && !r.segmentId) || (r.kind === 'rfm' && !r.stages.length));

export function SegmentEditor({ id }: { id?: string }) {
  const s = useSession();
  const can = s.can('segments');
  const toast = useToast();
  const confirm = useConfirm();
  const existing = useAsync(() => (id ? get<Segment>(`/segments/${enc(id)}`) : Promise.resolve(null)), [id]);
  const others = useAsync(() => get<{ segments: Segment[] }>('/segments').then((r) => r.segments.filter((x) => x.id !== id)), [id]);

  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [mode, setMode] = useState<'builder' | 'json'>('builder');
  const [built, setBuilt] = useState<Built>(STARTER);
  const [json, setJson] = useState('');
  const [modeNote, setModeNote] = useState<string | null>(null);
  const [saveErr, setSaveErr] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const loaded = useRef(false);

  useEffect(() => {
    const seg = existing.data;
    if (loaded.current || existing.loading) return;
    loaded.current = true;
    if (!seg) {
      setBuilt({ match: 'and', rows: [newRow('event')] });
      return;
    }
    setName(seg.name);
    setDescription(seg.description);
    const b = fromDefinition(seg.definition);
    if (b) setBuilt(b);
    else {
      setMode('json');
      setModeNote('This definition uses conditions the builder does not show (nesting, geography, engagement, lists…): edit it as JSON.');
    }
    setJson(JSON.stringify(seg.definition, null, 2));
  }, [existing.data, existing.loading]);

  // The draft definition (or the JSON's parse error).
  const draft = useMemo((): { def?: unknown; parseError?: string } => {
    if (mode === 'builder') return { def: toDefinition(built) };
    try {
      return { def: JSON.parse(json) };
    } catch (e) {
      return { parseError: `Not valid JSON: ${(e as Error).message}` };
    }
  }, [mode, built, json]);
  const draftKey = JSON.stringify(draft.def ?? null);

  // Live count while editing.
  const [count, setCount] = useState<{ state: 'idle' | 'busy' | 'done' | 'error' | 'incomplete'; count?: number; total?: number; err?: ApiError }>({ state: 'idle' });
  useDebounced(
    () => {
      if (!loaded.current || !can || draft.def === undefined) return;
      if (mode === 'builder' && (incomplete(built) || !built.rows.length)) return setCount({ state: 'incomplete' });
      let live = true;
      setCount((c) => ({ ...c, state: 'busy' }));
      post<{ count: number; total: number }>('/segments/preview', { definition: draft.def }).then(
        (r) => live && setCount({ state: 'done', count: r.count, total: r.total }),
        (e) => live && setCount({ state: 'error', err: e instanceof ApiError ? e : new ApiError(0, 'error', String(e)) }),
      );
      return () => void (live = false);
    },
    [draftKey, can],
    400,
  );

  // The error to show next to a field: the save's, else the live count's.
  const defErr = saveErr?.field?.startsWith('definition') ? saveErr : count.state === 'error' ? count.err : null;
  const where = mode === 'builder' ? locate(defErr?.field, built) : null;

  const toJsonMode = () => {
    setJson(JSON.stringify(toDefinition(built), null, 2));
    setMode('json');
    setModeNote(null);
  };
  const toBuilderMode = () => {
    if (draft.parseError) return setModeNote(draft.parseError);
    const b = fromDefinition(draft.def);
    if (!b) return setModeNote('The builder cannot show this definition exactly (it uses nesting or condition kinds the builder does not cover). Keep editing it as JSON.');
    setBuilt(b);
    setMode('builder');
    setModeNote(null);
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (draft.parseError) return;
    setSaving(true);
    setSaveErr(null);
    try {
      const body = { name, description, definition: draft.def };
      const r = id ? await patch<Segment>(`/segments/${enc(id)}?wait=true`, body) : await post<Segment>('/segments?wait=true', body);
      toast(`Saved “${r.name}”: ${num(r.members)} members`);
      if (!id) navigate(`/segments/${enc(r.id)}`, { replace: true });
      else existing.reload();
    } catch (err) {
      setSaveErr(err instanceof ApiError ? err : new ApiError(0, 'error', String(err)));
    } finally {
      setSaving(false);
    }
  };
  const archive = async () => {
    if (!id || !(await confirm({ title: 'Archive this segment?', body: <p>Journeys and broadcasts that use it keep their history; it stops being computed.</p>, confirm: 'Archive', danger: true }))) return;
    try {
      await del(`/segments/${enc(id)}`);
      toast('Segment archived');
      navigate('/segments');
    } catch (err) {
      setSaveErr(err as ApiError);
    }
  };

  if (id && existing.error) {
    return (
      <Page title="Segment">
        <ErrorBox error={existing.error} onRetry={existing.reload} />
      </Page>
    );
  }
  const seg = existing.data;
  const generalErr =
    saveErr && !(saveErr.field === 'name' || saveErr.field === 'description') && !(saveErr.field?.startsWith('definition') && (mode === 'json' || where)) ? saveErr : null;
  const setRow = (i: number, r: Row) => setBuilt((b) => ({ ...b, rows: b.rows.map((x, j) => (j === i ? r : x)) }));

  return (
    <Page
      title={id ? (seg?.name ?? 'Segment') : 'New segment'}
      subtitle={seg ? `v${seg.version} · ${num(seg.members)} member${seg.members === 1 ? '' : 's'} · updated ${ago(seg.updatedAt)}` : id ? '\u00a0' : 'Who should be in it?'}
      actions={
        id ? (
          <>
            <a className="btn" href={`/api/segments/${enc(id)}/export.csv`} download>
              Export CSV
            </a>
            <WriteButton area="segments" className="btn btn-danger-outline" onClick={() => void archive()}>
              Archive
            </WriteButton>
          </>
        ) : null
      }
    >
      {id && !seg ? (
        <Loading rows={6} height={360} />
      ) : (
        <form onSubmit={save} className="segment-form" noValidate>
          <fieldset disabled={!can} className="plain-fieldset" title={can ? undefined : readOnlyReason(s.me?.role ?? null)}>
            <legend className="sr-only">Segment</legend>
            <div className="grid grid-2 grid-tight">
              <Field id="seg-name" label="Name" error={saveErr?.field === 'name' ? saveErr.message : null}>
                <input {...described('seg-name', saveErr?.field === 'name' ? saveErr.message : null)} value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required />
              </Field>
              <Field id="seg-desc" label="Description (optional)" error={saveErr?.field === 'description' ? saveErr.message : null}>
                <input id="seg-desc" value={description} onChange={(e) => setDescription(e.target.value)} maxLength={2000} />
              </Field>
            </div>
            <div className="editor-head">
              <div className="segmented" role="group" aria-label="Editor">
                <button type="button" aria-pressed={mode === 'builder'} onClick={toBuilderMode}>
                  Builder
                </button>
                <button type="button" aria-pressed={mode === 'json'} onClick={() => mode === 'builder' && toJsonMode()}>
                  JSON
                </button>
              </div>
              <LiveCount count={count} can={can} members={seg?.members} />
            </div>
            {modeNote ? (
              <p className="notice notice-info" role="status">
                {modeNote}
              </p>
            ) : null}
            {mode === 'builder' ? (
              <div className="builder">
                <div className="field field-inline">
                  <label htmlFor="seg-match">People who match</label>
                  <select id="seg-match" value={built.match} onChange={(e) => setBuilt((b) => ({ ...b, match: e.target.value as 'and' | 'or' }))}>
                    <option value="and">all of these conditions</option>
                    <option value="or">any of these conditions</option>
                  </select>
                </div>
                <ol className="rows">
                  {built.rows.map((r, i) => (
                    <li key={r.key} className="cond-row">
                      <RowEditor
                        row={r}
                        index={i}
                        segments={others.data ?? []}
                        err={where && where.row === i && defErr ? { path: where.path, message: bare(defErr.message) } : null}
                        onChange={(nr) => setRow(i, nr)}
                        onRemove={() => setBuilt((b) => ({ ...b, rows: b.rows.filter((_, j) => j !== i) }))}
                      />
                    </li>
                  ))}
                </ol>
                {!built.rows.length ? <Empty title="No conditions">Add a condition to say who is in the segment.</Empty> : null}
                <AddCondition onAdd={(k) => setBuilt((b) => ({ ...b, rows: [...b.rows, newRow(k)] }))} />
                <datalist id="known-events">
                  {['Order Completed', 'Order Refunded', 'Product Viewed', 'Product Added', 'Checkout Started', 'Signed Up', 'Page Viewed', 'Store Visited'].map((n) => (
                    <option key={n} value={n} />
                  ))}
                </datalist>
              </div>
            ) : (
              <Field
                id="seg-json"
                label="Definition (JSON)"
                error={draft.parseError ?? (defErr ? defErr.message : null)}
                hint={
                  <>
                    Any condition of the segment language: see <a href="/api/docs">the API reference</a> and docs/segments.md.
                  </>
                }
              >
                <textarea {...described('seg-json', draft.parseError ?? defErr?.message, true)} className="code" rows={16} spellCheck={false} value={json} onChange={(e) => setJson(e.target.value)} />
              </Field>
            )}
            {generalErr ? <ErrorBox error={generalErr} /> : null}
            <div className="form-actions">
              <WriteButton area="segments" className="btn btn-primary" type="submit" disabled={saving || !!draft.parseError}>
                {saving ? 'Saving…' : id ? 'Save changes' : 'Create segment'}
              </WriteButton>
              {!can ? <span className="muted">{readOnlyReason(s.me?.role ?? null)}.</span> : null}
            </div>
          </fieldset>
        </form>
      )}
      {id && seg ? <Members id={id} version={seg.version} /> : null}
    </Page>
  );
}

function LiveCount({ count, can, members }: { count: { state: string; count?: number; total?: number; err?: ApiError }; can: boolean; members?: number }) {
  let body: React.ReactNode;
  if (!can) body = members === undefined ? 'Live count needs the marketer role' : <><strong>{num(members)}</strong> member{members === 1 ? '' : 's'} now</>;
  else if (count.state === 'done' || (count.state === 'busy' && count.count !== undefined))
    body = (
      <>
        <strong data-testid="live-count">{num(count.count)}</strong> of {num(count.total)} people match{count.state === 'busy' ? '…' : ''}
      </>
    );
  else if (count.state === 'busy') body = 'Counting…';
  else if (count.state === 'incomplete') body = 'Complete the conditions to see who matches';
  else if (count.state === 'error') body = 'Fix the highlighted field to see the count';
  else body = 'Counting…';
  return (
    <div className={`live-count live-${count.state}`} aria-live="polite" aria-atomic="true">
      {body}
    </div>
  );
}

function AddCondition({ onAdd }: { onAdd: (k: RowKind) => void }) {
  const [kind, setKind] = useState<RowKind>('event');
  return (
    <div className="add-condition">
      <label htmlFor="add-kind" className="sr-only">
        Condition kind
      </label>
      <select id="add-kind" value={kind} onChange={(e) => setKind(e.target.value as RowKind)}>
        {ROW_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      <button type="button" className="btn" onClick={() => onAdd(kind)}>
        Add condition
      </button>
    </div>
  );
}

/** The fields of a row in display order, as the API names them relative to the condition. */
function fieldsOf(r: Row): string[] {
  switch (r.kind) {
    case 'trait':
      return ['trait', 'op', 'value', 'window.amount', 'window.unit'];
    case 'computed':
      return ['property', 'op', 'value', 'window.amount', 'window.unit'];
    case 'event':
      return ['event', 'op', 'count.op', 'count.value', 'count', 'window.amount', 'window.unit', ...r.filters.flatMap((_, i) => [`filters.${i}.path`, `filters.${i}.op`, `filters.${i}.value`])];
    case 'segment':
      return ['segmentId'];
    case 'reachable':
      return ['channel', 'topic', 'require'];
    case 'rfm':
      return ['value'];
  }
}
const claims = (f: string, p: string) => p === f || p.startsWith(`${f}.`) || f.startsWith(`${p}.`);

function RowEditor({ row, index, segments, err, onChange, onRemove }: { row: Row; index: number; segments: Segment[]; err: { path: string; message: string } | null; onChange: (r: Row) => void; onRemove: () => void }) {
  const p = `c${row.key}`;
  const claimed = err ? fieldsOf(row).find((f) => claims(f, err.path)) : undefined;
  const e = (f: string) => (err && claimed === f ? err.message : null);
  const set = (patch: Partial<Row>) => onChange({ ...row, ...patch } as Row);
  const label = ROW_KINDS.find((k) => k.kind === row.kind)?.label ?? row.kind;

  const comparison = (r: { op: string; value: string; window: { amount: string; unit: string } }, ops: readonly string[]) => (
    <>
      <Field id={`${p}-op`} label="Operator" error={e('op')}>
        <select {...described(`${p}-op`, e('op'))} value={r.op} onChange={(ev) => set({ op: ev.target.value } as Partial<Row>)}>
          {ops.map((o) => (
            <option key={o} value={o}>
              {OP_LABEL[o] ?? o}
            </option>
          ))}
        </select>
      </Field>
      {WINDOW_OPS.has(r.op) ? (
        <WindowFields p={p} win={r.window} onChange={(w) => set({ window: w } as Partial<Row>)} e={e} />
      ) : NO_VALUE_OPS.has(r.op) ? null : (
        <Field id={`${p}-value`} label={r.op === 'in' || r.op === 'not_in' ? 'Values (comma-separated)' : r.op === 'between' ? 'Min, max' : 'Value'} error={e('value')}>
          <input {...described(`${p}-value`, e('value'))} value={r.value} onChange={(ev) => set({ value: ev.target.value } as Partial<Row>)} placeholder={r.op === 'before' || r.op === 'after' ? '2026-01-31' : ''} />
        </Field>
      )}
    </>
  );

  let body: React.ReactNode;
  switch (row.kind) {
    case 'trait':
      body = (
        <>
          <Field id={`${p}-trait`} label="Trait" error={e('trait')}>
            <input {...described(`${p}-trait`, e('trait'))} value={row.trait} onChange={(ev) => set({ trait: ev.target.value })} placeholder="plan, address.city…" />
          </Field>
          {comparison(row, [...OPS, ...DATE_OPS])}
        </>
      );
      break;
    case 'computed':
      body = (
        <>
          <Field id={`${p}-property`} label="Property" error={e('property')}>
            <select {...described(`${p}-property`, e('property'))} value={row.property} onChange={(ev) => set({ property: ev.target.value })}>
              {COMPUTED.map((c) => (
                <option key={c} value={c}>
                  {c.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          </Field>
          {comparison(row, [...OPS, ...DATE_OPS])}
        </>
      );
      break;
    case 'event':
      body = (
        <>
          <Field id={`${p}-event`} label="Event" error={e('event')}>
            <input {...described(`${p}-event`, e('event'))} value={row.event} onChange={(ev) => set({ event: ev.target.value })} placeholder="Order Completed" list="known-events" />
          </Field>
          <Field id={`${p}-op`} label="How often" error={e('op')}>
            <select id={`${p}-op`} value={row.op} onChange={(ev) => set({ op: ev.target.value as 'count' })}>
              <option value="performed">at least once</option>
              <option value="not_performed">never</option>
              <option value="count">a number of times</option>
            </select>
          </Field>
          {row.op === 'count' ? (
            <>
              <Field id={`${p}-countop`} label="Count" error={e('count.op')}>
                <select id={`${p}-countop`} value={row.countOp} onChange={(ev) => set({ countOp: ev.target.value as 'gte' })}>
                  <option value="gte">at least</option>
                  <option value="lte">at most</option>
                  <option value="eq">exactly</option>
                </select>
              </Field>
              <Field id={`${p}-count`} label="Times" error={e('count.value') ?? e('count')}>
                <input {...described(`${p}-count`, e('count.value') ?? e('count'))} type="number" inputMode="numeric" value={row.countValue} onChange={(ev) => set({ countValue: ev.target.value })} />
              </Field>
            </>
          ) : null}
          {row.windowOn ? <WindowFields p={p} win={row.window} onChange={(w) => set({ window: w })} e={e} lead="in the last" /> : null}
          <label className="check ever">
            <input type="checkbox" checked={!row.windowOn} onChange={(ev) => set({ windowOn: !ev.target.checked })} /> any time (no window)
          </label>
          <div className="filters-block">
            {row.filters.map((f, i) => {
              const fe = (k: string) => e(`filters.${i}.${k}`);
              const setF = (patch: Partial<typeof f>) => set({ filters: row.filters.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
              return (
                <div key={i} className="filter-row" role="group" aria-label={`Property filter ${i + 1}`}>
                  <Field id={`${p}-f${i}-path`} label="Property" error={fe('path')}>
                    <input {...described(`${p}-f${i}-path`, fe('path'))} value={f.path} onChange={(ev) => setF({ path: ev.target.value })} placeholder="total, products[].category" />
                  </Field>
                  <Field id={`${p}-f${i}-op`} label="Operator" error={fe('op')}>
                    <select id={`${p}-f${i}-op`} value={f.op} onChange={(ev) => setF({ op: ev.target.value })}>
                      {OPS.map((o) => (
                        <option key={o} value={o}>
                          {OP_LABEL[o]}
                        </option>
                      ))}
                    </select>
                  </Field>
                  {NO_VALUE_OPS.has(f.op) ? null : (
                    <Field id={`${p}-f${i}-value`} label="Value" error={fe('value')}>
                      <input {...described(`${p}-f${i}-value`, fe('value'))} value={f.value} onChange={(ev) => setF({ value: ev.target.value })} />
                    </Field>
                  )}
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => set({ filters: row.filters.filter((_, j) => j !== i) })} aria-label={`Remove property filter ${i + 1}`}>
                    Remove
                  </button>
                </div>
              );
            })}
            <button type="button" className="btn btn-small" onClick={() => set({ filters: [...row.filters, { path: '', op: 'eq', value: '' }] })}>
              Add property filter
            </button>
          </div>
        </>
      );
      break;
    case 'segment':
      body = (
        <>
          <Field id={`${p}-segment`} label="Segment" error={e('segmentId')}>
            <select {...described(`${p}-segment`, e('segmentId'))} value={row.segmentId} onChange={(ev) => set({ segmentId: ev.target.value })}>
              <option value="">Choose a segment…</option>
              {segments.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
              {row.segmentId && !segments.some((s) => s.id === row.segmentId) ? <option value={row.segmentId}>{row.segmentId}</option> : null}
            </select>
          </Field>
        </>
      );
      break;
    case 'reachable':
      body = (
        <>
          <Field id={`${p}-channel`} label="Channel" error={e('channel')}>
            <select id={`${p}-channel`} value={row.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              {REACH_CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${p}-topic`} label="Topic (optional)" error={e('topic')}>
            <input {...described(`${p}-topic`, e('topic'))} value={row.topic} onChange={(ev) => set({ topic: ev.target.value })} placeholder="marketing" />
          </Field>
          <Field id={`${p}-require`} label="Requires" error={e('require')}>
            <select id={`${p}-require`} value={row.require} onChange={(ev) => set({ require: ev.target.value as 'reachable' })}>
              <option value="reachable">an address, not unsubscribed</option>
              <option value="subscribed">explicit opt-in (subscribed)</option>
            </select>
          </Field>
        </>
      );
      break;
    case 'rfm':
      body = (
        <fieldset className={`field stages ${e('value') ? 'field-invalid' : ''}`}>
          <legend>Stages</legend>
          <div className="stage-list">
            {RFM_STAGES.map((st) => (
              <label key={st} className="check">
                <input type="checkbox" checked={row.stages.includes(st)} onChange={(ev) => set({ stages: ev.target.checked ? [...row.stages, st] : row.stages.filter((x) => x !== st) })} /> {st}
              </label>
            ))}
          </div>
          {e('value') ? <p className="field-error">{e('value')}</p> : null}
        </fieldset>
      );
      break;
  }

  return (
    <div className="cond" role="group" aria-label={`Condition ${index + 1}: ${label}`}>
      <div className="cond-head">
        <span className="cond-kind">{label}</span>
        <label className="check">
          <input type="checkbox" checked={row.negate} onChange={(ev) => set({ negate: ev.target.checked })} /> {row.kind === 'segment' ? 'not in it' : 'exclude (NOT)'}
        </label>
        <button type="button" className="btn btn-small btn-ghost" onClick={onRemove} aria-label={`Remove condition ${index + 1}`}>
          Remove
        </button>
      </div>
      <div className="cond-body">{body}</div>
      {err && !claimed ? (
        <p className="field-error" role="alert">
          {err.message}
        </p>
      ) : null}
    </div>
  );
}

function WindowFields({ p, win, onChange, e, lead }: { p: string; win: { amount: string; unit: string }; onChange: (w: { amount: string; unit: string }) => void; e: (f: string) => string | null; lead?: string }) {
  return (
    <div className="win">
      <Field id={`${p}-wamount`} label={lead ? `${lead[0]!.toUpperCase()}${lead.slice(1)}` : 'Window'} error={e('window.amount')}>
        <input {...described(`${p}-wamount`, e('window.amount'))} type="number" inputMode="decimal" value={win.amount} onChange={(ev) => onChange({ ...win, amount: ev.target.value })} />
      </Field>
      <Field id={`${p}-wunit`} label="Unit" error={e('window.unit')}>
        <select id={`${p}-wunit`} value={win.unit} onChange={(ev) => onChange({ ...win, unit: ev.target.value })}>
          {UNITS.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
}

interface Why {
  kind: string;
  value: boolean;
  label?: string;
  children?: Why[];
}

/** The engine's explanation of one member: the condition tree, each node marked as holding or not. */
function WhyTree({ why }: { why: Why }) {
  const mark = (w: Why) => (
    <span className={w.value ? 'why-yes' : 'why-no'} aria-label={w.value ? 'holds' : 'does not hold'}>
      {w.value ? '✓' : '✗'}
    </span>
  );
  const node = (w: Why, key: number) =>
    w.children ? (
      <li key={key}>
        {mark(w)} {w.kind === 'and' ? 'all of' : w.kind === 'or' ? 'any of' : 'not'}
        <ul className="why-tree">{w.children.map(node)}</ul>
      </li>
    ) : (
      <li key={key}>
        {mark(w)} {w.label ?? w.kind}
      </li>
    );
  return <ul className="why-tree why-root">{node(why, 0)}</ul>;
}

function Members({ id, version }: { id: string; version: number }) {
  const [cursor, setCursor] = useState<string | null>(null);
  const [pages, setPages] = useState<string[]>([]);
  const res = useAsync(
    () => get<{ members: { profileId: string; enteredAt: number; why?: Why | null }[]; nextCursor: string | null }>(`/segments/${enc(id)}/members?limit=20&why=true${cursor ? `&cursor=${enc(cursor)}` : ''}`),
    [id, version, cursor],
  );
  return (
    <Card
      title="Members"
      id="members"
    >
      {res.error ? (
        <ErrorBox error={res.error} />
      ) : !res.data ? (
        <Loading rows={3} height={100} />
      ) : !res.data.members.length ? (
        <Empty title="Nobody matches yet">People join the moment they match: no nightly run.</Empty>
      ) : (
        <>
          <ul className="plain member-list">
            {res.data.members.map((m) => (
              <li key={m.profileId}>
                <Link href={`/customers/${enc(m.profileId)}`}>{m.profileId}</Link> <span className="muted small">since {dateTime(m.enteredAt)}</span>
                {m.why ? (
                  <details className="details why">
                    <summary>Why they match</summary>
                    <WhyTree why={m.why} />
                  </details>
                ) : null}
              </li>
            ))}
          </ul>
          <div className="form-actions">
            {pages.length ? (
              <button type="button" className="btn btn-ghost" onClick={() => { const p = [...pages]; const prev = p.pop()!; setPages(p); setCursor(prev === '' ? null : prev); }}>
                Previous
              </button>
            ) : null}
            {res.data.nextCursor ? (
              <button type="button" className="btn btn-ghost" onClick={() => { setPages([...pages, cursor ?? '']); setCursor(res.data!.nextCursor); }}>
                Next 20
              </button>
            ) : null}
          </div>
        </>
      )}
    </Card>
  );
}
