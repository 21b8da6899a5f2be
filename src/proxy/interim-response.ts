import type { IncomingHttpHeaders, ServerResponse } from 'node:http';

/**
 * Passes an upstream's interim responses on while the final response is still coming: 103 Early
 * Hints (RFC 8297, the browser can start fetching what `Link` names) and 102 Processing (a slow
 * WebDAV-style answer stays alive). 100 Continue is Node's own business (it answers
 * `Expect: 100-continue` itself). Never stored by the cache.
 */
export function forwardInterim(res: ServerResponse, status: number, headers: IncomingHttpHeaders): void {
  if (res.headersSent || res.destroyed) return;
  if (status === 102) return void res.writeProcessing();
  if (status !== 103) return;
  const hints: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) hints[name] = value;
  if (hints['link'] === undefined) return;
  res.writeEarlyHints(hints);
}
