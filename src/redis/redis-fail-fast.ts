import { connectRedis, type RedisConnection } from './redis-connection.js';
import type { RedisTarget } from './redis-url.js';

/**
 * A Redis connection for results that are best effort (shadow results, outcome buckets): no
 * offline queue and one retry, so a dead or slow Redis costs each command at most
 * `commandTimeoutMs` and never piles commands up; it reconnects by itself (on Sentinel: to
 * whichever node is primary now). Errors surface per command, so the connection's own 'error'
 * events are only swallowed here.
 */
export function createFailFastRedis(address: string | RedisTarget, commandTimeoutMs: number): RedisConnection {
  const redis = connectRedis(address, {
    offlineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeoutMs,
    connectTimeoutMs: Math.max(1000, commandTimeoutMs * 4),
    reconnectDelayMs: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', () => {});
  return redis;
}

/** One wait per connection, however many commands are waiting (no listener per command). */
const waiting = new WeakMap<RedisConnection, Promise<void>>();

/**
 * Without an offline queue, commands sent while (re)connecting fail at once; wait for the
 * connection for at most `timeoutMs` instead, so a start-up or a failover loses nothing and an
 * outage still costs each call a bounded wait (off the request path).
 */
export async function whenConnected(redis: RedisConnection, timeoutMs: number): Promise<RedisConnection> {
  if (redis.status === 'ready') return redis;
  let wait = waiting.get(redis);
  if (wait === undefined) {
    wait = new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done(): void {
        clearTimeout(timer);
        redis.off('ready', done);
        waiting.delete(redis);
        resolve();
      }
      redis.once('ready', done);
    });
    waiting.set(redis, wait);
  }
  await wait;
  return redis;
}
