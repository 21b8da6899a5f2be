import express, { type ErrorRequestHandler, type RequestHandler, type Router } from 'express';
import { sendProblem } from '../errors/problem.js';
import { BadRequestError, SwitchyardError } from '../errors/switchyard-error.js';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import { tokensEqual } from '../routing/tester-override.js';

export { ADMIN_PREFIX } from '../routing/admin-prefix.js';

export interface AdminSection {
  /** Mounted at `${ADMIN_PREFIX}/${name}`. */
  readonly name: string;
  readonly router: Router;
}

/**
 * Bearer-token guard. With no token configured the admin API does not exist (404, saying how to
 * enable it) — an unprotected admin API is never the default.
 */
export function requireAdminToken(token: Buffer | null): RequestHandler {
  return (req, res, next) => {
    if (token === null) {
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_DISABLED', 'the admin API is disabled: set SWITCHYARD_ADMIN_TOKEN (or the adminToken option) to enable it', { status: 404 }));
    }
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') === true ? header.slice(7).trim() : '';
    if (given === '') {
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_UNAUTHENTICATED', 'send the admin token as `Authorization: Bearer <token>`', { status: 401 }), {}, { 'www-authenticate': 'Bearer realm="switchyard"' });
    }
    if (!tokensEqual(given, token)) return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_FORBIDDEN', 'the admin token is not valid', { status: 403 }));
    next();
  };
}

/** The admin API: token check, small strict JSON bodies, problem+json for every error. */
export function createAdminApi(token: Buffer | null, sections: readonly AdminSection[]): Router {
  const api = express.Router();
  api.use(requireAdminToken(token));
  api.use(express.json({ limit: '64kb', strict: true }));
  for (const section of sections) api.use(`/${section.name}`, section.router);
  api.use((req, res) => sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', `no admin endpoint ${req.method} ${ADMIN_PREFIX}${req.path}`, { status: 404 })));
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    if (error instanceof SwitchyardError) return sendProblem(res, error);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser's errors: malformed JSON, too large, wrong charset.
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_BAD_BODY', (error as Error).message, { status }));
    }
    sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_FAILED', 'the admin request failed', { status: 500 }));
  };
  api.use(onError);
  return api;
}

/** For section handlers: a 400 that names the field, as configuration errors do. */
export function badAdminInput(field: string, reason: string): BadRequestError {
  return new BadRequestError('SWITCHYARD_ADMIN_BAD_INPUT', `${field}: ${reason}`);
}
