import { Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { connectRedis, type RedisConnection } from '../redis/redis-connection.js';
import type { RedisTarget } from '../redis/redis-url.js';
import { MemoryStore } from './memory-store.js';

/** Where Redis publishes invalidations for a client that redirects them (RESP2 client tracking). */
const INVALIDATE_CHANNEL = '__redis__:invalidate';
/**
 * A copy is dropped after this long even without an invalidation: a safety net only (Redis also
 * invalidates keys that expire); the entry's own freshness is judged on every hit anyway.
 */
const COPY_TTL_MS = 60_000;
/** While tracking is off with both connections up (e.g. they reached different servers), how often to try again. */
const RETRY_MS = 1_000;
/**
 * The subscriber is PINGed this often; copies are trusted only while its last PONG is younger than
 * TRUST_MS. A PONG proves every invalidation Redis sent before it has been read (one socket, in
 * order), so a connection that is up but silent (Redis stopped, a network partition) stops the
 * copies within TRUST_MS instead of when TCP gives up.
 */
const HEARTBEAT_MS = 100;
const TRUST_MS = 350;

export interface NearCacheOptions {
  /** The connection the store reads with: tracking is switched on for it, so only its reads are tracked. */
  readonly main: RedisConnection;
  readonly target: RedisTarget;
  readonly maxBytes: number;
  readonly connectTimeoutMs: number;
  readonly reconnectDelayMs: (attempt: number) => number;
  readonly logger: Logger;
}

/** One GET in flight for a key: whether an invalidation for the key arrived before its reply. */
interface Pending {
  count: number;
  dirty: boolean;
}

/**
 * In-process copies of what this process read from Redis, kept coherent by Redis itself
 * (server-assisted client-side caching, CLIENT TRACKING): Redis remembers which keys the reading
 * connection read and, when any client changes or deletes one (another instance's fill, purge or
 * invalidation, an expiry), pushes its name to this process's subscriber connection — before it
 * answers the client that changed it, so a purge is seen here before the purge call returns.
 * A hit then costs no round trip.
 *
 * Coherence rules: copies are only kept while tracking is confirmed on the reading connection with
 * invalidations redirected to a live subscriber on the same server; either connection closing
 * drops every copy and every read still in flight (epoch); a read whose key is invalidated while
 * it is in flight is not kept (the two messages travel on different sockets, in either order).
 * Not for a Cluster (one tracking connection per node): the store then reads Redis every time.
 */
export class NearCache {
  private readonly copies: MemoryStore;
  private readonly subscriber: Redis;
  private readonly pending = new Map<string, Pending>();
  private enabled = false;
  /** Bumped whenever copies can no longer be trusted: reads started before it are not kept. */
  private epoch = 0;
  private settingUp = false;
  private readonly retry: NodeJS.Timeout;
  private readonly heartbeat: NodeJS.Timeout;
  /** When the subscriber last answered (see HEARTBEAT_MS). */
  private lastHeard = 0;
  private closed = false;

  constructor(private readonly options: NearCacheOptions) {
    this.copies = new MemoryStore(options.maxBytes);
    const subscriber = connectRedis(options.target, {
      offlineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeoutMs: options.connectTimeoutMs,
      reconnectDelayMs: options.reconnectDelayMs,
      // A new connection has a new client id: tracking is set up again from scratch (see setUp).
      autoResubscribe: false,
    });
    if (!(subscriber instanceof Redis)) throw new TypeError('near cache: a Cluster has no single tracking connection');
    this.subscriber = subscriber;
    subscriber.on('error', () => undefined);
    subscriber.on('messageBuffer', (channel: Buffer, keys: unknown) => {
      if (channel.toString() === INVALIDATE_CHANNEL) this.onInvalidation(keys);
    });
    for (const connection of [options.main, subscriber]) {
      connection.on('close', () => this.distrust());
      connection.on('ready', () => void this.setUp());
    }
    this.retry = setInterval(() => {
      if (!this.enabled) void this.setUp();
    }, RETRY_MS).unref();
    this.heartbeat = setInterval(() => {
      if (subscriber.status === 'ready') void subscriber.ping().then(() => (this.lastHeard = Date.now()), () => undefined);
    }, HEARTBEAT_MS).unref();
  }

  /** Whether copies are being kept and served now (for tests and stats). */
  get active(): boolean {
    return this.enabled && Date.now() - this.lastHeard <= TRUST_MS;
  }

  /** The copy of `key`, or undefined when this process has none it may trust (read Redis). */
  peek(key: string): Buffer | undefined {
    if (!this.enabled || Date.now() - this.lastHeard > TRUST_MS) return undefined;
    return this.copies.peek(key) ?? undefined;
  }

  /** Reads through `read` (a GET on the tracked connection) and keeps the value when nothing invalidated it meanwhile. */
  readThrough(key: string, read: () => Promise<Buffer | null>): Promise<Buffer | null> {
    if (!this.enabled) return read();
    const epoch = this.epoch;
    let pending = this.pending.get(key);
    if (pending === undefined) this.pending.set(key, (pending = { count: 0, dirty: false }));
    pending.count++;
    const mine = pending;
    const settle = (): boolean => {
      const trusted = !mine.dirty && epoch === this.epoch && this.enabled;
      if (--mine.count === 0 && this.pending.get(key) === mine) this.pending.delete(key);
      return trusted;
    };
    return read().then(
      (value) => {
        if (settle() && value !== null) void this.copies.set(key, value, COPY_TTL_MS);
        return value;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
  }

  /** This process changed or deleted `key`: its copy goes now (Redis's message follows). */
  forget(key: string): void {
    void this.copies.delete(key);
    const pending = this.pending.get(key);
    if (pending !== undefined) pending.dirty = true;
  }

  forgetMatching(prefix: string, filter?: (key: string) => boolean): void {
    void this.copies.deleteMatching(prefix, filter);
    for (const [key, pending] of this.pending) if (key.startsWith(prefix) && (filter === undefined || filter(key))) pending.dirty = true;
  }

  close(): void {
    this.closed = true;
    clearInterval(this.retry);
    clearInterval(this.heartbeat);
    this.distrust();
    this.subscriber.disconnect();
  }

  /** A message on the invalidation channel: the keys (an array), or null when the database was flushed. */
  private onInvalidation(keys: unknown): void {
    if (!Array.isArray(keys)) {
      this.distrust();
      void this.setUp();
      return;
    }
    for (const key of keys) this.forget(Buffer.isBuffer(key) ? key.toString() : String(key));
  }

  /** Every copy and every read in flight are dropped, and none are kept until tracking is set up again. */
  private distrust(): void {
    this.enabled = false;
    this.epoch++;
    void this.copies.close();
    for (const pending of this.pending.values()) pending.dirty = true;
  }

  /**
   * Subscribes the subscriber connection, then turns tracking on for the reading connection with
   * its invalidations redirected there — only when both reach the same server (same run id: a
   * client id names a client on one server only, e.g. during a Sentinel failover they may differ).
   */
  private async setUp(): Promise<void> {
    const main = this.options.main;
    if (this.closed || this.enabled || this.settingUp || main.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.settingUp = true;
    const epoch = this.epoch;
    try {
      const subscriberId = await this.subscriber.client('ID');
      const subscriberRun = runId(await this.subscriber.info('server'));
      await this.subscriber.subscribe(INVALIDATE_CHANNEL);
      this.lastHeard = Date.now();
      const mainRun = runId(await main.info('server'));
      if (subscriberRun === null || subscriberRun !== mainRun) return;
      await main.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(subscriberId));
      // Any close in between bumped the epoch: start over on the next ready (or retry tick).
      if (epoch === this.epoch && !this.closed) this.enabled = true;
    } catch (error) {
      this.options.logger.debug('near cache: tracking not set up; reading Redis every time until it is', { cause: error instanceof Error ? error.message : String(error) });
      // A subscriber left half set up (subscribed, tracking refused) starts clean on its next connection.
      if (epoch === this.epoch && this.subscriber.status === 'ready') this.subscriber.disconnect(true);
    } finally {
      this.settingUp = false;
    }
  }
}

function runId(info: string): string | null {
  return /^run_id:(\w+)/m.exec(info)?.[1] ?? null;
}
