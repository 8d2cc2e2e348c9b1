// Builds ProfileFacts for a set of people (canonical profile ids) in a few queries: the same loader serves the
// incremental path (a handful of changed people) and the full recompute (everyone, page by page).
import { type Kysely, type Transaction, sql } from 'kysely';
import type { FactNeeds } from './deps.ts';
import { countryCode } from '../identity/extract.ts';
import type { TraitCell } from '../identity/graph.ts';
import { fromJson } from '../store/json.ts';
import type { DB } from '../store/types.ts';
import type { EventFact, ProfileFacts } from './facts.ts';
import type { CustomProperty } from './definition.ts';

type Tx = Transaction<DB> | Kysely<DB>;
const CHUNK = 400;

const CHANNEL_OF_KIND: Record<string, string> = { email: 'email', phone: 'sms', push_token: 'push' };

function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Loads facts for canonical profiles; profiles that no longer exist (merged away, deleted) are absent. */
export async function loadFacts(tx: Tx, ws: string, canonicalIds: string[], needs: FactNeeds = { events: 'all', context: true }): Promise<Map<string, ProfileFacts>> {
  const out = new Map<string, ProfileFacts>();
  if (!canonicalIds.length) return out;
  const memberOf = new Map<string, string>();
  const traitCells = new Map<string, Record<string, TraitCell>>();
  for (const part of chunks(canonicalIds)) {
    const rows = await tx.selectFrom('profiles').select(['id', 'canonical_id', 'traits']).where('workspace_id', '=', ws).where('canonical_id', 'in', part).execute();
    for (const r of rows) {
      memberOf.set(r.id, r.canonical_id);
      const merged = traitCells.get(r.canonical_id) ?? {};
      for (const [k, cell] of Object.entries(fromJson<Record<string, TraitCell>>(r.traits))) {
        if (!merged[k] || cell.t > merged[k]!.t) merged[k] = cell;
      }
      traitCells.set(r.canonical_id, merged);
    }
  }
  for (const id of canonicalIds) {
    if (!traitCells.has(id)) continue;
    const traits: Record<string, unknown> = {};
    for (const [k, cell] of Object.entries(traitCells.get(id)!)) traits[k] = cell.v;
    out.set(id, { profileId: id, traits, events: [], consent: {}, addresses: new Set(), location: {}, segments: new Set(), lists: new Set() });
  }
  const members = [...memberOf.keys()];
  const lastLocation = new Map<string, { ts: number; loc: Record<string, unknown> }>();
  for (const part of chunks(members)) {
    let eq = tx
      .selectFrom('events')
      .select(['profile_id', 'event', 'type', 'timestamp', 'channel', 'internal', 'properties', 'revenue_minor', 'currency'])
      .$if(needs.context, (q) => q.select('context'))
      .where('workspace_id', '=', ws)
      .where('profile_id', 'in', part);
    if (needs.events !== 'all') {
      // Only the events some condition looks at ("Page Viewed"/"Screen Viewed" stand for every page/screen call).
      const names = [...needs.events];
      const types = [names.includes('Page Viewed') && 'page', names.includes('Screen Viewed') && 'screen'].filter((t): t is string => !!t);
      if (!names.length) eq = eq.where(sql<boolean>`1 = 0`);
      else eq = eq.where((eb) => eb.or([eb('event', 'in', names), ...(types.length ? [eb('type', 'in', types)] : [])]));
    }
    const [events, identifiers, consents] = await Promise.all([
      eq.execute(),
      tx.selectFrom('identifiers').select(['profile_id', 'kind']).where('workspace_id', '=', ws).where('profile_id', 'in', part).execute(),
      tx.selectFrom('consents').select(['profile_id', 'channel', 'topic', 'state', 'updated_at']).where('workspace_id', '=', ws).where('profile_id', 'in', part).execute(),
    ]);
    for (const e of events) {
      const f = out.get(memberOf.get(e.profile_id!)!);
      if (!f) continue;
      const fact: EventFact = {
        event: e.event,
        type: e.type,
        ts: e.timestamp,
        channel: e.channel,
        internal: e.internal === 1,
        properties: fromJson(e.properties),
        revenueMinor: e.revenue_minor,
        currency: e.currency,
      };
      f.events.push(fact);
      const loc = needs.context ? ((fromJson<Record<string, unknown>>((e as { context?: unknown }).context).location ?? null) as Record<string, unknown> | null) : null;
      if (loc && typeof loc === 'object') {
        const prev = lastLocation.get(f.profileId);
        if (!prev || prev.ts <= e.timestamp) lastLocation.set(f.profileId, { ts: e.timestamp, loc });
      }
    }
    for (const i of identifiers) {
      const f = out.get(memberOf.get(i.profile_id)!);
      const ch = CHANNEL_OF_KIND[i.kind];
      if (f && ch) f.addresses.add(ch);
    }
    const newest = new Map<string, number>();
    for (const c of consents) {
      const f = out.get(memberOf.get(c.profile_id)!);
      if (!f) continue;
      const key = `${f.profileId}\u0000${c.channel}\u0000${c.topic}`;
      if ((newest.get(key) ?? -1) > c.updated_at) continue;
      newest.set(key, c.updated_at);
      (f.consent[c.channel] ??= {})[c.topic] = c.state;
      ((f.consentAt ??= {})[c.channel] ??= {})[c.topic] = Number(c.updated_at);
    }
  }
  for (const part of chunks(canonicalIds)) {
    const [segs, lists, rfm] = await Promise.all([
      tx.selectFrom('segment_members').select(['profile_id', 'segment_id']).where('workspace_id', '=', ws).where('profile_id', 'in', part).execute(),
      tx.selectFrom('list_members').select(['profile_id', 'list_id']).where('workspace_id', '=', ws).where('profile_id', 'in', part).execute(),
      tx.selectFrom('profile_rfm').selectAll().where('workspace_id', '=', ws).where('profile_id', 'in', part).execute(),
    ]);
    for (const s of segs) out.get(s.profile_id)?.segments.add(s.segment_id);
    for (const l of lists) out.get(l.profile_id)?.lists.add(l.list_id);
    for (const r of rfm) {
      const f = out.get(r.profile_id);
      if (f) f.rfm = { stage: r.stage, r: r.r, f: r.f, m: r.m };
    }
  }
  const custom = await loadCustomProperties(tx, ws);
  const locations = Object.fromEntries(
    (await tx.selectFrom('locations').select(['id', 'lat', 'lon']).where('workspace_id', '=', ws).execute()).map((l) => [l.id, { lat: l.lat, lon: l.lon }]),
  );
  for (const f of out.values()) {
    f.custom = custom;
    f.locations = locations;
    f.events.sort((a, b) => a.ts - b.ts);
    f.location = locationOf(f.traits, lastLocation.get(f.profileId)?.loc);
  }
  return out;
}

export async function loadCustomProperties(tx: Tx, ws: string): Promise<Record<string, CustomProperty>> {
  const rows = await tx.selectFrom('computed_properties').select(['name', 'definition']).where('workspace_id', '=', ws).execute();
  return Object.fromEntries(rows.map((r) => [r.name, fromJson<CustomProperty>(r.definition)]));
}

/** Where a person is: address traits first, then top-level traits, then the newest event's context.location. */
export function locationOf(traits: Record<string, unknown>, ctxLoc?: Record<string, unknown>): ProfileFacts['location'] {
  const addr = (traits.address && typeof traits.address === 'object' ? traits.address : {}) as Record<string, unknown>;
  const str = (...vs: unknown[]) => vs.find((v): v is string => typeof v === 'string' && v.length > 0);
  const num = (...vs: unknown[]) => vs.find((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const countryRaw = str(addr.country, traits.country, ctxLoc?.country);
  return {
    country: countryRaw ? (countryCode(countryRaw) ?? countryRaw) : undefined,
    city: str(addr.city, traits.city, ctxLoc?.city),
    lat: num(addr.latitude, addr.lat, traits.latitude, ctxLoc?.latitude),
    lon: num(addr.longitude, addr.lon, traits.longitude, ctxLoc?.longitude),
  };
}
