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
 * One comparison in one command: a MULTI of one HINCRBY per differing field made a queue of
 * ioredis command objects per comparison that lived until Redis answered — the largest source
 * of objects promoted to V8's old space in the soak. The keys share a hash tag (cluster-safe).
 * ARGV: matched (1/0), samples kept, sample JSON or '', noise measured (1/0), n raw fields,
 * the raw fields, then the noise fields.
 */
const RECORD_SCRIPT = `
redis.call('HINCRBY', KEYS[1], 'compared', 1)
redis.call('HINCRBY', KEYS[1], ARGV[1] == '1' and 'matched' or 'mismatched', 1)
local raw = tonumber(ARGV[5])
for i = 6, 5 + raw do redis.call('HINCRBY', KEYS[2], 'raw ' .. ARGV[i], 1) end
if ARGV[4] == '1' then
  redis.call('HINCRBY', KEYS[1], 'noiseSamples', 1)
  for i = 6 + raw, #ARGV do redis.call('HINCRBY', KEYS[2], 'noise ' .. ARGV[i], 1) end
end
if ARGV[3] ~= '' then
  redis.call('LPUSH', KEYS[3], ARGV[3])
  redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
end
return 1`;

/**
 * Shadow results in Redis: counters in hashes (HINCRBY, so concurrent instances add up), samples
 * in a capped list (one script per comparison, above). Fails fast when Redis is down (no offline queue) — the mirror logs and drops.
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
    const raw = [...new Set(record.rawFields)];
    const noise = record.noiseFields === undefined ? [] : [...new Set(record.noiseFields)];
    const args = [record.matched ? '1' : '0', String(this.options.maxSamples), record.sample === undefined ? '' : JSON.stringify(record.sample), record.noiseFields === undefined ? '0' : '1', String(raw.length), ...raw, ...noise];
    await Promise.all([redis.eval(RECORD_SCRIPT, 3, this.key(route, 'counts'), this.key(route, 'fields'), this.key(route, 'samples'), ...args), redis.sadd(this.routesKey, route)]);
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
