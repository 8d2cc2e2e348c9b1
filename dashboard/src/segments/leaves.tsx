// The fields of each leaf condition row (everything but groups): trait, event, first/last time, geo, engagement,
// computed property, RFM stage, reachable, segment and list membership. Each field shows the API's error for it.
import { COMPUTED, DATE_OPS, ENGAGE_ACTIONS, ENGAGE_CHANNELS, OPS, REACH_CHANNELS, RFM_STAGES, type Row, WHEN_OPS } from './builder.ts';
import { type Named, useChoices } from './context.tsx';
import { Comparison, type FieldErr, Filters, WindowFields } from './fields.tsx';
import { Field, described } from '../ui.tsx';

type Leaf = Exclude<Row, { kind: 'group' }>;

/** A select of named things, keeping an id that is not (or no longer) among them. */
function Pick({ id, label, value, items, none, e, onChange }: { id: string; label: string; value: string; items: Named[]; none: string; e: string | null; onChange: (v: string) => void }) {
  return (
    <Field id={id} label={label} error={e}>
      <select {...described(id, e)} value={value} onChange={(ev) => onChange(ev.target.value)}>
        <option value="">{none}</option>
        {items.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name}
          </option>
        ))}
        {value && !items.some((s) => s.id === value) ? <option value={value}>{value}</option> : null}
      </select>
    </Field>
  );
}

export function LeafFields({ row, p, e, onChange }: { row: Leaf; p: string; e: FieldErr; onChange: (r: Row) => void }) {
  const choices = useChoices();
  const set = (patch: Record<string, unknown>) => onChange({ ...row, ...patch } as Row);
  switch (row.kind) {
    case 'trait':
      return (
        <>
          <Field id={`${p}-trait`} label="Trait" error={e('trait')}>
            <input {...described(`${p}-trait`, e('trait'))} value={row.trait} onChange={(ev) => set({ trait: ev.target.value })} placeholder="plan, address.city…" />
          </Field>
          <Comparison p={p} r={row} ops={[...OPS, ...DATE_OPS]} e={e} set={set} />
        </>
      );
    case 'computed': {
      const props = [...COMPUTED, ...choices.customs];
      return (
        <>
          <Field id={`${p}-property`} label="Property" error={e('property')}>
            <select {...described(`${p}-property`, e('property'))} value={row.property} onChange={(ev) => set({ property: ev.target.value })}>
              {props.map((c) => (
                <option key={c} value={c}>
                  {c.replace(/_/g, ' ')}
                </option>
              ))}
              {props.includes(row.property) ? null : <option value={row.property}>{row.property}</option>}
            </select>
          </Field>
          <Comparison p={p} r={row} ops={[...OPS, ...DATE_OPS]} e={e} set={set} />
        </>
      );
    }
    case 'event':
      return (
        <>
          <Field id={`${p}-event`} label="Event" error={e('event')}>
            <input {...described(`${p}-event`, e('event'))} value={row.event} onChange={(ev) => set({ event: ev.target.value })} placeholder="Order Completed" list="known-events" />
          </Field>
          <Field id={`${p}-op`} label="How often" error={e('op')}>
            <select id={`${p}-op`} value={row.op} onChange={(ev) => set({ op: ev.target.value })}>
              <option value="performed">at least once</option>
              <option value="not_performed">never</option>
              <option value="count">a number of times</option>
            </select>
          </Field>
          {row.op === 'count' ? (
            <>
              <Field id={`${p}-countop`} label="Count" error={e('count.op')}>
                <select id={`${p}-countop`} value={row.countOp} onChange={(ev) => set({ countOp: ev.target.value })}>
                  <option value="gte">at least</option>
                  <option value="lte">at most</option>
                  <option value="eq">exactly</option>
                </select>
              </Field>
              <Field id={`${p}-count`} label="Times" error={e('count.value') ?? e('count')}>
                <input {...described(`${p}-count`, e('count.value') ?? e('count'))} type="number" inputMode="numeric" value={row.countValue} onChange={(ev) => set({ countValue: ev.target.value })} />
              </Field>
            </>
          ) : null}
          {row.windowOn ? <WindowFields p={p} win={row.window} onChange={(w) => set({ window: w })} e={e} lead="in the last" /> : null}
          <label className="check ever">
            <input type="checkbox" checked={!row.windowOn} onChange={(ev) => set({ windowOn: !ev.target.checked })} /> any time (no window)
          </label>
          <Filters p={p} filters={row.filters} e={e} onChange={(filters) => set({ filters })} />
          {/* Labels here avoid the word "event": tests and screen readers find the Event box by that name. */}
          <Field id={`${p}-channel`} label="Channel (optional)" error={e('channel')}>
            <input {...described(`${p}-channel`, e('channel'))} value={row.channel ?? ''} onChange={(ev) => set({ channel: ev.target.value })} placeholder="web, store, email…" maxLength={32} />
          </Field>
          <label className="check ever">
            <input type="checkbox" checked={!!row.internal} onChange={(ev) => set({ internal: ev.target.checked })} /> include Omnia's own (message opened…)
          </label>
        </>
      );
    case 'when':
      return (
        <>
          <Field id={`${p}-which`} label="Which time" error={null}>
            <select id={`${p}-which`} value={row.which} onChange={(ev) => set({ which: ev.target.value })}>
              <option value="last_performed">last time they did</option>
              <option value="first_performed">first time they did</option>
            </select>
          </Field>
          <Field id={`${p}-event`} label="Event" error={e('event')}>
            <input {...described(`${p}-event`, e('event'))} value={row.event} onChange={(ev) => set({ event: ev.target.value })} placeholder="Order Completed" list="known-events" />
          </Field>
          <Comparison p={p} r={row} ops={WHEN_OPS} e={e} set={set} valueLabel="Date" />
          <Filters p={p} filters={row.filters} e={e} onChange={(filters) => set({ filters })} />
        </>
      );
    case 'geo':
      return (
        <>
          <Field id={`${p}-country`} label="Countries" error={e('country')} hint="Comma-separated: codes or English names">
            <input {...described(`${p}-country`, e('country'), true)} value={row.countries} onChange={(ev) => set({ countries: ev.target.value })} placeholder="DE, France" />
          </Field>
          <Field id={`${p}-city`} label="Cities" error={e('city')} hint="Comma-separated">
            <input {...described(`${p}-city`, e('city'), true)} value={row.cities} onChange={(ev) => set({ cities: ev.target.value })} placeholder="Berlin, Lyon" />
          </Field>
          <Field id={`${p}-near`} label="Near" error={null}>
            <select id={`${p}-near`} value={row.near} onChange={(ev) => set({ near: ev.target.value })}>
              <option value="none">anywhere</option>
              <option value="location">a named location (store)</option>
              <option value="point">a point (latitude, longitude)</option>
            </select>
          </Field>
          {row.near === 'location' ? (
            <Pick id={`${p}-location`} label="Location" value={row.location} items={choices.locations} none="Choose a location…" e={e('near.location')} onChange={(location) => set({ location })} />
          ) : null}
          {row.near === 'point' ? (
            <>
              <Field id={`${p}-lat`} label="Latitude" error={e('near.lat')}>
                <input {...described(`${p}-lat`, e('near.lat'))} type="number" inputMode="decimal" step="any" value={row.lat} onChange={(ev) => set({ lat: ev.target.value })} placeholder="52.52" />
              </Field>
              <Field id={`${p}-lon`} label="Longitude" error={e('near.lon')}>
                <input {...described(`${p}-lon`, e('near.lon'))} type="number" inputMode="decimal" step="any" value={row.lon} onChange={(ev) => set({ lon: ev.target.value })} placeholder="13.40" />
              </Field>
            </>
          ) : null}
          {row.near !== 'none' ? (
            <Field id={`${p}-km`} label="Within (km)" error={e('near.km')}>
              <input {...described(`${p}-km`, e('near.km'))} type="number" inputMode="decimal" step="any" value={row.km} onChange={(ev) => set({ km: ev.target.value })} />
            </Field>
          ) : null}
        </>
      );
    case 'engagement':
      return (
        <>
          <Field id={`${p}-action`} label="Action" error={e('action')}>
            <select id={`${p}-action`} value={row.action} onChange={(ev) => set({ action: ev.target.value })}>
              {ENGAGE_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${p}-channel`} label="Channel" error={e('channel')}>
            <select id={`${p}-channel`} value={row.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              <option value="">any channel</option>
              {ENGAGE_CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </Field>
          {row.windowOn ? <WindowFields p={p} win={row.window} onChange={(w) => set({ window: w })} e={e} lead="in the last" /> : null}
          <label className="check ever">
            <input type="checkbox" checked={!row.windowOn} onChange={(ev) => set({ windowOn: !ev.target.checked })} /> any time (no window)
          </label>
        </>
      );
    case 'segment':
      return <Pick id={`${p}-segment`} label="Segment" value={row.segmentId} items={choices.segments} none="Choose a segment…" e={e('segmentId')} onChange={(segmentId) => set({ segmentId })} />;
    case 'list':
      return <Pick id={`${p}-list`} label="List" value={row.listId} items={choices.lists} none={choices.lists.length ? 'Choose a list…' : 'No lists yet (POST /api/lists)'} e={e('listId')} onChange={(listId) => set({ listId })} />;
    case 'reachable':
      return (
        <>
          <Field id={`${p}-channel`} label="Channel" error={e('channel')}>
            <select id={`${p}-channel`} value={row.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              {REACH_CHANNELS.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </select>
          </Field>
          <Field id={`${p}-topic`} label="Topic (optional)" error={e('topic')}>
            <input {...described(`${p}-topic`, e('topic'))} value={row.topic} onChange={(ev) => set({ topic: ev.target.value })} placeholder="marketing" />
          </Field>
          <Field id={`${p}-require`} label="Requires" error={e('require')}>
            <select id={`${p}-require`} value={row.require} onChange={(ev) => set({ require: ev.target.value })}>
              <option value="reachable">an address, not unsubscribed</option>
              <option value="subscribed">explicit opt-in (subscribed)</option>
            </select>
          </Field>
        </>
      );
    case 'rfm':
      return (
        <fieldset className={`field stages ${e('value') ? 'field-invalid' : ''}`}>
          <legend>Stages</legend>
          <div className="stage-list">
            {RFM_STAGES.map((st) => (
              <label key={st} className="check">
                <input type="checkbox" checked={row.stages.includes(st)} onChange={(ev) => set({ stages: ev.target.checked ? [...row.stages, st] : row.stages.filter((x) => x !== st) })} /> {st}
              </label>
            ))}
          </div>
          {e('value') ? <p className="field-error">{e('value')}</p> : null}
        </fieldset>
      );
  }
}
