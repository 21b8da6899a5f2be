import { SwitchyardError, UpstreamTimeoutError, UpstreamUnavailableError } from './switchyard-error.js';

/** Socket error codes that mean "the upstream took too long" rather than "it is not there". */
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT']);

/**
 * The one place that turns whatever a proxied call failed with into the error a client sees:
 * our own timeouts/overloads pass through, socket timeouts become 504, everything else
 * (refused, reset, DNS, TLS) becomes 502. Pure: no I/O, easy to test exhaustively.
 */
export function toUpstreamFailure(upstream: string, error: unknown): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : '';
  if (TIMEOUT_CODES.has(code)) return new UpstreamTimeoutError(upstream, 'response', 0);
  return new UpstreamUnavailableError(upstream, error);
}
