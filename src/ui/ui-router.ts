import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type ErrorRequestHandler, type Request, type Response } from 'express';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { sendAdminDisabled } from '../admin/admin-api.js';
import { roleOfToken } from '../admin/admin-auth.js';
import type { CredentialAttempts } from '../admin/auth-attempts.js';
import { CSRF_HEADER, SESSION_COOKIE, type UiSession } from './ui-session.js';
import type { UiSessions } from './ui-sessions.js';

export interface UiRouterOptions {
  /** Null when the admin API is off: the page then says how to turn it on. */
  readonly sessions: UiSessions | null;
  readonly adminToken: Buffer | null;
  readonly viewerToken: Buffer | null;
  /** Wrong tokens at sign-in count with wrong bearer tokens, per client (admin/auth-attempts.ts). */
  readonly attempts: CredentialAttempts;
  /** The built page (index.html, app.js, app.css): `npm run build` writes dist/ui. */
  readonly assetsDir: string;
}

/**
 * No inline script or style, nothing from another origin, no framing: whatever a response
 * sample holds is rendered as text by the page, and even markup that slipped through could not run.
 */
export const UI_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml', '.map': 'application/json' };
const MAX_NAME = 64;

/**
 * The dashboard at /_switchyard/ui/: its static page, and its sign-in — the admin (or viewer)
 * token once, exchanged for an HttpOnly, SameSite=Strict, expiring session cookie and a CSRF
 * token the page keeps in memory. Wrong tokens count with wrong bearer tokens per client address
 * (admin/auth-attempts.ts): a client that keeps guessing gets 429s.
 *
 * GET    /_switchyard/ui/            the page (and /_switchyard/ui/assets/*)
 * POST   /_switchyard/ui/session     {token, name?} → {role, name, csrfToken, expiresAt, signOut} + Set-Cookie
 * GET    /_switchyard/ui/session     the current session (a reload keeps it) or 401
 * DELETE /_switchyard/ui/session     sign out (needs X-CSRF-Token): refused by every instance with Redis, else by this one
 */
export function uiRouter(options: UiRouterOptions): express.Router {
  const router = express.Router();
  // Off with the admin API: the same 404 as every other path under the prefix.
  router.use((_req, res, next) => (options.sessions === null ? sendAdminDisabled(res) : next()));
  router.use((_req, res, next) => {
    res.set({ 'content-security-policy': UI_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cache-control': 'no-store' });
    next();
  });

  const answerSession = (res: Response, session: UiSession, csrf: string): void => {
    res.json({ role: session.role, name: session.name, csrfToken: csrf, expiresAt: new Date(session.expiresAt).toISOString(), signOut: options.sessions?.sharedSignOut === true ? 'all-instances' : 'this-process' });
  };

  router.post('/session', express.json({ limit: '4kb', strict: true }), (req, res) => {
    const sessions = options.sessions!;
    if (options.attempts.refuseIfBlocked(req, res, 'admin')) return;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const token = typeof body['token'] === 'string' ? body['token'] : '';
    const name = body['name'] ?? '';
    if (typeof name !== 'string' || name.length > MAX_NAME || [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_BAD_INPUT', `name: must be a string of at most ${MAX_NAME} characters without control characters`, { status: 400 }));
    }
    // No token is no guess (as a request without Authorization is not): a 400, not counted.
    if (token === '') return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_BAD_INPUT', 'token: send {"token": "<admin or viewer token>"} as JSON', { status: 400 }));
    const role = roleOfToken(token, options);
    if (role === null) {
      options.attempts.failed(req, 'admin');
      return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_FORBIDDEN', 'that token is neither the admin nor the viewer token', { status: 403 }));
    }
    options.attempts.succeeded(req, 'admin');
    const issued = sessions.issue(role, name.trim());
    res.setHeader('set-cookie', cookie(req, issued.cookieValue, Math.floor(sessions.ttlMs / 1000)));
    answerSession(res, issued.session, issued.csrf);
  });

  router.get('/session', async (req, res) => {
    const sessions = options.sessions!;
    const session = await sessions.fromCookieHeader(req.headers.cookie);
    if (session === null) return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_UNAUTHENTICATED', 'not signed in', { status: 401 }));
    answerSession(res, session, sessions.csrf(session));
  });

  router.delete('/session', async (req, res) => {
    const sessions = options.sessions!;
    const session = await sessions.fromCookieHeader(req.headers.cookie);
    if (session !== null) {
      const given = req.headers[CSRF_HEADER];
      if (!sessions.csrfMatches(Array.isArray(given) ? given[0] : given, session)) {
        return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_CSRF', 'signing out needs the session’s CSRF token in `X-CSRF-Token`', { status: 403 }));
      }
    }
    // null: signed out everywhere it can be (or there was no session).
    const unshared = session === null ? null : await sessions.revoke(session).then(() => null, (error: unknown) => (error instanceof Error ? error.message : 'unknown error'));
    // The browser forgets the cookie whatever happens next.
    res.setHeader('set-cookie', cookie(req, '', 0));
    if (unshared !== null) {
      const detail = `signed out on this instance, but the sign-out could not be shared with the others (Redis: ${unshared}); the cookie is cleared in this browser`;
      return sendProblem(res, new SwitchyardError('SWITCHYARD_SESSION_STORE_UNAVAILABLE', detail, { status: 503 }));
    }
    res.status(204).end();
  });

  router.get('/', (_req, res) => sendAsset(res, options.assetsDir, 'index.html'));
  router.get('/assets/:file', (req: Request<{ file: string }>, res) => sendAsset(res, path.join(options.assetsDir, 'assets'), req.params.file));
  router.use(((error: unknown, _req, res, next) => {
    const status = (error as { status?: unknown }).status;
    // body-parser's errors (malformed JSON, too large) are the client's.
    if (typeof status === 'number' && status >= 400 && status < 500) return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_BAD_BODY', (error as Error).message, { status }));
    next(error);
  }) satisfies ErrorRequestHandler);
  return router;
}

function cookie(req: Request, value: string, maxAgeSeconds: number): string {
  // Path covers the admin API the page calls; Secure whenever the request came over TLS.
  return `${SESSION_COOKIE}=${value}; Path=/_switchyard; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${req.secure ? '; Secure' : ''}`;
}

const cache = new Map<string, Buffer>();
function sendAsset(res: Response, dir: string, name: string): void {
  const type = ASSET_TYPES[path.extname(name)];
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.') || type === undefined) {
    return sendProblem(res, new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', `no dashboard asset ${name}`, { status: 404 }));
  }
  const file = path.join(dir, name);
  let body = cache.get(file);
  if (body === undefined) {
    if (!existsSync(file)) {
      const missing = name === 'index.html' ? new SwitchyardError('SWITCHYARD_UI_NOT_BUILT', `the dashboard is not built (${dir} has no index.html): run \`npm run build\``, { status: 503 }) : new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', `no dashboard asset ${name}`, { status: 404 });
      return sendProblem(res, missing);
    }
    body = readFileSync(file);
    cache.set(file, body);
  }
  res.type(type).send(body);
}
