// Channel adapters behind one interface (ChannelAdapter in ../messaging/types.ts): email over SMTP, SMS over Twilio's
// Messages API, web push with VAPID. This file is the public face: the provider config union, its validation, which
// of its fields are secrets, and the factory. Inbound helpers (bounces, complaints, Twilio webhooks) are re-exported.
import type { ChannelAdapter, ChannelName } from '../messaging/types.ts';
import { ChannelConfigError, type FieldError, type Validated, isObject } from './config-check.ts';
import { type EmailConfig, createEmailAdapter, validateEmailConfig } from './email.ts';
import { type TwilioConfig, createTwilioAdapter, validateTwilioConfig } from './sms-twilio.ts';
import { type WebPushConfig, createWebPushAdapter, validateWebPushConfig } from './push.ts';

export type { FieldError, Validated } from './config-check.ts';
export { ChannelConfigError } from './config-check.ts';
export { type EmailConfig, createEmailAdapter, validateEmailConfig, classifySmtpError, emailAddressProblem, messageIdFor, omniaIdFromMessageId } from './email.ts';
export { type EmailFeedback, parseEmailFeedback } from './email-feedback.ts';
export { type TwilioConfig, TWILIO_DEFAULT_BASE_URL, createTwilioAdapter, validateTwilioConfig, classifyTwilioResponse, phoneNumberProblem } from './sms-twilio.ts';
export {
  type InboundSms,
  type SmsDeliveryStatus,
  type SmsKeyword,
  type SmsStatusCallback,
  type TwilioParams,
  classifyKeyword,
  computeTwilioSignature,
  parseInbound,
  parseStatusCallback,
  verifyTwilioSignature,
} from './sms-inbound.ts';
export { type PushUrgency, type WebPushConfig, MAX_PUSH_PAYLOAD_BYTES, classifyPushError, createWebPushAdapter, generateVapidKeys, subscriptionProblem, validateWebPushConfig } from './push.ts';

export type EmailProviderConfig = { channel: 'email'; provider: 'smtp' } & EmailConfig;
export type SmsProviderConfig = { channel: 'sms'; provider: 'twilio' } & TwilioConfig;
export type PushProviderConfig = { channel: 'push'; provider: 'webpush' } & WebPushConfig;

/** A channel's provider settings as stored per workspace: a union discriminated by channel (and provider). */
export type ChannelProviderConfig = EmailProviderConfig | SmsProviderConfig | PushProviderConfig;

export type ProviderChannelName = ChannelProviderConfig['channel'];

/** The providers each channel supports; the first is the default when a config names none. */
export const PROVIDERS: { readonly [C in ProviderChannelName]: readonly Extract<ChannelProviderConfig, { channel: C }>['provider'][] } = {
  email: ['smtp'],
  sms: ['twilio'],
  push: ['webpush'],
};

/**
 * Dotted paths of the fields that are secrets, per channel (every provider of a channel uses the same paths): the
 * caller encrypts them at rest and masks them when showing a config.
 */
export const SECRET_FIELDS: { readonly [C in ProviderChannelName]: readonly string[] } = {
  email: ['auth.pass', 'dkim.privateKey'],
  sms: ['authToken'],
  push: ['vapid.privateKey'],
};

/** Secret field paths for a channel and provider ([] for anything unknown). */
export function secretFieldsFor(channel: string, _provider?: string): readonly string[] {
  return (SECRET_FIELDS as Record<string, readonly string[]>)[channel] ?? [];
}

/**
 * Validates a provider config `{ channel, provider?, …fields }`. `provider` defaults to the channel's only provider.
 * Errors name the field by its dotted path inside the config (`auth.pass`, `vapid.publicKey`, `channel`).
 */
export function validateProviderConfig(input: unknown): Validated<ChannelProviderConfig> {
  if (!isObject(input)) return { ok: false, errors: [{ field: '(config)', message: 'must be an object' }] };
  const { channel, provider: givenProvider, ...rest } = input;
  if (typeof channel !== 'string' || !(channel in PROVIDERS)) {
    return { ok: false, errors: [{ field: 'channel', message: `must be one of ${Object.keys(PROVIDERS).join(', ')}` }] };
  }
  const ch = channel as ProviderChannelName;
  const allowed = PROVIDERS[ch] as readonly string[];
  const provider = givenProvider === undefined ? allowed[0]! : givenProvider;
  if (typeof provider !== 'string' || !allowed.includes(provider)) {
    return { ok: false, errors: [{ field: 'provider', message: `must be ${allowed.map((p) => `"${p}"`).join(' or ')} for ${ch}` }] };
  }
  const fail = (errors: FieldError[]): Validated<ChannelProviderConfig> => ({ ok: false, errors });
  if (ch === 'email') {
    const r = validateEmailConfig(rest);
    return r.ok ? { ok: true, value: { channel: 'email', provider: 'smtp', ...r.value } } : fail(r.errors);
  }
  if (ch === 'sms') {
    const r = validateTwilioConfig(rest);
    return r.ok ? { ok: true, value: { channel: 'sms', provider: 'twilio', ...r.value } } : fail(r.errors);
  }
  const r = validateWebPushConfig(rest);
  return r.ok ? { ok: true, value: { channel: 'push', provider: 'webpush', ...r.value } } : fail(r.errors);
}

/** The provider fields alone (channel and provider removed), as the adapter constructors take them. */
function fieldsOf(config: object): Record<string, unknown> {
  const { channel: _c, provider: _p, ...rest } = config as Record<string, unknown>;
  return rest;
}

/**
 * Builds the adapter for a channel and provider. `config` may be the full ChannelProviderConfig (as stored) or the
 * provider's own fields; it is validated either way and a ChannelConfigError names the bad fields.
 */
export function createChannelAdapter(channel: 'email', provider: 'smtp', config: EmailConfig | EmailProviderConfig): ChannelAdapter;
export function createChannelAdapter(channel: 'sms', provider: 'twilio', config: TwilioConfig | SmsProviderConfig): ChannelAdapter;
export function createChannelAdapter(channel: 'push', provider: 'webpush', config: WebPushConfig | PushProviderConfig): ChannelAdapter;
export function createChannelAdapter(channel: ChannelName, provider: string, config: unknown): ChannelAdapter;
export function createChannelAdapter(channel: ChannelName, provider: string, config: unknown): ChannelAdapter {
  if (!isObject(config)) throw new ChannelConfigError([{ field: '(config)', message: 'must be an object' }]);
  if (config.channel !== undefined && config.channel !== channel) throw new ChannelConfigError([{ field: 'channel', message: `is "${String(config.channel)}" but the adapter asked for is ${channel}` }]);
  if (config.provider !== undefined && config.provider !== provider) throw new ChannelConfigError([{ field: 'provider', message: `is "${String(config.provider)}" but the adapter asked for is ${provider}` }]);
  const checked = validateProviderConfig({ ...fieldsOf(config), channel, provider });
  if (!checked.ok) throw new ChannelConfigError(checked.errors, `${channel}/${provider} config`);
  const c = checked.value;
  switch (c.channel) {
    case 'email':
      return createEmailAdapter(fieldsOf(c) as unknown as EmailConfig);
    case 'sms':
      return createTwilioAdapter(fieldsOf(c) as unknown as TwilioConfig);
    case 'push':
      return createWebPushAdapter(fieldsOf(c) as unknown as WebPushConfig);
  }
}
