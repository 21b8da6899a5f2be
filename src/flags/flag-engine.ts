import type { FlagsConfig, RouteConfig, RouteMode, Settings } from '../config/types.js';
import type { Logger } from '../logging/logger.js';
import type { FlagAnswer, RoutingDecision, RuntimeRouteMode } from '../routing/routing-decision.js';
import { consultsFlags, winningLayer } from '../routing/flag-precedence.js';
import { flagContextOf, type FlagRequest } from './flag-context.js';
import type { FlagDescription, FlagProvider, FlagProviderStatus } from './flag-provider.js';
import type { AuditValue, ChangeMeta, ChangeOutcome, FlagSourceKind, KillSwitchState, RouteOverride, RuntimeFlagStore, RuntimeStoreStatus } from './runtime-store.js';

/** What the decision needs from the flag layers for one request. */
export interface RouteFlagInputs {
  readonly runtime: RuntimeRouteMode | null;
  readonly flag: (() => FlagAnswer | null) | null;
}

/** The layer that decides a route when no request-specific rule (tester override) applies. */
export type EffectiveRule = 'kill_switch' | 'only_side' | 'pinned' | 'runtime_override' | 'unleash' | 'file';

export interface EffectiveRouteState {
  readonly name: string;
  readonly path: string;
  readonly flag: string;
  /** `strategies`: Unleash strategies that only a request can resolve (constraints, segments, variants…). */
  readonly mode: RouteMode | 'strategies';
  readonly percentage: number | null;
  readonly source: FlagSourceKind | 'env';
  readonly rule: EffectiveRule;
  /** Who set what is in force, and when (the admin, `unleash`, or the flags file). */
  readonly by: string | null;
  readonly at: string | null;
  readonly reason: string | null;
  readonly pinned: boolean;
  readonly sides: { readonly legacy: boolean; readonly new: boolean };
  readonly layers: {
    readonly override: RouteOverride | null;
    /** null: no flag provider; `missing`: the provider has state but no such flag. */
    readonly unleash: FlagDescription | 'missing' | 'no-state' | null;
    readonly file: { readonly mode: RouteMode; readonly percentage: number | null; readonly file: string };
  };
}

export interface FlagEngineOptions {
  readonly provider: FlagProvider | null;
  readonly store: RuntimeFlagStore;
  readonly logger: Logger;
  /** Bounded start-up wait for the provider's first answer. */
  readonly providerStartupTimeoutMs: number;
  /** Bounded start-up wait for the runtime store. */
  readonly storeStartupTimeoutMs: number;
  /** USE_LEGACY: this process's kill switch at start (default off). */
  readonly useLegacy?: boolean;
}

export interface KillSwitchView {
  /** true: every route with a legacy side goes to legacy. */
  readonly effective: boolean;
  /** USE_LEGACY / setKillSwitch: this process's own, which always wins. */
  readonly env: boolean;
  /** The admin API's (shared through Redis), as stored, also when off; null: never set. */
  readonly runtime: KillSwitchState | null;
}

/** A route Unleash (or another provider) decides: it has both sides and is not pinned. */

/**
 * The flag layers between the kill switch and the flags/ files: runtime overrides (admin API,
 * shared through Redis) above the flag provider (Unleash) above flags/. The decision itself stays
 * in routing-decision.ts; this composes its inputs and explains the effective state.
 */
export class FlagEngine {
  private reportedMissing = '';
  private config: FlagsConfig | null = null;
  private configLoadedAt = new Date().toISOString();
  private readonly unsubscribe: (() => void)[] = [];
  private processKill: boolean;

  constructor(private readonly options: FlagEngineOptions) {
    this.processKill = options.useLegacy ?? false;
  }

  get provider(): FlagProvider | null {
    return this.options.provider;
  }

  get store(): RuntimeFlagStore {
    return this.options.store;
  }

  /** Loads the runtime state and waits (bounded) for the provider; then reports routes whose flag is missing. Never throws, never waits forever. */
  async start(config: FlagsConfig): Promise<void> {
    this.config = config;
    const { provider, store, logger } = this.options;
    const waits: Promise<unknown>[] = [store.start(this.options.storeStartupTimeoutMs)];
    if (provider !== null) {
      const startedAt = Date.now();
      waits.push(
        provider.ready(this.options.providerStartupTimeoutMs).then((answered) => {
          const status = provider.status();
          if (answered) logger.info(`${provider.kind}: flags loaded (${Date.now() - startedAt} ms)`);
          else if (status.state === 'backup') logger.warn(`${provider.kind}: no answer within ${this.options.providerStartupTimeoutMs} ms${status.lastError ? ` (${status.lastError})` : ''}; serving its last known flags from the backup file until it answers`);
          else logger.warn(`${provider.kind}: no answer within ${this.options.providerStartupTimeoutMs} ms${status.lastError ? ` (${status.lastError})` : ''} and no backup; every route uses its flags/ mode until it answers`);
        }),
      );
      this.unsubscribe.push(provider.onChange(() => this.reportMissing()));
    }
    if (!store.shared) logger.info('runtime flags: no REDIS_URL; admin API changes apply to this process only');
    await Promise.all(waits);
    this.reportMissing();
  }

  /** After a flags/ reload: routes and flag names may have changed. */
  configChanged(config: FlagsConfig): void {
    this.config = config;
    this.configLoadedAt = new Date().toISOString();
    this.reportMissing();
  }

  /** The admin API's kill switch when it is on (shared through Redis), else null. */
  runtimeKillSwitch(): KillSwitchState | null {
    const k = this.options.store.state().killSwitch;
    return k !== null && k.on ? k : null;
  }

  /**
   * Either kill switch is on: this process's (USE_LEGACY / setKillSwitch) or the admin API's.
   * The one place the two are combined; read on every request (no allocation, no I/O).
   */
  killSwitchOn(): boolean {
    return this.processKill || this.options.store.state().killSwitch?.on === true;
  }

  /** Both kill switches, for the admin API and metrics. */
  killSwitch(): KillSwitchView {
    return { effective: this.killSwitchOn(), env: this.processKill, runtime: this.options.store.state().killSwitch };
  }

  /** USE_LEGACY at run time (`switchyard.setKillSwitch`): this process only, and it always wins. */
  setProcessKillSwitch(on: boolean): void {
    this.processKill = on;
  }

  /** The inputs of one request's decision. The provider is only asked if the decision gets that far. */
  inputsFor(route: RouteConfig, req: FlagRequest, settings: Settings): RouteFlagInputs {
    const override = this.options.store.state().routes.get(route.name);
    const provider = this.options.provider;
    return {
      runtime: override ?? null,
      flag: provider === null ? null : () => provider.evaluate(route.flag, flagContextOf(req, route, settings)),
    };
  }

  /** The flag source a decision came from (telemetry's switchyard.flag.source). */
  sourceOf(decision: RoutingDecision): FlagSourceKind {
    if (decision.reason === 'runtime_override') return 'override';
    if (decision.reason === 'unleash') return 'unleash';
    if (decision.reason === 'kill_switch' && this.runtimeKillSwitch() !== null) return 'override';
    return 'file';
  }

  /** Routes whose flag the provider does not have (only when it has state: with none, every route uses flags/ anyway). */
  missingFlags(config: FlagsConfig = this.requireConfig()): { route: string; flag: string }[] {
    const provider = this.options.provider;
    if (provider === null || provider.status().state === 'none') return [];
    return config.routes.filter((r) => consultsFlags(r) && provider.describe(r.flag) === null).map((r) => ({ route: r.name, flag: r.flag }));
  }

  /** What a route amounts to with no request at hand (no tester override): the admin API's view, from the same precedence as `decideRoute`. */
  routeState(route: RouteConfig): EffectiveRouteState {
    const override = this.options.store.state().routes.get(route.name) ?? null;
    const provider = this.options.provider;
    const described: EffectiveRouteState['layers']['unleash'] = provider === null ? null : (provider.describe(route.flag) ?? (provider.status().state === 'none' ? 'no-state' : 'missing'));
    const filePercentage = route.mode === 'rollout' ? route.rollout.percentage : null;
    const base = { name: route.name, path: route.path, flag: route.flag, pinned: route.pinned, sides: { legacy: route.legacy !== null, new: route.new !== null }, layers: { override, unleash: described, file: { mode: route.mode, percentage: filePercentage, file: route.file } } };
    const state = (mode: EffectiveRouteState['mode'], percentage: number | null, rule: EffectiveRule, source: EffectiveRouteState['source'], meta: Partial<ChangeMeta>): EffectiveRouteState => ({
      ...base,
      mode,
      percentage,
      rule,
      source,
      by: meta.by ?? null,
      at: meta.at ?? null,
      reason: meta.reason ?? null,
    });
    const layer = winningLayer({ route, killSwitch: this.killSwitchOn(), testerOverride: null, runtime: override, unleash: () => (typeof described === 'object' ? described : null) });
    switch (layer.rule) {
      case 'only_side':
        return state(layer.side, null, 'only_side', 'file', this.fileMeta(route));
      case 'kill_switch': {
        const runtime = this.runtimeKillSwitch();
        return this.processKill || runtime === null ? state('legacy', null, 'kill_switch', 'env', {}) : state('legacy', null, 'kill_switch', 'override', runtime);
      }
      case 'pinned':
        return state('legacy', null, 'pinned', 'file', this.fileMeta(route));
      case 'tester_override': // never: the admin view has no request
      case 'file':
        return state(route.mode, filePercentage, 'file', 'file', this.fileMeta(route));
      case 'runtime_override':
        return state(layer.runtime.mode, layer.runtime.mode === 'rollout' ? layer.runtime.percentage : null, 'runtime_override', 'override', override ?? {});
      case 'unleash':
        return state(layer.answer.mode, layer.answer.percentage ?? null, 'unleash', 'unleash', { by: 'unleash', at: layer.answer.seenAt ?? undefined });
    }
  }

  /** A route's setting without its runtime override: what a clear goes back to, and what a first override replaces. */
  fallbackValue(route: RouteConfig): AuditValue {
    const described = this.options.provider?.describe(route.flag) ?? null;
    if (described !== null) return { mode: described.mode, ...(described.percentage === undefined ? {} : { percentage: described.percentage }), source: 'unleash' };
    return { mode: route.mode, ...(route.mode === 'rollout' ? { percentage: route.rollout.percentage } : {}), source: 'file' };
  }

  setRoute(route: RouteConfig, set: RuntimeRouteMode | null, meta: ChangeMeta): Promise<ChangeOutcome> {
    return this.options.store.apply({ target: 'route', route: route.name, set, meta, fallback: this.fallbackValue(route) });
  }

  setKillSwitch(on: boolean, meta: ChangeMeta): Promise<ChangeOutcome> {
    return this.options.store.apply({ target: 'killSwitch', on, meta });
  }

  status(): { provider: FlagProviderStatus | null; store: RuntimeStoreStatus } {
    return { provider: this.options.provider?.status() ?? null, store: this.options.store.status() };
  }

  async close(): Promise<void> {
    for (const u of this.unsubscribe.splice(0)) u();
    await Promise.all([this.options.provider?.close(), this.options.store.close()]);
  }

  private fileMeta(route: RouteConfig): { by: string; at: string } {
    return { by: `file:${route.file}`, at: this.configLoadedAt };
  }

  private requireConfig(): FlagsConfig {
    if (this.config === null) throw new Error('FlagEngine.start() has not been called');
    return this.config;
  }

  /** Logs the routes whose flag is missing whenever that list changes (start-up, provider changes, reloads). */
  private reportMissing(): void {
    const provider = this.options.provider;
    if (provider === null || this.config === null) return;
    const missing = this.missingFlags(this.config);
    const key = missing.map((m) => `${m.route}=${m.flag}`).join(',');
    if (key === this.reportedMissing) return;
    this.reportedMissing = key;
    if (missing.length === 0) {
      if (provider.status().state !== 'none') this.options.logger.info(`${provider.kind}: every route that can switch has its flag`);
      return;
    }
    this.options.logger.warn(
      `${provider.kind}: ${missing.length} route${missing.length === 1 ? ' has' : 's have'} no flag there and use${missing.length === 1 ? 's' : ''} ${missing.length === 1 ? 'its' : 'their'} flags/ mode: ${missing.map((m) => `${m.route} (flag \`${m.flag}\`)`).join(', ')}`,
    );
  }
}
