import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { forwardInterim } from '../proxy/interim-response.js';
import type { CacheContext } from './cache-context.js';
import type { LoadedEntry } from './cache-lookup.js';
import { staleIfErrorAllows } from './cache-policy.js';
import { expectedKey, keysOf, type CacheRequest } from './cache-request.js';
import type { CacheResponses } from './cache-responses.js';
import { streamThrough } from './fill-stream.js';
import { fetchFromOrigin, originRequestFor } from './origin-fetch.js';

/**
 * The shared store cannot be reached (circuit open, not connected, or it failed this request):
 * legacy answers as for any BYPASS, but when it fails — refused, reset, timed out, 500/502/503/504 —
 * and this process holds a reserve copy still inside its stale-if-error window, the client gets
 * that copy as STALE instead of the error. Without a usable copy the request is an ordinary
 * pass-through (`serve` returns false) and costs nothing extra.
 */
export class ReserveFallback {
  constructor(
    private readonly ctx: CacheContext,
    private readonly responses: CacheResponses,
  ) {}

  /** True when this request is being answered here; false: pass it through as usual. */
  serve(c: CacheRequest): boolean {
    const reserve = this.ctx.reserve;
    if (reserve === null || reserve.size === 0) return false;
    const keys = keysOf(c);
    const copy = reserve.find(keys.base, (entry) => expectedKey(c, keys, entry.meta));
    if (copy === null || !staleIfErrorAllows(copy.policy, this.ctx.clock())) return false;
    void this.askLegacy(c, copy);
    return true;
  }

  private async askLegacy(c: CacheRequest, copy: LoadedEntry): Promise<void> {
    let response: IncomingMessage;
    try {
      const origin = originRequestFor(c.req, c.target, c.upstream);
      response = await fetchFromOrigin(c.upstream, c.route, origin, clientConditionals(c.req.headers), (status, headers) => forwardInterim(c.res, status, headers));
    } catch (error) {
      if (staleIfErrorAllows(copy.policy, this.ctx.clock())) this.responses.sendEntry(c, copy, 'STALE');
      else this.responses.upstreamFailed(c, error, 'BYPASS');
      return;
    }
    const status = response.statusCode ?? 502;
    if (status >= 500 && staleIfErrorAllows(copy.policy, this.ctx.clock(), status)) {
      response.resume();
      this.responses.sendEntry(c, copy, 'STALE');
      return;
    }
    await streamThrough(this.ctx, c, response, status, response.headers, null, 'BYPASS');
  }
}

/** The client's own validators go to legacy as they would through the proxy (a 304 passes through). */
function clientConditionals(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  const etag = headers['if-none-match'];
  const since = headers['if-modified-since'];
  if (etag !== undefined) out['if-none-match'] = etag;
  if (since !== undefined) out['if-modified-since'] = since;
  return out;
}
