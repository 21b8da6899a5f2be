import { ConfigError, type ConfigIssue } from '../errors/switchyard-error.js';
import { parseRedisUrl, type RedisTarget } from '../redis/redis-url.js';

/** The four kinds of state that can be shared through Redis. */
export const REDIS_FEATURES = ['cache', 'shadow', 'outcomes', 'runtimeFlags'] as const;
export type RedisFeature = (typeof REDIS_FEATURES)[number];

/** The Redis-related part of `createSwitchyard`'s options. */
export interface RedisPlacementOptions {
  readonly redis?: string | null;
  readonly cache?: { readonly redisUrl?: string | null };
  readonly shadow?: { readonly redisUrl?: string | null };
  readonly outcomes?: { readonly redisUrl?: string | null };
  readonly runtimeFlags?: { readonly redisUrl?: string | null };
}

export interface RedisPlacement {
  /** Per feature: the Redis it shares through, or null (this process only). */
  readonly targets: Readonly<Record<RedisFeature, RedisTarget | null>>;
  /** Where the placement came from: the options, REDIS_URL, or neither (no Redis at all). */
  readonly from: 'options' | 'REDIS_URL' | 'none';
}

/**
 * Where each kind of state lives. The model (README "Shared state"): `redis` is the Redis every
 * feature shares; a feature's own `redisUrl` overrides it (null: that feature stays in this
 * process). REDIS_URL is only the default when the options say nothing about Redis at all: as
 * soon as they name `redis` or any feature's `redisUrl`, they describe the whole placement — so
 * `{ cache: { redisUrl: null } }` means no Redis anywhere, never "no Redis for the cache, but the
 * shadow store quietly still on REDIS_URL". Throws a ConfigError naming each bad option.
 */
export function placeRedis(options: RedisPlacementOptions, fromEnv: RedisTarget | null): RedisPlacement {
  const issues: ConfigIssue[] = [];
  const parse = (field: string, url: string | null): RedisTarget | null => {
    if (url === null) return null;
    const parsed = parseRedisUrl(url);
    if (parsed.ok) return parsed.target;
    issues.push({ file: '<options>', field, reason: parsed.reason });
    return null;
  };
  const own = (feature: RedisFeature): string | null | undefined => options[feature]?.redisUrl;
  const explicit = options.redis !== undefined || REDIS_FEATURES.some((f) => own(f) !== undefined);
  const shared = options.redis !== undefined ? parse('redis', options.redis) : explicit ? null : fromEnv;
  const targets = Object.fromEntries(
    REDIS_FEATURES.map((feature) => {
      const url = own(feature);
      return [feature, url === undefined ? shared : parse(`${feature}.redisUrl`, url)];
    }),
  ) as Record<RedisFeature, RedisTarget | null>;
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ targets: Object.freeze(targets), from: explicit ? 'options' : fromEnv !== null ? 'REDIS_URL' : 'none' });
}

const LABELS: Record<RedisFeature, string> = { cache: 'response cache', shadow: 'shadow results', outcomes: 'outcomes', runtimeFlags: 'runtime flag changes' };

/** One start-up log line: where each kind of state lives, so no placement is a surprise. */
export function describePlacement(placement: RedisPlacement, ownStores: ReadonlySet<RedisFeature> = new Set()): string {
  const parts = REDIS_FEATURES.map((f) => {
    const t = placement.targets[f];
    return `${LABELS[f]} ${ownStores.has(f) ? 'in the store given in the options' : t === null ? 'in this process' : `in Redis ${t.display}`}`;
  });
  return `shared state (from ${placement.from === 'none' ? 'no REDIS_URL' : placement.from}): ${parts.join('; ')}`;
}
