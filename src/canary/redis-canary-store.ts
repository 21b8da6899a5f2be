import type { RedisConnection } from '../redis/redis-connection.js';
import { createFailFastRedis } from '../redis/redis-fail-fast.js';
import type { RedisTarget } from '../redis/redis-url.js';
import type { CanaryRun } from './canary-run.js';
import { CanaryStoreUnavailableError, type CanaryRunStore } from './canary-store.js';
import type { LeaderLease } from './leader-lease.js';

/** A fail-fast connection that waits (bounded) for its first connect, so the first commands do not fail. */
function connect(options: RedisCanaryOptions): { redis: RedisConnection; ready: Promise<void> } {
  const redis = createFailFastRedis(options.url, options.commandTimeoutMs);
  const ready = new Promise<void>((resolve) => {
    redis.once('ready', () => resolve());
    setTimeout(resolve, options.commandTimeoutMs * 3).unref();
  });
  return { redis, ready };
}

export interface RedisCanaryOptions {
  /** REDIS_URL syntax (one server, Sentinel or Cluster), or its parsed form. */
  readonly url: string | RedisTarget;
  readonly namespace: string;
  readonly commandTimeoutMs: number;
}

// Compare-and-set: the run's version sits in its own field, so the check needs no JSON in Lua.
const PUT_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'version:' .. ARGV[1])
if current == false then current = '' end
if current ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'run:' .. ARGV[1], ARGV[3], 'version:' .. ARGV[1], ARGV[4])
return 1`;

/** Runs in one Redis hash (`{ns}:canary:runs`): `run:<route>` → JSON, `version:<route>` → its version. */
export class RedisCanaryStore implements CanaryRunStore {
  readonly kind = 'redis';
  readonly shared = true;
  private readonly redis: RedisConnection;
  private readonly ready: Promise<void>;
  private readonly key: string;

  private readonly parsedRuns = new Map<string, { readonly text: string; readonly run: CanaryRun | null }>();

  constructor(options: RedisCanaryOptions) {
    ({ redis: this.redis, ready: this.ready } = connect(options));
    this.key = `${options.namespace}:canary:runs`;
  }

  async get(route: string): Promise<CanaryRun | null> {
    const text = await this.call(() => this.redis.hget(this.key, `run:${route}`));
    return text === null ? null : this.parsed(`run:${route}`, text);
  }

  async list(): Promise<CanaryRun[]> {
    const all = await this.call(() => this.redis.hgetall(this.key));
    for (const field of this.parsedRuns.keys()) if (!(field in all)) this.parsedRuns.delete(field);
    return Object.entries(all)
      .filter(([field]) => field.startsWith('run:'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([field, text]) => this.parsed(field, text))
      .filter((run): run is CanaryRun => run !== null);
  }

  /**
   * The run stored as `text`, parsed once per version: every instance lists the runs every tick,
   * and re-parsing a finished run's history each second was a steady stream of objects that
   * lived just long enough to reach V8's old space. Runs are read-only (writes build new ones),
   * so handing out the same object is safe.
   */
  private parsed(field: string, text: string): CanaryRun | null {
    const known = this.parsedRuns.get(field);
    if (known !== undefined && known.text === text) return known.run;
    const run = parseRun(text);
    this.parsedRuns.set(field, { text, run });
    return run;
  }

  async put(run: CanaryRun, expectedVersion: number | null): Promise<boolean> {
    const written = await this.call(() => this.redis.eval(PUT_SCRIPT, 1, this.key, run.route, expectedVersion === null ? '' : String(expectedVersion), JSON.stringify(run), String(run.version)));
    return written === 1;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      await this.ready;
      return await command();
    } catch (error) {
      throw new CanaryStoreUnavailableError(`canary run store (Redis) failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

function parseRun(text: string): CanaryRun | null {
  try {
    const run = JSON.parse(text) as CanaryRun;
    return typeof run === 'object' && run !== null && typeof run.route === 'string' && typeof run.version === 'number' ? run : null;
  } catch {
    return null;
  }
}

// Take the lease when free, or renew it when it is ours: one round trip, atomic.
const ACQUIRE_SCRIPT = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder == false then redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) return 1 end
return 0`;

const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** The leader lease in Redis (`{ns}:canary:leader`, SET NX PX, renewed by its holder). */
export class RedisLease implements LeaderLease {
  readonly kind = 'redis';
  private readonly redis: RedisConnection;
  private readonly ready: Promise<void>;
  private readonly key: string;

  constructor(
    options: RedisCanaryOptions,
    readonly id: string,
    private readonly leaseMs: number,
  ) {
    ({ redis: this.redis, ready: this.ready } = connect(options));
    this.key = `${options.namespace}:canary:leader`;
  }

  async tryAcquire(): Promise<boolean> {
    try {
      await this.ready;
      return (await this.redis.eval(ACQUIRE_SCRIPT, 1, this.key, this.id, String(this.leaseMs))) === 1;
    } catch {
      // Not reachable: not the leader (whoever can reach Redis drives; a partitioned leader stops within the lease).
      return false;
    }
  }

  async holder(): Promise<string | null> {
    try {
      await this.ready;
      return await this.redis.get(this.key);
    } catch {
      return null;
    }
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE_SCRIPT, 1, this.key, this.id).catch(() => {});
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
