import type { CacheContext } from './cache-context.js';
import { isSafeMethod } from './cache-policy.js';
import { keysOf, protoOf, type CacheInterceptor, type CacheRequest } from './cache-request.js';
import type { CacheWrites } from './cache-writes.js';

/**
 * RFC 9111 §4.4: a non-error answer (2xx, 3xx) to an unsafe request — M-SEARCH and other
 * extension methods too — invalidates the stored responses for its URL, and for the URLs in its
 * Location and Content-Location when they have the same origin. The request itself goes on.
 */
export function invalidationInterceptor(ctx: CacheContext, writes: CacheWrites): CacheInterceptor {
  return (next) => (c) => {
    if (!isSafeMethod(c.req.method ?? 'GET')) invalidateAfter(ctx, writes, c);
    next(c);
  };
}

function invalidateAfter(ctx: CacheContext, writes: CacheWrites, c: CacheRequest): void {
  const keys = [keysOf(c).base];
  c.res.once('finish', () => {
    if (c.res.statusCode < 200 || c.res.statusCode >= 400) return;
    for (const name of ['location', 'content-location']) {
      const other = sameOriginKey(c, c.res.getHeader(name));
      if (other !== null) keys.push(other);
    }
    const reachable = ctx.store.available();
    for (const key of keys) {
      ctx.passes.forget(key);
      // Deleting the entry or the Vary marker orphans every variant (see variantKey). With the
      // store out of reach only this process's reserve copies can go (none is served after this).
      if (reachable) void writes.deleteQuietly(key);
      else ctx.reserve?.forget(key);
    }
  });
}

/** The base key of a Location-like URL, when it is on this request's origin and a cached route serves it. */
function sameOriginKey(c: CacheRequest, value: number | string | string[] | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const here = `${protoOf(c)}://${c.req.headers.host ?? 'localhost'}`;
  let url: URL;
  try {
    url = new URL(value, here + c.target.path);
  } catch {
    return null;
  }
  if (url.origin !== new URL(here).origin) return null;
  const located = c.routeOf?.(url.pathname) ?? null;
  if (located === null) return null;
  const { route, path } = located;
  return keysOf({ ...c, route, target: { ...c.target, route, path, query: url.search } }).base;
}
