// Broadcasts: the list (with "New broadcast" and an Edit link per draft), and one broadcast: its set-up, live progress
// (polled every 2 s while it moves: planned, queued, sent, delivered, opened, clicked, per variant), its results per
// variant with the winner and why, and send (with the reach) / cancel.
import { useEffect, useState } from 'react';
import { enc, get, post } from '../api.ts';
import { ACTIVE, type BroadcastView, Progress, Results } from '../broadcasts/progress.tsx';
import { type SegmentInfo, confirmAndSend, duration, whenText } from '../broadcasts/send.tsx';
import { ago, dateTime, num } from '../format.ts';
import { Link } from '../router.tsx';
import { useCan } from '../session.tsx';
import { Card, Empty, ErrorBox, KV, Loading, Page, StatusBadge, WriteButton, useAsync, useConfirm, useToast } from '../ui.tsx';
import '../broadcasts/broadcasts.css';

/** Names of segments and templates by id (answers show ids). */
function useNames() {
  return (
    useAsync(async () => {
      const [s, t] = await Promise.all([get<{ segments: { id: string; name: string }[] }>('/segments'), get<{ templates: { id: string; name: string }[] }>('/templates')]);
      return Object.fromEntries([...s.segments, ...t.templates].map((x) => [x.id, x.name])) as Record<string, string>;
    }, []).data ?? {}
  );
}

export function Broadcasts() {
  const res = useAsync(() => get<{ broadcasts: BroadcastView[] }>('/broadcasts'), []);
  const names = useNames();
  const can = useCan('broadcasts');
  return (
    <Page
      title="Broadcasts"
      subtitle="One send to a whole segment, now or at a set time, optionally as an A/B test"
      actions={
        // Composing is a write: people who cannot write get no way into the composer (the API refuses them anyway).
        can ? (
          <Link className="btn btn-primary" href="/broadcasts/new">
            New broadcast
          </Link>
        ) : null
      }
    >
      <Card>
        {res.error ? (
          <ErrorBox error={res.error} onRetry={res.reload} />
        ) : !res.data ? (
          <Loading rows={4} height={180} />
        ) : !res.data.broadcasts.length ? (
          <Empty title="No broadcasts yet">{can ? <>Compose one with “New broadcast”: a segment, a template per variant, and when it goes.</> : 'Broadcasts and their results show here.'}</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table bc-table">
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
                  {can ? (
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  ) : null}
                </tr>
              </thead>
              <tbody>
                {res.data.broadcasts.map((b) => (
                  <tr key={b.id}>
                    <td>
                      <Link href={`/broadcasts/${enc(b.id)}`} id={`bc-name-${b.id}`}>
                        {b.name}
                      </Link>
                    </td>
                    <td>
                      <StatusBadge status={b.status} />
                    </td>
                    <td>{names[b.definition?.segmentId] ?? b.definition?.segmentId}</td>
                    <td>{b.definition?.channel}</td>
                    <td className="num">{num(b.recipients)}</td>
                    <td>{b.sendAt ? dateTime(b.sendAt) : b.status === 'draft' ? 'not scheduled' : '—'}</td>
                    {can ? (
                      <td className="cell-action">
                        {b.status === 'draft' ? (
                          // Named "Edit", described by the row's name: a link to a broadcast by its name stays the only one with it.
                          <Link href={`/broadcasts/${enc(b.id)}/edit`} aria-describedby={`bc-name-${b.id}`}>
                            Edit
                          </Link>
                        ) : null}
                      </td>
                    ) : null}
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

const POLL_MS = 2000;

export function BroadcastDetail({ id }: { id: string }) {
  const res = useAsync(() => get<BroadcastView>(`/broadcasts/${enc(id)}`), [id]);
  const names = useNames();
  const confirm = useConfirm();
  const toast = useToast();
  const can = useCan('broadcasts');
  const [err, setErr] = useState<unknown>(null);
  const b = res.data;
  const d = b?.definition ?? {};
  const seg = useAsync(() => (d.segmentId ? get<SegmentInfo>(`/segments/${enc(d.segmentId)}`) : Promise.resolve(null)), [d.segmentId]);
  // Live while it moves: a scheduled, sending or testing broadcast, or messages still waiting to go.
  const waiting = (b?.messages?.queued ?? 0) + (b?.messages?.retry ?? 0) + (b?.messages?.sending ?? 0);
  const live = !!b && (ACTIVE.includes(b.status) || waiting > 0);
  // What a cancel can still stop once every message is planned (the API cancels queued, deferred and retrying ones).
  const stoppable = (b?.messages?.queued ?? 0) + (b?.messages?.deferred ?? 0) + (b?.messages?.retry ?? 0);
  const { reload } = res;
  useEffect(() => {
    if (!live) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') reload();
    }, POLL_MS);
    return () => clearInterval(t);
  }, [live, reload]);

  const act = async (action: 'send' | 'cancel') => {
    setErr(null);
    try {
      if (action === 'send') {
        if (!(await confirmAndSend(confirm, id, d))) return;
        toast(d.schedule?.at ? 'Broadcast scheduled' : 'Broadcast sending');
      } else {
        const ok = await confirm({ title: 'Cancel this broadcast?', body: <p>Nobody more is taken from the audience and its pending messages are cancelled. Messages already sent stay sent.</p>, confirm: 'Cancel broadcast', danger: true });
        if (!ok) return;
        await post(`/broadcasts/${enc(id)}/cancel`);
        toast('Broadcast cancelled');
      }
      reload();
    } catch (e) {
      setErr(e);
    }
  };
  if (res.error && !b) {
    return (
      <Page title="Broadcast">
        <ErrorBox error={res.error} onRetry={reload} />
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
  return (
    <Page
      title={b.name}
      subtitle={
        <>
          <StatusBadge status={b.status} /> created {ago(b.createdAt)}
          <span className="bc-live" aria-hidden={!live}>
            {live ? '● live' : ''}
          </span>
        </>
      }
      actions={
        <>
          {b.status === 'draft' && can ? (
            <Link className="btn" href={`/broadcasts/${enc(b.id)}/edit`}>
              Edit
            </Link>
          ) : null}
          {b.status === 'draft' ? (
            <WriteButton area="broadcasts" className="btn btn-primary" onClick={() => void act('send')}>
              Send…
            </WriteButton>
          ) : null}
          {['draft', 'scheduled', 'sending', 'testing', 'winner'].includes(b.status) || (b.status === 'sent' && stoppable > 0) ? (
            <WriteButton area="broadcasts" className="btn btn-danger-outline" onClick={() => void act('cancel')}>
              {b.status === 'sent' ? `Cancel the ${num(stoppable)} waiting` : 'Cancel broadcast'}
            </WriteButton>
          ) : null}
        </>
      }
    >
      <ErrorBox error={err} />
      {/* A failed poll keeps the last figures on screen and says so. */}
      {res.error ? <ErrorBox error={res.error} onRetry={reload} /> : null}
      <div className="grid grid-2">
        <Card title="Set-up" id="setup">
          <KV
            rows={[
              ['Audience', <><Link key="s" href={`/segments/${enc(d.segmentId)}`}>{names[d.segmentId] ?? d.segmentId}</Link> ({d.audience ?? 'snapshot'}{seg.data?.members !== undefined ? `, ${num(seg.data.members)} in it now` : ''})</>],
              ['Channel', d.channel],
              ['Topic', d.topic],
              ['Variants', (d.variants ?? []).map((v: any) => `${v.id} (${Object.entries(v.templates ?? {}).map(([c, t]) => `${c}: ${names[t as string] ?? t}`).join(', ')}${v.weight ? `, weight ${v.weight}` : ''})`).join(' · ')],
              ['Schedule', whenText(d)],
              ['Throttle', d.throttlePerMinute ? `${num(d.throttlePerMinute)} / minute` : 'none'],
              ['A/B test', d.abTest ? `${Math.round(d.abTest.testShare * 100)} % test group, best ${d.abTest.metric} after ${duration(d.abTest.afterMinutes)}` : 'no'],
              ...(d.promotes ? [['Promotes', [...(d.promotes.products ?? []), ...(d.promotes.categories ?? [])].join(', ')] as [string, string]] : []),
              ['Send at', dateTime(b.sendAt)],
              ['Test started', dateTime(b.testStartedAt)],
              ['Winner', b.winner ? `${b.winner} (${dateTime(b.winnerAt)})` : '—'],
            ]}
          />
        </Card>
        <Card title="Progress" id="progress">
          <Progress b={b} expected={seg.data?.members} />
        </Card>
      </div>
      <Card title="Results" id="results">
        <Results b={b} />
      </Card>
    </Page>
  );
}
