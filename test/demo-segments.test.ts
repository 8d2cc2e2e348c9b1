// Acceptance on real data: the UCI Online Retail demo loaded by `omnia demo`, RFM stages for every customer and the
// segment "bought ≥ 3 times in the last 90 days and lives in Germany", each checked against SQL written here.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type Store } from '../src/store/db.ts';
import { SegmentEngine } from '../src/segments/engine.ts';
import { recomputeRfm } from '../src/segments/rfm.ts';
import { createSegment } from '../src/segments/service.ts';
import { BACKENDS, PG_URL, tempDir } from './helpers.ts';

const run = promisify(execFile);
const DAY = 86_400_000;
// The day after the data set's last invoice (2011-12-09): "now" for recency.
const NOW = Date.UTC(2011, 11, 10);

// The stage grid of docs/segments.md, written out again here on purpose (R rows 5..1, FM columns 1..5).
const GRID = [
  ['New', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
  ['Promising', 'Potential loyalist', 'Potential loyalist', 'Champions', 'Champions'],
  ['About to sleep', 'About to sleep', 'Needs attention', 'Loyal', 'Loyal'],
  ['Hibernating', 'Hibernating', 'At risk', 'At risk', 'At risk'],
  ['Lost', 'Lost', 'At risk', 'At risk', "Can't lose them"],
];

/** Quintile score by rank: 1 + floor(5 × (how many customers have a strictly lower value) / n). */
function scores(values: number[]): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  const firstIndex = new Map<number, number>();
  sorted.forEach((v, i) => {
    if (!firstIndex.has(v)) firstIndex.set(v, i);
  });
  return values.map((v) => Math.min(5, 1 + Math.floor((5 * firstIndex.get(v)!) / values.length)));
}

describe.each(BACKENDS)('Online Retail demo: RFM and a segment against SQL (%s)', (backend) => {
  const dbName = `omnia_demo_${randomBytes(4).toString('hex')}`;
  const url = PG_URL.replace(/\/[^/]*$/, `/${dbName}`);
  const dir = tempDir();
  let store: Store | undefined;
  afterAll(async () => {
    await store?.close();
    if (backend === 'postgres') {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await admin.end();
    }
  });

  it('stage counts and members match', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, OMNIA_DATA_DIR: dir, LOG_LEVEL: 'warn', OMNIA_WRITE_KEY: '', OMNIA_ADMIN_KEY: '' };
    if (backend === 'postgres') {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${dbName}`);
      await admin.end();
      env.DATABASE_URL = url;
    } else delete env.DATABASE_URL;
    const out = await run(process.execPath, ['bin/omnia.mjs', 'demo', '--no-activity'], { env, maxBuffer: 10 * 1024 * 1024 });
    expect(out.stdout).toMatch(/customers\s+4,372\s+4,372\s+OK/);
    expect(out.stdout).toMatch(/countries\s+38\s+38\s+OK/);

    store = await openStore(backend === 'postgres' ? { databaseUrl: url } : { dataDir: dir });
    const ws = 'default';
    // The demo staged everyone itself (a server started before it would otherwise show no RFM until the daily run).
    expect(out.stdout).toMatch(/RFM stages: \d{1,3}(,\d{3})+ customers \([A-Z]/);
    expect((await store.db.selectFrom('profile_rfm').select(sql<number>`count(*)`.as('n')).where('workspace_id', '=', ws).executeTakeFirstOrThrow()).n).toBeGreaterThan(4000);

    // --- RFM against SQL aggregates scored here ---
    const counts = await recomputeRfm(store, ws, NOW);
    const agg = (
      await sql<{ pid: string; orders: number; spent: number; last: number }>`
        SELECT p.canonical_id AS pid, COUNT(*) AS orders, SUM(e.revenue_minor) AS spent, MAX(e.timestamp) AS last
        FROM events e JOIN profiles p ON p.workspace_id = e.workspace_id AND p.id = e.profile_id
        WHERE e.workspace_id = ${ws} AND e.event = 'Order Completed' AND e.internal = 0
        GROUP BY p.canonical_id`.execute(store.db)
    ).rows.map((r) => ({ pid: r.pid, orders: Number(r.orders), spent: Number(r.spent), last: Number(r.last) }));
    expect(agg.length).toBeGreaterThan(4000);
    const r = scores(agg.map((a) => -Math.floor((NOW - a.last) / DAY)));
    const f = scores(agg.map((a) => a.orders));
    const m = scores(agg.map((a) => a.spent));
    const expected: Record<string, number> = {};
    const stageOf = new Map<string, string>();
    agg.forEach((a, i) => {
      const stage = GRID[5 - r[i]!]![Math.round((f[i]! + m[i]!) / 2) - 1]!;
      expected[stage] = (expected[stage] ?? 0) + 1;
      stageOf.set(a.pid, stage);
    });
    const nonZero = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
    expect(nonZero).toEqual(expected);
    const stored = await store.db.selectFrom('profile_rfm').select(['profile_id', 'stage']).where('workspace_id', '=', ws).execute();
    expect(stored.length).toBe(agg.length);
    for (const s of stored) expect(s.stage).toBe(stageOf.get(s.profile_id));

    // --- "≥ 3 orders in the last 90 days, in Germany" against SQL ---
    const engine = new SegmentEngine(store, { clock: () => NOW });
    const seg = await createSegment(
      store,
      engine,
      ws,
      {
        name: 'German regulars',
        definition: {
          kind: 'and',
          conditions: [
            { kind: 'event', event: 'Order Completed', op: 'count', count: { op: 'gte', value: 3 }, window: { amount: 90, unit: 'days' } },
            { kind: 'geo', country: ['Germany'] },
          ],
        },
      },
      true,
    );
    const country = backend === 'postgres' ? sql`(pr.traits->'country'->>'v')` : sql`json_extract(pr.traits, '$.country.v')`;
    const want = (
      await sql<{ pid: string }>`
        SELECT p.canonical_id AS pid
        FROM events e JOIN profiles p ON p.workspace_id = e.workspace_id AND p.id = e.profile_id
        WHERE e.workspace_id = ${ws} AND e.event = 'Order Completed' AND e.internal = 0
          AND e.timestamp > ${NOW - 90 * DAY} AND e.timestamp <= ${NOW}
          AND EXISTS (SELECT 1 FROM profiles pr WHERE pr.workspace_id = p.workspace_id AND pr.canonical_id = p.canonical_id
                      AND ${country} = 'Germany')
        GROUP BY p.canonical_id HAVING COUNT(*) >= 3`.execute(store.db)
    ).rows
      .map((x) => x.pid)
      .sort();
    expect(want.length).toBeGreaterThan(5);
    const got = (await store.db.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', ws).where('segment_id', '=', seg.id).execute())
      .map((x) => x.profile_id)
      .sort();
    expect(got).toEqual(want);
  }, 300_000);
});
