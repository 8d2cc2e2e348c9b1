// The RFM stage distribution (GET /api/rfm) as a bar chart, with an empty state (RFM scores only people with an
// order) and Recompute. On a segment's page it can also break the segment's members down by stage: the API has no
// such endpoint, so it asks for live counts (POST /api/segments/preview) of "in this segment and at stage X", one
// per stage that has people. That scans everyone once per stage, hence on demand rather than on every visit.
import { Suspense, lazy, useMemo, useState } from 'react';
import { ApiError, get, post } from '../api.ts';
import { num } from '../format.ts';
import { useCan } from '../session.tsx';
import { Card, Empty, ErrorBox, Loading, WriteButton, useAsync } from '../ui.tsx';
import { RFM_STAGES } from './builder.ts';

const EChart = lazy(() => import('../charts/EChart.tsx'));
const CHART_H = 300;

export function RfmCard({ segmentId, title = 'RFM stages' }: { segmentId?: string; title?: string }) {
  const can = useCan('segments');
  const res = useAsync(() => get<{ stages: Record<string, number> }>('/rfm'), []);
  const [mine, setMine] = useState<{ state: 'idle' | 'busy' | 'done' | 'error'; counts?: Record<string, number>; done?: number; err?: unknown }>({ state: 'idle' });
  const [recomputing, setRecomputing] = useState(false);

  const stages = useMemo(() => {
    const s = res.data?.stages ?? {};
    // The engine's stage order (best to worst), then any stage name it added since.
    return [...RFM_STAGES, ...Object.keys(s).filter((k) => !RFM_STAGES.includes(k))].map((k) => [k, s[k] ?? 0] as [string, number]);
  }, [res.data]);
  const total = stages.reduce((a, [, n]) => a + n, 0);

  const breakdown = async () => {
    if (!segmentId) return;
    setMine({ state: 'busy', done: 0 });
    const counts: Record<string, number> = {};
    try {
      let done = 0;
      for (const [stage, n] of stages) {
        if (!n) continue;
        const r = await post<{ count: number }>('/segments/preview', {
          definition: { kind: 'and', conditions: [{ kind: 'segment', segmentId }, { kind: 'computed', property: 'rfm_stage', op: 'in', value: [stage] }] },
        });
        counts[stage] = r.count;
        setMine({ state: 'busy', done: ++done });
      }
      setMine({ state: 'done', counts });
    } catch (err) {
      setMine({ state: 'error', err });
    }
  };
  const recompute = async () => {
    setRecomputing(true);
    try {
      await post('/rfm/recompute');
      setMine({ state: 'idle' });
      res.reload();
    } catch (err) {
      setMine({ state: 'error', err: err instanceof ApiError ? err : new Error(String(err)) });
    } finally {
      setRecomputing(false);
    }
  };

  const option = useMemo(() => {
    const cats = stages.map(([s]) => s).reverse();
    const series: Record<string, unknown>[] = [{ name: 'Everyone', type: 'bar', data: stages.map(([, n]) => n).reverse(), barMaxWidth: 18 }];
    if (mine.counts) series.push({ name: 'In this segment', type: 'bar', data: stages.map(([s]) => mine.counts![s] ?? 0).reverse(), barMaxWidth: 18 });
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { show: series.length > 1, top: 0 },
      grid: { left: 8, right: 16, top: series.length > 1 ? 28 : 8, bottom: 8, containLabel: true },
      xAxis: { type: 'value', minInterval: 1 },
      yAxis: { type: 'category', data: cats, axisLabel: { fontSize: 11 } },
      series,
    };
  }, [stages, mine.counts]);

  const label = `RFM stages: ${stages.filter(([, n]) => n).map(([s, n]) => `${s} ${n}${mine.counts ? ` (${mine.counts[s] ?? 0} in this segment)` : ''}`).join(', ') || 'none'}`;
  return (
    <Card
      title={title}
      id="rfm"
      actions={
        <WriteButton area="segments" className="btn btn-small" onClick={() => void recompute()} disabled={recomputing} title="Score every customer now (it also runs once a day)">
          {recomputing ? 'Recomputing…' : 'Recompute'}
        </WriteButton>
      }
    >
      {res.error ? (
        <ErrorBox error={res.error} onRetry={res.reload} />
      ) : !res.data ? (
        <Loading rows={4} height={CHART_H} />
      ) : !total ? (
        <div className="rfm-empty">
          <Empty title="No RFM stages yet">
            RFM scores everyone with at least one order (recency, frequency and spend, 1–5 each) once a day. Send “Order Completed” events, or recompute now if they are already in.
          </Empty>
        </div>
      ) : (
        <>
          <p className="muted small rfm-sub">
            {num(total)} customer{total === 1 ? '' : 's'} scored
            {segmentId && mine.state === 'idle' && can ? (
              <button type="button" className="btn btn-small rfm-compare" onClick={() => void breakdown()}>
                Compare this segment's members
              </button>
            ) : null}
            {mine.state === 'busy' ? <span aria-live="polite"> · counting members by stage…</span> : null}
          </p>
          {mine.state === 'error' ? <ErrorBox error={mine.err} onRetry={() => void breakdown()} /> : null}
          <Suspense fallback={<div className="chart" style={{ height: CHART_H }} aria-busy="true" />}>
            <EChart option={option} height={CHART_H} label={label} />
          </Suspense>
          {/* A list, not a table: the segments page's only table is the segments' own. */}
          <details className="details">
            <summary>Show the data</summary>
            <dl className="rfm-data" data-testid="rfm-data">
              {stages.map(([s, n]) => (
                <div key={s}>
                  <dt>{s}</dt>
                  <dd>
                    {num(n)}
                    {mine.counts ? <span className="muted"> · {num(mine.counts[s] ?? 0)} in this segment</span> : null}
                  </dd>
                </div>
              ))}
            </dl>
          </details>
        </>
      )}
    </Card>
  );
}
