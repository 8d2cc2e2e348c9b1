// The one way the dashboard talks to Omnia: same-origin fetch with the session cookie, the CSRF header on every
// state-changing request, and the API's error shape ({ error: { code, message, field? } }) as an ApiError.
// A 401 outside /api/auth means the session ended (expired, signed out elsewhere, removed from the workspace):
// the session layer is told, and shows the sign-in page with the reason.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The field the API named (e.g. definition.conditions.1.window.amount, nodes.email.next, templates.sms). */
    readonly field?: string,
  ) {
    super(message);
  }
}

let csrfToken = '';
let unauthorized: (message: string) => void = () => {};

export const setCsrf = (token: string) => void (csrfToken = token);
export const onUnauthorized = (fn: (message: string) => void) => void (unauthorized = fn);

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['x-omnia-csrf'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(`/api${path}`, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Omnia could not be reached: check your connection and try again');
  }
  const text = res.status === 204 ? '' : await res.text();
  let json: any = null;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
  }
  if (!res.ok) {
    const e = json && typeof json === 'object' ? json.error : null;
    const err = new ApiError(res.status, e?.code ?? 'error', e?.message ?? `${res.status} ${res.statusText}`, e?.field);
    if (res.status === 401 && !path.startsWith('/auth/')) unauthorized(err.message);
    throw err;
  }
  return json as T;
}

export const get = <T = any>(path: string) => api<T>('GET', path);
export const post = <T = any>(path: string, body?: unknown) => api<T>('POST', path, body);
export const put = <T = any>(path: string, body?: unknown) => api<T>('PUT', path, body);
export const patch = <T = any>(path: string, body?: unknown) => api<T>('PATCH', path, body);
export const del = <T = any>(path: string) => api<T>('DELETE', path);

export const enc = encodeURIComponent;

/** The message of an error for people (the API's messages are written for them). */
export const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
