import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import type { CacheContext } from './cache-context.js';
import type { LoadedEntry } from './cache-lookup.js';
import { ageSeconds } from './cache-policy.js';
import type { CacheRequest, LegacyDispatch } from './cache-request.js';
import type { CacheStatus } from './cache-stats.js';

export const CACHE_HEADER = 'x-switchyard-cache';

/** Bodies that a response must not have (no Content-Length is sent for them). */
const NO_BODY = new Set([204, 304]);
/** Headers a 304 carries (RFC 9110 §15.4.5), besides ours. */
const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age'];

/** How the cache answers a client: from an entry, with a 504 for only-if-cached, or by passing it on. */
export class CacheResponses {
  constructor(
    private readonly ctx: CacheContext,
    private readonly next: LegacyDispatch,
  ) {}

  sendEntry(c: CacheRequest, entry: LoadedEntry, status: CacheStatus): void {
    this.ctx.stats.count(c.route, status);
    const headers: OutgoingHttpHeaders = { ...entry.meta.headers };
    if (!NO_BODY.has(entry.meta.status)) headers['content-length'] = entry.body.length;
    headers['age'] = String(ageSeconds(entry.policy, this.ctx.clock()));
    headers[CACHE_HEADER] = status;
    if (c.res.destroyed) return;
    if (entry.meta.status === 200 && clientHasIt(c.req.headers, headers)) {
      c.res.writeHead(304, notModifiedHeaders(headers));
      c.res.end();
      return;
    }
    c.res.writeHead(entry.meta.status, headers);
    c.res.end(c.req.method === 'HEAD' ? undefined : entry.body);
  }

  /** `only-if-cached` and nothing usable stored: 504, legacy is not asked (RFC 9111 §5.2.1.7). */
  notCached(c: CacheRequest): void {
    this.ctx.stats.count(c.route, 'MISS');
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, 'MISS');
    sendProblem(c.res, new SwitchyardError('SWITCHYARD_NOT_CACHED', 'the request asked for a cached response only (only-if-cached) and none is stored', { status: 504 }), { route: c.route });
  }

  /** Asking legacy failed (already logged and mapped by the upstream client): its problem+json. */
  upstreamFailed(c: CacheRequest, error: unknown, status: CacheStatus): void {
    const failure = toUpstreamFailure(c.upstream.config.name, error);
    this.ctx.stats.count(c.route, status);
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, status);
    sendProblem(c.res, failure, { route: c.route, upstream: c.upstream.config.name });
  }

  /** Legacy answers this one through the next dispatch (the proxy), counted and labelled `status`. */
  passThrough(c: CacheRequest, status: CacheStatus): void {
    this.ctx.stats.count(c.route, status);
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, status);
    this.next(c);
  }
}

/** The client's conditional (If-None-Match / If-Modified-Since) matches: it may get a 304. */
export function clientHasIt(request: IncomingHttpHeaders, response: OutgoingHttpHeaders): boolean {
  if (request['if-none-match'] === undefined && request['if-modified-since'] === undefined) return false;
  const etag = response['etag'];
  const lastModified = response['last-modified'];
  return fresh(request, { etag: typeof etag === 'string' ? etag : undefined, 'last-modified': typeof lastModified === 'string' ? lastModified : undefined });
}

export function notModifiedHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of NOT_MODIFIED_HEADERS) if (headers[name] !== undefined) out[name] = headers[name];
  out[CACHE_HEADER] = headers[CACHE_HEADER];
  return out;
}
