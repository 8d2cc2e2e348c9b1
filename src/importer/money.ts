// Exact decimal arithmetic for order totals. Unit prices in exports can have more decimals than the currency
// (0.001 in the UCI data), so a line's amount is not a whole number of minor units. We multiply the decimal strings
// exactly (BigInt, fixed scale), add the lines of an order, and round once, per order, half away from zero — the way
// an invoice is totalled. Rounding each line to cents first would drift from the invoice total by up to half a cent
// a line.

/** Decimal places kept when parsing (prices and quantities both); more is rejected as not a plain amount. */
export const SCALE_DIGITS = 6;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/** A decimal string ("2.55", "-11062.06", "1e3" is refused) as an integer × 10^-6, or null when not a plain number. */
export function parseDecimal(s: string): bigint | null {
  const v = s.trim().replace(/^\((.*)\)$/, '-$1'); // (12.50) as accountants write negatives
  const m = DECIMAL.exec(v);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const frac = m[3] ?? '';
  if (frac.length > SCALE_DIGITS && /[1-9]/.test(frac.slice(SCALE_DIGITS))) return null;
  const int = BigInt(m[2] || '0') * SCALE + BigInt((frac + '000000').slice(0, SCALE_DIGITS) || '0');
  return m[1] === '-' ? -int : int;
}

/** price × quantity, both at scale 10^-6 → the amount at scale 10^-12. */
export function lineAmount(price: bigint, quantity: bigint): bigint {
  return price * quantity;
}

/** An amount at scale 10^-12 → whole minor units of a currency with `digits` decimals, rounded half away from zero. */
export function toMinor(amount12: bigint, digits: number): number {
  const div = 10n ** BigInt(2 * SCALE_DIGITS - digits);
  const neg = amount12 < 0n;
  const a = neg ? -amount12 : amount12;
  let q = a / div;
  if ((a % div) * 2n >= div) q += 1n;
  return Number(neg ? -q : q);
}

/** Minor units → the decimal number a Segment `total` carries (139.12). */
export function minorToMajor(minor: number, digits: number): number {
  return digits === 0 ? minor : Number((minor / 10 ** digits).toFixed(digits));
}

/** A decimal at scale 10^-6 as a JS number (for display fields such as a product's unit price). */
export function decimalToNumber(d: bigint): number {
  return Number(d) / Number(SCALE);
}
