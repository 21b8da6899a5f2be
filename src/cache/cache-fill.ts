import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { forwardInterim } from '../proxy/interim-response.js';
import type { CacheContext } from './cache-context.js';
import type { Coalescing, Lock, Settle } from './cache-coalescing.js';
import { parseVary, variantKey } from './cache-key.js';
import { decodeEntry, type Found } from './cache-lookup.js';
import { ageValue, applyNotModified, decideStorage, staleIfErrorAllows, type Headers, type Policy } from './cache-policy.js';
import { viewOf, type CacheRequest, type Keys } from './cache-request.js';
import type { CacheResponses } from './cache-responses.js';
import type { CacheWrites } from './cache-writes.js';
import { encodeRecord, type EntryMeta, type VaryMarker } from './entry-codec.js';
import { streamThrough } from './fill-stream.js';
import { fetchFromOrigin, originRequestFor } from './origin-fetch.js';

/** How a fill ended for its client: answered, or look the key up again (another fill won). */
export type Led = 'served' | 'retry';

/** Where a fill starts from: the key, the stale entry it may revalidate, the URL's Vary marker. */
export interface FillFrom {
  readonly keys: Keys;
  readonly key: string;
  readonly stale: Found | null;
  readonly marker: VaryMarker | null;
  readonly conditionals: Readonly<Record<string, string>>;
}

/**
 * The fill handler: asks legacy (through the upstream client, conditionally when a stale entry
 * has validators), and turns its answer into a refreshed entry (304), a stale answer
 * (stale-if-error), a stored entry streamed to the client as it arrives, or a plain stream
 * through when it is not storable or too large. Also the background refresh of
 * stale-while-revalidate.
 */
export class CacheFill {
  private readonly background = new Set<Promise<void>>();

  constructor(
    private readonly ctx: CacheContext,
    private readonly coalescing: Coalescing,
    private readonly writes: CacheWrites,
    private readonly responses: CacheResponses,
  ) {}

  /** The leader's fill, its followers answered through `settle`. */
  async lead(c: CacheRequest, from: FillFrom, settle: Settle): Promise<Led> {
    const { key, stale, conditionals } = from;
    const origin = originRequestFor(c.req, c.target, c.upstream);
    const lock = await this.coalescing.acquireLock(c, key, stale);
    // Another instance may have stored the entry between this request's read and its lock:
    // with the lock held, read again, or both instances fill the same key.
    if (lock === 'found' || (lock !== null && (await this.coalescing.storedSince(key, stale)))) {
      if (lock !== 'found') lock?.release();
      settle({ kind: 'retry' });
      return 'retry';
    }
    try {
      let response: IncomingMessage;
      const requestTime = this.ctx.clock();
      try {
        response = await fetchFromOrigin(c.upstream, c.route, origin, conditionals, (status, headers) => forwardInterim(c.res, status, headers));
      } catch (error) {
        if (stale !== null && staleIfErrorAllows(stale.entry.policy, this.ctx.clock())) {
          settle({ kind: 'entry', key, entry: stale.entry, status: 'STALE' });
          this.responses.sendEntry(c, stale.entry, 'STALE');
          return 'served';
        }
        settle({ kind: 'pass' });
        this.responses.upstreamFailed(c, error, 'MISS');
        return 'served';
      }
      return await this.onResponse(c, true, from, response, settle, lock, requestTime);
    } finally {
      lock?.release();
    }
  }

  /** Stale-while-revalidate: refreshes `found` while the client already has the stale entry. */
  refreshInBackground(c: CacheRequest, keys: Keys, found: Found, conditionals: Readonly<Record<string, string>>): void {
    if (this.coalescing.inFlight(found.key) !== undefined) return;
    const origin = originRequestFor(c.req, c.target, c.upstream);
    const flight = this.coalescing.open(found.key);
    const from: FillFrom = { keys, key: found.key, stale: found, marker: found.marker, conditionals };
    const task = (async (): Promise<void> => {
      let lock: Lock | null = null;
      if (this.ctx.store.shared) {
        const taken = await this.coalescing.tryLockOnce(c, found.key);
        if (taken === 'held') return; // another instance is refreshing it
        lock = taken;
      }
      try {
        let response: IncomingMessage;
        const requestTime = this.ctx.clock();
        try {
          response = await fetchFromOrigin(c.upstream, c.route, origin, conditionals);
        } catch {
          return; // the stale entry stays; the next request tries again
        }
        const led = await this.onResponse(c, false, from, response, flight.settle, lock, requestTime);
        if (led === 'retry') await this.writes.deleteQuietly(found.key);
      } finally {
        lock?.release();
      }
    })()
      .catch((error: unknown) => this.ctx.logger.warn('background cache refresh failed', { route: c.route, cause: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        flight.land();
        this.background.delete(task);
      });
    this.background.add(task);
  }

  /** Background refreshes still running (the cache waits for them, briefly, on close). */
  pending(): Promise<unknown> {
    return Promise.allSettled([...this.background]);
  }

  /**
   * Legacy answered: revalidated (304), failed with a usable stale entry (5xx + stale-if-error),
   * or a full response to store — or to stream through when it is not storable or too large.
   * `toClient` is false for background refreshes.
   */
  private async onResponse(c: CacheRequest, toClient: boolean, from: FillFrom, response: IncomingMessage, settle: Settle, lock: Lock | null, requestTime: number): Promise<Led> {
    const { keys, key, stale, marker } = from;
    const status = response.statusCode ?? 502;
    const headers = response.headers;
    const now = this.ctx.clock();
    const settings = { cache: c.cache, keepStaleSeconds: c.settings.keepStaleSeconds, now, requestTime, wallNow: this.ctx.wallClock() };

    if (status === 304 && stale !== null) {
      response.resume();
      const updated = applyNotModified(stale.entry.meta, headers, { ...settings, view: stale.view });
      if (!updated.ok) {
        // A 304 whose validators do not match what we hold: forget the entry, ask again in full.
        await this.writes.deleteQuietly(key);
        settle({ kind: 'retry' });
        return 'retry';
      }
      const decision = updated.decision;
      // Not storable any more: the client still gets the refreshed response once, aged from this 304.
      const policy: Policy = decision.store ? decision.policy : { ...stale.entry.policy, responseTime: now, initialAgeMs: ageValue(headers.age) * 1000, lifetimeMs: 0 };
      const meta: EntryMeta = { ...stale.entry.meta, headers: storedHeaders(updated.headers), policy, storedAt: now };
      const value = encodeRecord({ kind: 'entry', meta, body: stale.entry.body });
      const entry = decodeEntry(value);
      // Written before anyone is answered, so a client's answer implies every instance sees the
      // refreshed entry (followers on this instance included).
      if (decision.store) await this.writes.writeQuietly(key, value, decision.storeTtlMs);
      else await this.writes.deleteQuietly(key);
      settle(decision.store ? { kind: 'entry', key, entry, status: 'REVALIDATED' } : { kind: 'pass' });
      lock?.release();
      if (toClient) this.responses.sendEntry(c, entry, 'REVALIDATED');
      return 'served';
    }

    if (status >= 500 && stale !== null && staleIfErrorAllows(stale.entry.policy, now, status)) {
      response.resume();
      settle({ kind: 'entry', key, entry: stale.entry, status: 'STALE' });
      if (toClient) this.responses.sendEntry(c, stale.entry, 'STALE');
      return 'served';
    }

    const vary = parseVary(headers.vary);
    const view = viewOf(c, keys, vary === '*' ? [] : vary);
    const decision = decideStorage({ ...settings, view, status, headers: withRepeatedSingletons(response) });
    const declared = contentLength(headers);
    const client = toClient ? c : null;
    if (!decision.store || (declared !== undefined && declared > c.cache.maxEntryBytes)) {
      settle({ kind: 'pass' });
      lock?.release();
      // Only legacy's answer may turn caching off for the URL or evict what we hold: a request
      // that merely asked not to be stored (no-store, Authorization) must not, or any client could
      // switch the cache and its stampede protection off for everyone.
      if (!decision.store && decideStorage({ ...settings, view: withoutRequestDirectives(view), status, headers }).store) {
        await streamThrough(this.ctx, client, response, status, headers, null);
        return 'served';
      }
      this.ctx.passes.remember(key);
      // Legacy's current answer is not storable: what we held for the URL is outdated.
      if (stale !== null && status < 500) await this.writes.deleteQuietly(key);
      await streamThrough(this.ctx, client, response, status, headers, null);
      return 'served';
    }

    const reusesMarker = decision.vary.length > 0 && marker !== null && sameList(marker.vary, decision.vary);
    const generation = decision.vary.length === 0 ? '' : reusesMarker ? marker.generation : randomBytes(6).toString('hex');
    const storeKey = decision.vary.length === 0 ? keys.base : variantKey(keys.base, decision.vary, view, generation);
    await streamThrough(this.ctx, client, response, status, headers, {
      limit: c.cache.maxEntryBytes,
      overflow: () => {
        settle({ kind: 'pass' });
        lock?.release();
        this.ctx.passes.remember(key);
      },
      complete: async (chunks) => {
        const meta: EntryMeta = {
          status,
          headers: storedHeaders(headers),
          policy: decision.policy,
          vary: decision.vary,
          generation,
          route: c.route,
          target: keys.url,
          storedAt: this.ctx.clock(),
        };
        const value = encodeRecord({ kind: 'entry', meta, body: chunks });
        // Stored first: followers waiting on this flight get the entry only once other instances can too.
        await this.writes.write(keys.base, storeKey, value, decision, generation, reusesMarker);
        settle({ kind: 'entry', key: storeKey, entry: decodeEntry(value), status: 'MISS' });
      },
      abort: () => settle({ kind: 'pass' }),
    });
    return 'served';
  }

}

/** The request view minus what only the request asked for (its Cache-Control, Pragma, credential). */
function withoutRequestDirectives(view: Readonly<Record<string, string>>): Record<string, string> {
  const plain: Record<string, string> = { ...view };
  delete plain['cache-control'];
  delete plain['pragma'];
  delete plain['authorization'];
  return plain;
}

function contentLength(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['content-length'];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Origin headers as stored: no framing (the stored body's length is exact), no hop-by-hop. */
function storedHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    // Age is recomputed on every use (the policy holds the origin's own Age).
    if (value === undefined || name === 'content-length' || name === 'transfer-encoding' || name === 'age') continue;
    out[name] = value;
  }
  return out;
}

/**
 * Node keeps only the first of repeated singleton headers such as Expires; RFC 9111 §4.2.1 says
 * two Expires lines are invalid freshness (stale), so the policy sees every line.
 */
function withRepeatedSingletons(response: IncomingMessage): Headers {
  const expires: string[] = [];
  for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) if (response.rawHeaders[i]?.toLowerCase() === 'expires') expires.push(response.rawHeaders[i + 1] ?? '');
  return expires.length > 1 ? { ...response.headers, expires } : response.headers;
}
