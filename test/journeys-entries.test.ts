// Journey entries and nodes beyond the acceptance scenarios, on both backends with a simulated clock: a birthday
// (date trait at 09:00 local), a daily schedule for a segment, jump and list nodes, migrating people in flight to a
// new version by node mapping, and broadcasts at each recipient's local time, throttled, with a live audience.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe.each(BACKENDS)('journey entries, nodes and broadcast timing (%s)', (backend) => {
  let o: TestOmnia;
  let smtp: TestSmtpServer;
  // Tuesday 10 March 2026, 12:00 UTC.
  let now = Date.UTC(2026, 2, 10, 12, 0);
  const tpl: Record<string, string> = {};
  const at = () => new Date(now).toISOString();
  const ok = async (method: string, path: string, body?: unknown, status = 200) => {
    const r = await o.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBe(status);
    return r.body;
  };
  const identify = async (userId: string, traits: Record<string, unknown>, timezone = 'Europe/London') => {
    expect((await o.track('/v1/identify', { userId, traits: { consent: { email: 'subscribed' }, ...traits }, context: { timezone }, timestamp: at() })).status).toBe(200);
    await o.settle();
    return (await ok('GET', `/api/profiles/lookup?userId=${encodeURIComponent(userId)}`)).id as string;
  };
  const advance = async (ms: number) => {
    now += ms;
    await o.settle();
  };
  const runsOf = async (pid: string) => (await ok('GET', `/api/profiles/${pid}/journeys`)).journeys as { journeyId: string; status: string; node: string; version: number; exitReason: string | null; path: string[] }[];
  const messagesOf = async (pid: string) => (await ok('GET', `/api/profiles/${pid}/messages`)).messages as { id: string; source: string; status: string; nextAttemptAt: number | null; templateId: string | null }[];
  const base = { topic: 'marketing', priority: 20, reentry: { policy: 'always' } };
  const send = (template: string, next: string) => ({ kind: 'send', channel: 'email', templates: { email: template }, next });

  beforeAll(async () => {
    o = await startTestOmnia(backend, { clock: () => now });
    smtp = await startSmtpServer();
    await ok('PUT', '/api/messaging/providers/email', { host: '127.0.0.1', port: smtp.port, messageIdDomain: 'mail.shop.test' });
    await ok('PUT', '/api/messaging/policy', { caps: [], quietHours: [], defaultTimeZone: 'Europe/London' });
    for (const k of ['one', 'two', 'three']) {
      tpl[k] = (await ok('POST', '/api/templates', { name: k, source: { channel: 'email', subject: `Template ${k}`, mjml: `<mj-section><mj-column><mj-text>${k}</mj-text></mj-column></mj-section>` } }, 201)).id;
    }
  });
  afterAll(async () => {
    await o?.close();
    await smtp?.close();
  });

  it('a birthday enters at 09:00 in the person\'s own zone; a daily schedule enters its segment', async () => {
    const bday = await ok('POST', '/api/playbooks/birthday', { templates: { email: tpl.one } }, 201);
    await publish(bday.id);
    const ann = await identify('bd-ann', { email: 'bd-ann@example.com', birthday: '1990-03-12' }, 'Europe/London');
    const bob = await identify('bd-bob', { email: 'bd-bob@example.com', birthday: '1985-03-12' }, 'America/New_York');
    const cy = await identify('bd-cy', { email: 'bd-cy@example.com', birthday: '1985-07-01' }, 'Europe/London');
    // 12 March, 09:30 UTC: 09:00 has come in London, not yet in New York (04:30).
    await advance(Date.UTC(2026, 2, 12, 9, 30) - now);
    expect((await runsOf(ann)).map((r) => r.journeyId)).toEqual([bday.id]);
    expect(await runsOf(bob)).toEqual([]);
    await advance(5 * HOUR); // 14:30 UTC = 09:30 in New York
    expect((await runsOf(bob)).map((r) => r.journeyId)).toEqual([bday.id]);
    expect(await runsOf(cy)).toEqual([]);
    await advance(HOUR);
    expect((await runsOf(ann)).length).toBe(1); // once, not at every sweep

    const seg = await ok('POST', '/api/segments?wait=true', { name: 'Daily digest', definition: { kind: 'trait', trait: 'digest', op: 'eq', value: true } }, 201);
    const dee = await identify('sc-dee', { email: 'sc-dee@example.com', digest: true });
    const daily = await ok('POST', '/api/journeys', { ...base, name: 'Daily digest', entry: { kind: 'schedule', every: 'day', time: '08:00', segment: seg.id }, start: 'hi', nodes: { hi: send(tpl.two, 'done'), done: { kind: 'exit' } } }, 201);
    await publish(daily.id);
    await advance(Date.UTC(2026, 2, 13, 8, 30) - now);
    await advance(DAY);
    const runs = (await runsOf(dee)).filter((r) => r.journeyId === daily.id);
    expect(runs.length).toBe(2); // 13 and 14 March at 08:00
    expect(runs.every((r) => r.exitReason === 'exit_node')).toBe(true);
    expect((await runsOf(ann)).some((r) => r.journeyId === daily.id)).toBe(false);
  });

  it('jump enters another journey; list nodes add and remove; migrate moves people in flight onto a new version', async () => {
    const list = await ok('POST', '/api/lists', { name: 'Engaged' }, 201);
    const target = await ok('POST', '/api/journeys', { ...base, name: 'Target', entry: { kind: 'api' }, start: 'hi', nodes: { hi: send(tpl.three, 'done'), done: { kind: 'exit' } } }, 201);
    await publish(target.id);
    const src = await ok('POST', '/api/journeys', { ...base, name: 'Source', entry: { kind: 'api' }, start: 'add', nodes: { add: { kind: 'list', op: 'add', listId: list.id, next: 'go' }, go: { kind: 'jump', journeyId: target.id } } }, 201);
    await publish(src.id);
    const eli = await identify('jp-eli', { email: 'jp-eli@example.com' });
    await ok('POST', `/api/journeys/${src.id}/entries`, { people: [{ userId: 'jp-eli' }] }, 202);
    await o.settle();
    const runs = await runsOf(eli);
    expect(runs.find((r) => r.journeyId === src.id)).toMatchObject({ exitReason: 'jump' });
    expect(runs.find((r) => r.journeyId === target.id)).toMatchObject({ exitReason: 'exit_node' });
    const members = await o.rt.store.db.selectFrom('list_members').select('profile_id').where('list_id', '=', list.id).execute();
    expect(members.map((m) => m.profile_id)).toEqual([eli]);

    const v1 = { ...base, name: 'Migrating', entry: { kind: 'api' }, start: 'w1', nodes: { w1: { kind: 'delay', duration: { amount: 1, unit: 'days' }, next: 'a' }, a: send(tpl.one, 'done'), done: { kind: 'exit' } } };
    const j = await ok('POST', '/api/journeys', v1, 201);
    await publish(j.id);
    const fay = await identify('mg-fay', { email: 'mg-fay@example.com' });
    await ok('POST', `/api/journeys/${j.id}/entries`, { people: [{ userId: 'mg-fay' }] }, 202);
    await o.settle();
    const v2 = { ...v1, start: 'w2', nodes: { w2: { kind: 'delay', duration: { amount: 1, unit: 'days' }, next: 'b' }, b: send(tpl.two, 'done'), done: { kind: 'exit' } } };
    await ok('PUT', `/api/journeys/${j.id}`, v2);
    expect((await o.api('POST', `/api/journeys/${j.id}/publish`, { migrate: { nodes: { w1: 'nowhere' } } })).status).toBe(400);
    const pub = await ok('POST', `/api/journeys/${j.id}/publish`, { migrate: { nodes: { w1: 'w2' } } });
    expect(pub).toMatchObject({ version: 2, migrated: 1 }); // the refused publish made no version
    expect((await runsOf(fay)).find((r) => r.journeyId === j.id)).toMatchObject({ version: 2, node: 'w2' });
    await advance(DAY + HOUR);
    const sent = (await messagesOf(fay)).filter((m) => m.source === `journey:${j.id}`);
    expect(sent.map((m) => m.templateId)).toEqual([tpl.two]);
  });

  it('a broadcast at 09:00 in each recipient\'s zone, throttled per minute, with a live audience', async () => {
    const seg = await ok('POST', '/api/segments?wait=true', { name: 'Locals', definition: { kind: 'trait', trait: 'local', op: 'eq', value: true } }, 201);
    const london = await identify('bc-lon', { email: 'bc-lon@example.com', local: true }, 'Europe/London');
    const ny = await identify('bc-ny', { email: 'bc-ny@example.com', local: true }, 'America/New_York');
    const gone = await identify('bc-gone', { email: 'bc-gone@example.com', local: true }, 'America/New_York');
    await o.settle();
    const day = new Date(now + DAY).toISOString().slice(0, 10);
    const b = await ok('POST', '/api/broadcasts', { name: 'Morning', segmentId: seg.id, audience: 'live', channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.one } }], schedule: { localTime: '09:00', date: day } }, 201);
    await ok('POST', `/api/broadcasts/${b.id}/send`);
    await o.settle();
    const due = async (pid: string) => (await messagesOf(pid)).find((m) => m.source === `broadcast:${b.id}`)!;
    expect((await due(london)).nextAttemptAt).toBe(Date.parse(`${day}T09:00:00Z`));
    expect((await due(ny)).nextAttemptAt).toBe(Date.parse(`${day}T13:00:00Z`)); // EDT since 8 March
    // One New Yorker leaves the audience before their morning: the live audience drops them.
    expect((await o.track('/v1/identify', { userId: 'bc-gone', traits: { local: false }, timestamp: at() })).status).toBe(200);
    await o.settle();
    await advance(Date.parse(`${day}T14:00:00Z`) - now);
    expect((await due(london)).status).toBe('sent');
    expect((await due(ny)).status).toBe('sent');
    const left = await ok('GET', `/api/messages/${(await due(gone)).id}`);
    expect(left.status).toBe('cancelled');
    expect(left.decisions.at(-1)).toMatchObject({ code: 'left_audience' });

    // Throttled: 2 a minute for 5 people → the 3rd and 4th a minute later, the 5th two minutes later.
    const seg2 = await ok('POST', '/api/segments?wait=true', { name: 'Throttled', definition: { kind: 'trait', trait: 'thr', op: 'eq', value: true } }, 201);
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await identify(`th-${i}`, { email: `th-${i}@example.com`, thr: true }));
    await o.settle();
    const t = await ok('POST', '/api/broadcasts', { name: 'Slow', segmentId: seg2.id, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.two } }], throttlePerMinute: 2 }, 201);
    await o.rt.messaging.stop(); // look at the plan before anything goes out
    await ok('POST', `/api/broadcasts/${t.id}/send`);
    await o.rt.journeys.drain();
    const start = now;
    const times = [];
    for (const pid of ids) times.push(((await messagesOf(pid)).find((m) => m.source === `broadcast:${t.id}`)!.nextAttemptAt ?? 0) - start);
    expect(times.sort((x, y) => x - y)).toEqual([0, 0, 60_000, 60_000, 120_000]);
    expect((await ok('GET', `/api/broadcasts/${t.id}`)).status).toBe('sent');
  });

  it('a sent broadcast still waiting on local send times can be cancelled: what went out stays out, the rest stops', async () => {
    const seg = await ok('POST', '/api/segments?wait=true', { name: 'Two zones', definition: { kind: 'trait', trait: 'zones', op: 'eq', value: true } }, 201);
    const london = await identify('cz-lon', { email: 'cz-lon@example.com', zones: true }, 'Europe/London');
    const ny = await identify('cz-ny', { email: 'cz-ny@example.com', zones: true }, 'America/New_York');
    await o.settle();
    const day = new Date(now + DAY).toISOString().slice(0, 10);
    const b = await ok('POST', '/api/broadcasts', { name: 'Two mornings', segmentId: seg.id, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.one } }], schedule: { localTime: '09:00', date: day } }, 201);
    await ok('POST', `/api/broadcasts/${b.id}/send`);
    await o.settle();
    const mine = async (pid: string) => (await messagesOf(pid)).find((m) => m.source === `broadcast:${b.id}`)!;
    // 10:00 UTC: London's 09:00 has passed, New York's (13:00 UTC) has not.
    await advance(Date.parse(`${day}T10:00:00Z`) - now);
    expect((await ok('GET', `/api/broadcasts/${b.id}`)).status).toBe('sent');
    expect((await mine(london)).status).toBe('sent');
    const cancelled = await ok('POST', `/api/broadcasts/${b.id}/cancel`);
    expect(cancelled.status).toBe('cancelled');
    expect((await mine(london)).status).toBe('sent');
    expect((await mine(ny)).status).toBe('cancelled');
    await advance(Date.parse(`${day}T14:00:00Z`) - now);
    expect((await mine(ny)).status).toBe('cancelled');
    // Cancelled already, or a sent broadcast with nothing left: 409, saying why.
    const again = await o.api('POST', `/api/broadcasts/${b.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('already cancelled');
  });

  it('a sent broadcast with every message out cannot be cancelled (409)', async () => {
    const seg = await ok('POST', '/api/segments?wait=true', { name: 'Now', definition: { kind: 'trait', trait: 'now', op: 'eq', value: true } }, 201);
    const pid = await identify('cz-now', { email: 'cz-now@example.com', now: true });
    await o.settle();
    const b = await ok('POST', '/api/broadcasts', { name: 'Right away', segmentId: seg.id, channel: 'email', topic: 'marketing', variants: [{ id: 'A', templates: { email: tpl.one } }] }, 201);
    await ok('POST', `/api/broadcasts/${b.id}/send`);
    await o.settle();
    expect((await messagesOf(pid)).find((m) => m.source === `broadcast:${b.id}`)!.status).toBe('sent');
    const r = await o.api('POST', `/api/broadcasts/${b.id}/cancel`);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain('every message has gone out');
    expect((await ok('GET', `/api/broadcasts/${b.id}`)).status).toBe('sent');
  });

  async function publish(id: string) {
    return ok('POST', `/api/journeys/${id}/publish`, {});
  }
});
