// One identity-processor batch. Everything the batch's events could touch is read up front in a few queries
// (identifiers by value, then their profiles), decisions are made in memory, and the results are written back in
// bulk at the end. Only the rare paths (a merge, a conflict) go to the database mid-batch, after flushing what is
// pending so the database and memory agree.
import { type Transaction, sql } from 'kysely';
import type { Store } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import { fromJson, toJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import { applyConsentTraits } from '../profiles/consent.ts';
import { enqueueSegmentWork } from '../segments/engine.ts';
import { routeEvents } from '../journeys/inbox.ts';
import { type Identifier, extractIdentifiers } from './extract.ts';
import { type MergeCause, type TraitCell, clusterUserIds, isBlocked, mergeClusters, recordConflict } from './graph.ts';

type Tx = Transaction<DB>;

export interface EventIn {
  seq: number;
  workspace_id: string;
  message_id: string;
  type: string;
  event: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  timestamp: number;
  properties: unknown;
  traits: unknown;
  context: unknown;
  channel?: string;
  revenue_minor?: number | null;
}

interface ProfileState {
  ws: string;
  id: string;
  canonical: string;
  created_at: number;
  first_seen: number;
  last_seen: number;
  traits: Record<string, TraitCell>;
  time_zone: string | null;
  dirty: boolean;
  isNew: boolean;
}

interface Parsed {
  row: EventIn;
  ids: Identifier[];
  traits: Record<string, unknown>;
  context: Record<string, unknown>;
  properties: Record<string, unknown>;
}

const RESERVED_TRAITS = new Set(['consent']);
const k2 = (ws: string, id: string) => `${ws}\u0000${id}`;
const k3 = (ws: string, kind: string, value: string) => `${ws}\u0000${kind}\u0000${value}`;
const CHUNK = 400;

export class IdentityBatch {
  /** (ws, kind, value) → the profile that owns the identifier (its original owner; canonical via `profiles`). */
  private owners = new Map<string, string>();
  private profiles = new Map<string, ProfileState>();
  private pendingIds: { workspace_id: string; kind: string; value: string; profile_id: string; created_at: number }[] = [];
  private assignments: { seq: number; profile: string }[] = [];
  /** What changed about whom, for the segment evaluator: ws → profile → reasons. */
  private work = new Map<string, Map<string, Set<string>>>();

  constructor(
    private readonly store: Store,
    private readonly tx: Tx,
  ) {}

  async run(rows: EventIn[]): Promise<void> {
    const parsed = rows.map((row) => this.parse(row));
    await this.prefetch(parsed);
    for (const p of parsed) this.assignments.push({ seq: p.row.seq, profile: await this.resolve(p) });
    await this.flush();
    await this.writeAssignments();
    await this.writeDirtyProfiles();
    await this.enqueueWork();
    await this.routeToJourneys(parsed);
  }

  /** Track calls some journey or broadcast reacts to go to the journeys' inbox, in this same transaction. */
  private async routeToJourneys(parsed: Parsed[]): Promise<void> {
    const events = [];
    for (let i = 0; i < parsed.length; i++) {
      const p = parsed[i]!;
      if (p.row.type !== 'track' || !p.row.event) continue;
      const profile = this.assignments[i]!.profile;
      const canonical = this.profiles.get(k2(p.row.workspace_id, profile))?.canonical ?? profile;
      events.push({
        ws: p.row.workspace_id,
        profileId: canonical,
        event: { seq: Number(p.row.seq), name: p.row.event, properties: p.properties, timestamp: Number(p.row.timestamp), channel: p.row.channel, revenueMinor: p.row.revenue_minor == null ? null : Number(p.row.revenue_minor) },
      });
    }
    await routeEvents(this.tx, events, Date.now());
  }

  private note(ws: string, profile: string, reason: string): void {
    let m = this.work.get(ws);
    if (!m) this.work.set(ws, (m = new Map()));
    let r = m.get(profile);
    if (!r) m.set(profile, (r = new Set()));
    r.add(reason);
  }

  /** Queues the people this batch touched for segment re-evaluation — only in workspaces that have segments. */
  private async enqueueWork(): Promise<void> {
    if (!this.work.size) return;
    const withSegments = await this.tx
      .selectFrom('segments')
      .select('workspace_id')
      .distinct()
      .where('workspace_id', 'in', [...this.work.keys()])
      .where('status', '=', 'active')
      .execute();
    for (const { workspace_id } of withSegments) await enqueueSegmentWork(this.tx, workspace_id, this.work.get(workspace_id)!);
  }

  private parse(row: EventIn): Parsed {
    const traits = fromJson<Record<string, unknown>>(row.traits);
    const context = fromJson<Record<string, unknown>>(row.context);
    const properties = fromJson<Record<string, unknown>>(row.properties);
    const ids = extractIdentifiers({ type: row.type, user_id: row.user_id, anonymous_id: row.anonymous_id, traits, context, properties });
    if (row.type === 'alias' && properties.previousId !== undefined) {
      // previousId may be an anonymous id or an earlier userId: look both up.
      const prev = String(properties.previousId);
      ids.push({ kind: 'anonymous_id', value: prev });
      if (prev !== row.user_id) ids.push({ kind: 'user_id', value: prev });
    }
    return { row, ids, traits, context, properties };
  }

  private async prefetch(parsed: Parsed[]): Promise<void> {
    const byWs = new Map<string, Set<string>>();
    for (const p of parsed) {
      let s = byWs.get(p.row.workspace_id);
      if (!s) byWs.set(p.row.workspace_id, (s = new Set()));
      for (const i of p.ids) s.add(i.value);
    }
    const owners = new Map<string, Set<string>>();
    for (const [ws, values] of byWs) {
      const list = [...values];
      for (let i = 0; i < list.length; i += CHUNK) {
        const found = await this.tx
          .selectFrom('identifiers')
          .select(['kind', 'value', 'profile_id'])
          .where('workspace_id', '=', ws)
          .where('value', 'in', list.slice(i, i + CHUNK))
          .execute();
        for (const f of found) {
          this.owners.set(k3(ws, f.kind, f.value), f.profile_id);
          let s = owners.get(ws);
          if (!s) owners.set(ws, (s = new Set()));
          s.add(f.profile_id);
        }
      }
    }
    for (const [ws, ids] of owners) {
      await this.loadProfiles(ws, [...ids]);
      // Owners may be merged into profiles not yet loaded: load those canonicals too.
      const canon = [...ids].map((id) => this.profiles.get(k2(ws, id))?.canonical).filter((c): c is string => !!c && !this.profiles.has(k2(ws, c)));
      await this.loadProfiles(ws, [...new Set(canon)]);
    }
  }

  private async loadProfiles(ws: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += CHUNK) {
      const rows = await this.tx.selectFrom('profiles').selectAll().where('workspace_id', '=', ws).where('id', 'in', ids.slice(i, i + CHUNK)).execute();
      for (const r of rows) {
        this.profiles.set(k2(ws, r.id), {
          ws,
          id: r.id,
          canonical: r.canonical_id,
          created_at: r.created_at,
          first_seen: r.first_seen,
          last_seen: r.last_seen,
          traits: fromJson<Record<string, TraitCell>>(r.traits),
          time_zone: r.time_zone,
          dirty: false,
          isNew: false,
        });
      }
    }
  }

  private async profile(ws: string, id: string): Promise<ProfileState> {
    let p = this.profiles.get(k2(ws, id));
    if (!p) {
      await this.loadProfiles(ws, [id]);
      p = this.profiles.get(k2(ws, id));
      if (!p) throw new Error(`profile ${id} vanished during identity processing`);
    }
    return p;
  }

  private async canonicalOf(ws: string, ownerId: string): Promise<ProfileState> {
    const owner = await this.profile(ws, ownerId);
    return owner.canonical === owner.id ? owner : this.profile(ws, owner.canonical);
  }

  /** Writes pending new profiles and identifiers so that SQL sees what memory sees (before merges and at the end). */
  private async flush(): Promise<void> {
    const fresh = [...this.profiles.values()].filter((p) => p.isNew);
    for (let i = 0; i < fresh.length; i += CHUNK) {
      await this.tx
        .insertInto('profiles')
        .values(
          fresh.slice(i, i + CHUNK).map((p) => ({
            workspace_id: p.ws,
            id: p.id,
            canonical_id: p.canonical,
            created_at: p.created_at,
            first_seen: p.first_seen,
            last_seen: p.last_seen,
            traits: toJson(p.traits),
            time_zone: p.time_zone,
          })),
        )
        .execute();
    }
    for (const p of fresh) {
      p.isNew = false;
      p.dirty = false;
    }
    for (let i = 0; i < this.pendingIds.length; i += CHUNK) {
      await this.tx.insertInto('identifiers').values(this.pendingIds.slice(i, i + CHUNK)).onConflict((oc) => oc.doNothing()).execute();
    }
    this.pendingIds = [];
  }

  private async writeAssignments(): Promise<void> {
    if (this.store.sqlite) {
      // Inside Kysely's transaction on the one SQLite connection: prepared statements are the fast path.
      const stmt = this.store.sqlite.prepare('UPDATE events SET profile_id = ? WHERE seq = ?');
      for (const a of this.assignments) stmt.run(a.profile, a.seq);
      return;
    }
    for (let i = 0; i < this.assignments.length; i += 5000) {
      const part = this.assignments.slice(i, i + 5000);
      await sql`UPDATE events e SET profile_id = v.p FROM unnest(${part.map((a) => a.seq)}::int8[], ${part.map((a) => a.profile)}::text[]) AS v(s, p)
                WHERE e.seq = v.s`.execute(this.tx);
    }
  }

  private async writeDirtyProfiles(): Promise<void> {
    const dirty = [...this.profiles.values()].filter((p) => p.dirty);
    for (const p of dirty) p.dirty = false;
    if (this.store.sqlite) {
      const stmt = this.store.sqlite.prepare('UPDATE profiles SET first_seen = ?, last_seen = ?, traits = ?, time_zone = ? WHERE workspace_id = ? AND id = ?');
      for (const p of dirty) stmt.run(p.first_seen, p.last_seen, toJson(p.traits), p.time_zone, p.ws, p.id);
      return;
    }
    for (let i = 0; i < dirty.length; i += 2000) {
      const part = dirty.slice(i, i + 2000);
      await sql`UPDATE profiles p SET first_seen = v.f, last_seen = v.l, traits = v.t::jsonb, time_zone = v.z
                FROM unnest(${part.map((x) => x.ws)}::text[], ${part.map((x) => x.id)}::text[], ${part.map((x) => x.first_seen)}::int8[],
                            ${part.map((x) => x.last_seen)}::int8[], ${part.map((x) => toJson(x.traits))}::text[], ${part.map((x) => x.time_zone)}::text[])
                     AS v(w, i, f, l, t, z)
                WHERE p.workspace_id = v.w AND p.id = v.i`.execute(this.tx);
    }
  }

  private newProfile(ws: string, at: number): ProfileState {
    const id = newId('prf');
    const p: ProfileState = { ws, id, canonical: id, created_at: Date.now(), first_seen: at, last_seen: at, traits: {}, time_zone: null, dirty: false, isNew: true };
    this.profiles.set(k2(ws, id), p);
    return p;
  }

  /** Points every loaded profile of the loser's cluster at the survivor, as mergeClusters does in SQL. */
  private repoint(ws: string, loser: string, survivor: string): void {
    for (const p of this.profiles.values()) if (p.ws === ws && p.canonical === loser) p.canonical = survivor;
  }

  private async resolve(ev: Parsed): Promise<string> {
    const { row, ids, traits, context } = ev;
    const ws = row.workspace_id;
    const cause = (identifier?: Identifier): MergeCause => ({ kind: row.type === 'alias' ? 'alias' : 'event', messageId: row.message_id, seq: row.seq, identifier });

    // canonical id → how this event links to it
    const candidates = new Map<string, { p: ProfileState; via: Identifier; kinds: Set<string> }>();
    const known = new Set<string>();
    let uidOwner: ProfileState | null = null;
    let aliasPrevUser: ProfileState | null = null;
    for (const id of ids) {
      const owner = this.owners.get(k3(ws, id.kind, id.value));
      if (!owner) continue;
      known.add(k3(ws, id.kind, id.value));
      const c = await this.canonicalOf(ws, owner);
      if (row.type === 'alias' && id.kind === 'user_id' && id.value !== row.user_id) {
        aliasPrevUser = c;
        continue;
      }
      if (id.kind === 'user_id' && id.value === row.user_id) uidOwner = c;
      const e = candidates.get(c.id);
      if (e) e.kinds.add(id.kind);
      else candidates.set(c.id, { p: c, via: id, kinds: new Set([id.kind]) });
    }
    const uid = row.user_id;

    if (row.type === 'alias' && aliasPrevUser) {
      // An alias between two known userIds is never merged silently.
      if (uidOwner && uidOwner.id !== aliasPrevUser.id) {
        await this.flush();
        await recordConflict(this.tx, ws, uidOwner.id, aliasPrevUser.id, 'alias between two userIds', cause({ kind: 'user_id', value: String(ev.properties.previousId) }));
        return this.touch(ev, uidOwner);
      }
      if (!uidOwner) candidates.set(aliasPrevUser.id, { p: aliasPrevUser, via: { kind: 'user_id', value: String(ev.properties.previousId) }, kinds: new Set(['user_id']) });
    }

    let current: ProfileState | null = uidOwner;
    const others = [...candidates.values()].filter((c) => c.p.id !== current?.id).sort((a, b) => a.p.created_at - b.p.created_at || (a.p.id < b.p.id ? -1 : 1));
    const apart: { other: string; via: Identifier; reason: string }[] = [];
    if (others.length > (current ? 0 : 1) || (uid && !uidOwner && others.length > 0)) {
      // The slow path: links between clusters. Make SQL current, then decide with the database.
      await this.flush();
      const uidsOf = new Map<string, string[]>();
      const uids = async (c: string) => {
        let u = uidsOf.get(c);
        if (!u) uidsOf.set(c, (u = await clusterUserIds(this.tx, ws, c)));
        return u;
      };
      for (const { p: c, via, kinds } of others) {
        const theirs = await uids(c.id);
        const weakOnly = [...kinds].every((k) => k === 'anonymous_id');
        if (current === null) {
          if (uid && !uidOwner && theirs.length > 0) {
            // A new userId arriving on someone else's identifier: a shared device (anonymous id) or a real conflict.
            if (!weakOnly) apart.push({ other: c.id, via, reason: 'identifier already belongs to another userId' });
            continue;
          }
          current = c;
          continue;
        }
        const ours = [...(await uids(current.id)), ...(uid && !uidOwner ? [uid] : [])];
        if (ours.length && theirs.length && !ours.some((u) => theirs.includes(u))) {
          if (!weakOnly) apart.push({ other: c.id, via, reason: 'two different userIds' });
          continue;
        }
        if (await isBlocked(this.tx, ws, current.id, c.id)) {
          apart.push({ other: c.id, via, reason: 'kept apart by an undone merge' });
          continue;
        }
        const [survivor, loser] = current.created_at <= c.created_at ? [current, c] : [c, current];
        await mergeClusters(this.tx, ws, survivor.id, loser.id, cause(via), structuredClone(survivor.traits));
        this.note(ws, survivor.id, 'merge');
        this.note(ws, loser.id, 'merge');
        this.repoint(ws, loser.id, survivor.id);
        uidsOf.set(survivor.id, [...(uidsOf.get(survivor.id) ?? []), ...(uidsOf.get(loser.id) ?? [])]);
        current = survivor;
      }
    } else if (!current && others.length === 1) current = others[0]!.p;

    if (!current) current = this.newProfile(ws, row.timestamp);
    if (apart.length) {
      await this.flush();
      for (const a of apart) await recordConflict(this.tx, ws, current.id, a.other, a.reason, cause(a.via));
    }

    // Identifiers seen for the first time belong to the profile the event belongs to.
    const now = Date.now();
    for (const i of ids) {
      const key = k3(ws, i.kind, i.value);
      if (known.has(key) || this.owners.has(key)) continue;
      if (row.type === 'alias' && i.kind === 'user_id' && i.value !== row.user_id) continue; // an unknown previousId is an anonymous id
      this.owners.set(key, current.id);
      this.pendingIds.push({ workspace_id: ws, kind: i.kind, value: i.value, profile_id: current.id, created_at: now });
      this.note(ws, current.id, 'identity');
    }
    return this.touch(ev, current, traits, context);
  }

  private async touch(ev: Parsed, p: ProfileState, traits = ev.traits, context = ev.context): Promise<string> {
    const { row } = ev;
    this.note(row.workspace_id, p.id, row.type === 'identify' ? 'traits' : `e:${ev.row.type === 'page' ? 'Page Viewed' : ev.row.type === 'screen' ? 'Screen Viewed' : (ev.row.event ?? row.type)}`);
    if ((row.type === 'page' || row.type === 'screen') && ev.row.event) this.note(row.workspace_id, p.id, `e:${ev.row.event}`);
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
    if (traits.consent !== undefined) {
      if (p.isNew) await this.flush();
      await applyConsentTraits(this.tx, row.workspace_id, p.id, traits.consent, row.timestamp, `identify:${row.message_id}`);
      this.note(row.workspace_id, p.id, 'consent');
    }
    return p.id;
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
