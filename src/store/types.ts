// Row shapes of every table, as Kysely sees them. JSON columns are `jsonb` on PostgreSQL and TEXT on SQLite;
// write them with `toJson` and read them with `fromJson` (store/json.ts) so both dialects behave the same.
import type { Generated } from 'kysely';

export type Json = unknown;

export interface WorkspacesTable {
  id: string;
  name: string;
  created_at: number;
}

export interface ApiKeysTable {
  id: string;
  workspace_id: string;
  kind: 'write' | 'admin';
  name: string;
  key_hash: string;
  key_prefix: string;
  created_at: number;
  revoked_at: number | null;
  /** Last successful authentication, recorded at most once a minute per key and process (null: never used). */
  last_used_at: Generated<number | null>;
}

export interface EventsTable {
  seq: Generated<number>;
  workspace_id: string;
  message_id: string;
  /** null until the identity processor has attributed the event to a profile. */
  profile_id: string | null;
  type: string;
  event: string | null;
  user_id: string | null;
  anonymous_id: string | null;
  channel: string;
  /** 1 for Omnia's own lifecycle events (no client can write these). */
  internal: number;
  timestamp: number;
  received_at: number;
  properties: Json;
  traits: Json;
  context: Json;
  revenue_minor: number | null;
  currency: string | null;
}

export interface ProfilesTable {
  workspace_id: string;
  id: string;
  /** The profile this one is merged into (itself when it stands alone). Merges only move this pointer. */
  canonical_id: string;
  created_at: number;
  first_seen: number;
  last_seen: number;
  /** { trait: { v: value, t: ms when set } } — newest value per trait wins across a merged cluster. */
  traits: Json;
  time_zone: string | null;
}

export interface IdentifiersTable {
  workspace_id: string;
  kind: string;
  value: string;
  profile_id: string;
  created_at: number;
}

export interface MergesTable {
  workspace_id: string;
  id: string;
  survivor_id: string;
  loser_id: string;
  cause: Json;
  /** profile ids whose canonical pointer this merge moved (the loser's whole cluster at the time). */
  moved: Json;
  /** The survivor's own traits just before the merging event applied its traits (restored by undo). */
  survivor_traits: Json;
  created_at: number;
  undone_at: number | null;
}

export interface MergeBlocksTable {
  workspace_id: string;
  profile_a: string;
  profile_b: string;
  created_at: number;
}

export interface ConflictsTable {
  workspace_id: string;
  id: string;
  profile_a: string;
  profile_b: string;
  reason: string;
  cause: Json;
  status: 'open' | 'merged' | 'dismissed';
  created_at: number;
  resolved_at: number | null;
}

export interface ConsentsTable {
  workspace_id: string;
  profile_id: string;
  channel: string;
  topic: string;
  state: 'subscribed' | 'unsubscribed' | 'never_asked';
  source: string;
  updated_at: number;
}

export interface GdprLogTable {
  workspace_id: string;
  id: string;
  profile_id: string;
  action: 'export' | 'delete';
  at: number;
  details: Json;
}

export interface LocksTable {
  name: string;
  at: number;
}

export interface SegmentsTable {
  workspace_id: string;
  id: string;
  name: string;
  description: string;
  definition: Json;
  version: number;
  status: 'active' | 'archived';
  created_at: number;
  updated_at: number;
  recomputed_at: number | null;
}

export interface SegmentVersionsTable {
  workspace_id: string;
  segment_id: string;
  version: number;
  name: string;
  definition: Json;
  created_at: number;
}

export interface SegmentMembersTable {
  workspace_id: string;
  segment_id: string;
  profile_id: string;
  entered_at: number;
}

export interface SegmentTimersTable {
  workspace_id: string;
  profile_id: string;
  segment_id: string;
  due_at: number;
}

export interface SegmentWorkTable {
  workspace_id: string;
  profile_id: string;
  /** space-separated reasons: event names (e:Name), 'traits', 'consent', 'identity', 'list', 'segment:<id>' */
  reasons: string;
  enqueued_at: number;
}

export interface ListsTable {
  workspace_id: string;
  id: string;
  name: string;
  created_at: number;
}

export interface ListMembersTable {
  workspace_id: string;
  list_id: string;
  profile_id: string;
  added_at: number;
}

export interface ProfileRfmTable {
  workspace_id: string;
  profile_id: string;
  r: number;
  f: number;
  m: number;
  stage: string;
  computed_at: number;
}

export interface SettingsTable {
  name: string;
  value: string;
  created_at: number;
}

export interface WebhooksTable {
  workspace_id: string;
  id: string;
  description: string;
  url: string;
  /** string[]: event types and families ('segment.*') */
  events: Json;
  /** string[] | null: only events of these segments (segment-scoped types) */
  segment_ids: Json | null;
  enabled: number;
  allow_private_network: number;
  /** encrypted (src/app/secrets.ts), never plaintext */
  secret_enc: string;
  previous_secret_enc: string | null;
  previous_secret_expires_at: number | null;
  disabled_reason: string | null;
  created_at: number;
  updated_at: number;
  secret_rotated_at: number | null;
}

export interface WebhookDeliveriesTable {
  workspace_id: string;
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  /** the person the event is about, if any (GDPR erasure) */
  profile_id: string | null;
  /** the exact JSON body sent */
  payload: string;
  status: 'pending' | 'delivered' | 'failed' | 'cancelled';
  attempts: Generated<number>;
  max_attempts: number;
  next_attempt_at: number;
  claim: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
}

export interface WebhookAttemptsTable {
  workspace_id: string;
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  response: string | null;
}

export interface ComputedPropertiesTable {
  workspace_id: string;
  name: string;
  definition: Json;
  created_at: number;
  updated_at: number;
}

export interface LocationsTable {
  workspace_id: string;
  id: string;
  name: string;
  lat: number;
  lon: number;
  address: Json;
  created_at: number;
}

// Messaging (src/messaging/migration.ts)
export interface TemplatesTable {
  workspace_id: string;
  id: string;
  name: string;
  channel: string;
  version: number;
  source: Json;
  status: 'active' | 'archived';
  created_at: number;
  updated_at: number;
}
export interface TemplateVersionsTable {
  workspace_id: string;
  template_id: string;
  version: number;
  source: Json;
  created_at: number;
}
export interface TemplatePartialsTable {
  workspace_id: string;
  name: string;
  body: string;
  updated_at: number;
}
export interface MessagingSettingsTable {
  workspace_id: string;
  name: string;
  value: Json;
  updated_at: number;
}
export type MessageStatus = 'queued' | 'deferred' | 'retry' | 'sending' | 'sent' | 'delivered' | 'failed' | 'skipped' | 'cancelled';
export interface MessagesTable {
  workspace_id: string;
  id: string;
  profile_id: string;
  source: string;
  requested_channel: string;
  channel: string | null;
  /** { email?: templateId, sms?: …, push?: …, onsite?: …, webhook?: … } */
  templates: Json;
  template_id: string | null;
  template_version: number | null;
  topic: string;
  transactional: number;
  priority: number;
  /** { event?, data? } handed to the template */
  context: Json;
  status: MessageStatus;
  /** channels tried and failed (fallback skips them) */
  excluded: Json;
  to_address: string | null;
  attempts: number;
  next_attempt_at: number;
  not_before: number | null;
  provider_id: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
  sent_at: number | null;
  delivered_at: number | null;
  seen_at: number | null;
  dismissed_at: number | null;
  /** the rendered onsite message (the feed reads it) */
  onsite: Json | null;
}
export interface MessageDecisionsTable {
  workspace_id: string;
  id: string;
  profile_id: string;
  message_id: string;
  at: number;
  action: string;
  channel: string | null;
  code: string | null;
  until: number | null;
  reason: string;
}
export interface SuppressionsTable {
  workspace_id: string;
  channel: string;
  address: string;
  reason: string;
  created_at: number;
}
export interface PushSubscriptionsTable {
  workspace_id: string;
  endpoint: string;
  profile_id: string;
  keys: Json;
  created_at: number;
}

export interface JourneysTable {
  workspace_id: string;
  id: string;
  name: string;
  status: string;
  draft: Json;
  version: number;
  created_at: number;
  updated_at: number;
  published_at: number | null;
  swept_at: number | null;
}

export interface JourneyVersionsTable {
  workspace_id: string;
  journey_id: string;
  version: number;
  definition: Json;
  created_at: number;
}

export interface JourneyTriggersTable {
  workspace_id: string;
  kind: string;
  name: string;
  owner: string;
}

export interface JourneyRunsTable {
  workspace_id: string;
  journey_id: string;
  profile_id: string;
  entry_id: string;
  version: number;
  status: string;
  node: string;
  wake_at: number | null;
  entered_at: number;
  updated_at: number;
  exit_reason: string | null;
  converted_at: number | null;
  revenue_minor: number | null;
  holdout: number;
  state: Json;
}

export interface JourneyInboxTable {
  id: Generated<number>;
  workspace_id: string;
  profile_id: string;
  kind: string;
  payload: Json;
  at: number;
  not_before: Generated<number>;
  attempts: Generated<number>;
}

export interface JourneyNodeStatsTable {
  workspace_id: string;
  journey_id: string;
  version: number;
  node: string;
  visits: number;
}

export interface BroadcastsTable {
  workspace_id: string;
  id: string;
  name: string;
  status: string;
  definition: Json;
  send_at: number | null;
  cursor: string | null;
  test_started_at: number | null;
  winner: string | null;
  winner_at: number | null;
  results: Json | null;
  recipients: number;
  created_at: number;
  updated_at: number;
}

export interface BroadcastRecipientsTable {
  workspace_id: string;
  broadcast_id: string;
  profile_id: string;
  grp: string;
  variant: string | null;
  message_id: string | null;
  send_after: number;
}

// Access (src/access/migration.ts)
export interface UsersTable {
  id: string;
  /** trimmed and lower-cased */
  email: string;
  name: string;
  /** scrypt$N$r$p$salt$hash (src/access/passwords.ts) */
  password_hash: string;
  created_at: number;
  last_login_at: number | null;
}
export interface MembershipsTable {
  user_id: string;
  workspace_id: string;
  role: 'owner' | 'marketer' | 'support' | 'viewer';
  created_at: number;
}
export interface SessionsTable {
  /** hex SHA-256 of the cookie token; the token itself is never stored */
  token_hash: string;
  user_id: string;
  /** the session's current workspace (the workspace switcher changes it) */
  workspace_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
}
export interface LoginFailuresTable {
  /** email|ip */
  key: string;
  at: number;
}

export interface DB {
  users: UsersTable;
  memberships: MembershipsTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  journeys: JourneysTable;
  journey_versions: JourneyVersionsTable;
  journey_triggers: JourneyTriggersTable;
  journey_runs: JourneyRunsTable;
  journey_inbox: JourneyInboxTable;
  journey_node_stats: JourneyNodeStatsTable;
  broadcasts: BroadcastsTable;
  broadcast_recipients: BroadcastRecipientsTable;
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;
  template_partials: TemplatePartialsTable;
  messaging_settings: MessagingSettingsTable;
  messages: MessagesTable;
  message_decisions: MessageDecisionsTable;
  suppressions: SuppressionsTable;
  push_subscriptions: PushSubscriptionsTable;
  locations: LocationsTable;
  computed_properties: ComputedPropertiesTable;
  settings: SettingsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  segments: SegmentsTable;
  segment_versions: SegmentVersionsTable;
  segment_members: SegmentMembersTable;
  segment_timers: SegmentTimersTable;
  segment_work: SegmentWorkTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  profile_rfm: ProfileRfmTable;
  locks: LocksTable;
  workspaces: WorkspacesTable;
  api_keys: ApiKeysTable;
  events: EventsTable;
  profiles: ProfilesTable;
  identifiers: IdentifiersTable;
  merges: MergesTable;
  merge_blocks: MergeBlocksTable;
  identity_conflicts: ConflictsTable;
  consents: ConsentsTable;
  gdpr_log: GdprLogTable;
}
