import type { ServerResponse } from 'node:http';
import type { SwitchyardError } from './switchyard-error.js';
import { UpstreamOverloadedError } from './switchyard-error.js';

/** Extra members of an RFC 9457 problem document that say where the failure happened. */
export interface ProblemContext {
  readonly route?: string;
  readonly upstream?: string;
}


export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Reason phrases (RFC 9110 §15) of every status Switchyard answers with. */
const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function problemTitle(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** The RFC 9457 document for an error: our own message as the detail, never a stack trace. */
export function problemBody(error: SwitchyardError, context: ProblemContext = {}): string {
  return JSON.stringify({
    type: `https://switchyard.dev/problems/${error.code.toLowerCase().replace(/_/g, '-')}`,
    title: problemTitle(error.status),
    status: error.status,
    detail: error.message,
    code: error.code,
    ...context,
  });
}

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
  const body = problemBody(error, context);
  const headers: Record<string, string | number> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...extraHeaders,
  };
  if (error instanceof UpstreamOverloadedError) headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(error.status, headers);
  res.end(body);
}
