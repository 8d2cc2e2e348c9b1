// Policy tab: every field of the arbiter's policy — frequency caps (marketing messages per person per day/week) and
// quiet hours as editable rows (with their countries and weekdays), what happens over a cap, the default time zone,
// whether quiet hours hold transactional messages, the "best channel" fallback order and the consent each channel's
// marketing needs. The whole policy is sent on Save (the API fills missing fields with defaults, not stored values).
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
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
// Chromium, Firefox and Safari list their IANA zones; the field accepts any name the validator knows.
const ZONES: string[] = (() => {
  try {
    return (Intl as unknown as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.('timeZone') ?? [];
  } catch {
    return [];
  }
})();
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
/** A quiet-hours row as edited: countries as typed text ("US, CA"). */
type QuietRow = Omit<Quiet, 'countries'> & { countries: string };
interface Rules {
  overCap: string;
  defaultTimeZone: string;
  quietHoursForTransactional: boolean;
  fallbackOrder: string[];
  consentRequired: Record<string, string>;
}
type Policy = { caps: Cap[]; quietHours: Quiet[] } & Rules & Record<string, unknown>;

const toRow = (q: Quiet): QuietRow => ({ ...q, countries: (q.countries ?? []).join(', ') });
function fromRow({ countries, days, ...q }: QuietRow): Quiet {
  const list = countries.split(',').map((c) => c.trim().toUpperCase()).filter(Boolean);
  return { ...q, ...(list.length ? { countries: list } : {}), ...(days && days.length ? { days: [...days].sort() } : {}) };
}
const rulesOf = (p: Policy): Rules => ({
  overCap: p.overCap,
  defaultTimeZone: p.defaultTimeZone,
  quietHoursForTransactional: p.quietHoursForTransactional,
  fallbackOrder: p.fallbackOrder,
  consentRequired: p.consentRequired,
});

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
  const [quiet, setQuiet] = useState<QuietRow[]>(policy.quietHours.map(toRow));
  const [rules, setRules] = useState<Rules>(rulesOf(policy));
  const [fe, setFe] = useState<FormError | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    setCaps(policy.caps);
    setQuiet(policy.quietHours.map(toRow));
    setRules(rulesOf(policy));
  }, [policy]);

  const fieldNames = [...caps.flatMap((_, i) => [`caps.${i}`, `caps.${i}.scope`, `caps.${i}.period`, `caps.${i}.max`]), ...quiet.flatMap((_, i) => [`quietHours.${i}`, `quietHours.${i}.channel`, `quietHours.${i}.start`, `quietHours.${i}.end`, `quietHours.${i}.countries`, `quietHours.${i}.days`]), 'overCap', 'defaultTimeZone', 'quietHoursForTransactional', 'fallbackOrder', ...CHANNELS.map((c) => `consentRequired.${c}`)];
  // The policy as it would be sent, and what the API's validator says of it (field → message).
  const body = useMemo(() => ({ ...policy, caps: caps.map((c) => ({ ...c, max: c.max === '' ? null : Number(c.max) })), quietHours: quiet.map(fromRow), ...rules }), [policy, caps, quiet, rules]);
  // Errors inside a list field (quietHours.0.countries.1, fallbackOrder.2) are shown at that field.
  const local = useMemo(() => {
    const r = validatePolicy(body);
    const m = new Map<string, string>();
    for (const x of r.ok ? [] : r.errors) {
      const f = normField(x.field).replace(/^(quietHours\.\d+\.(?:countries|days))\.\d+$/, '$1').replace(/^fallbackOrder\.\d+$/, 'fallbackOrder');
      if (!m.has(f)) m.set(f, x.message);
    }
    return m;
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
  const setQ = (i: number, patch: Partial<QuietRow>) => setQuiet(quiet.map((q, j) => (j === i ? { ...q, ...patch } : q)));
  const setR = (patch: Partial<Rules>) => setRules({ ...rules, ...patch });
  const move = (i: number, d: number) => {
    const o = [...rules.fallbackOrder];
    [o[i], o[i + d]] = [o[i + d]!, o[i]!];
    setR({ fallbackOrder: o });
  };
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
                <Field id={`quiet-${i}-countries`} label="Only in countries" error={rowErr(`quietHours.${i}.countries`)} hint="Empty: everywhere. ISO codes: US, CA">
                  <input {...described(`quiet-${i}-countries`, rowErr(`quietHours.${i}.countries`), true)} value={q.countries} onChange={(e) => setQ(i, { countries: e.target.value })} />
                </Field>
                <fieldset className="plain-fieldset quiet-days" aria-describedby={rowErr(`quietHours.${i}.days`) ? `quiet-${i}-days-err` : undefined}>
                  <legend className="small">Starting on (none: every day)</legend>
                  {WEEKDAYS.map((d, n) => (
                    <label key={d} className="check">
                      <input type="checkbox" checked={(q.days ?? []).includes(n)} onChange={(e) => setQ(i, { days: e.target.checked ? [...(q.days ?? []), n] : (q.days ?? []).filter((x) => x !== n) })} /> {d}
                    </label>
                  ))}
                  {rowErr(`quietHours.${i}.days`) ? <p className="field-error" id={`quiet-${i}-days-err`} role="alert">{rowErr(`quietHours.${i}.days`)}</p> : null}
                </fieldset>
                <button type="button" className="btn btn-ghost row-remove" aria-label={`Remove quiet hours ${i + 1}`} onClick={() => setQuiet(quiet.filter((_, j) => j !== i))}>
                  Remove
                </button>
              </div>
            ))}
          </div>
          <button type="button" className="btn" onClick={() => setQuiet([...quiet, { channel: 'sms', start: '21:00', end: '08:00', countries: '' }])}>
            Add quiet hours
          </button>
        </Card>
        <Card title="Sending rules" id="rules">
          <div className="settings-form">
            <Field id="policy-overcap" label="A marketing message over a cap" error={rowErr('overCap')}>
              <select {...described('policy-overcap', rowErr('overCap'))} value={rules.overCap} onChange={(e) => setR({ overCap: e.target.value })}>
                <option value="defer">waits for the next day or week</option>
                <option value="drop">is skipped</option>
              </select>
            </Field>
            <Field id="policy-zone" label="Default time zone" error={rowErr('defaultTimeZone')} hint="For people whose time zone is unknown (caps, quiet hours, local send times)">
              <input {...described('policy-zone', rowErr('defaultTimeZone'), true)} value={rules.defaultTimeZone} list="policy-zones" onChange={(e) => setR({ defaultTimeZone: e.target.value })} />
            </Field>
            <datalist id="policy-zones">
              {ZONES.map((z) => (
                <option key={z} value={z} />
              ))}
            </datalist>
            <label className="check span-2">
              <input type="checkbox" checked={rules.quietHoursForTransactional} onChange={(e) => setR({ quietHoursForTransactional: e.target.checked })} /> Quiet hours hold back transactional messages too (order and delivery updates)
            </label>
          </div>
          <h3 className="small-heading">"Best channel" tries, in order</h3>
          <p className="hint">After the person's preferred channel, a message sent on the best channel goes to the first of these they can be reached on.</p>
          <ol className="fallback-order" aria-describedby={rowErr('fallbackOrder') ? 'policy-fallback-err' : undefined}>
            {rules.fallbackOrder.map((c, i) => (
              <li key={c}>
                <span className="muted">{i + 1}.</span>
                <span className="fallback-channel">{c}</span>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Move ${c} up`} disabled={i === 0} onClick={() => move(i, -1)}>
                  ↑
                </button>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Move ${c} down`} disabled={i === rules.fallbackOrder.length - 1} onClick={() => move(i, 1)}>
                  ↓
                </button>
                <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove ${c} from the order`} onClick={() => setR({ fallbackOrder: rules.fallbackOrder.filter((x) => x !== c) })}>
                  Remove
                </button>
              </li>
            ))}
          </ol>
          {rowErr('fallbackOrder') ? <p className="field-error" id="policy-fallback-err" role="alert">{rowErr('fallbackOrder')}</p> : null}
          {CHANNELS.filter((c) => !rules.fallbackOrder.includes(c)).map((c) => (
            <button key={c} type="button" className="btn btn-small" onClick={() => setR({ fallbackOrder: [...rules.fallbackOrder, c] })}>
              Add {c}
            </button>
          ))}
          <h3 className="small-heading">Consent marketing needs</h3>
          <p className="hint">Explicit opt-in sends only to people who subscribed; soft opt-in also to those never asked (never to the unsubscribed). Transactional messages are only stopped by an unsubscribe from their topic.</p>
          <div className="settings-form">
            {CHANNELS.map((c) => (
              <Field key={c} id={`consent-${c}`} label={c} error={rowErr(`consentRequired.${c}`)}>
                <select {...described(`consent-${c}`, rowErr(`consentRequired.${c}`))} value={rules.consentRequired[c] ?? 'not_unsubscribed'} onChange={(e) => setR({ consentRequired: { ...rules.consentRequired, [c]: e.target.value } })}>
                  <option value="subscribed">explicit opt-in</option>
                  <option value="not_unsubscribed">soft opt-in</option>
                </select>
              </Field>
            ))}
          </div>
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
