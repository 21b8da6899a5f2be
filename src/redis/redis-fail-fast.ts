import { Redis } from 'ioredis';

/**
 * A Redis connection for results that are best effort (shadow results, outcome buckets): no
 * offline queue and one retry, so a dead or slow Redis costs each command at most
 * `commandTimeoutMs` and never piles commands up; it reconnects by itself. Errors surface per
 * command, so the connection's own 'error' events are only swallowed here.
 */
export function createFailFastRedis(url: string, commandTimeoutMs: number): Redis {
  const redis = new Redis(url, {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', () => {});
  return redis;
}
