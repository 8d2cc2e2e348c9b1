// Omnia's own Liquid filters: money (minor units → formatted amount) and a date filter that defaults to the
// recipient's time zone. Registered on every engine by engine.ts.
import { filters as builtin, type Context } from 'liquidjs';

/** What liquidjs binds `this` to in a filter (its FilterImpl type is not exported). */
export interface FilterImpl {
  context: Context;
}

/** Per-render state, reachable from filters through the render's globals under a symbol (templates cannot name it). */
export const RENDER_STATE = Symbol('omnia.render');

export interface RenderState {
  timeZone?: string;
  slots?: import('./slots.ts').OutputSlots;
}

export function renderState(impl: FilterImpl): RenderState | undefined {
  return (impl.context.globals as Record<symbol, RenderState | undefined>)[RENDER_STATE];
}

const formats = new Map<string, Intl.NumberFormat>();

function numberFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}\u0000${currency}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      throw new Error(`money: unknown currency "${currency}" or locale "${locale}"`);
    }
    // Bounded: a template could otherwise grow it with computed currency codes.
    if (formats.size > 500) formats.clear();
    formats.set(key, f);
  }
  return f;
}

/**
 * `{{ item.price | money: item.currency }}`: amounts are integers in the currency's minor unit (pence, cents; yen
 * have none), as catalogs and payment providers store them. 1250 GBP → "£12.50". Locale defaults to en-US.
 */
export function money(amount: unknown, currency: unknown = 'USD', locale: unknown = 'en-US'): string {
  const n = typeof amount === 'string' && amount.trim() !== '' ? Number(amount) : amount;
  if (typeof n !== 'number' || !Number.isFinite(n)) throw new Error(`money: amount must be a number of minor units, got ${JSON.stringify(amount) ?? String(amount)}`);
  const code = typeof currency === 'string' && currency ? currency.toUpperCase() : 'USD';
  const f = numberFormat(typeof locale === 'string' && locale ? locale : 'en-US', code);
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(n / 10 ** digits);
}

const builtinDate = builtin.date as (this: FilterImpl, v: unknown, format?: unknown, tz?: unknown) => unknown;

/**
 * `{{ event.timestamp | date: "%B %-d, %H:%M" }}` in the profile's time zone (an explicit zone argument wins).
 * Numbers are epoch milliseconds when large enough to be (Omnia's timestamps), else seconds as in Liquid.
 */
export function date(this: FilterImpl, v: unknown, format?: unknown, tz?: unknown): unknown {
  const zone = tz ?? renderState(this)?.timeZone;
  let value = v;
  if (typeof v === 'number' && Math.abs(v) >= 1e11) value = new Date(v);
  return builtinDate.call(this, value, format, zone);
}
