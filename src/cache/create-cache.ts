import type { CacheSettings, FlagsConfig } from '../config/types.js';
import type { RouteTable } from '../routing/route-table.js';
import type { RedisTarget } from '../redis/redis-url.js';
import type { Logger } from '../logging/logger.js';
import { cacheSection, type CacheAdminView } from './cache-admin.js';
import type { AdminSection } from '../admin/admin-api.js';
import type { Clock } from './cache-policy.js';
import type { PurgeContext, PurgeRequest } from './cache-purge.js';
import { resolvePurge } from './cache-purge.js';
import type { CacheCounts } from './cache-stats.js';
import type { CacheStore } from './cache-store.js';
import { GuardedStore } from './guarded-store.js';
import { HttpCache } from './http-cache.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

/** `createSwitchyard({ cache })`: where entries live, and the clock they are judged by. */
export interface ResponseCacheOptions {
  /** Redis for a cache shared by every instance; default the top-level `redis` (README "Shared state"); null forces the in-memory store. */
  readonly redisUrl?: string | null;
  /** Your own store (e.g. in tests); wins over `redisUrl`. */
  readonly store?: CacheStore;
  /** Time source for freshness and TTLs (ms); default Date.now. */
  readonly clock?: Clock;
}

export interface CacheStatsSnapshot {
  readonly routes: Record<string, CacheCounts>;
  readonly store: { kind: string; available: boolean; failures: number; timeouts: number; circuitOpen: boolean; nearCopies: boolean };
}

export interface ResponseCache {
  readonly layer: HttpCache;
  /** `/_switchyard/cache` in the admin API (purge, stats); purges are recorded in `audit`. */
  adminSection(audit: CacheAdminView['audit']): AdminSection;
  stats(): CacheStatsSnapshot;
  purge(request: PurgeRequest): Promise<number>;
  close(): Promise<void>;
}

/**
 * Builds the cache: in `redis` (already placed and validated: config/redis-placement.ts) when
 * given, else the embedded memory store bounded by `settings.cache.memoryMaxBytes`.
 */
export function createResponseCache(options: ResponseCacheOptions, redis: RedisTarget | null, settings: CacheSettings, logger: Logger, context: () => PurgeContext): ResponseCache {
  const clock = options.clock ?? Date.now;
  const inner = options.store ?? (redis !== null ? new RedisStore({ url: redis, commandTimeoutMs: settings.operationTimeoutMs, logger, nearMaxBytes: settings.nearMaxBytes }) : new MemoryStore(settings.memoryMaxBytes, clock));
  const store = new GuardedStore(inner, { timeoutMs: settings.operationTimeoutMs, logger });
  const layer = new HttpCache({ store, clock, logger, reserveMaxBytes: settings.reserveMaxBytes });
  const stats = (): CacheStatsSnapshot => ({ routes: layer.stats.snapshot(), store: store.stats() });
  const purge = async (request: PurgeRequest): Promise<number> => {
    const resolved = resolvePurge(request, context());
    if (!resolved.ok) throw new Error(resolved.reason);
    return layer.purge(resolved.scope.prefix, resolved.scope.filter);
  };
  const adminSection = (audit: CacheAdminView['audit']): AdminSection => cacheSection({ context, purge: (scope) => layer.purge(scope.prefix, scope.filter), stats, audit });
  return { layer, adminSection, stats, purge, close: () => layer.close() };
}

/** What the purge API needs from the configuration in force. */
export function purgeContextOf(snapshot: { readonly config: FlagsConfig; readonly table: RouteTable }): PurgeContext {
  return {
    settings: snapshot.config.settings.cache,
    routeNames: new Set(snapshot.config.routes.map((r) => r.name)),
    routeFor: (path) => {
      const match = snapshot.table.match('GET', path);
      return match.kind === 'matched' ? match.route.config.name : null;
    },
  };
}
