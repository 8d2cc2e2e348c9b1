// The rows of a group (the root "people who match all/any of", or a nested group), each row with its NOT and
// remove, and the controls to add a condition or a nested group. Groups nest recursively; positions ("1.0") tie
// each row to the API error that names it.
import { useState } from 'react';
import { BUILDER_KINDS, NATIVE_NEGATE, type Row, type RowKind, kindLabel, newRow } from './builder.ts';
import { human, useChoices } from './context.tsx';
import { LeafFields } from './leaves.tsx';
import { claimedField } from './where.ts';
import { Empty } from '../ui.tsx';

/** Nested groups beyond this are refused by the builder (the API allows 8 levels, NOT wrappers included). */
const MAX_GROUP_DEPTH = 3;

/** Plain words for the union errors TypeBox gives for geo's `near` (it cannot say which alternative was meant). */
const friendly = (path: string, message: string) => (path === 'near' && /union/i.test(message) ? 'check the distance (more than 0, at most 20,000 km) and the place' : message);

/** `idPrefix` keeps the add controls' ids unique when several builders share a page (a journey's multi-split). */
export function GroupRows({ rows, at, depth, onChange, idPrefix = '' }: { rows: Row[]; at: string; depth: number; onChange: (rows: Row[]) => void; idPrefix?: string }) {
  const prefix = at ? `${at}.` : '';
  return (
    <>
      <ol className={`rows ${depth ? 'rows-nested' : ''}`}>
        {rows.map((r, i) => (
          <li key={r.key} className="cond-row">
            <RowEditor
              idPrefix={idPrefix}
              row={r}
              at={`${prefix}${i}`}
              depth={depth}
              onChange={(nr) => onChange(rows.map((x, j) => (j === i ? nr : x)))}
              onRemove={() => onChange(rows.filter((_, j) => j !== i))}
            />
          </li>
        ))}
      </ol>
      {!rows.length ? <Empty title={depth ? 'An empty group' : 'No conditions'}>{depth ? 'Add a condition to this group, or remove it.' : 'Add a condition to say who is in the segment.'}</Empty> : null}
      <AddCondition id={`${idPrefix}${at ? `add-${at}` : 'add'}`} label={at ? ` for group ${human(at)}` : ''} canGroup={depth < MAX_GROUP_DEPTH} onAdd={(k) => onChange([...rows, newRow(k)])} />
    </>
  );
}

function AddCondition({ id, label, canGroup, onAdd }: { id: string; label: string; canGroup: boolean; onAdd: (k: RowKind) => void }) {
  const [kind, setKind] = useState<RowKind>('event');
  return (
    <div className="add-condition">
      <label htmlFor={`${id}-kind`} className="sr-only">
        Condition kind{label}
      </label>
      <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as RowKind)}>
        {BUILDER_KINDS.map((k) => (
          <option key={k.kind} value={k.kind}>
            {k.label}
          </option>
        ))}
      </select>
      <button type="button" className="btn" onClick={() => onAdd(kind)} aria-label={`Add condition${label}`}>
        Add condition
      </button>
      {canGroup ? (
        <button type="button" className="btn btn-ghost" onClick={() => onAdd('group')} aria-label={`Add group${label}`} title="A group of conditions with its own all / any">
          Add group
        </button>
      ) : null}
    </div>
  );
}

const NOT_LABEL: Partial<Record<RowKind, string>> = { segment: 'not in it', list: 'not in it', engagement: "didn't (NOT)", group: 'NOT this group' };

function RowEditor({ row, at, depth, onChange, onRemove, idPrefix }: { row: Row; at: string; depth: number; onChange: (r: Row) => void; onRemove: () => void; idPrefix: string }) {
  const { err } = useChoices();
  const p = `c${row.key}`;
  const mine = err && err.at === at ? err : null;
  const claimed = mine ? claimedField(row, mine.path) : undefined;
  const message = mine ? friendly(mine.path, mine.message) : '';
  const e = (f: string) => (mine && claimed === f ? message : null);
  const n = human(at);
  const label = kindLabel(row.kind);
  return (
    <div className={`cond ${row.kind === 'group' ? `cond-group cond-${row.match}` : ''} ${row.negate ? 'cond-not' : ''}`} role="group" aria-label={`Condition ${n}: ${label}`}>
      <div className="cond-head">
        {row.kind === 'group' ? (
          <span className="cond-kind field-inline">
            <label htmlFor={`${p}-match`}>Group {n}: people who match</label>
            <select id={`${p}-match`} value={row.match} onChange={(ev) => onChange({ ...row, match: ev.target.value as 'and' | 'or' })}>
              <option value="or">any of these</option>
              <option value="and">all of these</option>
            </select>
          </span>
        ) : (
          <span className="cond-kind">
            <span className="cond-n">{n}</span> {label}
          </span>
        )}
        <label className="check" title={NATIVE_NEGATE.has(row.kind) ? undefined : 'Wraps the condition in NOT'}>
          <input type="checkbox" checked={row.negate} onChange={(ev) => onChange({ ...row, negate: ev.target.checked })} /> {NOT_LABEL[row.kind] ?? 'exclude (NOT)'}
        </label>
        <button type="button" className="btn btn-small btn-ghost" onClick={onRemove} aria-label={`Remove condition ${n}`}>
          Remove
        </button>
      </div>
      {row.kind === 'group' ? (
        <div className="group-body">
          <GroupRows idPrefix={idPrefix} rows={row.rows} at={at} depth={depth + 1} onChange={(rows) => onChange({ ...row, rows })} />
        </div>
      ) : (
        <div className="cond-body">
          <LeafFields row={row} p={p} e={e} onChange={onChange} />
        </div>
      )}
      {mine && !claimed ? (
        <p className="field-error" role="alert">
          {message}
        </p>
      ) : null}
    </div>
  );
}
