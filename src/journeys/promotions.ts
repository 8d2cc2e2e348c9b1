// Cross-channel coordination: a purchase of product X on any channel (web, app, store POS, chat order) cancels every
// pending promotion of X for that person, in every journey and broadcast, with the reason in the decision log; and a
// promotion of something the person bought recently is not sent at all.
import type { Kysely, Transaction } from 'kysely';
import { logDecision } from '../messaging/outbox.ts';
import { fromJson } from '../store/json.ts';
import type { DB, MessageStatus } from '../store/types.ts';
import { PURCHASE_EVENTS } from './catalog.ts';
import type { InboxEvent } from './inbox.ts';

type Tx = Transaction<DB> | Kysely<DB>;

/** A promotion bought within this many days is not promoted again. */
export const PROMOTION_BLOCK_DAYS = 30;

export interface Promotes {
  products?: string[];
  categories?: string[];
}

/** What an event is about: product ids (product_id, productId, sku) and categories, top level and in products[]. */
export function productsOf(properties: Record<string, unknown>): { products: string[]; categories: string[] } {
  const products = new Set<string>();
  const categories = new Set<string>();
  const take = (o: unknown) => {
    if (!o || typeof o !== 'object') return;
    const p = o as Record<string, unknown>;
    for (const k of ['product_id', 'productId', 'sku']) if (typeof p[k] === 'string' || typeof p[k] === 'number') products.add(String(p[k]));
    if (typeof p.category === 'string') categories.add(p.category);
  };
  take(properties);
  if (Array.isArray(properties.products)) for (const p of properties.products) take(p);
  return { products: [...products], categories: [...categories] };
}

/** The products and categories a journey's send promotes: its declared ones, plus the trigger's when asked. */
export function resolvePromotes(declared: { products?: string[]; categories?: string[]; fromTrigger?: boolean } | undefined, trigger?: { properties: Record<string, unknown> }): Promotes | null {
  if (!declared) return null;
  const products = new Set(declared.products ?? []);
  const categories = new Set(declared.categories ?? []);
  if (declared.fromTrigger && trigger) {
    const t = productsOf(trigger.properties);
    t.products.forEach((p) => products.add(p));
  }
  if (products.size === 0 && categories.size === 0) return null;
  return { ...(products.size ? { products: [...products] } : {}), ...(categories.size ? { categories: [...categories] } : {}) };
}

/** Which of a promotion's products / categories a purchase covers ("" when none). */
export function overlap(p: Promotes, bought: { products: string[]; categories: string[] }): string {
  const prods = (p.products ?? []).filter((x) => bought.products.includes(x));
  if (prods.length) return `product ${prods.join(', ')}`;
  const cats = (p.categories ?? []).filter((x) => bought.categories.includes(x));
  return cats.length ? `category ${cats.join(', ')}` : '';
}

const PENDING: MessageStatus[] = ['queued', 'deferred', 'retry'];

/**
 * A purchase: cancels the person's pending journey and broadcast messages that promote what was bought, and logs why.
 * Returns how many were cancelled.
 */
export async function cancelPromotions(tx: Tx, ws: string, profileIds: string[], purchase: InboxEvent, now: number): Promise<number> {
  const bought = productsOf(purchase.properties);
  if (bought.products.length === 0 && bought.categories.length === 0) return 0;
  const rows = await tx
    .selectFrom('messages')
    .select(['id', 'profile_id', 'context', 'source'])
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', profileIds)
    .where('status', 'in', PENDING)
    .execute();
  let n = 0;
  const where = purchase.channel ? ` on channel ${purchase.channel}` : '';
  for (const r of rows) {
    const promotes = fromJson<{ promotes?: Promotes }>(r.context).promotes;
    if (!promotes) continue;
    const what = overlap(promotes, bought);
    if (!what) continue;
    const order = typeof purchase.properties.order_id === 'string' ? ` (order ${purchase.properties.order_id})` : '';
    await tx.updateTable('messages').set({ status: 'cancelled', error: `purchased ${what}`, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', r.id).where('status', 'in', PENDING).execute();
    await logDecision(tx, ws, { messageId: r.id, profileId: r.profile_id, action: 'skip', code: 'purchased', reason: `cancelled: the person bought ${what}${where}${order}; ${r.source} no longer promotes it` }, now);
    n++;
  }
  return n;
}

/** The most recent purchase (within PROMOTION_BLOCK_DAYS) covering a promotion, as a reason; null when none. */
export async function recentPurchaseOf(tx: Tx, ws: string, profileIds: string[], p: Promotes, now: number): Promise<string | null> {
  const rows = await tx
    .selectFrom('events')
    .select(['properties', 'channel', 'timestamp'])
    .where('workspace_id', '=', ws)
    .where('profile_id', 'in', profileIds)
    .where('event', 'in', PURCHASE_EVENTS)
    .where('timestamp', '>=', now - PROMOTION_BLOCK_DAYS * 86_400_000)
    .orderBy('timestamp', 'desc')
    .limit(50)
    .execute();
  for (const r of rows) {
    const what = overlap(p, productsOf(fromJson(r.properties)));
    if (what) return `the person bought ${what} on ${new Date(Number(r.timestamp)).toISOString().slice(0, 10)}${r.channel ? ` (channel ${r.channel})` : ''}`;
  }
  return null;
}

/**
 * The messaging worker's last check on journey and broadcast messages: a promoted product bought since (the purchase
 * may not have reached the journey worker yet), or a live broadcast's recipient who left its audience segment.
 */
export async function journeyPreCheck(tx: Tx, ws: string, profileId: string, rows: { id: string; context: unknown; source: string }[], now: number): Promise<Map<string, { code: string; reason: string }>> {
  const out = new Map<string, { code: string; reason: string }>();
  for (const r of rows) {
    if (!r.source.startsWith('journey:') && !r.source.startsWith('broadcast:')) continue;
    const c = fromJson<{ promotes?: Promotes; audienceSegment?: string }>(r.context);
    if (c.promotes) {
      const why = await recentPurchaseOf(tx, ws, [profileId], c.promotes, now);
      if (why) {
        out.set(r.id, { code: 'purchased', reason: `cancelled: ${why}; ${r.source} no longer promotes it` });
        continue;
      }
    }
    if (c.audienceSegment) {
      const m = await tx.selectFrom('segment_members').select('profile_id').where('workspace_id', '=', ws).where('segment_id', '=', c.audienceSegment).where('profile_id', '=', profileId).executeTakeFirst();
      if (!m) out.set(r.id, { code: 'left_audience', reason: `cancelled: the person is no longer in segment ${c.audienceSegment} (live audience)` });
    }
  }
  return out;
}

/** Exits that make a run's still-pending messages moot (a goal reached, an exit rule, a purchase, an archive). */
const CANCELLING_EXITS = /^(goal|goal_after_window|exit_rule:\d+|purchased_promoted|archived|merged)$/;
export const cancelsPending = (reason: string) => CANCELLING_EXITS.test(reason);

/** Cancels the pending messages of one journey entry when it ends early; returns how many. */
export async function cancelEntryMessages(tx: Tx, ws: string, profileId: string, journeyId: string, journeyName: string, entryId: string, reason: string, now: number): Promise<number> {
  if (!CANCELLING_EXITS.test(reason)) return 0;
  const rows = await tx.selectFrom('messages').select(['id', 'context']).where('workspace_id', '=', ws).where('profile_id', '=', profileId).where('source', '=', `journey:${journeyId}`).where('status', 'in', PENDING).execute();
  let n = 0;
  for (const r of rows) {
    if (fromJson<{ journey?: { entryId?: string } }>(r.context).journey?.entryId !== entryId) continue;
    await tx.updateTable('messages').set({ status: 'cancelled', error: `left journey: ${reason}`, updated_at: now }).where('workspace_id', '=', ws).where('id', '=', r.id).where('status', 'in', PENDING).execute();
    await logDecision(tx, ws, { messageId: r.id, profileId, action: 'skip', code: 'journey_exit', reason: `cancelled: the person left journey ${journeyName} (${reason}) before this message went out` }, now);
    n++;
  }
  return n;
}
