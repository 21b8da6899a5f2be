/** The admin API as the page uses it: same origin, the session cookie, the CSRF token on every change. */
let csrfToken = '';

export function setCsrf(token: string): void {
  csrfToken = token;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const parsed: unknown = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    const detail = typeof parsed === 'object' && parsed !== null && 'detail' in parsed ? String(parsed.detail) : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, detail);
  }
  return parsed as T;
}

export const api = {
  get: <T>(path: string) => call<T>('GET', path),
  put: <T>(path: string, body: unknown) => call<T>('PUT', path, body),
  post: <T>(path: string, body: unknown) => call<T>('POST', path, body),
  del: <T>(path: string, body?: unknown) => call<T>('DELETE', path, body),
};

export const enc = encodeURIComponent;
