import { join } from 'node:path';
import type { InfrastructureEnv } from '../config/infrastructure-env.js';
import { ConfigError } from '../errors/switchyard-error.js';
import type { RedisTarget } from '../redis/redis-url.js';
import type { Logger } from '../logging/logger.js';
import { FlagEngine } from './flag-engine.js';
import type { FlagProvider } from './flag-provider.js';
import { MemoryRuntimeStore, type RuntimeFlagStore } from './runtime-store.js';
import { UNLEASH_DEFAULTS, defaultBackupDir, type UnleashOptions } from './unleash-options.js';

export interface RuntimeFlagsOptions {
  /** Redis shared by every instance; default the top-level `redis` (README "Shared state"); null: this process only. */
  readonly redisUrl?: string | null;
  /** Key/channel prefix: `${namespace}:flags:…` (default SWITCHYARD_FLAGS_NAMESPACE, else `switchyard`). */
  readonly namespace?: string;
  /** Directory for the last known runtime state (read when Redis is down at start-up); default SWITCHYARD_BACKUP_DIR, else the OS temp dir; null: none. */
  readonly backupDir?: string | null;
  /** Longest start-up wait for Redis (default 3000 ms). */
  readonly startupTimeoutMs?: number;
  /** Your own store (tests, embedding); wins over `redisUrl`. */
  readonly store?: RuntimeFlagStore;
}

export interface FlagSourcesOptions {
  /** Unleash; default from UNLEASH_* (UNLEASH_URL turns it on); null: off. */
  readonly unleash?: UnleashOptions | null;
  /** Any flag provider (e.g. InMemoryFlagProvider); wins over `unleash`. */
  readonly flagProvider?: FlagProvider | null;
  readonly runtimeFlags?: RuntimeFlagsOptions;
  /** USE_LEGACY: this process's kill switch at start. */
  readonly useLegacy?: boolean;
}

/**
 * Builds the flag layers from options and the environment read at start-up (`infrastructure`);
 * `redis` is where runtime changes are shared (already placed: config/redis-placement.ts). The
 * Unleash client and ioredis are only loaded when configured: with neither, Switchyard runs
 * from flags/ alone.
 */
export async function createFlagEngine(options: FlagSourcesOptions, infrastructure: InfrastructureEnv, redis: RedisTarget | null, logger: Logger): Promise<FlagEngine> {
  const unleash: UnleashOptions | null = options.flagProvider !== undefined && options.flagProvider !== null ? null : options.unleash !== undefined ? options.unleash : infrastructure.unleash;
  const runtime = options.runtimeFlags ?? {};
  const namespace = runtime.namespace ?? infrastructure.flagsNamespace;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) throw new ConfigError([{ file: '<options>', field: 'runtimeFlags.namespace', reason: 'letters, digits, dot, dash, underscore (at most 64)' }]);

  let provider: FlagProvider | null = options.flagProvider ?? null;
  if (provider === null && unleash !== null) {
    const { UnleashFlagProvider } = await import('./unleash-provider.js');
    const backupDir = unleash.backupDir ?? infrastructure.backupDir ?? defaultBackupDir();
    provider = new UnleashFlagProvider({ ...unleash, backupDir }, logger);
    logger.info(`unleash: flags from ${unleash.url} (app ${unleash.appName ?? UNLEASH_DEFAULTS.appName}, environment ${unleash.environment ?? UNLEASH_DEFAULTS.environment}, backup in ${backupDir})`);
  }

  let store: RuntimeFlagStore;
  if (runtime.store !== undefined) store = runtime.store;
  else if (redis !== null) {
    const { RedisRuntimeStore } = await import('./redis-runtime-store.js');
    const backupDir = runtime.backupDir !== undefined ? runtime.backupDir : (infrastructure.backupDir ?? defaultBackupDir());
    store = new RedisRuntimeStore({ url: redis, namespace, logger, backupFile: backupDir === null ? null : join(backupDir, `switchyard-runtime-flags-${namespace}.json`) });
  } else store = new MemoryRuntimeStore();

  return new FlagEngine({
    provider,
    store,
    logger,
    providerStartupTimeoutMs: unleash?.startupTimeoutMs ?? UNLEASH_DEFAULTS.startupTimeoutMs,
    storeStartupTimeoutMs: runtime.startupTimeoutMs ?? 3000,
    useLegacy: options.useLegacy ?? false,
  });
}
