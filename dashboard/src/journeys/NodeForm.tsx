// The side panel's form for one node, every kind with form fields (no JSON needed): durations as amount + unit,
// templates from GET /api/templates of the node's channel, lists, segments and journeys by name, split conditions as
// rows (Conditions.tsx), and a "Next step" select per output — the keyboard way to draw the canvas's edges.
// Each validation error shows next to its field. The node's JSON stays available, folded, for power users.
import { useEffect, useState } from 'react';
import { Field, described } from '../ui.tsx';
import { ConditionEditor, Filters, type Named, filtersToText, textToFilters } from './Conditions.tsx';
import type { JErr } from './errors.ts';
import { fieldErrors } from './errors.ts';
import { type JNode, type JourneyDef, KIND_LABEL, outputsOf, withOutput } from './graph.ts';

export interface Template {
  id: string;
  name: string;
  channel: string;
}
export interface Catalog {
  templates: Template[];
  segments: Named[];
  lists: Named[];
  journeys: Named[];
  topics: { id: string; label?: string }[];
}

const UNITS = ['seconds', 'minutes', 'hours', 'days', 'weeks'];
const CHANNELS = ['email', 'sms', 'push', 'onsite', 'webhook'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const OUT_LABEL: Record<string, string> = { next: 'Next step', onTimeout: 'On timeout: next step', yes: 'If yes: next step', no: 'If no: next step', else: 'Else: next step' };

export function NodeForm({ id, node, draft, cat, errors, onChange, onDelete }: { id: string; node: JNode; draft: JourneyDef; cat: Catalog; errors: JErr[]; onChange: (n: JNode) => void; onDelete: () => void }) {
  const { e, own, under } = fieldErrors(errors, draft, id);
  const set = (patch: Record<string, unknown>) => onChange({ ...node, ...patch } as JNode);
  const p = `n-${id}`;
  const outs = outputsOf(node);

  /** The keyboard alternative to dragging an edge: every other node, or none. */
  const nextSelect = (field: string, label = OUT_LABEL[field] ?? 'Next step') => {
    const cur = outs.find((o) => o.field === field)?.target ?? '';
    const fid = `${p}-out-${field.replace(/\./g, '-')}`;
    const err = e(field);
    return (
      <div className="jn-out" key={field}>
        <Field id={fid} label={label} error={err}>
          <select {...described(fid, err)} value={cur} onChange={(ev) => onChange(withOutput(node, field, ev.target.value))}>
            <option value="">— not connected —</option>
            {Object.entries(draft.nodes).map(([nid, n]) => (
              <option key={nid} value={nid}>
                {nid} ({KIND_LABEL[n.kind] ?? n.kind})
              </option>
            ))}
            {cur && !draft.nodes[cur] ? <option value={cur}>{cur} (missing)</option> : null}
          </select>
        </Field>
        {cur ? (
          <button type="button" className="btn btn-small btn-ghost" onClick={() => onChange(withOutput(node, field, ''))} aria-label={`Disconnect ${label.toLowerCase()}`}>
            Disconnect
          </button>
        ) : null}
      </div>
    );
  };
  const duration = (field: string, label: string) => {
    const d = (node[field] as { amount: number; unit: string } | undefined) ?? { amount: 1, unit: 'hours' };
    const err = e(`${field}.amount`) ?? e(field);
    return (
      <div className="row-2">
        <Field id={`${p}-${field}-amount`} label={label} error={err}>
          <input {...described(`${p}-${field}-amount`, err)} type="number" min={0} step="any" value={Number.isNaN(d.amount) ? '' : String(d.amount)} onChange={(ev) => set({ [field]: { ...d, amount: ev.target.value === '' ? 0 : Number(ev.target.value) } })} />
        </Field>
        <Field id={`${p}-${field}-unit`} label="Unit" error={e(`${field}.unit`)}>
          <select id={`${p}-${field}-unit`} value={d.unit} onChange={(ev) => set({ [field]: { ...d, unit: ev.target.value } })}>
            {UNITS.map((u) => (
              <option key={u}>{u}</option>
            ))}
          </select>
        </Field>
      </div>
    );
  };
  const templateSelect = (ch: string, label: string, cur: string, onPick: (v: string) => void, f: string) => {
    const fit = cat.templates.filter((t) => t.channel === ch);
    return (
      <Field key={ch} id={`${p}-tpl-${ch}`} label={label} error={e(f)} hint={fit.length ? undefined : `No ${ch} templates yet: create one under Templates`}>
        <select {...described(`${p}-tpl-${ch}`, e(f), !fit.length)} value={cur} onChange={(ev) => onPick(ev.target.value)}>
          <option value="">Choose a template…</option>
          {fit.map((t) => (
            <option key={t.id} value={t.id}>
              {t.name}
            </option>
          ))}
          {cur && !fit.some((t) => t.id === cur) ? <option value={cur}>{cur}</option> : null}
        </select>
      </Field>
    );
  };
  const named = (f: string, label: string, items: Named[], cur: string, placeholder: string) => (
    <Field id={`${p}-${f}`} label={label} error={e(f)}>
      <select {...described(`${p}-${f}`, e(f))} value={cur} onChange={(ev) => set({ [f]: ev.target.value })}>
        <option value="">{placeholder}</option>
        {items.map((x) => (
          <option key={x.id} value={x.id}>
            {x.name}
          </option>
        ))}
        {cur && !items.some((x) => x.id === cur) ? <option value={cur}>{cur}</option> : null}
      </select>
    </Field>
  );

  let body: React.ReactNode = null;
  switch (node.kind) {
    case 'send': {
      const tpl = (ch: string) => (v: string) => {
        const t = { ...(node.templates ?? {}) };
        if (v) t[ch] = v;
        else delete t[ch];
        set({ templates: t });
      };
      body = (
        <>
          <Field id={`${p}-channel`} label="Channel" error={e('channel')}>
            <select id={`${p}-channel`} value={node.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              {[...CHANNELS, 'best'].map((c) => (
                <option key={c} value={c}>
                  {c === 'best' ? 'best channel (the arbiter picks)' : c}
                </option>
              ))}
            </select>
          </Field>
          {(node.channel === 'best' ? CHANNELS : [node.channel]).map((ch) => templateSelect(ch, node.channel === 'best' ? `${ch} template` : 'Template', node.templates?.[ch] ?? '', tpl(ch), `templates.${ch}`))}
          {e('templates') && !e(`templates.${node.channel}`) ? <p className="field-error">{e('templates')}</p> : null}
          <div className="row-2">
            <Field id={`${p}-topic`} label="Topic" error={e('topic')}>
              <select id={`${p}-topic`} value={node.topic ?? ''} onChange={(ev) => set({ topic: ev.target.value || undefined })}>
                <option value="">the journey's ({draft.topic})</option>
                {cat.topics.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.label ?? t.id}
                  </option>
                ))}
              </select>
            </Field>
            <Field id={`${p}-prio`} label="Priority" error={e('priority')}>
              <input {...described(`${p}-prio`, e('priority'))} type="number" min={0} max={100} placeholder={String(draft.priority)} value={node.priority ?? ''} onChange={(ev) => set({ priority: ev.target.value === '' ? undefined : Number(ev.target.value) })} />
            </Field>
          </div>
          {nextSelect('next')}
        </>
      );
      break;
    }
    case 'delay':
      body = (
        <>
          <Field id={`${p}-mode`} label="Wait">
            <select id={`${p}-mode`} value={node.until ? 'until' : 'duration'} onChange={(ev) => (ev.target.value === 'until' ? set({ duration: undefined, until: { time: '10:00' } }) : set({ until: undefined, duration: { amount: 1, unit: 'hours' } }))}>
              <option value="duration">for a duration</option>
              <option value="until">until a time of day</option>
            </select>
          </Field>
          {node.until ? (
            <>
              <Field id={`${p}-time`} label="Local time (HH:MM)" error={e('until.time') ?? e('until')}>
                <input {...described(`${p}-time`, e('until.time') ?? e('until'))} type="time" value={node.until.time ?? ''} onChange={(ev) => set({ until: { ...node.until, time: ev.target.value } })} />
              </Field>
              <fieldset className="plain-fieldset jn-days">
                <legend className="small">On (none = any day)</legend>
                {DAYS.map((d, i) => {
                  const wd: number[] = node.until.weekdays ?? [];
                  return (
                    <label key={d} className="check">
                      <input
                        type="checkbox"
                        checked={wd.includes(i)}
                        onChange={(ev) => {
                          const next = ev.target.checked ? [...wd, i].sort() : wd.filter((x) => x !== i);
                          set({ until: { time: node.until.time, ...(next.length ? { weekdays: next } : {}) } });
                        }}
                      />{' '}
                      {d}
                    </label>
                  );
                })}
              </fieldset>
            </>
          ) : (
            duration('duration', 'Wait for')
          )}
          {nextSelect('next')}
        </>
      );
      break;
    case 'wait_until': {
      const seg = 'segment' in (node.until ?? {});
      body = (
        <>
          <Field id={`${p}-ukind`} label="Wait until">
            <select id={`${p}-ukind`} value={seg ? 'segment' : 'event'} onChange={(ev) => set({ until: ev.target.value === 'segment' ? { segment: cat.segments[0]?.id ?? '', op: 'entered' } : { event: 'Order Completed' } })}>
              <option value="event">an event happens</option>
              <option value="segment">a segment change</option>
            </select>
          </Field>
          {seg ? (
            <div className="row-2">
              <Field id={`${p}-useg`} label="Segment" error={e('until.segment') ?? e('until')}>
                <select {...described(`${p}-useg`, e('until.segment') ?? e('until'))} value={node.until.segment} onChange={(ev) => set({ until: { ...node.until, segment: ev.target.value } })}>
                  <option value="">Choose…</option>
                  {cat.segments.map((s) => (
                    <option key={s.id} value={s.id}>
                      {s.name}
                    </option>
                  ))}
                </select>
              </Field>
              <Field id={`${p}-uop`} label="When they">
                <select id={`${p}-uop`} value={node.until.op} onChange={(ev) => set({ until: { ...node.until, op: ev.target.value } })}>
                  <option value="entered">enter it</option>
                  <option value="left">leave it</option>
                </select>
              </Field>
            </div>
          ) : (
            <EventTrigger p={`${p}-u`} value={node.until ?? {}} onChange={(until) => set({ until })} e={(f) => e(`until.${f}`) ?? (f === 'event' ? e('until') : null)} />
          )}
          {duration('timeoutAfter', 'Or time out after')}
          {nextSelect('next', 'When it happens: next step')}
          {nextSelect('onTimeout')}
        </>
      );
      break;
    }
    case 'split':
      body = (
        <>
          <ConditionEditor id={`${p}-c`} value={node.condition} onChange={(condition) => set({ condition })} errs={under('condition')} segments={cat.segments} lists={cat.lists} />
          {nextSelect('yes')}
          {nextSelect('no')}
        </>
      );
      break;
    case 'multi_split': {
      const branches: any[] = node.branches ?? [];
      body = (
        <>
          <ol className="jn-branches">
            {branches.map((b, i) => (
              <li key={i} className="jn-branch" role="group" aria-label={`Branch ${i + 1}`}>
                <div className="jn-branch-head">
                  <strong>Branch {i + 1}</strong>
                  {branches.length > 1 ? (
                    <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove branch ${i + 1}`} onClick={() => set({ branches: branches.filter((_, j) => j !== i) })}>
                      Remove
                    </button>
                  ) : null}
                </div>
                <ConditionEditor id={`${p}-b${i}`} value={b.condition} onChange={(condition) => set({ branches: branches.map((x, j) => (j === i ? { ...x, condition } : x)) })} errs={under(`branches.${i}.condition`)} segments={cat.segments} lists={cat.lists} />
                {nextSelect(`branches.${i}.next`, `Branch ${i + 1}: next step`)}
              </li>
            ))}
          </ol>
          <button type="button" className="btn btn-small" disabled={branches.length >= 20} onClick={() => set({ branches: [...branches, { condition: { kind: 'trait', trait: '', op: 'eq', value: '' }, next: '' }] })}>
            Add branch
          </button>
          {nextSelect('else')}
        </>
      );
      break;
    }
    case 'random_split': {
      const branches: any[] = node.branches ?? [];
      const total = branches.reduce((a, b) => a + (Number(b.weight) || 0), 0) + (Number(node.holdout) || 0);
      body = (
        <>
          <ol className="jn-branches">
            {branches.map((b, i) => (
              <li key={i} className="jn-branch" role="group" aria-label={`Variant ${String.fromCharCode(65 + (i % 26))}`}>
                <div className="jn-branch-head">
                  <strong>Variant {String.fromCharCode(65 + (i % 26))}</strong>
                  {branches.length > 1 ? (
                    <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove variant ${String.fromCharCode(65 + (i % 26))}`} onClick={() => set({ branches: branches.filter((_, j) => j !== i) })}>
                      Remove
                    </button>
                  ) : null}
                </div>
                <Field id={`${p}-w${i}`} label="Share (%)" error={e(`branches.${i}.weight`)}>
                  <input {...described(`${p}-w${i}`, e(`branches.${i}.weight`))} type="number" min={0} max={100} value={b.weight ?? ''} onChange={(ev) => set({ branches: branches.map((x, j) => (j === i ? { ...x, weight: Number(ev.target.value) } : x)) })} />
                </Field>
                {nextSelect(`branches.${i}.next`, `Variant ${String.fromCharCode(65 + (i % 26))}: next step`)}
              </li>
            ))}
          </ol>
          <button type="button" className="btn btn-small" disabled={branches.length >= 20} onClick={() => set({ branches: [...branches, { weight: 10, next: '' }] })}>
            Add variant
          </button>
          <Field id={`${p}-holdout`} label="Holdout (%) — leaves as the control group" error={e('holdout')} hint={`Total: ${total} of at most 100`}>
            <input {...described(`${p}-holdout`, e('holdout'), true)} type="number" min={0} max={100} value={node.holdout ?? ''} onChange={(ev) => set({ holdout: ev.target.value === '' ? undefined : Number(ev.target.value) })} />
          </Field>
          {under('branches')
            .filter((x) => x.path === '')
            .map((x, i) => (
              <p key={i} className="field-error" role="alert">
                {x.message}
              </p>
            ))}
        </>
      );
      break;
    }
    case 'update_trait': {
      const type = node.value === null ? 'null' : typeof node.value === 'boolean' ? 'boolean' : typeof node.value === 'number' ? 'number' : 'text';
      body = (
        <>
          <Field id={`${p}-trait`} label="Trait" error={e('trait')}>
            <input {...described(`${p}-trait`, e('trait'))} value={node.trait ?? ''} onChange={(ev) => set({ trait: ev.target.value })} />
          </Field>
          <div className="row-2">
            <Field id={`${p}-vtype`} label="Type">
              <select id={`${p}-vtype`} value={type} onChange={(ev) => set({ value: ev.target.value === 'null' ? null : ev.target.value === 'boolean' ? true : ev.target.value === 'number' ? 0 : '' })}>
                <option value="text">text</option>
                <option value="number">number</option>
                <option value="boolean">yes / no</option>
                <option value="null">clear it</option>
              </select>
            </Field>
            {type === 'null' ? null : (
              <Field id={`${p}-value`} label="Value" error={e('value')}>
                {type === 'boolean' ? (
                  <select id={`${p}-value`} value={String(node.value)} onChange={(ev) => set({ value: ev.target.value === 'true' })}>
                    <option value="true">true</option>
                    <option value="false">false</option>
                  </select>
                ) : (
                  <input {...described(`${p}-value`, e('value'))} type={type === 'number' ? 'number' : 'text'} value={String(node.value ?? '')} onChange={(ev) => set({ value: type === 'number' ? Number(ev.target.value) : ev.target.value })} />
                )}
              </Field>
            )}
          </div>
          {nextSelect('next')}
        </>
      );
      break;
    }
    case 'list':
      body = (
        <>
          <Field id={`${p}-op`} label="Operation" error={e('op')}>
            <select id={`${p}-op`} value={node.op} onChange={(ev) => set({ op: ev.target.value })}>
              <option value="add">add to list</option>
              <option value="remove">remove from list</option>
            </select>
          </Field>
          {named('listId', 'List', cat.lists, node.listId ?? '', 'Choose a list…')}
          {nextSelect('next')}
        </>
      );
      break;
    case 'webhook':
      body = (
        <>
          {templateSelect('webhook', 'Webhook template', node.templateId ?? '', (v) => set({ templateId: v }), 'templateId')}
          {nextSelect('next')}
        </>
      );
      break;
    case 'jump':
      body = named('journeyId', 'Journey to enter', cat.journeys, node.journeyId ?? '', 'Choose a journey…');
      break;
    case 'exit':
      body = (
        <Field id={`${p}-reason`} label="Exit reason" error={e('reason')} hint="Shown in the person's journeys and the exit counts">
          <input {...described(`${p}-reason`, e('reason'), true)} value={node.reason ?? ''} onChange={(ev) => set({ reason: ev.target.value || undefined })} />
        </Field>
      );
      break;
  }

  return (
    <div className="node-form" aria-labelledby={`${p}-title`}>
      <h2 id={`${p}-title`} className="panel-title">
        {KIND_LABEL[node.kind] ?? node.kind} <code>{id}</code>
      </h2>
      {own.map((m, i) => (
        <p key={i} className="field-error" role="alert">
          {m}
        </p>
      ))}
      {body}
      <NodeJson node={node} onChange={onChange} />
      <div className="form-actions">
        <button type="button" className="btn btn-danger-outline btn-small" onClick={onDelete}>
          Delete node
        </button>
      </div>
    </div>
  );
}

/** A wait's or exit's event: its name and property filters. */
function EventTrigger({ p, value, onChange, e }: { p: string; value: any; onChange: (v: unknown) => void; e: (f: string) => string | null }) {
  const [rows, setRows] = useState(() => filtersToText(value.filters));
  const emit = (event: string, fs: typeof rows) => onChange({ event, ...(fs.length ? { filters: textToFilters(fs) } : {}) });
  return (
    <>
      <Field id={`${p}-event`} label="Event" error={e('event')}>
        <input {...described(`${p}-event`, e('event'))} value={value.event ?? ''} list="j-known-events" onChange={(ev) => emit(ev.target.value, rows)} />
      </Field>
      <Filters p={p} filters={rows} onChange={(fs) => (setRows(fs), emit(value.event ?? '', fs))} e={e} />
    </>
  );
}

/** Every field of the node as JSON, folded away: for what the form does not cover (and to paste a node). */
function NodeJson({ node, onChange }: { node: JNode; onChange: (n: JNode) => void }) {
  const [json, setJson] = useState(() => JSON.stringify(node, null, 2));
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => setJson(JSON.stringify(node, null, 2)), [node]);
  return (
    <details className="details">
      <summary>Node as JSON</summary>
      <Field id="node-json" label="Every field of the node" error={err}>
        <textarea {...described('node-json', err)} className="code" rows={8} spellCheck={false} value={json} onChange={(ev) => setJson(ev.target.value)} />
      </Field>
      <button
        type="button"
        className="btn btn-small"
        onClick={() => {
          try {
            const v = JSON.parse(json);
            setErr(null);
            onChange(v);
          } catch (x) {
            setErr(`Not valid JSON: ${(x as Error).message}`);
          }
        }}
      >
        Apply JSON
      </button>
    </details>
  );
}
