import { CANARY_POLICY_DEFAULTS as CANARY, CANARY_SETTINGS_DEFAULTS, CANARY_WEBHOOK_DEFAULTS, CACHE_SETTINGS_DEFAULTS, ROUTE_CACHE_DEFAULTS, ROUTE_SHADOW_DEFAULTS, SETTINGS_DEFAULTS, SHADOW_SETTINGS_DEFAULTS, UPSTREAM_DEFAULTS } from './defaults.js';

/**
 * JSON Schema (draft-07, the dialect editors' YAML plugins understand best) for files in `flags/`.
 * `flags/schema.json` is generated from this (`npm run schema`) and a test keeps the two equal,
 * so the file editors validate against is exactly the one start-up enforces.
 */
const millis = (description: string, fallback: number) => ({ type: 'integer', minimum: 1, maximum: 3_600_000, default: fallback, description });

const stickinessSource = {
  type: 'object',
  description: 'Where the sticky rollout value comes from.',
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    header: { type: 'string', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Request header name, e.g. X-User-Id.' },
    cookie: { type: 'string', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$', description: 'Cookie name.' },
  },
} as const;

const stickiness = { type: 'array', items: stickinessSource, minItems: 1, maxItems: 8 } as const;

const name = { type: 'string', pattern: '^[a-z0-9][a-z0-9_.-]{0,62}$', description: 'Lower-case letters, digits, dot, dash, underscore.' } as const;

const pathPrefix = { type: 'string', pattern: '^/[^?#\\s]*$', description: 'Literal path prefix to remove before forwarding, e.g. /flask.' } as const;

const seconds = (description: string, fallback: number) => ({ type: 'integer', minimum: 0, maximum: 31_536_000, default: fallback, description });

const routeCache = {
  type: 'object',
  additionalProperties: false,
  description: 'Cache legacy responses for this route (RFC 9111 shared-cache rules, plus these overrides).',
  properties: {
    enabled: { type: 'boolean', default: true, description: 'false turns the block off without deleting it.' },
    defaultTtlSeconds: seconds('Freshness when the origin gives none (no max-age, s-maxage or Expires).', ROUTE_CACHE_DEFAULTS.defaultTtlSeconds),
    maxTtlSeconds: seconds("Upper bound on any freshness lifetime, the origin's included.", ROUTE_CACHE_DEFAULTS.maxTtlSeconds),
    cacheUnmarked: { type: 'boolean', default: ROUTE_CACHE_DEFAULTS.cacheUnmarked, description: 'Also store responses the origin did not mark cacheable (no public, max-age, s-maxage, no-cache or Expires). Never overrides private, no-store, Set-Cookie or Authorization.' },
    staleWhileRevalidateSeconds: seconds('Serve stale while refreshing in the background, unless the origin says otherwise.', ROUTE_CACHE_DEFAULTS.staleWhileRevalidateSeconds),
    staleIfErrorSeconds: seconds('Serve stale when legacy fails or times out, unless the origin says otherwise.', ROUTE_CACHE_DEFAULTS.staleIfErrorSeconds),
    maxEntryBytes: { type: 'integer', minimum: 1, maximum: 512 * 1024 * 1024, default: ROUTE_CACHE_DEFAULTS.maxEntryBytes, description: 'Larger responses stream through uncached.' },
    allowAuthorized: { type: 'boolean', default: ROUTE_CACHE_DEFAULTS.allowAuthorized, description: 'Store answers to requests with Authorization, keyed per credential.' },
    allowCookies: {
      type: 'boolean',
      default: ROUTE_CACHE_DEFAULTS.allowCookies,
      description: "Look up and store answers to requests that carry a Cookie header. Off by default (they bypass the cache, as in Varnish): set it only when legacy's answers do not depend on cookies, or say so with Vary: Cookie or private.",
    },
    heuristicFreshness: {
      type: 'boolean',
      default: ROUTE_CACHE_DEFAULTS.heuristicFreshness,
      description: 'RFC 9111 heuristic freshness: a response with Last-Modified and no explicit lifetime is fresh for 10% of the time since it was modified (capped by heuristicMaxSeconds and maxTtlSeconds). Off by default.',
    },
    heuristicMaxSeconds: seconds('Upper bound on a heuristic freshness lifetime.', ROUTE_CACHE_DEFAULTS.heuristicMaxSeconds),
    targetedCacheControl: {
      type: ['string', 'null'],
      pattern: '^[A-Za-z][A-Za-z0-9-]{0,63}$',
      default: ROUTE_CACHE_DEFAULTS.targetedCacheControl,
      description: 'A targeted cache-control field (RFC 9213), e.g. CDN-Cache-Control: when a response has it, its directives replace Cache-Control for this cache (the client still gets both).',
    },
  },
} as const;

const pointerList = (description: string) => ({ type: 'array', items: { type: 'string', pattern: '^(/[^/]*)+$' }, maxItems: 200, description });

const routeShadow = {
  type: 'object',
  additionalProperties: false,
  description: 'Mirror requests to the side that did not serve and diff the responses (never delays the client).',
  properties: {
    enabled: { type: 'boolean', default: true, description: 'false turns the block off without deleting it.' },
    percentage: { type: 'integer', minimum: 0, maximum: 100, default: ROUTE_SHADOW_DEFAULTS.percentage, description: 'Sticky share of requests mirrored.' },
    allowUnsafeMethods: { type: 'boolean', default: false, description: 'Also mirror POST/PUT/PATCH/DELETE (by default only GET, HEAD, OPTIONS).' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 600_000, default: ROUTE_SHADOW_DEFAULTS.timeoutMs },
    maxConcurrent: { type: 'integer', minimum: 1, maximum: 10_000, default: ROUTE_SHADOW_DEFAULTS.maxConcurrent },
    maxBodyBytes: { type: 'integer', minimum: 0, maximum: 64 * 1024 * 1024, default: ROUTE_SHADOW_DEFAULTS.maxBodyBytes, description: 'Request bodies buffered for mirroring up to this size.' },
    noisePercentage: { type: 'integer', minimum: 0, maximum: 100, default: ROUTE_SHADOW_DEFAULTS.noisePercentage, description: 'Share of mirrored safe requests for which the serving side is called twice to measure noise.' },
    compareHeaders: { type: 'array', items: { type: 'string', pattern: '^[!#$%&\'*+.^_`|~0-9A-Za-z-]+$' }, default: ['content-type'] },
    ignore: pointerList('JSON Pointers (with * for any key or index) ignored in both bodies, e.g. /items/*/updated_at.'),
    unordered: pointerList('JSON Pointers of arrays compared as unordered sets.'),
    tolerance: { type: 'object', propertyNames: { pattern: '^(/[^/]*)+$' }, additionalProperties: { type: 'number', minimum: 0 }, description: 'Numeric tolerance by JSON Pointer.' },
    normalizeText: { type: 'boolean', default: false, description: 'Compare non-JSON text ignoring CRLF/LF and trailing whitespace.' },
    redactHeaders: { type: 'array', items: { type: 'string' }, default: [], description: 'Headers redacted in stored samples, besides Authorization, Cookie and Set-Cookie.' },
  },
} as const;

/** `10m`, `30s`, `500ms`, `1h`: read by config/duration.ts. */
const duration = (description: string, fallbackMs: number) => ({ type: 'string', pattern: '^[0-9]{1,9}(ms|s|m|h)$', default: `${fallbackMs / 1000}s`, description: `${description} A duration: 500ms, 30s, 10m, 1h.` });

/** `0.5%` or 0.5 (both half a percent): read by config/duration.ts. */
const percent = (description: string, fallback: number) => ({
  type: ['number', 'string'],
  minimum: 0,
  exclusiveMaximum: 100,
  pattern: '^[0-9]{1,2}(\\.[0-9]{1,6})?%$',
  default: `${fallback * 100}%`,
  description: `${description} A percentage: 0.5% or 0.5 (a number is percent too).`,
});

const confidence = (fallback: number) => ({ type: 'number', minimum: 0.5, exclusiveMaximum: 1, default: fallback, description: 'Confidence of the test (1 − its false-alarm rate).' });

export const ROUTE_CANARY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'The migration autopilot: shadow first, then live steps, promoted or rolled back on the response content, error rate and latency. See README "Migration autopilot".',
  properties: {
    autoStart: { type: 'boolean', default: CANARY.autoStart, description: 'Start a run by itself when the route has none (else POST /_switchyard/canary/:route/start).' },
    interval: duration('How often the run is evaluated.', CANARY.intervalMs),
    shadowFirst: {
      type: ['object', 'boolean'],
      additionalProperties: false,
      description: 'Stage 0: 0% live, the new side only shadowed; false skips it.',
      properties: {
        percentage: { type: 'integer', minimum: 1, maximum: 100, default: CANARY.shadowFirst?.percentage, description: "Share of requests mirrored (the route's shadow percentage)." },
        minCompared: { type: 'integer', minimum: 1, maximum: 100_000_000, default: CANARY.shadowFirst?.minCompared, description: 'Comparisons needed before the bake counts.' },
        bake: duration('How long the stage runs once minCompared is met.', CANARY.shadowFirst?.bakeMs ?? 0),
      },
    },
    steps: { type: 'array', minItems: 1, maxItems: 20, uniqueItems: true, items: { type: 'integer', minimum: 1, maximum: 100 }, default: CANARY.steps, description: 'Live percentages, increasing; reaching 100 ends the run.' },
    bake: duration('Per step, counted from when the minimum samples are met.', CANARY.bakeMs),
    minRequests: { type: 'integer', minimum: 1, maximum: 100_000_000, default: CANARY.minRequests, description: 'Per side and step (and shadow comparisons); fewer is inconclusive, never a failure.' },
    gates: {
      type: 'object',
      additionalProperties: false,
      properties: {
        contentMismatch: {
          type: 'object',
          additionalProperties: false,
          description: 'Noise-cancelled (Diffy rule) mismatch rate, per field and in total.',
          properties: { max: percent('Largest mismatch rate allowed.', CANARY.gates.contentMismatch.max), confidence: confidence(CANARY.gates.contentMismatch.confidence) },
        },
        newFieldDivergence: { type: 'string', enum: ['block', 'warn', 'off'], default: CANARY.gates.newFieldDivergence, description: 'A field that never differed starts differing: block fails the gate, warn only reports it.' },
        errorRate: {
          type: 'object',
          additionalProperties: false,
          description: "New's 5xx rate against legacy's in the same window (anytime-valid sequential test).",
          properties: { maxIncrease: percent('Largest increase allowed.', CANARY.gates.errorRate.maxIncrease), confidence: confidence(CANARY.gates.errorRate.confidence) },
        },
        latency: {
          type: 'object',
          additionalProperties: false,
          description: "Mann-Whitney U and the Hodges-Lehmann shift on both sides' latencies (Kayenta's judge).",
          properties: {
            p99Ratio: { type: 'number', minimum: 1, maximum: 100, default: CANARY.gates.latency.p99Ratio, description: "Largest p99(new) / p99(legacy); fails only when new is also significantly slower." },
            test: { type: 'string', enum: ['mann-whitney'], default: CANARY.gates.latency.test },
            confidence: confidence(CANARY.gates.latency.confidence),
            tolerance: percent('Allowed Hodges-Lehmann slowdown, as a share of the legacy median.', CANARY.gates.latency.tolerance),
          },
        },
      },
    },
    onFailure: { type: 'string', enum: ['rollback', 'pause'], default: CANARY.onFailure, description: 'What a gate failing with significance does.' },
    rollbackTo: { type: 'string', enum: ['zero', 'previous'], default: CANARY.rollbackTo, description: 'A rollback goes to 0% (shadow continues) or to the last step that passed.' },
    inconclusive: {
      type: 'object',
      additionalProperties: false,
      properties: {
        extendBakes: { type: 'integer', minimum: 0, maximum: 10_000, default: CANARY.inconclusive.extendBakes, description: 'Bakes added while the minimum samples are not met.' },
        then: { type: 'string', enum: ['pause', 'hold'], default: CANARY.inconclusive.then, description: 'After the extensions: pause for a human, or keep holding.' },
      },
    },
  },
} as const;

const settingsCanary = {
  type: 'object',
  additionalProperties: false,
  description: 'Process-wide autopilot settings (runs and the leader lease in Redis when REDIS_URL is set).',
  properties: {
    webhook: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      description: 'Run events are POSTed here as JSON (retried; a failing webhook never blocks a run).',
      properties: {
        url: { type: 'string', pattern: '^https?://[^\\s]+$' },
        retries: { type: 'integer', minimum: 0, maximum: 10, default: CANARY_WEBHOOK_DEFAULTS.retries },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 60_000, default: CANARY_WEBHOOK_DEFAULTS.timeoutMs },
      },
    },
    leaseMs: { type: 'integer', minimum: 500, maximum: 300_000, default: CANARY_SETTINGS_DEFAULTS.leaseMs, description: 'Leader lease lifetime; another instance takes over within it when the leader dies.' },
    tickMs: { type: 'integer', minimum: 10, maximum: 60_000, default: CANARY_SETTINGS_DEFAULTS.tickMs, description: 'How often each instance checks the lease and the runs that are due.' },
    evaluationsKept: { type: 'integer', minimum: 1, maximum: 1000, default: CANARY_SETTINGS_DEFAULTS.evaluationsKept },
  },
} as const;

/** Request bodies are held in memory up to the limit (see server/request-guard.ts), hence the cap. */
const maxBodyBytes = { type: ['integer', 'null'], minimum: 0, maximum: 1024 * 1024 * 1024 } as const;

const settingsShadow = {
  type: 'object',
  additionalProperties: false,
  description: 'Process-wide shadow settings (results in Redis when REDIS_URL is set, else in memory).',
  properties: {
    maxConcurrent: { type: 'integer', minimum: 1, maximum: 100_000, default: SHADOW_SETTINGS_DEFAULTS.maxConcurrent },
    maxEventLoopUtilization: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: SHADOW_SETTINGS_DEFAULTS.maxEventLoopUtilization,
      description: "Skip shadows (counted as overloaded) while this process's event loop was busier than this fraction over the last 100 ms, so mirroring never takes CPU its clients need; 1 never skips.",
    },
    breakerFailures: { type: 'integer', minimum: 1, maximum: 1000, default: SHADOW_SETTINGS_DEFAULTS.breakerFailures, description: 'Consecutive shadow failures that open the breaker.' },
    breakerCooldownMs: { type: 'integer', minimum: 1, maximum: 3_600_000, default: SHADOW_SETTINGS_DEFAULTS.breakerCooldownMs },
    maxSamples: { type: 'integer', minimum: 0, maximum: 10_000, default: SHADOW_SETTINGS_DEFAULTS.maxSamples, description: 'Mismatch samples kept per route.' },
    maxCompareBytes: { type: 'integer', minimum: 1024, maximum: 64 * 1024 * 1024, default: SHADOW_SETTINGS_DEFAULTS.maxCompareBytes, description: 'Bodies beyond this compare by hash only.' },
    noiseRelativeThreshold: { type: 'number', minimum: 0, maximum: 1, default: SHADOW_SETTINGS_DEFAULTS.noiseRelativeThreshold },
    noiseAbsoluteThreshold: { type: 'number', minimum: 0, maximum: 1, default: SHADOW_SETTINGS_DEFAULTS.noiseAbsoluteThreshold },
    namespace: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', default: SHADOW_SETTINGS_DEFAULTS.namespace },
    rulesFile: {
      type: ['string', 'null'],
      minLength: 1,
      maxLength: 4096,
      default: SHADOW_SETTINGS_DEFAULTS.rulesFile,
      description: 'Without Redis: the JSON file that keeps approved/rejected ignore rules across restarts, relative to the flags directory (an absolute path as given; flags given as text have no directory, so a relative path keeps them in memory); null: memory only. Read at start. Ignored with Redis, where decisions are shared.',
    },
  },
} as const;

const settingsCache = {
  type: 'object',
  additionalProperties: false,
  description: 'Process-wide cache settings (the store is Redis when REDIS_URL is set, else in memory).',
  properties: {
    namespace: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', default: CACHE_SETTINGS_DEFAULTS.namespace, description: 'First part of every cache key: letters, digits, dot, dash, underscore.' },
    keyVersion: { type: 'integer', minimum: 1, maximum: 1_000_000, default: CACHE_SETTINGS_DEFAULTS.keyVersion, description: 'Part of every key: bump it to invalidate everything.' },
    operationTimeoutMs: { type: 'integer', minimum: 1, maximum: 10_000, default: CACHE_SETTINGS_DEFAULTS.operationTimeoutMs, description: 'Longest wait for one cache-store operation; past it the request bypasses the cache.' },
    lockTtlMs: { type: 'integer', minimum: 100, maximum: 300_000, default: CACHE_SETTINGS_DEFAULTS.lockTtlMs, description: 'Lifetime of the cross-instance fill lock (stampede protection).' },
    keepStaleSeconds: seconds('Extra time a stale entry with ETag/Last-Modified is kept for 304 revalidation.', CACHE_SETTINGS_DEFAULTS.keepStaleSeconds),
    memoryMaxBytes: { type: 'integer', minimum: 1024, maximum: 68_719_476_736, default: CACHE_SETTINGS_DEFAULTS.memoryMaxBytes, description: 'Memory bound of the embedded in-memory store (read at start-up).' },
    reserveMaxBytes: { type: 'integer', minimum: 0, maximum: 68_719_476_736, default: CACHE_SETTINGS_DEFAULTS.reserveMaxBytes, description: 'With Redis: bytes of last entry copies each process keeps, served only when Redis is out of reach and legacy fails, within stale-if-error (read at start-up; 0 turns it off).' },
    nearMaxBytes: { type: 'integer', minimum: 0, maximum: 68_719_476_736, default: CACHE_SETTINGS_DEFAULTS.nearMaxBytes, description: 'With Redis (one server or Sentinel, not a Cluster): bytes of in-process copies of what this process read, kept coherent by Redis client tracking (a change or purge by any instance drops them), so a hit needs no round trip (read at start-up; 0 turns it off).' },
  },
} as const;

export const FLAGS_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://switchyard.dev/schema/flags.json',
  title: 'Switchyard flags file',
  type: 'object',
  additionalProperties: false,
  properties: {
    upstreams: {
      type: 'object',
      description: 'Named legacy (or new) backends, e.g. gunicorn serving Flask.',
      propertyNames: name,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', pattern: '^https?://[^\\s]+$', description: 'Base URL, http or https.' },
          maxInFlight: { type: 'integer', minimum: 1, maximum: 10_000, default: UPSTREAM_DEFAULTS.maxInFlight, description: 'At most this many requests in flight (gunicorn workers × threads).' },
          maxQueue: { type: 'integer', minimum: 0, maximum: 1_000_000, default: UPSTREAM_DEFAULTS.maxQueue, description: 'Requests waiting for a slot; past it → 503.' },
          queueTimeoutMs: millis('Longest wait for a slot before 503.', UPSTREAM_DEFAULTS.queueTimeoutMs),
          connectTimeoutMs: millis('Connect timeout; past it → 504.', UPSTREAM_DEFAULTS.connectTimeoutMs),
          responseTimeoutMs: millis('Time to response headers; past it → 504.', UPSTREAM_DEFAULTS.responseTimeoutMs),
          keepAlive: { type: 'boolean', default: UPSTREAM_DEFAULTS.keepAlive },
          preserveHost: { type: 'boolean', default: UPSTREAM_DEFAULTS.preserveHost, description: "Forward the client's Host header." },
          retryAfterSeconds: { type: 'integer', minimum: 0, maximum: 3600, default: UPSTREAM_DEFAULTS.retryAfterSeconds },
        },
      },
    },
    routes: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'path'],
        properties: {
          name,
          path: { type: 'string', pattern: '^/', description: 'Must start with /. Pattern: literal segments, :param segments, and a final * for a mount, e.g. /flask/*.' },
          methods: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] } },
          legacy: {
            type: 'object',
            additionalProperties: false,
            required: ['upstream'],
            properties: { upstream: name, stripPrefix: pathPrefix },
          },
          new: {
            type: 'object',
            additionalProperties: false,
            description: 'Either a registered TypeScript handler or a new upstream.',
            properties: { handler: { type: 'string', minLength: 1 }, upstream: name, stripPrefix: pathPrefix },
          },
          mode: { type: 'string', enum: ['legacy', 'new', 'rollout'], description: 'Default: legacy when a legacy side exists, else new.' },
          pinned: { type: 'boolean', default: false, description: 'Always legacy, whatever the mode or override.' },
          flag: { ...name, description: 'Feature-flag name (Unleash flag); default: the route name.' },
          rollout: {
            type: 'object',
            additionalProperties: false,
            required: ['percentage'],
            properties: {
              percentage: { type: 'integer', minimum: 0, maximum: 100, description: 'Share of users (by sticky hash) sent to the new side.' },
              groupId: { type: 'string', minLength: 1, description: "Unleash groupId; default: the route's flag name." },
              stickiness,
            },
          },
          migration: {
            type: 'object',
            additionalProperties: false,
            properties: {
              owner: { type: 'string' },
              targetDate: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' },
              notes: { type: 'string' },
            },
          },
          maxBodyBytes: { ...maxBodyBytes, description: 'Largest request body this route accepts (bytes): larger → 413 before either side sees any of it; bodies are buffered in memory up to this before they are sent on. null: no limit (streamed). Default: settings.maxBodyBytes.' },
          cache: routeCache,
          shadow: routeShadow,
          canary: ROUTE_CANARY_SCHEMA,
        },
      },
    },
    settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        exposeDecisionHeaders: { type: 'boolean', default: true },
        stickiness,
        trustForwardedHeaders: { type: 'boolean', default: false },
        maxBodyBytes: { ...maxBodyBytes, default: SETTINGS_DEFAULTS.maxBodyBytes, description: "Every route's maxBodyBytes unless it sets its own; null: no limit." },
        cache: settingsCache,
        shadow: settingsShadow,
        canary: settingsCanary,
        flagContext: {
          type: 'object',
          additionalProperties: false,
          description: "How the flag context (Unleash's) is filled from a request. userId is the route's stickiness value; remoteAddress, and the properties path, method and route, are always set.",
          properties: {
            sessionId: { ...stickiness, description: 'Where Unleash sessionId comes from (first present); default: none.' },
            properties: {
              type: 'object',
              description: 'Extra context properties for constraints, e.g. tenant: { header: X-Tenant-Id }.',
              propertyNames: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,62}$' },
              additionalProperties: stickinessSource,
              maxProperties: 32,
            },
          },
        },
      },
    },
  },
} as const;
