// The brand kit (/templates/brand): what every email's layout and every sender identity is made of (GET/PUT
// /api/messaging/brand), with a sample email rendered by Omnia in the brand as it is being edited (the preview takes
// the unsaved kit). Every field is checked as it is typed by the API's own validator (validateBrandKit, imported
// from the server code, not rewritten here), so the errors shown are exactly those a save would get; a Save with
// errors sends nothing. The API's 400 (if the server still refuses) names the field and is shown there too.
import { useEffect, useMemo, useState } from 'react';
import { type BrandKit, validateBrandKit } from '../../../src/messaging/templates/brand-kit.ts';
import { ApiError, get, post, put } from '../api.ts';
import { useCan } from '../session.tsx';
import { Card, ErrorBox, Field, Loading, Page, described, useAsync, useDebounced, useToast } from '../ui.tsx';
import '../template-editor/editor.css';

type Kit = BrandKit;

const TEXT: { key: keyof Kit; label: string; hint?: string }[] = [
  { key: 'name', label: 'Brand name' },
  { key: 'logoUrl', label: 'Logo URL', hint: 'An https image, shown at the top of every email.' },
  { key: 'font', label: 'Font stack', hint: 'Web-safe fonts, for example Helvetica, Arial, sans-serif.' },
  { key: 'address', label: 'Postal address', hint: 'Required in marketing email footers (CAN-SPAM, GDPR).' },
  { key: 'footerText', label: 'Footer text' },
  { key: 'senderName', label: 'Sender name' },
  { key: 'senderEmail', label: 'Sender email' },
  { key: 'replyTo', label: 'Reply-to' },
  { key: 'smsSenderName', label: 'SMS sender name' },
];
const COLORS: { key: keyof Kit['colors']; label: string }[] = [
  { key: 'primary', label: 'Primary colour' },
  { key: 'background', label: 'Background colour' },
  { key: 'text', label: 'Text colour' },
];
const SAMPLE = {
  channel: 'email',
  subject: 'A sample from {{ brand.name }}',
  mjml: '<mj-section><mj-column><mj-text font-size="20px">Hi {{ profile.first_name | default: "there" }},</mj-text><mj-text>This is how your emails look.</mj-text><mj-button href="https://shop.example.com">Shop now</mj-button></mj-column></mj-section>',
};

export function Brand() {
  const can = useCan('settings');
  const toast = useToast();
  const res = useAsync(() => get<Kit>('/messaging/brand'), []);
  const [kit, setKit] = useState<Kit | null>(null);
  const [err, setErr] = useState<ApiError | null>(null);
  const [html, setHtml] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (res.data) setKit(res.data);
  }, [res.data]);
  // The unsaved kit as the API would receive it (empty optional fields left out), checked by the API's validator.
  const clean = useMemo(() => (kit ? Object.fromEntries(Object.entries(kit).filter(([, v]) => v !== '' && v !== undefined)) : null), [kit]);
  const local = useMemo(() => {
    const r = clean ? validateBrandKit(clean) : null;
    return new Map(r && !r.ok ? r.errors.map((e) => [e.field, e.message]) : []);
  }, [clean]);
  useDebounced(
    () => {
      // An invalid kit keeps the last sample: the errors are shown at their fields instead.
      if (!clean || local.size) return;
      let live = true;
      post('/templates/preview', { source: SAMPLE, brand: clean }).then(
        (r) => live && setHtml(r.content?.email?.html ?? null),
        () => live && setHtml(null),
      );
      return () => void (live = false);
    },
    [JSON.stringify(kit)],
    400,
  );
  if (res.error) return <Page title="Brand kit"><ErrorBox error={res.error} onRetry={res.reload} /></Page>;
  if (!kit) return <Page title="Brand kit"><Loading rows={6} height={400} /></Page>;
  const fieldErr = (f: string) => local.get(f) ?? (err && err.field?.replace(/^body\./, '') === f ? err.message : null);
  const shown = new Set<string>([...TEXT.map((t) => t.key), ...COLORS.map((c) => `colors.${c.key}`)]);
  const stray = [...local].filter(([f]) => !shown.has(f));
  const save = async () => {
    if (local.size) {
      document.getElementById(`brand-${[...local.keys()][0]!.replace(/^colors\./, '')}`)?.focus();
      return;
    }
    setBusy(true);
    setErr(null);
    try {
      setKit(await put<Kit>('/messaging/brand', clean));
      toast('Brand kit saved');
    } catch (e) {
      setErr(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page
      title="Brand kit"
      subtitle="The layout of every email and the sender of every message"
      actions={can ? <button type="button" className="btn btn-primary" disabled={busy} onClick={save}>Save brand kit</button> : undefined}
    >
      {err && !err.field ? <ErrorBox error={err} /> : null}
      {stray.length ? <ErrorBox error={new ApiError(400, 'invalid_request', stray.map(([f, m]) => `${f}: ${m}`).join('; '))} /> : null}
      <div className="template-layout">
        <Card title="Brand" id="brand">
          <div className="grid grid-2">
            {COLORS.map((c) => {
              const id = `brand-${c.key}`;
              const e = fieldErr(`colors.${c.key}`);
              const set = (v: string) => setKit({ ...kit, colors: { ...kit.colors, [c.key]: v } });
              return (
                <Field key={c.key} id={id} label={c.label} error={e}>
                  <div className="te-color">
                    <input type="color" aria-label={`${c.label} picker`} value={/^#[0-9a-f]{6}$/i.test(kit.colors[c.key]) ? kit.colors[c.key] : '#000000'} disabled={!can} onChange={(x) => set(x.target.value)} />
                    <input {...described(id, e)} value={kit.colors[c.key]} readOnly={!can} onChange={(x) => set(x.target.value)} />
                  </div>
                </Field>
              );
            })}
          </div>
          {TEXT.map((t) => {
            const id = `brand-${t.key}`;
            const e = fieldErr(t.key);
            return (
              <Field key={t.key} id={id} label={t.label} error={e} hint={t.hint}>
                <input {...described(id, e, !!t.hint)} value={String(kit[t.key] ?? '')} readOnly={!can} onChange={(x) => setKit({ ...kit, [t.key]: x.target.value })} />
              </Field>
            );
          })}
        </Card>
        <Card title="Sample email" id="brand-preview" className="card-preview">
          {html ? (
            <div className="te-frame-wrap">
              <iframe className="email-frame" title="Sample email in the brand" sandbox="" srcDoc={html} style={{ width: '100%' }} />
            </div>
          ) : (
            <Loading rows={4} height={400} />
          )}
        </Card>
      </div>
    </Page>
  );
}
