import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import fresh from 'fresh';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import type { CacheContext } from './cache-context.js';
import type { LoadedEntry } from './cache-lookup.js';
import type { EntryMeta } from './entry-codec.js';
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
  private readonly lines = new WeakMap<EntryMeta, { readonly bodyBytes: number; readonly lines: readonly (string | string[])[] }>();

  constructor(
    private readonly ctx: CacheContext,
    private readonly next: LegacyDispatch,
  ) {}

  sendEntry(c: CacheRequest, entry: LoadedEntry, status: CacheStatus): void {
    this.ctx.stats.count(c.route, status);
    const res = c.res;
    if (res.destroyed) return;
    const age = String(ageSeconds(entry.policy, this.ctx.clock()));
    // Set first, so observers read the verdict back from the response (res.getHeader) whatever else it carries.
    res.setHeader(CACHE_HEADER, status);
    if (entry.meta.status === 200 && clientHasIt(c.req.headers, entry.meta.headers)) {
      res.writeHead(304, notModifiedHeaders({ ...entry.meta.headers, age, [CACHE_HEADER]: status }));
      res.end();
      return;
    }
    res.writeHead(entry.meta.status, [...this.headerLines(entry), 'age', age]);
    res.end(c.req.method === 'HEAD' ? undefined : entry.body);
  }

  /** The entry's stored headers and its Content-Length as header lines, built once per stored meta (a hit copies no object). */
  private headerLines(entry: LoadedEntry): readonly (string | string[])[] {
    const known = this.lines.get(entry.meta);
    if (known !== undefined && known.bodyBytes === entry.body.length) return known.lines;
    const lines = entryHeaderLines(entry.meta.status, entry.meta.headers, entry.body.length);
    this.lines.set(entry.meta, { bodyBytes: entry.body.length, lines });
    return lines;
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

/**
 * A stored response's header lines as a hit sends them (name, value, name, value…): the origin's
 * headers without the ones the cache sets per answer (Age, its own verdict), and Content-Length
 * from the stored body (a status without a body keeps what the origin sent).
 */
export function entryHeaderLines(status: number, headers: Readonly<Record<string, string | string[]>>, bodyBytes: number): (string | string[])[] {
  const lines: (string | string[])[] = [];
  const hasBody = !NO_BODY.has(status);
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name === 'age' || name === CACHE_HEADER || (hasBody && name === 'content-length')) continue;
    lines.push(name, value);
  }
  if (hasBody) lines.push('content-length', String(bodyBytes));
  return lines;
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
