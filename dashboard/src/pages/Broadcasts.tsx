// Broadcasts: the list, and one broadcast's progress and results (recipients per group and variant, messages by
// status, the A/B test's figures and the winner with its reason), with send and cancel.
import { useState } from 'react';
import { enc, get, post } from '../api.ts';
import { ago, dateTime, num } from '../format.ts';
import { Link } from '../router.tsx';
import { Card, Empty, ErrorBox, KV, Loading, Page, StatusBadge, WriteButton, useAsync, useConfirm, useToast } from '../ui.tsx';

interface Broadcast {
  id: string;
  name: string;
  status: string;
  definition: any;
  sendAt: number | null;
  recipients: number;
  testStartedAt: number | null;
  winner: string | null;
  winnerAt: number | null;
  results: any;
  createdAt: number;
  updatedAt: number;
  groups?: { group: string; variant: string | null; recipients: number }[];
  messages?: Record<string, number>;
  variants?: any[];
}

/** Names of segments and templates by id (answers show ids). */
function useNames() {
  return useAsync(async () => {
    const [s, t] = await Promise.all([get<{ segments: { id: string; name: string }[] }>('/segments'), get<{ templates: { id: string; name: string }[] }>('/templates')]);
    return Object.fromEntries([...s.segments, ...t.templates].map((x) => [x.id, x.name])) as Record<string, string>;
  }, []).data ?? {};
}

export function Broadcasts() {
  const res = useAsync(() => get<{ broadcasts: Broadcast[] }>('/broadcasts'), []);
  const names = useNames();
  return (
    <Page title="Broadcasts" subtitle="One send to a whole segment, now or at a set time, optionally as an A/B test">
      <Card>
        {res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : !res.data ? (
          <Loading rows={4} height={180} />
        ) : !res.data.broadcasts.length ? (
          <Empty title="No broadcasts yet">Create one with POST /api/broadcasts (see docs/journeys.md); its progress and A/B results show here.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Status</th>
                  <th scope="col">Audience</th>
                  <th scope="col">Channel</th>
                  <th scope="col" className="num">
                    Recipients
                  </th>
                  <th scope="col">Send</th>
                </tr>
              </thead>
              <tbody>
                {res.data.broadcasts.map((b) => (
                  <tr key={b.id}>
                    <td>
                      <Link href={`/broadcasts/${enc(b.id)}`}>{b.name}</Link>
                    </td>
                    <td>
                      <StatusBadge status={b.status} />
                    </td>
                    <td>{names[b.definition?.segmentId] ?? b.definition?.segmentId}</td>
                    <td>{b.definition?.channel}</td>
                    <td className="num">{num(b.recipients)}</td>
                    <td>{b.sendAt ? dateTime(b.sendAt) : b.status === 'draft' ? 'not scheduled' : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </Page>
  );
}

export function BroadcastDetail({ id }: { id: string }) {
  const res = useAsync(() => get<Broadcast>(`/broadcasts/${enc(id)}`), [id]);
  const names = useNames();
  const confirm = useConfirm();
  const toast = useToast();
  const [err, setErr] = useState<unknown>(null);
  const b = res.data;
  const act = async (action: 'send' | 'cancel') => {
    if (action === 'cancel' && !(await confirm({ title: 'Cancel this broadcast?', body: <p>Nobody more is taken from the audience and its pending messages are cancelled. Messages already sent stay sent.</p>, confirm: 'Cancel broadcast', danger: true }))) return;
    if (action === 'send' && !(await confirm({ title: 'Send this broadcast?', body: <p>It goes to the members of its segment {b?.definition?.schedule ? 'at its schedule' : 'now'}, through the arbiter (consent, caps, quiet hours).</p>, confirm: 'Send' }))) return;
    setErr(null);
    try {
      await post(`/broadcasts/${enc(id)}/${action}`);
      toast(action === 'send' ? 'Broadcast scheduled' : 'Broadcast cancelled');
      res.reload();
    } catch (e) {
      setErr(e);
    }
  };
  if (res.error) {
    return (
      <Page title="Broadcast">
        <ErrorBox error={res.error} onRetry={res.reload} />
      </Page>
    );
  }
  if (!b) {
    return (
      <Page title="Broadcast" subtitle={'\u00a0'}>
        <Loading rows={6} height={360} />
      </Page>
    );
  }
  const d = b.definition ?? {};
  const results = b.results;
  return (
    <Page
      title={b.name}
      subtitle={
        <>
          <StatusBadge status={b.status} /> created {ago(b.createdAt)}
        </>
      }
      actions={
        <>
          {b.status === 'draft' ? (
            <WriteButton area="broadcasts" className="btn btn-primary" onClick={() => void act('send')}>
              Send…
            </WriteButton>
          ) : null}
          {['draft', 'scheduled', 'sending', 'testing', 'winner'].includes(b.status) ? (
            <WriteButton area="broadcasts" className="btn btn-danger-outline" onClick={() => void act('cancel')}>
              Cancel broadcast
            </WriteButton>
          ) : null}
        </>
      }
    >
      <ErrorBox error={err} />
      <div className="grid grid-2">
        <Card title="Set-up" id="setup">
          <KV
            rows={[
              ['Audience', <><Link key="s" href={`/segments/${enc(d.segmentId)}`}>{names[d.segmentId] ?? d.segmentId}</Link> ({d.audience ?? 'snapshot'})</>],
              ['Channel', d.channel],
              ['Topic', d.topic],
              ['Variants', (d.variants ?? []).map((v: any) => `${v.id} (${Object.entries(v.templates ?? {}).map(([c, t]) => `${c}: ${names[t as string] ?? t}`).join(', ')})`).join(' · ')],
              ['Schedule', d.schedule?.at ? dateTime(d.schedule.at) : d.schedule?.localTime ? `${d.schedule.date} at ${d.schedule.localTime} local` : 'now'],
              ['Throttle', d.throttlePerMinute ? `${d.throttlePerMinute} / minute` : 'none'],
              ['A/B test', d.abTest ? `${Math.round(d.abTest.testShare * 100)} % test group, best ${d.abTest.metric} after ${d.abTest.afterMinutes} min` : 'no'],
            ]}
          />
        </Card>
        <Card title="Progress" id="progress">
          <KV
            rows={[
              ['Recipients', num(b.recipients)],
              ['Send at', dateTime(b.sendAt)],
              ['Test started', dateTime(b.testStartedAt)],
              ['Winner', b.winner ? `${b.winner} (${dateTime(b.winnerAt)})` : '—'],
            ]}
          />
          <h3>Messages</h3>
          {b.messages && Object.keys(b.messages).length ? (
            <ul className="chips">
              {Object.entries(b.messages).map(([s, n]) => (
                <li key={s} className="chip">
                  {s}: <strong>{num(n)}</strong>
                </li>
              ))}
            </ul>
          ) : (
            <Empty title="No messages yet" />
          )}
          {b.groups?.length ? (
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Variant</th>
                  <th scope="col" className="num">
                    Recipients
                  </th>
                </tr>
              </thead>
              <tbody>
                {b.groups.map((g, i) => (
                  <tr key={i}>
                    <td>{g.group}</td>
                    <td>{g.variant ?? '—'}</td>
                    <td className="num">{num(g.recipients)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </Card>
      </div>
      <Card title="Results" id="results">
        {results ? <p className="lead">{results.reason}</p> : null}
        {(results?.variants ?? b.variants)?.length ? (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Variant</th>
                  <th scope="col" className="num">Recipients</th>
                  <th scope="col" className="num">Sent</th>
                  <th scope="col" className="num">Opens</th>
                  <th scope="col" className="num">Clicks</th>
                  <th scope="col" className="num">Orders</th>
                  <th scope="col" className="num">Revenue (minor)</th>
                </tr>
              </thead>
              <tbody>
                {(results?.variants ?? b.variants).map((v: any) => (
                  <tr key={v.variant} className={results?.winner === v.variant ? 'row-winner' : undefined}>
                    <td>
                      {v.variant}
                      {results?.winner === v.variant ? ' (winner)' : ''}
                    </td>
                    <td className="num">{num(v.recipients)}</td>
                    <td className="num">{num(v.sent)}</td>
                    <td className="num">{num(v.opens)}</td>
                    <td className="num">{num(v.clicks)}</td>
                    <td className="num">{num(v.orders)}</td>
                    <td className="num">{num(v.revenueMinor)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty title="No results yet">Per-variant figures appear once the broadcast is testing or sent.</Empty>
        )}
        {results?.significance ? (
          <p className="muted small">
            Against {results.significance.runnerUp}: z = {Number(results.significance.z).toFixed(2)}, p = {Number(results.significance.pValue).toFixed(3)} (for information: the best rate wins regardless).
          </p>
        ) : null}
      </Card>
    </Page>
  );
}
