// The unified profile: one person's identifiers, traits, consent, activity and basics, combined over every profile
// merged into them. Reads only; the identity processor writes.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { fromJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import type { TraitCell } from '../identity/graph.ts';
import { normalizeEmail, normalizePhone } from '../identity/extract.ts';
import { ALL_TOPICS } from './consent.ts';
import { NOT_CHANNELS } from '../ingest/channels.ts';

export interface ProfileView {
  id: string;
  mergedProfileIds: string[];
  identifiers: { kind: string; value: string; profileId: string; createdAt: number }[];
  traits: Record<string, unknown>;
  traitsUpdatedAt: Record<string, number>;
  channels: {
    channel: string;
    address: string | null;
    reachable: boolean;
    consent: Record<string, { state: string; source: string; updatedAt: number }>;
  }[];
  timeZone: string | null;
  createdAt: number;
  firstSeen: number;
  lastSeen: number;
  computed: {
    orders: number;
    totalSpent: { amountMinor: number; currency: string }[];
    lastOrderAt: number | null;
    /** channels the person was active on; server-side calls and imports are where data came from, not channels */
    channelsUsed: string[];
  };
}

export async function resolveCanonical(db: Kysely<DB>, ws: string, id: string): Promise<string | null> {
  const r = await db.selectFrom('profiles').select('canonical_id').where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirst();
  return r?.canonical_id ?? null;
}

export const LOOKUP_KINDS = { userId: 'user_id', email: 'email', phone: 'phone', anonymousId: 'anonymous_id' } as const;

/** Finds the canonical profile for an identifier (normalised as ingestion normalises it). */
export async function lookupProfile(db: Kysely<DB>, ws: string, kind: string, rawValue: string): Promise<string | null> {
  let value: string | null = rawValue;
  if (kind === 'email') value = normalizeEmail(rawValue);
  if (kind === 'phone') value = normalizePhone(rawValue);
  if (!value) return null;
  const r = await db
    .selectFrom('identifiers as i')
    .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'i.workspace_id').onRef('p.id', '=', 'i.profile_id'))
    .select('p.canonical_id')
    .where('i.workspace_id', '=', ws)
    .where('i.kind', '=', kind)
    .where('i.value', '=', value)
    .executeTakeFirst();
  return r?.canonical_id ?? null;
}

const CHANNEL_OF_KIND: Record<string, string> = { email: 'email', phone: 'sms', push_token: 'push' };

/** `activity: false` skips the order and channel aggregates (a scan of the person's events) for hot paths. */
export async function readProfile(db: Kysely<DB>, ws: string, canonicalId: string, opts: { activity?: boolean } = {}): Promise<ProfileView | null> {
  const members = await db.selectFrom('profiles').selectAll().where('workspace_id', '=', ws).where('canonical_id', '=', canonicalId).execute();
  const self = members.find((m) => m.id === canonicalId);
  if (!self) return null;
  const ids = members.map((m) => m.id);
  const [identifiers, consents, orders, channels] = await Promise.all([
    db.selectFrom('identifiers').selectAll().where('workspace_id', '=', ws).where('profile_id', 'in', ids).orderBy('created_at').execute(),
    db.selectFrom('consents').selectAll().where('workspace_id', '=', ws).where('profile_id', 'in', ids).execute(),
    opts.activity === false
      ? Promise.resolve([])
      : db
      .selectFrom('events')
      .select([
        'currency',
        sql<number>`count(case when event = 'Order Completed' then 1 end)`.as('orders'),
        sql<number>`coalesce(sum(revenue_minor), 0)`.as('total'),
        sql<number | null>`max(case when event = 'Order Completed' then timestamp end)`.as('last_order'),
      ])
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', ids)
      .where('internal', '=', 0)
      .where('event', 'in', ['Order Completed', 'Order Refunded'])
      .groupBy('currency')
      .execute(),
    opts.activity === false
      ? Promise.resolve([])
      : db.selectFrom('events').select('channel').distinct().where('workspace_id', '=', ws).where('profile_id', 'in', ids).where('internal', '=', 0).execute(),
  ]);

  // Newest value per trait wins across the cluster.
  const traits: Record<string, unknown> = {};
  const traitsUpdatedAt: Record<string, number> = {};
  for (const m of members) {
    for (const [k, cell] of Object.entries(fromJson<Record<string, TraitCell>>(m.traits))) {
      if (traitsUpdatedAt[k] === undefined || cell.t > traitsUpdatedAt[k]!) {
        traits[k] = cell.v;
        traitsUpdatedAt[k] = cell.t;
      }
    }
  }

  const consentBy = new Map<string, Record<string, { state: string; source: string; updatedAt: number }>>();
  for (const c of consents) {
    const topics = consentBy.get(c.channel) ?? {};
    const prev = topics[c.topic];
    if (!prev || c.updated_at > prev.updatedAt) topics[c.topic] = { state: c.state, source: c.source, updatedAt: c.updated_at };
    consentBy.set(c.channel, topics);
  }
  const channelList: ProfileView['channels'] = [];
  const addresses = new Map<string, string>();
  for (const i of identifiers) {
    const ch = CHANNEL_OF_KIND[i.kind];
    if (ch && !addresses.has(ch)) addresses.set(ch, i.value);
  }
  for (const ch of new Set([...addresses.keys(), ...consentBy.keys()])) {
    const consent = consentBy.get(ch) ?? {};
    if (!consent[ALL_TOPICS]) consent[ALL_TOPICS] = { state: 'never_asked', source: 'none', updatedAt: 0 };
    channelList.push({ channel: ch, address: addresses.get(ch) ?? null, reachable: addresses.has(ch), consent });
  }

  let count = 0;
  let last: number | null = null;
  const totals: { amountMinor: number; currency: string }[] = [];
  for (const o of orders) {
    count += Number(o.orders);
    if (o.last_order !== null && (last === null || Number(o.last_order) > last)) last = Number(o.last_order);
    if (o.currency) totals.push({ amountMinor: Number(o.total), currency: o.currency });
  }

  return {
    id: canonicalId,
    mergedProfileIds: ids.filter((i) => i !== canonicalId),
    identifiers: identifiers.map((i) => ({ kind: i.kind, value: i.value, profileId: i.profile_id, createdAt: i.created_at })),
    traits,
    traitsUpdatedAt,
    channels: channelList,
    timeZone: members.map((m) => m.time_zone).find((t) => t) ?? null,
    createdAt: Math.min(...members.map((m) => m.created_at)),
    firstSeen: Math.min(...members.map((m) => m.first_seen)),
    lastSeen: Math.max(...members.map((m) => m.last_seen)),
    computed: { orders: count, totalSpent: totals, lastOrderAt: last, channelsUsed: channels.map((c) => c.channel).filter((c) => !NOT_CHANNELS.has(c)).sort() },
  };
}

export interface TimelineEvent {
  seq: number;
  messageId: string;
  type: string;
  event: string | null;
  channel: string;
  internal: boolean;
  timestamp: number;
  receivedAt: number;
  profileId: string;
  properties: unknown;
  traits: unknown;
  context: unknown;
}

/** Newest first; the cursor is "timestamp:seq" of the last event returned. */
export async function readTimeline(
  db: Kysely<DB>,
  ws: string,
  canonicalId: string,
  opts: { limit: number; cursor?: { ts: number; seq: number }; channel?: string; includeInternal?: boolean },
): Promise<{ events: TimelineEvent[]; nextCursor: string | null }> {
  const members = db.selectFrom('profiles').select('id').where('workspace_id', '=', ws).where('canonical_id', '=', canonicalId);
  let q = db
    .selectFrom('events')
    .selectAll()
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', members)
    .orderBy('timestamp', 'desc')
    .orderBy('seq', 'desc')
    .limit(opts.limit + 1);
  if (opts.cursor) {
    const { ts, seq } = opts.cursor;
    q = q.where((eb) => eb.or([eb('timestamp', '<', ts), eb.and([eb('timestamp', '=', ts), eb('seq', '<', seq)])]));
  }
  if (opts.channel) q = q.where('channel', '=', opts.channel);
  if (opts.includeInternal === false) q = q.where('internal', '=', 0);
  const rows = await q.execute();
  const page = rows.slice(0, opts.limit);
  const last = page[page.length - 1];
  return {
    events: page.map((r) => ({
      seq: r.seq,
      messageId: r.message_id,
      type: r.type,
      event: r.event,
      channel: r.channel,
      internal: r.internal === 1,
      timestamp: r.timestamp,
      receivedAt: r.received_at,
      profileId: r.profile_id!,
      properties: fromJson(r.properties),
      traits: fromJson(r.traits),
      context: fromJson(r.context),
    })),
    nextCursor: rows.length > opts.limit && last ? `${last.timestamp}:${last.seq}` : null,
  };
}

/** The name traits a search matches, as written by identify calls (Segment's reserved traits). */
const NAME_TRAITS = ['first_name', 'last_name', 'name', 'firstName', 'lastName'] as const;

/**
 * A person's name from their traits, by the rule the name search uses in SQL: "first last" when both are set, else
 * the name trait, else whichever of first / last there is; null when none is.
 */
export function displayName(traits: Record<string, unknown>): string | null {
  const str = (k: string) => (typeof traits[k] === 'string' && (traits[k] as string).trim() ? (traits[k] as string).trim() : null);
  const first = str('first_name') ?? str('firstName');
  const last = str('last_name') ?? str('lastName');
  return first && last ? `${first} ${last}` : (str('name') ?? first ?? last);
}

/**
 * Profiles whose identifier starts with the text (emails and ids, case-insensitive), then profiles whose name
 * (first name, last name, "first last" or the name trait, or any word of it) starts with it. Names are read from the traits JSON at
 * query time: no index to keep in step with every trait write, at the cost of a scan of the workspace's profiles (fine for interactive search up to a few hundred thousand profiles; see docs/operations.md).
 */
export async function searchProfiles(db: Kysely<DB>, ws: string, prefix: string, limit: number, dialect: 'sqlite' | 'postgres' = 'sqlite') {
  const pattern = prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
  const rows = await db
    .selectFrom('identifiers as i')
    .innerJoin('profiles as pr', (j) => j.onRef('pr.workspace_id', '=', 'i.workspace_id').onRef('pr.id', '=', 'i.profile_id'))
    .select(['pr.canonical_id', 'i.kind', 'i.value'])
    .where('i.workspace_id', '=', ws)
    .where(sql<boolean>`lower(i.value) like ${pattern} escape '\\'`)
    .orderBy('i.value')
    .limit(limit * 4)
    .execute();
  const out: { profileId: string; name?: string; matched: { kind: string; value: string }[] }[] = [];
  const seen = new Map<string, (typeof out)[number]>();
  for (const r of rows) {
    let e = seen.get(r.canonical_id);
    if (!e) {
      if (out.length >= limit) continue;
      seen.set(r.canonical_id, (e = { profileId: r.canonical_id, matched: [] }));
      out.push(e);
    }
    e.matched.push({ kind: r.kind, value: r.value });
  }
  if (out.length < limit && prefix.trim().length >= 2) {
    const trait = (k: string) => (dialect === 'postgres' ? sql<string | null>`pr.traits->${k}->>'v'` : sql<string | null>`json_extract(pr.traits, ${`$.${k}.v`})`);
    const [first, last, name, firstC, lastC] = NAME_TRAITS.map(trait) as [ReturnType<typeof trait>, ReturnType<typeof trait>, ReturnType<typeof trait>, ReturnType<typeof trait>, ReturnType<typeof trait>];
    const f = sql`coalesce(${first}, ${firstC})`;
    const l = sql`coalesce(${last}, ${lastC})`;
    const full = sql`coalesce(${f} || ' ' || ${l}, ${name}, ${f}, ${l})`;
    const like = (e: ReturnType<typeof sql>) => sql<boolean>`lower(${e}) like ${pattern} escape '\\'`;
    // Any later word of a full name too ("zorro" finds "Quentin Zorro").
    const word = sql<boolean>`lower(${full}) like ${`% ${pattern}`} escape '\\'`;
    const named = await db
      .selectFrom('profiles as pr')
      // Every profile row, merged-away ones too (their traits stay on their row): the hit is the survivor.
      .select(['pr.canonical_id as id', sql<string | null>`${full}`.as('full_name')])
      .where('pr.workspace_id', '=', ws)
      .where((eb) => eb.or([like(f), like(l), like(name), like(full), word]))
      .orderBy('full_name')
      .limit(limit * 4)
      .execute();
    for (const r of named) {
      if (out.length >= limit) break;
      const fullName = r.full_name ?? '';
      const e = seen.get(r.id);
      if (e) {
        e.name ??= fullName;
        continue;
      }
      const hit = { profileId: r.id, name: fullName, matched: [{ kind: 'name', value: fullName }] };
      seen.set(r.id, hit);
      out.push(hit);
    }
  }
  return out;
}
