import { timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Side } from '../config/types.js';

export const FORCE_HEADER = 'x-switchyard-force';
export const OVERRIDE_TOKEN_HEADER = 'x-switchyard-override-token';

export type TesterOverride =
  | { readonly kind: 'none' }
  | { readonly kind: 'applied'; readonly side: Side }
  /** A force header without a valid token: ignored, and counted. */
  | { readonly kind: 'ignored'; readonly why: 'no_token_configured' | 'missing_token' | 'invalid_token' }
  /** A valid token with a force value we do not understand: 400, never a guess. */
  | { readonly kind: 'malformed'; readonly reason: string }
  /** Too many wrong tokens from this client lately: 429 before the token is compared (server/override-guard.ts). */
  | { readonly kind: 'rate_limited'; readonly retryAfterMs: number };

const NONE: TesterOverride = Object.freeze({ kind: 'none' });

/**
 * Reads a tester's `X-Switchyard-Force: legacy|new`. It only counts with the override token, so
 * a user cannot move themselves onto an unreleased handler by adding a header.
 */
export function readTesterOverride(headers: IncomingHttpHeaders, expectedToken: Buffer | null): TesterOverride {
  const force = headers[FORCE_HEADER];
  if (force === undefined) return NONE;
  if (expectedToken === null) return { kind: 'ignored', why: 'no_token_configured' };
  const token = headers[OVERRIDE_TOKEN_HEADER];
  if (typeof token !== 'string' || token === '') return { kind: 'ignored', why: 'missing_token' };
  if (!tokensEqual(token, expectedToken)) return { kind: 'ignored', why: 'invalid_token' };
  const value = (Array.isArray(force) ? force.join(',') : force).trim().toLowerCase();
  if (value === 'legacy' || value === 'new') return { kind: 'applied', side: value };
  return { kind: 'malformed', reason: `${FORCE_HEADER} must be "legacy" or "new", got ${JSON.stringify(value.slice(0, 40))}` };
}

/** Constant-time comparison so the token cannot be found byte by byte from response times. */
export function tokensEqual(given: string, expected: Buffer): boolean {
  const candidate = Buffer.from(given);
  return candidate.length === expected.length && timingSafeEqual(candidate, expected);
}
