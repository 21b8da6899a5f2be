import { readFile, rename, writeFile } from 'node:fs/promises';
import type { Logger } from '../logging/logger.js';
import { closeConnection, connectRedis, isReady, redisTargetOf, type RedisConnection, type ConnectionTuning } from '../redis/redis-connection.js';
import type { RedisTarget } from '../redis/redis-url.js';
import {
  AUDIT_MAX_ENTRIES,
  EMPTY_RUNTIME_STATE,
  VERSION_FIELD,
  auditEntryFor,
  parseRuntimeState,
  storedValue,
  type AuditEntry,
  type AuditRecord,
  type ChangeOutcome,
  type RuntimeChange,
  type RuntimeFlagStore,
  type RuntimeState,
  type RuntimeStoreStatus,
  RuntimeStoreUnavailableError,
} from './runtime-store.js';

export interface RedisRuntimeStoreOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  /**
   * Keys `{<namespace>:flags}:state` (hash) and `{<namespace>:flags}:audit` (list): one hash tag,
   * so the change script may touch both on a Cluster; channel `<namespace>:flags:changes`.
   */
  readonly namespace: string;
  readonly logger: Logger;
  /** Per-command timeout. */
  readonly commandTimeoutMs?: number;
  /** Re-reads the whole state this often, in case a broadcast was missed (default 5 s). */
  readonly resyncIntervalMs?: number;
  /** Last known state, written on every change and read when Redis is unreachable at start-up; null: none. */
  readonly backupFile?: string | null;
}

/**
 * One change, atomically: read the old value, write the new one, bump the version, append the
 * audit entry (with the old value as `from`) and broadcast the new version. Two admins changing
 * the same route at once are serialised by Redis; each change gets one audit entry.
 * KEYS: state hash, audit list. ARGV: field, new value ('' = delete, skipped when absent),
 * audit entry JSON, fallback `from` JSON, channel, audit max length.
 */
const APPLY_SCRIPT = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if ARGV[2] == '' then
  if not old then return false end
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local version = redis.call('HINCRBY', KEYS[1], '${VERSION_FIELD}', 1)
local entry = cjson.decode(ARGV[3])
entry['version'] = version
if old then
  local o = cjson.decode(old)
  local from = { source = 'override', by = o['by'], at = o['at'] }
  if o['on'] ~= nil then from['on'] = o['on'] end
  if o['mode'] ~= nil then
    from['mode'] = o['mode']
    if o['mode'] == 'rollout' then from['percentage'] = o['percentage'] end
  end
  entry['from'] = from
else
  entry['from'] = cjson.decode(ARGV[4])
end
local text = cjson.encode(entry)
redis.call('RPUSH', KEYS[2], text)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[6]), -1)
redis.call('PUBLISH', ARGV[5], tostring(version))
return text
`;

/**
 * An audit entry that changes no flag (a cache purge): the next version, the entry, the broadcast.
 * KEYS: state hash, audit list. ARGV: entry JSON, channel, audit max length.
 */
const RECORD_SCRIPT = `
local version = redis.call('HINCRBY', KEYS[1], '${VERSION_FIELD}', 1)
local entry = cjson.decode(ARGV[1])
entry['version'] = version
local text = cjson.encode(entry)
redis.call('RPUSH', KEYS[2], text)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('PUBLISH', ARGV[2], tostring(version))
return text
`;

/**
 * Before the hash tag, the keys were `<namespace>:flags:state|audit`; they are copied to the new
 * keys once, only while the new state does not exist (the first instance of the new version to
 * start wins; the others find it there). KEYS: new state; ARGV: the old hash's fields and values.
 * Returns 1 when it copied.
 */
const COPY_IF_ABSENT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 or #ARGV == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`;

/**
 * Runtime changes shared by every instance through Redis (REDIS_URL): a hash with the state, a
 * capped audit list, and a pub/sub channel carrying each new version, on which every instance
 * re-reads the hash — so a change applies everywhere within milliseconds, and survives restarts.
 * Reads never touch Redis on the request path: `state()` is the last state read.
 */
export class RedisRuntimeStore implements RuntimeFlagStore {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly redis: RedisConnection;
  private readonly subscriber: RedisConnection;
  private readonly keys: { state: string; audit: string; channel: string };
  private current: RuntimeState = EMPTY_RUNTIME_STATE;
  private loaded = false;
  private lastError: string | null = null;
  private lastErrorLog = 0;
  private readonly listeners = new Set<(state: RuntimeState) => void>();
  private resync: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private closed = false;
  private lastBackup = '';
  private readonly display: string;

  constructor(private readonly options: RedisRuntimeStoreOptions) {
    const target = redisTargetOf(options.url);
    this.display = target.display;
    const tag = `{${options.namespace}:flags}`;
    this.keys = { state: `${tag}:state`, audit: `${tag}:audit`, channel: `${options.namespace}:flags:changes` };
    const common: ConnectionTuning = {
      maxRetriesPerRequest: 0,
      connectTimeoutMs: 2000,
      reconnectDelayMs: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 5), 1000),
      lazyConnect: true,
      offlineQueue: false,
    };
    // Commands fail fast while disconnected (an admin change gets a 503 at once)…
    this.redis = connectRedis(target, { ...common, commandTimeoutMs: options.commandTimeoutMs ?? 1000 });
    // …while the subscription waits for Redis as long as it takes, and is renewed on every reconnect.
    this.subscriber = connectRedis(target, { ...common, maxRetriesPerRequest: null, offlineQueue: true, autoResubscribe: true });
    const onError = (error: Error): void => this.noteError(error);
    this.redis.on('error', onError);
    this.subscriber.on('error', onError);
    this.subscriber.on('message', (channel: string) => {
      if (channel === this.keys.channel) void this.refresh();
    });
    // After a reconnect, messages sent while we were away are lost: read the whole state again.
    this.subscriber.on('ready', () => void this.refresh());
    this.redis.on('ready', () => void this.refresh());
  }

  async start(timeoutMs: number): Promise<void> {
    const deadline = new Promise<'timeout'>((resolve) => setTimeout(resolve, timeoutMs, 'timeout').unref());
    // Both connections keep retrying in the background whatever happens to the first attempt.
    this.subscriber.subscribe(this.keys.channel).catch((error: unknown) => this.noteError(error));
    const ready = new Promise<void>((resolve) => this.redis.once('ready', () => resolve()));
    this.redis.connect().catch((error: unknown) => this.noteError(error));
    const connect = (async () => {
      await ready;
      await this.migrateOldKeys();
      await this.refresh();
      return this.loaded ? 'ok' : 'failed';
    })();
    const outcome = await Promise.race([connect, deadline]);
    this.resync = setInterval(() => void this.refresh(), this.options.resyncIntervalMs ?? 5000);
    this.resync.unref();
    if (outcome === 'ok') {
      this.options.logger.info(`runtime flags: Redis at ${this.display} (version ${this.current.version}, ${this.current.routes.size} route overrides, kill switch ${this.current.killSwitch?.on === true ? 'ON' : 'off'})`);
      return;
    }
    const backup = await this.readBackup();
    if (backup !== null && !this.loaded) {
      this.setState(backup);
      this.options.logger.error(`runtime flags: Redis at ${this.display} did not answer within ${timeoutMs} ms; serving the last known runtime state from ${this.options.backupFile ?? '?'} (version ${backup.version}) until it does`);
    } else if (!this.loaded) {
      this.options.logger.error(`runtime flags: Redis at ${this.display} did not answer within ${timeoutMs} ms and there is no backup; no runtime overrides apply until it does (retrying)`);
    }
  }

  state(): RuntimeState {
    return this.current;
  }

  async apply(change: RuntimeChange): Promise<ChangeOutcome> {
    const { field, value } = storedValue(change);
    const entry = auditEntryFor(change, this.current);
    const text = await this.script(APPLY_SCRIPT, field, value ?? '', JSON.stringify(entry), JSON.stringify(entry.from), this.keys.channel, String(AUDIT_MAX_ENTRIES));
    if (text === null || typeof text !== 'string') return { applied: false, state: this.current };
    return { applied: true, entry: JSON.parse(text) as AuditEntry, state: this.current };
  }

  async record(entry: AuditRecord): Promise<AuditEntry> {
    const text = await this.script(RECORD_SCRIPT, JSON.stringify(entry), this.keys.channel, String(AUDIT_MAX_ENTRIES));
    return JSON.parse(String(text)) as AuditEntry;
  }

  /** Runs a script on the state hash and the audit list, then reads the state here at once (rather than waiting for our own broadcast). */
  private async script(script: string, ...args: string[]): Promise<unknown> {
    let text: unknown;
    try {
      text = await this.redis.eval(script, 2, this.keys.state, this.keys.audit, ...args);
    } catch (error) {
      this.noteError(error);
      throw new RuntimeStoreUnavailableError(`the runtime flag store (Redis) is unavailable: ${messageOf(error)}`, { cause: error });
    }
    await this.refresh();
    return text;
  }

  async audit(limit: number): Promise<readonly AuditEntry[]> {
    try {
      const items = await this.redis.lrange(this.keys.audit, -limit, -1);
      return items.flatMap((item) => {
        try {
          return [JSON.parse(item) as AuditEntry];
        } catch {
          return [];
        }
      });
    } catch (error) {
      this.noteError(error);
      throw new RuntimeStoreUnavailableError(`the runtime flag store (Redis) is unavailable: ${messageOf(error)}`, { cause: error });
    }
  }

  onChange(listener: (state: RuntimeState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): RuntimeStoreStatus {
    const connected = isReady(this.redis);
    return {
      kind: 'redis',
      shared: true,
      connected,
      lastError: this.lastError,
      note: connected
        ? 'runtime changes are stored in Redis and applied by every instance sharing it'
        : 'Redis is unreachable: the last known runtime state applies, and changes are refused until it is back',
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resync !== undefined) clearInterval(this.resync);
    this.listeners.clear();
    await this.refreshing?.catch(() => {});
    for (const connection of [this.subscriber, this.redis]) await closeConnection(connection);
  }

  /** One-time copy from the keys before the hash tag (see MIGRATE_STATE_SCRIPT); logged, never fatal. */
  private async migrateOldKeys(): Promise<void> {
    const old = { state: `${this.options.namespace}:flags:state`, audit: `${this.options.namespace}:flags:audit` };
    try {
      // On a Cluster the old keys may live on another slot than the new ones: read them apart.
      if ((await this.redis.exists(old.state)) === 0) return;
      const fields = await this.redis.hgetall(old.state);
      const args = Object.entries(fields).flat();
      const copied = await this.redis.eval(COPY_IF_ABSENT_SCRIPT, 1, this.keys.state, ...args);
      if (copied !== 1) return;
      const audit = await this.redis.lrange(old.audit, 0, -1);
      if (audit.length > 0) await this.redis.rpush(this.keys.audit, ...audit);
      this.options.logger.info(`runtime flags: copied the state and ${audit.length} audit entries from ${old.state} to ${this.keys.state} (the key layout is cluster-safe now; the old keys can be deleted)`);
    } catch (error) {
      this.noteError(error);
    }
  }

  /** Reads the whole state; concurrent calls coalesce into at most one more read. */
  private refresh(): Promise<void> {
    // Not connected yet (or any more): its 'ready' reads everything. Asking anyway fails with
    // "Stream isn't writeable" (no offline queue) — a false alarm at every start, when the
    // subscriber connection happens to be ready first.
    if (this.closed || !isReady(this.redis)) return Promise.resolve();
    if (this.refreshing !== null) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const fields = await this.redis.hgetall(this.keys.state);
          const { state, problems } = parseRuntimeState(fields);
          for (const problem of problems) this.options.logger.warn(`runtime flags: ignoring a malformed entry in ${this.keys.state}: ${problem}`);
          this.loaded = true;
          this.lastError = null;
          // Redis is the truth whenever it answers (reads are serialised, so never out of order).
          this.setState(state);
          await this.writeBackup(fields);
        } catch (error) {
          this.noteError(error);
        }
      } while (this.refreshAgain && !this.closed);
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private setState(state: RuntimeState): void {
    const changed = state.version !== this.current.version || this.current === EMPTY_RUNTIME_STATE;
    this.current = state;
    if (changed) for (const listener of this.listeners) listener(state);
  }

  private async writeBackup(fields: Record<string, string>): Promise<void> {
    const file = this.options.backupFile;
    if (file === undefined || file === null) return;
    const text = JSON.stringify(fields);
    if (text === this.lastBackup) return;
    try {
      await writeFile(`${file}.tmp`, text);
      await rename(`${file}.tmp`, file);
      this.lastBackup = text;
    } catch (error) {
      this.options.logger.warn(`runtime flags: cannot write the backup ${file}: ${messageOf(error)}`);
    }
  }

  private async readBackup(): Promise<RuntimeState | null> {
    const file = this.options.backupFile;
    if (file === undefined || file === null) return null;
    try {
      const fields = JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
      return parseRuntimeState(fields).state;
    } catch {
      return null;
    }
  }

  private noteError(error: unknown): void {
    this.lastError = messageOf(error);
    const now = Date.now();
    if (!this.closed && now - this.lastErrorLog > 30_000) {
      this.lastErrorLog = now;
      this.options.logger.warn(`runtime flags: Redis error (the last known state stays in force): ${this.lastError}`);
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
