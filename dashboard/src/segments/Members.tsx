// A segment's members, 20 a page (cursor paging, as GET /api/segments/:id/members gives it), each with why they
// match: the engine's explanation (the condition tree with each node's value now), a one-line summary of it, and
// the CSV export of everyone.
import { useState } from 'react';
import { enc, get } from '../api.ts';
import { dateTime, num } from '../format.ts';
import { Link } from '../router.tsx';
import { Card, Empty, ErrorBox, Loading, useAsync } from '../ui.tsx';
import type { Named } from './context.tsx';

export interface Why {
  kind: string;
  value: boolean;
  label?: string;
  children?: Why[];
}
interface MembersPage {
  members: { profileId: string; enteredAt: number; name?: string; email?: string; phone?: string; userId?: string; why?: Why | null }[];
  nextCursor: string | null;
}
const PAGE = 20;

/** The engine labels other segments and lists by id; people read names. */
function named(label: string, names: Map<string, string>) {
  return label.replace(/\b(in (?:segment|list)) (\S+)$/, (all, what: string, id: string) => (names.has(id) ? `${what} “${names.get(id)}”` : all));
}

/** How many of the top-level conditions hold: the summary line next to a member. */
function summary(w: Why): string {
  if (!w.children || w.kind === 'not') return w.value ? 'the condition holds' : 'the condition does not hold';
  const held = w.children.filter((c) => c.value).length;
  return `${held} of ${w.children.length} condition${w.children.length === 1 ? '' : 's'} hold${w.kind === 'or' ? ' (any is enough)' : ''}`;
}

/** The engine's explanation of one member: the condition tree, each node marked as holding or not. */
export function WhyTree({ why, names }: { why: Why; names: Map<string, string> }) {
  const mark = (w: Why) => (
    <span className={w.value ? 'why-yes' : 'why-no'} aria-label={w.value ? 'holds' : 'does not hold'}>
      {w.value ? '✓' : '✗'}
    </span>
  );
  const node = (w: Why, key: number) =>
    w.children ? (
      <li key={key}>
        {mark(w)} {w.kind === 'and' ? 'all of' : w.kind === 'or' ? 'any of' : 'not'}
        <ul className="why-tree">{w.children.map(node)}</ul>
      </li>
    ) : (
      <li key={key} className={w.value ? undefined : 'why-off'}>
        {mark(w)} {named(w.label ?? w.kind, names)}
      </li>
    );
  return <ul className="why-tree why-root">{node(why, 0)}</ul>;
}

export function Members({ id, version, total, named: others }: { id: string; version: number; total?: number; named: Named[] }) {
  const [cursor, setCursor] = useState<string | null>(null);
  // The cursors of the pages before this one ('' = the first), for Previous.
  const [pages, setPages] = useState<string[]>([]);
  const res = useAsync(() => get<MembersPage>(`/segments/${enc(id)}/members?limit=${PAGE}&why=true${cursor ? `&cursor=${enc(cursor)}` : ''}`), [id, version, cursor]);
  const names = new Map(others.map((s) => [s.id, s.name]));
  const first = pages.length * PAGE + 1;
  return (
    <Card
      title="Members"
      id="members"
      actions={
        <a className="btn btn-small" href={`/api/segments/${enc(id)}/export.csv`} download>
          Export CSV
        </a>
      }
    >
      {res.error ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : !res.data ? (
        <Loading rows={3} height={100} />
      ) : !res.data.members.length ? (
        <Empty title="Nobody matches yet">People join the moment they match: no nightly run.</Empty>
      ) : (
        <>
          <p className="muted small members-range" aria-live="polite">
            {num(first)}–{num(first + res.data.members.length - 1)}
            {total !== undefined ? ` of ${num(total)}` : ''}
          </p>
          <ul className="plain member-list">
            {res.data.members.map((m) => (
              <li key={m.profileId} className="member">
                <div className="member-head">
                  <Link href={`/customers/${enc(m.profileId)}`}>{m.name ?? m.email ?? m.phone ?? m.userId ?? m.profileId}</Link>
                  {m.name && (m.email ?? m.phone) ? <span className="muted small">{m.email ?? m.phone}</span> : null}
                  <span className="muted small">since {dateTime(m.enteredAt)}</span>
                  {m.why ? <span className="small why-summary">{summary(m.why)}</span> : null}
                </div>
                {m.why ? (
                  <details className="details why">
                    <summary>Why they match</summary>
                    <WhyTree why={m.why} names={names} />
                  </details>
                ) : null}
              </li>
            ))}
          </ul>
          <div className="form-actions">
            {pages.length ? (
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => {
                  const p = [...pages];
                  const prev = p.pop()!;
                  setPages(p);
                  setCursor(prev === '' ? null : prev);
                }}
              >
                Previous {PAGE}
              </button>
            ) : null}
            {res.data.nextCursor ? (
              <button
                type="button"
                className="btn btn-ghost"
                onClick={() => {
                  setPages([...pages, cursor ?? '']);
                  setCursor(res.data!.nextCursor);
                }}
              >
                Next {PAGE}
              </button>
            ) : null}
          </div>
        </>
      )}
    </Card>
  );
}
