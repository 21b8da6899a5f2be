import type { Request, RequestHandler, Response } from 'express';
import { ACTOR_HEADER } from './change-notes.js';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { tokensEqual } from '../routing/tester-override.js';
import { CSRF_HEADER, type UiRole, type UiSession } from '../ui/ui-session.js';
import type { UiSessions } from '../ui/ui-sessions.js';
import { sendAdminDisabled } from './admin-api.js';
import type { CredentialAttempts } from './auth-attempts.js';

/** Who may use the admin API, and how they prove it. */
export interface AdminAccess {
  /** Bearer token with every right; null: the admin API is off. */
  readonly adminToken: Buffer | null;
  /** Optional bearer token that can only read (GET/HEAD). */
  readonly viewerToken: Buffer | null;
  /** Dashboard sessions (cookie + CSRF header); null when the admin API is off. */
  readonly sessions: UiSessions | null;
}

export interface AdminPrincipal {
  readonly role: UiRole;
  readonly via: 'bearer' | 'session';
  /** The dashboard session (via `session`): long requests (event streams) end with it. */
  readonly session?: UiSession;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function principalOf(res: Response): AdminPrincipal | undefined {
  return res.locals['principal'] as AdminPrincipal | undefined;
}

/**
 * The admin API's guard. A bearer token (admin, or the viewer token for reads) or the dashboard's
 * session cookie; a cookie alone never changes anything — a state-changing request with a cookie
 * also needs the session's CSRF token in `X-CSRF-Token` (a cross-site page can make the browser
 * send the cookie, never read the token). Viewers are refused every change.
 */
export function authenticateAdmin(access: AdminAccess, attempts: CredentialAttempts): RequestHandler {
  return async (req, res, next) => {
    if (access.adminToken === null) return sendAdminDisabled(res);
    // undefined: no bearer token, try the session; null: refused and answered already.
    const bearer = bearerPrincipal(req, res, access, attempts);
    const principal = bearer === undefined ? await sessionPrincipal(req, res, access) : bearer;
    if (principal === null) return; // answered
    if (principal.role === 'viewer' && !SAFE_METHODS.has(req.method)) {
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_READ_ONLY', 'signed in with the viewer token: it can read, not change', { status: 403 }));
    }
    res.locals['principal'] = principal;
    next();
  };
}

/**
 * A bearer token: the admin's, the viewer's, or a wrong one (counted per client; a client that
 * keeps guessing is refused before its token is compared). Undefined: no bearer token sent.
 */
function bearerPrincipal(req: Request, res: Response, access: AdminAccess, attempts: CredentialAttempts): AdminPrincipal | undefined | null {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ') !== true) return undefined;
  const given = header.slice(7).trim();
  if (given === '') return undefined;
  if (attempts.refuseIfBlocked(req, res, 'admin')) return null;
  const role = roleOfToken(given, access);
  if (role === null) {
    attempts.failed(req, 'admin');
    return forbidden(res, 'the admin token is not valid');
  }
  attempts.succeeded(req, 'admin');
  return { role, via: 'bearer' };
}

/** Which token this is: the admin's, the viewer's, or neither. */
export function roleOfToken(given: string, access: Pick<AdminAccess, 'adminToken' | 'viewerToken'>): UiRole | null {
  if (given === '' || access.adminToken === null) return null;
  if (tokensEqual(given, access.adminToken)) return 'admin';
  if (access.viewerToken !== null && tokensEqual(given, access.viewerToken)) return 'viewer';
  return null;
}

async function sessionPrincipal(req: Request, res: Response, access: AdminAccess): Promise<AdminPrincipal | null> {
  const session = (await access.sessions?.fromCookieHeader(req.headers.cookie)) ?? null;
  if (session === null) {
    sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_UNAUTHENTICATED', 'send the admin token as `Authorization: Bearer <token>` (or sign in at /_switchyard/ui/)', { status: 401 }), {}, { 'www-authenticate': 'Bearer realm="switchyard"' });
    return null;
  }
  if (!SAFE_METHODS.has(req.method)) {
    const given = req.headers[CSRF_HEADER];
    if (!access.sessions!.csrfMatches(Array.isArray(given) ? given[0] : given, session)) {
      sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_CSRF', 'a change made with the session cookie needs the session’s CSRF token in `X-CSRF-Token`', { status: 403 }));
      return null;
    }
  }
  // The audit log names who signed in, whatever the page sends.
  req.headers[ACTOR_HEADER] = session.name === '' ? `dashboard (${session.role})` : `${session.name} (dashboard)`;
  return { role: session.role, via: 'session', session };
}

function forbidden(res: Response, detail: string): null {
  sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_FORBIDDEN', detail, { status: 403 }));
  return null;
}
