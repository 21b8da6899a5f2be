// Where the demo keeps shared state. It never uses a Redis it did not start (the shared one on
// 127.0.0.1:6379 belongs to whoever runs it): your REDIS_URL if you set one, else a private
// redis-server on a free port, else the in-process memory stores.
import { findRedisServer, startRedis, type RedisServer } from '../test/support/redis-server.js';

export interface DemoStores {
  /** For REDIS_URL; null: memory stores. */
  readonly redisUrl: string | null;
  /** The line the demo prints about it. */
  readonly description: string;
  stop(): Promise<void>;
}

export async function demoStores(env: NodeJS.ProcessEnv): Promise<DemoStores> {
  const given = env['REDIS_URL'];
  if (given !== undefined && given !== '') return { redisUrl: given, description: `Redis at REDIS_URL=${given} (yours)`, stop: async () => {} };
  let redis: RedisServer;
  try {
    findRedisServer();
    redis = await startRedis();
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n', 1)[0] : String(error);
    return { redisUrl: null, description: `memory (in this process; no private Redis: ${why})`, stop: async () => {} };
  }
  return { redisUrl: redis.url, description: `Redis — a private redis-server on 127.0.0.1:${redis.port}, started for this demo and discarded at exit`, stop: () => redis.stop() };
}
