/** The validated, frozen configuration Switchyard runs on. Raw YAML never travels past `config/`. */

export type Side = 'legacy' | 'new';
export type RouteMode = 'legacy' | 'new' | 'rollout';

/** Where the sticky value for rollouts comes from, tried in order; none present → random per request. */
export type StickinessSource = { readonly header: string } | { readonly cookie: string };

export interface UpstreamConfig {
  readonly name: string;
  readonly url: string;
  /** At most this many requests in flight to the backend (gunicorn's workers × threads). */
  readonly maxInFlight: number;
  /** Requests waiting for a slot beyond `maxInFlight`; past it → 503 with Retry-After. */
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Time until the response headers arrive; past it → 504. */
  readonly responseTimeoutMs: number;
  readonly keepAlive: boolean;
  /** Send the client's Host header (as a front nginx with `proxy_set_header Host $host` would). */
  readonly preserveHost: boolean;
  readonly retryAfterSeconds: number;
  readonly file: string;
}

export interface ProxiedSide {
  readonly upstream: string;
  /** Literal path prefix removed before forwarding; '' for none. Sent as X-Forwarded-Prefix. */
  readonly stripPrefix: string;
}

export type NewSide = { readonly kind: 'handler'; readonly handler: string } | ({ readonly kind: 'upstream' } & ProxiedSide);

export interface RolloutConfig {
  readonly percentage: number;
  /** Unleash's groupId: part of the hash input, so two routes sharing it bucket users alike. */
  readonly groupId: string;
  readonly stickiness: readonly StickinessSource[];
}

export interface MigrationInfo {
  readonly owner?: string;
  readonly targetDate?: string;
  readonly notes?: string;
}

export interface RouteConfig {
  readonly name: string;
  readonly path: string;
  /** Upper-case method names, or null for every method. */
  readonly methods: readonly string[] | null;
  readonly legacy: ProxiedSide | null;
  readonly new: NewSide | null;
  readonly mode: RouteMode;
  /** Pinned routes always go to legacy, whatever their mode or a tester's override says. */
  readonly pinned: boolean;
  /** Feature-flag name for this route (Unleash flag name; default groupId). */
  readonly flag: string;
  readonly rollout: RolloutConfig;
  readonly migration: MigrationInfo;
  /** Shadow traffic and diffing; absent when the route has no enabled `shadow` block. */
  readonly shadow?: RouteShadowConfig;
  /** Response cache for the legacy side; absent when the route has no enabled `cache` block. */
  readonly cache?: RouteCacheConfig;
  readonly file: string;
  /** Index in its file's `routes` list, for messages. */
  readonly index: number;
}

/** A route's `cache` block (legacy responses, RFC 9111 shared-cache rules plus these overrides). */
export interface RouteCacheConfig {
  /** Freshness lifetime when the origin gives none (no max-age, s-maxage or Expires). */
  readonly defaultTtlSeconds: number;
  /** Upper bound on any freshness lifetime, the origin's included. */
  readonly maxTtlSeconds: number;
  /** Also store responses the origin did not mark cacheable (no public/max-age/s-maxage/no-cache/Expires). */
  readonly cacheUnmarked: boolean;
  /** Serve stale while refreshing in the background, when the origin does not say (and does not forbid it). */
  readonly staleWhileRevalidateSeconds: number;
  /** Serve stale when legacy fails, when the origin does not say (and does not forbid it). */
  readonly staleIfErrorSeconds: number;
  /** Larger responses stream through uncached. */
  readonly maxEntryBytes: number;
  /** Store answers to requests with Authorization, keyed per credential. */
  readonly allowAuthorized: boolean;
  /** Look up and store answers to requests that carry cookies (default: they bypass the cache). */
  readonly allowCookies: boolean;
  /** RFC 9111 §4.2.2 heuristic freshness: 10% of the time since Last-Modified, for unmarked responses. */
  readonly heuristicFreshness: boolean;
  /** Upper bound on a heuristic lifetime. */
  readonly heuristicMaxSeconds: number;
  /** A targeted Cache-Control field (RFC 9213, e.g. `CDN-Cache-Control`) that, when present, replaces Cache-Control for this cache. */
  readonly targetedCacheControl: string | null;
}

/** A route's `shadow` block: mirror to the side that did not serve, and diff the two responses. */
export interface RouteShadowConfig {
  /** Sticky share of requests mirrored (same hash as rollouts, own salt). */
  readonly percentage: number;
  /** Mirror POST/PUT/PATCH/DELETE too (only when both sides are free of side effects). */
  readonly allowUnsafeMethods: boolean;
  readonly timeoutMs: number;
  readonly maxConcurrent: number;
  /** Request bodies are buffered for mirroring up to this size; larger ones are skipped. */
  readonly maxBodyBytes: number;
  /** Share of shadowed (safe) requests for which the serving side is called twice (noise). */
  readonly noisePercentage: number;
  readonly compareHeaders: readonly string[];
  readonly ignore: readonly string[];
  readonly unordered: readonly string[];
  readonly tolerance: Readonly<Record<string, number>>;
  readonly normalizeText: boolean;
  /** Extra request/response headers redacted in stored samples. */
  readonly redactHeaders: readonly string[];
}

/** `settings.shadow`: process-wide shadow settings. */
export interface ShadowSettings {
  readonly maxConcurrent: number;
  /** Skip shadows (as `overloaded`) while the event loop was busier than this over the last 100 ms; 1 turns it off. */
  readonly maxEventLoopUtilization: number;
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly maxSamples: number;
  readonly maxCompareBytes: number;
  readonly noiseRelativeThreshold: number;
  readonly noiseAbsoluteThreshold: number;
  readonly namespace: string;
}

/** `settings.cache`: process-wide cache settings. */
export interface CacheSettings {
  /** First part of every cache key (share one Redis between deployments with different ones). */
  readonly namespace: string;
  /** Part of every key: bump it to invalidate everything at once. */
  readonly keyVersion: number;
  /** Longest wait for one cache-store operation before the request bypasses the cache. */
  readonly operationTimeoutMs: number;
  /** Lifetime of the cross-instance fill lock (stampede protection). */
  readonly lockTtlMs: number;
  /** Extra time a stale entry with validators is kept, so it can be revalidated with a 304. */
  readonly keepStaleSeconds: number;
  /** Memory bound of the embedded in-memory store (used when no REDIS_URL is set). */
  readonly memoryMaxBytes: number;
}

export interface Settings {
  /** Add X-Switchyard-Backend / X-Switchyard-Route to every routed response. */
  readonly exposeDecisionHeaders: boolean;
  readonly stickiness: readonly StickinessSource[];
  /** Trust X-Forwarded-* from the client (only behind another proxy you control). */
  readonly trustForwardedHeaders: boolean;
  readonly cache: CacheSettings;
  readonly shadow: ShadowSettings;
  /** How the flag context (Unleash's) is filled from a request, beyond the route's stickiness (userId). */
  readonly flagContext: FlagContextSettings;
}

/** `settings.flagContext`: request → Unleash context (userId is the route's stickiness value). */
export interface FlagContextSettings {
  /** Unleash's sessionId: first of these present; none → no sessionId. */
  readonly sessionId: readonly StickinessSource[];
  /** Extra context properties (e.g. `tenant: { header: X-Tenant-Id }`); path, method and route are always set. */
  readonly properties: Readonly<Record<string, StickinessSource>>;
}

export interface FlagsConfig {
  readonly upstreams: Readonly<Record<string, UpstreamConfig>>;
  readonly routes: readonly RouteConfig[];
  readonly settings: Settings;
  /** Short content hash of every flags file: changes whenever any of them does. */
  readonly version: string;
  readonly files: readonly string[];
}
