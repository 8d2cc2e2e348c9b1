// One person: identifiers with consent, traits, computed properties, segments, journeys, one timeline across every
// channel (filters, paging), the arbiter's decision log, merges with Undo, and GDPR export / erase.
import { useEffect, useMemo, useState } from 'react';
import { ApiError, del, enc, get, put } from '../api.ts';
import { ago, dateTime, money, num, personName, show, summary } from '../format.ts';
import { Link, navigate } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Badge, Card, Empty, ErrorBox, KV, Loading, Page, StatusBadge, WriteButton, useAsync, useConfirm, useToast } from '../ui.tsx';
import { Merges, kindLabel } from './Customers.tsx';

interface ProfileView {
  id: string;
  mergedProfileIds: string[];
  identifiers: { kind: string; value: string; profileId: string; createdAt: number }[];
  traits: Record<string, unknown>;
  traitsUpdatedAt: Record<string, number>;
  channels: { channel: string; address: string | null; reachable: boolean; consent: Record<string, { state: string; source: string; updatedAt: number }> }[];
  timeZone: string | null;
  createdAt: number;
  firstSeen: number;
  lastSeen: number;
  computed: { orders: number; totalSpent: { amountMinor: number; currency: string }[]; lastOrderAt: number | null; channelsUsed: string[] };
}

export function Profile({ id }: { id: string }) {
  const res = useAsync(() => get<ProfileView>(`/profiles/${enc(id)}`), [id]);
  const p = res.data;
  // A merged id answers with its survivor: show the survivor's address.
  useEffect(() => {
    if (p && p.id !== id) navigate(`/customers/${enc(p.id)}`, { replace: true });
  }, [p, id]);
  if (res.error) {
    const missing = res.error instanceof ApiError && res.error.status === 404;
    return (
      <Page title={missing ? 'Customer not found' : 'Customer'}>
        {missing ? <Empty title={`No profile ${id}`}>It may have been erased. <Link href="/customers">Search customers</Link>.</Empty> : <ErrorBox error={res.error} onRetry={res.reload} />}
      </Page>
    );
  }
  if (!p) {
    return (
      <Page title="Customer" subtitle={<code>{id}</code>}>
        <Loading rows={8} height={520} />
      </Page>
    );
  }
  return <ProfileBody p={p} reload={res.reload} />;
}

function ProfileBody({ p, reload }: { p: ProfileView; reload: () => void }) {
  const confirm = useConfirm();
  const toast = useToast();
  const [gdprErr, setGdprErr] = useState<unknown>(null);
  const email = p.identifiers.find((i) => i.kind === 'email')?.value;

  const exportData = async () => {
    setGdprErr(null);
    try {
      const data = await get(`/profiles/${enc(p.id)}/export`);
      const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = `omnia-export-${p.id}.json`;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      toast('Export downloaded (the export is recorded in the GDPR log)');
    } catch (e) {
      setGdprErr(e);
    }
  };
  const erase = async () => {
    const ok = await confirm({
      title: 'Erase this person?',
      body: (
        <>
          <p>
            This deletes <strong>{personName(p)}</strong> for good: identifiers, traits, consent and list memberships are removed and their events are anonymised. It cannot be undone.
          </p>
          <p>Export their data first if they asked for a copy.</p>
        </>
      ),
      confirm: 'Erase permanently',
      danger: true,
      typeToConfirm: 'ERASE',
    });
    if (!ok) return;
    try {
      const r = await del<{ events: number; profiles: number }>(`/profiles/${enc(p.id)}`);
      toast(`Erased: ${r.profiles} profile(s), ${r.events} event(s) anonymised`);
      navigate('/customers', { replace: true });
    } catch (e) {
      setGdprErr(e);
    }
  };

  return (
    <Page
      title={personName(p)}
      subtitle={
        <>
          <code>{p.id}</code>
          {p.mergedProfileIds.length ? <Badge tone="info">{p.mergedProfileIds.length + 1} profiles merged</Badge> : null}
          <span>
            first seen {dateTime(p.firstSeen)} · last seen {ago(p.lastSeen)}
          </span>
          {p.timeZone ? <span>{p.timeZone}</span> : null}
        </>
      }
      actions={
        <>
          <button type="button" className="btn" onClick={() => void exportData()}>
            Export data
          </button>
          <WriteButton area="profiles" className="btn btn-danger-outline" onClick={() => void erase()}>
            Erase…
          </WriteButton>
        </>
      }
    >
      <ErrorBox error={gdprErr} />
      <div className="grid grid-2">
        <Identity p={p} onChange={reload} email={email} />
        <Computed p={p} />
        <Traits p={p} />
        <SegmentsOf id={p.id} />
      </div>
      <JourneysOf id={p.id} />
      <Timeline p={p} />
      <Decisions id={p.id} />
      <Merges title="Merges" profileIds={[p.id, ...p.mergedProfileIds]} onUndone={reload} />
    </Page>
  );
}

function Identity({ p, onChange }: { p: ProfileView; onChange: () => void; email?: string }) {
  const can = useCan('profiles');
  const toast = useToast();
  const [err, setErr] = useState<unknown>(null);
  const setConsent = async (channel: string, state: string) => {
    setErr(null);
    try {
      await put(`/profiles/${enc(p.id)}/consent`, { channel, state, source: 'dashboard' });
      toast(`${channel} consent: ${state.replace('_', ' ')}`);
      onChange();
    } catch (e) {
      setErr(e);
    }
  };
  return (
    <Card title="Identifiers and consent" id="identity">
      <ErrorBox error={err} />
      <div className="table-wrap">
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">Identifier</th>
              <th scope="col">Value</th>
              <th scope="col">Since</th>
            </tr>
          </thead>
          <tbody>
            {p.identifiers.map((i) => (
              <tr key={`${i.kind}:${i.value}`}>
                <td>{kindLabel(i.kind)}</td>
                <td className="break">{i.value}</td>
                <td title={dateTime(i.createdAt)}>{ago(i.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h3>Channels</h3>
      {!p.channels.length ? (
        <Empty title="No channel address">No email, phone or push subscription is known for this person.</Empty>
      ) : (
        <ul className="channels">
          {p.channels.map((c) => {
            const all = c.consent.all ?? { state: 'never_asked', source: 'none', updatedAt: 0 };
            const topics = Object.entries(c.consent).filter(([t]) => t !== 'all');
            return (
              <li key={c.channel} className="channel">
                <div className="channel-head">
                  <strong>{c.channel}</strong>
                  <span className="break muted">{c.address ?? 'no address'}</span>
                  {c.reachable ? <Badge tone="good">reachable</Badge> : <Badge tone="warn">no address</Badge>}
                </div>
                <div className="channel-consent">
                  <label htmlFor={`consent-${c.channel}`}>Consent (all topics)</label>
                  <select id={`consent-${c.channel}`} value={all.state} disabled={!can} onChange={(e) => void setConsent(c.channel, e.target.value)}>
                    <option value="subscribed">subscribed</option>
                    <option value="unsubscribed">unsubscribed</option>
                    <option value="never_asked">never asked</option>
                  </select>
                  <span className="muted small">{all.updatedAt ? `${all.source}, ${ago(all.updatedAt)}` : 'not recorded'}</span>
                </div>
                {topics.length ? (
                  <ul className="topics">
                    {topics.map(([t, v]) => (
                      <li key={t}>
                        {t}: <StatusBadge status={v.state} /> <span className="muted small">{v.source}, {ago(v.updatedAt)}</span>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </Card>
  );
}

function Computed({ p }: { p: ProfileView }) {
  const res = useAsync(() => get<Record<string, any>>(`/profiles/${enc(p.id)}/computed`), [p.id]);
  const c = res.data;
  const spent = p.computed.totalSpent.length ? p.computed.totalSpent.map((t) => money(t.amountMinor, t.currency)).join(' + ') : '—';
  return (
    <Card title="Computed properties" id="computed">
      {res.error ? (
        <ErrorBox error={res.error} />
      ) : !c ? (
        <Loading rows={6} height={200} />
      ) : (
        <>
          <KV
            rows={[
              ['Orders', num(c.orders)],
              ['Total spent', spent],
              ['Average order', c.average_order_value === null ? '—' : p.computed.totalSpent.length === 1 ? money(c.average_order_value, p.computed.totalSpent[0]!.currency) : num(c.average_order_value)],
              ['Last order', c.last_order_at ? `${dateTime(c.last_order_at)} (${c.days_since_last_order} days ago)` : '—'],
              ['Expected next order', dateTime(c.expected_next_order_at)],
              ['Favourite category', show(c.favourite_category)],
              ['Channels used', `${c.channels_used}${p.computed.channelsUsed.length ? ` (${p.computed.channelsUsed.join(', ')})` : ''}${c.omnichannel ? ' · omnichannel' : ''}`],
              ['RFM stage', c.rfm_stage ? `${c.rfm_stage} (R${c.rfm_recency} F${c.rfm_frequency} M${c.rfm_monetary})` : '—'],
              ...Object.entries(c.custom ?? {}).map(([k, v]) => [`custom.${k}`, show(v)] as [string, string]),
            ]}
          />
        </>
      )}
    </Card>
  );
}

function Traits({ p }: { p: ProfileView }) {
  const keys = Object.keys(p.traits).sort();
  return (
    <Card title="Traits" id="traits">
      {!keys.length ? (
        <Empty title="No traits">Traits come from identify calls and imports (first_name, plan, birthday…).</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table table-compact">
            <thead>
              <tr>
                <th scope="col">Trait</th>
                <th scope="col">Value</th>
                <th scope="col">Set</th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k}>
                  <td>
                    <code>{k}</code>
                  </td>
                  <td className="break">{show(p.traits[k])}</td>
                  <td title={dateTime(p.traitsUpdatedAt[k])}>{ago(p.traitsUpdatedAt[k])}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function SegmentsOf({ id }: { id: string }) {
  const res = useAsync(() => get<{ segments: { segmentId: string; name: string; enteredAt: number }[]; history: { change: string; at: number; segmentId?: string; name?: string; cause?: string }[] }>(`/profiles/${enc(id)}/segments`), [id]);
  return (
    <Card title="Segments" id="segments">
      {res.error ? (
        <ErrorBox error={res.error} />
      ) : !res.data ? (
        <Loading rows={3} height={120} />
      ) : (
        <>
          {res.data.segments.length ? (
            <ul className="chips">
              {res.data.segments.map((s) => (
                <li key={s.segmentId}>
                  <Link className="chip chip-link" href={`/segments/${enc(s.segmentId)}`} title={`since ${dateTime(s.enteredAt)}`}>
                    {s.name}
                  </Link>
                </li>
              ))}
            </ul>
          ) : (
            <Empty title="In no segment right now" />
          )}
          {res.data.history.length ? (
            <details className="details">
              <summary>Membership history ({res.data.history.length})</summary>
              <ul className="plain small">
                {res.data.history.slice(0, 50).map((h, i) => (
                  <li key={i}>
                    {dateTime(h.at)}: {h.change} <strong>{h.name ?? h.segmentId}</strong>
                    {h.cause ? <span className="muted"> ({h.cause})</span> : null}
                  </li>
                ))}
              </ul>
            </details>
          ) : null}
        </>
      )}
    </Card>
  );
}

function JourneysOf({ id }: { id: string }) {
  const res = useAsync(() => get<{ journeys: any[] }>(`/profiles/${enc(id)}/journeys`), [id]);
  return (
    <Card title="Journeys" id="journeys">
      {res.error ? (
        <ErrorBox error={res.error} />
      ) : !res.data ? (
        <Loading rows={2} height={80} />
      ) : !res.data.journeys.length ? (
        <Empty title="Not in any journey">Runs appear here when the person enters a journey.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Journey</th>
                <th scope="col">Status</th>
                <th scope="col">Where</th>
                <th scope="col">Entered</th>
              </tr>
            </thead>
            <tbody>
              {res.data.journeys.map((r) => (
                <tr key={r.entryId}>
                  <td>
                    <Link href={`/journeys/${enc(r.journeyId)}`}>{r.journeyName ?? r.journeyId}</Link> <span className="muted small">v{r.version}</span>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                    {r.holdout ? <Badge>holdout</Badge> : null}
                  </td>
                  <td>
                    {r.status === 'waiting' || r.status === 'active' ? (
                      <>
                        at <code>{r.node}</code>
                        {r.waitingUntil ? ` until ${dateTime(r.waitingUntil)}` : ''}
                        {r.waitingFor ? ` or ${show(r.waitingFor.event ?? r.waitingFor.segment)}` : ''}
                      </>
                    ) : (
                      <>
                        left: {r.exitReason ?? r.status}
                        {r.convertedAt ? ` · converted ${dateTime(r.convertedAt)}` : ''}
                      </>
                    )}
                  </td>
                  <td>{dateTime(r.enteredAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

interface Ev {
  seq: number;
  messageId: string;
  type: string;
  event: string | null;
  channel: string;
  internal: boolean;
  timestamp: number;
  properties: any;
  traits: any;
  context: any;
}

function Timeline({ p }: { p: ProfileView }) {
  const [channel, setChannel] = useState('');
  const [internal, setInternal] = useState(true);
  const [text, setText] = useState('');
  const [more, setMore] = useState<{ events: Ev[]; cursor: string | null }>({ events: [], cursor: null });
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreErr, setMoreErr] = useState<unknown>(null);
  const qs = (cursor?: string | null) => `limit=50&internal=${internal}${channel ? `&channel=${enc(channel)}` : ''}${cursor ? `&cursor=${enc(cursor)}` : ''}`;
  const res = useAsync(async () => {
    const r = await get<{ events: Ev[]; nextCursor: string | null }>(`/profiles/${enc(p.id)}/events?${qs()}`);
    setMore({ events: [], cursor: r.nextCursor });
    return r.events;
  }, [p.id, channel, internal, p.lastSeen]);
  const all = useMemo(() => [...(res.data ?? []), ...more.events], [res.data, more.events]);
  const channels = useMemo(() => [...new Set([...p.computed.channelsUsed, 'omnia', ...all.map((e) => e.channel)])].sort(), [p.computed.channelsUsed, all]);
  const t = text.trim().toLowerCase();
  const shown = t ? all.filter((e) => `${e.event ?? ''} ${e.type} ${JSON.stringify(e.properties)}`.toLowerCase().includes(t)) : all;
  const loadMore = async () => {
    setLoadingMore(true);
    setMoreErr(null);
    try {
      const r = await get<{ events: Ev[]; nextCursor: string | null }>(`/profiles/${enc(p.id)}/events?${qs(more.cursor)}`);
      setMore((m) => ({ events: [...m.events, ...r.events], cursor: r.nextCursor }));
    } catch (e) {
      setMoreErr(e);
    } finally {
      setLoadingMore(false);
    }
  };
  return (
    <Card title="Timeline" id="timeline" className="card-timeline">
      <div className="filters" role="group" aria-label="Timeline filters">
        <div className="field field-inline">
          <label htmlFor="tl-channel">Channel</label>
          <select id="tl-channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
            <option value="">All channels</option>
            {channels.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-inline">
          <label htmlFor="tl-text">Filter</label>
          <input id="tl-text" type="search" placeholder="Event name or property" value={text} onChange={(e) => setText(e.target.value)} />
        </div>
        <label className="check">
          <input type="checkbox" checked={internal} onChange={(e) => setInternal(e.target.checked)} /> Omnia events (segments, messages, journeys)
        </label>
      </div>
      {res.error ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : !res.data ? (
        <Loading rows={6} height={260} />
      ) : !shown.length ? (
        <Empty title={all.length ? 'No event matches the filter' : 'No events'}>{all.length ? null : 'Events arrive from tracking calls, imports and Omnia itself.'}</Empty>
      ) : (
        <ol className="timeline" aria-label="Events, newest first">
          {shown.map((e) => (
            <li key={`${e.seq}`} className={e.internal ? 'tl-item tl-internal' : 'tl-item'}>
              <span className={`tl-dot ch-${e.channel}`} aria-hidden="true" />
              <div className="tl-main">
                <div className="tl-head">
                  <strong className="tl-name">{e.event ?? e.type}</strong>
                  <span className={`chip ch-${e.channel}`}>{e.channel}</span>
                  {e.type !== 'track' ? <span className="muted small">{e.type}</span> : null}
                  <time className="muted small" dateTime={new Date(e.timestamp).toISOString()}>
                    {dateTime(e.timestamp)}
                  </time>
                </div>
                {summary(e.properties) ? <div className="tl-props">{summary(e.properties)}</div> : null}
                <details className="details">
                  <summary>Details</summary>
                  <pre className="json">{JSON.stringify({ properties: e.properties, traits: e.traits, context: e.context, messageId: e.messageId, profileId: p.id }, null, 2)}</pre>
                </details>
              </div>
            </li>
          ))}
        </ol>
      )}
      <ErrorBox error={moreErr} />
      {more.cursor && res.data ? (
        <button type="button" className="btn" onClick={() => void loadMore()} disabled={loadingMore}>
          {loadingMore ? 'Loading…' : 'Load older events'}
        </button>
      ) : null}
    </Card>
  );
}

function Decisions({ id }: { id: string }) {
  const res = useAsync(() => get<{ decisions: { id: string; messageId: string; at: number; action: string; channel: string | null; code: string | null; until: number | null; reason: string }[] }>(`/profiles/${enc(id)}/decisions?limit=100`), [id]);
  const TONE: Record<string, 'good' | 'warn' | 'bad' | 'info' | 'neutral'> = { send: 'good', defer: 'warn', skip: 'neutral', reroute: 'info', retry: 'warn', fallback: 'info', failed: 'bad' };
  return (
    <Card title="Decision log" id="decisions">
      <p className="hint">Every send, deferral, reroute and skip the arbiter decided for this person, with its reason (consent, caps, quiet hours, best channel).</p>
      {res.error ? (
        <ErrorBox error={res.error} />
      ) : !res.data ? (
        <Loading rows={3} height={100} />
      ) : !res.data.decisions.length ? (
        <Empty title="No decisions yet">Nothing was sent to this person.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Decision</th>
                <th scope="col">Channel</th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {res.data.decisions.map((d) => (
                <tr key={d.id}>
                  <td>{dateTime(d.at)}</td>
                  <td>
                    <Badge tone={TONE[d.action] ?? 'neutral'}>{d.action}</Badge>
                    {d.code ? <code className="small"> {d.code}</code> : null}
                  </td>
                  <td>{d.channel ?? '—'}</td>
                  <td className="break">
                    {d.reason}
                    {d.until ? <span className="muted"> (until {dateTime(d.until)})</span> : null}
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

