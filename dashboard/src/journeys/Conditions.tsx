// Split conditions as rows, not JSON: either "the person, now" (the segments' condition rows from
// segments/builder.ts: trait, event, computed, RFM, reachable, segment; one row, or all/any of several) or "the event
// that made them enter" (the journey's trigger condition: an optional event name and property filters).
// A condition the rows cannot show exactly (nesting, geo…) is kept as it is, with a note and a way to start over.
import { useEffect, useState } from 'react';
import { type Built, COMPUTED, DATE_OPS, NO_VALUE_OPS, OPS, OP_LABEL, REACH_CHANNELS, RFM_STAGES, ROW_KINDS, type Row, type RowKind, UNITS, WINDOW_OPS, fromDefinition, newRow, parseScalar, toCondition } from '../segments/builder.ts';
import { Field, described } from '../ui.tsx';

export interface Named {
  id: string;
  name: string;
}
type RelErr = { path: string; message: string };

const KNOWN_EVENTS = ['Order Completed', 'Product Added', 'Checkout Started', 'Product Viewed', 'Signed Up', 'Email Opened', 'Email Clicked', 'Store Visited'];

/** A condition from the rows: one row as itself (the shortest JSON), several inside and/or. */
const fromBuilt = (b: Built) => (b.rows.length === 1 ? toCondition(b.rows[0]!) : { kind: b.match, conditions: b.rows.map(toCondition) });
const sameJson = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Where an error inside the condition falls: which row, and the field inside it (through `not` wrappers). */
function rowErrors(errs: RelErr[], b: Built, i: number): RelErr[] {
  const out: RelErr[] = [];
  for (const x of errs) {
    let rel: string | null = null;
    if (b.rows.length === 1) rel = x.path;
    else {
      const m = /^conditions\.(\d+)(?:\.(.*))?$/.exec(x.path);
      if (m && Number(m[1]) === i) rel = m[2] ?? '';
    }
    if (rel === null) continue;
    if (b.rows[i]?.negate && b.rows[i]!.kind !== 'segment') rel = rel.replace(/^condition\.?/, '');
    out.push({ path: rel, message: x.message });
  }
  return out;
}

export function ConditionEditor({ id, value, onChange, errs, segments }: { id: string; value: any; onChange: (c: unknown) => void; errs: RelErr[]; segments: Named[] }) {
  const trigger = value?.kind === 'trigger';
  const [built, setBuilt] = useState<Built | null>(() => (trigger ? null : fromDefinition(value)));
  // The node changed from elsewhere (node JSON, discard): show that; our own edits give the same JSON back.
  useEffect(() => {
    if (trigger) return;
    if (!built || !sameJson(fromBuilt(built), value)) setBuilt(fromDefinition(value));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value, trigger]);
  const update = (b: Built) => {
    setBuilt(b);
    onChange(fromBuilt(b));
  };
  const whole = errs.filter((x) => x.path === '' || (!trigger && built && built.rows.length > 1 && !/^conditions\.\d/.test(x.path)));
  return (
    <div className="jc" role="group" aria-label="Condition">
      <Field id={`${id}-about`} label="Condition on">
        <select
          id={`${id}-about`}
          value={trigger ? 'trigger' : 'person'}
          onChange={(ev) => {
            if (ev.target.value === 'trigger') onChange({ kind: 'trigger', filters: [{ path: '', op: 'eq', value: '' }] });
            else update({ match: 'and', rows: [newRow('trait')] });
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
          This condition uses parts the rows cannot show (nesting, geography, lists…); it is kept as it is (see the node's JSON).
          <button type="button" className="btn btn-small" onClick={() => update({ match: 'and', rows: [newRow('trait')] })}>
            Start over with rows
          </button>
        </div>
      ) : (
        <>
          {built.rows.length > 1 ? (
            <Field id={`${id}-match`} label="Matches when">
              <select id={`${id}-match`} value={built.match} onChange={(ev) => update({ ...built, match: ev.target.value as 'and' })}>
                <option value="and">all of these hold</option>
                <option value="or">any of these holds</option>
              </select>
            </Field>
          ) : null}
          <ol className="jc-rows">
            {built.rows.map((r, i) => (
              <li key={r.key}>
                <RowFields
                  p={`${id}-r${i}`}
                  row={r}
                  index={i}
                  segments={segments}
                  errs={rowErrors(errs, built, i)}
                  onChange={(nr) => update({ ...built, rows: built.rows.map((x, j) => (j === i ? nr : x)) })}
                  onRemove={built.rows.length > 1 ? () => update({ ...built, rows: built.rows.filter((_, j) => j !== i) }) : undefined}
                />
              </li>
            ))}
          </ol>
          <AddRow id={id} onAdd={(k) => update({ ...built, rows: [...built.rows, newRow(k)] })} />
        </>
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

function AddRow({ id, onAdd }: { id: string; onAdd: (k: RowKind) => void }) {
  const [kind, setKind] = useState<RowKind>('event');
  return (
    <div className="jc-add">
      <label className="sr-only" htmlFor={`${id}-add`}>
        Kind of condition to add
      </label>
      <select id={`${id}-add`} value={kind} onChange={(e) => setKind(e.target.value as RowKind)}>
        {ROW_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      <button type="button" className="btn btn-small" onClick={() => onAdd(kind)}>
        Add condition
      </button>
    </div>
  );
}

function RowFields({ p, row, index, segments, errs, onChange, onRemove }: { p: string; row: Row; index: number; segments: Named[]; errs: RelErr[]; onChange: (r: Row) => void; onRemove?: () => void }) {
  const set = (patch: Record<string, unknown>) => onChange({ ...row, ...patch } as Row);
  const used = new Set<RelErr>();
  const e = (f: string) => {
    const hit = errs.find((x) => x.path === f || x.path.startsWith(`${f}.`));
    if (hit) used.add(hit);
    return hit ? hit.message : null;
  };
  const label = ROW_KINDS.find((k) => k.kind === row.kind)?.label ?? row.kind;
  const win = (w: { amount: string; unit: string }, lead: string) => (
    <div className="row-2">
      <Field id={`${p}-wa`} label={lead} error={e('window.amount') ?? e('window')}>
        <input {...described(`${p}-wa`, e('window.amount') ?? e('window'))} type="number" value={w.amount} onChange={(ev) => set({ window: { ...w, amount: ev.target.value } })} />
      </Field>
      <Field id={`${p}-wu`} label="Unit">
        <select id={`${p}-wu`} value={w.unit} onChange={(ev) => set({ window: { ...w, unit: ev.target.value } })}>
          {UNITS.map((u) => (
            <option key={u}>{u}</option>
          ))}
        </select>
      </Field>
    </div>
  );
  const comparison = (r: { op: string; value: string; window: { amount: string; unit: string } }) => (
    <>
      <Field id={`${p}-op`} label="Operator" error={e('op')}>
        <select {...described(`${p}-op`, e('op'))} value={r.op} onChange={(ev) => set({ op: ev.target.value })}>
          {[...OPS, ...DATE_OPS].map((o) => (
            <option key={o} value={o}>
              {OP_LABEL[o] ?? o}
            </option>
          ))}
        </select>
      </Field>
      {WINDOW_OPS.has(r.op) ? (
        win(r.window, 'Window')
      ) : NO_VALUE_OPS.has(r.op) ? null : (
        <Field id={`${p}-value`} label={r.op === 'in' || r.op === 'not_in' ? 'Values (comma-separated)' : 'Value'} error={e('value')}>
          <input {...described(`${p}-value`, e('value'))} value={r.value} onChange={(ev) => set({ value: ev.target.value })} />
        </Field>
      )}
    </>
  );
  let body: React.ReactNode = null;
  switch (row.kind) {
    case 'trait':
      body = (
        <>
          <Field id={`${p}-trait`} label="Trait" error={e('trait')}>
            <input {...described(`${p}-trait`, e('trait'))} value={row.trait} onChange={(ev) => set({ trait: ev.target.value })} placeholder="plan" />
          </Field>
          {comparison(row)}
        </>
      );
      break;
    case 'computed':
      body = (
        <>
          <Field id={`${p}-prop`} label="Property" error={e('property')}>
            <select id={`${p}-prop`} value={row.property} onChange={(ev) => set({ property: ev.target.value })}>
              {COMPUTED.map((c) => (
                <option key={c} value={c}>
                  {c.replace(/_/g, ' ')}
                </option>
              ))}
            </select>
          </Field>
          {comparison(row)}
        </>
      );
      break;
    case 'event':
      body = (
        <>
          <Field id={`${p}-event`} label="Event" error={e('event')}>
            <input {...described(`${p}-event`, e('event'))} value={row.event} list="j-known-events" onChange={(ev) => set({ event: ev.target.value })} placeholder="Order Completed" />
          </Field>
          <Field id={`${p}-eop`} label="How often" error={e('op') ?? e('count')}>
            <select id={`${p}-eop`} value={row.op} onChange={(ev) => set({ op: ev.target.value })}>
              <option value="performed">at least once</option>
              <option value="not_performed">never</option>
              <option value="count">a number of times</option>
            </select>
          </Field>
          {row.op === 'count' ? (
            <div className="row-2">
              <Field id={`${p}-cop`} label="Count">
                <select id={`${p}-cop`} value={row.countOp} onChange={(ev) => set({ countOp: ev.target.value })}>
                  <option value="gte">at least</option>
                  <option value="lte">at most</option>
                  <option value="eq">exactly</option>
                </select>
              </Field>
              <Field id={`${p}-cv`} label="Times" error={e('count.value')}>
                <input {...described(`${p}-cv`, e('count.value'))} type="number" value={row.countValue} onChange={(ev) => set({ countValue: ev.target.value })} />
              </Field>
            </div>
          ) : null}
          <label className="check">
            <input type="checkbox" checked={row.windowOn} onChange={(ev) => set({ windowOn: ev.target.checked })} /> only recently
          </label>
          {row.windowOn ? win(row.window, 'In the last') : null}
          <Filters p={p} filters={row.filters} onChange={(filters) => set({ filters })} e={e} />
        </>
      );
      break;
    case 'segment':
      body = (
        <Field id={`${p}-seg`} label="Segment" error={e('segmentId')}>
          <select {...described(`${p}-seg`, e('segmentId'))} value={row.segmentId} onChange={(ev) => set({ segmentId: ev.target.value })}>
            <option value="">Choose a segment…</option>
            {segments.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
            {row.segmentId && !segments.some((s) => s.id === row.segmentId) ? <option value={row.segmentId}>{row.segmentId}</option> : null}
          </select>
        </Field>
      );
      break;
    case 'reachable':
      body = (
        <div className="row-2">
          <Field id={`${p}-ch`} label="Channel" error={e('channel')}>
            <select id={`${p}-ch`} value={row.channel} onChange={(ev) => set({ channel: ev.target.value })}>
              {REACH_CHANNELS.map((c) => (
                <option key={c}>{c}</option>
              ))}
            </select>
          </Field>
          <Field id={`${p}-req`} label="Requires">
            <select id={`${p}-req`} value={row.require} onChange={(ev) => set({ require: ev.target.value })}>
              <option value="reachable">an address</option>
              <option value="subscribed">opt-in</option>
            </select>
          </Field>
        </div>
      );
      break;
    case 'rfm':
      body = (
        <fieldset className="plain-fieldset jc-stages">
          <legend className="small">RFM stages</legend>
          {RFM_STAGES.map((st) => (
            <label key={st} className="check">
              <input type="checkbox" checked={row.stages.includes(st)} onChange={(ev) => set({ stages: ev.target.checked ? [...row.stages, st] : row.stages.filter((x) => x !== st) })} /> {st}
            </label>
          ))}
        </fieldset>
      );
      break;
    default:
      // A row kind added to builder.ts after this editor: shown by name, edited in the node's JSON.
      body = <p className="hint">Edit this condition in the node's JSON.</p>;
  }
  const rest = errs.filter((x) => !used.has(x));
  return (
    <div className="cond jc-row" role="group" aria-label={`Condition ${index + 1}: ${label}`}>
      <div className="cond-head">
        <span className="cond-kind">{label}</span>
        <label className="check">
          <input type="checkbox" checked={row.negate} onChange={(ev) => set({ negate: ev.target.checked })} /> not
        </label>
        {onRemove ? (
          <button type="button" className="btn btn-small btn-ghost" onClick={onRemove} aria-label={`Remove condition ${index + 1}`}>
            Remove
          </button>
        ) : null}
      </div>
      {body}
      {rest.map((x, i) => (
        <p key={i} className="field-error" role="alert">
          {x.path ? `${x.path}: ` : ''}
          {x.message}
        </p>
      ))}
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
