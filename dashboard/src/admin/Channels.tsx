// Channels tab: the email (SMTP) and SMS (Twilio-compatible) providers, with Save, Remove and Check connection.
// Secrets come back masked ("********"): they are never shown; left empty they are sent back as the mask, which keeps
// the stored secret. Push and webhook providers are listed with their status only (configured through the API).
// "Check connection" calls POST /api/messaging/providers/:channel/health; "Send test" sends a real message through the
// stored provider (POST /api/messaging/providers/:channel/test) to an address typed here.
import { type FormEvent, useEffect, useState } from 'react';
import { del, get, post, put } from '../api.ts';
import { Badge, Card, ErrorBox, Field, Loading, described, useAsync, useConfirm, useToast } from '../ui.tsx';
import { useCan } from '../session.tsx';
import { type FormError, OwnerOnly, errorFor, formError, unplaced } from './common.tsx';

const MASK = '********';
type Config = Record<string, any>;
type Providers = Record<string, Config | null>;
interface Health {
  ok: boolean;
  detail?: string;
}

export function ChannelsTab() {
  const owner = useCan('admin');
  const res = useAsync(() => get<{ providers: Providers }>('/messaging/providers').then((r) => r.providers), []);
  const note = owner ? null : <OwnerOnly what="channel providers" />;
  // Non-owners may not read the providers either (403): the note says why.
  if (res.error && !res.data) return note ?? <ErrorBox error={res.error} onRetry={res.reload} />;
  if (!res.data) return <>{note}<Loading rows={6} height={320} /></>;
  const p = res.data;
  return (
    <>
      {note}
      <Card title="Providers" id="providers">
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Provider</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {Object.entries(p).map(([ch, c]) => (
                <tr key={ch} data-channel={ch}>
                  <td>{ch}</td>
                  <td>{c ? String(c.provider ?? ch) : '—'}</td>
                  <td>{c ? <Badge tone="good">configured</Badge> : <Badge>not configured</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Card>
      <div className="grid grid-2">
        <ProviderForm channel="email" title="Email (SMTP)" current={p.email ?? null} owner={owner} onChange={res.reload} />
        <ProviderForm channel="sms" title="SMS (Twilio-compatible)" current={p.sms ?? null} owner={owner} onChange={res.reload} />
      </div>
    </>
  );
}

interface FieldDef {
  /** Dotted path in the config (the API names errors by it). */
  path: string;
  label: string;
  type?: 'text' | 'number' | 'password' | 'checkbox';
  hint?: string;
  secret?: boolean;
}
const FIELDS: Record<'email' | 'sms', FieldDef[]> = {
  email: [
    { path: 'host', label: 'SMTP host', hint: 'e.g. smtp.example.com' },
    { path: 'port', label: 'Port', type: 'number', hint: '587 (STARTTLS) or 465 (TLS)' },
    { path: 'auth.user', label: 'User name', hint: 'Leave empty for a relay without sign-in' },
    { path: 'auth.pass', label: 'Password', type: 'password', secret: true },
    { path: 'messageIdDomain', label: 'Message-ID domain', hint: 'e.g. mail.example.com' },
    { path: 'secure', label: 'TLS from the first byte (port 465)', type: 'checkbox' },
  ],
  sms: [
    { path: 'accountSid', label: 'Account SID', hint: 'AC followed by 32 hex digits' },
    { path: 'authToken', label: 'Auth token', type: 'password', secret: true },
    { path: 'from', label: 'From', hint: 'An E.164 number (+447700900123) or a Messaging Service SID (MG…)' },
    { path: 'baseUrl', label: 'API base URL', hint: 'Optional; default https://api.twilio.com' },
  ],
};

const getPath = (o: Config | null, p: string): any => p.split('.').reduce<any>((v, k) => (v && typeof v === 'object' ? v[k] : undefined), o);

function initialValues(channel: 'email' | 'sms', c: Config | null): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (const f of FIELDS[channel]) {
    const v = getPath(c, f.path);
    out[f.path] = f.type === 'checkbox' ? v === true : f.secret || v === undefined || v === null ? '' : String(v);
  }
  return out;
}

/** The PUT body: the stored config (other fields kept, secrets as the mask) with the form's fields over it. */
function bodyOf(channel: 'email' | 'sms', current: Config | null, v: Record<string, string | boolean>): Config {
  const { channel: _c, provider: _p, ...rest } = current ?? {};
  const body: Config = structuredClone(rest);
  if (channel === 'email') {
    body.host = String(v.host).trim();
    body.port = v.port === '' ? undefined : Number(v.port);
    body.messageIdDomain = String(v.messageIdDomain).trim();
    if (v.secure) body.secure = true;
    else delete body.secure;
    const user = String(v['auth.user']).trim();
    const pass = String(v['auth.pass']);
    if (user) body.auth = { user, pass: pass || (current?.auth?.pass ? MASK : '') };
    else delete body.auth;
  } else {
    body.accountSid = String(v.accountSid).trim();
    body.authToken = String(v.authToken) || (current?.authToken ? MASK : '');
    body.from = String(v.from).trim();
    const base = String(v.baseUrl).trim();
    if (base) body.baseUrl = base;
    else delete body.baseUrl;
  }
  return body;
}

function ProviderForm({ channel, title, current, owner, onChange }: { channel: 'email' | 'sms'; title: string; current: Config | null; owner: boolean; onChange: () => void }) {
  const [v, setV] = useState(() => initialValues(channel, current));
  const [fe, setFe] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  const [health, setHealth] = useState<Health | { error: unknown } | null>(null);
  const toast = useToast();
  const confirm = useConfirm();
  useEffect(() => setV(initialValues(channel, current)), [channel, current]);
  const fields = FIELDS[channel];
  const id = (p: string) => `${channel}-${p.replace(/\./g, '-')}`;

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setFe(null);
    try {
      await put(`/messaging/providers/${channel}`, bodyOf(channel, current, v));
      toast(`${title} saved`);
      setHealth(null);
      onChange();
    } catch (err) {
      setFe(formError(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!(await confirm({ title: `Remove the ${channel} provider?`, body: `No ${channel} messages can be sent until a provider is set again.`, confirm: 'Remove', danger: true }))) return;
    try {
      await del(`/messaging/providers/${channel}`);
      toast(`${title} removed`);
      setHealth(null);
      onChange();
    } catch (err) {
      setFe(formError(err));
    }
  };
  const check = async () => {
    setHealth(null);
    setBusy(true);
    try {
      setHealth(await post<Health>(`/messaging/providers/${channel}/health`));
    } catch (err) {
      setHealth({ error: err });
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={title} id={`provider-${channel}`} actions={current ? <Badge tone="good">configured</Badge> : <Badge>not configured</Badge>}>
      <form onSubmit={save} aria-label={`${title} provider`} noValidate>
        <ErrorBox error={unplaced(fe, fields.map((f) => f.path))} />
        <fieldset disabled={!owner} style={{ border: 0, padding: 0, margin: 0 }}>
          <div className="settings-form">
            {fields.map((f) => {
              const err = errorFor(fe, f.path);
              const fid = id(f.path);
              if (f.type === 'checkbox')
                return (
                  <div key={f.path} className="field span-2">
                    <label>
                      <input type="checkbox" id={fid} checked={v[f.path] === true} onChange={(e) => setV({ ...v, [f.path]: e.target.checked })} /> {f.label}
                    </label>
                    {err ? <p className="field-error">{err}</p> : null}
                  </div>
                );
              const stored = f.secret && getPath(current, f.path) !== undefined;
              return (
                <Field key={f.path} id={fid} label={f.label} error={err} hint={f.secret ? (stored ? 'Stored (hidden). Leave empty to keep it, or type a new one.' : 'Write-only: never shown again') : f.hint}>
                  <input
                    {...described(fid, err, true)}
                    type={f.type ?? 'text'}
                    inputMode={f.type === 'number' ? 'numeric' : undefined}
                    autoComplete={f.secret ? 'new-password' : 'off'}
                    placeholder={stored ? '•••••••• (unchanged)' : undefined}
                    value={String(v[f.path] ?? '')}
                    onChange={(e) => setV({ ...v, [f.path]: e.target.value })}
                  />
                </Field>
              );
            })}
          </div>
          <div className="settings-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              Save
            </button>
            <button type="button" className="btn" disabled={busy || !current} onClick={check} title="Checks the stored provider (connects and signs in); sends nothing">
              Check connection
            </button>
            <button type="button" className="btn btn-ghost" disabled={busy || !current} onClick={remove}>
              Remove
            </button>
          </div>
        </fieldset>
      </form>
      {current && owner ? <TestSend channel={channel} /> : null}
      {health ? (
        <div className="health-result" aria-live="polite">
          {'error' in health ? (
            <ErrorBox error={health.error} />
          ) : health.ok ? (
            <p className="notice notice-good" role="status">Connection OK{health.detail ? `: ${health.detail}` : ''}</p>
          ) : (
            <p className="notice notice-error" role="alert">Connection failed{health.detail ? `: ${health.detail}` : ''}</p>
          )}
        </div>
      ) : null}
    </Card>
  );
}

/** A real test message to an address the owner types; the API's refusal shows next to the field. */
function TestSend({ channel }: { channel: 'email' | 'sms' }) {
  const [to, setTo] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const id = `test-to-${channel}`;
  const send = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setErr(null);
    setSent(null);
    try {
      await post(`/messaging/providers/${channel}/test`, { to });
      setSent(to);
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="settings-test-send" onSubmit={send} aria-label={`Send a test ${channel === 'email' ? 'email' : 'SMS'}`}>
      <Field id={id} label={channel === 'email' ? 'Send a test email to' : 'Send a test SMS to'} error={err}>
        <input type={channel === "email" ? "email" : "tel"} value={to} onChange={(e) => setTo(e.target.value)} placeholder={channel === 'email' ? 'you@shop.example' : '+14155552671'} {...described(id, err)} required />
      </Field>
      <button type="submit" className="btn" disabled={busy || !to.trim()}>
        Send test
      </button>
      {sent ? (
        <p className="notice notice-good" role="status">
          Sent to {sent}: check that it arrived.
        </p>
      ) : null}
    </form>
  );
}
