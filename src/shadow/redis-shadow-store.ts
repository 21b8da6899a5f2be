import type { RedisConnection } from '../redis/redis-connection.js';
import { createFailFastRedis, whenConnected } from '../redis/redis-fail-fast.js';
import type { RedisTarget } from '../redis/redis-url.js';
import { emptySkips, SKIP_REASONS, type ComparisonRecord, type RouteShadowCounts, type ShadowResultStore, type ShadowSample, type SkipReason } from './shadow-store.js';

export interface RedisShadowStoreOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  /** Key prefix shared by every instance that should add up to one view. */
  readonly namespace: string;
  readonly maxSamples: number;
  /** Per-command timeout: a slow Redis degrades results, never requests. */
  readonly commandTimeoutMs: number;
}

/**
 * Shadow results in Redis: counters in hashes (HINCRBY, so concurrent instances add up), samples
 * in a capped list. Fails fast when Redis is down (no offline queue) — the mirror logs and drops.
 *
 * Cluster-safe layout: a route's three keys share the hash tag `{route}`
 * (`<ns>:shadow:{users}:counts|fields|samples`), so one MULTI updates them together on one
 * slot; the index of routes (`<ns>:shadow:routes`) is its own key, written by its own command.
 */
export class RedisShadowStore implements ShadowResultStore {
  private readonly redis: RedisConnection;

  constructor(private readonly options: RedisShadowStoreOptions) {
    this.redis = createFailFastRedis(options.url, options.commandTimeoutMs);
  }

  private connected(): Promise<RedisConnection> {
    return whenConnected(this.redis, this.options.commandTimeoutMs);
  }

  private key(route: string, kind: 'counts' | 'fields' | 'samples'): string {
    return `${this.options.namespace}:shadow:{${route}}:${kind}`;
  }

  private get routesKey(): string {
    return `${this.options.namespace}:shadow:routes`;
  }

  async recordComparison(route: string, record: ComparisonRecord): Promise<void> {
    const redis = await this.connected();
    const m = redis.multi();
    const counts = this.key(route, 'counts');
    m.hincrby(counts, 'compared', 1);
    m.hincrby(counts, record.matched ? 'matched' : 'mismatched', 1);
    const fields = this.key(route, 'fields');
    for (const f of new Set(record.rawFields)) m.hincrby(fields, `raw ${f}`, 1);
    if (record.noiseFields !== undefined) {
      m.hincrby(counts, 'noiseSamples', 1);
      for (const f of new Set(record.noiseFields)) m.hincrby(fields, `noise ${f}`, 1);
    }
    if (record.sample !== undefined) {
      m.lpush(this.key(route, 'samples'), JSON.stringify(record.sample));
      m.ltrim(this.key(route, 'samples'), 0, this.options.maxSamples - 1);
    }
    await Promise.all([m.exec(), redis.sadd(this.routesKey, route)]);
  }

  async recordSkip(route: string, reason: SkipReason): Promise<void> {
    const redis = await this.connected();
    await Promise.all([redis.hincrby(this.key(route, 'counts'), `skip ${reason}`, 1), redis.sadd(this.routesKey, route)]);
  }

  async counts(route: string): Promise<RouteShadowCounts> {
    const redis = await this.connected();
    const [counts, fieldHash] = await Promise.all([redis.hgetall(this.key(route, 'counts')), redis.hgetall(this.key(route, 'fields'))]);
    const n = (k: string) => Number(counts[k] ?? 0);
    const skipped = emptySkips();
    for (const reason of SKIP_REASONS) skipped[reason] = n(`skip ${reason}`);
    const fields: Record<string, { raw: number; noise: number }> = {};
    for (const [k, v] of Object.entries(fieldHash)) {
      const space = k.indexOf(' ');
      const kind = k.slice(0, space) as 'raw' | 'noise';
      const field = k.slice(space + 1);
      fields[field] ??= { raw: 0, noise: 0 };
      fields[field][kind] = Number(v);
    }
    return { route, compared: n('compared'), matched: n('matched'), mismatched: n('mismatched'), noiseSamples: n('noiseSamples'), skipped, fields };
  }

  async routes(): Promise<string[]> {
    return (await (await this.connected()).smembers(this.routesKey)).sort();
  }

  async samples(route: string, limit: number): Promise<ShadowSample[]> {
    const raw = await (await this.connected()).lrange(this.key(route, 'samples'), 0, Math.max(0, limit - 1));
    return raw.map((s) => JSON.parse(s) as ShadowSample);
  }

  async reset(route: string): Promise<void> {
    const redis = await this.connected();
    await Promise.all([redis.del(this.key(route, 'counts'), this.key(route, 'fields'), this.key(route, 'samples')), redis.srem(this.routesKey, route)]);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
