import type { CanaryPolicy, CanarySettings, RouteShadowConfig, ShadowSettings, CacheSettings, RouteCacheConfig, Settings, StickinessSource } from './types.js';

/** Every default in one place: the schema, the validator and the docs read them from here. */
export const UPSTREAM_DEFAULTS = Object.freeze({
  maxInFlight: 16,
  maxQueue: 256,
  queueTimeoutMs: 10_000,
  connectTimeoutMs: 2_000,
  responseTimeoutMs: 30_000,
  keepAlive: true,
  preserveHost: true,
  retryAfterSeconds: 1,
});

export const DEFAULT_STICKINESS: readonly StickinessSource[] = Object.freeze([Object.freeze({ header: 'X-User-Id' })]);

export const CACHE_SETTINGS_DEFAULTS: CacheSettings = Object.freeze({
  namespace: 'switchyard',
  keyVersion: 1,
  operationTimeoutMs: 100,
  lockTtlMs: 10_000,
  keepStaleSeconds: 300,
  memoryMaxBytes: 64 * 1024 * 1024,
  reserveMaxBytes: 16 * 1024 * 1024,
  nearMaxBytes: 16 * 1024 * 1024,
});

/** Switchyard's own files under the flags directory (not flags: never read or watched as such). */
export const SWITCHYARD_STATE_DIR = '.switchyard';

export const SHADOW_SETTINGS_DEFAULTS: ShadowSettings = Object.freeze({
  maxConcurrent: 64,
  // Shadows are best effort: past 90% event-loop use, clients need the CPU more.
  maxEventLoopUtilization: 0.9,
  breakerFailures: 5,
  breakerCooldownMs: 10_000,
  maxSamples: 50,
  maxCompareBytes: 1024 * 1024,
  // Diffy's defaults: a field is a real difference when raw exceeds noise by > 20% and > 0.03%.
  noiseRelativeThreshold: 0.2,
  noiseAbsoluteThreshold: 0.0003,
  namespace: 'switchyard',
  // Next to the flags, in a dot-directory the flags loader and watcher pass over.
  rulesFile: `${SWITCHYARD_STATE_DIR}/shadow-rules.json`,
});

export const ROUTE_SHADOW_DEFAULTS: RouteShadowConfig = Object.freeze({
  percentage: 100,
  allowUnsafeMethods: false,
  timeoutMs: 5_000,
  maxConcurrent: 16,
  maxBodyBytes: 1024 * 1024,
  noisePercentage: 10,
  compareHeaders: Object.freeze(['content-type']),
  ignore: Object.freeze([]),
  unordered: Object.freeze([]),
  tolerance: Object.freeze({}),
  normalizeText: false,
  redactHeaders: Object.freeze([]),
});

export const CANARY_SETTINGS_DEFAULTS: CanarySettings = Object.freeze({
  webhook: null,
  leaseMs: 5_000,
  tickMs: 1_000,
  evaluationsKept: 50,
});

export const CANARY_WEBHOOK_DEFAULTS = Object.freeze({ retries: 3, timeoutMs: 2_000 });

/** What an empty `canary: {}` means: the example policy, which is what a user would expect. */
export const CANARY_POLICY_DEFAULTS: CanaryPolicy = Object.freeze({
  autoStart: false,
  intervalMs: 30_000,
  shadowFirst: Object.freeze({ percentage: 100, minCompared: 500, bakeMs: 10 * 60_000 }),
  steps: Object.freeze([1, 5, 25, 50, 100]),
  bakeMs: 10 * 60_000,
  minRequests: 200,
  gates: Object.freeze({
    contentMismatch: Object.freeze({ max: 0.005, confidence: 0.95 }),
    newFieldDivergence: 'block',
    // Kayenta's judge: 98% confidence, ±25% of the baseline median.
    latency: Object.freeze({ p99Ratio: 1.2, test: 'mann-whitney', confidence: 0.98, tolerance: 0.25 }),
    errorRate: Object.freeze({ maxIncrease: 0.005, confidence: 0.95 }),
  }),
  onFailure: 'rollback',
  rollbackTo: 'zero',
  inconclusive: Object.freeze({ extendBakes: 3, then: 'pause' }),
} as const);

export const SETTINGS_DEFAULTS: Settings = Object.freeze({
  exposeDecisionHeaders: true,
  stickiness: DEFAULT_STICKINESS,
  trustForwardedHeaders: false,
  // No limit unless configured: a limit buffers bodies in memory (server/request-guard.ts), which
  // is a choice per route (the legacy app's own limit), not a default for every upload.
  maxBodyBytes: null,
  cache: CACHE_SETTINGS_DEFAULTS,
  shadow: SHADOW_SETTINGS_DEFAULTS,
  canary: CANARY_SETTINGS_DEFAULTS,
  flagContext: Object.freeze({ sessionId: Object.freeze([]), properties: Object.freeze({}) }),
});

/** A route's `cache` block: what each omitted field means. */
export const ROUTE_CACHE_DEFAULTS: RouteCacheConfig = Object.freeze({
  defaultTtlSeconds: 60,
  maxTtlSeconds: 86_400,
  cacheUnmarked: false,
  staleWhileRevalidateSeconds: 0,
  staleIfErrorSeconds: 0,
  maxEntryBytes: 1024 * 1024,
  allowAuthorized: false,
  allowCookies: false,
  // Off: legacy pages that send Last-Modified for a database row would be served stale for 10%
  // of that row's age without the app having said anything about caching.
  heuristicFreshness: false,
  heuristicMaxSeconds: 86_400,
  targetedCacheControl: null,
});

export const ROUTE_DEFAULTS = Object.freeze({
  pinned: false,
  percentage: 0,
});

export const DEFAULT_FLAGS_DIR = 'flags';
export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '0.0.0.0';
/** Tokens shorter than this are refused at start-up: guessable tokens are no protection. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * The brute-force brake on the admin, metrics and override tokens (admin/auth-failure-limiter.ts):
 * 10 wrong tokens from one address within a minute block it for 5 minutes; at most 10,000
 * addresses are remembered (about 1 MB).
 */
export const AUTH_FAILURE_DEFAULTS = Object.freeze({
  maxFailures: 10,
  windowMs: 60_000,
  blockMs: 300_000,
  maxClients: 10_000,
});

/**
 * What every request meets before routing (server/request-guard.ts). Header lines as Apache and
 * gunicorn count them (100 each); the request target at nginx's 8 KiB buffer — gunicorn refuses
 * longer lines than 4094 bytes itself, with a bare 400 that also closes the upstream connection.
 */
export const REQUEST_LIMITS = Object.freeze({
  maxHeaderCount: 100,
  maxTargetBytes: 8192,
  // Bodies of routes without maxBodyBytes: this much is held (whole, when it is all) before a side sees any.
  bodyHoldBytes: 64 * 1024,
});

/**
 * The CLI's HTTP server (server/http-server.ts). A client has `headersTimeoutMs` to send its
 * request line and headers and `requestTimeoutMs` for the whole request, body included (then 408
 * and the connection is closed); Node checks every `connectionsCheckingIntervalMs`. Idle
 * keep-alive connections stay `keepAliveTimeoutMs`, longer than common load balancers' idle
 * timeouts (60 s) so that they, not Switchyard, close them. Headers are limited to Node's 16 KiB.
 */
export const HTTP_SERVER_DEFAULTS = Object.freeze({
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
  keepAliveTimeoutMs: 65_000,
  connectionsCheckingIntervalMs: 1_000,
  maxHeaderBytes: 16 * 1024,
});
