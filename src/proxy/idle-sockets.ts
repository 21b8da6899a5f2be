/**
 * Idle keep-alive connections to a backend are closed after this, below common backends' own idle
 * timeouts (gunicorn gthread: 2 s, Node: 5 s, nginx: 75 s). A request sent on a connection the
 * backend is closing at that moment fails with ECONNRESET — a 502 nobody caused — so the pool
 * must let go first. Requests in flight are unaffected: their own timers replace the socket timeout.
 */
export const IDLE_SOCKET_MS = 1000;
