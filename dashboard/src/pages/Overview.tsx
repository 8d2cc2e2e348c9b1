// Overview: the period's figures from GET /api/analytics/overview (revenue and orders by the channel they were placed
// on, revenue attributed to email, SMS and push by last touch, active customers and the share active on 2+ channels,
// messages per channel, journey conversions), the RFM stages, and the workspace's counts. The period is in the URL
// (?period=today|7d|30d|90d, &to= to look at older data, such as the demo's 2010–2011 orders).
import { Suspense, lazy, useMemo } from 'react';
import { get } from '../api.ts';
import { dateTime, money, num, pct } from '../format.ts';
import { Link, navigate, useLoc } from '../router.tsx';
import { Card, Empty, ErrorBox, Loading, Page, useAsync } from '../ui.tsx';

const EChart = lazy(() => import('../charts/EChart.tsx'));
const CHART_H = 260;
const DAY = 24 * 3600_000;

const PERIODS = [
  { key: 'today', label: 'Today' },
  { key: '7d', label: '7 days' },
  { key: '30d', label: '30 days' },
  { key: '90d', label: '90 days' },
] as const;
type PeriodKey = (typeof PERIODS)[number]['key'];

interface Totals {
  orders: number;
  revenueMinor: number;
}
interface OverviewData {
  from: number;
  to: number;
  currency: string | null;
  latestActivityAt: number | null;
  revenue: {
    total: Totals;
    otherCurrencyOrders: number;
    byChannel: ({ channel: string } & Totals)[];
    attributed: ({ channel: string } & Totals)[];
    daily: { day: string; orders: number; revenueMinor: number; byChannel: Record<string, number> }[];
  };
  customers: {
    active: number;
    multiChannel: number;
    multiChannelShare: number;
    byChannelCount: Record<'1' | '2' | '3+', number>;
    averageOrderMinor: { multiChannel: number | null; singleChannel: number | null };
  };
  messages: { channel: string; sent: number; delivered: number; opened: number; clicked: number; failed: number }[];
  journeys: { journeyId: string; name: string; entered: number; converted: number; revenueMinor: number }[];
}

/** The period [from, to) for a key, ending now (or at `anchor`); today starts at local midnight. */
export function periodRange(key: PeriodKey, anchor: number | null, now = Date.now()): { from: number; to: number } {
  const to = anchor ?? now;
  if (key === 'today') {
    const d = new Date(to);
    d.setHours(0, 0, 0, 0);
    return { from: d.getTime(), to: Math.max(to, d.getTime() + 1) };
  }
  const n = key === '7d' ? 7 : key === '30d' ? 30 : 90;
  return { from: to - n * DAY, to };
}

async function load(key: PeriodKey, anchor: number | null) {
  const { from, to } = periodRange(key, anchor);
  const [data, journeys, segments, templates, broadcasts, rfm] = await Promise.all([
    get<OverviewData>(`/analytics/overview?from=${from}&to=${to}&offset=${-new Date(to).getTimezoneOffset()}`),
    get<{ journeys: { status: string }[] }>('/journeys').then((r) => r.journeys.filter((j) => j.status === 'active').length),
    get<{ segments: unknown[] }>('/segments').then((r) => r.segments.length),
    get<{ templates: unknown[] }>('/templates').then((r) => r.templates.length),
    get<{ broadcasts: unknown[] }>('/broadcasts').then((r) => r.broadcasts.length),
    get<{ stages: Record<string, number> }>('/rfm').then((r) => r.stages),
  ]);
  return { data, counts: { journeys, segments, templates, broadcasts }, rfm };
}

const MESSAGE_STAGES = ['sent', 'delivered', 'opened', 'clicked'] as const;
// Money axes in short form (300K, 1.2M): full amounts overlap on a phone-width axis.
const compact = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
const moneyAxis = { type: 'value', axisLabel: { formatter: (v: number) => compact.format(v) } };

export default function Overview() {
  const loc = useLoc();
  const key = (PERIODS.find((p) => p.key === loc.query.get('period'))?.key ?? '30d') as PeriodKey;
  const anchorQ = Number(loc.query.get('to'));
  const anchor = Number.isFinite(anchorQ) && anchorQ > 0 ? anchorQ : null;
  const res = useAsync(() => load(key, anchor), [key, anchor]);
  const d = res.data?.data;
  const cur = d?.currency ?? 'GBP';
  const m = (minor: number | null | undefined) => (minor === null || minor === undefined ? '—' : money(minor, cur));
  const setPeriod = (k: PeriodKey, to = anchor) => navigate(`/?period=${k}${to ? `&to=${to}` : ''}`, { replace: true });

  const charts = useMemo(() => {
    if (!d) return null;
    const channels = d.revenue.byChannel.map((c) => c.channel);
    const shortDay = (s: string) => new Date(`${s}T12:00:00`).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
    const stages = Object.entries(res.data!.rfm).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    return { channels, shortDay, stages };
  }, [d, res.data]);

  const quiet = d && d.revenue.total.orders === 0 && d.customers.active === 0;
  const older = quiet && d.latestActivityAt !== null && d.latestActivityAt < d.from;
  const share = d && d.revenue.total.revenueMinor ? d.revenue.attributed.reduce((a, x) => a + x.revenueMinor, 0) / d.revenue.total.revenueMinor : null;
  const aov = d?.customers.averageOrderMinor;

  return (
    <Page
      title="Overview"
      subtitle={d ? `${dateTime(d.from)} – ${dateTime(d.to)}${anchor ? ' (an earlier period)' : ''}` : 'Your workspace at a glance'}
      actions={
        <div className="segmented" role="group" aria-label="Period">
          {PERIODS.map((p) => (
            <button key={p.key} type="button" aria-pressed={p.key === key} onClick={() => setPeriod(p.key)}>
              {p.label}
            </button>
          ))}
        </div>
      }
    >
      {res.error ? <ErrorBox error={res.error} onRetry={res.reload} /> : null}
      {anchor ? (
        <div className="notice notice-info" role="status">
          Showing the period up to {dateTime(anchor)}.
          <button type="button" className="btn btn-ghost" onClick={() => navigate(`/?period=${key}`, { replace: true })}>
            Back to now
          </button>
        </div>
      ) : older ? (
        <div className="notice notice-info" role="status">
          No activity in this period. The latest activity was on {dateTime(d!.latestActivityAt)}.
          <button type="button" className="btn" onClick={() => setPeriod('30d', d!.latestActivityAt! + 1)}>
            Show the 30 days up to then
          </button>
        </div>
      ) : null}
      <dl className="stats" aria-busy={!d} aria-label="This period">
        <Stat label="Revenue" value={d ? m(d.revenue.total.revenueMinor) : undefined} sub={d?.revenue.otherCurrencyOrders ? `+ ${num(d.revenue.otherCurrencyOrders)} orders in other currencies` : d ? `${num(d.revenue.total.orders)} order${d.revenue.total.orders === 1 ? '' : 's'}` : undefined} />
        <Stat label="Attributed to messages" value={d ? m(d.revenue.attributed.reduce((a, x) => a + x.revenueMinor, 0)) : undefined} sub={d ? `${pct(share)} of revenue · last touch` : undefined} />
        <Stat label="Active customers" value={d ? num(d.customers.active) : undefined} sub={d ? `${pct(d.customers.multiChannelShare)} on 2+ channels` : undefined} href="/customers" />
        <Stat label="Order value, 2+ channels vs 1" value={d ? `${m(aov?.multiChannel)}` : undefined} sub={d ? `vs ${m(aov?.singleChannel)} for single-channel buyers` : undefined} />
      </dl>
      <div className="grid grid-2">
        <Card title="Revenue by channel" id="chart-revenue">
          <p className="hint">Where orders were placed, and the revenue attributed to a message: its last click in 5 days, else its last open in 1 day.</p>
          <div className="chart-slot">
            {!d || !charts ? (
              <Loading rows={4} height={CHART_H} />
            ) : !d.revenue.total.orders ? (
              <Empty title="No orders in this period">Orders from the store (POS), web and app appear here as they come in.</Empty>
            ) : (
              <ChartBox
                label={`Revenue by channel: ${d.revenue.byChannel.map((c) => `${c.channel} ${m(c.revenueMinor)}`).join(', ')}; attributed: ${d.revenue.attributed.map((c) => `${c.channel} ${m(c.revenueMinor)}`).join(', ') || 'none'}`}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => m(Math.round(v * 100)) },
                  legend: { bottom: 0 },
                  grid: { left: 8, right: 16, top: 10, bottom: 40, containLabel: true },
                  xAxis: moneyAxis,
                  yAxis: { type: 'category', data: [...d.revenue.byChannel.map((c) => c.channel), ...d.revenue.attributed.map((c) => `${c.channel}-attributed`)].reverse() },
                  series: [
                    { name: 'Placed on', type: 'bar', stack: 'r', barMaxWidth: 24, data: [...d.revenue.byChannel.map((c) => c.revenueMinor / 100), ...d.revenue.attributed.map(() => null)].reverse() },
                    { name: 'Attributed to', type: 'bar', stack: 'r', barMaxWidth: 24, data: [...d.revenue.byChannel.map(() => null), ...d.revenue.attributed.map((c) => c.revenueMinor / 100)].reverse() },
                  ],
                }}
                head={['Channel', 'Orders', 'Revenue']}
                rows={[...d.revenue.byChannel.map((c) => [c.channel, c.orders, m(c.revenueMinor)]), ...d.revenue.attributed.map((c) => [`${c.channel}-attributed`, c.orders, m(c.revenueMinor)])]}
              />
            )}
          </div>
        </Card>
        <Card title="Revenue per day" id="chart-daily">
          <p className="hint">Each day's revenue, by the channel the order was placed on.</p>
          <div className="chart-slot">
            {!d || !charts ? (
              <Loading rows={4} height={CHART_H} />
            ) : !d.revenue.total.orders ? (
              <Empty title="No orders in this period" />
            ) : (
              <ChartBox
                label={`Revenue per day, ${d.revenue.daily.length} days, total ${m(d.revenue.total.revenueMinor)}`}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: (v: number) => m(Math.round(v * 100)) },
                  legend: { bottom: 0 },
                  grid: { left: 8, right: 16, top: 10, bottom: 40, containLabel: true },
                  xAxis: { type: 'category', data: d.revenue.daily.map((x) => charts.shortDay(x.day)) },
                  yAxis: moneyAxis,
                  series: charts.channels.map((c) => ({ name: c, type: 'bar', stack: 'd', barMaxWidth: 28, data: d.revenue.daily.map((x) => (x.byChannel[c] ?? 0) / 100) })),
                }}
                head={['Day', 'Orders', 'Revenue']}
                rows={d.revenue.daily.filter((x) => x.orders).map((x) => [x.day, x.orders, m(x.revenueMinor)])}
              />
            )}
          </div>
        </Card>
        <Card title="Messages by channel" id="chart-status">
          <p className="hint">Every message Omnia sent in the period (journeys, broadcasts, API sends): sent, delivered, opened and clicked (distinct messages).</p>
          <div className="chart-slot">
            {!d ? (
              <Loading rows={4} height={CHART_H} />
            ) : !d.messages.length ? (
              <Empty title="No messages in this period">Messages appear here once a journey, a broadcast or the API sends.</Empty>
            ) : (
              <ChartBox
                label={`Messages by channel: ${d.messages.map((c) => `${c.channel} ${c.sent} sent, ${c.clicked} clicked`).join('; ')}`}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                  legend: { bottom: 0 },
                  grid: { left: 8, right: 8, top: 10, bottom: 40, containLabel: true },
                  xAxis: { type: 'category', data: d.messages.map((c) => c.channel) },
                  yAxis: { type: 'value', minInterval: 1 },
                  series: MESSAGE_STAGES.map((s) => ({ name: s, type: 'bar', barMaxWidth: 32, data: d.messages.map((c) => c[s] ?? 0) })),
                }}
                head={['Channel', ...MESSAGE_STAGES, 'failed']}
                rows={d.messages.map((c) => [c.channel, ...MESSAGE_STAGES.map((s) => c[s] ?? 0), c.failed ?? 0])}
              />
            )}
          </div>
        </Card>
        <Card title="Journey conversions" id="chart-conv">
          <p className="hint">People who entered each journey in the period, and conversions (goal reached in its window; holdouts excluded).</p>
          <div className="chart-slot">
            {!d ? (
              <Loading rows={4} height={CHART_H} />
            ) : !d.journeys.length ? (
              <Empty title="No one entered a journey in this period">
                Publish a journey — start from the <Link href="/playbooks">playbook gallery</Link>.
              </Empty>
            ) : (
              <ChartBox
                label={`Journey conversions: ${d.journeys.map((j) => `${j.name} ${j.converted} of ${j.entered}`).join(', ')}`}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                  legend: { bottom: 0 },
                  grid: { left: 8, right: 16, top: 10, bottom: 40, containLabel: true },
                  xAxis: { type: 'category', data: d.journeys.map((j) => j.name), axisLabel: { interval: 0, width: 110, overflow: 'truncate' } },
                  yAxis: { type: 'value', minInterval: 1 },
                  series: [
                    { name: 'Entered', type: 'bar', data: d.journeys.map((j) => j.entered), barMaxWidth: 36 },
                    { name: 'Converted', type: 'bar', data: d.journeys.map((j) => j.converted), barMaxWidth: 36 },
                  ],
                }}
                head={['Journey', 'Entered', 'Converted', 'Revenue']}
                rows={d.journeys.map((j) => [j.name, j.entered, j.converted, m(j.revenueMinor)])}
              />
            )}
          </div>
        </Card>
        <Card title="Active customers by number of channels" id="chart-channels">
          <p className="hint">Web, app, store, chat and message engagement count as channels; server calls and imports do not.</p>
          <div className="chart-slot">
            {!d ? (
              <Loading rows={4} height={CHART_H} />
            ) : !d.customers.active ? (
              <Empty title="No active customers in this period" />
            ) : (
              <ChartBox
                label={`Active customers by number of channels: 1 channel ${d.customers.byChannelCount['1']}, 2 channels ${d.customers.byChannelCount['2']}, 3 or more ${d.customers.byChannelCount['3+']}`}
                option={{
                  tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
                  grid: { left: 8, right: 16, top: 10, bottom: 10, containLabel: true },
                  xAxis: { type: 'category', data: ['1 channel', '2 channels', '3 or more'] },
                  yAxis: { type: 'value', minInterval: 1 },
                  series: [{ name: 'Customers', type: 'bar', barMaxWidth: 48, data: [d.customers.byChannelCount['1'], d.customers.byChannelCount['2'], d.customers.byChannelCount['3+']] }],
                }}
                head={['Channels', 'Customers']}
                rows={Object.entries(d.customers.byChannelCount)}
              />
            )}
          </div>
        </Card>
        <Card title="Customers by RFM stage" id="chart-rfm">
          <p className="hint">Recency, frequency and monetary scores of everyone with an order (all time, recomputed daily).</p>
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
      <h2 className="section-title">Your workspace</h2>
      <dl className="stats" aria-busy={!res.data} aria-label="Your workspace">
        <Stat label="Journeys live" value={res.data ? num(res.data.counts.journeys) : undefined} href="/journeys" />
        <Stat label="Segments" value={res.data ? num(res.data.counts.segments) : undefined} href="/segments" />
        <Stat label="Templates" value={res.data ? num(res.data.counts.templates) : undefined} href="/templates" />
        <Stat label="Broadcasts" value={res.data ? num(res.data.counts.broadcasts) : undefined} href="/broadcasts" />
      </dl>
    </Page>
  );
}

function Stat({ label, value, sub, href }: { label: string; value?: string; sub?: string; href?: string }) {
  return (
    <div className="stat">
      <dt>{href ? <Link href={href}>{label}</Link> : <span className="stat-label">{label}</span>}</dt>
      <dd>{value === undefined ? <span className="skeleton skeleton-inline" /> : value}</dd>
      <dd className="stat-sub">{sub ?? '\u00a0'}</dd>
    </div>
  );
}

function ChartBox({ option, label, rows, head }: { option: Record<string, unknown>; label: string; rows: (string | number)[][]; head: readonly string[] }) {
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
