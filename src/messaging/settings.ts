// Per-workspace messaging settings: brand kit, arbiter policy, topics, channel providers (secret fields encrypted at
// rest with OMNIA_SECRET), the web push VAPID keys and the key that signs tracking and unsubscribe links.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { BlockedAddressError, checkHost, hostOf, systemResolver } from '../webhooks/ssrf.ts';
import { badRequest } from '../app/errors.ts';
import type { Secrets } from '../app/secrets.ts';
import type { Store } from '../store/db.ts';
import { fromJson, toJson } from '../store/json.ts';
import { type ArbiterPolicy, DEFAULT_POLICY, validatePolicy } from './arbiter/index.ts';
import { type BrandKit, DEFAULT_BRAND_KIT, validateBrandKit } from './templates/index.ts';
import { type ChannelProviderConfig, SECRET_FIELDS, generateVapidKeys, validateProviderConfig } from '../channels/index.ts';
import type { ChannelName, TopicInfo } from './types.ts';

export interface Topic extends TopicInfo {
  label: string;
  description?: string;
}

export const DEFAULT_TOPICS: Topic[] = [
  { id: 'transactional', label: 'Orders and account', description: 'Receipts, shipping and pick-up notices, password resets', transactional: true },
  { id: 'marketing', label: 'News and offers', description: 'New products, sales and recommendations', transactional: false },
];

const CACHE_MS = 2_000;
const MASK = '********';

/** Channels whose provider is configured through settings (onsite needs none). */
export const PROVIDER_CHANNELS = ['email', 'sms', 'push', 'webhook'] as const;
export type ProviderChannel = (typeof PROVIDER_CHANNELS)[number];

/** The webhook channel's own settings (POST to the workspace's endpoint, HMAC-signed). */
export interface WebhookChannelConfig {
  channel: 'webhook';
  provider: 'http';
  url: string;
  secret: string;
  allowPrivateNetwork?: boolean;
}
export type AnyProviderConfig = ChannelProviderConfig | WebhookChannelConfig;

const WEBHOOK_SECRET_FIELDS = ['secret'];

type FieldPath = string;

function getPath(o: Record<string, unknown>, path: FieldPath): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}
function setPath(o: Record<string, unknown>, path: FieldPath, value: unknown): void {
  const keys = path.split('.');
  let cur: Record<string, unknown> = o;
  for (const k of keys.slice(0, -1)) {
    if (!cur[k] || typeof cur[k] !== 'object') return;
    cur = cur[k] as Record<string, unknown>;
  }
  if (keys.at(-1)! in cur) cur[keys.at(-1)!] = value;
}

function secretFieldsOf(channel: string): string[] {
  if (channel === 'webhook') return WEBHOOK_SECRET_FIELDS;
  return [...((SECRET_FIELDS as Record<string, readonly string[]>)[channel] ?? [])];
}

async function validateWebhookChannel(input: Record<string, unknown>): Promise<WebhookChannelConfig> {
  let url: URL;
  try {
    url = new URL(String(input.url ?? ''));
  } catch {
    throw badRequest('url must be an absolute http(s) URL', 'url');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && input.allowPrivateNetwork === true)) {
    throw badRequest('url must be https (http only with allowPrivateNetwork)', 'url');
  }
  // The destination is checked when saved (and again at every delivery): no loopback, private or link-local address.
  if (input.allowPrivateNetwork !== true) {
    try {
      await checkHost(hostOf(url), false, systemResolver);
    } catch (e) {
      if (e instanceof BlockedAddressError) throw badRequest(`url: ${e.message}`, 'url');
      throw badRequest(`url: the host cannot be resolved (${(e as Error).message})`, 'url');
    }
  }
  if (typeof input.secret !== 'string' || input.secret.length < 16) throw badRequest('secret must be a string of at least 16 characters', 'secret');
  return { channel: 'webhook', provider: 'http', url: url.toString(), secret: input.secret, allowPrivateNetwork: input.allowPrivateNetwork === true };
}

export class MessagingSettings {
  private linkKeys = new Map<string, Buffer>();

  constructor(
    private readonly store: Store,
    private readonly secrets: Secrets,
  ) {}

  // Settings are read for every message: each value is cached for CACHE_MS. A write in this process takes effect at
  // once; other processes (PostgreSQL scale-out) see it within CACHE_MS.
  private cache = new Map<string, { at: number; row: { value: unknown; updatedAt: number } | null }>();

  private async read(ws: string, name: string): Promise<{ value: unknown; updatedAt: number } | null> {
    const key = `${ws}\n${name}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.row;
    const row = await this.store.db.selectFrom('messaging_settings').select(['value', 'updated_at']).where('workspace_id', '=', ws).where('name', '=', name).executeTakeFirst();
    const out = row ? { value: fromJson(row.value), updatedAt: Number(row.updated_at) } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), row: out });
    return out;
  }

  private async write(ws: string, name: string, value: unknown): Promise<void> {
    this.cache.delete(`${ws}\n${name}`);
    const now = Date.now();
    await this.store.db
      .insertInto('messaging_settings')
      .values({ workspace_id: ws, name, value: toJson(value), updated_at: now })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ value: toJson(value), updated_at: now }))
      .execute();
  }

  async brand(ws: string): Promise<BrandKit> {
    return ((await this.read(ws, 'brand'))?.value as BrandKit | undefined) ?? DEFAULT_BRAND_KIT;
  }

  async setBrand(ws: string, input: unknown): Promise<BrandKit> {
    const r = validateBrandKit(input);
    if (!r.ok) throw badRequest(`${r.errors[0]!.field}: ${r.errors[0]!.message}`, r.errors[0]!.field);
    await this.write(ws, 'brand', r.value);
    return r.value;
  }

  async policy(ws: string): Promise<ArbiterPolicy> {
    const p = (await this.read(ws, 'policy'))?.value as Partial<ArbiterPolicy> | undefined;
    return { ...DEFAULT_POLICY, ...(p ?? {}) };
  }

  async setPolicy(ws: string, input: unknown): Promise<ArbiterPolicy> {
    const merged = input && typeof input === 'object' && !Array.isArray(input) ? { ...DEFAULT_POLICY, ...(input as object) } : input;
    const r = validatePolicy(merged);
    if (!r.ok) throw badRequest(`${r.errors[0]!.field}: ${r.errors[0]!.message}`, r.errors[0]!.field);
    await this.write(ws, 'policy', r.value);
    return r.value;
  }

  async topics(ws: string): Promise<Topic[]> {
    return ((await this.read(ws, 'topics'))?.value as Topic[] | undefined) ?? DEFAULT_TOPICS;
  }

  async setTopics(ws: string, input: unknown): Promise<Topic[]> {
    if (!Array.isArray(input) || input.length === 0 || input.length > 50) throw badRequest('topics must be a list of 1 to 50 topics', 'topics');
    const seen = new Set<string>();
    const out: Topic[] = input.map((t, i) => {
      const f = (k: string) => `topics.${i}.${k}`;
      if (!t || typeof t !== 'object') throw badRequest('each topic must be an object', `topics.${i}`);
      const { id, label, description, transactional } = t as Record<string, unknown>;
      if (typeof id !== 'string' || !/^[a-z0-9_-]{1,64}$/.test(id) || id === 'all') throw badRequest('id must be 1-64 characters of a-z, 0-9, _ or - (not "all")', f('id'));
      if (seen.has(id)) throw badRequest(`duplicate topic ${id}`, f('id'));
      seen.add(id);
      if (typeof label !== 'string' || label.length < 1 || label.length > 100) throw badRequest('label must be 1-100 characters', f('label'));
      if (description !== undefined && (typeof description !== 'string' || description.length > 300)) throw badRequest('description must be at most 300 characters', f('description'));
      if (typeof transactional !== 'boolean') throw badRequest('transactional must be true or false', f('transactional'));
      return { id, label, transactional, ...(description ? { description } : {}) };
    });
    await this.write(ws, 'topics', out);
    return out;
  }

  async topic(ws: string, id: string): Promise<Topic | null> {
    return (await this.topics(ws)).find((t) => t.id === id) ?? null;
  }

  /** Validates, encrypts the secret fields and stores a channel's provider. */
  async setProvider(ws: string, channel: ProviderChannel, input: unknown): Promise<void> {
    if (!input || typeof input !== 'object' || Array.isArray(input)) throw badRequest('body must be an object', 'body');
    // Omnia's own field beside the provider's: the most messages per second a worker hands to this provider.
    const { rateLimitPerSecond, ...rest } = input as Record<string, unknown>;
    if (rateLimitPerSecond !== undefined && (typeof rateLimitPerSecond !== 'number' || !(rateLimitPerSecond > 0) || rateLimitPerSecond > 100_000)) {
      throw badRequest('rateLimitPerSecond must be a number above 0 and at most 100000', 'rateLimitPerSecond');
    }
    input = rest;
    let config: AnyProviderConfig;
    if (channel === 'webhook') config = await validateWebhookChannel(input as Record<string, unknown>);
    else {
      let body: Record<string, unknown> = { ...(input as Record<string, unknown>), channel };
      // Web push signs with the workspace's own VAPID keys unless the operator brings a pair.
      if (channel === 'push' && body.vapid === undefined) body = { ...body, vapid: await this.vapid(ws) };
      const r = validateProviderConfig(body);
      if (!r.ok) throw badRequest(`${r.errors[0]!.field}: ${r.errors[0]!.message}`, r.errors[0]!.field);
      config = r.value;
    }
    const stored = structuredClone(config) as unknown as Record<string, unknown>;
    // A secret sent back as the mask ("********", as GET shows it) keeps the stored value.
    const previous = (await this.read(ws, `provider:${channel}`))?.value as Record<string, unknown> | undefined;
    for (const f of secretFieldsOf(channel)) {
      if (getPath(stored, f) === MASK) {
        const old = previous ? getPath(previous, f) : undefined;
        if (typeof old !== 'string') throw badRequest(`${f}: no stored secret to keep; send the secret itself`, f);
        setPath(stored, f, this.secrets.decrypt(old, `messaging/${ws}/provider:${channel}/${f}`));
      }
    }
    for (const f of secretFieldsOf(channel)) {
      const v = getPath(stored, f);
      if (typeof v === 'string') setPath(stored, f, this.secrets.encrypt(v, `messaging/${ws}/provider:${channel}/${f}`));
    }
    if (rateLimitPerSecond !== undefined) stored.rateLimitPerSecond = rateLimitPerSecond;
    await this.write(ws, `provider:${channel}`, stored);
  }

  /** The provider with its secrets decrypted, and a stamp that changes whenever it is saved. */
  async provider(ws: string, channel: ChannelName): Promise<{ config: AnyProviderConfig; stamp: number; ratePerSecond: number | null } | null> {
    const row = await this.read(ws, `provider:${channel}`);
    if (!row) return null;
    const config = structuredClone(row.value) as Record<string, unknown>;
    const rate = typeof config.rateLimitPerSecond === 'number' ? config.rateLimitPerSecond : null;
    delete config.rateLimitPerSecond;
    for (const f of secretFieldsOf(channel)) {
      const v = getPath(config, f);
      if (typeof v === 'string') setPath(config, f, this.secrets.decrypt(v, `messaging/${ws}/provider:${channel}/${f}`));
    }
    return { config: config as unknown as AnyProviderConfig, stamp: row.updatedAt, ratePerSecond: rate };
  }

  /** What the API shows: the config with every secret field replaced by "********". */
  async providerMasked(ws: string, channel: ProviderChannel): Promise<Record<string, unknown> | null> {
    const row = await this.read(ws, `provider:${channel}`);
    if (!row) return null;
    const config = structuredClone(row.value) as Record<string, unknown>;
    for (const f of secretFieldsOf(channel)) if (getPath(config, f) !== undefined) setPath(config, f, MASK);
    return config;
  }

  async deleteProvider(ws: string, channel: ProviderChannel): Promise<boolean> {
    this.cache.delete(`${ws}\nprovider:${channel}`);
    const r = await this.store.db.deleteFrom('messaging_settings').where('workspace_id', '=', ws).where('name', '=', `provider:${channel}`).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** The public key browsers must subscribe with: the push provider's own pair when it has one, else the workspace's. */
  async vapidPublicKey(ws: string): Promise<string> {
    const p = await this.provider(ws, 'push');
    const own = p && 'vapid' in p.config ? (p.config as { vapid?: { publicKey?: string } }).vapid?.publicKey : undefined;
    return own ?? (await this.vapid(ws)).publicKey;
  }

  /** The workspace's VAPID key pair (generated on first use; the private key encrypted at rest). */
  async vapid(ws: string): Promise<{ publicKey: string; privateKey: string; subject: string }> {
    const row = await this.read(ws, 'vapid');
    const ctx = `messaging/${ws}/vapid`;
    if (row) {
      const v = row.value as { publicKey: string; privateKey: string; subject: string };
      return { ...v, privateKey: this.secrets.decrypt(v.privateKey, ctx) };
    }
    const keys = generateVapidKeys();
    const brand = await this.brand(ws);
    const subject = `mailto:${brand.senderEmail}`;
    // Two processes may generate at once: the first insert wins and both use what is stored.
    await this.store.db
      .insertInto('messaging_settings')
      .values({ workspace_id: ws, name: 'vapid', value: toJson({ publicKey: keys.publicKey, privateKey: this.secrets.encrypt(keys.privateKey, ctx), subject }), updated_at: Date.now() })
      .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
      .execute();
    this.cache.delete(`${ws}\nvapid`);
    return this.vapid(ws);
  }

  /**
   * Identity verification for browser calls that name a userId: the site's server computes
   * userHash = hex(HMAC-SHA256(identity secret, userId)) and the page passes it along; without it, anyone holding the
   * public write key could read another person's onsite feed or attach a device to their push messages.
   */
  async identitySecret(ws: string): Promise<Buffer> {
    const ctx = `messaging/${ws}/identity_key`;
    const row = await this.read(ws, 'identity_key');
    if (!row) {
      await this.store.db
        .insertInto('messaging_settings')
        .values({ workspace_id: ws, name: 'identity_key', value: toJson({ key: this.secrets.encrypt(randomBytes(32).toString('base64'), ctx) }), updated_at: Date.now() })
        .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
        .execute();
      this.cache.delete(`${ws}\nidentity_key`);
      return this.identitySecret(ws);
    }
    return Buffer.from(this.secrets.decrypt((row.value as { key: string }).key, ctx), 'base64');
  }

  async userHash(ws: string, userId: string): Promise<string> {
    return createHmac('sha256', await this.identitySecret(ws)).update(userId, 'utf8').digest('hex');
  }

  /** Checks a userHash without creating a secret for a workspace that has none (then nothing verifies). */
  async verifyUserHash(ws: string, userId: string, hash: unknown): Promise<boolean> {
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/i.test(hash)) return false;
    const row = await this.read(ws, 'identity_key');
    if (!row) return false;
    const key = Buffer.from(this.secrets.decrypt((row.value as { key: string }).key, `messaging/${ws}/identity_key`), 'base64');
    const want = createHmac('sha256', key).update(userId, 'utf8').digest();
    return timingSafeEqual(want, Buffer.from(hash, 'hex'));
  }

  /**
   * The link key for verifying a link, without creating one: public routes call this with whatever workspace a URL
   * names, so an unknown workspace must cost nothing and store nothing.
   */
  async existingLinkKey(ws: string): Promise<Buffer | null> {
    const cached = this.linkKeys.get(ws);
    if (cached) return cached;
    const row = await this.read(ws, 'link_key');
    if (!row) return null;
    const key = Buffer.from(this.secrets.decrypt((row.value as { key: string }).key, `messaging/${ws}/link_key`), 'base64');
    if (this.linkKeys.size > 10_000) this.linkKeys.clear();
    this.linkKeys.set(ws, key);
    return key;
  }

  /** 32 random bytes per workspace, encrypted at rest, signing tracking / unsubscribe / preference links. */
  async linkKey(ws: string): Promise<Buffer> {
    const cached = this.linkKeys.get(ws);
    if (cached) return cached;
    const ctx = `messaging/${ws}/link_key`;
    const row = await this.read(ws, 'link_key');
    if (!row) {
      await this.store.db
        .insertInto('messaging_settings')
        .values({ workspace_id: ws, name: 'link_key', value: toJson({ key: this.secrets.encrypt(randomBytes(32).toString('base64'), ctx) }), updated_at: Date.now() })
        .onConflict((oc) => oc.columns(['workspace_id', 'name']).doNothing())
        .execute();
      this.cache.delete(`${ws}\nlink_key`);
      return this.linkKey(ws);
    }
    const key = Buffer.from(this.secrets.decrypt((row.value as { key: string }).key, ctx), 'base64');
    this.linkKeys.set(ws, key);
    return key;
  }
}
