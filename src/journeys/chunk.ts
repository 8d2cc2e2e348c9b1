// A chunk of people's turns share their reads and writes: what every turn needs is read for the whole chunk in a few
// queries (prefetch), and the runs' inserts and updates, the outbox rows and the inbox deletions are written together
// at the end (ChunkWrites). People in a chunk are independent, so nothing one turn writes is read by another.
import { type Kysely, type Transaction, sql } from 'kysely';
import { enqueueRows } from '../messaging/outbox.ts';
import type { ProfileFacts } from '../segments/facts.ts';
import type { DB, JourneyRunsTable, MessagesTable } from '../store/types.ts';

type Tx = Transaction<DB> | Kysely<DB>;

const ACTIVE = ['active', 'waiting'];
/** Finished runs are watched for their goal at most this long after entry (goal windows are usually days). */
const GOAL_WATCH_MS = 90 * 86_400_000;

/** One person's rows, read for a whole chunk of people in a few queries (see prefetch). */
export interface Prefetched {
  profile: { canonical_id: string; time_zone: string | null } | null;
  inbox: { id: number; payload: unknown }[];
  runs: JourneyRunsTable[];
  /** entries so far per journey (re-entry policy, entry limits) */
  history: Map<string, { n: number; last: number }>;
  /** the person's facts, loaded for the whole chunk when some condition may be asked (undefined: not loaded) */
  facts?: ProfileFacts | null;
}

/** Reads what a chunk of people's turns need, in four queries per workspace instead of four per person. */
export async function prefetch(tx: Tx, ws: string, pids: string[], now: number): Promise<Map<string, Prefetched>> {
  const out = new Map<string, Prefetched>(pids.map((p) => [p, { profile: null, inbox: [], runs: [], history: new Map() }]));
  if (pids.length === 0) return out;
  for (const p of await tx.selectFrom('profiles').select(['id', 'canonical_id', 'time_zone']).where('workspace_id', '=', ws).where('id', 'in', pids).execute()) out.get(p.id)!.profile = p;
  const inbox = await tx.selectFrom('journey_inbox').select(['id', 'profile_id', 'payload']).where('workspace_id', '=', ws).where('profile_id', 'in', pids).where('not_before', '<=', now).orderBy('id').limit(500 * pids.length).execute();
  for (const i of inbox) out.get(i.profile_id)!.inbox.push({ id: Number(i.id), payload: i.payload });
  const runs = await tx
    .selectFrom('journey_runs')
    .selectAll()
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', pids)
    .where((eb) => eb.or([eb('status', 'in', ACTIVE), eb.and([eb('converted_at', 'is', null), eb('entered_at', '>=', now - GOAL_WATCH_MS)])]))
    .execute();
  for (const r of runs) out.get(r.profile_id)!.runs.push(r);
  const hist = await tx
    .selectFrom('journey_runs')
    .select(['profile_id', 'journey_id', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max('entered_at').as('last')])
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', pids)
    .groupBy(['profile_id', 'journey_id'])
    .execute();
  for (const h of hist) out.get(h.profile_id)!.history.set(h.journey_id, { n: Number(h.n), last: Number(h.last ?? 0) });
  return out;
}

/**
 * A chunk's run writes and inbox deletions, written together at the end of the chunk (people in a chunk are
 * independent): a few statements per chunk instead of several per person.
 */
export class ChunkWrites {
  inserts: JourneyRunsTable[] = [];
  updates: JourneyRunsTable[] = [];
  inboxIds: number[] = [];
  messages: MessagesTable[] = [];
  /** messages this chunk's writes created (replays of steps whose message exists add none) */
  created = 0;

  /** The outbox rows so far (before anything reads the person's messages: a cancellation must see them). */
  async flushMessages(tx: Tx): Promise<void> {
    const messages = this.messages;
    this.messages = [];
    if (messages.length) this.created += (await enqueueRows(tx, messages)).size;
  }

  async flush(tx: Tx, dialect: 'sqlite' | 'postgres'): Promise<void> {
    await this.flushMessages(tx);
    const { inserts, updates, inboxIds } = this;
    this.inserts = [];
    this.updates = [];
    this.inboxIds = [];
    for (let i = 0; i < inserts.length; i += 200) await tx.insertInto('journey_runs').values(inserts.slice(i, i + 200)).execute();
    if (dialect === 'postgres' && updates.length > 1) {
      for (let i = 0; i < updates.length; i += 1000) {
        const u = updates.slice(i, i + 1000);
        const col = <K extends keyof JourneyRunsTable>(k: K) => u.map((r) => r[k]);
        await sql`UPDATE journey_runs r SET version = v.version, status = v.status, node = v.node, wake_at = v.wake_at, updated_at = v.updated_at,
            exit_reason = v.exit_reason, converted_at = v.converted_at, revenue_minor = v.revenue_minor, holdout = v.holdout, state = v.state::jsonb
          FROM unnest(${col('workspace_id')}::text[], ${col('journey_id')}::text[], ${col('profile_id')}::text[], ${col('entry_id')}::text[], ${col('version')}::int[],
            ${col('status')}::text[], ${col('node')}::text[], ${col('wake_at')}::int8[], ${col('updated_at')}::int8[], ${col('exit_reason')}::text[],
            ${col('converted_at')}::int8[], ${col('revenue_minor')}::int8[], ${col('holdout')}::int[], ${col('state')}::text[])
            AS v(ws, jid, pid, eid, version, status, node, wake_at, updated_at, exit_reason, converted_at, revenue_minor, holdout, state)
          WHERE r.workspace_id = v.ws AND r.journey_id = v.jid AND r.profile_id = v.pid AND r.entry_id = v.eid`.execute(tx);
      }
    } else {
      for (const row of updates) {
        await tx
          .updateTable('journey_runs')
          .set({ version: row.version, status: row.status, node: row.node, wake_at: row.wake_at, updated_at: row.updated_at, exit_reason: row.exit_reason, converted_at: row.converted_at, revenue_minor: row.revenue_minor, holdout: row.holdout, state: row.state })
          .where('workspace_id', '=', row.workspace_id)
          .where('journey_id', '=', row.journey_id)
          .where('profile_id', '=', row.profile_id)
          .where('entry_id', '=', row.entry_id)
          .execute();
      }
    }
    for (let i = 0; i < inboxIds.length; i += 500) await tx.deleteFrom('journey_inbox').where('id', 'in', inboxIds.slice(i, i + 500)).execute();
  }
}

