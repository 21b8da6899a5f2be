import type { ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Router } from 'express';
import { sendProblem } from '../errors/problem.js';
import { BadRequestError, SwitchyardError } from '../errors/switchyard-error.js';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import { authenticateAdmin, type AdminAccess } from './admin-auth.js';
import type { CredentialAttempts } from './auth-attempts.js';

export { ADMIN_PREFIX } from '../routing/admin-prefix.js';

export interface AdminSection {
  /** Mounted at `${ADMIN_PREFIX}/${name}`. */
  readonly name: string;
  readonly router: Router;
}

/** The one answer for anything under the prefix while the admin API is off (whatever the path, method or body). */
export function sendAdminDisabled(res: ServerResponse): void {
  sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_DISABLED', 'the admin API is disabled: set SWITCHYARD_ADMIN_TOKEN (or the adminToken option) to enable it', { status: 404 }));
}

const BODY_ERRORS: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'the request body is not valid JSON',
  'entity.too.large': 'the request body is larger than 64 KiB',
  'charset.unsupported': 'the request body must be UTF-8 JSON',
  'encoding.unsupported': 'the request body has an unsupported Content-Encoding',
};

/**
 * The admin API: token or dashboard-session check (admin-auth.ts; wrong tokens braked per client
 * by `attempts`), small strict JSON bodies, problem+json for every error.
 */
export function createAdminApi(access: AdminAccess, sections: readonly AdminSection[], attempts: CredentialAttempts): Router {
  const api = express.Router();
  api.use(authenticateAdmin(access, attempts));
  api.use(express.json({ limit: '64kb', strict: true }));
  for (const section of sections) api.use(`/${section.name}`, section.router);
  api.use((req, res) => sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', `no admin endpoint ${req.method} ${ADMIN_PREFIX}${req.path}`, { status: 404 })));
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    if (error instanceof SwitchyardError) return sendProblem(res, error);
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // body-parser's errors: malformed JSON, too large, wrong charset. Never its message: JSON.parse
      // quotes the body (which may hold a token someone pasted), and the charset is the client's text.
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_BAD_BODY', BODY_ERRORS[String((error as { type?: unknown }).type)] ?? 'the request body could not be read', { status }));
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
