import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { clientOf, type ForwardTarget, type UpstreamClient, type UpstreamRequest } from '../proxy/upstream-client.js';

/** Request headers a cache fill must not pass on: it wants the full, storable representation. */
const CLIENT_ONLY = ['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range', 'content-length', 'transfer-encoding'];

/**
 * The request a cache fill sends: the client's request as the upstream client would forward it
 * (its header rules), minus its conditionals and Range, always GET. Kept whole, since a
 * background refresh outlives the request.
 */
export function originRequestFor(req: IncomingMessage, target: ForwardTarget, upstream: UpstreamClient): UpstreamRequest {
  const prepared = upstream.prepare(req.headers, target, clientOf(req));
  for (const name of CLIENT_ONLY) delete prepared.headers[name];
  return prepared;
}

/**
 * One GET to the upstream through its client — the same pool, limiter, timers, span (with its
 * queue wait) and 502/503/504 errors as proxied requests. Resolves with the response, its body
 * still streaming.
 */
export function fetchFromOrigin(upstream: UpstreamClient, route: string, request: UpstreamRequest, conditionals: Readonly<Record<string, string>>, onInterim?: (status: number, headers: IncomingHttpHeaders) => void): Promise<IncomingMessage> {
  return upstream.request({ method: 'GET', route, target: request.target, headers: { ...request.headers, ...conditionals }, ...(onInterim === undefined ? {} : { onInterim }) });
}
