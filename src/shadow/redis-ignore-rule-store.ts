import type { Logger } from '../logging/logger.js';
import { connectRedis, isReady, type ConnectionTuning, type RedisConnection } from '../redis/redis-connection.js';
import type { RedisTarget } from '../redis/redis-url.js';
import {
  auditEntryOf, decisionKey, RULE_AUDIT_MAX, RulesStoreUnavailableError,
  type IgnoreRuleChange, type IgnoreRuleDecision, type IgnoreRuleStore, type RuleAuditEntry,
} from './ignore-rule-store.js';

export interface RedisIgnoreRuleStoreOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  readonly namespace: string;
  readonly logger: Logger;
  readonly commandTimeoutMs?: number;
  /** Re-read everything this often, whatever pub/sub said (a message lost in a reconnect). */
  readonly resyncIntervalMs?: number;
  /** Longest wait at start for the first read. */
  readonly startTimeoutMs?: number;
}

/**
 * Ignore-rule decisions shared by every instance: a hash of decisions, a capped audit list and a
 * version counter under one hash tag (one MULTI touches them all, Redis Cluster included), and a
 * pub/sub channel on which every instance re-reads the hash. Decisions survive restarts (as far
 * as Redis persists). Reads on the shadow path use the local copy; a change while Redis is down
 * is refused (RulesStoreUnavailableError) and the last known decisions stay in force.
 */
export class RedisIgnoreRuleStore implements IgnoreRuleStore {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly redis: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly keys: { decisions: string; audit: string; version: string; channel: string };
  private current: IgnoreRuleDecision[] = [];
  private changes = 0;
  private readonly listeners = new Set<() => void>();
  private resync: NodeJS.Timeout | undefined;
  private lastSeen = '';

  constructor(private readonly options: RedisIgnoreRuleStoreOptions) {
    const tag = `${options.namespace}:{shadow-rules}`;
    this.keys = { decisions: `${tag}:decisions`, audit: `${tag}:audit`, version: `${tag}:version`, channel: `${options.namespace}:shadow-rules:changes` };
    const common: ConnectionTuning = { maxRetriesPerRequest: 0, connectTimeoutMs: 2000, lazyConnect: true, offlineQueue: false, reconnectDelayMs: (n: number) => Math.min(50 * 2 ** Math.min(n, 5), 1000) };
    this.redis = connectRedis(options.url, { ...common, commandTimeoutMs: options.commandTimeoutMs ?? 1000 });
    this.subscriber = connectRedis(options.url, { ...common, maxRetriesPerRequest: null, offlineQueue: true, autoResubscribe: true });
    for (const connection of [this.redis, this.subscriber]) connection.on('error', () => {});
    this.subscriber.on('message', (channel: string) => {
      if (channel === this.keys.channel) void this.refresh();
    });
    this.subscriber.on('ready', () => void this.refresh());
    this.redis.on('ready', () => void this.refresh());
  }

  async start(): Promise<void> {
    this.subscriber.subscribe(this.keys.channel).catch(() => {});
    const ready = new Promise<void>((resolve) => this.redis.once('ready', () => resolve()));
    this.redis.connect().catch(() => {});
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, this.options.startTimeoutMs ?? 2000).unref());
    await Promise.race([ready.then(() => this.refresh()), timeout]);
    this.resync = setInterval(() => void this.refresh(), this.options.resyncIntervalMs ?? 5000);
    this.resync.unref();
  }

  decisions(): readonly IgnoreRuleDecision[] {
    return this.current;
  }

  version(): number {
    return this.changes;
  }

  async decide(change: IgnoreRuleChange): Promise<RuleAuditEntry> {
    try {
      const key = decisionKey(change.route, change.field);
      const previousText = await this.redis.hget(this.keys.decisions, key);
      const previous = previousText === null ? undefined : (JSON.parse(previousText) as IgnoreRuleDecision);
      const entry = auditEntryOf(change, previous);
      const m = this.redis.multi();
      if (change.decision === null) m.hdel(this.keys.decisions, key);
      else m.hset(this.keys.decisions, key, JSON.stringify({ route: change.route, field: change.field, decision: change.decision, by: change.by, at: change.at, reason: change.reason } satisfies IgnoreRuleDecision));
      m.lpush(this.keys.audit, JSON.stringify(entry)).ltrim(this.keys.audit, 0, RULE_AUDIT_MAX - 1).incr(this.keys.version);
      await m.exec();
      await this.redis.publish(this.keys.channel, 'changed');
      await this.refresh();
      return entry;
    } catch (error) {
      throw new RulesStoreUnavailableError(`the ignore-rule store (Redis) is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async audit(limit: number): Promise<RuleAuditEntry[]> {
    try {
      return (await this.redis.lrange(this.keys.audit, 0, limit - 1)).map((t) => JSON.parse(t) as RuleAuditEntry);
    } catch (error) {
      throw new RulesStoreUnavailableError(`the ignore-rule store (Redis) is unreachable: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private async refresh(): Promise<void> {
    if (!isReady(this.redis)) return;
    try {
      const all = await this.redis.hgetall(this.keys.decisions);
      const text = JSON.stringify(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
      if (text === this.lastSeen) return;
      this.lastSeen = text;
      this.current = Object.values(all).flatMap((t) => {
        try {
          return [JSON.parse(t) as IgnoreRuleDecision];
        } catch {
          return [];
        }
      });
      this.changes++;
      for (const listener of this.listeners) listener();
    } catch (error) {
      this.options.logger.debug('reading ignore-rule decisions from Redis failed; the last known ones stay in force', { cause: error instanceof Error ? error.message : String(error) });
    }
  }

  close(): Promise<void> {
    if (this.resync !== undefined) clearInterval(this.resync);
    this.redis.disconnect();
    this.subscriber.disconnect();
    return Promise.resolve();
  }
}
