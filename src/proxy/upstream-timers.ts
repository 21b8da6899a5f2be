import type { ClientRequest } from 'node:http';
import { UpstreamTimeoutError } from '../errors/switchyard-error.js';

export interface TimerSettings {
  readonly name: string;
  readonly connectTimeoutMs: number;
  readonly responseTimeoutMs: number;
}

/**
 * Three clocks per upstream call, the same for every caller (proxy, cache fill, shadow): connect
 * (a new socket must connect in `connectTimeoutMs`), response (headers within `responseTimeoutMs`
 * of the request being fully sent — a slow upload is not the backend's fault), and idle (no bytes
 * either way for `responseTimeoutMs`, which also catches a backend that stalls after its headers).
 * Each fires as `request.destroy(UpstreamTimeoutError)`, so the caller's one error path maps it to a 504.
 */
export function armTimers(request: ClientRequest, settings: TimerSettings): void {
  let connectTimer: NodeJS.Timeout | undefined;
  let responseTimer: NodeJS.Timeout | undefined;
  let settled = false;
  const clear = (): void => {
    settled = true;
    clearTimeout(connectTimer);
    clearTimeout(responseTimer);
  };
  // Timers run before the poll phase: after an event-loop stall (GC, a starved CPU) a timer can
  // fire although the connect, the headers or the bytes it waits for arrived in time and sit
  // queued behind it (npm run chaos measured it: a healthy local backend answered 504 "did not
  // accept a connection"). So each timer looks once more after that I/O (setImmediate) before failing.
  const expire = (phase: 'connect' | 'response', ms: number, stillWaiting: () => boolean) => () =>
    void setImmediate(() => {
      if (stillWaiting()) request.destroy(new UpstreamTimeoutError(settings.name, phase, ms));
    });
  // `on`, not `once`, for the request's own events: each fires at most once per request, and
  // `once` would allocate a wrapper per listener on every proxied request. The socket outlives the
  // request (keep-alive), so its listener stays `once`.
  const onSocket = (socket: NonNullable<ClientRequest['socket']>): void => {
    if (socket.connecting !== true) return;
    const timer = setTimeout(expire('connect', settings.connectTimeoutMs, () => socket.connecting), settings.connectTimeoutMs);
    connectTimer = timer;
    socket.once('connect', () => clearTimeout(timer));
  };
  if (request.socket !== null) onSocket(request.socket);
  else request.on('socket', onSocket);
  request.on('finish', () => {
    if (!settled) responseTimer = setTimeout(expire('response', settings.responseTimeoutMs, () => !settled), settings.responseTimeoutMs);
  });
  // Idle: no bytes either way. Bytes read by the poll phase after the timer fired are activity.
  request.setTimeout(settings.responseTimeoutMs, () => {
    const readBefore = request.socket?.bytesRead ?? 0;
    expire('response', settings.responseTimeoutMs, () => (request.socket?.bytesRead ?? 0) === readBefore)();
  });
  request.on('response', clear);
  request.on('close', clear);
}
