import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import type { Readiness } from '../server/readiness.js';

export const HEALTHZ_PATH = `${ADMIN_PREFIX}/healthz`;
export const READYZ_PATH = `${ADMIN_PREFIX}/readyz`;

/**
 * Liveness and readiness for orchestrators and load balancers. No token: probes cannot carry
 * one, so the answers say nothing beyond the state (no version, routes or dependencies).
 * A plain Node handler, so the CLI can answer probes before Switchyard itself has started.
 * Returns false when the request is not a probe.
 */
export function answerProbe(req: IncomingMessage, res: ServerResponse, readiness: Readiness): boolean {
  const path = (req.url ?? '/').split('?', 1)[0];
  if (path !== HEALTHZ_PATH && path !== READYZ_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, req, 405, { status: 'method not allowed' }, { allow: 'GET, HEAD' });
    return true;
  }
  if (path === HEALTHZ_PATH) send(res, req, 200, { status: 'ok' });
  else send(res, req, readiness.ready ? 200 : 503, { status: readiness.state });
  return true;
}

function send(res: ServerResponse, req: IncomingMessage, status: number, body: Record<string, string>, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...extra });
  res.end(req.method === 'HEAD' ? undefined : text);
}
