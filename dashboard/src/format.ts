// Formatting helpers: times, money in minor units, numbers, and values of unknown shape.

const dtf = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const nf = new Intl.NumberFormat();

export function dateTime(ms: number | string | null | undefined): string {
  if (ms === null || ms === undefined || ms === '') return '—';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : dtf.format(d);
}

export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (!ms) return '—';
  const s = Math.round((now - ms) / 1000);
  const abs = Math.abs(s);
  const [v, u] = abs < 60 ? [abs, 'second'] : abs < 3600 ? [Math.round(abs / 60), 'minute'] : abs < 86400 ? [Math.round(abs / 3600), 'hour'] : [Math.round(abs / 86400), 'day'];
  const unit = `${v} ${u}${v === 1 ? '' : 's'}`;
  return s >= 0 ? `${unit} ago` : `in ${unit}`;
}

export const num = (n: number | null | undefined) => (n === null || n === undefined ? '—' : nf.format(n));

export function money(minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

export const pct = (r: number | null | undefined) => (r === null || r === undefined ? '—' : `${(r * 100).toFixed(1)} %`);

export function show(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A short summary of event properties: the first few scalar values. */
export function summary(props: unknown, max = 4): string {
  if (!props || typeof props !== 'object') return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
    if (parts.length >= max) break;
    if (v === null || typeof v === 'object') continue;
    parts.push(`${k}: ${String(v).slice(0, 60)}`);
  }
  return parts.join(' · ');
}

/** A person's display name from their traits, else their email, else the id. */
export function personName(p: { id: string; traits?: Record<string, unknown>; identifiers?: { kind: string; value: string }[] }): string {
  const t = p.traits ?? {};
  const full = [t.first_name ?? t.firstName, t.last_name ?? t.lastName].filter((x) => typeof x === 'string' && x).join(' ');
  if (full) return full;
  if (typeof t.name === 'string' && t.name) return t.name;
  const email = p.identifiers?.find((i) => i.kind === 'email')?.value ?? (typeof t.email === 'string' ? t.email : null);
  return email ?? p.id;
}
