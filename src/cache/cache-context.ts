import type { Logger } from '../logging/logger.js';
import type { Clock } from './cache-policy.js';
import type { CacheStats } from './cache-stats.js';
import type { GuardedStore } from './guarded-store.js';
import type { PassMemo } from './pass-memo.js';
import type { StaleReserve } from './stale-reserve.js';

/** What the cache's layers share: the store, the clocks, the counters, the hit-for-pass memo, the stale reserve. */
export interface CacheContext {
  readonly store: GuardedStore;
  readonly clock: Clock;
  /** The real time, to compare with origins' Date headers (`clock` may be virtual). */
  readonly wallClock: Clock;
  readonly logger: Logger;
  readonly stats: CacheStats;
  readonly passes: PassMemo;
  /** Last copies of shared-store entries, for when the store and legacy both fail (null: in-process store, or turned off). */
  readonly reserve: StaleReserve | null;
}
