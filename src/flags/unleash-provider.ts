import { mkdirSync } from 'node:fs';
import { Unleash, type Context as UnleashContext } from 'unleash-client';
import type { Side } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import type { FlagAnswer } from '../routing/routing-decision.js';
import type { FlagContext } from './flag-context.js';
import type { FlagDescription, FlagProvider, FlagProviderStatus, ProviderState } from './flag-provider.js';
import { UNLEASH_DEFAULTS, defaultBackupDir, type UnleashOptions } from './unleash-options.js';

type Definition = NonNullable<ReturnType<Unleash['getFeatureToggleDefinition']>>;

const LEGACY: FlagAnswer = Object.freeze({ side: 'legacy' });
const NEW: FlagAnswer = Object.freeze({ side: 'new' });
const ERROR_LOG_EVERY_MS = 60_000;

/**
 * Unleash as a flag provider, through unleash-client: the route's flag is evaluated with the
 * request's context, so Unleash's strategies (flexibleRollout with stickiness and groupId, userId
 * lists, constraints, segments) and variants decide. The client keeps the last flags it fetched
 * in memory and in its backup file (`backupDir`), which it reads at start-up: an outage never
 * changes a decision, and a restart during one serves the same flags.
 *
 * A flag that is on picks `new`, unless its variant is named `legacy`/`new` (or carries that
 * as its payload), which then picks the side. A flag that is off, or whose strategies do not
 * match the request, picks `legacy`. A flag that does not exist gives no answer (flags/ decides).
 */
export class UnleashFlagProvider implements FlagProvider {
  readonly kind = 'unleash';
  private readonly client: Unleash;
  private hasState = false;
  private synchronized = false;
  private lastPollOk = false;
  private lastSyncAt: string | null = null;
  private lastError: string | null = null;
  private lastErrorLog = 0;
  private impressions = 0;
  private definitions = new Map<string, { def: Definition; json: string; seenAt: string }>();
  private readonly listeners = new Set<() => void>();
  private readonly syncWaiters = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly options: UnleashOptions,
    private readonly logger: Logger,
  ) {
    const backupDir = options.backupDir ?? defaultBackupDir();
    try {
      mkdirSync(backupDir, { recursive: true });
    } catch (error) {
      logger.warn(`unleash: cannot create the backup directory ${backupDir}: ${String(error)}`);
    }
    this.client = new Unleash({
      url: options.url,
      appName: options.appName ?? UNLEASH_DEFAULTS.appName,
      environment: options.environment ?? UNLEASH_DEFAULTS.environment,
      ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
      refreshInterval: options.refreshIntervalMs ?? UNLEASH_DEFAULTS.refreshIntervalMs,
      metricsInterval: options.metricsIntervalMs ?? UNLEASH_DEFAULTS.metricsIntervalMs,
      disableMetrics: !(options.metrics ?? UNLEASH_DEFAULTS.metrics),
      backupPath: backupDir,
      timeout: options.requestTimeoutMs ?? UNLEASH_DEFAULTS.requestTimeoutMs,
      ...(options.apiToken ? { customHeaders: { Authorization: options.apiToken } } : {}),
      skipInstanceCountWarning: true,
    });
    // The backup file (or the first fetch) gives the client state.
    this.client.on('ready', () => this.gotState());
    // A fetch that brought (new) flags; the first one is the first answer from the server.
    this.client.on('changed', () => {
      this.polled();
      this.synchronized = true;
      this.gotState();
      for (const wake of this.syncWaiters) wake();
    });
    this.client.on('unchanged', () => this.polled());
    this.client.on('error', (error: unknown) => this.failed(error));
    this.client.on('warn', (message: unknown) => logger.debug(`unleash: ${String(message)}`));
    if (options.impressions ?? UNLEASH_DEFAULTS.impressions) {
      this.client.on('impression', (event: Readonly<Record<string, unknown>>) => {
        this.impressions++;
        logger.debug('unleash impression', { featureName: event['featureName'], enabled: event['enabled'], variant: event['variant'], eventType: event['eventType'] });
        options.onImpression?.(event);
      });
    }
  }

  evaluate(flag: string, context: FlagContext): FlagAnswer | null {
    if (!this.hasState || !this.definitions.has(flag)) return null;
    try {
      // getVariant evaluates the flag once (and counts it, and its variant, in Unleash's metrics).
      const variant = this.client.getVariant(flag, toUnleashContext(context));
      if (!(variant.feature_enabled ?? variant.featureEnabled)) return LEGACY;
      const side = variant.enabled ? sideOfVariant(variant.name, variant.payload?.value) : null;
      return side === null ? NEW : { side, variant: variant.name };
    } catch (error) {
      this.failed(error);
      return null;
    }
  }

  describe(flag: string): FlagDescription | null {
    const entry = this.definitions.get(flag);
    return entry === undefined ? null : describeDefinition(entry.def, entry.seenAt);
  }

  /** Names of the flags Unleash knows (from its last state). */
  flagNames(): readonly string[] {
    return [...this.definitions.keys()];
  }

  knows(flag: string): boolean {
    return this.definitions.has(flag);
  }

  hasAnyState(): boolean {
    return this.hasState;
  }

  status(): FlagProviderStatus {
    let state: ProviderState = 'none';
    if (this.hasState) state = this.synchronized ? (this.lastPollOk ? 'synchronized' : 'stale') : 'backup';
    return {
      kind: this.kind,
      state,
      lastSyncAt: this.lastSyncAt,
      lastError: this.lastError,
      details: {
        url: this.options.url,
        appName: this.options.appName ?? UNLEASH_DEFAULTS.appName,
        environment: this.options.environment ?? UNLEASH_DEFAULTS.environment,
        refreshIntervalMs: this.options.refreshIntervalMs ?? UNLEASH_DEFAULTS.refreshIntervalMs,
        backupDir: this.options.backupDir ?? defaultBackupDir(),
        metrics: this.options.metrics ?? UNLEASH_DEFAULTS.metrics,
        impressions: this.options.impressions ?? UNLEASH_DEFAULTS.impressions,
        impressionEvents: this.impressions,
        flags: this.definitions.size,
      },
    };
  }

  ready(timeoutMs: number): Promise<boolean> {
    if (this.synchronized) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (answered: boolean): void => {
        clearTimeout(timer);
        this.syncWaiters.delete(wake);
        resolve(answered);
      };
      const wake = (): void => done(true);
      const timer = setTimeout(() => done(this.synchronized), timeoutMs);
      timer.unref();
      this.syncWaiters.add(wake);
    });
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    for (const wake of this.syncWaiters) wake();
    if (this.options.metrics ?? UNLEASH_DEFAULTS.metrics) {
      // Send the last metrics, but never wait long on an Unleash that is down.
      const flushed = this.client.flushMetrics().catch(() => {});
      await Promise.race([flushed, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    this.client.destroy();
    // destroy() removes the repository's listeners, but a fetch already in flight (the client
    // retries a refused connection for ~3 s) still reports its failure through it: with no
    // 'error' listener left that throws inside the client and surfaces as an unhandled rejection.
    const repository = (this.client as unknown as { repository?: { on?: (event: string, listener: () => void) => void } }).repository;
    repository?.on?.('error', () => {});
  }

  private polled(): void {
    const recovered = this.lastError !== null && this.synchronized;
    this.lastPollOk = true;
    this.lastSyncAt = new Date().toISOString();
    this.lastError = null;
    if (recovered) this.logger.info(`unleash: ${this.options.url} answers again`);
  }

  private failed(error: unknown): void {
    this.lastPollOk = false;
    this.lastError = error instanceof Error ? error.message : String(error);
    const now = Date.now();
    if (!this.closed && now - this.lastErrorLog > ERROR_LOG_EVERY_MS) {
      this.lastErrorLog = now;
      const serving = this.hasState ? 'the last known flags stay in force' : 'no Unleash state yet: routes use their flags/ modes';
      this.logger.warn(`unleash: ${this.lastError} (${serving})`);
    }
  }

  private gotState(): void {
    const first = !this.hasState;
    this.hasState = true;
    this.snapshot(first);
  }

  /** Keeps our own map of the client's flags (missing-flag checks, descriptions, seen-at times). */
  private snapshot(notify = false): void {
    const now = new Date().toISOString();
    const next = new Map<string, { def: Definition; json: string; seenAt: string }>();
    for (const def of this.client.getFeatureToggleDefinitions()) {
      const json = JSON.stringify(def);
      const previous = this.definitions.get(def.name);
      next.set(def.name, { def, json, seenAt: previous !== undefined && previous.json === json ? previous.seenAt : now });
    }
    const changed = notify || next.size !== this.definitions.size || [...next].some(([name, e]) => this.definitions.get(name)?.json !== e.json);
    this.definitions = next;
    if (changed) for (const listener of this.listeners) listener();
  }
}

function toUnleashContext(context: FlagContext): UnleashContext {
  const c: UnleashContext = { properties: { ...context.properties } };
  if (context.userId !== undefined) c.userId = context.userId;
  if (context.sessionId !== undefined) c.sessionId = context.sessionId;
  if (context.remoteAddress !== undefined) c.remoteAddress = context.remoteAddress;
  return c;
}

/** A variant named `legacy`/`new`, or whose payload is that word, picks the side. */
export function sideOfVariant(name: string, payload: string | undefined): Side | null {
  for (const candidate of [name, payload]) {
    const v = candidate?.trim().toLowerCase();
    if (v === 'legacy' || v === 'new') return v;
  }
  return null;
}

/** What a flag definition amounts to, for people: off, on for all, one plain percentage, or "strategies". */
export function describeDefinition(def: Definition, seenAt: string | null): FlagDescription {
  const strategies = (def.strategies ?? []).map((s) => s.name);
  if (!def.enabled) return { mode: 'legacy', enabled: false, strategies, seenAt };
  const plain = (def.variants ?? []).length === 0 && (def.dependencies ?? []).length === 0;
  const only = def.strategies?.length === 1 ? def.strategies[0] : undefined;
  if (plain && strategies.length === 0) return { mode: 'new', enabled: true, strategies, seenAt };
  if (plain && only !== undefined && (only.constraints ?? []).length === 0 && (only.segments ?? []).length === 0 && (only.variants ?? []).length === 0) {
    if (only.name === 'default') return { mode: 'new', enabled: true, strategies, seenAt };
    const rollout = Number(only.parameters['rollout']);
    if (only.name === 'flexibleRollout' && Number.isFinite(rollout)) {
      if (rollout >= 100) return { mode: 'new', percentage: 100, enabled: true, strategies, seenAt };
      return { mode: 'rollout', percentage: rollout, enabled: true, strategies, seenAt };
    }
  }
  return { mode: 'strategies', enabled: true, strategies, seenAt };
}
