// Customer search (GET /api/profiles?search= by identifier or name prefix; a profile id opens directly; an exact phone or
// email goes through /api/profiles/lookup, which normalises it) and the merge log with Undo.
import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, enc, get, messageOf, post } from '../api.ts';
import { ago, dateTime, show } from '../format.ts';
import { Link, navigate, useLoc } from '../router.tsx';
import { Badge, Card, Empty, ErrorBox, Loading, Page, WriteButton, useAsync, useConfirm, useToast } from '../ui.tsx';

interface Hit {
  profileId: string;
  /** The person's name, when the API knows it. */
  name?: string;
  matched: { kind: string; value: string }[];
}

const KIND_LABEL: Record<string, string> = { email: 'Email', phone: 'Phone', user_id: 'User id', anonymous_id: 'Anonymous id', push_token: 'Push token' };
export const kindLabel = (k: string) => KIND_LABEL[k] ?? k.replace(/_/g, ' ');

async function searchPeople(q: string): Promise<Hit[]> {
  if (/^prf_[A-Za-z0-9]+$/.test(q)) {
    try {
      const p = await get(`/profiles/${enc(q)}`);
      return [{ profileId: p.id, matched: [{ kind: 'profile id', value: q }] }];
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return [];
      throw e;
    }
  }
  const phone = /^\+?[\d\s().-]{6,}$/.test(q) ? q.replace(/[\s().-]/g, '') : null;
  const { profiles } = await get<{ profiles: Hit[] }>(`/profiles?search=${enc(phone ?? q)}&limit=20`);
  if (profiles.length) return profiles;
  // Exact identifiers in another spelling (a national phone number, an email in capitals): the lookup normalises.
  const kind = q.includes('@') ? 'email' : phone ? 'phone' : null;
  if (!kind) return [];
  try {
    const p = await get(`/profiles/lookup?${kind}=${enc(q)}`);
    return [{ profileId: p.id, matched: [{ kind, value: q }] }];
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 400)) return [];
    throw e;
  }
}

export function Customers() {
  const loc = useLoc();
  const q = loc.query.get('q') ?? '';
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const res = useAsync(() => (q ? searchPeople(q.trim()) : Promise.resolve(null)), [q]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = text.trim();
    navigate(t ? `/customers?q=${enc(t)}` : '/customers');
  };
  return (
    <Page title="Customers" subtitle="One profile per person, across every channel">
      <form className="search-bar" role="search" onSubmit={submit}>
        <label htmlFor="customer-search" className="sr-only">
          Search customers
        </label>
        <input
          id="customer-search"
          type="search"
          placeholder="Name, email, phone, user id or profile id (prf_…)"
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-describedby="customer-search-hint"
          autoComplete="off"
        />
        <button type="submit" className="btn btn-primary">
          Search
        </button>
      </form>
      <p className="hint" id="customer-search-hint">
        Matches the beginning of a name (first, last or full) or of an identifier (email, phone, user id, anonymous id, external ids).
      </p>
      <div className="results" aria-live="polite">
        {!q ? null : res.loading && !res.data ? (
          <Loading rows={4} height={160} />
        ) : res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : res.data && res.data.length ? (
          <ul className="list" aria-label={`${res.data.length} matching customers`}>
            {res.data.map((h) => (
              <li key={h.profileId} className="list-item">
                <Link href={`/customers/${enc(h.profileId)}`} className="list-link">
                  <span className="list-title">{[h.name, h.matched.find((m) => m.kind === 'email')?.value].filter(Boolean).join(' · ') || h.matched[0]?.value || h.profileId}</span>
                  <span className="list-meta">
                    {h.matched.map((m, i) => (
                      <span key={i} className="chip">
                        {kindLabel(m.kind)}: {m.value}
                      </span>
                    ))}
                    <code className="muted">{h.profileId}</code>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        ) : (
          <Empty title={`No customer matches “${q}”`}>Try the start of a name or an email address, a phone number in international format (+44…), or a user id.</Empty>
        )}
      </div>
      <Merges title="Recent merges" limit={10} />
    </Page>
  );
}

export interface Merge {
  id: string;
  survivorId: string;
  loserId: string;
  cause: any;
  movedProfileIds: string[];
  createdAt: number;
  undoneAt: number | null;
}

const causeText = (c: any) => {
  if (!c || typeof c !== 'object') return show(c);
  const bits = [c.kind?.replace(/_/g, ' '), c.identifier ? `${kindLabel(c.identifier.kind ?? '')} ${c.identifier.value ?? ''}` : null, c.note, c.event ? `event ${c.event}` : null];
  const t = bits.filter(Boolean).join(' · ');
  return t || JSON.stringify(c);
};

/** The merge log (all, or of some profiles) with an Undo button per merge not undone yet. */
export function Merges({ title, profileIds, limit = 50, onUndone }: { title: string; profileIds?: string[]; limit?: number; onUndone?: () => void }) {
  const confirm = useConfirm();
  const toast = useToast();
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<unknown>(null);
  const key = profileIds?.join(',') ?? '';
  const res = useAsync(async () => {
    if (!profileIds) return (await get<{ merges: Merge[] }>(`/profiles/merges?limit=${limit}`)).merges;
    const lists = await Promise.all(profileIds.map((p) => get<{ merges: Merge[] }>(`/profiles/merges?profileId=${enc(p)}&limit=${limit}`)));
    const byId = new Map<string, Merge>();
    for (const l of lists) for (const m of l.merges) byId.set(m.id, m);
    return [...byId.values()].sort((a, b) => b.createdAt - a.createdAt);
  }, [key, limit]);

  const undo = async (m: Merge) => {
    const ok = await confirm({
      title: 'Undo this merge?',
      body: (
        <p>
          Profiles <code>{m.survivorId}</code> and <code>{m.loserId}</code> go back to exactly how they were before the merge ({dateTime(m.createdAt)}). The two identifiers that linked them are kept apart from now on.
        </p>
      ),
      confirm: 'Undo merge',
    });
    if (!ok) return;
    setBusy(m.id);
    setErr(null);
    try {
      await post(`/profiles/merges/${enc(m.id)}/undo`);
      toast('Merge undone: both profiles are back as they were');
      res.reload();
      onUndone?.();
    } catch (e) {
      setErr(e);
      toast(messageOf(e), 'bad');
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card title={title} id={profileIds ? 'merges' : 'recent-merges'}>
      <ErrorBox error={err} />
      {res.loading && !res.data ? (
        <Loading rows={2} height={80} />
      ) : res.error ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : !res.data?.length ? (
        <Empty title="No merges">When two identifiers of one person meet (a login on a new device, a phone added to an account), their profiles are merged here.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Survivor ← merged</th>
                <th scope="col">Cause</th>
                <th scope="col">
                  <span className="sr-only">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {res.data.map((m) => (
                <tr key={m.id} data-merge={m.id}>
                  <td title={dateTime(m.createdAt)}>{ago(m.createdAt)}</td>
                  <td>
                    <Link href={`/customers/${enc(m.survivorId)}`}>{m.survivorId}</Link> ← <Link href={`/customers/${enc(m.loserId)}`}>{m.loserId}</Link>
                  </td>
                  <td>{causeText(m.cause)}</td>
                  <td className="cell-action">
                    {m.undoneAt ? (
                      <Badge>undone {ago(m.undoneAt)}</Badge>
                    ) : (
                      <WriteButton area="profiles" className="btn btn-small" disabled={busy === m.id} onClick={() => void undo(m)} aria-label={`Undo merge of ${m.loserId} into ${m.survivorId}`}>
                        {busy === m.id ? 'Undoing…' : 'Undo'}
                      </WriteButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
