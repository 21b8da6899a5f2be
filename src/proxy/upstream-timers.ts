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
  const timeout = (phase: 'connect' | 'response', ms: number) => () => request.destroy(new UpstreamTimeoutError(settings.name, phase, ms));
  const onSocket = (socket: NonNullable<ClientRequest['socket']>): void => {
    if (socket.connecting !== true) return;
    const connectTimer = setTimeout(timeout('connect', settings.connectTimeoutMs), settings.connectTimeoutMs);
    timers.push(connectTimer);
    socket.once('connect', () => clearTimeout(connectTimer));
  };
  if (request.socket !== null) onSocket(request.socket);
  else request.once('socket', onSocket);
  request.once('finish', () => {
    if (!settled) timers.push(setTimeout(timeout('response', settings.responseTimeoutMs), settings.responseTimeoutMs));
  });
  request.setTimeout(settings.responseTimeoutMs, timeout('response', settings.responseTimeoutMs));
  request.once('response', clear);
  request.once('close', clear);
}
