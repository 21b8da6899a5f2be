import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheusText, type MetricFamily } from '../metrics/prometheus-text.js';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import { tokensEqual } from '../routing/tester-override.js';

export const METRICS_PATH = `${ADMIN_PREFIX}/metrics`;

export interface MetricsEndpointOptions {
  /** SWITCHYARD_METRICS=prometheus; off: the path answers 404 saying how to turn it on. */
  readonly enabled: boolean;
  /**
   * Bearer token the scraper sends (SWITCHYARD_METRICS_TOKEN). A token of its own, never the
   * admin token: a scraper's credentials should not be able to move traffic. null: open, as
   * Prometheus endpoints usually are (keep the port off the public network).
   */
  readonly token: Buffer | null;
  readonly collect: () => readonly MetricFamily[];
}

/** Prometheus text at /_switchyard/metrics; false when the request is for another path. */
export function answerMetrics(req: IncomingMessage, res: ServerResponse, options: MetricsEndpointOptions): boolean {
  if ((req.url ?? '/').split('?', 1)[0] !== METRICS_PATH) return false;
  if (!options.enabled) {
    sendProblem(res, new SwitchyardError('SWITCHYARD_METRICS_DISABLED', 'Prometheus metrics are off: set SWITCHYARD_METRICS=prometheus (or the metrics option) to serve them', { status: 404 }));
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendProblem(res, new SwitchyardError('SWITCHYARD_METHOD_NOT_ALLOWED', `${req.method ?? '?'} is not allowed on ${METRICS_PATH}`, { status: 405 }), {}, { allow: 'GET, HEAD' });
    return true;
  }
  if (options.token !== null && !authorized(req, options.token, res)) return true;
  const body = renderPrometheusText(options.collect());
  res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}

function authorized(req: IncomingMessage, token: Buffer, res: ServerResponse): boolean {
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ') === true ? header.slice(7).trim() : '';
  if (given === '') {
    sendProblem(res, new SwitchyardError('SWITCHYARD_METRICS_UNAUTHENTICATED', 'send the metrics token as `Authorization: Bearer <token>`', { status: 401 }), {}, { 'www-authenticate': 'Bearer realm="switchyard-metrics"' });
    return false;
  }
  if (!tokensEqual(given, token)) {
    sendProblem(res, new SwitchyardError('SWITCHYARD_METRICS_FORBIDDEN', 'the metrics token is not valid', { status: 403 }));
    return false;
  }
  return true;
}
