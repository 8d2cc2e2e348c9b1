// The journey's own settings in the side panel (shown when no node is selected, or the entry is): name, topic,
// priority, the entry of every kind as fields, re-entry, goal, exit rules, what it promotes, and the first step —
// the keyboard alternative to dragging from the entry.
import { Field, described } from '../ui.tsx';
import type { Named } from './Conditions.tsx';
import { type JErr, friendly, stripPath } from './errors.ts';
import { type JourneyDef, KIND_LABEL } from './graph.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function Settings({ draft, setDraft, segments, topics, errs }: { draft: JourneyDef; setDraft: (f: (d: JourneyDef | null) => JourneyDef | null) => void; segments: Named[]; topics: { id: string; label?: string }[]; errs: JErr[] }) {
  const set = (patch: Partial<JourneyDef>) => setDraft((d) => (d ? { ...d, ...patch } : d));
  const e = (f: string) => {
    const hit = errs.find((x) => x.path === f || x.path.startsWith(`${f}.`));
    return hit ? stripPath(friendly(hit, draft)) : null;
  };
  const entry = draft.entry;
  const setEntry = (patch: Record<string, unknown>) => set({ entry: { ...entry, ...patch } as JourneyDef['entry'] });
  const exits = (draft.exits ?? []) as { event?: string }[];
  const segSelect = (fid: string, value: string, onPick: (v: string) => void, err: string | null, none = 'Choose a segment…') => (
    <select {...described(fid, err)} value={value} onChange={(ev) => onPick(ev.target.value)}>
      <option value="">{none}</option>
      {segments.map((s) => (
        <option key={s.id} value={s.id}>
          {s.name}
        </option>
      ))}
      {value && !segments.some((s) => s.id === value) ? <option value={value}>{value}</option> : null}
    </select>
  );
  return (
    <div className="settings-form">
      <h2 className="panel-title">Journey settings</h2>
      <Field id="j-name" label="Name" error={e('name')}>
        <input {...described('j-name', e('name'))} value={draft.name} onChange={(ev) => set({ name: ev.target.value })} />
      </Field>
      <div className="row-2">
        <Field id="j-topic" label="Topic" error={e('topic')}>
          <select {...described('j-topic', e('topic'))} value={draft.topic} onChange={(ev) => set({ topic: ev.target.value })}>
            {[...new Set([draft.topic, ...topics.map((t) => t.id)])].map((t) => (
              <option key={t}>{t}</option>
            ))}
          </select>
        </Field>
        <Field id="j-priority" label="Priority (0–100)" error={e('priority')}>
          <input {...described('j-priority', e('priority'))} type="number" min={0} max={100} value={draft.priority} onChange={(ev) => set({ priority: Number(ev.target.value) })} />
        </Field>
      </div>
      <Field id="j-entry" label="People enter on" error={e('entry.kind')}>
        <select
          id="j-entry"
          value={entry.kind}
          onChange={(ev) => {
            const k = ev.target.value;
            set({ entry: k === 'event' ? { kind: k, event: 'Product Added' } : k === 'segment' ? { kind: k, segment: segments[0]?.id ?? '', op: 'entered' } : k === 'schedule' ? { kind: k, every: 'day', time: '10:00' } : k === 'date_trait' ? { kind: k, trait: 'birthday', offsetDays: 0, time: '09:00' } : { kind: 'api' } });
          }}
        >
          <option value="event">an event</option>
          <option value="segment">a segment change</option>
          <option value="date_trait">a date trait (birthday…)</option>
          <option value="schedule">a schedule</option>
          <option value="api">an API call</option>
        </select>
      </Field>
      {entry.kind === 'event' ? (
        <Field id="j-entry-event" label="Entry event" error={e('entry.event') ?? e('entry')}>
          <input {...described('j-entry-event', e('entry.event') ?? e('entry'))} value={entry.event ?? ''} list="j-known-events" onChange={(ev) => setEntry({ event: ev.target.value })} />
        </Field>
      ) : entry.kind === 'segment' ? (
        <div className="row-2">
          <Field id="j-entry-seg" label="Segment" error={e('entry.segment') ?? e('entry')}>
            {segSelect('j-entry-seg', entry.segment ?? '', (v) => setEntry({ segment: v }), e('entry.segment') ?? e('entry'))}
          </Field>
          <Field id="j-entry-op" label="When people">
            <select id="j-entry-op" value={entry.op} onChange={(ev) => setEntry({ op: ev.target.value })}>
              <option value="entered">enter it</option>
              <option value="left">leave it</option>
            </select>
          </Field>
        </div>
      ) : entry.kind === 'date_trait' ? (
        <>
          <Field id="j-entry-trait" label="Date trait" error={e('entry.trait')} hint="A trait starting YYYY-MM-DD">
            <input {...described('j-entry-trait', e('entry.trait'), true)} value={entry.trait ?? ''} onChange={(ev) => setEntry({ trait: ev.target.value })} />
          </Field>
          <div className="row-2">
            <Field id="j-entry-offset" label="Days from the date (−before)" error={e('entry.offsetDays')}>
              <input {...described('j-entry-offset', e('entry.offsetDays'))} type="number" value={entry.offsetDays ?? 0} onChange={(ev) => setEntry({ offsetDays: Number(ev.target.value) })} />
            </Field>
            <Field id="j-entry-time" label="At (local)" error={e('entry.time')}>
              <input {...described('j-entry-time', e('entry.time'))} type="time" value={entry.time ?? ''} onChange={(ev) => setEntry({ time: ev.target.value })} />
            </Field>
          </div>
          <label className="check">
            <input type="checkbox" checked={entry.recurring !== false} onChange={(ev) => setEntry({ recurring: ev.target.checked ? undefined : false })} /> every year
          </label>
        </>
      ) : entry.kind === 'schedule' ? (
        <>
          <div className="row-2">
            <Field id="j-entry-every" label="Runs" error={e('entry.every') ?? e('entry')}>
              <select id="j-entry-every" value={entry.at !== undefined ? 'once' : entry.every} onChange={(ev) => set({ entry: ev.target.value === 'once' ? { kind: 'schedule', at: new Date(Date.now() + 86400_000).toISOString().slice(0, 16) + ':00Z', ...(entry.segment ? { segment: entry.segment } : {}) } : { kind: 'schedule', every: ev.target.value, time: entry.time ?? '10:00', ...(ev.target.value === 'week' ? { weekdays: [1] } : {}), ...(entry.segment ? { segment: entry.segment } : {}) } })}>
                <option value="day">every day</option>
                <option value="week">every week</option>
                <option value="once">once</option>
              </select>
            </Field>
            {entry.at !== undefined ? (
              <Field id="j-entry-at" label="At (ISO time)" error={e('entry.at')}>
                <input {...described('j-entry-at', e('entry.at'))} value={entry.at} onChange={(ev) => setEntry({ at: ev.target.value })} />
              </Field>
            ) : (
              <Field id="j-entry-stime" label="At (workspace time)" error={e('entry.time')}>
                <input {...described('j-entry-stime', e('entry.time'))} type="time" value={entry.time ?? ''} onChange={(ev) => setEntry({ time: ev.target.value })} />
              </Field>
            )}
          </div>
          {entry.every === 'week' ? (
            <fieldset className="plain-fieldset jn-days">
              <legend className="small">On</legend>
              {DAYS.map((d, i) => (
                <label key={d} className="check">
                  <input type="checkbox" checked={(entry.weekdays ?? []).includes(i)} onChange={(ev) => setEntry({ weekdays: ev.target.checked ? [...(entry.weekdays ?? []), i].sort() : (entry.weekdays ?? []).filter((x: number) => x !== i) })} /> {d}
                </label>
              ))}
              {e('entry.weekdays') ? <p className="field-error">{e('entry.weekdays')}</p> : null}
            </fieldset>
          ) : null}
          <Field id="j-entry-aud" label="Audience" error={e('entry.segment')}>
            {segSelect('j-entry-aud', entry.segment ?? '', (v) => setEntry({ segment: v || undefined }), e('entry.segment'), 'everyone in the workspace')}
          </Field>
        </>
      ) : null}
      <Field id="j-start" label="First step" error={e('start')}>
        <select {...described('j-start', e('start'))} value={draft.start} onChange={(ev) => set({ start: ev.target.value })}>
          <option value="">— not connected —</option>
          {Object.entries(draft.nodes).map(([nid, n]) => (
            <option key={nid} value={nid}>
              {nid} ({KIND_LABEL[n.kind] ?? n.kind})
            </option>
          ))}
          {draft.start && !draft.nodes[draft.start] ? <option value={draft.start}>{draft.start} (missing)</option> : null}
        </select>
      </Field>
      <div className="row-2">
        <Field id="j-reentry" label="Re-entry" error={e('reentry.policy')}>
          <select id="j-reentry" value={draft.reentry.policy} onChange={(ev) => set({ reentry: ev.target.value === 'every' ? { policy: 'every', days: draft.reentry.days ?? 1 } : { policy: ev.target.value } })}>
            <option value="once">once per person</option>
            <option value="every">every N days</option>
            <option value="always">whenever not in it</option>
          </select>
        </Field>
        {draft.reentry.policy === 'every' ? (
          <Field id="j-reentry-days" label="Days" error={e('reentry.days')}>
            <input {...described('j-reentry-days', e('reentry.days'))} type="number" value={draft.reentry.days ?? ''} onChange={(ev) => set({ reentry: { ...draft.reentry, days: Number(ev.target.value) } })} />
          </Field>
        ) : null}
      </div>
      <div className="row-2">
        <Field id="j-goal" label="Goal event (optional)" error={e('goal.event') ?? e('goal')}>
          <input {...described('j-goal', e('goal.event') ?? e('goal'))} value={draft.goal?.event ?? ''} list="j-known-events" onChange={(ev) => set({ goal: ev.target.value ? { ...(draft.goal ?? { withinDays: 7 }), event: ev.target.value } : undefined })} placeholder="Order Completed" />
        </Field>
        {draft.goal ? (
          <Field id="j-goal-days" label="Within days" error={e('goal.withinDays')}>
            <input {...described('j-goal-days', e('goal.withinDays'))} type="number" value={draft.goal.withinDays} onChange={(ev) => set({ goal: { ...draft.goal!, withinDays: Number(ev.target.value) } })} />
          </Field>
        ) : null}
      </div>
      <fieldset className="plain-fieldset jn-exits">
        <legend className="small">Exit rules: these events take people out, wherever they are</legend>
        {exits.map((x, i) =>
          'event' in x ? (
            <div key={i} className="jn-out">
              <Field id={`j-exit-${i}`} label={`Exit event ${i + 1}`} error={e(`exits.${i}`)}>
                <input {...described(`j-exit-${i}`, e(`exits.${i}`))} value={x.event ?? ''} list="j-known-events" onChange={(ev) => set({ exits: exits.map((y, j) => (j === i ? { ...y, event: ev.target.value } : y)) })} />
              </Field>
              <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove exit event ${i + 1}`} onClick={() => set({ exits: exits.filter((_, j) => j !== i).length ? exits.filter((_, j) => j !== i) : undefined })}>
                Remove
              </button>
            </div>
          ) : (
            <p key={i} className="small muted">
              Exit {i + 1}: a segment change (see the JSON)
            </p>
          ),
        )}
        <button type="button" className="btn btn-small" onClick={() => set({ exits: [...exits, { event: 'Order Completed' }] })}>
          Add exit event
        </button>
      </fieldset>
      <label className="check">
        <input type="checkbox" checked={!!(draft.promotes as { fromTrigger?: boolean } | undefined)?.fromTrigger} onChange={(ev) => set({ promotes: promotesWith(draft.promotes, ev.target.checked) })} /> a purchase of the entry event's product cancels its pending messages
      </label>
    </div>
  );
}

/** `promotes` with fromTrigger on or off, its products and categories kept (and no empty object left behind). */
function promotesWith(p: unknown, on: boolean) {
  const { fromTrigger: _, ...rest } = (p ?? {}) as Record<string, unknown>;
  const next = on ? { ...rest, fromTrigger: true } : rest;
  return Object.keys(next).length ? next : undefined;
}
