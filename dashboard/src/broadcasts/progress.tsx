// A broadcast's live progress (messages planned, queued, sent, delivered, opened, clicked; a bar; per variant) and its
// results per variant with the winner and why. What the API gives (GET /api/broadcasts/:id): recipients per group and
// variant, message counts by status for the whole broadcast, and per-variant figures of the test group once testing.
import { dateTime, num, pct } from '../format.ts';
import { Badge, Empty } from '../ui.tsx';
import { METRIC_LABEL, type Metric } from './model.ts';

export interface VariantStats {
  variant: string;
  recipients: number;
  sent: number;
  opens: number;
  clicks: number;
  orders: number;
  revenueMinor: number;
}

export interface BroadcastView {
  id: string;
  name: string;
  status: string;
  definition: any;
  sendAt: number | null;
  recipients: number;
  testStartedAt: number | null;
  winner: string | null;
  winnerAt: number | null;
  results: { metric: Metric; winner: string; rates: Record<string, number>; reason: string; significance: { runnerUp: string; z: number; pValue: number } | null; variants: VariantStats[] } | null;
  createdAt: number;
  updatedAt: number;
  groups?: { group: string; variant: string | null; recipients: number }[];
  messages?: Record<string, number>;
  variants?: VariantStats[];
}

/** Statuses during which the numbers move (the detail polls). */
export const ACTIVE = ['scheduled', 'sending', 'testing', 'winner'];

const count = (m: Record<string, number> | undefined, ...s: string[]) => s.reduce((a, k) => a + (m?.[k] ?? 0), 0);

/** A variant's value of the winning metric: per message sent, as pickWinner computes it. */
export function rateOf(v: VariantStats, metric: Metric): number {
  if (!v.sent) return 0;
  const n = metric === 'opens' ? v.opens : metric === 'clicks' ? v.clicks : metric === 'orders' ? v.orders : v.revenueMinor;
  return n / v.sent;
}
export const fmtRate = (r: number, metric: Metric) => (metric === 'revenue' ? `${r.toFixed(2)} per message` : pct(r));

export function Progress({ b, expected }: { b: BroadcastView; expected?: number }) {
  const m = b.messages;
  const planned = (b.groups ?? []).reduce((a, g) => a + g.recipients, 0);
  // Before the audience is taken, the segment's size is the best guess at the total.
  const total = Math.max(planned, b.status === 'draft' || b.status === 'scheduled' || (b.status === 'sending' && !planned) ? (expected ?? 0) : 0);
  const sent = count(m, 'sent', 'delivered');
  const waiting = count(m, 'queued', 'deferred', 'retry', 'sending');
  const stats = b.variants ?? b.results?.variants;
  const opened = stats ? stats.reduce((a, v) => a + v.opens, 0) : null;
  const clicked = stats ? stats.reduce((a, v) => a + v.clicks, 0) : null;
  const w = (n: number) => `${total ? Math.min(100, (n / total) * 100) : 0}%`;
  const rest = (b.groups ?? []).filter((g) => g.group === 'rest');
  const restWaiting = rest.filter((g) => !g.variant).reduce((a, g) => a + g.recipients, 0);
  const byVariant = new Map<string, number>();
  for (const g of b.groups ?? []) if (g.variant) byVariant.set(g.variant, (byVariant.get(g.variant) ?? 0) + g.recipients);
  const ids = (b.definition?.variants ?? []).map((v: any) => v.id as string);
  return (
    <>
      <dl className="metrics-strip" aria-label="Messages">
        {(
          [
            ['Planned', total || planned],
            ['Queued', waiting],
            ['Sent', sent],
            ['Delivered', count(m, 'delivered')],
            ['Opened', opened],
            ['Clicked', clicked],
          ] as const
        ).map(([k, v]) => (
          <div key={k} data-testid={`figure-${k.toLowerCase()}`}>
            <dt>{k}</dt>
            <dd>{num(v)}</dd>
          </div>
        ))}
      </dl>
      <div className="bc-bar" role="progressbar" aria-label="Messages sent" aria-valuemin={0} aria-valuemax={total} aria-valuenow={sent}>
        <span className="bc-bar-sent" style={{ width: w(sent) }} />
        <span className="bc-bar-queued" style={{ width: w(waiting) }} />
      </div>
      <p className="bc-bar-legend">
        <span>
          <span className="bc-dot" style={{ background: 'var(--good)' }} />
          sent {num(sent)} of {num(total)}
        </span>
        <span>
          <span className="bc-dot" style={{ background: '#9db0f0' }} />
          waiting {num(waiting)}
        </span>
        {restWaiting ? <span>{num(restWaiting)} waiting for the test's winner</span> : null}
      </p>
      <h3>Messages by status</h3>
      {m && Object.keys(m).length ? (
        <ul className="chips">
          {Object.entries(m).map(([s, n]) => (
            <li key={s} className="chip">
              {s}: <strong>{num(n)}</strong>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted small">No messages yet{b.status === 'scheduled' ? `: it starts ${dateTime(b.sendAt)}` : ''}.</p>
      )}
      {ids.length ? (
        <div className="table-wrap">
          <table className="table table-compact bc-table" aria-label="Progress by variant">
            <thead>
              <tr>
                <th scope="col">Variant</th>
                <th scope="col" className="num">Planned</th>
                <th scope="col" className="num">Sent</th>
                <th scope="col" className="num">Opened</th>
                <th scope="col" className="num">Clicked</th>
              </tr>
            </thead>
            <tbody>
              {ids.map((id: string) => {
                const s = stats?.find((v) => v.variant === id);
                // The test group's figures; after the winner, its rest-group messages are in the totals above.
                return (
                  <tr key={id} data-variant={id}>
                    <th scope="row">
                      {id} {b.winner === id ? <Badge tone="good">winner</Badge> : null}
                    </th>
                    <td className="num">{num(byVariant.get(id) ?? 0)}</td>
                    <td className="num">{s ? num(s.sent) : '—'}</td>
                    <td className="num">{s ? num(s.opens) : '—'}</td>
                    <td className="num">{s ? num(s.clicks) : '—'}</td>
                  </tr>
                );
              })}
              {restWaiting ? (
                <tr>
                  <th scope="row" className="muted">
                    rest (the winner)
                  </th>
                  <td className="num">{num(restWaiting)}</td>
                  <td className="num">—</td>
                  <td className="num">—</td>
                  <td className="num">—</td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      ) : null}
      <p className="muted small">
        {b.definition?.abTest ? 'Sent, opened and clicked per variant count the test group; the totals above count everyone.' : 'Sent, opened and clicked per variant appear once the send is done.'}
      </p>
    </>
  );
}

export function Results({ b }: { b: BroadcastView }) {
  const d = b.definition ?? {};
  const r = b.results;
  const metric: Metric = r?.metric ?? d.abTest?.metric ?? 'clicks';
  const rows = r?.variants ?? b.variants;
  if (!rows?.length) return <Empty title="No results yet">Per-variant figures appear once the broadcast is testing or sent.</Empty>;
  const pickAt = d.abTest && b.testStartedAt ? b.testStartedAt + d.abTest.afterMinutes * 60_000 : null;
  // Before the pick, the same rates as the pick will use, live.
  const rates: Record<string, number> = r?.rates ?? Object.fromEntries(rows.map((v) => [v.variant, rateOf(v, metric)]));
  return (
    <>
      {r ? (
        <div className="bc-winner" data-testid="winner">
          <div>
            <strong>Winner: {r.winner}</strong>
            <div>{r.reason}.</div>
            <div className="small">
              Picked {dateTime(b.winnerAt)} by {METRIC_LABEL[metric].toLowerCase()}; the rest of the audience got {r.winner}.
            </div>
          </div>
        </div>
      ) : d.abTest ? (
        <p className="lead">{b.status === 'testing' && pickAt ? `Testing: the winner by ${METRIC_LABEL[metric].toLowerCase()} is picked ${dateTime(pickAt)}.` : 'The test group is being sent.'}</p>
      ) : (
        <p className="muted">No A/B test: each variant went to its share of the audience.</p>
      )}
      <div className="table-wrap">
        <table className="table bc-table" aria-label="Results by variant">
          <thead>
            <tr>
              <th scope="col">Variant</th>
              {d.abTest ? <th scope="col" className="num">{METRIC_LABEL[metric]}</th> : null}
              <th scope="col" className="num">Recipients</th>
              <th scope="col" className="num">Sent</th>
              <th scope="col" className="num">Opens</th>
              <th scope="col" className="num">Clicks</th>
              <th scope="col" className="num">Orders</th>
              <th scope="col" className="num">Revenue (minor units)</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((v) => (
              <tr key={v.variant} data-variant={v.variant} className={r?.winner === v.variant ? 'row-winner' : undefined}>
                <th scope="row">
                  {v.variant} {r?.winner === v.variant ? <Badge tone="good">winner</Badge> : null}
                </th>
                {d.abTest ? <td className="num bc-rate">{fmtRate(rates[v.variant] ?? 0, metric)}</td> : null}
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
      {r?.significance ? (
        <p className="muted small">
          Against {r.significance.runnerUp}: z = {Number(r.significance.z).toFixed(2)}, p = {Number(r.significance.pValue).toFixed(3)} (for information: the best rate wins regardless).
        </p>
      ) : null}
    </>
  );
}
