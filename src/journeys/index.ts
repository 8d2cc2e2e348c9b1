// Journeys' public face (pure: no database, no HTTP). The runtime stores JourneyState per (journey version, person),
// feeds advance() one input at a time and carries out its actions:
//   send      → enqueueMessage({ source: `journey:<id>`, step: action.step, channel, templates, topic, priority … })
//   schedule  → a durable timer at `at`, delivered back as { kind: 'timer' }
//   exit / converted → close the run (metrics: exit reason, conversion); jump → enter the other journey.
// Validate definitions with checkJourney before publishing (errors name `nodes.<id>.<field>`).
export {
  Duration,
  EventMatch,
  JourneyDefinition,
  JourneyEntry,
  JourneyNode,
  MAX_JOURNEY_NODES,
  SegmentChange,
  SplitCondition,
  Trigger,
  TriggerCondition,
  assertJourney,
  checkJourney,
  edges,
  isWaitingNode,
} from './definition.ts';
export type { JourneyError, NodeKind, NodeOf } from './definition.ts';
export { MAX_INSTANT_STEPS, addDuration, advance, eventMatches, mayEnter, nextLocalTime } from './step.ts';
export type { EntryHistory, Facts, JourneyAction, JourneyEvent, JourneyInput, JourneyState, JourneyStatus, StepResult } from './step.ts';
export { PLAYBOOKS, browseAbandonment, cartAbandonment, postPurchase, welcomeSeries, winBack } from './playbooks.ts';
