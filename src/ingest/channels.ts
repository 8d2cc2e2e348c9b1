// The channels an event can carry (context.channel), in one place for ingest, segments and analytics.
export const CHANNELS = ['web', 'app', 'server', 'store', 'email', 'sms', 'push', 'chat', 'social', 'import'] as const;
/** Channels that say where a call came from (a backend, a file import), not where the person was: they are not
 * counted as channels a person uses (computed channels_used, the overview's omnichannel share). */
export const NOT_CHANNELS: ReadonlySet<string> = new Set(['server', 'import']);
