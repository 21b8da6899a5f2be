import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CacheSettings, RouteCacheConfig } from '../config/types.js';
import type { DispatchKind, ForwardTarget, UpstreamClient } from '../proxy/upstream-client.js';
import { baseKey, cacheTarget, digest, FORWARDING_HEADERS, normaliseHost, requestView, variantKey } from './cache-key.js';
import { requestNoStore } from './cache-policy.js';
import { requestHasBody } from '../proxy/forwarded-headers.js';
import type { EntryMeta } from './entry-codec.js';

/** One request to a legacy route whose `cache` block is on. */
export interface CacheRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: string;
  readonly cache: RouteCacheConfig;
  readonly settings: CacheSettings;
  readonly upstream: UpstreamClient;
  /** How a request the cache passes on is proxied (see UpstreamClient.forward). */
  readonly via?: DispatchKind;
  readonly target: ForwardTarget;
  /**
   * The cached route that serves a raw path (and the path normalised), if any: a successful unsafe
   * request also invalidates its `Location` / `Content-Location` URLs, which may be another route's.
   */
  readonly routeOf?: (rawPath: string) => { readonly route: string; readonly path: string } | null;
}

/**
 * What handles a request on the legacy side; the cache's layers wrap it as interceptors wrap
 * undici's `dispatch`: each gets the next one and returns a dispatch that may answer itself or
 * pass the request on. The innermost is the upstream client's proxy.
 */
export type LegacyDispatch = (c: CacheRequest) => void;
export type CacheInterceptor = (next: LegacyDispatch) => LegacyDispatch;

/** `interceptors[0]` runs first; the last one wraps `dispatch` directly. */
export function compose(dispatch: LegacyDispatch, interceptors: readonly CacheInterceptor[]): LegacyDispatch {
  return interceptors.reduceRight<LegacyDispatch>((next, interceptor) => interceptor(next), dispatch);
}

/** The proxy itself: what every interceptor ultimately passes on to. */
export const proxyDispatch: LegacyDispatch = (c) => c.upstream.forward(c.req, c.res, c.target, c.via);

export interface Keys {
  /** Key of the URL's entry or Vary marker. */
  readonly base: string;
  /** Normalised host, as the policy's request view has it. */
  readonly host: string;
  /** Keyed request target (path and ordered query): the policy's URL. */
  readonly url: string;
}

export function protoOf(c: CacheRequest): 'http' | 'https' {
  return 'encrypted' in c.req.socket && c.req.socket.encrypted === true ? 'https' : 'http';
}

export function keysOf(c: CacheRequest): Keys {
  const proto = protoOf(c);
  const headers = c.req.headers;
  let forwarded: Record<string, string | string[]> | null = null;
  if (c.target.trustForwarded) {
    forwarded = {};
    for (const name of FORWARDING_HEADERS) {
      const value = headers[name];
      if (value !== undefined) forwarded[name] = value;
    }
  }
  const authorization = headers.authorization;
  const base = baseKey({
    namespace: c.settings.namespace,
    keyVersion: c.settings.keyVersion,
    route: c.route,
    path: c.target.path,
    query: c.target.query,
    host: headers.host ?? '',
    proto,
    forwarded,
    credential: c.cache.allowAuthorized && authorization !== undefined ? digest(authorization) : null,
  });
  return { base, host: normaliseHost(headers.host, proto), url: cacheTarget(c.target.path, c.target.query) };
}

export function viewOf(c: CacheRequest, keys: Keys, vary: readonly string[]): Record<string, string> {
  return requestView(c.req.headers, keys.host, vary, c.cache.allowAuthorized);
}

/** The key this request maps to for an entry stored with `meta` (its variant, when it varies). */
export function expectedKey(c: CacheRequest, keys: Keys, meta: EntryMeta): string {
  return meta.vary.length === 0 ? keys.base : variantKey(keys.base, meta.vary, viewOf(c, keys, meta.vary), meta.generation);
}

/**
 * A GET/HEAD the cache must not answer or store: ranges, preconditions and request bodies are
 * legacy's business. Cookies too, like Varnish's default: the answer may be personalised without
 * saying so (no Vary: Cookie, no private); routes that know better set allowCookies.
 */
export function uncacheableRequest(c: CacheRequest): boolean {
  const h = c.req.headers;
  const personal = !c.cache.allowCookies && h.cookie !== undefined && h.cookie !== '';
  // `Cache-Control: no-store` on the request: nothing of this exchange may be kept (§5.2.1.5),
  // so it goes straight to legacy — without evicting what others use.
  const noStore = h['cache-control'] !== undefined && requestNoStore({ 'cache-control': h['cache-control'] });
  // Authorization too: legacy must see the credential (and may answer it differently, or
  // refuse it); an entry stored for anonymous requests is not its answer. RFC 9111 §3.5 only
  // governs storing answers to such requests; passing them through is the safe reading.
  const authorised = !c.cache.allowAuthorized && h.authorization !== undefined;
  return personal || authorised || noStore || h.range !== undefined || h['if-match'] !== undefined || h['if-unmodified-since'] !== undefined || h['if-range'] !== undefined || requestHasBody(h);
}
