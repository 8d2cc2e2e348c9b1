// Journeys: the list with status, a blank draft, and the playbook gallery (GET /api/playbooks; installing one with
// its parameters creates a draft journey to edit and publish).
import { type FormEvent, useState } from 'react';
import { ApiError, enc, get, post } from '../api.ts';
import { ago, dateTime } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Card, Empty, ErrorBox, Field, Loading, Page, StatusBadge, WriteButton, described, useAsync } from '../ui.tsx';

interface JourneyRow {
  id: string;
  name: string;
  status: string;
  version: number;
  draft: any;
  updatedAt: number;
  publishedAt: number | null;
}

const BLANK = {
  name: 'Untitled journey',
  topic: 'marketing',
  priority: 50,
  entry: { kind: 'api' },
  reentry: { policy: 'once' },
  start: 'done',
  nodes: { done: { kind: 'exit', reason: 'completed' } },
};

export function Journeys() {
  const res = useAsync(() => get<{ journeys: JourneyRow[] }>('/journeys'), []);
  const [err, setErr] = useState<unknown>(null);
  const blank = async () => {
    setErr(null);
    try {
      const j = await post<JourneyRow>('/journeys', BLANK);
      navigate(`/journeys/${enc(j.id)}`);
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <Page
      title="Journeys"
      subtitle="Automated paths that react to what each person does"
      actions={
        <>
          <button type="button" className="btn" onClick={() => navigate('/playbooks')}>
            Playbook gallery
          </button>
          <WriteButton area="journeys" className="btn btn-primary" onClick={() => void blank()}>
            New blank journey
          </WriteButton>
        </>
      }
    >
      <ErrorBox error={err} />
      <Card>
        {res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : !res.data ? (
          <Loading rows={4} height={180} />
        ) : !res.data.journeys.length ? (
          <Empty title="No journeys yet">
            Start from a <Link href="/playbooks">playbook</Link> (cart abandonment, welcome series, win-back…) and adapt it.
          </Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Entry</th>
                  <th scope="col">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {res.data.journeys.map((j) => (
                  <tr key={j.id}>
                    <td>
                      <Link href={`/journeys/${enc(j.id)}`}>{j.name}</Link>
                    </td>
                    <td>
                      <StatusBadge status={j.status} />
                    </td>
                    <td className="muted">{j.draft?.entry?.kind === 'event' ? `event “${j.draft.entry.event}”` : j.draft?.entry?.kind}</td>
                    <td>{j.version ? `v${j.version}` : 'unpublished'}</td>
                    <td title={dateTime(j.updatedAt)}>{ago(j.updatedAt)}</td>
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

interface Playbook {
  key: string;
  name: string;
  description: string;
  params: { name: string; type: string; required: boolean; description: string }[];
}

/** The channel a template parameter is for, from its name (templates.sms, templates.offerSms → sms). */
const channelOf = (param: string) => (/sms/i.test(param) ? 'sms' : /push/i.test(param) ? 'push' : 'email');

export function Playbooks() {
  const pbs = useAsync(() => get<{ playbooks: Playbook[] }>('/playbooks'), []);
  const templates = useAsync(() => get<{ templates: { id: string; name: string; channel: string }[] }>('/templates'), []);
  const segments = useAsync(() => get<{ segments: { id: string; name: string }[] }>('/segments'), []);
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Page title="Playbook gallery" subtitle="Ready-made journeys: pick your templates, install as a draft, adjust, publish">
      {pbs.error ? (
        <ErrorBox error={pbs.error} onRetry={pbs.reload} />
      ) : !pbs.data ? (
        <Loading rows={6} height={400} />
      ) : (
        <ul className="gallery">
          {pbs.data.playbooks.map((pb) => (
            <li key={pb.key} className="card gallery-card">
              <h2>{pb.name}</h2>
              <p>{pb.description}</p>
              {open === pb.key ? (
                <Install pb={pb} templates={templates.data?.templates ?? []} segments={segments.data?.segments ?? []} onCancel={() => setOpen(null)} />
              ) : (
                <button type="button" className="btn" onClick={() => setOpen(pb.key)} aria-label={`Use the ${pb.name} playbook`}>
                  Use this playbook
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

function setPath(o: Record<string, any>, dotted: string, v: unknown) {
  const parts = dotted.split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) cur = cur[p] ??= {};
  cur[parts[parts.length - 1]!] = v;
}

function Install({ pb, templates, segments, onCancel }: { pb: Playbook; templates: { id: string; name: string; channel: string }[]; segments: { id: string; name: string }[]; onCancel: () => void }) {
  const can = useCan('journeys');
  const [values, setValues] = useState<Record<string, string>>(() => {
    const v: Record<string, string> = {};
    for (const p of pb.params) if (p.type === 'template' && p.required) v[p.name] = templates.find((t) => t.channel === channelOf(p.name))?.id ?? '';
    return v;
  });
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  // A required template left empty is made from the playbook's starter (on by default: a new workspace has none).
  const [starters, setStarters] = useState(true);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    const body: Record<string, any> = starters ? { starters: true } : {};
    for (const p of pb.params) {
      const raw = (values[p.name] ?? '').trim();
      if (!raw) continue;
      const v = p.type === 'products' || p.type === 'stores' ? raw.split(',').map((x) => x.trim()).filter(Boolean) : p.type === 'days' ? Number(raw) : raw;
      setPath(body, p.name, v);
    }
    try {
      const j = await post<{ id: string }>(`/playbooks/${enc(pb.key)}`, body);
      navigate(`/journeys/${enc(j.id)}`);
    } catch (x) {
      setErr(x instanceof ApiError ? x : new ApiError(0, 'error', String(x)));
      setBusy(false);
    }
  };
  const fieldErr = (name: string) => (err && (err.field === name || err.field === `definition.${name}` || err.message.startsWith(`${name} `)) ? err.message : null);
  const claimed = err && pb.params.some((p) => fieldErr(p.name));
  return (
    <form className="install" onSubmit={submit} noValidate>
      <fieldset disabled={!can} className="plain-fieldset">
        <legend className="sr-only">Parameters of {pb.name}</legend>
        {pb.params.map((p) => {
          const id = `pb-${pb.key}-${p.name.replace(/\./g, '-')}`;
          const label = `${p.description}${p.required ? '' : ' (optional)'}`;
          const set = (v: string) => setValues((x) => ({ ...x, [p.name]: v }));
          const fe = fieldErr(p.name);
          if (p.type === 'template') {
            const ch = channelOf(p.name);
            const fit = templates.filter((t) => t.channel === ch);
            return (
              <Field key={p.name} id={id} label={label} error={fe} hint={`${ch} template (${p.name})`}>
                <select {...described(id, fe, true)} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)}>
                  <option value="">{starters && p.required ? 'A starter template (edit it later)' : fit.length ? 'Choose…' : `No ${ch} template yet`}</option>
                  {(fit.length ? fit : templates).map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name} ({t.channel})
                    </option>
                  ))}
                </select>
              </Field>
            );
          }
          if (p.type === 'segment') {
            return (
              <Field key={p.name} id={id} label={label} error={fe}>
                <select {...described(id, fe)} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)}>
                  <option value="">Choose…</option>
                  {segments.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </Field>
            );
          }
          return (
            <Field key={p.name} id={id} label={label} error={fe} hint={p.type === 'products' || p.type === 'stores' ? 'Comma-separated ids' : undefined}>
              <input {...described(id, fe, p.type === 'products' || p.type === 'stores')} type={p.type === 'days' ? 'number' : 'text'} value={values[p.name] ?? ''} onChange={(e) => set(e.target.value)} />
            </Field>
          );
        })}
        <label className="check">
          <input type="checkbox" checked={starters} onChange={(e) => setStarters(e.target.checked)} /> Make starter templates for the messages left empty (in your brand kit, ready to edit)
        </label>
        {err && !claimed ? <ErrorBox error={err} /> : null}
        <div className="form-actions">
          <WriteButton area="journeys" type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Installing…' : 'Install as draft'}
          </WriteButton>
          <button type="button" className="btn btn-ghost" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </fieldset>
    </form>
  );
}
