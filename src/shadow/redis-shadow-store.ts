import type { Redis } from 'ioredis';
import { createFailFastRedis } from '../redis/redis-fail-fast.js';
import { emptySkips, SKIP_REASONS, type ComparisonRecord, type RouteShadowCounts, type ShadowResultStore, type ShadowSample, type SkipReason } from './shadow-store.js';

export interface RedisShadowStoreOptions {
  readonly url: string;
  /** Key prefix shared by every instance that should add up to one view. */
  readonly namespace: string;
  readonly maxSamples: number;
  /** Per-command timeout: a slow Redis degrades results, never requests. */
  readonly commandTimeoutMs: number;
}

/**
 * Shadow results in Redis: counters in hashes (HINCRBY, so concurrent instances add up), samples
 * in a capped list. Fails fast when Redis is down (no offline queue) — the mirror logs and drops.
 */
export class RedisShadowStore implements ShadowResultStore {
  private readonly redis: Redis;

  constructor(private readonly options: RedisShadowStoreOptions) {
    this.redis = createFailFastRedis(options.url, options.commandTimeoutMs);
  }

  /**
   * Without an offline queue, commands sent while (re)connecting fail at once; wait for the
   * connection for at most one command timeout instead, so a start-up or a blip loses nothing
   * and an outage still costs each call a bounded wait (off the request path).
   */
  private async connected(): Promise<Redis> {
    if (this.redis.status === 'ready') return this.redis;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.options.commandTimeoutMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.redis.once('ready', done);
    });
    return this.redis;
  }

  private key(route: string, kind: 'counts' | 'fields' | 'samples'): string {
    return `${this.options.namespace}:shadow:${route}:${kind}`;
  }

  async recordComparison(route: string, record: ComparisonRecord): Promise<void> {
    const m = (await this.connected()).multi();
    m.sadd(`${this.options.namespace}:shadow:routes`, route);
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
    await m.exec();
  }

  async recordSkip(route: string, reason: SkipReason): Promise<void> {
    await (await this.connected()).multi().sadd(`${this.options.namespace}:shadow:routes`, route).hincrby(this.key(route, 'counts'), `skip ${reason}`, 1).exec();
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
    return (await (await this.connected()).smembers(`${this.options.namespace}:shadow:routes`)).sort();
  }

  async samples(route: string, limit: number): Promise<ShadowSample[]> {
    const raw = await (await this.connected()).lrange(this.key(route, 'samples'), 0, Math.max(0, limit - 1));
    return raw.map((s) => JSON.parse(s) as ShadowSample);
  }

  async reset(route: string): Promise<void> {
    await (await this.connected()).multi().del(this.key(route, 'counts'), this.key(route, 'fields'), this.key(route, 'samples')).srem(`${this.options.namespace}:shadow:routes`, route).exec();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
