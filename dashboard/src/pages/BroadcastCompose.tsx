// The broadcast composer (/broadcasts/new, /broadcasts/:id/edit for a draft): name, channel, topic, audience segment
// with its member count, snapshot or live audience, schedule (now, at an instant, or at a wall time in each person's
// zone), throttle, variants each with a template of the channel (and a preview link), an optional A/B test, and the
// products it promotes. Saves a draft (POST / PUT) and sends it (after a confirmation with the reach). The API checks
// everything; its 400 is shown under the field it names (model.ts maps the field to the control) and focus goes there.
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, enc, get, post, put } from '../api.ts';
import { num } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { readOnlyReason, useSession } from '../session.tsx';
import { CHANNELS, CHANNEL_LABEL, METRICS, METRIC_LABEL, TEMPLATE_CHANNELS, UNITS, type BroadcastForm, type Unit, type VariantForm, controlOf, emptyForm, explain, fromDefinition, newVariant, slotOf, toInput } from '../broadcasts/model.ts';
import { type SegmentInfo, confirmAndSend, people } from '../broadcasts/send.tsx';
import { Card, Empty, ErrorBox, Field, Loading, Page, described, useAsync, useConfirm, useToast } from '../ui.tsx';
import '../broadcasts/broadcasts.css';

interface Template {
  id: string;
  name: string;
  channel: string;
}
interface Topic {
  id: string;
  label: string;
  transactional: boolean;
}

export function BroadcastCompose({ id }: { id?: string }) {
  const s = useSession();
  const can = s.can('broadcasts');
  const toast = useToast();
  const confirm = useConfirm();
  const lists = useAsync(async () => {
    const [seg, tpl, top] = await Promise.all([get<{ segments: SegmentInfo[] }>('/segments'), get<{ templates: Template[] }>('/templates'), get<{ topics: Topic[] }>('/messaging/topics')]);
    return { segments: seg.segments, templates: tpl.templates, topics: top.topics };
  }, []);
  const existing = useAsync(() => (id ? get<{ id: string; name: string; status: string; definition: any }>(`/broadcasts/${enc(id)}`) : Promise.resolve(null)), [id]);
  const [form, setForm] = useState<BroadcastForm | null>(id ? null : emptyForm());
  const [err, setErr] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState<'save' | 'send' | null>(null);

  // The draft's definition fills the form once it arrives.
  useEffect(() => {
    if (existing.data && !form) setForm(fromDefinition(existing.data.definition));
  }, [existing.data, form]);
  // A new broadcast starts on the workspace's marketing topic (else the first non-transactional one).
  useEffect(() => {
    if (!lists.data || !form || form.topic) return;
    const t = lists.data.topics.find((x) => x.id === 'marketing') ?? lists.data.topics.find((x) => !x.transactional) ?? lists.data.topics[0];
    if (t) setForm({ ...form, topic: t.id });
  }, [lists.data, form]);

  const seg = useAsync(() => (form?.segmentId ? get<SegmentInfo>(`/segments/${enc(form.segmentId)}`) : Promise.resolve(null)), [form?.segmentId]);

  const title = id ? (existing.data ? `Edit “${existing.data.name}”` : 'Edit broadcast') : 'New broadcast';
  const loadErr = lists.error ?? existing.error;
  if (loadErr) {
    return (
      <Page title={title}>
        <ErrorBox error={loadErr} onRetry={() => (lists.reload(), existing.reload())} />
      </Page>
    );
  }
  if (existing.data && existing.data.status !== 'draft') {
    return (
      <Page title={title}>
        <div className="notice notice-info" role="note">
          This broadcast is {existing.data.status}: only drafts can change. <Link href={`/broadcasts/${enc(existing.data.id)}`}>See its progress</Link>
        </div>
      </Page>
    );
  }
  if (!form || !lists.data) {
    return (
      <Page title={title} subtitle={'\u00a0'}>
        <Loading rows={10} height={720} />
      </Page>
    );
  }
  const { segments, templates, topics } = lists.data;

  const set = (patch: Partial<BroadcastForm>) => {
    setForm({ ...form, ...patch });
    setErr(null);
  };
  const setVariant = (i: number, patch: Partial<VariantForm>) => set({ variants: form.variants.map((v, j) => (j === i ? { ...v, ...patch } : v)) });

  // The error's place on the form; unclaimed errors go above it.
  const slot = err ? slotOf(err.field, form.channel) : null;
  const e = (name: string) => (err && slot === name ? explain(name, err.message) : null);
  const topErr = err && !slot ? err : null;

  const save = async (): Promise<string | null> => {
    setErr(null);
    try {
      const input = toInput(form);
      const r = id ? await put<{ id: string }>(`/broadcasts/${enc(id)}`, input) : await post<{ id: string }>('/broadcasts', input);
      return r.id;
    } catch (x) {
      const a = x instanceof ApiError ? x : new ApiError(0, 'error', String(x));
      setErr(a);
      const sl = slotOf(a.field, form.channel);
      // Focus the control the API named, so keyboard and screen-reader users land on it (its error is announced).
      if (sl) setTimeout(() => document.getElementById(controlOf(sl))?.focus(), 0);
      return null;
    }
  };
  const onSave = async (ev?: FormEvent) => {
    ev?.preventDefault();
    setBusy('save');
    const saved = await save();
    setBusy(null);
    if (!saved) return;
    toast('Draft saved');
    navigate(`/broadcasts/${enc(saved)}`);
  };
  const onSend = async () => {
    setBusy('send');
    const saved = await save();
    if (!saved) return setBusy(null);
    try {
      const sent = await confirmAndSend(confirm, saved, toInput(form));
      toast(sent ? (form.when === 'now' ? 'Broadcast sending' : 'Broadcast scheduled') : 'Saved as a draft');
      navigate(`/broadcasts/${enc(saved)}${sent ? '' : '/edit'}`, { replace: !id && !sent });
    } catch (x) {
      setErr(x instanceof ApiError ? x : new ApiError(0, 'error', String(x)));
    }
    setBusy(null);
  };

  const ofChannel = (ch: string) => templates.filter((t) => t.channel === ch);
  const tplChannels = form.channel === 'best' ? TEMPLATE_CHANNELS.filter((c) => ofChannel(c).length || form.variants.some((v) => v.templates[c])) : [form.channel];
  const members = seg.data?.members;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;

  return (
    <Page title={title} subtitle="One send to a segment: now, at a set time or at each person's local time, optionally as an A/B test">
      {!can ? (
        <div className="notice notice-warn" role="note">
          {readOnlyReason(s.me?.role ?? null)}: you can look at this form but not save or send a broadcast.
        </div>
      ) : null}
      <ErrorBox error={topErr} />
      <form onSubmit={(ev) => void onSave(ev)} noValidate aria-label="Broadcast">
        <fieldset disabled={!can} className="plain-fieldset">
          <div className="bc-layout">
            <div className="bc-col">
              <Card title="Message" id="bc-message">
                <Field id="bc-name" label="Name" error={e('name')}>
                  <input {...described('bc-name', e('name'))} value={form.name} onChange={(x) => set({ name: x.target.value })} maxLength={200} autoComplete="off" />
                </Field>
                <div className="row-2">
                  <Field id="bc-channel" label="Channel" error={e('channel')}>
                    <select {...described('bc-channel', e('channel'))} value={form.channel} onChange={(x) => set({ channel: x.target.value as BroadcastForm['channel'] })}>
                      {CHANNELS.map((c) => (
                        <option key={c} value={c}>
                          {CHANNEL_LABEL[c]}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <Field id="bc-topic" label="Topic" error={e('topic')} hint={`People's consent is per topic (${form.topic})`}>
                    <select {...described('bc-topic', e('topic'), true)} value={form.topic} onChange={(x) => set({ topic: x.target.value })}>
                      {topics.map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.label}
                          {t.transactional ? ' (transactional)' : ''}
                        </option>
                      ))}
                    </select>
                  </Field>
                </div>
                <Field id="bc-priority" label="Priority (optional)" error={e('priority')} hint="0–100; with a frequency cap, higher priority messages go first. Default 50">
                  <input {...described('bc-priority', e('priority'), true)} inputMode="numeric" className="bc-short" value={form.priority} placeholder="50" onChange={(x) => set({ priority: x.target.value })} />
                </Field>
              </Card>
              <Card title="Audience" id="bc-audience">
                <Field id="bc-segment" label="Segment" error={e('segmentId')}>
                  <select {...described('bc-segment', e('segmentId'), !!form.segmentId)} value={form.segmentId} onChange={(x) => set({ segmentId: x.target.value })}>
                    <option value="">Choose a segment…</option>
                    {segments.map((g) => (
                      <option key={g.id} value={g.id}>
                        {g.name}
                      </option>
                    ))}
                  </select>
                </Field>
                <p className="bc-reach" data-testid="segment-members" aria-live="polite">
                  {!form.segmentId ? (
                    <span className="muted">Pick the segment to see how many people are in it.</span>
                  ) : members === undefined || seg.loading ? (
                    <span className="muted">Counting…</span>
                  ) : (
                    <>
                      <strong>{num(members)}</strong> {members === 1 ? 'person' : 'people'} in this segment now
                    </>
                  )}
                </p>
                <fieldset className="field plain-fieldset">
                  <legend>Who is in the audience</legend>
                  <label className="check bc-radio">
                    <input type="radio" id="bc-aud-snapshot" name="bc-aud" checked={form.audience === 'snapshot'} onChange={() => set({ audience: 'snapshot' })} />
                    <span>
                      <strong>Snapshot</strong>: the members when the send starts
                    </span>
                  </label>
                  <label className="check bc-radio">
                    <input type="radio" name="bc-aud" checked={form.audience === 'live'} onChange={() => set({ audience: 'live' })} />
                    <span>
                      <strong>Live</strong>: also people who join while it sends; anyone who has left by their message's turn is skipped
                    </span>
                  </label>
                  {e('audience') ? <p className="field-error">{e('audience')}</p> : null}
                </fieldset>
              </Card>
              <Card title="Schedule" id="bc-schedule">
                <fieldset className={`field plain-fieldset ${e('schedule') ? 'field-invalid' : ''}`}>
                  <legend>When</legend>
                  {(
                    [
                      ['now', 'Send now', 'As soon as you send it'],
                      ['at', 'At a date and time', `One instant for everyone (your time zone: ${zone})`],
                      ['local', "At a local time in each person's time zone", 'e.g. 9:00 wherever they are; where that time has passed, it goes at once'],
                    ] as const
                  ).map(([v, label, hint]) => (
                    <label key={v} className="check bc-radio">
                      <input type="radio" id={`bc-when-${v}`} name="bc-when" checked={form.when === v} onChange={() => set({ when: v })} />
                      <span>
                        <strong>{label}</strong> <span className="muted small">{hint}</span>
                      </span>
                    </label>
                  ))}
                  {e('schedule') ? (
                    <p className="field-error" role="alert">
                      {e('schedule')}
                    </p>
                  ) : null}
                </fieldset>
                {form.when === 'at' ? (
                  <Field id="bc-at" label="Date and time" error={e('schedule.at')}>
                    <input type="datetime-local" {...described('bc-at', e('schedule.at'))} value={form.at} onChange={(x) => set({ at: x.target.value })} />
                  </Field>
                ) : null}
                {form.when === 'local' ? (
                  <div className="row-2">
                    <Field id="bc-date" label="Date" error={e('schedule.date')}>
                      <input type="date" {...described('bc-date', e('schedule.date'))} value={form.date} onChange={(x) => set({ date: x.target.value })} />
                    </Field>
                    <Field id="bc-localtime" label="Local time" error={e('schedule.localTime')}>
                      <input type="time" {...described('bc-localtime', e('schedule.localTime'))} value={form.localTime} onChange={(x) => set({ localTime: x.target.value })} />
                    </Field>
                  </div>
                ) : null}
                <Field id="bc-throttle" label="Throttle (optional)" error={e('throttlePerMinute')} hint="At most about this many messages a minute; blank: as fast as the channel goes">
                  <div className="bc-unit">
                    <input {...described('bc-throttle', e('throttlePerMinute'), true)} inputMode="numeric" className="bc-short" value={form.throttle} onChange={(x) => set({ throttle: x.target.value })} />
                    <span className="muted">per minute</span>
                  </div>
                </Field>
              </Card>
            </div>
            <div className="bc-col">
              <Card title="Variants" id="bc-variants">
                <p className="muted small">Each variant sends a template of the channel. Without an A/B test, several variants split the audience by weight.</p>
                <ol className="bc-variants">
                  {form.variants.map((v, i) => (
                    <li key={i} className="bc-variant">
                      <fieldset className="plain-fieldset" aria-label={`Variant ${v.id || i + 1}`}>
                        <div className="bc-variant-head">
                          <Field id={`bc-v${i}-id`} label="Variant" error={e(`variants.${i}.id`)} className="bc-vid">
                            <input {...described(`bc-v${i}-id`, e(`variants.${i}.id`))} value={v.id} maxLength={40} onChange={(x) => setVariant(i, { id: x.target.value })} />
                          </Field>
                          <Field id={`bc-v${i}-weight`} label="Weight" error={e(`variants.${i}.weight`)} className="bc-vweight">
                            <input {...described(`bc-v${i}-weight`, e(`variants.${i}.weight`))} inputMode="decimal" placeholder="1" value={v.weight} onChange={(x) => setVariant(i, { weight: x.target.value })} />
                          </Field>
                          {form.variants.length > 1 ? (
                            <button type="button" className="btn btn-small btn-ghost bc-remove" aria-label={`Remove variant ${v.id || i + 1}`} onClick={() => set({ variants: form.variants.filter((_, j) => j !== i) })}>
                              Remove
                            </button>
                          ) : null}
                        </div>
                        {tplChannels.map((ch) => {
                          const fid = `bc-v${i}-tpl-${ch}`;
                          const fe = e(`variants.${i}.templates.${ch}`);
                          const chosen = v.templates[ch];
                          return (
                            <Field key={ch} id={fid} label={`${CHANNEL_LABEL[ch]} template`} error={fe}>
                              <div className="bc-tpl">
                                <select {...described(fid, fe)} value={chosen ?? ''} onChange={(x) => setVariant(i, { templates: { ...v.templates, [ch]: x.target.value } })}>
                                  <option value="">{ofChannel(ch).length ? 'Choose a template…' : `No ${ch} templates yet`}</option>
                                  {ofChannel(ch).map((t) => (
                                    <option key={t.id} value={t.id}>
                                      {t.name}
                                    </option>
                                  ))}
                                </select>
                                {chosen ? (
                                  <a className="btn btn-small" href={`/templates/${enc(chosen)}`} target="_blank" rel="noopener noreferrer" aria-label={`Preview the ${ch} template of variant ${v.id} (opens a new tab)`}>
                                    Preview
                                  </a>
                                ) : (
                                  <span className="btn btn-small bc-placeholder" aria-hidden="true">
                                    Preview
                                  </span>
                                )}
                              </div>
                            </Field>
                          );
                        })}
                        {form.channel === 'best' && !tplChannels.length ? <Empty title="No templates yet">Create one under Templates first.</Empty> : null}
                      </fieldset>
                    </li>
                  ))}
                </ol>
                {e('variants') ? (
                  <p className="field-error" role="alert">
                    {e('variants')}
                  </p>
                ) : null}
                <button type="button" id="bc-add-variant" className="btn btn-small" disabled={form.variants.length >= 8} onClick={() => set({ variants: [...form.variants, newVariant(form.variants.map((v) => v.id))] })}>
                  Add variant
                </button>
                <fieldset className={`plain-fieldset bc-ab ${e('abTest') ? 'field-invalid' : ''}`}>
                  <legend className="sr-only">A/B test</legend>
                  <label className="check">
                    <input type="checkbox" id="bc-ab" checked={form.ab} onChange={(x) => set({ ab: x.target.checked })} aria-describedby={e('abTest') ? 'bc-ab-err' : undefined} />
                    <strong>A/B test: try the variants on part of the audience first, then send the winner to the rest</strong>
                  </label>
                  {e('abTest') ? (
                    <p className="field-error" id="bc-ab-err" role="alert">
                      {e('abTest')}
                    </p>
                  ) : null}
                  {form.ab ? (
                    <div className="bc-ab-body">
                      <Field id="bc-share" label="Test group" error={e('abTest.testShare')} hint={members !== undefined && Number(form.testShare) > 0 ? `≈ ${people(Math.round((members * Number(form.testShare)) / 100))} of ${num(members)}` : 'The share of the audience that gets the variants'}>
                        <div className="bc-unit">
                          <input {...described('bc-share', e('abTest.testShare'), true)} inputMode="decimal" className="bc-short" value={form.testShare} onChange={(x) => set({ testShare: x.target.value })} />
                          <span className="muted">%</span>
                        </div>
                      </Field>
                      <Field id="bc-metric" label="Winner by" error={e('abTest.metric')}>
                        <select {...described('bc-metric', e('abTest.metric'))} value={form.metric} onChange={(x) => set({ metric: x.target.value as BroadcastForm['metric'] })}>
                          {METRICS.map((m) => (
                            <option key={m} value={m}>
                              {METRIC_LABEL[m]} ({m})
                            </option>
                          ))}
                        </select>
                      </Field>
                      <Field id="bc-after" label="Pick the winner after" error={e('abTest.afterMinutes')}>
                        <div className="bc-unit">
                          <input {...described('bc-after', e('abTest.afterMinutes'))} inputMode="decimal" className="bc-short" value={form.after} onChange={(x) => set({ after: x.target.value })} />
                          <select aria-label="Unit" className="bc-unit-select" value={form.afterUnit} onChange={(x) => set({ afterUnit: x.target.value as Unit })}>
                            {Object.keys(UNITS).map((u) => (
                              <option key={u} value={u}>
                                {u}
                              </option>
                            ))}
                          </select>
                        </div>
                      </Field>
                    </div>
                  ) : null}
                </fieldset>
              </Card>
              <Card title="Promotes (optional)" id="bc-promotes">
                <p className="muted small">A purchase of one of these cancels the person's message if it has not gone yet.</p>
                <Field id="bc-products" label="Product ids" error={e('promotes.products')} hint="Comma-separated, e.g. sku-1, sku-2">
                  <input {...described('bc-products', e('promotes.products'), true)} value={form.products} onChange={(x) => set({ products: x.target.value })} autoComplete="off" />
                </Field>
                <Field id="bc-categories" label="Categories" error={e('promotes.categories')} hint="Comma-separated">
                  <input {...described('bc-categories', e('promotes.categories'), true)} value={form.categories} onChange={(x) => set({ categories: x.target.value })} autoComplete="off" />
                </Field>
              </Card>
            </div>
          </div>
        </fieldset>
        {can ? (
          <div className="form-actions bc-actions">
            <button type="submit" className="btn" disabled={!!busy}>
              {busy === 'save' ? 'Saving…' : 'Save draft'}
            </button>
            <button type="button" className="btn btn-primary" disabled={!!busy} onClick={() => void onSend()}>
              {form.when === 'now' ? 'Send…' : 'Schedule…'}
            </button>
            <Link href={id ? `/broadcasts/${enc(id)}` : '/broadcasts'}>Cancel</Link>
          </div>
        ) : null}
      </form>
    </Page>
  );
}
