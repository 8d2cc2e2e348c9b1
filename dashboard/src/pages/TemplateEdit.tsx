// The template editor (/templates/new, /templates/:id/edit): the channel's fields as form fields (Liquid everywhere,
// MJML for email bodies), a live preview rendered by Omnia exactly as a send would (POST /api/templates/preview,
// debounced) at phone or desktop width, the SMS segment counter, a push notification mock, and rendering as a real
// customer. Saving creates the template or a new version; the API's 400 is shown next to the field it names.
import { useEffect, useState } from 'react';
import { ApiError, enc, get, patch, post } from '../api.ts';
import { navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Card, ErrorBox, Field, Loading, Page, described, useAsync, useDebounced, useToast } from '../ui.tsx';

type Channel = 'email' | 'sms' | 'push' | 'onsite' | 'webhook';
const FIELDS: Record<Channel, { key: string; label: string; area?: boolean; hint?: string }[]> = {
  email: [
    { key: 'subject', label: 'Subject' },
    { key: 'preheader', label: 'Preheader' },
    { key: 'mjml', label: 'Body (MJML)', area: true, hint: 'Sections of MJML (<mj-section>…); the brand kit adds the header and footer.' },
  ],
  sms: [{ key: 'body', label: 'Message', area: true, hint: 'Omnia adds the opt-out line for marketing messages.' }],
  push: [
    { key: 'title', label: 'Title' },
    { key: 'body', label: 'Text', area: true },
    { key: 'url', label: 'Opens (URL)' },
  ],
  onsite: [
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
  onsite: { title: '', body: '', url: '' },
  webhook: { body: '{"profile": "{{ profile.id }}"}' },
};

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
  const [who, setWho] = useState('');
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

  const findPerson = async () => {
    setProfileId(null);
    if (!who.trim()) return;
    const r = await get<{ profiles: { profileId: string }[] }>(`/profiles?search=${enc(who.trim())}&limit=1`);
    if (r.profiles[0]) setProfileId(r.profiles[0].profileId);
    else toast(`No customer matches “${who}”`);
  };

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
  const sms = preview?.content?.sms;
  const push = preview?.content?.push;
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
          {FIELDS[channel].map((f) => {
            const fid = `tpl-${f.key}`;
            const err = errMsg(f.key);
            const props = { ...described(fid, err, !!f.hint), value: src[f.key] ?? '', readOnly: !can, onChange: (e: { target: { value: string } }) => setSrc({ ...src, [f.key]: e.target.value }) };
            return (
              <Field key={f.key} id={fid} label={f.label} error={err} hint={f.hint}>
                {f.area ? <textarea rows={channel === 'email' ? 14 : 5} spellCheck={false} className="code" {...props} /> : <input {...props} />}
              </Field>
            );
          })}
          <p className="hint">
            Insert:{' '}
            {SNIPPETS.map((s) => (
              <button key={s} type="button" className="chip" disabled={!can} onClick={() => { const k = FIELDS[channel].find((f) => f.area)?.key ?? FIELDS[channel][0]!.key; setSrc({ ...src, [k]: (src[k] ?? '') + s }); }}>
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
            <form className="inline-form" onSubmit={(e) => { e.preventDefault(); void findPerson(); }}>
              <label htmlFor="tpl-as">Preview as</label>
              <input id="tpl-as" type="search" placeholder="name or email" value={who} onChange={(e) => setWho(e.target.value)} />
              <button type="submit" className="btn btn-ghost">Render</button>
            </form>
          </div>
          <p className="hint" aria-live="polite">{profileId ? `Rendered for ${profileId}` : 'Rendered for a sample person'}</p>
          {preview?.error ? (
            <p className="notice notice-error" role="alert">{(preview.error as Error).message}</p>
          ) : !preview?.content ? (
            <Loading rows={4} height={300} />
          ) : channel === 'email' ? (
            <>
              <p className="preview-subject"><strong>{preview.content.email?.subject}</strong> <span className="muted">{preview.content.email?.preheader}</span></p>
              <iframe className="email-frame" title="Email preview" sandbox="" srcDoc={preview.content.email?.html ?? ''} style={{ width: width === 'phone' ? 390 : '100%', height: 520, border: '1px solid var(--line)', background: '#fff' }} />
            </>
          ) : sms ? (
            <div className="sms-preview">
              <p className="sms-bubble">{sms.body}</p>
              <p className="muted small" data-testid="sms-count">{sms.encoding} · {sms.units} characters · {sms.segments} segment{sms.segments === 1 ? '' : 's'}</p>
            </div>
          ) : push ? (
            <div className="push-preview" role="img" aria-label={`Notification: ${push.title}. ${push.body}`}>
              <strong>{push.title}</strong>
              <p>{push.body}</p>
              {push.url ? <span className="muted small">{push.url}</span> : null}
            </div>
          ) : (
            <pre className="code">{JSON.stringify(preview.content, null, 2)}</pre>
          )}
          {preview?.warnings?.length ? (
            <ul className="notice notice-warn">{preview.warnings.map((w, i) => <li key={i}>{w}</li>)}</ul>
          ) : null}
        </Card>
      </div>
    </Page>
  );
}
