import type { Logger } from '../logging/logger.js';
import type { RedisConnection } from '../redis/redis-connection.js';
import { createFailFastRedis, whenConnected } from '../redis/redis-fail-fast.js';
import type { RedisTarget } from '../redis/redis-url.js';
import { MemoryRevocations, type SessionRevocations } from './session-revocations.js';

export interface RedisRevocationsOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  /** Keys `<namespace>:ui:revoked:<session id>`, each expiring when its session would have. */
  readonly namespace: string;
  readonly logger: Logger;
  readonly now: () => number;
  readonly commandTimeoutMs?: number;
}

/**
 * Signed-out sessions shared by every instance through Redis: one key per session id, expiring
 * with the session (single-key commands: cluster-safe, nothing to clean up). Each check asks
 * Redis, so a cookie signed out on one instance is refused by the next request to any other;
 * ids known here (signed out here, or seen revoked) are refused without asking. While Redis is
 * unreachable the check falls back to this process's list (logged): a dashboard stays usable in
 * an outage, at the price that another instance's sign-outs are not known meanwhile.
 */
export class RedisRevocations implements SessionRevocations {
  readonly shared = true;
  private readonly redis: RedisConnection;
  private readonly local: MemoryRevocations;
  private readonly timeoutMs: number;
  private lastErrorLog = 0;

  constructor(private readonly options: RedisRevocationsOptions) {
    this.timeoutMs = options.commandTimeoutMs ?? 500;
    this.redis = createFailFastRedis(options.url, this.timeoutMs);
    this.local = new MemoryRevocations(options.now);
  }

  async revoke(id: string, untilMs: number): Promise<void> {
    this.local.add(id, untilMs);
    const ttl = Math.max(1, Math.ceil(untilMs - this.options.now()));
    await (await whenConnected(this.redis, this.timeoutMs)).set(this.key(id), '1', 'PX', ttl);
  }

  async isRevoked(id: string, untilMs: number): Promise<boolean> {
    if (this.local.has(id)) return true;
    try {
      const revoked = (await (await whenConnected(this.redis, this.timeoutMs)).exists(this.key(id))) === 1;
      if (revoked) this.local.add(id, untilMs);
      return revoked;
    } catch (error) {
      const now = Date.now();
      if (now - this.lastErrorLog > 30_000) {
        this.lastErrorLog = now;
        this.options.logger.warn(`dashboard sessions: Redis unreachable, sign-outs of other instances are not seen until it is back: ${error instanceof Error ? error.message : String(error)}`);
      }
      return false;
    }
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(id: string): string {
    return `${this.options.namespace}:ui:revoked:${id}`;
  }
}
