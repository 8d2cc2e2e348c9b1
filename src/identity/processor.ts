// The identity processor: attributes each newly ingested event to ONE profile, creating, linking and merging
// profiles as the event's identifiers demand. It runs behind the ingest writer (events are durable first, then
// attributed within milliseconds), in batches, one processor at a time across all processes (the identity lock), so
// two requests that link the same people can never race into two merges.
import type { Transaction } from 'kysely';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import { applyConsentTraits } from '../profiles/consent.ts';
import { type Identifier, extractIdentifiers } from './extract.ts';
import { type MergeCause, type TraitCell, clusterUserIds, isBlocked, lockIdentity, mergeClusters, recordConflict } from './graph.ts';

type Tx = Transaction<DB>;


interface EventIn {
  seq: number;
  workspace_id: string;
  message_id: string;
  type: string;
  user_id: string | null;
  anonymous_id: string | null;
  timestamp: number;
  properties: unknown;
  traits: unknown;
  context: unknown;
}

interface ProfileState {
  id: string;
  created_at: number;
  first_seen: number;
  last_seen: number;
  traits: Record<string, TraitCell>;
  time_zone: string | null;
  dirty: boolean;
  isNew: boolean;
}

const RESERVED_TRAITS = new Set(['consent']);

export class IdentityProcessor {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private stopped = false;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly opts: { batchSize?: number; pollMs?: number; log?: (msg: string, err?: unknown) => void } = {},
  ) {}

  /** Polls for work (other processes' writes) and reacts at once to `wake()` (this process's writes). */
  start(): void {
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.wake();
      this.timer = setTimeout(tick, this.opts.pollMs ?? 500);
      this.timer.unref();
    };
    tick();
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again && !this.stopped) {
        this.again = false;
        this.wake();
      }
    });
  }

  private async loop(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const n = await this.runBatch();
        total += n;
        if (n === 0) break;
      }
    } catch (e) {
      this.opts.log?.('identity processor batch failed; will retry', e);
    }
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
    return total;
  }

  /** Resolves when every event committed so far has been attributed. */
  async drain(): Promise<void> {
    for (;;) {
      if (this.running) await this.running;
      const n = await this.runBatch();
      if (n === 0) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.running) await this.running;
  }

  /** Processes up to batchSize unattributed events in one transaction; returns how many. */
  async runBatch(): Promise<number> {
    const limit = this.opts.batchSize ?? 1000;
    return this.store.db.transaction().execute(async (tx) => {
      await lockIdentity(tx);
      const rows = (await tx
        .selectFrom('events')
        .select(['seq', 'workspace_id', 'message_id', 'type', 'user_id', 'anonymous_id', 'timestamp', 'properties', 'traits', 'context'])
        .where('profile_id', 'is', null)
        .orderBy('seq')
        .limit(limit)
        .execute()) as EventIn[];
      if (rows.length === 0) return 0;
      const batch = new BatchState(tx);
      const byProfile = new Map<string, number[]>();
      for (const row of rows) {
        const pid = await batch.resolve(row);
        const key = `${row.workspace_id}\u0000${pid}`;
        let list = byProfile.get(key);
        if (!list) byProfile.set(key, (list = []));
        list.push(row.seq);
      }
      for (const [key, seqs] of byProfile) {
        const pid = key.split('\u0000')[1]!;
        for (let i = 0; i < seqs.length; i += 500) {
          await tx.updateTable('events').set({ profile_id: pid }).where('seq', 'in', seqs.slice(i, i + 500)).execute();
        }
      }
      await batch.flushProfiles();
      return rows.length;
    });
  }
}

class BatchState {
  private profiles = new Map<string, ProfileState>();

  constructor(private readonly tx: Tx) {}

  private async profile(ws: string, id: string): Promise<ProfileState> {
    const key = `${ws}\u0000${id}`;
    let p = this.profiles.get(key);
    if (!p) {
      const r = await this.tx.selectFrom('profiles').selectAll().where('workspace_id', '=', ws).where('id', '=', id).executeTakeFirstOrThrow();
      p = {
        id,
        created_at: r.created_at,
        first_seen: r.first_seen,
        last_seen: r.last_seen,
        traits: fromJson<Record<string, TraitCell>>(r.traits),
        time_zone: r.time_zone,
        dirty: false,
        isNew: false,
      };
      this.profiles.set(key, p);
    }
    return p;
  }

  async flushProfiles(): Promise<void> {
    for (const [key, p] of this.profiles) {
      if (!p.dirty) continue;
      const ws = key.split('\u0000')[0]!;
      await this.tx
        .updateTable('profiles')
        .set({ first_seen: p.first_seen, last_seen: p.last_seen, traits: toJson(p.traits), time_zone: p.time_zone })
        .where('workspace_id', '=', ws)
        .where('id', '=', p.id)
        .execute();
    }
  }

  private async createProfile(ws: string, at: number): Promise<string> {
    const id = newId('prf');
    const now = Date.now();
    await this.tx
      .insertInto('profiles')
      .values({ workspace_id: ws, id, canonical_id: id, created_at: now, first_seen: at, last_seen: at, traits: '{}', time_zone: null })
      .execute();
    this.profiles.set(`${ws}\u0000${id}`, { id, created_at: now, first_seen: at, last_seen: at, traits: {}, time_zone: null, dirty: false, isNew: true });
    return id;
  }

  /** Finds the canonical profile of each identifier that is already known. */
  private async lookup(ws: string, ids: Identifier[]) {
    if (ids.length === 0) return [];
    return this.tx
      .selectFrom('identifiers as i')
      .innerJoin('profiles as p', (j) => j.onRef('p.workspace_id', '=', 'i.workspace_id').onRef('p.id', '=', 'i.profile_id'))
      .innerJoin('profiles as c', (j) => j.onRef('c.workspace_id', '=', 'p.workspace_id').onRef('c.id', '=', 'p.canonical_id'))
      .select(['i.kind', 'i.value', 'p.canonical_id', 'c.created_at'])
      .where('i.workspace_id', '=', ws)
      .where((eb) => eb.or(ids.map((id) => eb.and([eb('i.kind', '=', id.kind), eb('i.value', '=', id.value)]))))
      .execute();
  }

  async resolve(row: EventIn): Promise<string> {
    const ws = row.workspace_id;
    const traits = fromJson<Record<string, unknown>>(row.traits);
    const context = fromJson<Record<string, unknown>>(row.context);
    const properties = fromJson<Record<string, unknown>>(row.properties);
    const ids = extractIdentifiers({ type: row.type, user_id: row.user_id, anonymous_id: row.anonymous_id, traits, context, properties });
    const cause = (identifier?: Identifier): MergeCause => ({
      kind: row.type === 'alias' ? 'alias' : 'event',
      messageId: row.message_id,
      seq: row.seq,
      identifier,
    });

    if (row.type === 'alias') {
      const prev = String(properties.previousId ?? '');
      const asUser = await this.lookup(ws, [{ kind: 'user_id', value: prev }]);
      if (asUser.length && prev !== row.user_id) {
        // Alias between two known userIds: never merged silently.
        const mine = await this.lookup(ws, [{ kind: 'user_id', value: row.user_id! }]);
        if (mine.length && mine[0]!.canonical_id !== asUser[0]!.canonical_id) {
          await recordConflict(this.tx, ws, mine[0]!.canonical_id, asUser[0]!.canonical_id, 'alias between two userIds', cause({ kind: 'user_id', value: prev }));
          return mine[0]!.canonical_id;
        }
        if (!mine.length) ids.push({ kind: 'user_id', value: prev });
      } else if (prev) ids.push({ kind: 'anonymous_id', value: prev });
    }

    const found = await this.lookup(ws, ids);
    const knownKey = new Set(found.map((f) => `${f.kind}\u0000${f.value}`));
    // canonical → { created, first identifier that links to it }
    const candidates = new Map<string, { created: number; via: Identifier; kinds: Set<string> }>();
    for (const f of found) {
      const c = candidates.get(f.canonical_id);
      if (c) c.kinds.add(f.kind);
      else candidates.set(f.canonical_id, { created: f.created_at, via: { kind: f.kind as Identifier['kind'], value: f.value }, kinds: new Set([f.kind]) });
    }
    const uid = row.user_id;
    const uidKnown = uid ? found.find((f) => f.kind === 'user_id' && f.value === uid) : undefined;

    let current: string | null = uidKnown ? uidKnown.canonical_id : null;
    const apart: { other: string; via: Identifier; reason: string }[] = [];
    const ordered = [...candidates.entries()].filter(([c]) => c !== current).sort((a, b) => a[1].created - b[1].created || (a[0] < b[0] ? -1 : 1));
    const uidsOf = new Map<string, string[]>();
    const uids = async (c: string) => {
      let u = uidsOf.get(c);
      if (!u) uidsOf.set(c, (u = await clusterUserIds(this.tx, ws, c)));
      return u;
    };
    for (const [c, info] of ordered) {
      const theirs = await uids(c);
      const weakOnly = [...info.kinds].every((k) => k === 'anonymous_id');
      if (current === null) {
        if (uid && !uidKnown && theirs.length > 0) {
          // A new userId arriving on someone else's identifier: a shared device (anonymous id) or a real conflict.
          if (!weakOnly) apart.push({ other: c, via: info.via, reason: 'identifier already belongs to another userId' });
          continue;
        }
        current = c;
        continue;
      }
      const ours = [...(await uids(current)), ...(uid && !uidKnown ? [uid] : [])];
      if (ours.length && theirs.length && !ours.some((u) => theirs.includes(u))) {
        if (!weakOnly) apart.push({ other: c, via: info.via, reason: 'two different userIds' });
        continue;
      }
      if (await isBlocked(this.tx, ws, current, c)) {
        apart.push({ other: c, via: info.via, reason: 'kept apart by an undone merge' });
        continue;
      }
      const curCreated = current === uidKnown?.canonical_id ? uidKnown.created_at : (candidates.get(current)?.created ?? Infinity);
      const [survivor, loser] = curCreated <= info.created ? [current, c] : [c, current];
      const snapshot = structuredClone((await this.profile(ws, survivor)).traits);
      await mergeClusters(this.tx, ws, survivor, loser, cause(info.via), snapshot);
      uidsOf.set(survivor, [...(uidsOf.get(survivor) ?? []), ...(uidsOf.get(loser) ?? [])]);
      current = survivor;
    }
    if (current === null) current = await this.createProfile(ws, row.timestamp);
    for (const a of apart) await recordConflict(this.tx, ws, current, a.other, a.reason, cause(a.via));

    // Attach the identifiers seen for the first time to the profile the event belongs to.
    const fresh = ids.filter((i) => !knownKey.has(`${i.kind}\u0000${i.value}`));
    if (fresh.length) {
      const now = Date.now();
      await this.tx
        .insertInto('identifiers')
        .values(fresh.map((i) => ({ workspace_id: ws, kind: i.kind, value: i.value, profile_id: current!, created_at: now })))
        .onConflict((oc) => oc.doNothing())
        .execute();
    }

    const p = await this.profile(ws, current);
    p.first_seen = Math.min(p.first_seen, row.timestamp);
    p.last_seen = Math.max(p.last_seen, row.timestamp);
    p.dirty = true;
    const tz = (typeof context.timezone === 'string' && context.timezone) || (typeof traits.timezone === 'string' && traits.timezone) || null;
    if (tz && isTimeZone(tz)) p.time_zone = tz;
    if (row.type === 'identify') {
      for (const [k, v] of Object.entries(traits)) {
        if (RESERVED_TRAITS.has(k)) continue;
        const cell = p.traits[k];
        if (!cell || cell.t <= row.timestamp) p.traits[k] = { v, t: row.timestamp, s: row.seq };
      }
    }
    if (traits.consent !== undefined) await applyConsentTraits(this.tx, ws, current, traits.consent, row.timestamp, `identify:${row.message_id}`);
    return current;
  }
}

const tzCache = new Map<string, boolean>();
export function isTimeZone(tz: string): boolean {
  let ok = tzCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (tzCache.size < 1000) tzCache.set(tz, ok);
  }
  return ok;
}
