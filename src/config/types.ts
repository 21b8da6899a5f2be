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
  /** Largest request body (bytes; larger → 413 before either side sees it); null: none; absent: settings.maxBodyBytes. */
  readonly maxBodyBytes?: number | null;
  /** Shadow traffic and diffing; absent when the route has no enabled `shadow` block. */
  readonly shadow?: RouteShadowConfig;
  /** Response cache for the legacy side; absent when the route has no enabled `cache` block. */
  readonly cache?: RouteCacheConfig;
  /** The migration autopilot's policy; absent when the route has no `canary` block. */
  readonly canary?: CanaryPolicy;
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

/**
 * A route's `canary` block: how the autopilot moves it from legacy to new. Durations are ms,
 * rates are fractions (the YAML says `10m` and `0.5%`).
 */
export interface CanaryPolicy {
  /** Start a run when the route has none (the leader starts it); otherwise `POST …/start`. */
  readonly autoStart: boolean;
  /** How often the leader evaluates the run. */
  readonly intervalMs: number;
  /** Stage 0: 0% live, the new side only shadowed; null skips it. */
  readonly shadowFirst: { readonly percentage: number; readonly minCompared: number; readonly bakeMs: number } | null;
  /** Live percentages, increasing; reaching 100 ends the run (`done`). */
  readonly steps: readonly number[];
  /** Per step, counted from when the minimum samples are met. */
  readonly bakeMs: number;
  /** Per side and step (and shadow comparisons); fewer → hold, then inconclusive, never a failure. */
  readonly minRequests: number;
  readonly gates: CanaryGates;
  readonly onFailure: 'rollback' | 'pause';
  /** Where a rollback goes: 0% (shadow continues), or the last step that passed. */
  readonly rollbackTo: 'zero' | 'previous';
  readonly inconclusive: { readonly extendBakes: number; readonly then: 'pause' | 'hold' };
}

export interface CanaryGates {
  /** Noise-cancelled mismatch rate, per field and in total, must not be shown above `max`. */
  readonly contentMismatch: { readonly max: number; readonly confidence: number };
  /** A field that never differed before the stage starts differing for real. */
  readonly newFieldDivergence: 'block' | 'warn' | 'off';
  /** New's 5xx rate must not be shown above legacy's + `maxIncrease`. */
  readonly errorRate: { readonly maxIncrease: number; readonly confidence: number };
  readonly latency: { readonly p99Ratio: number; readonly test: 'mann-whitney'; readonly confidence: number; readonly tolerance: number };
}

/** `settings.canary`: process-wide autopilot settings. */
export interface CanarySettings {
  /** Events are POSTed here as JSON (retried; never blocks a run); null: no webhook. */
  readonly webhook: { readonly url: string; readonly retries: number; readonly timeoutMs: number } | null;
  /** The leader lease's lifetime in Redis (renewed every third of it); another instance takes over within it. */
  readonly leaseMs: number;
  /** How often each instance checks the lease and the runs that are due. */
  readonly tickMs: number;
  /** Evaluations kept per run (oldest dropped). */
  readonly evaluationsKept: number;
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
  /**
   * Without Redis: the JSON file approved/rejected ignore rules are kept in across restarts,
   * relative to the flags directory (absolute as given); null keeps them in memory only.
   */
  readonly rulesFile: string | null;
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
  /** With a shared store: bytes of last copies this process keeps for when the store and legacy both fail (0: none). */
  readonly reserveMaxBytes: number;
  /** With Redis (not a Cluster): bytes of in-process copies kept coherent by Redis client tracking, served without a round trip (0: none). */
  readonly nearMaxBytes: number;
}

export interface Settings {
  /** Add X-Switchyard-Backend / X-Switchyard-Route to every routed response. */
  readonly exposeDecisionHeaders: boolean;
  readonly stickiness: readonly StickinessSource[];
  /** Trust X-Forwarded-* from the client (only behind another proxy you control). */
  readonly trustForwardedHeaders: boolean;
  /** Largest request body of a route that sets none (bytes); null: no limit. */
  readonly maxBodyBytes: number | null;
  readonly cache: CacheSettings;
  readonly shadow: ShadowSettings;
  readonly canary: CanarySettings;
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
