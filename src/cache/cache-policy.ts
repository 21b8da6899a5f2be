import type { RouteCacheConfig } from '../config/types.js';
import { deltaSeconds, parseCacheControl, parseTargetedCacheControl, type Directives } from './cache-control.js';
import { parseVary } from './cache-key.js';
import { parseHttpDateHeader } from './http-date.js';

/**
 * RFC 9111 for a shared cache — storability (§3), freshness (§4.2), age (§4.2.3), reuse with the
 * request's directives (§5.2.1), serving stale (§4.2.4, RFC 5861), revalidation and the 304
 * update (§4.3) — plus the route's overrides. Our own, rather than http-cache-semantics: that
 * library matched directive names case-sensitively (`PRIVATE` was stored and shared), read any
 * `Date.parse`-able `Expires` as valid, and never served a fresh `must-revalidate` response.
 * Pure: no I/O, time only from the `now` passed in; the policy is plain data stored with the entry.
 */
export type Clock = () => number;
export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** What the cache keeps about a stored response's freshness (JSON-serialisable, stored with it). */
export interface Policy {
  /** Clock time the response was received (ms). */
  readonly responseTime: number;
  /** corrected_initial_age (§4.2.3), ms. */
  readonly initialAgeMs: number;
  /** Freshness lifetime with the route's overrides, ms (0: stale at once). */
  readonly lifetimeMs: number;
  /** must-revalidate, proxy-revalidate or s-maxage: never served stale, not even on error. */
  readonly revalidateWhenStale: boolean;
  /** Response `no-cache`: every use is revalidated first. */
  readonly noCache: boolean;
  readonly staleWhileRevalidateMs: number;
  readonly staleIfErrorMs: number;
  readonly etag: string | null;
  readonly lastModified: string | null;
}

export type NotStoredReason = 'set-cookie' | 'vary-star' | 'not-storable' | 'unmarked' | 'no-freshness';

export type StorageDecision =
  | { readonly store: false; readonly reason: NotStoredReason }
  | { readonly store: true; readonly policy: Policy; readonly vary: string[]; readonly storeTtlMs: number };

export interface StorageInput {
  /** The request as the policy sees it (`requestView`): its Cache-Control, Pragma, Authorization. */
  readonly view: Readonly<Record<string, string>>;
  readonly status: number;
  readonly headers: Headers;
  readonly cache: RouteCacheConfig;
  /** Extra retention of entries with validators, for 304 revalidation once stale. */
  readonly keepStaleSeconds: number;
  /** Clock time the response arrived (ms). */
  readonly now: number;
  /** Clock time the request was sent (ms), for the response delay in the age; defaults to `now`. */
  readonly requestTime?: number;
  /**
   * Wall-clock time of receipt (ms), compared with the origin's Date for the apparent age; defaults
   * to `now`. Separate from `now` so an injected clock (tests, simulations) does not read as skew.
   */
  readonly wallNow?: number;
}

/** Status codes whose responses may get heuristic freshness (RFC 9110 §15.1), 206 aside: ranges are legacy's business. */
const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);
/** Final statuses never stored: partial content (no range support) and 304 (only ever an update). */
const NEVER_STORED = new Set([206, 304]);
const MAX_SECONDS = 2 ** 31;

/**
 * Whether to store a legacy response, and under which policy. Never stored: Set-Cookie,
 * `Vary: *`, `no-store` (response or request), `private`, interim or partial responses, answers
 * to requests with Authorization unless public/s-maxage/must-revalidate (§3.5), and — unless the
 * route says otherwise — responses the origin did not mark (no public, max-age, s-maxage,
 * no-cache or Expires, and no heuristic freshness from Last-Modified).
 */
export function decideStorage(input: StorageInput): StorageDecision {
  const h = input.headers;
  if (h['set-cookie'] !== undefined) return { store: false, reason: 'set-cookie' };
  const vary = parseVary(h['vary']);
  if (vary === '*') return { store: false, reason: 'vary-star' };
  const cc = responseDirectives(h, input.cache);
  const request = parseCacheControl(input.view['cache-control']);
  if (!storable(input.status, cc, request, input.view)) return { store: false, reason: 'not-storable' };

  const lifetime = freshnessLifetime(input, cc);
  if (lifetime === 'unmarked') return { store: false, reason: 'unmarked' };
  // §4.2.4: these forbid serving stale; the route's windows only fill in where the origin said
  // nothing either way.
  const revalidateWhenStale = cc.has('must-revalidate') || cc.has('proxy-revalidate') || cc.has('s-maxage');
  const window = (name: string, routeSeconds: number): number => {
    if (revalidateWhenStale) return 0;
    const origin = deltaSeconds(cc, name);
    return (typeof origin === 'number' ? origin : origin === 'invalid' ? 0 : routeSeconds) * 1000;
  };
  const policy: Policy = {
    responseTime: input.now,
    initialAgeMs: initialAge(h, input.now, input.requestTime ?? input.now, input.wallNow ?? input.now),
    lifetimeMs: lifetime,
    revalidateWhenStale,
    noCache: cc.has('no-cache'),
    staleWhileRevalidateMs: window('stale-while-revalidate', input.cache.staleWhileRevalidateSeconds),
    staleIfErrorMs: window('stale-if-error', input.cache.staleIfErrorSeconds),
    etag: single(h['etag']),
    lastModified: single(h['last-modified']),
  };
  const usable = Math.max(0, policy.lifetimeMs - policy.initialAgeMs) + Math.max(policy.staleWhileRevalidateMs, policy.staleIfErrorMs);
  const hasValidators = policy.etag !== null || policy.lastModified !== null;
  const storeTtlMs = usable + (hasValidators ? input.keepStaleSeconds * 1000 : 0);
  if (storeTtlMs <= 0) return { store: false, reason: 'no-freshness' };
  return { store: true, policy, vary, storeTtlMs };
}

/** The response's directives: the route's targeted field (e.g. CDN-Cache-Control, RFC 9213) when present and valid. */
function responseDirectives(h: Headers, cache: RouteCacheConfig): Directives {
  if (cache.targetedCacheControl !== null) {
    // A targeted field that is not a valid Structured Field Dictionary is ignored (RFC 9213 §2.1).
    const targeted = parseTargetedCacheControl(h[cache.targetedCacheControl.toLowerCase()]);
    if (targeted !== null) return targeted;
  }
  return parseCacheControl(h['cache-control']);
}

function storable(status: number, cc: Directives, request: Directives, view: Readonly<Record<string, string>>): boolean {
  if (status < 200 || status > 599 || NEVER_STORED.has(status)) return false;
  if (request.has('no-store')) return false;
  // must-understand: a cache that implements the status code's caching rules ignores no-store.
  const understood = cc.has('must-understand') && HEURISTICALLY_CACHEABLE.has(status);
  if (cc.has('no-store') && !understood) return false;
  // Qualified private="field" too: storing the rest without the named fields is not worth the risk.
  if (cc.has('private')) return false;
  if (view['authorization'] !== undefined && !cc.has('public') && !cc.has('s-maxage') && !cc.has('must-revalidate')) return false;
  return true;
}

/**
 * §4.2.1 for a shared cache: s-maxage, then max-age, then Expires − Date; an invalid value of any
 * of them means stale at once (still stored when it has validators). Without one: `no-cache`
 * (revalidate each use), heuristic freshness from Last-Modified (§4.2.2, 10% of its age, when the
 * route allows it), `public` or `cacheUnmarked` (the route's default TTL) — else 'unmarked'.
 * Capped at maxTtlSeconds. In ms.
 */
function freshnessLifetime(input: StorageInput, cc: Directives): number | 'unmarked' {
  const cap = (seconds: number): number => Math.min(seconds, input.cache.maxTtlSeconds) * 1000;
  for (const name of ['s-maxage', 'max-age']) {
    const value = deltaSeconds(cc, name);
    if (value !== null) return value === 'invalid' ? 0 : cap(value);
  }
  const h = input.headers;
  if (h['expires'] !== undefined) {
    const expires = parseHttpDateHeader(h['expires'], input.now);
    if (expires === null) return 0;
    return cap(Math.max(0, expires - dateValue(h, input.now)) / 1000);
  }
  if (cc.has('no-cache')) return 0;
  const lastModified = parseHttpDateHeader(h['last-modified'], input.now);
  if (input.cache.heuristicFreshness && lastModified !== null && (HEURISTICALLY_CACHEABLE.has(input.status) || cc.has('public'))) {
    const age = Math.max(0, dateValue(h, input.now) - lastModified) / 1000;
    return cap(Math.min(Math.floor(age / 10), input.cache.heuristicMaxSeconds));
  }
  if (cc.has('public') || (input.cache.cacheUnmarked && HEURISTICALLY_CACHEABLE.has(input.status))) return cap(input.cache.defaultTtlSeconds);
  return 'unmarked';
}

/** The origin's Date, or the receipt time when it has none or an invalid one (§6.6.1 of RFC 9110). */
function dateValue(h: Headers, now: number): number {
  return parseHttpDateHeader(h['date'], now) ?? now;
}

/**
 * corrected_initial_age (§4.2.3): the larger of the apparent age (receipt − Date, at Date's
 * one-second granularity, on the wall clock) and the origin's Age plus the response delay. An
 * origin whose clock runs behind therefore ages its responses, as the RFC intends (a response
 * whose Date is two hours old is not fresh for `max-age=3600`); keep legacy hosts on NTP.
 */
function initialAge(h: Headers, responseTime: number, requestTime: number, wallNow: number): number {
  const date = parseHttpDateHeader(h['date'], wallNow);
  const apparent = date === null ? 0 : Math.max(0, Math.floor(wallNow / 1000) * 1000 - date);
  const corrected = ageValue(h['age']) * 1000 + Math.max(0, responseTime - requestTime);
  return Math.max(apparent, corrected);
}

/** §5.1: the first member of Age; a value that is not a non-negative integer is ignored. */
export function ageValue(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  const first = (Array.isArray(value) ? value.join(',') : value).split(',')[0]?.trim() ?? '';
  if (!/^\d+$/.test(first)) return 0;
  return Math.min(Number(first), MAX_SECONDS);
}

function single(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? null : v;
}

export type LookupVerdict =
  | { readonly kind: 'fresh' }
  /** Serve it now and refresh in the background (stale-while-revalidate). */
  | { readonly kind: 'stale-while-revalidate'; readonly conditionals: Readonly<Record<string, string>> }
  /** Stale, but the request's max-stale accepts it: serve it as it is (the client asked for no refresh). */
  | { readonly kind: 'stale-accepted' }
  /** Ask legacy first, with these validators (ETag / Last-Modified) when the entry has them. */
  | { readonly kind: 'revalidate'; readonly conditionals: Readonly<Record<string, string>> };

/** current_age (§4.2.3), ms. */
export function currentAgeMs(policy: Policy, now: number): number {
  return policy.initialAgeMs + Math.max(0, now - policy.responseTime);
}

/**
 * Can this stored response answer the request (always evaluated as GET: HEAD uses GET entries)?
 * The request's no-cache (or `Pragma: no-cache` without Cache-Control), max-age, min-fresh and
 * max-stale apply (§5.2.1); must-revalidate and its kin are never served stale.
 */
export function evaluateLookup(policy: Policy, view: Readonly<Record<string, string>>, now: number): LookupVerdict {
  const rcc = requestDirectives(view);
  if (policy.noCache || rcc.has('no-cache')) return revalidate(policy);
  const age = currentAgeMs(policy, now);
  const maxAge = deltaSeconds(rcc, 'max-age');
  if (typeof maxAge === 'number' && age > maxAge * 1000) return revalidate(policy);
  const remaining = policy.lifetimeMs - age;
  if (remaining > 0) {
    const minFresh = deltaSeconds(rcc, 'min-fresh');
    return typeof minFresh === 'number' && remaining < minFresh * 1000 ? revalidate(policy) : FRESH;
  }
  if (policy.revalidateWhenStale) return revalidate(policy);
  const staleness = -remaining;
  const maxStale = rcc.get('max-stale');
  if (maxStale !== undefined) {
    const limit = deltaSeconds(rcc, 'max-stale');
    // A bare max-stale accepts any staleness; an invalid value accepts none.
    if (maxStale.value === null || (typeof limit === 'number' && staleness <= limit * 1000)) return { kind: 'stale-accepted' };
  }
  if (staleness < policy.staleWhileRevalidateMs) return { kind: 'stale-while-revalidate', conditionals: conditionalsFor(policy) };
  return revalidate(policy);
}

/** The verdict of most hits, shared (verdicts are read-only). */
const FRESH: LookupVerdict = { kind: 'fresh' };

function revalidate(policy: Policy): LookupVerdict {
  return { kind: 'revalidate', conditionals: conditionalsFor(policy) };
}

/** The request's `no-store` (§5.2.1.5): nothing of this exchange is stored; it goes to legacy. */
export function requestNoStore(view: Readonly<Record<string, string>>): boolean {
  return requestDirectives(view).has('no-store');
}

/** The request's `only-if-cached` (§5.2.1.7): answer from the cache or 504, never ask legacy. */
export function onlyIfCached(view: Readonly<Record<string, string>>): boolean {
  return requestDirectives(view).has('only-if-cached');
}

/** The request's directives; `Pragma: no-cache` counts as no-cache when it has no Cache-Control (§5.4). */
function requestDirectives(view: Readonly<Record<string, string>>): Directives {
  const cc = view['cache-control'];
  if (cc !== undefined) return parseCacheControl(cc);
  const pragma = view['pragma'];
  if (pragma !== undefined && pragma.split(',').some((p) => p.trim().toLowerCase() === 'no-cache')) return parseCacheControl('no-cache');
  return NO_DIRECTIVES;
}

/** A request without Cache-Control or Pragma (most of them): one shared, read-only, empty set. */
const NO_DIRECTIVES: Directives = parseCacheControl(undefined);

function conditionalsFor(policy: Policy): Record<string, string> {
  const out: Record<string, string> = {};
  if (policy.etag !== null) out['if-none-match'] = policy.etag;
  if (policy.lastModified !== null) out['if-modified-since'] = policy.lastModified;
  return out;
}

/**
 * RFC 5861 stale-if-error: may this entry stand in for a failed refresh? `status` is legacy's
 * 5xx, or undefined when it could not be reached or timed out. Only 500, 502, 503 and 504 count
 * as errors there.
 */
export function staleIfErrorAllows(policy: Policy, now: number, status?: number): boolean {
  if (policy.revalidateWhenStale || policy.noCache) return false;
  if (status !== undefined && status !== 500 && status !== 502 && status !== 503 && status !== 504) return false;
  return currentAgeMs(policy, now) - policy.lifetimeMs < policy.staleIfErrorMs;
}

export type NotModifiedOutcome = { readonly ok: false } | { readonly ok: true; readonly headers: Record<string, string | string[]>; readonly decision: StorageDecision };

/** Not taken from a 304 into the stored response (§3.2): framing, hop-by-hop, and what the stored body depends on. */
const NOT_UPDATED = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'content-range', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/**
 * Applies legacy's 304 to the stored response (§4.3.4): it is selected when the 304's ETag
 * matches (weak comparison) or, without one, its Last-Modified does, or when it carries no
 * validator at all (it answers the conditional request sent for exactly this entry). Each header
 * of the 304 replaces the stored one, except framing and content coding; the freshness is
 * computed afresh from the merged headers.
 */
export function applyNotModified(stored: { status: number; headers: Headers }, notModified: Headers, input: Omit<StorageInput, 'status' | 'headers'>): NotModifiedOutcome {
  if (!selects(stored.headers, notModified)) return { ok: false };
  const merged: Record<string, string | string[]> = definedHeaders(stored.headers);
  for (const [name, value] of Object.entries(notModified)) {
    if (value === undefined || NOT_UPDATED.has(name)) continue;
    merged[name] = value;
  }
  // Age belongs to this 304, not to the stored response's.
  if (notModified['age'] === undefined) delete merged['age'];
  return { ok: true, headers: merged, decision: decideStorage({ ...input, status: stored.status, headers: merged }) };
}

function selects(stored: Headers, notModified: Headers): boolean {
  const etag = single(notModified['etag']);
  if (etag !== null) {
    const mine = single(stored['etag']);
    return mine !== null && opaqueTag(mine) === opaqueTag(etag);
  }
  const lastModified = single(notModified['last-modified']);
  if (lastModified !== null) return single(stored['last-modified']) === lastModified;
  return true;
}

function opaqueTag(etag: string): string {
  return etag.trim().replace(/^W\//, '');
}

export function definedHeaders(headers: Headers): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value;
  return out;
}

/** `Age` in whole seconds (RFC 9111 §5.1), capped at 2^31. */
export function ageSeconds(policy: Policy, now: number): number {
  return Math.min(MAX_SECONDS, Math.floor(currentAgeMs(policy, now) / 1000));
}

/** Whether `method` is safe (RFC 9110 §9.2.1): every other method invalidates on success (§4.4). */
export function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' || method === 'TRACE';
}
