/**
 * Idle keep-alive connections to a backend are closed after this, below common backends' own idle
 * timeouts (gunicorn gthread: 2 s, Node: 5 s, nginx: 75 s). A request sent on a connection the
 * backend is closing at that moment fails with ECONNRESET — a 502 nobody caused — so the pool
 * must let go first. Requests in flight are unaffected: their own timers replace the socket timeout.
 */
export const IDLE_SOCKET_MS = 1000;

/** Methods a proxy may send twice (RFC 9110 §9.2.1 safe methods): retried only without a body. */
const RETRYABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isRetryableRequest(method: string): boolean {
  return RETRYABLE_METHODS.has(method);
}

/**
 * The one failure a proxy retries by itself: a bodiless safe request written on a pooled
 * connection that the backend closed at that moment (ECONNRESET/EPIPE on a reused socket, before
 * any response). The backend never saw the request, so sending it again on a fresh connection
 * is what nginx (`proxy_next_upstream error`) and Node's own docs (`request.reusedSocket`) do.
 * IDLE_SOCKET_MS makes the race rare; an event-loop stall (GC, a starved CPU) can still let a
 * connection outlive the backend's timeout, and without this the client would get a 502.
 */
export function isStaleReuse(request: { readonly reusedSocket: boolean; readonly method: string }, error: unknown, hasBody: boolean): boolean {
  return !hasBody && request.reusedSocket && isRetryableRequest(request.method) && isConnectionReset(error);
}

/** The connection was reset or broken under a request (ECONNRESET / EPIPE). */
export function isConnectionReset(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
