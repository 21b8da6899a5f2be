import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisUrl, type RedisTarget } from './redis-url.js';

/** One server or a Sentinel-managed primary (`Redis`), or a Redis Cluster: the same commands. */
export type RedisConnection = Redis | Cluster;

/** How a connection behaves while Redis is away; the same meaning on every kind of deployment. */
export interface ConnectionTuning {
  /** Per-command timeout (none: wait). */
  readonly commandTimeoutMs?: number;
  readonly connectTimeoutMs: number;
  /** Queue commands while (re)connecting (true) or fail them at once (false: fail fast). */
  readonly offlineQueue: boolean;
  /** Retries of a command whose connection dropped; null: until it goes through. */
  readonly maxRetriesPerRequest: number | null;
  /** Delay before reconnection attempt `n` (forever: never give up). */
  readonly reconnectDelayMs: (attempt: number) => number;
  readonly lazyConnect?: boolean;
  /** Resend commands that were in flight when the connection dropped (default false). */
  readonly resendInFlight?: boolean;
  /** Renew subscriptions after a reconnect (subscriber connections). */
  readonly autoResubscribe?: boolean;
  /** Send the commands of one tick in one write (default false). */
  readonly autoPipelining?: boolean;
}

/** A URL (REDIS_URL syntax) or its parsed form. A URL is validated here too: embedders may pass one directly. */
export function redisTargetOf(address: string | RedisTarget): RedisTarget {
  if (typeof address !== 'string') return address;
  const parsed = parseRedisUrl(address);
  if (!parsed.ok) throw new TypeError(`Redis URL: ${parsed.reason}`);
  return parsed.target;
}

/**
 * Opens a connection to any of the three deployments. Sentinel: asks the sentinels for the
 * primary on every (re)connect, checks the node's role, and reconnects when the node answers
 * READONLY (it was demoted), so commands go to the new primary within one reconnect. Cluster: follows MOVED/ASK and refreshes the slot map.
 */
export function connectRedis(address: string | RedisTarget, tuning: ConnectionTuning): RedisConnection {
  const target = redisTargetOf(address);
  const node: RedisOptions = {
    ...(target.username === null ? {} : { username: target.username }),
    ...(target.password === null ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
    ...(tuning.commandTimeoutMs === undefined ? {} : { commandTimeout: tuning.commandTimeoutMs }),
    connectTimeout: tuning.connectTimeoutMs,
    maxRetriesPerRequest: tuning.maxRetriesPerRequest,
    autoResendUnfulfilledCommands: tuning.resendInFlight ?? false,
    autoResubscribe: tuning.autoResubscribe ?? true,
    enableReadyCheck: true,
  };
  if (target.kind === 'cluster') {
    const options: ClusterOptions = {
      enableOfflineQueue: tuning.offlineQueue,
      clusterRetryStrategy: (attempt) => tuning.reconnectDelayMs(attempt),
      lazyConnect: tuning.lazyConnect ?? false,
      enableAutoPipelining: tuning.autoPipelining ?? false,
      // A node that fails over answers CLUSTERDOWN / TRYAGAIN briefly: retry soon, within the command's budget.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      slotsRefreshTimeout: Math.max(1000, tuning.connectTimeoutMs),
      redisOptions: node,
    };
    return new Cluster(target.nodes.map((n) => ({ host: n.host, port: n.port })), options);
  }
  const common: RedisOptions = {
    ...node,
    enableOfflineQueue: tuning.offlineQueue,
    retryStrategy: (attempt) => tuning.reconnectDelayMs(attempt),
    lazyConnect: tuning.lazyConnect ?? false,
    enableAutoPipelining: tuning.autoPipelining ?? false,
    db: target.db,
  };
  if (target.kind === 'standalone') return new Redis({ ...common, host: target.host, port: target.port });
  return new Redis({
    ...common,
    sentinels: target.sentinels.map((s) => ({ host: s.host, port: s.port })),
    name: target.name,
    ...(target.sentinelUsername === null ? {} : { sentinelUsername: target.sentinelUsername }),
    ...(target.sentinelPassword === null ? {} : { sentinelPassword: target.sentinelPassword }),
    ...(target.tls ? { enableTLSForSentinelMode: true } : {}),
    sentinelRetryStrategy: (attempt) => tuning.reconnectDelayMs(attempt),
    // Not ioredis' failoverDetector: a +switch-master arriving while it is already reconnecting (the
    // primary was killed) cancels that reconnect and ends the connection for good (seen in
    // test/integration/redis-sentinel.test.ts). A dead primary drops our connection anyway, and on
    // a SENTINEL FAILOVER Sentinel itself kills the clients of the demoted node (CLIENT KILL).
    // A demoted primary answers writes with READONLY until Sentinel closes our connection: reconnect now.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  });
}

/** Connected and ready for commands (a Cluster: with its slot map). */
export function isReady(connection: RedisConnection): boolean {
  return connection.status === 'ready';
}

/**
 * Calls `each` with the keys matching `pattern`, a SCAN batch at a time. On a Cluster SCAN
 * only sees one node's keys, so every primary is scanned in turn.
 */
export async function scanKeys(connection: RedisConnection, pattern: string, count: number, each: (keys: string[]) => Promise<void>): Promise<void> {
  const nodes: Redis[] = connection instanceof Cluster ? connection.nodes('master') : [connection];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) await each(keys);
    } while (cursor !== '0');
  }
}

/** UNLINKs keys; on a Cluster one key a command (keys of one batch live in different slots). */
export async function unlinkKeys(connection: RedisConnection, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  if (!(connection instanceof Cluster)) return connection.unlink(...keys);
  const counts = await Promise.all(keys.map((key) => connection.unlink(key)));
  return counts.reduce((a, b) => a + b, 0);
}

/** Closes politely when connected (pending replies arrive), else at once. Never throws. */
export async function closeConnection(connection: RedisConnection): Promise<void> {
  try {
    if (connection.status === 'ready') await connection.quit();
    else connection.disconnect();
  } catch {
    connection.disconnect();
  }
}
