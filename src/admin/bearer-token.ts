import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendProblem } from '../errors/problem.js';
import type { SwitchyardError } from '../errors/switchyard-error.js';
import { tokensEqual } from '../routing/tester-override.js';
import type { CredentialAttempts, CredentialSurface } from './auth-attempts.js';

/** One bearer-token-protected surface (the admin API, the metrics endpoint). */
export interface BearerGuard {
  readonly token: Buffer;
  readonly surface: CredentialSurface;
  /** `WWW-Authenticate: Bearer realm="…"` on a 401. */
  readonly realm: string;
  /** The 401 (no bearer token) and the 403 (a wrong one): fixed answers that never echo what was sent. */
  readonly unauthenticated: SwitchyardError;
  readonly forbidden: SwitchyardError;
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
    sendProblem(res, guard.unauthenticated, {}, { 'www-authenticate': `Bearer realm="${guard.realm}"` });
    return false;
  }
  if (!tokensEqual(given, guard.token)) {
    attempts.failed(req, guard.surface);
    sendProblem(res, guard.forbidden);
    return false;
  }
  attempts.succeeded(req, guard.surface);
  return true;
}
