// The shapes every part of the messaging pipeline agrees on: what a rendered message is on each channel, what a
// channel adapter takes and answers, what the arbiter decides. Templates produce Rendered*, the arbiter produces
// Decision, the outbox worker hands a SendRequest to a ChannelAdapter and records its SendResult.

/** The channels Omnia sends on. 'best' (in a request) asks the arbiter to choose among these. */
export type ChannelName = 'email' | 'sms' | 'push' | 'onsite' | 'webhook';
export const CHANNELS: readonly ChannelName[] = ['email', 'sms', 'push', 'onsite', 'webhook'];

/**
 * A topic says what a message is about; consent is given per (channel, topic). Transactional topics (order receipts,
 * password resets, pick-up ready) bypass marketing caps and quiet hours; everything else is marketing.
 */
export interface TopicInfo {
  id: string;
  transactional: boolean;
}

export interface RenderedEmail {
  subject: string;
  /** Full HTML document (MJML output or the template's own HTML). */
  html: string;
  /** Plain-text alternative, generated from the HTML when the template has none. */
  text: string;
  preheader?: string;
  from: { name: string; address: string };
  replyTo?: string;
}

export interface RenderedSms {
  body: string;
  encoding: 'GSM-7' | 'UCS-2';
  /** Number of SMS segments the body takes (1 for ≤160 GSM-7 / ≤70 UCS-2 characters; 153 / 67 per part beyond). */
  segments: number;
  /** Characters as the encoding counts them (GSM-7 extension characters count twice). */
  units: number;
}

export interface RenderedPush {
  title: string;
  body: string;
  icon?: string;
  /** Deep link opened on click. */
  url?: string;
  data?: Record<string, unknown>;
}

export interface RenderedOnsite {
  kind: 'banner' | 'modal';
  title: string;
  /** Sanitised, escaped HTML fragment. */
  html: string;
  url?: string;
}

export interface RenderedWebhook {
  /** JSON text of the body. */
  body: string;
}

export type RenderedContent =
  | { channel: 'email'; email: RenderedEmail }
  | { channel: 'sms'; sms: RenderedSms }
  | { channel: 'push'; push: RenderedPush }
  | { channel: 'onsite'; onsite: RenderedOnsite }
  | { channel: 'webhook'; webhook: RenderedWebhook };

/** A push subscription as the browser's PushSubscription.toJSON() gives it. */
export interface PushSubscriptionJson {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** One message handed to a channel adapter. */
export interface SendRequest {
  /** Omnia's deterministic message id: the idempotency key given to providers that take one. */
  messageId: string;
  workspaceId: string;
  profileId: string;
  /** Where to: an email address, an E.164 phone number, a push subscription, a URL. */
  to: string | PushSubscriptionJson;
  content: RenderedContent;
  topic: string;
  /** Extra headers for email (List-Unsubscribe, …) or webhooks. */
  headers?: Record<string, string>;
}

export type SendResult =
  | { status: 'sent'; providerId?: string }
  /** Try again later (network error, 5xx, 429, SMTP 4xx); retryAfterMs when the provider said so. */
  | { status: 'transient'; error: string; retryAfterMs?: number }
  /**
   * Never retry (SMTP 5xx, invalid number, 4xx). `expired`: the address itself is gone (push 404/410, a number that
   * no longer exists) and should be removed from the profile; `bounce`: a hard bounce, to suppress the address.
   */
  | { status: 'permanent'; error: string; expired?: boolean; bounce?: boolean };

export interface ChannelHealth {
  ok: boolean;
  detail?: string;
}

/** One adapter per channel and provider, behind the same interface. */
export interface ChannelAdapter {
  readonly channel: ChannelName;
  send(req: SendRequest): Promise<SendResult>;
  health(): Promise<ChannelHealth>;
  close(): Promise<void>;
}
