import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText, type MetricFamily } from '../metrics/prometheus-text.js';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import type { CredentialAttempts } from './auth-attempts.js';
import { checkBearer } from './bearer-token.js';

export const METRICS_PATH = `${ADMIN_PREFIX}/metrics`;

export interface MetricsEndpointOptions {
  /** SWITCHYARD_METRICS=prometheus; off: the path does not exist. */
  readonly enabled: boolean;
  /**
   * Bearer token the scraper sends (SWITCHYARD_METRICS_TOKEN). A token of its own, never the
   * admin token: a scraper's credentials should not be able to move traffic. null: open, as
   * Prometheus endpoints usually are (keep the port off the public network).
   */
  readonly token: Buffer | null;
  readonly collect: () => readonly MetricFamily[];
  /** Wrong tokens are counted per client; a client that keeps guessing gets 429s. */
  readonly attempts: CredentialAttempts;
}

const METRICS_GUARD = {
  surface: 'metrics',
  realm: 'switchyard-metrics',
  unauthenticated: new SwitchyardError('SWITCHYARD_METRICS_UNAUTHENTICATED', 'send the metrics token as `Authorization: Bearer <token>`', { status: 401 }),
  forbidden: new SwitchyardError('SWITCHYARD_METRICS_FORBIDDEN', 'the metrics token is not valid', { status: 403 }),
} as const;

/** Prometheus text at /_switchyard/metrics; false when the request is for another path. */
export function answerMetrics(req: IncomingMessage, res: ServerResponse, options: MetricsEndpointOptions): boolean {
  // Off, the path is not there: the admin API (or its one "disabled" 404) answers, as for any other path.
  if (!options.enabled || (req.url ?? '/').split('?', 1)[0] !== METRICS_PATH) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendProblem(res, new SwitchyardError('SWITCHYARD_METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on ${METRICS_PATH}`, { status: 405 }), {}, { allow: 'GET, HEAD' });
    return true;
  }
  if (options.token !== null && !checkBearer(req, res, { token: options.token, ...METRICS_GUARD }, options.attempts)) return true;
  const body = renderPrometheusText(options.collect());
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
