// Segments: the list with member counts and the workspace's RFM stages, and the editor: a condition builder for
// every condition kind (segments/: rows, nested all/any groups, NOT per row), the JSON editor as the advanced view
// (both ways, when the rows can show the definition exactly), a live count of the draft (POST
// /api/segments/preview), save with the API's error next to the field it names, then the members with why they
// match and the segment's RFM breakdown.
import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, del, enc, get, patch, post } from '../api.ts';
import { ago, dateTime, num } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { readOnlyReason, useSession } from '../session.tsx';
import { type Built, fromDefinition, newRow, toDefinition } from '../segments/builder.ts';
import { BuilderCtx, type BuilderChoices } from '../segments/context.tsx';
import { KNOWN_EVENTS } from '../segments/fields.tsx';
import { GroupRows } from '../segments/group.tsx';
import { Members } from '../segments/Members.tsx';
import { RfmCard } from '../segments/RfmChart.tsx';
import { bare, incomplete, locate } from '../segments/where.ts';
import { Card, Empty, ErrorBox, Field, Loading, Page, WriteButton, described, useAsync, useConfirm, useDebounced, useToast } from '../ui.tsx';
import '../segments/segments.css';

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
      <RfmCard />
    </Page>
  );
}

const STARTER: Built = { match: 'and', rows: [] };

export function SegmentEditor({ id }: { id?: string }) {
  const s = useSession();
  const can = s.can('segments');
  const toast = useToast();
  const confirm = useConfirm();
  const existing = useAsync(() => (id ? get<Segment>(`/segments/${enc(id)}`) : Promise.resolve(null)), [id]);
  const others = useAsync(() => get<{ segments: Segment[] }>('/segments').then((r) => r.segments.filter((x) => x.id !== id)), [id]);
  // Choices for the rows; a failed load leaves the select with the ids already chosen (it is not worth a banner).
  const lists = useAsync(() => get<{ lists: { id: string; name: string }[] }>('/lists').then((r) => r.lists, () => []), []);
  const locations = useAsync(() => get<{ locations: { id: string; name: string }[] }>('/locations').then((r) => r.locations, () => []), []);
  const customs = useAsync(() => get<{ properties: { name: string }[] }>('/computed-properties').then((r) => r.properties.map((x) => `custom.${x.name}`), () => []), []);

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
      setModeNote('The builder cannot show this definition exactly (a double NOT, NOT around a segment, list or engagement condition, a value with a comma…): edit it as JSON.');
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
  // A refused save's error is about the draft that was sent: once the draft changes, the live count speaks instead.
  useEffect(() => setSaveErr((e) => (e?.field?.startsWith('definition') ? null : e)), [draftKey]);

  // Live count while editing.
  const [count, setCount] = useState<{ state: 'idle' | 'busy' | 'done' | 'error' | 'incomplete'; count?: number; total?: number; err?: ApiError }>({ state: 'idle' });
  useDebounced(
    () => {
      if (!loaded.current || !can || draft.def === undefined) return;
      if (mode === 'builder' && (incomplete(built.rows) || !built.rows.length)) return setCount({ state: 'incomplete' });
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
    if (!b) return setModeNote('The builder cannot show this definition exactly (a double NOT, NOT around a segment, list or engagement condition, a value with a comma…). Keep editing it as JSON.');
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
  const choices: BuilderChoices = {
    segments: others.data ?? [],
    lists: lists.data ?? [],
    locations: locations.data ?? [],
    customs: customs.data ?? [],
    err: where && defErr ? { ...where, message: bare(defErr.message) } : null,
  };

  return (
    <Page
      title={id ? (seg?.name ?? 'Segment') : 'New segment'}
      subtitle={seg ? `v${seg.version} · ${num(seg.members)} member${seg.members === 1 ? '' : 's'} · updated ${ago(seg.updatedAt)}` : id ? '\u00a0' : 'Who should be in it?'}
      actions={
        id ? (
          <>
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
                <button type="button" aria-pressed={mode === 'json'} onClick={() => mode === 'builder' && toJsonMode()} title="Advanced: the definition as the API takes it">
                  JSON <span className="muted small">(advanced)</span>
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
              <BuilderCtx.Provider value={choices}>
                <div className="builder">
                  <div className="field field-inline">
                    <label htmlFor="seg-match">People who match</label>
                    <select id="seg-match" value={built.match} onChange={(e) => setBuilt((b) => ({ ...b, match: e.target.value as 'and' | 'or', single: false }))}>
                      <option value="and">all of these conditions</option>
                      <option value="or">any of these conditions</option>
                    </select>
                  </div>
                  <GroupRows rows={built.rows} at="" depth={0} onChange={(rows) => setBuilt((b) => ({ ...b, rows }))} />
                  <datalist id="known-events">
                    {KNOWN_EVENTS.map((n) => (
                      <option key={n} value={n} />
                    ))}
                  </datalist>
                </div>
              </BuilderCtx.Provider>
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
      {id && seg ? (
        <>
          <Members id={id} version={seg.version} total={seg.members} named={[...(others.data ?? []), ...(lists.data ?? [])]} />
          <RfmCard segmentId={id} title="RFM stages: everyone and this segment" />
        </>
      ) : null}
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
