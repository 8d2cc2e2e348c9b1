// Test mode: the journey run for one real person on a simulated clock (POST /api/journeys/:id/test); nothing is sent
// or saved. The path it took lights up on the canvas (onPath).
import { useState } from 'react';
import { ApiError, enc, get, post } from '../api.ts';
import { dateTime } from '../format.ts';
import { Card, Empty, ErrorBox, Field, KV, StatusBadge, WriteButton, described } from '../ui.tsx';
import type { JourneyDef } from './graph.ts';

export interface Journey {
  id: string;
  name: string;
  status: string;
  version: number;
  draft: JourneyDef;
  definition?: JourneyDef;
  versions?: { version: number; publishedAt: number }[];
  updatedAt: number;
  publishedAt: number | null;
}

export function TestMode({ journey, draft, dirty, can, saveDraft, onPath }: { journey: Journey; draft: JourneyDef; dirty: boolean; can: boolean; saveDraft: () => Promise<boolean>; onPath: (s: Set<string> | undefined) => void }) {
  const [who, setWho] = useState('');
  const [use, setUse] = useState<'draft' | 'published'>(journey.version ? 'published' : 'draft');
  const [trigger, setTrigger] = useState(draft.entry.kind === 'event' ? draft.entry.event : '');
  const [props, setProps] = useState('{}');
  const [steps, setSteps] = useState('[\n  { "wait": { "amount": 1, "unit": "days" } }\n]');
  const [err, setErr] = useState<ApiError | Error | null>(null);
  const [result, setResult] = useState<any>(null);
  const [busy, setBusy] = useState(false);
  const runTest = async () => {
    setErr(null);
    setBusy(true);
    try {
      let profileId = who.trim();
      if (!profileId) throw new ApiError(400, 'invalid', 'Give a profile id or an email', 'profileId');
      if (profileId.includes('@')) profileId = (await get<{ id: string }>(`/profiles/lookup?email=${enc(profileId)}`)).id;
      if (use === 'draft' && dirty && !(await saveDraft())) throw new Error('Save the draft first: it has errors');
      let properties: unknown;
      let parsedSteps: unknown;
      try {
        properties = JSON.parse(props || '{}');
      } catch {
        throw new ApiError(400, 'invalid', 'Trigger properties: not valid JSON', 'trigger.properties');
      }
      try {
        parsedSteps = JSON.parse(steps || '[]');
      } catch {
        throw new ApiError(400, 'invalid', 'Steps: not valid JSON', 'steps');
      }
      const r = await post(`/journeys/${enc(journey.id)}/test`, { profileId, use, ...(trigger.trim() ? { trigger: { name: trigger.trim(), properties } } : {}), steps: parsedSteps });
      setResult(r);
      onPath(new Set(r.final?.path ?? []));
    } catch (x) {
      setErr(x as Error);
      setResult(null);
      onPath(undefined);
    } finally {
      setBusy(false);
    }
  };
  const fe = (f: string) => (err instanceof ApiError && err.field?.startsWith(f) ? err.message : null);
  return (
    <Card title="Test mode" id="test-mode" actions={result ? <button type="button" className="btn btn-small btn-ghost" onClick={() => (setResult(null), onPath(undefined))}>Clear</button> : null}>
      <p className="hint">Runs the journey for one real person on a simulated clock: nothing is sent or saved. Messages show what the arbiter would decide.</p>
      <form
        className="test-form"
        onSubmit={(e) => {
          e.preventDefault();
          void runTest();
        }}
      >
        <fieldset disabled={!can || busy} className="plain-fieldset">
          <legend className="sr-only">Test parameters</legend>
          <div className="grid grid-3 grid-tight">
            <Field id="t-who" label="Person (profile id or email)" error={fe('profileId')}>
              <input {...described('t-who', fe('profileId'))} value={who} onChange={(e) => setWho(e.target.value)} autoComplete="off" />
            </Field>
            <Field id="t-use" label="Version">
              <select id="t-use" value={use} onChange={(e) => setUse(e.target.value as 'draft')}>
                <option value="draft">the draft</option>
                <option value="published" disabled={!journey.version}>
                  the published version
                </option>
              </select>
            </Field>
            <Field id="t-trigger" label="Trigger event" error={fe('trigger.name')}>
              <input {...described('t-trigger', fe('trigger.name'))} value={trigger} onChange={(e) => setTrigger(e.target.value)} />
            </Field>
          </div>
          <div className="grid grid-2 grid-tight">
            <Field id="t-props" label="Trigger properties (JSON)" error={fe('trigger.properties')}>
              <textarea {...described('t-props', fe('trigger.properties'))} className="code" rows={3} value={props} onChange={(e) => setProps(e.target.value)} spellCheck={false} />
            </Field>
            <Field id="t-steps" label="Then (steps, JSON)" error={fe('steps')} hint='{"wait":{"amount":2,"unit":"hours"}}, {"event":{"name":"Order Completed"}}'>
              <textarea {...described('t-steps', fe('steps'), true)} className="code" rows={3} value={steps} onChange={(e) => setSteps(e.target.value)} spellCheck={false} />
            </Field>
          </div>
          {err && !(err instanceof ApiError && err.field) ? <ErrorBox error={err} /> : null}
          <WriteButton area="journeys" type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Running…' : 'Run test'}
          </WriteButton>
        </fieldset>
      </form>
      {result ? <TestResult r={result} /> : null}
    </Card>
  );
}

function TestResult({ r }: { r: any }) {
  return (
    <div className="test-result" aria-live="polite">
      <h3>
        Result: <StatusBadge status={r.final?.status ?? 'unknown'} /> {r.final?.exitReason ? <span className="muted">({r.final.exitReason})</span> : null}
      </h3>
      <p className="muted small">Path: {(r.final?.path ?? []).join(' → ') || '—'}</p>
      {!r.timeline?.length ? (
        <Empty title="Nothing happened" />
      ) : (
        <ol className="timeline test-timeline" aria-label="Simulated timeline">
          {r.timeline.map((t: any, i: number) => (
            <li key={i} className="tl-item">
              <span className="tl-dot" aria-hidden="true" />
              <div className="tl-main">
                <div className="tl-head">
                  <strong>{t.input}</strong>
                  <time className="muted small">{dateTime(t.at)}</time>
                  <StatusBadge status={t.status} />
                </div>
                <div className="small">
                  {t.visited?.length ? <>passed {t.visited.join(' → ')} · </> : null}now at <code>{t.node}</code>
                  {t.waitingUntil ? ` until ${dateTime(t.waitingUntil)}` : ''}
                </div>
                {(t.actions ?? []).length ? (
                  <ul className="plain small actions">
                    {t.actions.map((a: any, k: number) => (
                      <li key={k}>
                        {a.kind === 'send' ? (
                          <>
                            <strong>send</strong> {a.channel} at <code>{a.node}</code>{a.decision ? ` — ${a.decision.reason}` : ''}
                          </>
                        ) : a.kind === 'schedule' ? (
                          <>wake at {dateTime(a.at)}</>
                        ) : (
                          <>
                            <strong>{a.kind}</strong> {a.reason ?? a.trait ?? ''}
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </div>
            </li>
          ))}
        </ol>
      )}
      {r.messages?.length ? (
        <>
          <h3>Messages ({r.messages.length})</h3>
          <ul className="plain test-messages">
            {r.messages.map((m: any, i: number) => (
              <li key={i} className="card card-inner">
                <KV
                  rows={[
                    ['When', dateTime(m.at)],
                    ['Node', <code key="n">{m.node}</code>],
                    ['Channel', m.channel],
                    ['Decision', m.decision?.reason ?? '—'],
                    ['Content', m.rendered?.email?.subject ?? m.rendered?.sms?.body ?? m.rendered?.push?.title ?? m.rendered?.error ?? '—'],
                  ]}
                />
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}
