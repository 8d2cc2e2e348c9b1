// Split conditions as rows, not JSON: either "the person, now" — the segment builder's own rows (segments/group.tsx:
// every condition kind the engine has, nested all/any groups, NOT), so a split can ask anything a segment can — or
// "the event that made them enter" (the journey's trigger condition: an optional event name and property filters).
// A condition the rows cannot show exactly is kept as it is, with a note and a way to start over.
import { useEffect, useState } from 'react';
import { get } from '../api.ts';
import { type Built, NO_VALUE_OPS, OPS, OP_LABEL, fromDefinition, newRow, parseScalar, toDefinition } from '../segments/builder.ts';
import { BuilderCtx, type BuilderChoices } from '../segments/context.tsx';
import { GroupRows } from '../segments/group.tsx';
import { bare, locate } from '../segments/where.ts';
import { Field, described, useAsync } from '../ui.tsx';

export interface Named {
  id: string;
  name: string;
}
type RelErr = { path: string; message: string };

const KNOWN_EVENTS = ['Order Completed', 'Product Added', 'Checkout Started', 'Product Viewed', 'Signed Up', 'Email Opened', 'Email Clicked', 'Store Visited'];

const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

// Locations and custom computed properties, for the geo and computed rows: loaded once per page, not per split.
// A failed load (an expired session, say) is not kept: the next editor asks again.
let extras: Promise<{ locations: Named[]; customs: string[] }> | null = null;
const loadExtras = () =>
  (extras ??= Promise.all([
    get<{ locations: Named[] }>('/locations').then((r) => r.locations),
    get<{ properties: { name: string }[] }>('/computed-properties').then((r) => r.properties.map((x) => `custom.${x.name}`)),
  ]).then(
    ([locations, customs]) => ({ locations, customs }),
    () => {
      extras = null;
      return { locations: [], customs: [] };
    },
  ));

export function ConditionEditor({ id, value, onChange, errs, segments, lists }: { id: string; value: any; onChange: (c: unknown) => void; errs: RelErr[]; segments: Named[]; lists: Named[] }) {
  const trigger = value?.kind === 'trigger';
  const [built, setBuilt] = useState<Built | null>(() => (trigger ? null : fromDefinition(value)));
  const more = useAsync(loadExtras, []);
  // The node changed from elsewhere (node JSON, discard): show that; our own edits give the same JSON back.
  useEffect(() => {
    if (trigger) return;
    if (!built || !sameJson(toDefinition(built), value)) setBuilt(fromDefinition(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, trigger]);
  const update = (b: Built) => {
    setBuilt(b);
    onChange(toDefinition(b));
  };
  // The API's errors are relative to the condition; the builder locates "definition.<path>" in its rows.
  const located = !trigger && built ? errs.map((x) => ({ x, at: locate(x.path ? `definition.${x.path}` : 'definition', built) })) : [];
  const first = located.find((l) => l.at);
  const choices: BuilderChoices = {
    segments,
    lists,
    locations: more.data?.locations ?? [],
    customs: more.data?.customs ?? [],
    err: first?.at ? { ...first.at, message: bare(first.x.message) } : null,
  };
  const whole = trigger ? errs.filter((x) => x.path === '') : located.filter((l) => !l.at).map((l) => l.x);
  return (
    <div className="jc" role="group" aria-label="Condition">
      <Field id={`${id}-about`} label="Condition on">
        <select
          id={`${id}-about`}
          value={trigger ? 'trigger' : 'person'}
          onChange={(ev) => {
            if (ev.target.value === 'trigger') onChange({ kind: 'trigger', filters: [{ path: '', op: 'eq', value: '' }] });
            else update({ match: 'and', rows: [newRow('trait')], single: true });
          }}
        >
          <option value="person">the person, now</option>
          <option value="trigger">the event that made them enter</option>
        </select>
      </Field>
      {trigger ? (
        <TriggerFields id={id} value={value} onChange={onChange} errs={errs} />
      ) : !built ? (
        <div className="notice notice-info">
          This condition uses parts the rows cannot show; it is kept as it is (see the node's JSON).
          <button type="button" className="btn btn-small" onClick={() => update({ match: 'and', rows: [newRow('trait')], single: true })}>
            Start over with rows
          </button>
        </div>
      ) : (
        <BuilderCtx.Provider value={choices}>
          {built.rows.length > 1 ? (
            <Field id={`${id}-match`} label="Matches when">
              <select id={`${id}-match`} value={built.match} onChange={(ev) => update({ ...built, match: ev.target.value as 'and', single: false })}>
                <option value="and">all of these hold</option>
                <option value="or">any of these holds</option>
              </select>
            </Field>
          ) : null}
          <GroupRows idPrefix={`${id}-`} rows={built.rows} at="" depth={0} onChange={(rows) => update({ ...built, rows })} />
        </BuilderCtx.Provider>
      )}
      {whole.map((x, i) => (
        <p key={i} className="field-error" role="alert">
          {x.path ? `${x.path}: ` : ''}
          {x.message}
        </p>
      ))}
      <datalist id="j-known-events">
        {KNOWN_EVENTS.map((n) => (
          <option key={n} value={n} />
        ))}
      </datalist>
    </div>
  );
}

export interface FilterText {
  path: string;
  op: string;
  value: string;
}
/** Property filters as text rows; values typed like the segment builder's (numbers, true/false, comma lists). */
export function Filters({ p, filters, onChange, e }: { p: string; filters: FilterText[]; onChange: (f: FilterText[]) => void; e: (f: string) => string | null }) {
  return (
    <div className="jc-filters">
      {filters.map((f, i) => {
        const setF = (patch: Partial<FilterText>) => onChange(filters.map((x, j) => (j === i ? { ...x, ...patch } : x)));
        const fe = (k: string) => e(`filters.${i}.${k}`);
        return (
          <div key={i} className="jc-filter" role="group" aria-label={`Property filter ${i + 1}`}>
            <Field id={`${p}-f${i}-path`} label="Property" error={fe('path')}>
              <input {...described(`${p}-f${i}-path`, fe('path'))} value={f.path} onChange={(ev) => setF({ path: ev.target.value })} placeholder="total" />
            </Field>
            <Field id={`${p}-f${i}-op`} label="Operator" error={fe('op')}>
              <select id={`${p}-f${i}-op`} value={f.op} onChange={(ev) => setF({ op: ev.target.value })}>
                {OPS.map((o) => (
                  <option key={o} value={o}>
                    {OP_LABEL[o]}
                  </option>
                ))}
              </select>
            </Field>
            {NO_VALUE_OPS.has(f.op) ? null : (
              <Field id={`${p}-f${i}-value`} label="Value" error={fe('value')}>
                <input {...described(`${p}-f${i}-value`, fe('value'))} value={f.value} onChange={(ev) => setF({ value: ev.target.value })} />
              </Field>
            )}
            <button type="button" className="btn btn-small btn-ghost" aria-label={`Remove property filter ${i + 1}`} onClick={() => onChange(filters.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        );
      })}
      <button type="button" className="btn btn-small" onClick={() => onChange([...filters, { path: '', op: 'eq', value: '' }])}>
        Add property filter
      </button>
    </div>
  );
}

/** API property filters ↔ text rows. */
export const filtersToText = (fs: any[] | undefined): FilterText[] =>
  (fs ?? []).map((f) => ({ path: f.path ?? '', op: f.op ?? 'eq', value: f.value === undefined ? '' : Array.isArray(f.value) ? f.value.join(', ') : f.value === null ? 'null' : String(f.value) }));
export const textToFilters = (fs: FilterText[]) =>
  fs.map((f) =>
    NO_VALUE_OPS.has(f.op) ? { path: f.path.trim(), op: f.op } : f.op === 'in' || f.op === 'not_in' || f.op === 'between' ? { path: f.path.trim(), op: f.op, value: f.value.split(',').map((x) => parseScalar(x.trim())) } : { path: f.path.trim(), op: f.op, value: parseScalar(f.value) },
  );

/** The trigger condition: the entry event's name (optional) and its property filters (at least one). */
function TriggerFields({ id, value, onChange, errs }: { id: string; value: any; onChange: (c: unknown) => void; errs: RelErr[] }) {
  // Text rows kept locally so "1." or "" can be typed; the node gets the typed values.
  const [rows, setRows] = useState<FilterText[]>(() => filtersToText(value.filters));
  const e = (f: string) => errs.find((x) => x.path === f || x.path.startsWith(`${f}.`))?.message ?? null;
  const emit = (event: string | undefined, fs: FilterText[]) => onChange({ kind: 'trigger', ...(event ? { event } : {}), filters: textToFilters(fs) });
  return (
    <>
      <Field id={`${id}-tev`} label="Event name (optional)" error={e('event')} hint="Empty: whatever event made them enter">
        <input {...described(`${id}-tev`, e('event'), true)} value={value.event ?? ''} list="j-known-events" onChange={(ev) => emit(ev.target.value || undefined, rows)} />
      </Field>
      <Filters p={`${id}-t`} filters={rows} onChange={(fs) => (setRows(fs), emit(value.event, fs))} e={e} />
      {e('filters') && !rows.length ? <p className="field-error">{e('filters')}</p> : null}
    </>
  );
}
