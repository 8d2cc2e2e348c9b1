// The durable outbox: messages waiting to be arbitrated, deferred, being sent, retried, or finished. A message's id
// is derived from (source, step, person) so a producer that retries (a journey worker after a crash, a client
// re-posting) finds the message it already made instead of making a second one.
import { createHash, randomBytes } from 'node:crypto';
import { type Kysely, type Transaction, sql } from 'kysely';
import type { Store } from '../store/db.ts';
import type { DB, MessagesTable } from '../store/types.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { ChannelName } from './types.ts';

type Tx = Transaction<DB> | Kysely<DB>;

export type MessageRow = MessagesTable;

/**
 * A message being handed to its channel is its worker's until this lease runs out; after that another worker resends
 * it (the worker died between handing it over and recording the result). The lease is renewed just before the send,
 * and a result is recorded only by the lease's holder. OMNIA_SEND_LEASE_MS shortens it (tests).
 */
export const SEND_LEASE_MS = Number(process.env.OMNIA_SEND_LEASE_MS) > 0 ? Number(process.env.OMNIA_SEND_LEASE_MS) : 5 * 60_000;

/** Renews this worker's lease on a message; false when it is no longer ours (another worker took it over). */
export async function renewLease(tx: Tx, ws: string, id: string, held: number, until: number): Promise<boolean> {
  const r = await tx
    .updateTable('messages')
    .set({ next_attempt_at: until })
    .where('workspace_id', '=', ws)
    .where('id', '=', id)
    .where('status', '=', 'sending')
    .where('next_attempt_at', '=', held)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Statuses a worker still has to act on. */
export const DUE_STATUSES = ['queued', 'deferred', 'retry', 'sending'] as const;

export function messageIdFor(ws: string, source: string, step: string, profileId: string): string {
  return `msg_${createHash('sha256').update(`${ws}\n${source}\n${step}\n${profileId}`).digest('base64url').slice(0, 26)}`;
}

export interface EnqueueInput {
  workspaceId: string;
  profileId: string;
  /** 'api', 'journey:<id>', 'broadcast:<id>' … */
  source: string;
  /** What makes this message unique within its source for this person (journey node + entry, idempotency key …). */
  step: string;
  channel: ChannelName | 'best';
  templates: Partial<Record<ChannelName, string>>;
  topic: string;
  transactional: boolean;
  priority: number;
  context: Record<string, unknown>;
  notBefore?: number | null;
}

/** The outbox row of a new message (status queued unless given). */
export function messageRow(m: EnqueueInput, now: number, status: MessagesTable['status'] = 'queued', error: string | null = null): MessagesTable {
  return {
    workspace_id: m.workspaceId,
    id: messageIdFor(m.workspaceId, m.source, m.step, m.profileId),
    profile_id: m.profileId,
    source: m.source,
    requested_channel: m.channel,
    channel: null,
    templates: toJson(m.templates),
    template_id: null,
    template_version: null,
    topic: m.topic,
    transactional: m.transactional ? 1 : 0,
    priority: m.priority,
    context: toJson(m.context),
    status,
    excluded: toJson([]),
    to_address: null,
    attempts: 0,
    next_attempt_at: Math.max(now, m.notBefore ?? 0),
    not_before: m.notBefore ?? null,
    provider_id: null,
    error,
    created_at: now,
    updated_at: now,
    sent_at: null,
    delivered_at: null,
    seen_at: null,
    dismissed_at: null,
    onsite: null,
  };
}

/** Inserts the message unless it exists; returns its id and whether this call created it. */
export async function enqueueMessage(tx: Tx, m: EnqueueInput, now: number): Promise<{ id: string; created: boolean }> {
  const row = messageRow(m, now);
  const res = await tx.insertInto('messages').values(row).onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing()).executeTakeFirst();
  return { id: row.id, created: Number(res.numInsertedOrUpdatedRows ?? 0) > 0 };
}

/** Many messages at once (a journey worker's chunk); returns the ids this call created (existing ones are kept). */
export async function enqueueRows(tx: Tx, rows: MessagesTable[]): Promise<Set<string>> {
  const created = new Set<string>();
  for (let i = 0; i < rows.length; i += 100) {
    const r = await tx.insertInto('messages').values(rows.slice(i, i + 100)).onConflict((oc) => oc.columns(['workspace_id', 'id']).doNothing()).returning('id').execute();
    for (const x of r) created.add(x.id);
  }
  return created;
}

/** Messages due now (oldest due first), at most `limit`. */
export async function dueMessages(store: Store, now: number, limit: number): Promise<{ workspace_id: string; id: string; profile_id: string }[]> {
  return store.db
    .selectFrom('messages')
    .select(['workspace_id', 'id', 'profile_id'])
    .where('status', 'in', [...DUE_STATUSES])
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(limit)
    .execute();
}

/**
 * Inside the person's transaction: the given messages that are still due, locked against other workers (PostgreSQL
 * FOR UPDATE SKIP LOCKED: another worker holding one of them simply means it is not ours this round).
 */
export async function lockDue(tx: Tx, dialect: 'sqlite' | 'postgres', ws: string, ids: string[], now: number): Promise<MessageRow[]> {
  if (ids.length === 0) return [];
  const skip = dialect === 'postgres' ? sql` FOR UPDATE SKIP LOCKED` : sql``;
  const rows = await sql<MessageRow>`SELECT * FROM messages WHERE workspace_id = ${ws} AND id IN (${sql.join(ids)})
    AND status IN ('queued', 'deferred', 'retry', 'sending') AND next_attempt_at <= ${now}${skip}`.execute(tx);
  return rows.rows.map((r) => ({ ...r, next_attempt_at: Number(r.next_attempt_at), created_at: Number(r.created_at), attempts: Number(r.attempts), priority: Number(r.priority), transactional: Number(r.transactional) }));
}

/** Serialises workers on one person (PostgreSQL advisory lock held until the transaction ends; SQLite has one writer). */
export async function lockPerson(tx: Tx, dialect: 'sqlite' | 'postgres', ws: string, profileId: string): Promise<void> {
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`omnia:msg:${ws}:${profileId}`}, 0))`.execute(tx);
}

export interface DecisionRecord {
  messageId: string;
  profileId: string;
  action: string;
  channel?: string | null;
  code?: string | null;
  until?: number | null;
  reason: string;
}

// Decision ids sort in the order they were made, also within one millisecond (the log is read in id order).
let decisionSeq = 0;
function decisionId(at: number): string {
  decisionSeq = (decisionSeq + 1) % 36 ** 4;
  return `dec_${at.toString(36).padStart(9, '0')}${decisionSeq.toString(36).padStart(4, '0')}${randomBytes(4).toString('hex')}`;
}

export async function logDecision(tx: Tx, ws: string, d: DecisionRecord, at: number): Promise<void> {
  await tx
    .insertInto('message_decisions')
    .values({ workspace_id: ws, id: decisionId(at), profile_id: d.profileId, message_id: d.messageId, at, action: d.action, channel: d.channel ?? null, code: d.code ?? null, until: d.until ?? null, reason: d.reason })
    .execute();
}

export async function updateMessage(tx: Tx, ws: string, id: string, set: Partial<Omit<MessageRow, 'workspace_id' | 'id'>>, now: number): Promise<void> {
  await tx
    .updateTable('messages')
    .set({ ...set, updated_at: now })
    .where('workspace_id', '=', ws)
    .where('id', '=', id)
    .execute();
}

export function excludedOf(row: Pick<MessageRow, 'excluded'>): ChannelName[] {
  return fromJson<ChannelName[]>(row.excluded);
}

export function templatesOf(row: Pick<MessageRow, 'templates'>): Partial<Record<ChannelName, string>> {
  return fromJson<Partial<Record<ChannelName, string>>>(row.templates);
}
