// JSON columns: jsonb on PostgreSQL (pg parses them on read), TEXT on SQLite (we parse them). Writes are strings on
// both: PostgreSQL casts a JSON string literal into jsonb.
export function toJson(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function fromJson<T = Record<string, unknown>>(value: unknown): T {
  if (typeof value === 'string') return JSON.parse(value) as T;
  return (value ?? {}) as T;
}
