// Webhook event types. A registry, not a closed union: a module that produces events registers its types at import
// (e.g. messaging: registerWebhookEventType({ type: 'message.delivered', … })) and hands events to
// WebhookService.emit(). Subscriptions name exact types or a whole family ('message.*'), which also matches types the
// family gains later.
export interface WebhookEventType {
  /** `<family>.<name>`, lower case: 'segment.entered'. */
  type: string;
  description: string;
  /** Events of this type carry a segment id, so a subscription's segmentIds filter applies to them. */
  segmentScoped?: boolean;
}

const TYPE_RE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_.]*$/;
const registry = new Map<string, WebhookEventType>();

export function registerWebhookEventType(t: WebhookEventType): void {
  if (!TYPE_RE.test(t.type)) throw new Error(`invalid webhook event type "${t.type}" (expected family.name)`);
  if (t.type.startsWith('webhook.')) throw new Error('the webhook.* family is reserved');
  registry.set(t.type, t);
}

export function webhookEventTypes(): WebhookEventType[] {
  return [...registry.values()].sort((a, b) => a.type.localeCompare(b.type));
}

export function eventType(type: string): WebhookEventType | undefined {
  return registry.get(type);
}

/** The test event of POST /api/webhooks/:id/test: sent whatever the subscription's event list. */
export const PING = 'webhook.ping';

const familyOf = (type: string) => type.slice(0, type.indexOf('.'));

/** Why a subscription's event entry is not acceptable, or null. Accepts a registered type or `<family>.*`. */
export function checkEventFilter(entry: string): string | null {
  if (entry.endsWith('.*')) {
    const family = entry.slice(0, -2);
    return [...registry.keys()].some((t) => familyOf(t) === family)
      ? null
      : `unknown event family "${family}" (known: ${[...new Set([...registry.keys()].map(familyOf))].map((f) => `${f}.*`).join(', ')})`;
  }
  return registry.has(entry) ? null : `unknown event type "${entry}" (known: ${[...registry.keys()].join(', ')}, or a family such as segment.*)`;
}

export function matchesEventFilter(filters: readonly string[], type: string): boolean {
  for (const f of filters) {
    if (f === type) return true;
    if (f.endsWith('.*') && familyOf(type) === f.slice(0, -2)) return true;
  }
  return false;
}

registerWebhookEventType({ type: 'segment.entered', description: 'A person entered a segment', segmentScoped: true });
registerWebhookEventType({ type: 'segment.left', description: 'A person left a segment', segmentScoped: true });
