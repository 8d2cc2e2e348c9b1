// Policy tab: frequency caps (marketing messages per person per day/week) and quiet hours, as editable rows.
// The whole policy is sent back on Save (the API fills missing fields with its defaults, not the stored values), so
// the fields this screen does not edit (over-cap behaviour, fallback order, consent…) are kept as loaded.
// Every edit is checked by the API's own validator (validatePolicy, imported from the server code), so each row shows
// the error a save would get as it is typed, and a Save with errors sends nothing. Should the server still refuse,
// its 400 names the field (caps[1].max) and the message is shown next to that row's control too.
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { validatePolicy } from '../../../src/messaging/arbiter/policy.ts';
import { get, put } from '../api.ts';
import { Card, ErrorBox, Field, Loading, described, useAsync, useToast } from '../ui.tsx';
import { useCan } from '../session.tsx';
import { type FormError, errorFor, formError, normField, unplaced } from './common.tsx';

const CHANNELS = ['email', 'sms', 'push', 'onsite', 'webhook'];
interface Cap {
  scope: string;
  period: string;
  max: number | string;
}
interface Quiet {
  channel: string;
  start: string;
  end: string;
  countries?: string[];
  days?: number[];
}
type Policy = { caps: Cap[]; quietHours: Quiet[] } & Record<string, unknown>;

export function PolicyTab() {
  const res = useAsync(() => get<Policy>('/messaging/policy'), []);
  if (res.error && !res.data) return <ErrorBox error={res.error} onRetry={res.reload} />;
  if (!res.data) return <Loading rows={6} height={320} />;
  return <PolicyForm policy={res.data} onSaved={res.setData} />;
}

function PolicyForm({ policy, onSaved }: { policy: Policy; onSaved: (p: Policy) => void }) {
  const can = useCan('settings');
  const toast = useToast();
  const [caps, setCaps] = useState<Cap[]>(policy.caps);
  const [quiet, setQuiet] = useState<Quiet[]>(policy.quietHours);
  const [fe, setFe] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setCaps(policy.caps);
    setQuiet(policy.quietHours);
  }, [policy]);

  const fieldNames = [...caps.flatMap((_, i) => [`caps.${i}`, `caps.${i}.scope`, `caps.${i}.period`, `caps.${i}.max`]), ...quiet.flatMap((_, i) => [`quietHours.${i}`, `quietHours.${i}.channel`, `quietHours.${i}.start`, `quietHours.${i}.end`])];
  // The policy as it would be sent, and what the API's validator says of it (field → message).
  const body = useMemo(() => ({ ...policy, caps: caps.map((c) => ({ ...c, max: c.max === '' ? null : Number(c.max) })), quietHours: quiet }), [policy, caps, quiet]);
  const local = useMemo(() => {
    const r = validatePolicy(body);
    return new Map(r.ok ? [] : r.errors.map((x) => [normField(x.field), x.message]));
  }, [body]);
  const stray = [...local].filter(([f]) => !fieldNames.includes(f));
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (local.size) {
      const first = (e.currentTarget as HTMLFormElement).querySelector<HTMLElement>('[aria-invalid="true"]');
      first?.focus();
      return;
    }
    setBusy(true);
    setFe(null);
    try {
      onSaved(await put<Policy>('/messaging/policy', body));
      toast('Policy saved');
    } catch (err) {
      setFe(formError(err));
    } finally {
      setBusy(false);
    }
  };
  const setCap = (i: number, patch: Partial<Cap>) => setCaps(caps.map((c, j) => (j === i ? { ...c, ...patch } : c)));
  const setQ = (i: number, patch: Partial<Quiet>) => setQuiet(quiet.map((q, j) => (j === i ? { ...q, ...patch } : q)));
  const rowErr = (f: string) => local.get(f) ?? errorFor(fe, f);

  return (
    <form onSubmit={save} aria-label="Messaging policy" noValidate>
      <ErrorBox error={unplaced(fe, fieldNames)} />
      {stray.length ? <p className="notice notice-error" role="alert">{stray.map(([f, m]) => `${f}: ${m}`).join('; ')}</p> : null}
      {can ? null : <p className="notice notice-info">Your role can read the policy but not change it.</p>}
      <fieldset disabled={!can} style={{ border: 0, padding: 0, margin: 0 }}>
        <Card title="Frequency caps" id="caps">
          <p className="hint">The most marketing messages one person receives per day or week (their local calendar). Transactional messages are never capped.</p>
          <div className="settings-rows">
            {caps.length === 0 ? <p className="hint">No caps: marketing messages are not limited.</p> : null}
            {caps.map((c, i) => (
              <div key={i} className="settings-row" role="group" aria-label={`Cap ${i + 1}`} data-row={`caps.${i}`}>
                <Field id={`cap-${i}-scope`} label="Channel" error={rowErr(`caps.${i}.scope`)}>
                  <select {...described(`cap-${i}-scope`, rowErr(`caps.${i}.scope`))} value={c.scope} onChange={(e) => setCap(i, { scope: e.target.value })}>
                    <option value="all">All channels</option>
                    {CHANNELS.map((ch) => (
                      <option key={ch} value={ch}>
                        {ch}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field id={`cap-${i}-period`} label="Per" error={rowErr(`caps.${i}.period`)}>
                  <select {...described(`cap-${i}-period`, rowErr(`caps.${i}.period`))} value={c.period} onChange={(e) => setCap(i, { period: e.target.value })}>
                    <option value="day">day</option>
                    <option value="week">week</option>
                  </select>
                </Field>
                <Field id={`cap-${i}-max`} label="At most" error={rowErr(`caps.${i}.max`) ?? rowErr(`caps.${i}`)}>
                  <input {...described(`cap-${i}-max`, rowErr(`caps.${i}.max`) ?? rowErr(`caps.${i}`))} type="number" inputMode="numeric" value={String(c.max)} onChange={(e) => setCap(i, { max: e.target.value })} />
                </Field>
                <button type="button" className="btn btn-ghost row-remove" aria-label={`Remove cap ${i + 1}`} onClick={() => setCaps(caps.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
            ))}
          </div>
          <button type="button" className="btn" onClick={() => setCaps([...caps, { scope: 'all', period: 'day', max: 1 }])}>
            Add a cap
          </button>
        </Card>
        <Card title="Quiet hours" id="quiet">
          <p className="hint">No messages on that channel in this window, in the person's local time (a window may wrap midnight, 21:00–08:00).</p>
          <div className="settings-rows">
            {quiet.length === 0 ? <p className="hint">No quiet hours.</p> : null}
            {quiet.map((q, i) => (
              <div key={i} className="settings-row" role="group" aria-label={`Quiet hours ${i + 1}`} data-row={`quietHours.${i}`}>
                <Field id={`quiet-${i}-channel`} label="Channel" error={rowErr(`quietHours.${i}.channel`) ?? rowErr(`quietHours.${i}`)}>
                  <select {...described(`quiet-${i}-channel`, rowErr(`quietHours.${i}.channel`))} value={q.channel} onChange={(e) => setQ(i, { channel: e.target.value })}>
                    <option value="all">All channels</option>
                    {CHANNELS.map((ch) => (
                      <option key={ch} value={ch}>
                        {ch}
                      </option>
                    ))}
                  </select>
                </Field>
                <Field id={`quiet-${i}-start`} label="From" error={rowErr(`quietHours.${i}.start`)}>
                  <input {...described(`quiet-${i}-start`, rowErr(`quietHours.${i}.start`))} type="time" value={q.start} onChange={(e) => setQ(i, { start: e.target.value })} />
                </Field>
                <Field id={`quiet-${i}-end`} label="Until" error={rowErr(`quietHours.${i}.end`)}>
                  <input {...described(`quiet-${i}-end`, rowErr(`quietHours.${i}.end`))} type="time" value={q.end} onChange={(e) => setQ(i, { end: e.target.value })} />
                </Field>
                {q.countries || q.days ? <p className="hint">{[q.countries ? `Countries: ${q.countries.join(', ')}` : '', q.days ? `Days: ${q.days.join(', ')}` : ''].filter(Boolean).join(' · ')} (kept)</p> : null}
                <button type="button" className="btn btn-ghost row-remove" aria-label={`Remove quiet hours ${i + 1}`} onClick={() => setQuiet(quiet.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
            ))}
          </div>
          <button type="button" className="btn" onClick={() => setQuiet([...quiet, { channel: 'sms', start: '21:00', end: '08:00' }])}>
            Add quiet hours
          </button>
        </Card>
        <div className="settings-actions">
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Save policy
          </button>
        </div>
      </fieldset>
    </form>
  );
}
