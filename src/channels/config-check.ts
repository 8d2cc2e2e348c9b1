// Small field checker shared by the provider config validators: every problem is reported with the dotted path of the
// field it is about (`auth.pass`, `pool.maxConnections`), so an API can answer 400 naming the bad field.

export interface FieldError {
  field: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

type Obj = Record<string, unknown>;

export const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A host name (LDH labels) or an IP literal: what an SMTP host or a Message-ID domain may be. */
export const HOSTNAME_RE = /^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export class ConfigChecker {
  readonly errors: FieldError[] = [];

  fail(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  /** The object at `field` (the root when field is ''); undefined when absent and optional. */
  object(parent: Obj | undefined, key: string, path: string, optional = false): Obj | undefined {
    const v = parent?.[key];
    if (v === undefined && optional) return undefined;
    if (!isObject(v)) {
      this.fail(path, v === undefined ? 'is required' : 'must be an object');
      return undefined;
    }
    return v;
  }

  string(o: Obj, key: string, path: string, opts: { optional?: boolean; pattern?: RegExp; hint?: string; maxLength?: number } = {}): string | undefined {
    const v = o[key];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== 'string' || v.length === 0) {
      this.fail(path, v === undefined ? 'is required' : 'must be a non-empty string');
      return undefined;
    }
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      this.fail(path, `must be at most ${opts.maxLength} characters`);
      return undefined;
    }
    if (opts.pattern && !opts.pattern.test(v)) {
      this.fail(path, opts.hint ?? `must match ${opts.pattern}`);
      return undefined;
    }
    return v;
  }

  int(o: Obj, key: string, path: string, opts: { optional?: boolean; min?: number; max?: number } = {}): number | undefined {
    const v = o[key];
    if (v === undefined && opts.optional) return undefined;
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.fail(path, v === undefined ? 'is required' : `must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return v;
  }

  bool(o: Obj, key: string, path: string): boolean | undefined {
    const v = o[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') {
      this.fail(path, 'must be true or false');
      return undefined;
    }
    return v;
  }

  /** Refuses keys outside `allowed` (a typo such as `maxConnection` would otherwise be silently ignored). */
  noUnknownKeys(o: Obj, allowed: readonly string[], prefix: string): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(prefix ? `${prefix}.${k}` : k, 'is not a known field');
  }

  result<T>(value: T): Validated<T> {
    return this.errors.length ? { ok: false, errors: this.errors } : { ok: true, value };
  }
}

/** Thrown by the adapter factories when a config does not validate; `errors` names the fields. */
export class ChannelConfigError extends Error {
  constructor(
    readonly errors: FieldError[],
    what = 'channel config',
  ) {
    super(`invalid ${what}: ${errors.map((e) => `${e.field} ${e.message}`).join('; ')}`);
  }
}

/** The value of a Retry-After header (delta seconds or an HTTP date) in milliseconds, or undefined. */
export function retryAfterMs(header: string | null | undefined, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const s = header.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
