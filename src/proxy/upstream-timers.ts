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
  const timers: NodeJS.Timeout[] = [];
  let settled = false;
  const clear = (): void => {
    settled = true;
    for (const timer of timers) clearTimeout(timer);
  };
  // Timers run before the poll phase: after an event-loop stall (GC, a starved CPU) a timer can
  // fire although the connect, the headers or the bytes it waits for arrived in time and sit
  // queued behind it (npm run chaos measured it: a healthy local backend answered 504 "did not
  // accept a connection"). So each timer looks once more after that I/O (setImmediate) before failing.
  const expire = (phase: 'connect' | 'response', ms: number, stillWaiting: () => boolean) => () =>
    void setImmediate(() => {
      if (stillWaiting()) request.destroy(new UpstreamTimeoutError(settings.name, phase, ms));
    });
  const onSocket = (socket: NonNullable<ClientRequest['socket']>): void => {
    if (socket.connecting !== true) return;
    const connectTimer = setTimeout(expire('connect', settings.connectTimeoutMs, () => socket.connecting), settings.connectTimeoutMs);
    timers.push(connectTimer);
    socket.once('connect', () => clearTimeout(connectTimer));
  };
  if (request.socket !== null) onSocket(request.socket);
  else request.once('socket', onSocket);
  request.once('finish', () => {
    if (!settled) timers.push(setTimeout(expire('response', settings.responseTimeoutMs, () => !settled), settings.responseTimeoutMs));
  });
  // Idle: no bytes either way. Bytes read by the poll phase after the timer fired are activity.
  request.setTimeout(settings.responseTimeoutMs, () => {
    const readBefore = request.socket?.bytesRead ?? 0;
    expire('response', settings.responseTimeoutMs, () => (request.socket?.bytesRead ?? 0) === readBefore)();
  });
  request.once('response', clear);
  request.once('close', clear);
}
