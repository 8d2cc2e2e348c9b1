// Overview: what the API can tell about the workspace right now. Messages by status come from journey metrics and
// broadcast progress (the API has no workspace-wide message totals, so one-off API sends are not counted); messages
// by channel only for broadcasts (their requested channel); journey conversions; RFM stages. Empty states otherwise.
import { Suspense, lazy, useMemo } from 'react';
import { enc, get } from '../api.ts';
import { num, pct } from '../format.ts';
import { Link } from '../router.tsx';
import { Card, Empty, ErrorBox, Loading, Page, useAsync } from '../ui.tsx';

const EChart = lazy(() => import('../charts/EChart.tsx'));
const CHART_H = 260;

const MAX = 25;

async function load() {
  const [journeys, broadcasts, segments, templates, rfm] = await Promise.all([
    get<{ journeys: { id: string; name: string; status: string; version: number }[] }>('/journeys').then((r) => r.journeys),
    get<{ broadcasts: { id: string; name: string; status: string; definition: { channel?: string } }[] }>('/broadcasts').then((r) => r.broadcasts),
    get<{ segments: unknown[] }>('/segments').then((r) => r.segments.length),
    get<{ templates: unknown[] }>('/templates').then((r) => r.templates.length),
    get<{ stages: Record<string, number> }>('/rfm').then((r) => r.stages),
  ]);
  const live = journeys.filter((j) => j.version > 0).slice(0, MAX);
  const metrics = await Promise.all(live.map((j) => get<any>(`/journeys/${enc(j.id)}/metrics`).then((m) => ({ j, m }), () => null)));
  const sent = broadcasts.filter((b) => b.status !== 'draft').slice(0, MAX);
  const progress = await Promise.all(sent.map((b) => get<any>(`/broadcasts/${enc(b.id)}`).then((p) => ({ b, p }), () => null)));
  return { journeys, broadcasts, segments, templates, rfm, metrics: metrics.filter(Boolean) as { j: (typeof live)[number]; m: any }[], progress: progress.filter(Boolean) as { b: (typeof sent)[number]; p: any }[] };
}

const STATUS_ORDER = ['queued', 'deferred', 'sending', 'retry', 'sent', 'delivered', 'skipped', 'failed', 'cancelled'];

export default function Overview() {
  const res = useAsync(load, []);
  const d = res.data;

  const charts = useMemo(() => {
    if (!d) return null;
    // Messages by status, journeys and broadcasts apart. A journey's `sent` includes `delivered`: take it out again.
    const byStatus = { journeys: {} as Record<string, number>, broadcasts: {} as Record<string, number> };
    for (const { m } of d.metrics) {
      for (const [s, n] of Object.entries(m.messages ?? {}) as [string, number][]) {
        const v = s === 'sent' ? n - (m.messages.delivered ?? 0) : n;
        if (v > 0) byStatus.journeys[s] = (byStatus.journeys[s] ?? 0) + v;
      }
    }
    const byChannel: Record<string, number> = {};
    for (const { b, p } of d.progress) {
      let total = 0;
      for (const [s, n] of Object.entries(p.messages ?? {}) as [string, number][]) {
        byStatus.broadcasts[s] = (byStatus.broadcasts[s] ?? 0) + n;
        total += n;
      }
      const ch = b.definition?.channel ?? 'unknown';
      if (total) byChannel[ch] = (byChannel[ch] ?? 0) + total;
    }
    const statuses = [...new Set([...Object.keys(byStatus.journeys), ...Object.keys(byStatus.broadcasts)])].sort((a, b) => STATUS_ORDER.indexOf(a) - STATUS_ORDER.indexOf(b));
    const conv = d.metrics.filter(({ m }) => m.entered > 0);
    const stages = Object.entries(d.rfm).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    return { byStatus, statuses, byChannel, conv, stages };
  }, [d]);

  const totalMessages = charts ? charts.statuses.reduce((a, s) => a + (charts.byStatus.journeys[s] ?? 0) + (charts.byStatus.broadcasts[s] ?? 0), 0) : 0;

  return (
    <Page title="Overview" subtitle="Your workspace at a glance">
      {res.error ? <ErrorBox error={res.error} onRetry={res.reload} /> : null}
      <dl className="stats" aria-busy={!d}>
        <Stat label="Journeys live" value={d ? d.journeys.filter((j) => j.status === 'active').length : undefined} href="/journeys" />
        <Stat label="Segments" value={d?.segments} href="/segments" />
        <Stat label="Templates" value={d?.templates} href="/templates" />
        <Stat label="Broadcasts" value={d?.broadcasts.length} href="/broadcasts" />
      </dl>
      <div className="grid grid-2">
        <Card title="Messages by status" id="chart-status">
          <p className="hint">Journeys and broadcasts (one-off API sends are not included: the API has no workspace-wide totals).</p>
          <div className="chart-slot">
          {!charts ? (
            <Loading rows={4} height={CHART_H} />
          ) : !totalMessages ? (
            <Empty title="No messages yet">Messages appear here once a published journey or a broadcast sends.</Empty>
          ) : (
            <ChartBox
              label={`Messages by status: ${charts.statuses.map((s) => `${s} ${(charts.byStatus.journeys[s] ?? 0) + (charts.byStatus.broadcasts[s] ?? 0)}`).join(', ')}`}
              option={{
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                legend: { bottom: 0 },
                grid: { left: 8, right: 8, top: 10, bottom: 40, containLabel: true },
                xAxis: { type: 'category', data: charts.statuses },
                yAxis: { type: 'value', minInterval: 1 },
                series: [
                  { name: 'Journeys', type: 'bar', stack: 'm', barMaxWidth: 56, data: charts.statuses.map((s) => charts.byStatus.journeys[s] ?? 0) },
                  { name: 'Broadcasts', type: 'bar', stack: 'm', barMaxWidth: 56, data: charts.statuses.map((s) => charts.byStatus.broadcasts[s] ?? 0) },
                ],
              }}
              rows={charts.statuses.map((s) => [s, charts.byStatus.journeys[s] ?? 0, charts.byStatus.broadcasts[s] ?? 0])}
              head={['Status', 'Journeys', 'Broadcasts']}
            />
          )}
          </div>
        </Card>
        <Card title="Broadcast messages by channel" id="chart-channel">
          <p className="hint">The channel each broadcast asked for (“best” lets the arbiter choose per person). Journey messages per channel are not in the API yet.</p>
          <div className="chart-slot">
          {!charts ? (
            <Loading rows={4} height={CHART_H} />
          ) : !Object.keys(charts.byChannel).length ? (
            <Empty title="No broadcast has sent yet" />
          ) : (
            <ChartBox
              label={`Broadcast messages by channel: ${Object.entries(charts.byChannel).map(([c, n]) => `${c} ${n}`).join(', ')}`}
              option={{
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                grid: { left: 8, right: 16, top: 10, bottom: 10, containLabel: true },
                xAxis: { type: 'value', minInterval: 1 },
                yAxis: { type: 'category', data: Object.keys(charts.byChannel) },
                series: [{ name: 'Messages', type: 'bar', data: Object.values(charts.byChannel), barMaxWidth: 28 }],
              }}
              rows={Object.entries(charts.byChannel)}
              head={['Channel', 'Messages']}
            />
          )}
          </div>
        </Card>
        <Card title="Journey conversions" id="chart-conv">
          <p className="hint">Entries and conversions (goal reached within its window) per published journey.</p>
          <div className="chart-slot">
          {!charts ? (
            <Loading rows={4} height={CHART_H} />
          ) : !charts.conv.length ? (
            <Empty title="No one has entered a journey yet">
              Publish a journey — start from the <Link href="/playbooks">playbook gallery</Link>.
            </Empty>
          ) : (
            <ChartBox
              label={`Journey conversions: ${charts.conv.map(({ j, m }) => `${j.name} ${m.converted} of ${m.entered}`).join(', ')}`}
              option={{
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                legend: { bottom: 0 },
                grid: { left: 8, right: 16, top: 10, bottom: 40, containLabel: true },
                xAxis: { type: 'category', data: charts.conv.map(({ j }) => j.name), axisLabel: { interval: 0, width: 110, overflow: 'truncate' } },
                yAxis: { type: 'value', minInterval: 1 },
                series: [
                  { name: 'Entered', type: 'bar', data: charts.conv.map(({ m }) => m.entered), barMaxWidth: 36 },
                  { name: 'Converted', type: 'bar', data: charts.conv.map(({ m }) => m.converted), barMaxWidth: 36 },
                ],
              }}
              rows={charts.conv.map(({ j, m }) => [j.name, m.entered, m.converted, pct(m.treatment?.conversionRate)])}
              head={['Journey', 'Entered', 'Converted', 'Rate']}
            />
          )}
          </div>
        </Card>
        <Card title="Customers by RFM stage" id="chart-rfm">
          <p className="hint">Recency, frequency and monetary scores of everyone with an order (recomputed daily).</p>
          <div className="chart-slot">
          {!charts ? (
            <Loading rows={4} height={CHART_H} />
          ) : !charts.stages.length ? (
            <Empty title="No RFM stages yet">Stages appear once customers have orders and RFM has been computed.</Empty>
          ) : (
            <ChartBox
              label={`Customers by RFM stage: ${charts.stages.map(([s, n]) => `${s} ${n}`).join(', ')}`}
              option={{
                tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                grid: { left: 8, right: 16, top: 10, bottom: 10, containLabel: true },
                xAxis: { type: 'value', minInterval: 1 },
                yAxis: { type: 'category', data: charts.stages.map(([s]) => s).reverse() },
                series: [{ name: 'Customers', type: 'bar', data: charts.stages.map(([, n]) => n).reverse(), barMaxWidth: 22 }],
              }}
              rows={charts.stages}
              head={['Stage', 'Customers']}
            />
          )}
          </div>
        </Card>
      </div>
    </Page>
  );
}

function Stat({ label, value, href }: { label: string; value?: number; href: string }) {
  return (
    <div className="stat">
      <dt>
        <Link href={href}>{label}</Link>
      </dt>
      <dd>{value === undefined ? <span className="skeleton skeleton-inline" /> : num(value)}</dd>
    </div>
  );
}

function ChartBox({ option, label, rows, head }: { option: Record<string, unknown>; label: string; rows: (string | number)[][]; head: string[] }) {
  return (
    <>
      <Suspense fallback={<div className="chart" style={{ height: CHART_H }} aria-busy="true" />}>
        <EChart option={option} height={CHART_H} label={label} />
      </Suspense>
      <details className="details">
        <summary>Show the data</summary>
        <table className="table table-compact">
          <thead>
            <tr>
              {head.map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => (
              <tr key={i}>
                {r.map((c, k) => (
                  <td key={k}>{typeof c === 'number' ? num(c) : c}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}
