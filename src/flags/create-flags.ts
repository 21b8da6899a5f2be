import { join } from 'node:path';
import { ConfigError, type ConfigIssue } from '../errors/switchyard-error.js';
import type { Logger } from '../logging/logger.js';
import { FlagEngine } from './flag-engine.js';
import type { FlagProvider } from './flag-provider.js';
import { MemoryRuntimeStore, type RuntimeFlagStore } from './runtime-store.js';
import { UNLEASH_DEFAULTS, defaultBackupDir, readUnleashEnv, type UnleashOptions } from './unleash-options.js';

export interface RuntimeFlagsOptions {
  /** Redis shared by every instance; default `REDIS_URL`; null: this process only. */
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

const nonEmpty = (v: string | undefined): string | null => (v === undefined || v.trim() === '' ? null : v.trim());

/**
 * Builds the flag layers from options and the environment. The Unleash client and ioredis are
 * only loaded when configured: with neither, Switchyard runs from flags/ alone.
 */
export async function createFlagEngine(options: FlagSourcesOptions, env: NodeJS.ProcessEnv, logger: Logger): Promise<FlagEngine> {
  const issues: ConfigIssue[] = [];
  let unleash: UnleashOptions | null = null;
  if (options.flagProvider === undefined || options.flagProvider === null) {
    if (options.unleash !== undefined) unleash = options.unleash;
    else {
      const fromEnv = readUnleashEnv(env);
      issues.push(...fromEnv.issues);
      unleash = fromEnv.options;
    }
  }
  const runtime = options.runtimeFlags ?? {};
  const redisUrl = runtime.redisUrl !== undefined ? runtime.redisUrl : nonEmpty(env['REDIS_URL']);
  if (runtime.store === undefined && redisUrl !== null && !/^rediss?:\/\/[^\s]*$/.test(redisUrl)) {
    issues.push({ file: runtime.redisUrl !== undefined ? '<options>' : '<env>', field: runtime.redisUrl !== undefined ? 'runtimeFlags.redisUrl' : 'REDIS_URL', reason: 'must be a redis:// or rediss:// URL' });
  }
  const namespace = runtime.namespace ?? nonEmpty(env['SWITCHYARD_FLAGS_NAMESPACE']) ?? 'switchyard';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(namespace)) issues.push({ file: '<env>', field: 'SWITCHYARD_FLAGS_NAMESPACE', reason: 'letters, digits, dot, dash, underscore (at most 64)' });
  if (issues.length > 0) throw new ConfigError(issues);

  let provider: FlagProvider | null = options.flagProvider ?? null;
  if (provider === null && unleash !== null) {
    const { UnleashFlagProvider } = await import('./unleash-provider.js');
    const backupDir = unleash.backupDir ?? nonEmpty(env['SWITCHYARD_BACKUP_DIR']) ?? defaultBackupDir();
    provider = new UnleashFlagProvider({ ...unleash, backupDir }, logger);
    logger.info(`unleash: flags from ${unleash.url} (app ${unleash.appName ?? UNLEASH_DEFAULTS.appName}, environment ${unleash.environment ?? UNLEASH_DEFAULTS.environment}, backup in ${backupDir})`);
  }

  let store: RuntimeFlagStore;
  if (runtime.store !== undefined) store = runtime.store;
  else if (redisUrl !== null) {
    const { RedisRuntimeStore } = await import('./redis-runtime-store.js');
    const backupDir = runtime.backupDir !== undefined ? runtime.backupDir : (nonEmpty(env['SWITCHYARD_BACKUP_DIR']) ?? defaultBackupDir());
    store = new RedisRuntimeStore({ url: redisUrl, namespace, logger, backupFile: backupDir === null ? null : join(backupDir, `switchyard-runtime-flags-${namespace}.json`) });
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
