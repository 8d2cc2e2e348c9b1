// Pieces shared by several condition rows: a rolling window (amount + unit), an operator with its value or window,
// and an event's property filters. `e(field)` answers the API's error for a field of the row (or null).
import { DATE_OPS, type Filter, NO_VALUE_OPS, OPS, OP_LABEL, UNITS, WINDOW_OPS, type Win } from './builder.ts';
import { Field, described } from '../ui.tsx';

export type FieldErr = (field: string) => string | null;

export function WindowFields({ p, win, onChange, e, lead, prefix = '' }: { p: string; win: Win; onChange: (w: Win) => void; e: FieldErr; lead?: string; prefix?: string }) {
  return (
    <div className="win">
      <Field id={`${p}-wamount`} label={lead ? `${lead[0]!.toUpperCase()}${lead.slice(1)}` : 'Window'} error={e(`${prefix}window.amount`)}>
        <input {...described(`${p}-wamount`, e(`${prefix}window.amount`))} type="number" inputMode="decimal" value={win.amount} onChange={(ev) => onChange({ ...win, amount: ev.target.value })} />
      </Field>
      <Field id={`${p}-wunit`} label="Unit" error={e(`${prefix}window.unit`)}>
        <select id={`${p}-wunit`} value={win.unit} onChange={(ev) => onChange({ ...win, unit: ev.target.value })}>
          {UNITS.map((u) => (
            <option key={u} value={u}>
              {u}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
}

/** Operator, then its value box or its window (within the last…), or nothing (is set). */
export function Comparison({ p, r, ops, e, set, prefix = '', valueLabel }: { p: string; r: { op: string; value: string; window?: Win }; ops: readonly string[]; e: FieldErr; set: (patch: { op?: string; value?: string; window?: Win }) => void; prefix?: string; valueLabel?: string }) {
  const ve = e(`${prefix}value`);
  return (
    <>
      <Field id={`${p}-op`} label="Operator" error={e(`${prefix}op`)}>
        <select {...described(`${p}-op`, e(`${prefix}op`))} value={r.op} onChange={(ev) => set({ op: ev.target.value })}>
          {ops.map((o) => (
            <option key={o} value={o}>
              {OP_LABEL[o] ?? o}
            </option>
          ))}
        </select>
      </Field>
      {WINDOW_OPS.has(r.op) ? (
        <WindowFields p={p} win={r.window ?? { amount: '30', unit: 'days' }} onChange={(w) => set({ window: w })} e={e} prefix={prefix} />
      ) : NO_VALUE_OPS.has(r.op) ? null : (
        <Field id={`${p}-value`} label={r.op === 'in' || r.op === 'not_in' ? 'Values (comma-separated)' : r.op === 'between' ? 'Min, max' : (valueLabel ?? 'Value')} error={ve}>
          <input {...described(`${p}-value`, ve)} value={r.value} onChange={(ev) => set({ value: ev.target.value })} placeholder={r.op === 'before' || r.op === 'after' ? '2026-01-31' : ''} />
        </Field>
      )}
    </>
  );
}

export function Filters({ p, filters, e, onChange }: { p: string; filters: Filter[]; e: FieldErr; onChange: (f: Filter[]) => void }) {
  return (
    <div className="filters-block">
      {filters.map((f, i) => {
        const setF = (patch: Partial<Filter>) => onChange(filters.map((x, j) => (j === i ? { ...x, ...patch } : x)));
        return (
          <div key={i} className="filter-row" role="group" aria-label={`Property filter ${i + 1}`}>
            <Field id={`${p}-f${i}-path`} label="Property" error={e(`filters.${i}.path`)}>
              <input {...described(`${p}-f${i}-path`, e(`filters.${i}.path`))} value={f.path} onChange={(ev) => setF({ path: ev.target.value })} placeholder="total, products[].category" />
            </Field>
            <Comparison p={`${p}-f${i}`} r={f} ops={[...OPS, ...DATE_OPS.filter((o) => o !== 'anniversary_within')]} e={e} prefix={`filters.${i}.`} set={(x) => setF(x)} />
            <button type="button" className="btn btn-small btn-ghost" onClick={() => onChange(filters.filter((_, j) => j !== i))} aria-label={`Remove property filter ${i + 1}`}>
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

export const KNOWN_EVENTS = ['Order Completed', 'Order Refunded', 'Product Viewed', 'Product Added', 'Checkout Started', 'Signed Up', 'Page Viewed', 'Store Visited'];
