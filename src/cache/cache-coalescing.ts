import { setTimeout as delay } from 'node:timers/promises';
import type { CacheContext } from './cache-context.js';
import { lockKey } from './cache-key.js';
import type { Found, LoadedEntry } from './cache-lookup.js';
import type { CacheRequest } from './cache-request.js';
import type { CacheStatus } from './cache-stats.js';
import { decodeRecord } from './entry-codec.js';

/** What the requests that waited for a leader get. */
export type Outcome = { readonly kind: 'entry'; readonly key: string; readonly entry: LoadedEntry; readonly status: CacheStatus } | { readonly kind: 'pass' } | { readonly kind: 'retry' };
export type Settle = (outcome: Outcome) => void;

export interface Lock {
  release(): void;
}

/**
 * Request coalescing: one leader per key asks legacy while concurrent requests for the key wait
 * for its outcome — single-flight in this process, and a short SET NX PX lock across instances
 * sharing a store (others wait for the holder's entry instead of asking legacy too).
 */
export class Coalescing {
  private readonly flights = new Map<string, Promise<Outcome>>();

  constructor(
    private readonly ctx: CacheContext,
    private readonly lockPollMs: number,
  ) {}

  /** The outcome of the fill in flight for `key` in this process, if there is one. */
  inFlight(key: string): Promise<Outcome> | undefined {
    return this.flights.get(key);
  }

  /**
   * Registers this request as the leader for `key`; `settle` answers the followers. The flight
   * stays registered until `land` (after the entry is written), so a request arriving in between
   * joins instead of missing.
   */
  open(key: string): { settle: Settle; land: () => void } {
    let resolve!: (outcome: Outcome) => void;
    this.flights.set(key, new Promise<Outcome>((r) => (resolve = r)));
    let settled = false;
    const settle: Settle = (outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    return {
      settle,
      land: () => {
        settle({ kind: 'pass' });
        this.flights.delete(key);
      },
    };
  }

  /**
   * For shared stores: take the key's fill lock, or wait for the instance holding it to store
   * the entry ('found': look it up again). Store trouble or a lock held past its lifetime means
   * no lock: this instance asks legacy itself rather than wait longer.
   */
  async acquireLock(c: CacheRequest, key: string, stale: Found | null): Promise<Lock | 'found' | null> {
    if (!this.ctx.store.shared) return null;
    const deadline = Date.now() + c.settings.lockTtlMs;
    for (;;) {
      const taken = await this.tryLockOnce(c, key);
      if (taken === null) return null;
      if (taken !== 'held') return taken;
      if (Date.now() >= deadline) return null;
      await delay(this.lockPollMs);
      if (await this.storedSince(key, stale)) return 'found';
    }
  }

  /** Whether `key` now holds a record this request did not see (another instance's fill). */
  async storedSince(key: string, stale: Found | null): Promise<boolean> {
    try {
      const record = decodeRecord((await this.ctx.store.get(key)) ?? Buffer.alloc(0));
      return record !== null && (record.kind === 'vary' || stale === null || record.meta.storedAt !== stale.entry.meta.storedAt);
    } catch {
      return false;
    }
  }

  async tryLockOnce(c: CacheRequest, key: string): Promise<Lock | 'held' | null> {
    const store = this.ctx.store;
    const name = lockKey(c.settings.namespace, c.settings.keyVersion, key);
    let token: string | null;
    try {
      token = await store.tryLock(name, c.settings.lockTtlMs);
    } catch {
      return null;
    }
    if (token === null) return 'held';
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        store.unlock(name, token).catch(() => {
          // The lock expires by itself.
        });
      },
    };
  }
}
