import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { readFlagsDir } from './config/flags-files.js';
import { watchFlagsDir } from './config/flags-watcher.js';
import type { FlagsConfig, ShadowSettings } from './config/types.js';
import { compileFlags, versionOf, type FlagsFileText } from './config/validate-flags.js';
import { sendProblem } from './errors/problem.js';
import { ConfigError, SwitchyardError, formatConfigIssue } from './errors/switchyard-error.js';
import { createConsoleLogger, type Logger } from './logging/logger.js';
import { AUTH_FAILURE_DEFAULTS, MIN_TOKEN_LENGTH } from './config/defaults.js';
import { CredentialAttempts } from './admin/auth-attempts.js';
import { AuthFailureLimiter, type AuthFailureLimits } from './admin/auth-failure-limiter.js';
import { createClientErrorHandler } from './server/client-error.js';
import { createRequestGuard } from './server/request-guard.js';
import { describeMounts } from './server/describe-mounts.js';
import { RequestObservers } from './pipeline/observers.js';
import { OutcomeRecorder } from './outcomes/outcome-recorder.js';
import type { OutcomeStore } from './outcomes/outcome-store.js';
import { RedisOutcomeStore } from './outcomes/redis-outcome-store.js';
import type { RequestObserver } from './pipeline/routed-request.js';
import { telemetryObserver } from './telemetry/routing-telemetry.js';
import { RoutingStats } from './server/routing-stats.js';
import { answerInternalError, createSwitch, type NewHandler, type RuntimeSnapshot } from './server/switch-middleware.js';
import { UpstreamRegistry } from './server/upstream-registry.js';
import { countCacheOutcome, observeUpstreams } from './telemetry/routing-telemetry.js';
import { ADMIN_PREFIX, createAdminApi } from './admin/admin-api.js';
import { routesSection } from './admin/routes-section.js';
import { shadowSection } from './admin/shadow-section.js';
import { NewSideServer } from './shadow/new-side-server.js';
import { RedisShadowStore } from './shadow/redis-shadow-store.js';
import { createLoopUtilization } from './shadow/loop-utilization.js';
import { ShadowMirror } from './shadow/shadow-mirror.js';
import { MemoryShadowStore, type ShadowResultStore } from './shadow/shadow-store.js';
import { ShadowTargets } from './shadow/shadow-targets.js';
import type { PurgeRequest } from './cache/cache-purge.js';
import { createResponseCache, purgeContextOf, type CacheStatsSnapshot, type ResponseCacheOptions } from './cache/create-cache.js';
import { flagsSection } from './admin/flags-section.js';
import { canarySection } from './admin/canary-section.js';
import { createCanary, type CanaryOptions } from './canary/create-canary.js';
import type { CanaryController } from './canary/canary-controller.js';
import type { WindowSettings } from './stats/outcome-windows.js';
import { answerProbe } from './admin/health-probes.js';
import { answerMetrics } from './admin/metrics-endpoint.js';
import { packageRoot, packageVersion } from './config/package-version.js';
import { eventsSection } from './admin/events-section.js';
import { shadowRulesSection } from './admin/shadow-rules-section.js';
import { MemoryIgnoreRuleStore, RuntimeIgnoreRules, type IgnoreRuleStore } from './shadow/ignore-rule-store.js';
import { RedisIgnoreRuleStore } from './shadow/redis-ignore-rule-store.js';
import { FileIgnoreRuleStore } from './shadow/file-ignore-rule-store.js';
import type { RedisTarget } from './redis/redis-url.js';
import { uiRouter } from './ui/ui-router.js';
import { UiSessions } from './ui/ui-sessions.js';
import { MemoryRevocations, type SessionRevocations } from './ui/session-revocations.js';
import { RedisRevocations } from './ui/redis-revocations.js';
import { ShadowCounts } from './metrics/shadow-counts.js';
import { ProcessMetrics } from './metrics/process-metrics.js';
import { switchyardMetrics } from './metrics/switchyard-metrics.js';
import { Readiness } from './server/readiness.js';
import { createFlagEngine, type FlagSourcesOptions } from './flags/create-flags.js';
import { readInfrastructureEnv, type InfrastructureEnv } from './config/infrastructure-env.js';
import { describePlacement, placeRedis, type RedisFeature } from './config/redis-placement.js';
import type { FlagEngine } from './flags/flag-engine.js';

export interface SwitchyardOptions {
  /** Directory of flags YAML files (default `flags`). Ignored when `flags` is given. */
  readonly flagsDir?: string;
  /** Flags as YAML/JSON text instead of a directory, e.g. for tests or embedding. */
  readonly flags?: readonly FlagsFileText[];
  /** New handlers, by the name routes use in `new.handler`. */
  readonly handlers?: Readonly<Record<string, NewHandler>>;
  /** The seed's USE_LEGACY kill switch: every route to legacy. */
  readonly useLegacy?: boolean;
  /** Token that makes X-Switchyard-Force count; without one, overrides are always ignored. */
  readonly overrideToken?: string | null;
  /** Bearer token of the admin API under /_switchyard; without one the admin API (and the dashboard) is off. */
  readonly adminToken?: string | null;
  /** A read-only token: GET on the admin API, and a viewer session on the dashboard. */
  readonly viewerToken?: string | null;
  /** The dashboard at /_switchyard/ui/: session length (default 8 h), clock, where the built page is. */
  readonly ui?: { readonly sessionTtlMs?: number; readonly now?: () => number; readonly assetsDir?: string };
  /** Runtime shadow ignore rules: where the shadow results are (`redis` / `shadow.redisUrl`: every instance, kept), else this process (kept in `settings.shadow.rulesFile` unless null). */
  readonly shadowRules?: { readonly store?: IgnoreRuleStore };
  /** Reload when files in `flagsDir` change (default true with a directory). */
  readonly watch?: boolean;
  readonly logger?: Logger;
  /** Source of random stickiness values for requests without one (injectable for tests). */
  readonly randomId?: () => string;
  /**
   * The Redis every instance shares (cache, shadow results, outcomes, runtime flag changes): a
   * REDIS_URL-syntax URL (one server, `redis+sentinel://…` or `redis+cluster://…`); null: none.
   * Default REDIS_URL — but only when no option here names Redis at all: once `redis` or any
   * feature's `redisUrl` is given, the options alone decide (README "Shared state").
   */
  readonly redis?: string | null;
  /** Shadow results: in `redis` (or `redisUrl`, null: memory) unless `store` is given; clock and randomness injectable. */
  readonly shadow?: { readonly redisUrl?: string | null; readonly store?: ShadowResultStore; readonly now?: () => number; readonly random?: () => number; readonly loopUtilization?: () => number };
  /** Response cache for routes with a `cache` block: in `redis` (or `redisUrl`, null: memory). */
  readonly cache?: ResponseCacheOptions;
  /**
   * Outcome recording: in `redis` (or `redisUrl`) for a fleet view, else this process; `store: null`
   * forces this process only. Clock, randomness and the instance id are injectable.
   */
  readonly outcomes?: { readonly redisUrl?: string | null; readonly store?: OutcomeStore | null; readonly now?: () => number; readonly random?: () => number; readonly instance?: string; readonly publishEveryMs?: number; readonly windows?: Partial<WindowSettings> };
  /** The migration autopilot: runs and the leader lease where the runtime flags are (`redis` / `runtimeFlags.redisUrl`), else this process; parts injectable. */
  readonly canary?: CanaryOptions;
  /** More request observers (after stats, telemetry, the shadow mirror and outcomes): see pipeline/routed-request.ts. */
  readonly observers?: readonly RequestObserver[];
  /** Unleash as the flag source: default from UNLEASH_* (UNLEASH_URL turns it on); null: off. */
  readonly unleash?: FlagSourcesOptions['unleash'];
  /** Any flag provider instead of Unleash (e.g. InMemoryFlagProvider from src/flags/flag-provider.ts). */
  readonly flagProvider?: FlagSourcesOptions['flagProvider'];
  /** Runtime changes from the admin API: in `redis` (every instance, kept), else this process only. */
  readonly runtimeFlags?: FlagSourcesOptions['runtimeFlags'];
  /** Prometheus text at /_switchyard/metrics (off by default); `token`: the bearer token a scraper must send. */
  readonly metrics?: { readonly prometheus?: boolean; readonly token?: string | null };
  /** Shared with whoever serves the probes before Switchyard is up (the CLI); marked ready once started. */
  readonly readiness?: Readiness;
  /** The brute-force brake on the admin, metrics and override tokens (defaults: AUTH_FAILURE_DEFAULTS); clock injectable. */
  readonly authFailures?: Partial<AuthFailureLimits> & { readonly now?: () => number };
  /** REDIS_URL, UNLEASH_*, … as read once at start-up (the CLI passes its own); default: read from process.env here. */
  readonly environment?: InfrastructureEnv;
}

export type ReloadOutcome = { readonly ok: true; readonly version: string; readonly changed: boolean } | { readonly ok: false; readonly error: ConfigError };

export interface Switchyard {
  /** A standalone Express app: the admin API, the switch, then problem+json 404s. */
  readonly app: Express;
  /**
   * The same service as `app`, faster: `http.createServer(switchyard.handler)`. Legacy-side
   * requests are proxied (or served from the cache) without entering Express; everything else
   * goes on to `app`. What the CLI serves.
   */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  /** The admin API and the switch, to mount in your own Express app; unrouted requests go to `next()`. */
  readonly middleware: RequestHandler;
  /**
   * `server.on('clientError', switchyard.clientError)`: requests Node cannot parse get a
   * problem+json 400 (431 for oversized headers) and the connection is closed.
   */
  readonly clientError: (error: Error, socket: Duplex) => void;
  /**
   * `server.on('checkContinue', switchyard.checkContinue)`: `100 Continue` only for a body the
   * route will take (a too-large one gets its 413 without being sent). createHttpServer does both.
   */
  readonly checkContinue: (req: IncomingMessage, res: ServerResponse) => void;
  readonly config: FlagsConfig;
  readonly stats: RoutingStats;
  /** What /_switchyard/readyz answers; `markDraining()` before a graceful stop takes this instance out of load balancers. */
  readonly readiness: Readiness;
  /** Mount lines as logged at start-up. */
  mounts(): string[];
  reload(): Promise<ReloadOutcome>;
  setKillSwitch(on: boolean): void;
  /** This process's own kill switch (USE_LEGACY / setKillSwitch); the admin API's is in `flags`. */
  readonly killSwitch: boolean;
  /** The flag layers: runtime overrides (admin API), Unleash, and their status. */
  readonly flags: FlagEngine;
  /** The migration autopilot (also at /_switchyard/canary). */
  readonly canary: CanaryController;
  /** Response cache outcomes per route (hit/miss/stale/revalidated/bypass) and the store's state. */
  cacheStats(): CacheStatsSnapshot;
  /** Purges cached responses: `{ url }`, `{ route }`, `{ prefix }` or `{ all: true }`; resolves to the count. */
  purgeCache(request: PurgeRequest): Promise<number>;
  close(): Promise<void>;
}

/**
 * Composition root of the library: reads and validates the flags (throwing a ConfigError that
 * names every file, field and reason), builds the route table and the upstream proxies, and
 * returns the Express app and middleware. Hot reload swaps the whole snapshot atomically; a
 * request keeps the snapshot it started with, so none is dropped or half-routed.
 */
export async function createSwitchyard(options: SwitchyardOptions = {}): Promise<Switchyard> {
  const logger = options.logger ?? createConsoleLogger();
  // The same floor as the environment's SWITCHYARD_*_TOKEN (config/env-options.ts).
  const shortTokens = (['adminToken', 'viewerToken', 'overrideToken', 'metricsToken'] as const).filter((name) => {
    const token = name === 'metricsToken' ? options.metrics?.token : options[name];
    return typeof token === 'string' && token.length > 0 && token.length < MIN_TOKEN_LENGTH;
  });
  if (shortTokens.length > 0) {
    throw new ConfigError(shortTokens.map((name) => ({ file: '<options>', field: name, reason: `must be at least ${MIN_TOKEN_LENGTH} characters (a short token is guessable)` })));
  }
  const handlers = new Map(Object.entries(options.handlers ?? {}));
  const handlerNames = new Set(handlers.keys());
  const flagsDir = options.flagsDir ?? 'flags';
  const readFiles = async (): Promise<readonly FlagsFileText[]> => options.flags ?? readFlagsDir(flagsDir);

  const registry = new UpstreamRegistry(logger);
  const compile = (files: readonly FlagsFileText[]): RuntimeSnapshot | ConfigError => {
    const result = compileFlags(files, { handlerNames });
    for (const warning of result.warnings) logger.warn(warning);
    if (!result.ok) return new ConfigError(result.issues);
    return { config: result.config, table: result.table, proxies: registry.prepare(result.config.upstreams) };
  };

  const initial = compile(await readFiles());
  if (initial instanceof ConfigError) throw initial;
  const infrastructure = options.environment ?? readInfrastructureEnv(process.env);
  const placed = placeRedis(options, infrastructure.redis);
  // `outcomes: { store: null }` keeps outcomes in this process whatever the placement says.
  const placement = options.outcomes?.store === null ? { ...placed, targets: { ...placed.targets, outcomes: null } } : placed;
  const redisAt = placement.targets;
  logger.info(describePlacement(placement, ownStores(options)));
  // Read before anything else starts: a damaged rules file stops the start with nothing to clean up.
  const ignoreRuleStore = options.shadowRules?.store ?? (await createIgnoreRuleStore(redisAt.shadow, initial.config.settings.shadow, options.flags === undefined ? flagsDir : null, logger));
  const flagEngine = await createFlagEngine(options, infrastructure, redisAt.runtimeFlags, logger);
  const responseCache = createResponseCache(options.cache ?? {}, redisAt.cache, initial.config.settings.cache, logger, () => purgeContextOf(snapshot));
  registry.commit(new Map(initial.proxies));
  let snapshot: RuntimeSnapshot = initial;
  const stats = new RoutingStats();
  const stopObserving = observeUpstreams(() => registry.load());
  const stopCountingCache = responseCache.layer.stats.onCount(countCacheOutcome);

  const shadowSettings = initial.config.settings.shadow;
  // Counted on the way in: Prometheus needs this process's own counts, the store may hold every instance's.
  const shadowCounts = new ShadowCounts();
  const shadowStore = shadowCounts.wrap(
    options.shadow?.store ??
    (redisAt.shadow !== null ? new RedisShadowStore({ url: redisAt.shadow, namespace: shadowSettings.namespace, maxSamples: shadowSettings.maxSamples, commandTimeoutMs: 500 }) : new MemoryShadowStore(shadowSettings.maxSamples)),
  );
  // Outcomes per route and side: the data a canary controller and a dashboard read.
  const instance = options.outcomes?.instance ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
  const outcomes = new OutcomeRecorder({
    now: options.outcomes?.now ?? Date.now,
    random: options.outcomes?.random ?? Math.random,
    logger,
    store: options.outcomes?.store !== undefined ? options.outcomes.store : redisAt.outcomes !== null ? new RedisOutcomeStore({ url: redisAt.outcomes, namespace: shadowSettings.namespace, commandTimeoutMs: 500 }) : null,
    instance,
    ...(options.outcomes?.publishEveryMs === undefined ? {} : { publishEveryMs: options.outcomes.publishEveryMs }),
    ...(options.outcomes?.windows === undefined ? {} : { windows: options.outcomes.windows }),
  });
  outcomes.start();
  const ignoreRules = new RuntimeIgnoreRules(ignoreRuleStore);
  const newSideServer = new NewSideServer();
  const shadowTargets = new ShadowTargets(newSideServer, handlers);
  const shadowMirror = new ShadowMirror({
    store: shadowStore,
    targets: shadowTargets,
    now: options.shadow?.now ?? Date.now,
    random: options.shadow?.random ?? Math.random,
    loopUtilization: options.shadow?.loopUtilization ?? createLoopUtilization(),
    logger,
    onCompared: (route, matched) => outcomes.recordComparison(route, matched),
    rules: (route, shadow) => ignoreRules.rulesFor(route, shadow),
  });

  // Registered once, in order: whatever watches routed requests (stats, telemetry, the shadow
  // mirror, the embedding app's own) plugs in here the same way.
  const observers = new RequestObservers(logger).add(stats.observer()).add(telemetryObserver()).add(shadowMirror.observer()).add(outcomes.observer());
  for (const observer of options.observers ?? []) observers.add(observer);

  // One brake for every token, per client address and token (admin, metrics, override).
  const { now: authNow, ...authLimits } = options.authFailures ?? {};
  const credentialAttempts = new CredentialAttempts(new AuthFailureLimiter({ ...AUTH_FAILURE_DEFAULTS, ...authLimits }, authNow ?? Date.now), () => snapshot.config.settings.trustForwardedHeaders);

  const switchyardSwitch = createSwitch({
    current: () => snapshot,
    killSwitch: () => flagEngine.killSwitchOn(),
    flags: flagEngine,
    overrideToken: options.overrideToken ? Buffer.from(options.overrideToken) : null,
    credentialAttempts,
    handlers,
    stats,
    randomId: options.randomId ?? randomUUID,
    logger,
    cache: responseCache.layer,
    observers,
  });

  // The poll behind the watcher calls reload every few seconds: unchanged files cost one read and
  // a hash, and a rejected edit is logged once, not on every poll.
  let rejected: { version: string; error: ConfigError } | undefined;
  const reload = async (): Promise<ReloadOutcome> => {
    let next: RuntimeSnapshot | ConfigError;
    try {
      const files = await readFiles();
      const version = versionOf(files);
      if (version === snapshot.config.version) return { ok: true, version, changed: false };
      if (version === rejected?.version) return { ok: false, error: rejected.error };
      next = compile(files);
      if (next instanceof ConfigError) rejected = { version, error: next };
    } catch (error) {
      next = error instanceof ConfigError ? error : new ConfigError([{ file: flagsDir, field: '(reload)', reason: String(error) }]);
    }
    if (next instanceof ConfigError) {
      logger.error(`flags reload rejected; version ${snapshot.config.version} stays in force:\n${next.issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`);
      return { ok: false, error: next };
    }
    const changed = next.config.version !== snapshot.config.version;
    if (!changed) {
      registry.discard(new Map(next.proxies));
      return { ok: true, version: snapshot.config.version, changed };
    }
    registry.commit(new Map(next.proxies));
    snapshot = next;
    flagEngine.configChanged(next.config);
    logger.info(`flags reloaded: version ${next.config.version} (${next.config.routes.length} routes)`);
    return { ok: true, version: next.config.version, changed };
  };

  let reloading: Promise<unknown> = Promise.resolve();
  const stopWatching =
    options.flags === undefined && (options.watch ?? true)
      ? watchFlagsDir(flagsDir, () => {
          // Serialise reloads so two quick edits cannot apply out of order.
          reloading = reloading.then(reload);
        }, logger)
      : () => {};

  const canary = createCanary(options.canary ?? {}, { config: () => snapshot.config, flags: flagEngine, outcomes, shadow: shadowStore, logger, redis: redisAt.runtimeFlags, instance, randomId: options.randomId ?? randomUUID });
  const adminToken = options.adminToken ? Buffer.from(options.adminToken) : null;
  const viewerToken = options.viewerToken ? Buffer.from(options.viewerToken) : null;
  const uiNow = options.ui?.now ?? Date.now;
  // Sign-outs live where the runtime flags do: with Redis every instance refuses a signed-out cookie.
  const revocations = (): SessionRevocations =>
    redisAt.runtimeFlags === null
      ? new MemoryRevocations(uiNow)
      : new RedisRevocations({ url: redisAt.runtimeFlags, namespace: options.runtimeFlags?.namespace ?? infrastructure.flagsNamespace, logger, now: uiNow });
  const sessions = adminToken === null ? null : new UiSessions({ adminToken, ttlMs: options.ui?.sessionTtlMs ?? 8 * 3600_000, now: uiNow, randomId: randomUUID, revocations: revocations() });
  const events = eventsSection({
    snapshot: () => ({
      flagVersion: snapshot.config.version,
      runtimeVersion: flagEngine.store.state().version,
      killSwitch: flagEngine.killSwitchOn(),
      rulesVersion: ignoreRules.store.version(),
    }),
    onChange: (listener) => {
      const stops = [flagEngine.store.onChange(listener), ignoreRules.store.onChange(listener)];
      return () => stops.forEach((stop) => stop());
    },
    draining: () => readiness.state === 'draining',
    sessions,
  });
  const adminApi = createAdminApi({ adminToken, viewerToken, sessions }, [
    routesSection({
      config: () => snapshot.config,
      killSwitch: () => flagEngine.killSwitchOn(),
      stats,
      upstreamLoad: () => registry.load(),
      effective: (route) => flagEngine.routeState(route),
      outcomes,
    }),
    shadowSection(shadowStore, () => snapshot.config, flagEngine.store),
    flagsSection({ engine: flagEngine, config: () => snapshot.config }),
    canarySection(canary.controller),
    responseCache.adminSection(flagEngine.store),
    shadowRulesSection(ignoreRules, shadowStore, () => snapshot.config),
    events,
  ], credentialAttempts);
  const readiness = options.readiness ?? new Readiness();
  const metricsToken = options.metrics?.token;
  const processMetrics = options.metrics?.prometheus === true ? new ProcessMetrics() : null;
  const metricsEndpoint = {
    enabled: options.metrics?.prometheus ?? false,
    token: metricsToken ? Buffer.from(metricsToken) : null,
    attempts: credentialAttempts,
    collect: () => {
      const routing = stats.snapshot();
      return switchyardMetrics({
        decisions: routing.routes,
        overrides: routing.overrides,
        cache: responseCache.stats().routes,
        shadow: shadowCounts.snapshot(),
        upstreams: registry.load(),
        killSwitch: flagEngine.killSwitchOn(),
        ready: readiness.ready,
        version: packageVersion(),
        flagsVersion: snapshot.config.version,
      }).concat(processMetrics?.families() ?? []);
    },
  };
  // The admin API first, then the switch: routes can never claim paths under ADMIN_PREFIX.
  const routed = express.Router();
  // Header count, target length and the route's body limit, before anything else reads the request.
  const requestGuard = createRequestGuard(() => snapshot);
  routed.use(requestGuard.middleware);
  // Probes and metrics have no admin token (orchestrators and scrapers cannot hold one).
  routed.use((req, res, next) => {
    if (!answerProbe(req, res, readiness) && !answerMetrics(req, res, metricsEndpoint)) next();
  });
  // The dashboard's page and sign-in need no token (they are how a person gets a session).
  routed.use(`${ADMIN_PREFIX}/ui`, uiRouter({
    sessions,
    adminToken,
    viewerToken,
    attempts: credentialAttempts,
    assetsDir: options.ui?.assetsDir ?? path.join(packageRoot(), 'dist', 'ui'),
  }));
  routed.use(ADMIN_PREFIX, adminApi);
  routed.use(switchyardSwitch.middleware);

  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(routed);
  app.use((req, res) => sendProblem(res, new SwitchyardError('SWITCHYARD_NO_ROUTE', `no route for ${req.method} ${req.path}`, { status: 404 })));
  // Express's own final handler would answer HTML, with the stack trace outside production.
  app.use(((error, _req, res, _next) => answerInternalError(logger, res, error)) satisfies ErrorRequestHandler);

  const front = switchyardSwitch.front(app);

  // Bounded: the runtime store and Unleash each get a start-up wait, then we serve with what we have.
  await flagEngine.start(initial.config);
  await ignoreRules.store.start();
  canary.start();
  readiness.markReady();

  return {
    app,
    handler: requestGuard.front(front),
    checkContinue: requestGuard.checkContinue(front),
    middleware: routed,
    clientError: createClientErrorHandler(logger),
    get config() {
      return snapshot.config;
    },
    stats,
    readiness,
    mounts: () => describeMounts(snapshot.config, snapshot.table),
    reload: () => {
      const done = reloading.then(reload);
      reloading = done;
      return done;
    },
    setKillSwitch: (on) => {
      flagEngine.setProcessKillSwitch(on);
      logger.warn(`kill switch ${on ? 'ON: every route goes to legacy' : 'off'}`);
    },
    get killSwitch() {
      return flagEngine.killSwitch().env;
    },
    flags: flagEngine,
    canary: canary.controller,
    cacheStats: () => responseCache.stats(),
    purgeCache: (request) => responseCache.purge(request),
    close: async () => {
      events.closeAll();
      stopWatching();
      stopObserving();
      stopCountingCache();
      await canary.close();
      shadowTargets.close();
      processMetrics?.close();
      await newSideServer.close();
      await shadowStore.close();
      await ignoreRules.store.close();
      await outcomes.close();
      await reloading;
      await flagEngine.close();
      await sessions?.close();
      await responseCache.close();
      registry.closeAll();
    },
  };
}

/** Redis when the shadow results are there (shared); else the rules file if there is one to use; else memory. */
async function createIgnoreRuleStore(redis: RedisTarget | null, settings: ShadowSettings, flagsDir: string | null, logger: Logger): Promise<IgnoreRuleStore> {
  if (redis !== null) return new RedisIgnoreRuleStore({ url: redis, namespace: settings.namespace, logger });
  const file = settings.rulesFile === null ? null : path.isAbsolute(settings.rulesFile) ? settings.rulesFile : flagsDir === null ? null : path.join(flagsDir, settings.rulesFile);
  if (file === null) return new MemoryIgnoreRuleStore();
  logger.info(`ignore-rule decisions are kept in ${file} (this process; settings.shadow.rulesFile)`);
  return FileIgnoreRuleStore.load(file);
}

/** Features whose store the options hand over whole: REDIS_URL and `redis` do not apply to them. */
function ownStores(options: SwitchyardOptions): Set<RedisFeature> {
  const own = new Set<RedisFeature>();
  if (options.cache?.store !== undefined) own.add('cache');
  if (options.shadow?.store !== undefined) own.add('shadow');
  if (options.outcomes?.store !== undefined && options.outcomes.store !== null) own.add('outcomes');
  if (options.runtimeFlags?.store !== undefined) own.add('runtimeFlags');
  return own;
}
