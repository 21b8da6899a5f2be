import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Passes an upstream's 103 Early Hints on to the client while the final response is still coming
 * (RFC 8297): the browser can start fetching what `Link` names. Other 1xx are not forwarded:
 * Node answers `Expect: 100-continue` itself, and 102 is obsolete. Never stored by the cache.
 */
export function forwardInterim(res: ServerResponse, status: number, headers: IncomingHttpHeaders): void {
  if (status !== 103 || res.headersSent || res.destroyed) return;
  const hints: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) hints[name] = value;
  if (hints['link'] === undefined) return;
  res.writeEarlyHints(hints);
}
