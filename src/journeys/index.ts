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
export {
  PLAYBOOKS,
  PLAYBOOK_INFO,
  birthday,
  browseAbandonment,
  cartAbandonment,
  checkoutAbandonment,
  pickupReady,
  postPurchase,
  storeVisit,
  welcomeSeries,
  winBack,
} from './playbooks.ts';
export type { PlaybookInfo, PlaybookKey, PlaybookParam } from './playbooks.ts';
// Broadcasts (one-off sends to a segment): variant assignment, per-zone send times, rate limiting, the A/B winner.
export { assignVariant, checkVariantPlan, pickWinner, sendTime, throttle, twoProportionZ } from './broadcast-plan.ts';
export type { Assignment, SendTimeOptions, Slot, VariantPlan, VariantStats, VariantWeight, WinnerMetric, WinnerResult } from './broadcast-plan.ts';
