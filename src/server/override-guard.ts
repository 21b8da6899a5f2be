import type { IncomingMessage } from 'node:http';
import type { CredentialAttempts } from '../admin/auth-attempts.js';
import { FORCE_HEADER, OVERRIDE_TOKEN_HEADER, readTesterOverride, type TesterOverride } from '../routing/tester-override.js';

/**
 * The tester override with its token's brute-force brake: a client that keeps sending wrong
 * override tokens is refused (429) on requests that try one, before the token is compared.
 * Requests without `X-Switchyard-Force` are never affected, whoever sends them.
 */
export function readGuardedOverride(req: IncomingMessage, expectedToken: Buffer | null, attempts: CredentialAttempts): TesterOverride {
  const tries = expectedToken !== null && req.headers[FORCE_HEADER] !== undefined && typeof req.headers[OVERRIDE_TOKEN_HEADER] === 'string' && req.headers[OVERRIDE_TOKEN_HEADER] !== '';
  if (!tries) return readTesterOverride(req.headers, expectedToken);
  const wait = attempts.retryAfterMs(req, 'override');
  if (wait > 0) return { kind: 'rate_limited', retryAfterMs: wait };
  const override = readTesterOverride(req.headers, expectedToken);
  if (override.kind === 'ignored') attempts.failed(req, 'override');
  else attempts.succeeded(req, 'override');
  return override;
}
