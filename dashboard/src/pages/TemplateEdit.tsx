// The template editor (/templates/new, /templates/:id/edit): the channel's fields as form fields (Liquid everywhere,
// MJML for email bodies), a live preview rendered by Omnia exactly as a send would (POST /api/templates/preview,
// debounced) at phone or desktop width, the SMS segment counter, a push notification mock, and rendering as a real
// customer. Saving creates the template or a new version; the API's 400 is shown next to the field it names.
import { useEffect, useState } from 'react';
import { ApiError, enc, get, patch, post } from '../api.ts';
import { navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Card, ErrorBox, Field, Loading, Page, described, useAsync, useDebounced, useToast } from '../ui.tsx';
import { PersonPicker } from '../template-editor/PersonPicker.tsx';
import { RenderedPreview } from '../template-editor/Preview.tsx';

type Channel = 'email' | 'sms' | 'push' | 'onsite' | 'webhook';
interface FieldDef {
  key: string;
  label: string;
  area?: boolean;
  hint?: string;
  options?: string[];
}
const FIELDS: Record<Channel, FieldDef[]> = {
  email: [
    { key: 'subject', label: 'Subject' },
    { key: 'preheader', label: 'Preheader' },
    { key: 'mjml', label: 'Body (MJML)', area: true, hint: 'Sections of MJML (<mj-section>…); the brand kit adds the header and footer.' },
    { key: 'text', label: 'Plain-text version (optional)', area: true, hint: 'Left empty, Omnia derives it from the HTML.' },
  ],
  sms: [{ key: 'body', label: 'Message', area: true, hint: 'Omnia adds the opt-out line for marketing messages.' }],
  push: [
    { key: 'title', label: 'Title' },
    { key: 'body', label: 'Text', area: true },
    { key: 'url', label: 'Opens (URL)' },
    { key: 'icon', label: 'Icon URL (optional)' },
  ],
  onsite: [
    { key: 'kind', label: 'Kind', options: ['banner', 'modal'] },
    { key: 'title', label: 'Title' },
    { key: 'body', label: 'Body (HTML)', area: true },
    { key: 'url', label: 'Link (URL)' },
  ],
  webhook: [{ key: 'body', label: 'Body (JSON)', area: true }],
};
const SNIPPETS = ['{{ profile.first_name | default: "there" }}', '{{ profile.email }}', '{{ event.properties.order_id }}', '{{ brand.name }}'];
const STARTER: Record<Channel, Record<string, string>> = {
  email: { subject: 'Hello {{ profile.first_name | default: "there" }}', preheader: '', mjml: '<mj-section><mj-column><mj-text font-size="18px">Hi {{ profile.first_name | default: "there" }},</mj-text><mj-button href="https://shop.example.com">Shop now</mj-button></mj-column></mj-section>' },
  sms: { body: 'Hi {{ profile.first_name | default: "there" }}, ' },
  push: { title: 'Hi {{ profile.first_name | default: "there" }}', body: '', url: '' },
  onsite: { kind: 'banner', title: 'Hi {{ profile.first_name | default: "there" }}', body: '<p>Free shipping this week.</p>', url: '' },
  webhook: { body: '{"profile": "{{ profile.id }}"}' },
};

/** The fields shown for a source: an email written in HTML (through the API) keeps an HTML body field. */
const fieldsFor = (channel: Channel, src: Record<string, string>): FieldDef[] =>
  channel === 'email' && src.html !== undefined && src.mjml === undefined
    ? FIELDS.email.map((f) => (f.key === 'mjml' ? { key: 'html', label: 'Body (HTML)', area: true } : f))
    : FIELDS[channel];

/** The field of an API error (source.mjml → mjml), or the error's own field. */
const fieldOf = (e: unknown) => (e instanceof ApiError && e.field ? e.field.replace(/^(body\.)?source\./, '') : null);

export function TemplateEdit({ id }: { id?: string }) {
  const can = useCan('templates');
  const toast = useToast();
  const existing = useAsync(() => (id ? get<{ id: string; name: string; channel: Channel; version: number; source: Record<string, string> }>(`/templates/${enc(id)}`) : Promise.resolve(null)), [id]);
  const [name, setName] = useState('');
  const [channel, setChannel] = useState<Channel>('email');
  const [src, setSrc] = useState<Record<string, string>>(STARTER.email);
  const [width, setWidth] = useState<'phone' | 'desktop'>('desktop');
  const [profileId, setProfileId] = useState<string | null>(null);
  const [preview, setPreview] = useState<{ content?: any; warnings?: string[]; error?: unknown } | null>(null);
  const [saveErr, setSaveErr] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const t = existing.data;
    if (!t) return;
    setName(t.name);
    setChannel(t.channel);
    const { channel: _c, ...rest } = t.source;
    setSrc(rest);
  }, [existing.data]);

  const source = { channel, ...Object.fromEntries(Object.entries(src).filter(([, v]) => v !== '')) };
  useDebounced(
    () => {
      let live = true;
      post('/templates/preview', { source, ...(profileId ? { profileId } : {}) }).then(
        (r) => live && setPreview({ content: r.content, warnings: r.warnings }),
        (e) => live && setPreview({ error: e }),
      );
      return () => void (live = false);
    },
    [JSON.stringify(source), profileId],
    400,
  );

  const save = async () => {
    setBusy(true);
    setSaveErr(null);
    try {
      const r = id ? await patch<{ id: string }>(`/templates/${enc(id)}`, { name, source }) : await post<{ id: string }>('/templates', { name, source });
      toast(id ? 'Saved: a new version' : 'Template created');
      navigate(`/templates/${enc(r.id)}`);
    } catch (e) {
      setSaveErr(e);
    } finally {
      setBusy(false);
    }
  };

  if (existing.error) return <Page title="Template"><ErrorBox error={existing.error} /></Page>;
  if (id && !existing.data) return <Page title="Edit template"><Loading rows={6} height={400} /></Page>;
  const errField = fieldOf(saveErr) ?? fieldOf(preview?.error);
  const errMsg = (k: string) => (errField === k ? ((saveErr ?? preview?.error) as Error).message : null);
  const fields = fieldsFor(channel, src);
  return (
    <Page
      title={id ? `Edit ${existing.data?.name ?? 'template'}` : 'New template'}
      subtitle={id ? `Saving makes version ${(existing.data?.version ?? 0) + 1}` : 'Liquid in every field, MJML for email bodies'}
      actions={
        can ? (
          <button type="button" className="btn btn-primary" disabled={busy} onClick={save}>
            {id ? 'Save new version' : 'Create template'}
          </button>
        ) : undefined
      }
    >
      {saveErr && !fieldOf(saveErr) ? <ErrorBox error={saveErr} /> : null}
      <div className="template-layout">
        <Card title="Content" id="content">
          <Field id="tpl-name" label="Name" error={errField === 'name' ? (saveErr as Error).message : null}>
            <input {...described('tpl-name', errField === 'name' ? 'x' : null)} value={name} onChange={(e) => setName(e.target.value)} readOnly={!can} />
          </Field>
          <Field id="tpl-channel" label="Channel" hint={id ? 'A template keeps its channel.' : undefined}>
            <select
              {...described('tpl-channel', null, !!id)}
              value={channel}
              disabled={!!id || !can}
              onChange={(e) => {
                const c = e.target.value as Channel;
                setChannel(c);
                setSrc(STARTER[c]);
              }}
            >
              {(Object.keys(FIELDS) as Channel[]).map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </Field>
          {fields.map((f) => {
            const fid = `tpl-${f.key}`;
            const err = errMsg(f.key);
            const props = { ...described(fid, err, !!f.hint), value: src[f.key] ?? '', onChange: (e: { target: { value: string } }) => setSrc({ ...src, [f.key]: e.target.value }) };
            return (
              <Field key={f.key} id={fid} label={f.label} error={err} hint={f.hint}>
                {f.options ? (
                  <select {...props} disabled={!can}>
                    {f.options.map((o) => (
                      <option key={o} value={o}>
                        {o}
                      </option>
                    ))}
                  </select>
                ) : f.area ? (
                  <textarea rows={f.key === 'mjml' || f.key === 'html' ? 14 : 5} spellCheck={false} className="code" readOnly={!can} {...props} />
                ) : (
                  <input readOnly={!can} {...props} />
                )}
              </Field>
            );
          })}
          <p className="hint">
            Insert:{' '}
            {SNIPPETS.map((s) => (
              <button key={s} type="button" className="chip" disabled={!can} onClick={() => { const k = fields.find((f) => f.area)?.key ?? fields[0]!.key; setSrc({ ...src, [k]: (src[k] ?? '') + s }); }}>
                {s}
              </button>
            ))}
          </p>
        </Card>
        <Card title="Preview" id="preview" className="card-preview">
          <div className="preview-controls">
            {channel === 'email' ? (
              <div className="segmented" role="group" aria-label="Preview width">
                <button type="button" aria-pressed={width === 'phone'} onClick={() => setWidth('phone')}>Phone (390 px)</button>
                <button type="button" aria-pressed={width === 'desktop'} onClick={() => setWidth('desktop')}>Desktop</button>
              </div>
            ) : null}
          </div>
          <PersonPicker profileId={profileId} onPick={(p) => setProfileId(p)} />
          {preview?.error ? (
            <p className="notice notice-error" role="alert">{(preview.error as Error).message}</p>
          ) : !preview?.content ? (
            <Loading rows={4} height={300} />
          ) : (
            <RenderedPreview content={preview.content} width={width} />
          )}
          {preview?.warnings?.length ? (
            <ul className="notice notice-warn te-warnings" aria-label="Render warnings">{preview.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
          ) : null}
        </Card>
      </div>
    </Page>
  );
}
