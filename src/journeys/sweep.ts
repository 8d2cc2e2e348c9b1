// Entries no event causes: schedules (every day / week at a local time, or once at an instant) and date traits
// (birthday, anniversary, N days before a date, at a local time in each person's zone). A sweep enters everyone whose
// moment fell in (swept_at, now] and moves swept_at to now, in one transaction holding the journeys lock, so each
// moment is entered exactly once however many processes sweep.
import type { Store } from '../store/db.ts';
import { fromJson } from '../store/json.ts';
import { localParts, zonedTimeToUtc } from '../messaging/arbiter/local-time.ts';
import type { JourneyCatalog } from './catalog.ts';
import type { JourneyDefinition } from './definition.ts';
import { enqueueEntries } from './inbox.ts';
import { nextLocalTime } from './step.ts';

/** Date traits are scanned at most this often (a scan reads every profile's traits). */
const DATE_SCAN_MS = 60_000;
const DAY = 86_400_000;

/** The schedule's occurrences in (from, to] (zone: the workspace's default). */
export function occurrences(entry: Extract<JourneyDefinition['entry'], { kind: 'schedule' }>, from: number, to: number, zone: string): number[] {
  if (entry.at) {
    const t = Date.parse(entry.at);
    return t > from && t <= to ? [t] : [];
  }
  const out: number[] = [];
  let t = from;
  for (let i = 0; i < 400; i++) {
    t = nextLocalTime(t, entry.time!, entry.every === 'week' ? entry.weekdays : undefined, zone);
    if (t > to) break;
    out.push(t);
  }
  return out;
}

/** The moment a date trait's person enters this year (or next): the date + offset days, at `time` in their zone. */
export function dateTraitMoment(value: unknown, offsetDays: number, time: string, recurring: boolean, zone: string, around: number): number | null {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})/.exec(value) : null;
  if (!m) return null;
  const [hh, mm] = time.split(':').map(Number) as [number, number];
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!recurring) return zonedTimeToUtc(y, mo, d + offsetDays, hh, mm, zone);
  const year = localParts(around, zone).year;
  // The anniversary this year; the one of last or next year when the offset crosses a year end.
  const candidates = [year - 1, year, year + 1].map((yy) => zonedTimeToUtc(yy, mo, d + offsetDays, hh, mm, zone));
  return candidates.reduce((best, c) => (Math.abs(c - around) < Math.abs(best - around) ? c : best));
}

export async function sweepEntries(store: Store, catalog: JourneyCatalog, now: number, log?: (msg: string, err?: unknown) => void): Promise<number> {
  const rows = await store.db.selectFrom('journeys').select(['workspace_id', 'id', 'version', 'swept_at']).where('status', '=', 'active').execute();
  let n = 0;
  for (const r of rows) {
    const def = await catalog.version(r.workspace_id, r.id, r.version);
    if (def.entry.kind !== 'schedule' && def.entry.kind !== 'date_trait') continue;
    const from = Number(r.swept_at ?? now);
    if (def.entry.kind === 'date_trait' && now - from < DATE_SCAN_MS) continue;
    if (now <= from) continue;
    try {
      n += await store.db.transaction().execute(async (tx) => {
        await tx.updateTable('locks').set({ at: now }).where('name', '=', 'journeys').execute();
        const fresh = await tx.selectFrom('journeys').select('swept_at').where('workspace_id', '=', r.workspace_id).where('id', '=', r.id).executeTakeFirst();
        const since = Number(fresh?.swept_at ?? now);
        if (since >= now) return 0;
        const ws = r.workspace_id;
        const zoneRow = await tx.selectFrom('messaging_settings').select('value').where('workspace_id', '=', ws).where('name', '=', 'policy').executeTakeFirst();
        const wsZone = (fromJson<{ defaultTimeZone?: string }>(zoneRow?.value).defaultTimeZone) ?? 'UTC';
        const entered: string[] = [];
        if (def.entry.kind === 'schedule') {
          if (occurrences(def.entry, since, now, wsZone).length > 0) {
            const audience = def.entry.segment
              ? await tx.selectFrom('segment_members').select('profile_id as id').where('workspace_id', '=', ws).where('segment_id', '=', def.entry.segment).execute()
              : await tx.selectFrom('profiles').select('id').where('workspace_id', '=', ws).whereRef('canonical_id', '=', 'id').execute();
            entered.push(...audience.map((a) => a.id));
          }
        } else {
          const e = def.entry as Extract<JourneyDefinition['entry'], { kind: 'date_trait' }>;
          const people = await tx.selectFrom('profiles').select(['id', 'traits', 'time_zone']).where('workspace_id', '=', ws).whereRef('canonical_id', '=', 'id').execute();
          for (const p of people) {
            const cell = fromJson<Record<string, { v: unknown }>>(p.traits)[e.trait];
            if (!cell) continue;
            const at = dateTraitMoment(cell.v, e.offsetDays, e.time, e.recurring !== false, p.time_zone ?? wsZone, now);
            if (at !== null && at > since && at <= now && now - at < DAY) entered.push(p.id);
          }
        }
        for (let i = 0; i < entered.length; i += 1000) await enqueueEntries(tx, ws, r.id, entered.slice(i, i + 1000).map((profileId) => ({ profileId })), now);
        await tx.updateTable('journeys').set({ swept_at: now }).where('workspace_id', '=', ws).where('id', '=', r.id).execute();
        return entered.length;
      });
    } catch (e) {
      log?.(`journey ${r.workspace_id}/${r.id}: scheduled entry failed; will retry`, e);
    }
  }
  return n;
}
