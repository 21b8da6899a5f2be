import type { RedisConnection } from '../redis/redis-connection.js';
import { createFailFastRedis, whenConnected } from '../redis/redis-fail-fast.js';
import type { RedisTarget } from '../redis/redis-url.js';
import { parseBucket, type OutcomeBucket } from '../stats/outcome-bucket.js';
import type { OutcomeStore, OutcomeUpdate } from './outcome-store.js';

export interface RedisOutcomeStoreOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  readonly namespace: string;
  /** Per-command timeout: a slow Redis degrades the fleet view to this process, never a request. */
  readonly commandTimeoutMs: number;
}

/**
 * Outcome buckets in Redis: one hash per series (`{ns}:outcomes:{series}`), one field per
 * instance and slot (`{instance}@{slotStart}` → the bucket as JSON). Every command and MULTI
 * touches one key, so the layout is cluster-safe as it is. Publishing also drops this instance's fields that fell out of the
 * retention, and the key expires after it, so a dead instance's buckets go away by themselves.
 * A partial update (the usual one) writes only the slots that changed and deletes the expired
 * ones by name, without reading the hash.
 */
export class RedisOutcomeStore implements OutcomeStore {
  readonly kind = 'redis';
  private readonly redis: RedisConnection;

  constructor(private readonly options: RedisOutcomeStoreOptions) {
    this.redis = createFailFastRedis(options.url, options.commandTimeoutMs);
  }

  private key(series: string): string {
    return `${this.options.namespace}:outcomes:${series}`;
  }

  async publish(instance: string, series: string, update: OutcomeUpdate, retentionMs: number): Promise<boolean> {
    const key = this.key(series);
    const field = (start: number) => `${instance}@${start}`;
    const fields: string[] = [];
    for (const bucket of update.buckets) fields.push(field(bucket.start), JSON.stringify(bucket));
    const redis = await whenConnected(this.redis, this.options.commandTimeoutMs);
    const removed = update.expired.map(field);
    if (update.complete) {
      // Only a complete publish reads the hash back: it holds every instance's fields.
      const kept = new Set(update.buckets.map((b) => field(b.start)));
      removed.push(...(await redis.hkeys(key)).filter((f) => f.startsWith(`${instance}@`) && !kept.has(f)));
    }
    const multi = redis.multi().exists(key);
    if (fields.length > 0) multi.hset(key, ...fields);
    if (removed.length > 0) multi.hdel(key, ...removed);
    multi.pexpire(key, retentionMs);
    const replies = await multi.exec();
    const existed = replies?.[0];
    if (existed === undefined || existed[0] !== null) throw existed?.[0] ?? new Error('outcome publish: MULTI was discarded');
    return existed[1] === 1;
  }

  async read(series: string): Promise<{ instance: string; bucket: OutcomeBucket }[]> {
    const all = await (await whenConnected(this.redis, this.options.commandTimeoutMs)).hgetall(this.key(series));
    const out: { instance: string; bucket: OutcomeBucket }[] = [];
    for (const [field, value] of Object.entries(all)) {
      const at = field.lastIndexOf('@');
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        continue;
      }
      const bucket = parseBucket(parsed);
      if (at > 0 && bucket !== null) out.push({ instance: field.slice(0, at), bucket });
    }
    return out;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    return Promise.resolve();
  }
}
