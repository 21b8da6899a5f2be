import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../logging/logger.js';
import type { CacheContext } from './cache-context.js';
import { Coalescing, type Outcome } from './cache-coalescing.js';
import { CacheFill, type Led } from './cache-fill.js';
import { invalidationInterceptor } from './cache-invalidation.js';
import { CacheLookup, type Found, type Lookup } from './cache-lookup.js';
import { evaluateLookup, onlyIfCached, type Clock, type LookupVerdict } from './cache-policy.js';
import { compose, expectedKey, keysOf, proxyDispatch, uncacheableRequest, viewOf, type CacheInterceptor, type CacheRequest, type Keys, type LegacyDispatch } from './cache-request.js';
import { CacheResponses } from './cache-responses.js';
import { CacheStats } from './cache-stats.js';
import { CacheUnavailableError } from './cache-store.js';
import { CacheWrites } from './cache-writes.js';
import type { GuardedStore } from './guarded-store.js';
import { PassMemo } from './pass-memo.js';
import { ReserveFallback } from './reserve-fallback.js';
import { StaleReserve } from './stale-reserve.js';

export { CACHE_HEADER } from './cache-responses.js';
export type { CacheRequest } from './cache-request.js';

export interface HttpCacheOptions {
  readonly store: GuardedStore;
  readonly clock: Clock;
  /** The real time, to compare with origins' Date headers (default Date.now; `clock` may be virtual). */
  readonly wallClock?: Clock;
  readonly logger: Logger;
  /** How long a key whose response was not storable skips request coalescing (hit-for-pass). */
  readonly passMemoMs?: number;
  /** How often a request waiting for another instance's fill looks for the entry. */
  readonly lockPollMs?: number;
  /** What the cache passes requests on to (default: the upstream client's proxy). */
  readonly dispatch?: LegacyDispatch;
  /** Bytes of last copies kept in this process for a shared store's outages (stale-reserve.ts); 0 or absent: none. */
  readonly reserveMaxBytes?: number;
}

const MAX_ATTEMPTS = 3;

/**
 * The response cache in front of legacy routes, as interceptors over the proxy dispatch:
 * invalidation (unsafe methods), then the bypass rules, then lookup-and-serve — HIT / STALE
 * (stale-while-revalidate, refreshed in the background), or become the one request that asks
 * legacy (cache-fill.ts) while concurrent requests for the key wait for it (cache-coalescing.ts).
 * A cache that fails or is slow turns into BYPASS: the request goes to legacy through the
 * ordinary proxy, and the client never sees the cache's error.
 */
export class HttpCache {
  readonly stats = new CacheStats();
  private readonly ctx: CacheContext;
  private readonly lookups: CacheLookup;
  private readonly coalescing: Coalescing;
  private readonly writes: CacheWrites;
  private readonly responses: CacheResponses;
  private readonly fill: CacheFill;
  private readonly fallback: ReserveFallback;
  private readonly dispatch: LegacyDispatch;
  private closed = false;

  constructor(options: HttpCacheOptions) {
    const next = options.dispatch ?? proxyDispatch;
    // An in-process store is never out of reach: only a shared one needs a reserve.
    const reserve = options.store.inner.inProcess !== true && (options.reserveMaxBytes ?? 0) > 0 ? new StaleReserve(options.reserveMaxBytes ?? 0) : null;
    this.ctx = { store: options.store, clock: options.clock, wallClock: options.wallClock ?? Date.now, logger: options.logger, stats: this.stats, passes: new PassMemo(options.clock, options.passMemoMs ?? 10_000), reserve };
    this.lookups = new CacheLookup(this.ctx);
    this.coalescing = new Coalescing(this.ctx, options.lockPollMs ?? 25);
    this.writes = new CacheWrites(this.ctx);
    this.responses = new CacheResponses(this.ctx, next);
    this.fill = new CacheFill(this.ctx, this.coalescing, this.writes, this.responses);
    this.fallback = new ReserveFallback(this.ctx, this.responses);
    this.dispatch = compose(next, [invalidationInterceptor(this.ctx, this.writes), this.bypass(), this.lookupAndServe()]);
  }

  get store(): GuardedStore {
    return this.ctx.store;
  }

  /** Serves the request (from the cache, or from legacy through it); never throws. */
  handle(c: CacheRequest): void {
    this.dispatch(c);
  }

  /** What the cache must not answer goes straight on, labelled BYPASS. */
  private bypass(): CacheInterceptor {
    return (next) => (c) => {
      const method = c.req.method ?? 'GET';
      if ((method !== 'GET' && method !== 'HEAD') || uncacheableRequest(c) || this.closed) return this.responses.passThrough(c, 'BYPASS');
      if (!this.store.available()) return this.outOfReach(c);
      next(c);
    };
  }

  /** The orchestrator: look up, serve or fill; a cache failure becomes a BYPASS to legacy. */
  private lookupAndServe(): CacheInterceptor {
    return () => (c) => {
      let keys: Keys;
      let now: Lookup | undefined;
      try {
        keys = keysOf(c);
        // An in-process store answers at once: a fresh hit is served here, in the request's own turn.
        now = this.lookups.lookupNow(c, keys);
        if (now?.kind === 'entry' && this.serveAsItIs(c, keys, now, evaluateLookup(now.entry.policy, now.view, this.ctx.clock()))) return;
      } catch (error) {
        return this.failed(c, error);
      }
      this.serve(c, keys, now).catch((error: unknown) => this.failed(c, error));
    };
  }

  private failed(c: CacheRequest, error: unknown): void {
    if (!(error instanceof CacheUnavailableError)) this.ctx.logger.error('response cache failed; bypassing it', { route: c.route, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    if (c.res.headersSent) c.res.destroy();
    else if (error instanceof CacheUnavailableError) this.outOfReach(c);
    else this.responses.passThrough(c, 'BYPASS');
  }

  /** Serves `found` when the verdict lets the entry answer as it is (fresh, or stale and accepted); false: it must be revalidated. */
  private serveAsItIs(c: CacheRequest, keys: Keys, found: Found, verdict: LookupVerdict): boolean {
    if (verdict.kind === 'fresh') this.responses.sendEntry(c, found.entry, 'HIT');
    else if (verdict.kind === 'stale-accepted') this.responses.sendEntry(c, found.entry, 'STALE');
    else if (verdict.kind === 'stale-while-revalidate') {
      this.responses.sendEntry(c, found.entry, 'STALE');
      if (!this.closed) this.fill.refreshInBackground(c, keys, found, verdict.conditionals);
    } else return false;
    return true;
  }

  /** The store cannot be reached: BYPASS, with this process's reserve copy if legacy fails too. */
  private outOfReach(c: CacheRequest): void {
    if (!this.fallback.serve(c)) this.responses.passThrough(c, 'BYPASS');
  }

  /** `first`: what a lookup already found (lookupNow), for the first attempt. */
  private async serve(c: CacheRequest, keys: Keys, first: Lookup | undefined): Promise<void> {
    const responses = this.responses;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = attempt === 0 && first !== undefined ? first : await this.lookups.lookup(c, keys);
      let outcome: Outcome | Led;
      if (found.kind === 'entry') {
        const verdict = evaluateLookup(found.entry.policy, found.view, this.ctx.clock());
        if (this.serveAsItIs(c, keys, found, verdict)) return;
        if (verdict.kind !== 'revalidate') return;
        if (onlyIfCached(found.view)) return responses.notCached(c);
        outcome = await this.leadOrFollow(c, keys, found.key, found, found.marker, verdict.conditionals);
      } else {
        if (onlyIfCached(viewOf(c, keys, []))) return responses.notCached(c);
        if (this.ctx.passes.has(found.key)) return responses.passThrough(c, 'MISS');
        outcome = await this.leadOrFollow(c, keys, found.key, null, found.marker, {});
      }
      if (outcome === 'served') return;
      if (outcome === 'retry' || outcome.kind === 'retry') continue;
      if (outcome.kind === 'pass') return responses.passThrough(c, 'MISS');
      // Waited for a leader: its entry answers this request too if this request maps to its key.
      if (expectedKey(c, keys, outcome.entry.meta) === outcome.key) return responses.sendEntry(c, outcome.entry, outcome.status === 'MISS' ? 'HIT' : outcome.status);
    }
    responses.passThrough(c, 'MISS');
  }

  /** One leader per key asks legacy; the others wait for its outcome. */
  private async leadOrFollow(c: CacheRequest, keys: Keys, key: string, stale: Found | null, marker: Found['marker'], conditionals: Readonly<Record<string, string>>): Promise<Outcome | Led> {
    const inFlight = this.coalescing.inFlight(key);
    if (inFlight !== undefined) return inFlight;
    const flight = this.coalescing.open(key);
    try {
      return await this.fill.lead(c, { keys, key, stale, marker, conditionals }, flight.settle);
    } finally {
      // Followers are answered once the entry is written (or the outcome is a pass).
      flight.land();
    }
  }

  /** Deletes every key under `prefix` that passes `filter` (see cache-purge.ts). */
  async purge(prefix: string, filter?: (key: string) => boolean): Promise<number> {
    this.ctx.passes.clear();
    this.ctx.reserve?.forgetMatching(prefix, filter);
    return this.store.deleteMatching(prefix, filter, 30_000);
  }

  /** Waits (briefly) for background refreshes, then closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.race([this.fill.pending(), delay(2_000)]);
    await this.store.close();
  }
}
