/**
 * Every error code Switchyard emits — in problem+json bodies, logs, spans — with its usual HTTP
 * status and what it means. One catalogue: `SwitchyardError` only accepts these, and a test checks
 * that README.md documents each one. Codes are stable: match on them in alerts and clients.
 */
export const ERROR_CODES = {
  SWITCHYARD_BAD_PATH: { status: 400, meaning: 'the request path is malformed or unsafe (encoded `/`, dot segments, `//`, …)' },
  SWITCHYARD_BAD_OVERRIDE: { status: 400, meaning: 'a malformed `X-Switchyard-Force` tester override' },
  SWITCHYARD_BAD_REQUEST: { status: 400, meaning: 'Node could not parse the request (malformed request line or headers); the connection is closed' },
  SWITCHYARD_HEADERS_TOO_LARGE: { status: 431, meaning: 'request headers over Node’s limit; the connection is closed' },
  SWITCHYARD_CHUNK_EXTENSIONS_TOO_LARGE: { status: 413, meaning: 'chunk extensions over Node’s limit; the connection is closed' },
  SWITCHYARD_REQUEST_TIMEOUT: { status: 408, meaning: 'the client did not send its request in time; the connection is closed' },
  SWITCHYARD_METHOD_NOT_ALLOWED: { status: 405, meaning: 'the path is routed, but not for this method (`Allow` lists the ones that are)' },
  SWITCHYARD_NO_ROUTE: { status: 404, meaning: 'no route claims the path (standalone server)' },
  SWITCHYARD_NO_SIDE: { status: 500, meaning: 'the decision named a side the route lacks (an invariant guard)' },
  SWITCHYARD_NO_UPSTREAM: { status: 500, meaning: 'the route’s upstream is not configured in this snapshot (an invariant guard)' },
  SWITCHYARD_UPSTREAM_UNAVAILABLE: { status: 502, meaning: 'the upstream could not be reached or broke the connection' },
  SWITCHYARD_UPSTREAM_TIMEOUT: { status: 504, meaning: 'the upstream did not connect or answer within its timeout (the detail names the phase)' },
  SWITCHYARD_UPSTREAM_OVERLOADED: { status: 503, meaning: '`maxInFlight` reached and the queue full or too slow; `Retry-After` says when to retry' },
  SWITCHYARD_NOT_CACHED: { status: 504, meaning: '`Cache-Control: only-if-cached` and no usable stored response' },
  SWITCHYARD_HANDLER_FAILED: { status: 500, meaning: 'a new handler threw or rejected' },
  SWITCHYARD_INTERNAL: { status: 500, meaning: 'a bug inside Switchyard while routing; logged with its stack, answered without it' },
  SWITCHYARD_SHADOW_TIMEOUT: { status: 504, meaning: 'a shadow call did not finish within the route’s shadow `timeoutMs` (never seen by clients; counted as a skip)' },
  SWITCHYARD_STARTING: { status: 503, meaning: 'the server is not ready yet (or is draining)' },
  SWITCHYARD_CONFIG_INVALID: { status: 500, meaning: 'the flags configuration is invalid (start-up exits 1; a reload keeps the last good one)' },
  SWITCHYARD_ADMIN_DISABLED: { status: 404, meaning: 'the admin API is off: no admin token is configured' },
  SWITCHYARD_ADMIN_UNAUTHENTICATED: { status: 401, meaning: 'no `Authorization: Bearer` admin token' },
  SWITCHYARD_ADMIN_FORBIDDEN: { status: 403, meaning: 'the admin token is wrong' },
  SWITCHYARD_AUTH_RATE_LIMITED: { status: 429, meaning: 'too many wrong admin, metrics or override tokens from this address: refused, whatever the token, until `Retry-After`' },
  SWITCHYARD_ADMIN_NOT_FOUND: { status: 404, meaning: 'no such admin endpoint (or the feature behind it is off)' },
  SWITCHYARD_ADMIN_UNKNOWN_ROUTE: { status: 404, meaning: 'no route of that name' },
  SWITCHYARD_ADMIN_BAD_INPUT: { status: 400, meaning: 'an admin request field is invalid (the detail names it)' },
  SWITCHYARD_ADMIN_BAD_BODY: { status: 400, meaning: 'the admin request body is not valid JSON, too large, or of the wrong type' },
  SWITCHYARD_ADMIN_CONFLICT: { status: 409, meaning: 'the change conflicts with the route’s configuration (e.g. a percentage on a pinned route)' },
  SWITCHYARD_ADMIN_FAILED: { status: 500, meaning: 'an admin request failed unexpectedly' },
  SWITCHYARD_FLAGS_STORE_UNAVAILABLE: { status: 503, meaning: 'runtime flag changes are refused while their Redis store is unreachable' },
  SWITCHYARD_CACHE_UNAVAILABLE: { status: 503, meaning: 'a cache purge could not reach the store' },
  SWITCHYARD_PURGE_NOT_FOUND: { status: 404, meaning: 'a purge named an unknown route or a URL no cached route serves' },
  SWITCHYARD_ADMIN_READ_ONLY: { status: 403, meaning: 'the viewer token (or a viewer session) can read, not change' },
  SWITCHYARD_ADMIN_CSRF: { status: 403, meaning: 'a change made with the dashboard’s session cookie lacks the session’s `X-CSRF-Token`' },
  SWITCHYARD_UI_NOT_BUILT: { status: 503, meaning: 'the dashboard’s assets are missing: run `npm run build`' },
  SWITCHYARD_RULES_STORE_UNAVAILABLE: { status: 503, meaning: 'shadow ignore-rule decisions are refused while their Redis store is unreachable' },
  SWITCHYARD_METRICS_UNAUTHENTICATED: { status: 401, meaning: 'the metrics endpoint needs its token' },
  SWITCHYARD_METRICS_FORBIDDEN: { status: 403, meaning: 'the metrics token is wrong' },
} as const satisfies Record<string, { readonly status: number; readonly meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
