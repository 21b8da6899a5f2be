import { randomUUID } from 'node:crypto';
import type { Logger } from '../logging/logger.js';
import { connectRedis, isReady, redisTargetOf, scanKeys, unlinkKeys, type RedisConnection } from '../redis/redis-connection.js';
import type { RedisTarget } from '../redis/redis-url.js';
import type { CacheStore } from './cache-store.js';
import { NearCache } from './redis-near-cache.js';

export interface RedisStoreOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  /** The per-operation limit (the GuardedStore enforces it; ioredis gets 10× as a backstop). */
  readonly commandTimeoutMs: number;
  readonly logger: Logger;
  /** Bytes of in-process copies kept coherent by Redis client tracking (redis-near-cache.ts); 0 or absent: none. Not on a Cluster. */
  readonly nearMaxBytes?: number;
}

const UNLOCK_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
const SCAN_COUNT = 1000;
const DELETE_BATCH = 500;

/**
 * The shared store (REDIS_URL). Built to fail fast and heal by itself: no offline queue (a
 * command while disconnected fails at once instead of piling up), no per-command retries, a
 * command timeout, and reconnection forever with a capped back-off, so the cache comes back
 * when Redis does. Values are binary strings with a PX expiry; locks are SET NX PX with a
 * random token, released by a compare-and-delete script. Every command and script touches one
 * key, so the layout is cluster-safe as it is; a purge scans every primary of a Cluster.
 * During a Sentinel failover commands fail until the new primary is reached: those requests
 * BYPASS the cache (GuardedStore), none fails.
 */
export class RedisStore implements CacheStore {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly redis: RedisConnection;
  private readonly near: NearCache | null;
  private lastErrorLog = 0;

  constructor(private readonly options: RedisStoreOptions) {
    const target = redisTargetOf(options.url);
    const connectTimeoutMs = Math.max(500, options.commandTimeoutMs * 5);
    const reconnectDelayMs = (attempt: number): number => Math.min(50 * 2 ** Math.min(attempt, 5), 1000);
    this.redis = connectRedis(target, {
      offlineQueue: false,
      // Commands issued in the same tick (concurrent hits) go out in one write and come back in
      // one read: a syscall pair per batch instead of per request.
      autoPipelining: true,
      maxRetriesPerRequest: 0,
      // The guard in front (GuardedStore) bounds each operation at commandTimeoutMs and counts it as a
      // timeout; ioredis' own timer only frees the command afterwards, so it must not win that race
      // (it would count as a failure, and three failures open the breaker for a merely slow Redis).
      // Nor may it fire during a stall of this process: the guard's timer reads a reply that has
      // already arrived first, ioredis' does not — with a small margin every event-loop stall
      // failed answered commands and tripped the breaker (npm run chaos). So: a 10× backstop.
      commandTimeoutMs: Math.max(1_000, options.commandTimeoutMs * 10),
      connectTimeoutMs,
      reconnectDelayMs,
    });
    const nearMaxBytes = options.nearMaxBytes ?? 0;
    this.near = nearMaxBytes > 0 && target.kind !== 'cluster' ? new NearCache({ main: this.redis, target, maxBytes: nearMaxBytes, connectTimeoutMs, reconnectDelayMs, logger: options.logger }) : null;
    this.redis.on('error', (error: Error) => {
      const now = Date.now();
      if (now - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = now;
      options.logger.warn('cache store (redis) unavailable; requests bypass the cache until it is back', { cause: error.message });
    });
    this.redis.on('ready', () => options.logger.info('cache store (redis) connected'));
  }

  /** Whether hits are served from this process's coherent copies right now (redis-near-cache.ts). */
  get nearActive(): boolean {
    return this.near?.active ?? false;
  }

  get(key: string): Promise<Buffer | null> {
    const near = this.near;
    if (near === null) return this.redis.getBuffer(key);
    const copy = near.peek(key);
    return copy !== undefined ? Promise.resolve(copy) : near.readThrough(key, () => this.redis.getBuffer(key));
  }

  /** The coherent copy of `key` when this process holds one it may trust; undefined: read Redis (`get`). */
  peek(key: string): Buffer | undefined {
    return this.near?.peek(key);
  }

  async set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    this.near?.forget(key);
    await this.redis.set(key, value, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async delete(key: string): Promise<boolean> {
    this.near?.forget(key);
    return (await this.redis.unlink(key)) > 0;
  }

  async deleteMatching(prefix: string, filter?: (key: string) => boolean): Promise<number> {
    this.near?.forgetMatching(prefix, filter);
    let deleted = 0;
    await scanKeys(this.redis, `${escapeGlob(prefix)}*`, SCAN_COUNT, async (keys) => {
      const chosen = filter === undefined ? keys : keys.filter(filter);
      for (let i = 0; i < chosen.length; i += DELETE_BATCH) deleted += await unlinkKeys(this.redis, chosen.slice(i, i + DELETE_BATCH));
    });
    return deleted;
  }

  async tryLock(key: string, ttlMs: number): Promise<string | null> {
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX');
    return ok === 'OK' ? token : null;
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.redis.eval(UNLOCK_SCRIPT, 1, key, token);
  }

  isAvailable(): boolean {
    return isReady(this.redis);
  }

  close(): Promise<void> {
    this.near?.close();
    this.redis.disconnect();
    return Promise.resolve();
  }
}

/** Escapes Redis glob metacharacters so a key prefix matches literally. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
