// Test mode: one journey, one real test profile, a simulated clock. Nothing is written and nothing is sent: each step
// shows the nodes passed, the rendered messages and what the arbiter would decide at that simulated moment (the
// person's real consent, addresses and send history, plus the messages sent earlier in this simulation).
import '../schema/formats.ts';
import { type Static, Type } from '@sinclair/typebox';
import { HttpError, notFound } from '../app/errors.ts';
import { arbitrate } from '../messaging/arbiter/index.ts';
import { loadPerson } from '../messaging/person.ts';
import { previewTemplate } from '../messaging/preview.ts';
import type { ChannelName } from '../messaging/types.ts';
import { resolveCanonical } from '../profiles/read.ts';
import { evaluate } from '../segments/evaluate.ts';
import { loadFacts } from '../segments/load.ts';
import type { JourneyDefinition } from './definition.ts';
import { Duration } from './definition.ts';
import type { JourneyService } from './service.ts';
import { type JourneyEvent, type JourneyInput, type JourneyState, addDuration, advance } from './step.ts';

const EventIn = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }), properties: Type.Optional(Type.Record(Type.String(), Type.Unknown())) }, { additionalProperties: false });
export const SimulateBody = Type.Object(
  {
    profileId: Type.String({ minLength: 1, maxLength: 100 }),
    /** 'draft' (default) or 'published' */
    use: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('published')])),
    /** the event that makes the person enter (event entries) */
    trigger: Type.Optional(EventIn),
    start: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
    steps: Type.Array(
      Type.Union([
        Type.Object({ wait: Duration }, { additionalProperties: false }),
        Type.Object({ event: EventIn }, { additionalProperties: false }),
        Type.Object({ segment: Type.Object({ segmentId: Type.String({ maxLength: 100 }), change: Type.Union([Type.Literal('entered'), Type.Literal('left')]) }, { additionalProperties: false }) }, { additionalProperties: false }),
      ]),
      { maxItems: 100 },
    ),
  },
  { additionalProperties: false },
);
export type SimulateBody = Static<typeof SimulateBody>;

export async function simulateJourney(svc: JourneyService, ws: string, journeyId: string, body: SimulateBody) {
  const row = await svc.catalog.row(ws, journeyId);
  let def: JourneyDefinition;
  if (body.use === 'published') {
    if (row.version === 0) throw new HttpError(409, 'not_published', `journey ${journeyId} has not been published`);
    def = await svc.catalog.version(ws, journeyId, row.version);
  } else def = await svc.catalog.validate(ws, JSON.parse(typeof row.draft === 'string' ? row.draft : JSON.stringify(row.draft)));
  const pid = await resolveCanonical(svc.store.db, ws, body.profileId);
  if (!pid) throw notFound(`profile ${body.profileId} not found`);
  let now = body.start ? Date.parse(body.start) : svc.now();
  const person = await loadPerson(svc.store.db, ws, pid, now);
  if (!person) throw notFound(`profile ${body.profileId} not found`);
  const policy = await svc.messaging.settings.policy(ws);
  const zone = person.state.timeZone ?? policy.defaultTimeZone;
  const facts = (await loadFacts(svc.store.db, ws, [pid])).get(pid) ?? null;
  let draws = 0;
  const factsFor = () => ({ evaluate: (c: Parameters<typeof evaluate>[0]) => (facts ? evaluate(c, facts, now).value : false), random: () => ((Math.sin(++draws * 9301 + 49297) + 1) / 2) % 1, timeZone: zone });
  const recent = [...person.state.recent];
  const timeline: unknown[] = [];
  const messages: unknown[] = [];
  let state: JourneyState | null = null;
  const trigger: JourneyEvent | undefined = body.trigger ? { name: body.trigger.name, properties: body.trigger.properties ?? {}, timestamp: now } : undefined;

  const apply = async (input: JourneyInput, label: string) => {
    const r = advance(def, state, input, now, factsFor());
    state = r.state;
    const out: { at: string; input: string; visited: string[]; node: string; status: string; waitingUntil?: string; actions: unknown[] } = { at: new Date(now).toISOString(), input: label, visited: r.visited, node: r.state.node, status: r.state.status, actions: [] };
    if (r.state.waitingUntil !== undefined) out.waitingUntil = new Date(r.state.waitingUntil).toISOString();
    for (const a of r.actions) {
      if (a.kind !== 'send') {
        out.actions.push(a.kind === 'schedule' ? { kind: 'schedule', at: new Date(a.at).toISOString() } : a);
        continue;
      }
      const topic = await svc.messaging.settings.topic(ws, a.topic);
      const [decision] = arbitrate([{ id: a.step, channel: a.channel, topic: topic?.id ?? a.topic, transactional: topic?.transactional === true, priority: a.priority }], { ...person.state, recent }, policy, now);
      const channel = decision && decision.action !== 'skip' ? decision.channel : a.channel === 'best' ? (Object.keys(a.templates)[0] as ChannelName) : a.channel;
      const templateId = a.templates[channel];
      let rendered: unknown = null;
      if (templateId) {
        rendered = await previewTemplate(svc.messaging, ws, { templateId, profileId: pid, ...(state.trigger ? { event: { name: state.trigger.name, properties: state.trigger.properties } } : {}) })
          .then((p) => p.content)
          .catch((e: Error) => ({ error: e.message }));
      }
      if (decision?.action === 'send') recent.push({ at: now, channel: decision.channel, marketing: !(topic?.transactional === true) });
      const m = { at: new Date(now).toISOString(), node: a.nodeId, channel, templateId: templateId ?? null, decision, rendered };
      messages.push(m);
      out.actions.push({ kind: 'send', node: a.nodeId, channel, decision });
    }
    timeline.push(out);
  };

  await apply({ kind: 'enter', version: row.version || 0, entryId: 'test', ...(trigger ? { event: trigger } : {}) }, 'enter');
  for (const step of body.steps) {
    if ('wait' in step) {
      const until = addDuration(now, step.wait, zone);
      // Every timer that falls inside the wait fires at its own moment.
      for (let i = 0; i < 1000; i++) {
        const s = state as JourneyState | null;
        if (!s || s.status !== 'waiting' || s.waitingUntil === undefined || s.waitingUntil > until) break;
        now = s.waitingUntil;
        await apply({ kind: 'timer' }, 'timer');
      }
      now = until;
      continue;
    }
    if ('event' in step) await apply({ kind: 'event', event: { name: step.event.name, properties: step.event.properties ?? {}, timestamp: now } }, `event ${step.event.name}`);
    else await apply({ kind: 'segment', segmentId: step.segment.segmentId, change: step.segment.change }, `segment ${step.segment.segmentId} ${step.segment.change}`);
  }
  const final = state as JourneyState | null;
  return { journeyId, profileId: pid, timeline, messages, final: final ? { node: final.node, status: final.status, exitReason: final.exitReason ?? null, path: final.path } : null, sent: false };
}
