import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ErrorCode } from '../errors/error-codes.js';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { tokensEqual } from '../routing/tester-override.js';
import type { CredentialAttempts, CredentialSurface } from './auth-attempts.js';

/** One bearer-token-protected surface (the admin API, the metrics endpoint). */
export interface BearerGuard {
  readonly token: Buffer;
  readonly surface: CredentialSurface;
  /** `WWW-Authenticate: Bearer realm="…"` on a 401. */
  readonly realm: string;
  /** Names the token in the 401's detail ("admin", "metrics"). */
  readonly what: string;
  readonly unauthenticated: ErrorCode;
  readonly forbidden: ErrorCode;
}

/**
 * `Authorization: Bearer <token>`: true when it is the right one; otherwise the 401/403 (or the
 * limiter's 429) has been sent. The answers never echo what was sent, and a blocked client is
 * refused before its token is compared (see auth-failure-limiter.ts).
 */
export function checkBearer(req: IncomingMessage, res: ServerResponse, guard: BearerGuard, attempts: CredentialAttempts): boolean {
  if (attempts.refuseIfBlocked(req, res, guard.surface)) return false;
  const header = req.headers.authorization;
  const given = header?.startsWith('Bearer ') === true ? header.slice(7).trim() : '';
  if (given === '') {
    sendProblem(res, new SwitchyardError(guard.unauthenticated, `send the ${guard.what} token as \`Authorization: Bearer <token>\``, { status: 401 }), {}, { 'www-authenticate': `Bearer realm="${guard.realm}"` });
    return false;
  }
  if (!tokensEqual(given, guard.token)) {
    attempts.failed(req, guard.surface);
    sendProblem(res, new SwitchyardError(guard.forbidden, `the ${guard.what} token is not valid`, { status: 403 }));
    return false;
  }
  attempts.succeeded(req, guard.surface);
  return true;
}
