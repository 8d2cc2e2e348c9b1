// Journey metrics, read from the runs, the per-node counters and the outbox: entered, waiting (per node), exited by
// reason, converted (goal within its window) with revenue, messages by status, and the holdout (control group)
// against the treatment, so a marketer can tell whether the journey itself moves people.
import type { Store } from '../store/db.ts';

export async function journeyMetrics(store: Store, ws: string, id: string) {
  const db = store.db;
  const runs = await db
    .selectFrom('journey_runs')
    .select(['status', 'exit_reason', 'holdout', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.count<number>('converted_at').as('converted'), (eb) => eb.fn.sum<number>('revenue_minor').as('revenue')])
    .where('workspace_id', '=', ws)
    .where('journey_id', '=', id)
    .groupBy(['status', 'exit_reason', 'holdout'])
    .execute();
  const waiting = await db
    .selectFrom('journey_runs')
    .select(['node', (eb) => eb.fn.countAll<number>().as('n')])
    .where('workspace_id', '=', ws)
    .where('journey_id', '=', id)
    .where('status', 'in', ['active', 'waiting'])
    .groupBy('node')
    .execute();
  const visits = await db.selectFrom('journey_node_stats').select(['version', 'node', 'visits']).where('workspace_id', '=', ws).where('journey_id', '=', id).execute();
  const msgs = await db.selectFrom('messages').select(['status', (eb) => eb.fn.countAll<number>().as('n')]).where('workspace_id', '=', ws).where('source', '=', `journey:${id}`).groupBy('status').execute();
  let entered = 0;
  let inJourney = 0;
  const exited: Record<string, number> = {};
  const treatment = { people: 0, converted: 0, revenueMinor: 0 };
  const holdout = { people: 0, converted: 0, revenueMinor: 0 };
  for (const r of runs) {
    const n = Number(r.n);
    entered += n;
    if (r.status === 'active' || r.status === 'waiting') inJourney += n;
    else exited[r.exit_reason ?? r.status] = (exited[r.exit_reason ?? r.status] ?? 0) + n;
    const g = Number(r.holdout) === 1 ? holdout : treatment;
    g.people += n;
    g.converted += Number(r.converted ?? 0);
    g.revenueMinor += Number(r.revenue ?? 0);
  }
  const rate = (g: { people: number; converted: number }) => (g.people ? g.converted / g.people : null);
  const nodes: Record<string, { visits: number; waiting: number }> = {};
  for (const v of visits) (nodes[v.node] ??= { visits: 0, waiting: 0 }).visits += Number(v.visits);
  for (const w of waiting) (nodes[w.node] ??= { visits: 0, waiting: 0 }).waiting += Number(w.n);
  const messages: Record<string, number> = {};
  for (const m of msgs) messages[m.status] = Number(m.n);
  return {
    journeyId: id,
    entered,
    inJourney,
    exited,
    converted: treatment.converted + holdout.converted,
    revenueMinor: treatment.revenueMinor,
    treatment: { ...treatment, conversionRate: rate(treatment) },
    holdout: { ...holdout, conversionRate: rate(holdout) },
    /** treatment rate minus holdout rate (null without both) */
    lift: rate(treatment) !== null && rate(holdout) !== null ? rate(treatment)! - rate(holdout)! : null,
    nodes,
    messages: { ...messages, sent: (messages.sent ?? 0) + (messages.delivered ?? 0) },
  };
}
