/**
 * Where cache records live. Values are opaque bytes (see entry-codec.ts), so every store keeps
 * bodies byte-exact and the same contract test runs against each implementation.
 */
export interface CacheStore {
  /** `memory` or `redis`, for stats and logs. */
  readonly kind: string;
  /** Whether other Switchyard instances see the same entries (then fill locks matter). */
  readonly shared: boolean;
  /** Operations complete in-process without I/O (no timeout needed; values may be returned as the same Buffer). */
  readonly inProcess?: boolean;
  /** A shared store serving hits from coherent in-process copies right now (redis-store.ts, redis-near-cache.ts). */
  readonly nearActive?: boolean;
  get(key: string): Promise<Buffer | null>;
  /**
   * `get` without the promise (the cache then serves a hit synchronously): an in-process store's
   * answer (null: absent), or a shared store's coherent in-process copy — undefined when it has
   * none it may trust, and the caller uses `get`.
   */
  peek?(key: string): Buffer | null | undefined;
  /** Stores `value` under `key` for `ttlMs` (> 0), replacing what was there. */
  set(key: string, value: Buffer, ttlMs: number): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Deletes every key that starts with `prefix` and passes `filter`; returns how many. */
  deleteMatching(prefix: string, filter?: (key: string) => boolean): Promise<number>;
  /** Takes the lock `key` for `ttlMs` unless someone holds it: a token to unlock with, or null. */
  tryLock(key: string, ttlMs: number): Promise<string | null>;
  /** Releases the lock only if `token` still holds it. */
  unlock(key: string, token: string): Promise<void>;
  /** False while the store is known to be unreachable: callers bypass it without waiting. */
  isAvailable(): boolean;
  close(): Promise<void>;
}

/** A cache operation that failed, timed out or was refused: the request bypasses the cache. */
export class CacheUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheUnavailableError';
  }
}
