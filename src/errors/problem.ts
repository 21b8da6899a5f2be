import type { ServerResponse } from 'node:http';
import type { SwitchyardError } from './switchyard-error.js';
import { UpstreamOverloadedError } from './switchyard-error.js';

/** Extra members of an RFC 9457 problem document that say where the failure happened. */
export interface ProblemContext {
  readonly route?: string;
  readonly upstream?: string;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/**
 * Writes `application/problem+json`. Never includes a stack trace: the detail is our own message,
 * and the cause stays in the server log. If headers are already out, the only honest thing left
 * is to cut the connection so the client sees a truncated response rather than a corrupt one.
 */
export function sendProblem(res: ServerResponse, error: SwitchyardError, context: ProblemContext = {}, extraHeaders: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    type: `https://switchyard.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[error.status] ?? 'Error',
    status: error.status,
    detail: error.message,
    code: error.code,
    ...context,
  });
  const headers: Record<string, string | number> = {
    'content-type': 'application/problem+json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  if (error instanceof UpstreamOverloadedError) headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(error.status, headers);
  res.end(body);
}
