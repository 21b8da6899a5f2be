import CachePolicy from 'http-cache-semantics';
import type { RouteCacheConfig } from '../config/types.js';
import { parseVary } from './cache-key.js';

/**
 * Storability, freshness, staleness and revalidation: RFC 9111 shared-cache rules from
 * http-cache-semantics, plus the route's overrides, applied by handing the library an adjusted
 * Cache-Control (the client still gets the origin's). Pure: no I/O, time only from the clock.
 */
export type Clock = () => number;
export type PolicyClass = typeof CachePolicy;
export type Policy = CachePolicy;
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A CachePolicy class whose notion of "now" is `clock` (deterministic tests, one clock everywhere). */
export function clockedPolicyClass(clock: Clock): PolicyClass {
  return class ClockedCachePolicy extends CachePolicy {
    now(): number {
      return clock();
    }
  };
}

export type NotStoredReason = 'set-cookie' | 'vary-star' | 'not-storable' | 'unmarked' | 'no-freshness';

export type StorageDecision =
  | { readonly store: false; readonly reason: NotStoredReason }
  | { readonly store: true; readonly policy: Policy; readonly vary: string[]; readonly storeTtlMs: number };

export interface StorageInput {
  /** The request as the policy sees it (`requestView`), for the response's Vary. */
  readonly view: Readonly<Record<string, string>>;
  /** Keyed request target. */
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly cache: RouteCacheConfig;
  /** Extra retention of entries with validators, for 304 revalidation once stale. */
  readonly keepStaleSeconds: number;
}

const SHARED = { shared: true } as const;

/**
 * Whether to store a legacy response, and under which (adjusted) policy. Never stored: Set-Cookie,
 * `Vary: *`, whatever the library finds unstorable for a shared cache (private, no-store, status,
 * Authorization without public/s-maxage/must-revalidate), and — unless `cacheUnmarked` — responses
 * the origin did not mark cacheable (public, max-age, s-maxage, no-cache or Expires).
 */
export function decideStorage(Policy: PolicyClass, input: StorageInput): StorageDecision {
  const h = input.headers;
  if (h['set-cookie'] !== undefined) return { store: false, reason: 'set-cookie' };
  const vary = parseVary(h['vary']);
  if (vary === '*') return { store: false, reason: 'vary-star' };
  const request = { method: 'GET', url: input.url, headers: input.view };
  const origin = new Policy(request, { status: input.status, headers: h }, SHARED);
  if (!origin.storable()) return { store: false, reason: 'not-storable' };

  // The library's own parse of the origin's Cache-Control, so we read directives as it does.
  const cc: Record<string, string | true> = { ...(origin.toObject().rescc as Record<string, string | true>) };
  const explicit = 'max-age' in cc || 's-maxage' in cc || h['expires'] !== undefined;
  // `no-cache` marks it too: store, but revalidate every use (safe whatever the route says).
  if (!explicit && !('public' in cc) && !('no-cache' in cc) && !input.cache.cacheUnmarked) return { store: false, reason: 'unmarked' };

  const adjusted = { ...cc };
  if (!explicit && !('no-cache' in cc)) adjusted['max-age'] = String(input.cache.defaultTtlSeconds);
  const lifetime = new Policy(request, { status: input.status, headers: withCacheControl(h, adjusted) }, SHARED).maxAge();
  if (lifetime > input.cache.maxTtlSeconds) adjusted['s-maxage' in adjusted ? 's-maxage' : 'max-age'] = String(input.cache.maxTtlSeconds);
  // RFC 9111 §4.2.4: must-revalidate, proxy-revalidate, no-cache and s-maxage forbid serving
  // stale; the route's windows only fill in where the origin said nothing either way.
  const forbidsStale = 'must-revalidate' in cc || 'proxy-revalidate' in cc || 'no-cache' in cc || 's-maxage' in cc;
  if (!forbidsStale) {
    if (!('stale-while-revalidate' in cc) && input.cache.staleWhileRevalidateSeconds > 0) adjusted['stale-while-revalidate'] = String(input.cache.staleWhileRevalidateSeconds);
    if (!('stale-if-error' in cc) && input.cache.staleIfErrorSeconds > 0) adjusted['stale-if-error'] = String(input.cache.staleIfErrorSeconds);
  }

  const policy = new Policy(request, { status: input.status, headers: withCacheControl(h, adjusted) }, SHARED);
  const hasValidators = h['etag'] !== undefined || h['last-modified'] !== undefined;
  const storeTtlMs = policy.timeToLive() + (hasValidators ? input.keepStaleSeconds * 1000 : 0);
  if (storeTtlMs <= 0) return { store: false, reason: 'no-freshness' };
  return { store: true, policy, vary, storeTtlMs };
}

function withCacheControl(headers: Headers, cc: Readonly<Record<string, string | true>>): Headers {
  const value = Object.entries(cc)
    .map(([k, v]) => (v === true ? k : `${k}=${v}`))
    .join(', ');
  const out: Record<string, string | string[] | undefined> = { ...headers };
  if (value === '') delete out['cache-control'];
  else out['cache-control'] = value;
  return out;
}

export type LookupVerdict =
  | { readonly kind: 'fresh' }
  /** Serve it now and refresh in the background (stale-while-revalidate). */
  | { readonly kind: 'stale-while-revalidate'; readonly conditionals: Readonly<Record<string, string>> }
  /** Ask legacy first, with these validators (ETag / Last-Modified) when the entry has them. */
  | { readonly kind: 'revalidate'; readonly conditionals: Readonly<Record<string, string>> };

/** Can this stored response answer the request (always evaluated as GET: HEAD uses GET entries)? */
export function evaluateLookup(policy: Policy, view: Readonly<Record<string, string>>, url: string): LookupVerdict {
  const result = policy.evaluateRequest({ method: 'GET', url, headers: view });
  if (result.response !== undefined && result.revalidation === undefined) return { kind: 'fresh' };
  const conditionals = pickConditionals(result.revalidation.headers);
  return result.response !== undefined ? { kind: 'stale-while-revalidate', conditionals } : { kind: 'revalidate', conditionals };
}

function pickConditionals(headers: CachePolicy.Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['if-none-match', 'if-modified-since']) {
    const value = headers[name];
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}

/**
 * RFC 5861 stale-if-error: may this entry stand in for a failed refresh? `status` is legacy's
 * 5xx, or undefined when it could not be reached or timed out.
 */
export function staleIfErrorAllows(policy: Policy, view: Readonly<Record<string, string>>, url: string, status?: number): boolean {
  try {
    const result = policy.revalidatedPolicy({ method: 'GET', url, headers: view }, status === undefined ? undefined : { status, headers: {} });
    // The library hands back the same policy exactly when the stale entry may be used.
    return result.policy === policy && !result.modified;
  } catch {
    return false;
  }
}

export type NotModifiedOutcome = { readonly ok: false } | { readonly ok: true; readonly headers: Record<string, string | string[]>; readonly decision: StorageDecision };

/**
 * Applies legacy's 304 to a stored response: the library checks that the validators match and
 * merges the 304's headers into the stored ones; the route's overrides are then applied afresh.
 */
export function applyNotModified(Policy: PolicyClass, stored: { status: number; headers: Headers }, notModified: Headers, input: Omit<StorageInput, 'status' | 'headers'>): NotModifiedOutcome {
  const request = { method: 'GET', url: input.url, headers: input.view };
  const origin = new Policy(request, { status: stored.status, headers: stored.headers }, SHARED);
  const result = origin.revalidatedPolicy(request, { status: 304, headers: notModified });
  if (!result.matches || result.modified) return { ok: false };
  const headers = definedHeaders(result.policy.toObject().resh);
  return { ok: true, headers, decision: decideStorage(Policy, { ...input, status: stored.status, headers }) };
}

export function definedHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/** `Age` in whole seconds (RFC 9111 §5.1), from the policy's clock. */
export function ageSeconds(policy: Policy): number {
  return Math.max(0, Math.floor(policy.age()));
}
