// Templates: the list, and one template with its source (editable as JSON) and a preview rendered by Omnia exactly as
// a send would (POST /api/templates/preview) at phone (390 px) and desktop widths, with the SMS segment counter from
// the rendered body.
import { useEffect, useState } from 'react';
import { ApiError, enc, get, patch, post } from '../api.ts';
import { ago, dateTime } from '../format.ts';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Card, Empty, ErrorBox, Field, Loading, Page, WriteButton, described, useAsync, useToast } from '../ui.tsx';

interface Template {
  id: string;
  name: string;
  channel: string;
  version: number;
  source: Record<string, any>;
  updatedAt: number;
}

export function Templates() {
  const can = useCan('templates');
  const res = useAsync(() => get<{ templates: Template[] }>('/templates'), []);
  return (
    <Page
      title="Templates"
      subtitle="Liquid + MJML, one per channel, with your brand kit"
      actions={
        <>
          <Link href="/templates/brand" className="btn btn-ghost">
            Brand kit
          </Link>
          {can ? (
            <Link href="/templates/new" className="btn btn-primary">
              New template
            </Link>
          ) : null}
        </>
      }
    >
      <Card>
        {res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : !res.data ? (
          <Loading rows={4} height={180} />
        ) : !res.data.templates.length ? (
          <Empty title="No templates yet">Create one with New template (or POST /api/templates, see docs/messaging.md).</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Subject / body</th>
                  <th scope="col">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {res.data.templates.map((t) => (
                  <tr key={t.id}>
                    <td>
                      <Link href={`/templates/${enc(t.id)}`}>{t.name}</Link>
                    </td>
                    <td>
                      <span className={`chip ch-${t.channel}`}>{t.channel}</span>
                    </td>
                    <td className="muted clip">{t.source.subject ?? t.source.title ?? t.source.body ?? ''}</td>
                    <td>v{t.version}</td>
                    <td title={dateTime(t.updatedAt)}>{ago(t.updatedAt)}</td>
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

interface Preview {
  content: any;
  warnings: string[];
  profileId: string;
  version: number | null;
}

export function TemplateDetail({ id }: { id: string }) {
  const can = useCan('templates');
  const toast = useToast();
  const res = useAsync(() => get<Template>(`/templates/${enc(id)}`), [id]);
  const t = res.data;
  const [width, setWidth] = useState<'phone' | 'desktop'>('desktop');
  const [profileId, setProfileId] = useState('');
  const [asProfile, setAsProfile] = useState('');
  const [source, setSource] = useState('');
  const [draftSource, setDraftSource] = useState<unknown>(null);
  const [srcErr, setSrcErr] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => {
    if (t) setSource(JSON.stringify(t.source, null, 2));
  }, [t]);
  const preview = useAsync(async () => {
    if (!t) return null;
    const body: Record<string, unknown> = draftSource ? { source: draftSource } : { templateId: id };
    if (asProfile) body.profileId = asProfile;
    return post<Preview>('/templates/preview', body);
  }, [t?.version, asProfile, draftSource]);
  const parse = () => {
    try {
      return JSON.parse(source);
    } catch (e) {
      setSrcErr(new ApiError(400, 'invalid', `Not valid JSON: ${(e as Error).message}`, 'source'));
      return undefined;
    }
  };
  const previewDraft = () => {
    const s = parse();
    if (s !== undefined) (setSrcErr(null), setDraftSource(s));
  };
  const save = async () => {
    const s = parse();
    if (s === undefined) return;
    setSaving(true);
    setSrcErr(null);
    try {
      const r = await patch<Template>(`/templates/${enc(id)}`, { source: s });
      toast(`Saved: version ${r.version}`);
      setDraftSource(null);
      res.reload();
    } catch (e) {
      setSrcErr(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    } finally {
      setSaving(false);
    }
  };
  const previewErr = preview.error instanceof ApiError ? preview.error : null;

  if (res.error) {
    return (
      <Page title="Template">
        <ErrorBox error={res.error} onRetry={res.reload} />
      </Page>
    );
  }
  return (
    <Page
      title={t?.name ?? 'Template'}
      subtitle={t ? <><span className={`chip ch-${t.channel}`}>{t.channel}</span> version {t.version} · updated {ago(t.updatedAt)} · <code>{t.id}</code></> : '\u00a0'}
      actions={
        t && can ? (
          <Link href={`/templates/${enc(t.id)}/edit`} className="btn btn-primary">
            Edit
          </Link>
        ) : undefined
      }
    >
      <div className="template-layout">
        <Card title="Preview" id="preview" className="card-preview">
          <div className="preview-controls">
            <div className="segmented" role="group" aria-label="Preview width">
              <button type="button" aria-pressed={width === 'phone'} onClick={() => setWidth('phone')}>
                Phone (390 px)
              </button>
              <button type="button" aria-pressed={width === 'desktop'} onClick={() => setWidth('desktop')}>
                Desktop
              </button>
            </div>
            <form
              className="inline-form"
              onSubmit={(e) => {
                e.preventDefault();
                setAsProfile(profileId.trim());
              }}
            >
              <label htmlFor="pv-profile">Render for</label>
              <input id="pv-profile" placeholder="sample data, or a profile id" value={profileId} onChange={(e) => setProfileId(e.target.value)} />
              <button type="submit" className="btn btn-small">
                Render
              </button>
            </form>
          </div>
          {draftSource ? (
            <p className="notice notice-info">
              Showing your unsaved changes.{' '}
              <button type="button" className="linklike" onClick={() => setDraftSource(null)}>
                Show the saved version
              </button>
            </p>
          ) : null}
          {!t || (preview.loading && !preview.data) ? (
            <Loading rows={8} height={560} />
          ) : preview.error ? (
            <ErrorBox error={preview.error} />
          ) : preview.data ? (
            <Rendered p={preview.data} width={width} />
          ) : null}
        </Card>
        <Card title="Source" id="source">
          {!t ? (
            <Loading rows={6} height={300} />
          ) : (
            <>
              <Field id="tpl-source" label={`${t.channel} template (JSON: ${Object.keys(t.source).join(', ')})`} error={srcErr?.message ?? (previewErr && draftSource ? previewErr.message : null)}>
                <textarea {...described('tpl-source', srcErr?.message)} className="code" rows={16} spellCheck={false} value={source} onChange={(e) => setSource(e.target.value)} readOnly={!can} />
              </Field>
              <div className="form-actions">
                <button type="button" className="btn" onClick={previewDraft}>
                  Preview changes
                </button>
                <WriteButton area="templates" className="btn btn-primary" onClick={() => void save()} disabled={saving}>
                  {saving ? 'Saving…' : 'Save as new version'}
                </WriteButton>
              </div>
            </>
          )}
        </Card>
      </div>
    </Page>
  );
}

/** Capacity of a message of n segments: 160 / 70 characters in one, 153 / 67 per segment beyond. */
function smsCapacity(encoding: string, segments: number) {
  const [single, part] = encoding === 'UCS-2' ? [70, 67] : [160, 153];
  return segments <= 1 ? single : segments * part;
}

function Rendered({ p, width }: { p: Preview; width: 'phone' | 'desktop' }) {
  const c = p.content;
  const frameStyle = { width: width === 'phone' ? 'min(390px, 100%)' : '100%' };
  return (
    <div className="rendered">
      {p.warnings?.length ? (
        <ul className="notice notice-warn plain">
          {p.warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      ) : null}
      {c.channel === 'email' ? (
        <>
          <dl className="email-head">
            <div>
              <dt>From</dt>
              <dd>
                {c.email.from?.name} &lt;{c.email.from?.address}&gt;
              </dd>
            </div>
            <div>
              <dt>Subject</dt>
              <dd>
                <strong>{c.email.subject}</strong>
              </dd>
            </div>
            {c.email.preheader ? (
              <div>
                <dt>Preheader</dt>
                <dd>{c.email.preheader}</dd>
              </div>
            ) : null}
          </dl>
          <div className={`frame-wrap frame-${width}`}>
            <iframe title={`Email preview at ${width} width`} className="email-frame" sandbox="" srcDoc={c.email.html} style={frameStyle} data-width={width} />
          </div>
          <details className="details">
            <summary>Plain-text version</summary>
            <pre className="text-version">{c.email.text}</pre>
          </details>
        </>
      ) : c.channel === 'sms' ? (
        <div className={`frame-wrap frame-${width}`}>
          <div className="phone" style={frameStyle} data-width={width}>
            <div className="sms-bubble">{c.sms.body}</div>
          </div>
          <p className="sms-counter" data-testid="sms-counter">
            <strong>{c.sms.units}</strong> characters · {c.sms.encoding} · <strong>{c.sms.segments}</strong> segment{c.sms.segments === 1 ? '' : 's'}
            <span className="muted"> ({Math.max(0, smsCapacity(c.sms.encoding, c.sms.segments) - c.sms.units)} left before the next segment)</span>
          </p>
          {c.sms.encoding === 'UCS-2' ? <p className="hint">A character outside GSM-7 (an emoji, a curly quote) makes every segment hold 70 characters instead of 160.</p> : null}
        </div>
      ) : c.channel === 'push' ? (
        <div className={`frame-wrap frame-${width}`}>
          <div className="push-card" style={frameStyle}>
            <strong>{c.push.title}</strong>
            <p>{c.push.body}</p>
            {c.push.url ? <span className="muted small">{c.push.url}</span> : null}
          </div>
        </div>
      ) : c.channel === 'onsite' ? (
        <div className={`frame-wrap frame-${width}`}>
          <div className={`onsite onsite-${c.onsite.kind}`} style={frameStyle}>
            <strong>{c.onsite.title}</strong>
            <iframe title="Onsite message body" sandbox="" srcDoc={c.onsite.html} className="onsite-frame" />
          </div>
        </div>
      ) : c.channel === 'webhook' ? (
        <pre className="json">{(() => {
          try {
            return JSON.stringify(JSON.parse(c.webhook.body), null, 2);
          } catch {
            return c.webhook.body;
          }
        })()}</pre>
      ) : (
        <pre className="json">{JSON.stringify(c, null, 2)}</pre>
      )}
      <p className="muted small">
        Rendered for {p.profileId === 'sample' ? 'sample data (Alex Sample)' : <Link href={`/customers/${enc(p.profileId)}`}>{p.profileId}</Link>} without tracking links.
      </p>
    </div>
  );
}
