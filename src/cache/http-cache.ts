import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import fresh from 'fresh';
import type { CacheSettings, RouteCacheConfig } from '../config/types.js';
import { sendProblem } from '../errors/problem.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import type { Logger } from '../logging/logger.js';
import { forwardInterim } from '../proxy/interim-response.js';
import type { DispatchKind, ForwardTarget, UpstreamClient, UpstreamRequest } from '../proxy/upstream-client.js';
import { baseKey, cacheTarget, digest, FORWARDING_HEADERS, lockKey, normaliseHost, parseVary, requestView, variantKey } from './cache-key.js';
import { ageSeconds, ageValue, applyNotModified, decideStorage, evaluateLookup, isSafeMethod, onlyIfCached, requestNoStore, staleIfErrorAllows, type Clock, type Headers, type Policy, type StorageDecision } from './cache-policy.js';
import { CacheStats, type CacheStatus } from './cache-stats.js';
import { CacheUnavailableError } from './cache-store.js';
import { decodeRecord, encodeRecord, type EntryMeta, type VaryMarker } from './entry-codec.js';
import type { GuardedStore } from './guarded-store.js';
import { fetchFromOrigin, originRequestFor } from './origin-fetch.js';

export const CACHE_HEADER = 'x-switchyard-cache';

/** One request to a legacy route whose `cache` block is on. */
export interface CacheRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly route: string;
  readonly cache: RouteCacheConfig;
  readonly settings: CacheSettings;
  readonly upstream: UpstreamClient;
  /** How a request the cache passes on is proxied (see UpstreamClient.forward). */
  readonly via?: DispatchKind;
  readonly target: ForwardTarget;
  /**
   * The cached route that serves a raw path (and the path normalised), if any: a successful unsafe
   * request also invalidates its `Location` / `Content-Location` URLs, which may be another route's.
   */
  readonly routeOf?: (rawPath: string) => { readonly route: string; readonly path: string } | null;
}

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
}

interface Keys {
  /** Key of the URL's entry or Vary marker. */
  readonly base: string;
  /** Normalised host, as the policy's request view has it. */
  readonly host: string;
  /** Keyed request target (path and ordered query): the policy's URL. */
  readonly url: string;
}

interface LoadedEntry {
  readonly meta: EntryMeta;
  readonly body: Buffer;
  readonly policy: Policy;
}

interface Found {
  readonly key: string;
  readonly entry: LoadedEntry;
  readonly view: Record<string, string>;
  /** The URL's Vary marker when the entry is one of its variants (a refresh keeps its generation). */
  readonly marker: VaryMarker | null;
}

type Lookup = ({ readonly kind: 'entry' } & Found) | { readonly kind: 'miss'; readonly key: string; readonly marker: VaryMarker | null };

/** What the requests that waited for a leader get. */
type Outcome = { readonly kind: 'entry'; readonly key: string; readonly entry: LoadedEntry; readonly status: CacheStatus } | { readonly kind: 'pass' } | { readonly kind: 'retry' };
type Led = 'served' | 'retry';

interface Lock {
  release(): void;
}

/** Bodies that a response must not have (no Content-Length is sent for them). */
const NO_BODY = new Set([204, 304]);
/** Headers a 304 carries (RFC 9110 §15.4.5), besides ours. */
const NOT_MODIFIED_HEADERS = ['cache-control', 'content-location', 'date', 'etag', 'expires', 'vary', 'last-modified', 'age'];
const MAX_ATTEMPTS = 3;
const PASS_MEMO_LIMIT = 10_000;
const VARY_MARKER_MIN_TTL_MS = 3_600_000;

/**
 * The response cache in front of legacy routes. Per request: build the key, look it up (one or
 * two store reads), and serve HIT / STALE (stale-while-revalidate, refreshed in the background),
 * or become the one request that asks legacy — conditionally when a stale entry has validators —
 * while concurrent requests for the key wait for it (single-flight here, a short SET NX PX lock
 * across instances). The leader streams legacy's answer to its client as it arrives and keeps a
 * copy only while it fits `maxEntryBytes`. A cache that fails or is slow turns into BYPASS: the
 * request goes to legacy through the ordinary proxy, and the client never sees the cache's error.
 */
export class HttpCache {
  readonly stats = new CacheStats();
  private readonly flights = new Map<string, Promise<Outcome>>();
  private readonly passMemo = new Map<string, number>();
  private readonly background = new Set<Promise<void>>();
  /** Decoded records of an in-process store, by the stored Buffer: a hit skips JSON and policy parsing. */
  private readonly decoded = new WeakMap<Buffer, Found>();
  private readonly passMemoMs: number;
  private readonly lockPollMs: number;
  private closed = false;

  constructor(private readonly options: HttpCacheOptions) {
    this.passMemoMs = options.passMemoMs ?? 10_000;
    this.lockPollMs = options.lockPollMs ?? 25;
  }

  get store(): GuardedStore {
    return this.options.store;
  }

  /** Serves the request (from the cache, or from legacy through it); never throws. */
  handle(c: CacheRequest): void {
    const method = c.req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      // Any method that is not safe — M-SEARCH and other extensions too (RFC 9111 §4.4).
      if (!isSafeMethod(method)) this.invalidateAfter(c);
      return this.passThrough(c, 'BYPASS');
    }
    const h = c.req.headers;
    // Ranges, preconditions and request bodies are legacy's business; an unreachable store too.
    // Cookies too, like Varnish's default: the answer may be personalised without saying so (no
    // Vary: Cookie, no private). Routes that know better set allowCookies.
    const personal = !c.cache.allowCookies && h.cookie !== undefined && h.cookie !== '';
    // `Cache-Control: no-store` on the request: nothing of this exchange may be kept (§5.2.1.5),
    // so it goes straight to legacy — without evicting what others use.
    const noStore = h['cache-control'] !== undefined && requestNoStore({ 'cache-control': h['cache-control'] });
    // Authorization too: legacy must see the credential (and may answer it differently, or
    // refuse it); an entry stored for anonymous requests is not its answer. RFC 9111 §3.5 only
    // governs storing answers to such requests; passing them through is the safe reading.
    const authorised = !c.cache.allowAuthorized && h.authorization !== undefined;
    const uncacheableRequest = personal || authorised || noStore || h.range !== undefined || h['if-match'] !== undefined || h['if-unmodified-since'] !== undefined || h['if-range'] !== undefined || hasBody(h);
    if (uncacheableRequest || this.closed || !this.store.available()) return this.passThrough(c, 'BYPASS');
    this.serve(c).catch((error: unknown) => {
      if (!(error instanceof CacheUnavailableError)) this.options.logger.error('response cache failed; bypassing it', { route: c.route, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      if (!c.res.headersSent) this.passThrough(c, 'BYPASS');
      else c.res.destroy();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lookup and serving

  private async serve(c: CacheRequest): Promise<void> {
    const keys = this.keys(c);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await this.lookup(c, keys);
      let outcome: Outcome | Led;
      if (found.kind === 'entry') {
        const verdict = evaluateLookup(found.entry.policy, found.view, this.options.clock());
        if (verdict.kind === 'fresh') return this.sendEntry(c, found.entry, 'HIT');
        if (verdict.kind === 'stale-accepted') return this.sendEntry(c, found.entry, 'STALE');
        if (verdict.kind === 'stale-while-revalidate') {
          this.sendEntry(c, found.entry, 'STALE');
          return this.refreshInBackground(c, keys, found, verdict.conditionals);
        }
        if (onlyIfCached(found.view)) return this.notCached(c);
        outcome = await this.leadOrFollow(c, keys, found.key, found, found.marker, verdict.conditionals);
      } else {
        if (onlyIfCached(this.view(c, keys, []))) return this.notCached(c);
        if (this.remembersPass(found.key)) return this.passThrough(c, 'MISS');
        outcome = await this.leadOrFollow(c, keys, found.key, null, found.marker, {});
      }
      if (outcome === 'served') return;
      if (outcome === 'retry' || outcome.kind === 'retry') continue;
      if (outcome.kind === 'pass') return this.passThrough(c, 'MISS');
      // Waited for a leader: its entry answers this request too if this request maps to its key.
      if (this.expectedKey(c, keys, outcome.entry.meta) === outcome.key) return this.sendEntry(c, outcome.entry, outcome.status === 'MISS' ? 'HIT' : outcome.status);
    }
    this.passThrough(c, 'MISS');
  }

  private keys(c: CacheRequest): Keys {
    const proto = 'encrypted' in c.req.socket && c.req.socket.encrypted === true ? 'https' : 'http';
    const headers = c.req.headers;
    let forwarded: Record<string, string | string[]> | null = null;
    if (c.target.trustForwarded) {
      forwarded = {};
      for (const name of FORWARDING_HEADERS) {
        const value = headers[name];
        if (value !== undefined) forwarded[name] = value;
      }
    }
    const authorization = headers.authorization;
    const base = baseKey({
      namespace: c.settings.namespace,
      keyVersion: c.settings.keyVersion,
      route: c.route,
      path: c.target.path,
      query: c.target.query,
      host: headers.host ?? '',
      proto,
      forwarded,
      credential: c.cache.allowAuthorized && authorization !== undefined ? digest(authorization) : null,
    });
    return { base, host: normaliseHost(headers.host, proto), url: cacheTarget(c.target.path, c.target.query) };
  }

  private view(c: CacheRequest, keys: Keys, vary: readonly string[]): Record<string, string> {
    return requestView(c.req.headers, keys.host, vary, c.cache.allowAuthorized);
  }

  private expectedKey(c: CacheRequest, keys: Keys, meta: EntryMeta): string {
    return meta.vary.length === 0 ? keys.base : variantKey(keys.base, meta.vary, this.view(c, keys, meta.vary), meta.generation);
  }

  private async lookup(c: CacheRequest, keys: Keys): Promise<Lookup> {
    const value = await this.store.get(keys.base);
    const known = value === null ? undefined : this.decoded.get(value);
    if (known !== undefined) return { kind: 'entry', ...known, view: this.view(c, keys, known.entry.meta.vary) };
    const record = decodeRecord(value ?? Buffer.alloc(0));
    if (record === null) return { kind: 'miss', key: keys.base, marker: null };
    if (record.kind === 'entry') return { kind: 'entry', ...this.loaded(value, keys.base, record.meta, record.body, c, keys, null) };
    const key = variantKey(keys.base, record.vary, this.view(c, keys, record.vary), record.generation);
    const variantValue = await this.store.get(key);
    const knownVariant = variantValue === null ? undefined : this.decoded.get(variantValue);
    if (knownVariant !== undefined) return { kind: 'entry', ...knownVariant, view: this.view(c, keys, knownVariant.entry.meta.vary), marker: record };
    const variant = decodeRecord(variantValue ?? Buffer.alloc(0));
    if (variant === null || variant.kind !== 'entry') return { kind: 'miss', key, marker: record };
    return { kind: 'entry', ...this.loaded(variantValue, key, variant.meta, variant.body, c, keys, record) };
  }

  private loaded(value: Buffer | null, key: string, meta: EntryMeta, body: Buffer, c: CacheRequest, keys: Keys, marker: VaryMarker | null): Found {
    const found: Found = { key, entry: { meta, body, policy: meta.policy }, view: this.view(c, keys, meta.vary), marker };
    // Only an in-process store hands back the same Buffer again; policies are read-only.
    if (value !== null && this.store.inner.inProcess === true) this.decoded.set(value, found);
    return found;
  }

  private sendEntry(c: CacheRequest, entry: LoadedEntry, status: CacheStatus): void {
    this.stats.count(c.route, status);
    const headers: OutgoingHttpHeaders = { ...entry.meta.headers };
    if (!NO_BODY.has(entry.meta.status)) headers['content-length'] = entry.body.length;
    headers['age'] = String(ageSeconds(entry.policy, this.options.clock()));
    headers[CACHE_HEADER] = status;
    if (c.res.destroyed) return;
    if (entry.meta.status === 200 && clientHasIt(c.req.headers, headers)) {
      c.res.writeHead(304, notModifiedHeaders(headers));
      c.res.end();
      return;
    }
    c.res.writeHead(entry.meta.status, headers);
    c.res.end(c.req.method === 'HEAD' ? undefined : entry.body);
  }

  /** `only-if-cached` and nothing usable stored: 504, legacy is not asked (RFC 9111 §5.2.1.7). */
  private notCached(c: CacheRequest): void {
    this.stats.count(c.route, 'MISS');
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, 'MISS');
    sendProblem(c.res, new SwitchyardError('SWITCHYARD_NOT_CACHED', 'the request asked for a cached response only (only-if-cached) and none is stored', { status: 504 }), { route: c.route });
  }

  private passThrough(c: CacheRequest, status: CacheStatus): void {
    this.stats.count(c.route, status);
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, status);
    c.upstream.forward(c.req, c.res, c.target, c.via);
  }

  // ---------------------------------------------------------------------------------------------
  // Asking legacy: one leader per key, the others wait for its outcome

  private async leadOrFollow(c: CacheRequest, keys: Keys, key: string, stale: Found | null, marker: VaryMarker | null, conditionals: Readonly<Record<string, string>>): Promise<Outcome | Led> {
    const inFlight = this.flights.get(key);
    if (inFlight !== undefined) return inFlight;
    const settle = this.openFlight(key);
    try {
      return await this.lead(c, keys, key, stale, marker, conditionals, settle);
    } finally {
      // Followers are answered once the entry is written (or the outcome is a pass); the flight
      // stays registered until then, so a request arriving in between joins instead of missing.
      settle({ kind: 'pass' });
      this.flights.delete(key);
    }
  }

  private openFlight(key: string): (outcome: Outcome) => void {
    let resolve!: (outcome: Outcome) => void;
    this.flights.set(key, new Promise<Outcome>((r) => (resolve = r)));
    let settled = false;
    return (outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
  }

  private async lead(c: CacheRequest, keys: Keys, key: string, stale: Found | null, marker: VaryMarker | null, conditionals: Readonly<Record<string, string>>, settle: (o: Outcome) => void): Promise<Led> {
    const origin = this.originRequest(c);
    const lock = await this.acquireLock(c, key, stale);
    // Another instance may have stored the entry between this request's read and its lock:
    // with the lock held, read again, or both instances fill the same key.
    if (lock === 'found' || (lock !== null && (await this.storedSince(key, stale)))) {
      if (lock !== 'found') lock?.release();
      settle({ kind: 'retry' });
      return 'retry';
    }
    try {
      let response: IncomingMessage;
      const requestTime = this.options.clock();
      try {
        response = await fetchFromOrigin(c.upstream, c.route, origin, conditionals, (status, headers) => forwardInterim(c.res, status, headers));
      } catch (error) {
        if (stale !== null && staleIfErrorAllows(stale.entry.policy, this.options.clock())) {
          settle({ kind: 'entry', key, entry: stale.entry, status: 'STALE' });
          this.sendEntry(c, stale.entry, 'STALE');
          return 'served';
        }
        settle({ kind: 'pass' });
        this.failed(c, error);
        return 'served';
      }
      return await this.onResponse(c, true, keys, key, stale, marker, response, settle, lock, requestTime);
    } finally {
      lock?.release();
    }
  }

  /**
   * Legacy answered: revalidated (304), failed with a usable stale entry (5xx + stale-if-error),
   * or a full response to store — or to stream through when it is not storable or too large.
   * `toClient` is false for background refreshes.
   */
  private async onResponse(c: CacheRequest, toClient: boolean, keys: Keys, key: string, stale: Found | null, marker: VaryMarker | null, response: IncomingMessage, settle: (o: Outcome) => void, lock: Lock | null, requestTime: number): Promise<Led> {
    const status = response.statusCode ?? 502;
    const headers = response.headers;
    const now = this.options.clock();
    const settings = { cache: c.cache, keepStaleSeconds: c.settings.keepStaleSeconds, now, requestTime, wallNow: (this.options.wallClock ?? Date.now)() };

    if (status === 304 && stale !== null) {
      response.resume();
      const updated = applyNotModified(stale.entry.meta, headers, { ...settings, view: stale.view });
      if (!updated.ok) {
        // A 304 whose validators do not match what we hold: forget the entry, ask again in full.
        await this.deleteQuietly(key);
        settle({ kind: 'retry' });
        return 'retry';
      }
      const decision = updated.decision;
      // Not storable any more: the client still gets the refreshed response once, aged from this 304.
      const policy: Policy = decision.store ? decision.policy : { ...stale.entry.policy, responseTime: now, initialAgeMs: ageValue(headers.age) * 1000, lifetimeMs: 0 };
      const meta: EntryMeta = { ...stale.entry.meta, headers: storedHeaders(updated.headers), policy, storedAt: now };
      const value = encodeRecord({ kind: 'entry', meta, body: stale.entry.body });
      const entry = this.decodeEntry(value);
      // Written before anyone is answered, so a client's answer implies every instance sees the
      // refreshed entry (followers on this instance included).
      if (decision.store) await this.writeQuietly(key, value, decision.storeTtlMs);
      else await this.deleteQuietly(key);
      settle(decision.store ? { kind: 'entry', key, entry, status: 'REVALIDATED' } : { kind: 'pass' });
      lock?.release();
      if (toClient) this.sendEntry(c, entry, 'REVALIDATED');
      return 'served';
    }

    if (status >= 500 && stale !== null && staleIfErrorAllows(stale.entry.policy, now, status)) {
      response.resume();
      settle({ kind: 'entry', key, entry: stale.entry, status: 'STALE' });
      if (toClient) this.sendEntry(c, stale.entry, 'STALE');
      return 'served';
    }

    const vary = parseVary(headers.vary);
    const view = this.view(c, keys, vary === '*' ? [] : vary);
    const decision = decideStorage({ ...settings, view, status, headers: withRepeatedSingletons(response) });
    const declared = contentLength(headers);
    if (!decision.store || (declared !== undefined && declared > c.cache.maxEntryBytes)) {
      settle({ kind: 'pass' });
      lock?.release();
      // Only legacy's answer may turn caching off for the URL or evict what we hold: a request
      // that merely asked not to be stored (no-store, Authorization) must not, or any client could
      // switch the cache and its stampede protection off for everyone.
      if (!decision.store && decideStorage({ ...settings, view: withoutRequestDirectives(view), status, headers }).store) {
        await this.streamThrough(toClient ? c : null, response, status, headers, null);
        return 'served';
      }
      this.rememberPass(key);
      // Legacy's current answer is not storable: what we held for the URL is outdated.
      if (stale !== null && status < 500) await this.deleteQuietly(key);
      await this.streamThrough(toClient ? c : null, response, status, headers, null);
      return 'served';
    }

    const reusesMarker = decision.vary.length > 0 && marker !== null && sameList(marker.vary, decision.vary);
    const generation = decision.vary.length === 0 ? '' : reusesMarker ? marker.generation : randomBytes(6).toString('hex');
    const storeKey = decision.vary.length === 0 ? keys.base : variantKey(keys.base, decision.vary, view, generation);
    await this.streamThrough(toClient ? c : null, response, status, headers, {
      limit: c.cache.maxEntryBytes,
      overflow: () => {
        settle({ kind: 'pass' });
        lock?.release();
        this.rememberPass(key);
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
          storedAt: this.options.clock(),
        };
        const value = encodeRecord({ kind: 'entry', meta, body: chunks });
        // Stored first: followers waiting on this flight get the entry only once other instances can too.
        await this.write(keys.base, storeKey, value, decision, generation, reusesMarker);
        settle({ kind: 'entry', key: storeKey, entry: this.decodeEntry(value), status: 'MISS' });
      },
      abort: () => settle({ kind: 'pass' }),
    });
    return 'served';
  }

  /**
   * Sends legacy's response to the client as it arrives (or a 304 when the client already has
   * it), optionally keeping a copy while it stays within `capture.limit` (then stored before the
   * response ends). While copying, the
   * client's pace does not hold legacy up (the copy is in memory anyway); once the response is
   * too large to keep, backpressure applies and nothing is buffered beyond the socket's own.
   */
  private streamThrough(
    c: CacheRequest | null,
    response: IncomingMessage,
    status: number,
    headers: IncomingHttpHeaders,
    capture: { limit: number; overflow(): void; complete(chunks: Buffer[]): Promise<void>; abort(): void } | null,
  ): Promise<void> {
    const res = c?.res ?? null;
    let sending = false;
    if (c !== null && res !== null) {
      this.stats.count(c.route, 'MISS');
      const out: OutgoingHttpHeaders = { ...headers, [CACHE_HEADER]: 'MISS' };
      delete out['transfer-encoding'];
      if (!res.destroyed && !res.headersSent) {
        if (status === 200 && clientHasIt(c.req.headers, out)) {
          res.writeHead(304, notModifiedHeaders(out));
          res.end();
        } else {
          res.writeHead(status, out);
          if (c.req.method === 'HEAD') res.end();
          else sending = true;
        }
      }
    }
    return new Promise<void>((resolve) => {
      let chunks: Buffer[] | null = capture === null ? null : [];
      let size = 0;
      let ended = false;
      let completing = false;
      let held: Buffer | null = null;
      const useless = (): boolean => !sending && chunks === null;
      response.on('data', (chunk: Buffer) => {
        if (chunks !== null) {
          size += chunk.length;
          if (size > (capture?.limit ?? 0)) {
            chunks = null;
            capture?.overflow();
          } else chunks.push(chunk);
        }
        if (sending && res !== null) {
          // While the copy may still be stored, the latest chunk is held back: with Content-Length
          // framing a client has the whole response once its last byte arrives, and that must not
          // happen before the entry is written (another instance would miss it).
          const outgoing: Buffer[] = held === null ? [] : [held];
          held = null;
          if (chunks !== null) held = chunk;
          else outgoing.push(chunk);
          let flowing = true;
          for (const part of outgoing) flowing = res.write(part) && flowing;
          if (!flowing && chunks === null) {
            response.pause();
            res.once('drain', () => response.resume());
          }
        } else if (useless()) response.destroy();
      });
      response.once('end', () => {
        ended = true;
        if (chunks === null || capture === null) {
          if (sending) res?.end();
          return;
        }
        // The entry is written (within the store's operation timeout) before the response ends:
        // once a client has it, every instance sharing the store can answer from it.
        completing = true;
        void capture
          .complete(chunks)
          .catch(() => {
            // Writes never throw (writeQuietly); a bug here must still end the response.
          })
          .finally(() => {
            if (sending) res?.end(held ?? undefined);
            resolve();
          });
      });
      response.on('error', () => {
        // 'close' follows and handles it.
      });
      response.once('close', () => {
        if (!ended) {
          if (sending) res?.destroy();
          capture?.abort();
        }
        if (!completing) resolve();
      });
      res?.once('close', () => {
        if (res.writableFinished) return;
        sending = false;
        if (useless()) response.destroy();
        else response.resume();
      });
    });
  }

  private failed(c: CacheRequest, error: unknown): void {
    // Already logged and mapped by the upstream client.
    const failure = toUpstreamFailure(c.upstream.config.name, error);
    this.stats.count(c.route, 'MISS');
    if (!c.res.headersSent) c.res.setHeader(CACHE_HEADER, 'MISS');
    sendProblem(c.res, failure, { route: c.route, upstream: c.upstream.config.name });
  }

  private originRequest(c: CacheRequest): UpstreamRequest {
    return originRequestFor(c.req, c.target, c.upstream);
  }

  private decodeEntry(value: Buffer): LoadedEntry {
    const record = decodeRecord(value);
    if (record === null || record.kind !== 'entry') throw new Error('cache entry did not round-trip');
    return { meta: record.meta, body: record.body, policy: record.meta.policy };
  }

  // ---------------------------------------------------------------------------------------------
  // Stale-while-revalidate

  private refreshInBackground(c: CacheRequest, keys: Keys, found: Found, conditionals: Readonly<Record<string, string>>): void {
    if (this.closed || this.flights.has(found.key)) return;
    const origin = this.originRequest(c);
    const settle = this.openFlight(found.key);
    const task = (async (): Promise<void> => {
      let lock: Lock | null = null;
      if (this.store.shared) {
        const taken = await this.tryLockOnce(c, found.key);
        if (taken === 'held') return; // another instance is refreshing it
        lock = taken;
      }
      try {
        let response: IncomingMessage;
        const requestTime = this.options.clock();
        try {
          response = await fetchFromOrigin(c.upstream, c.route, origin, conditionals);
        } catch {
          return; // the stale entry stays; the next request tries again
        }
        const led = await this.onResponse(c, false, keys, found.key, found, found.marker, response, settle, lock, requestTime);
        if (led === 'retry') await this.deleteQuietly(found.key);
      } finally {
        lock?.release();
      }
    })()
      .catch((error: unknown) => this.options.logger.warn('background cache refresh failed', { route: c.route, cause: error instanceof Error ? error.message : String(error) }))
      .finally(() => {
        settle({ kind: 'pass' });
        this.flights.delete(found.key);
        this.background.delete(task);
      });
    this.background.add(task);
  }

  // ---------------------------------------------------------------------------------------------
  // Cross-instance lock

  /**
   * For shared stores: take the key's fill lock, or wait for the instance holding it to store
   * the entry ('found': look it up again). Store trouble or a lock held past its lifetime means
   * no lock: this instance asks legacy itself rather than wait longer.
   */
  private async acquireLock(c: CacheRequest, key: string, stale: Found | null): Promise<Lock | 'found' | null> {
    if (!this.store.shared) return null;
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
  private async storedSince(key: string, stale: Found | null): Promise<boolean> {
    try {
      const record = decodeRecord((await this.store.get(key)) ?? Buffer.alloc(0));
      return record !== null && (record.kind === 'vary' || stale === null || record.meta.storedAt !== stale.entry.meta.storedAt);
    } catch {
      return false;
    }
  }

  private async tryLockOnce(c: CacheRequest, key: string): Promise<Lock | 'held' | null> {
    const name = lockKey(c.settings.namespace, c.settings.keyVersion, key);
    let token: string | null;
    try {
      token = await this.store.tryLock(name, c.settings.lockTtlMs);
    } catch {
      return null;
    }
    if (token === null) return 'held';
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.store.unlock(name, token).catch(() => {
          // The lock expires by itself.
        });
      },
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Writes, invalidation, purges

  /**
   * The variant goes first, its Vary marker second: an instance that sees the marker always finds
   * the variant (seeing no marker, it waits on the fill lock this instance holds). A variant whose
   * marker write fails is unreachable and expires by itself.
   */
  private async write(base: string, storeKey: string, value: Buffer, decision: Extract<StorageDecision, { store: true }>, generation: string, reusesMarker: boolean): Promise<void> {
    // A fill that joined the marker it found at lookup must not bring that marker back once it is
    // gone: an unsafe request (or a purge) deleted it meanwhile to orphan every older variant.
    if (reusesMarker && !(await this.markerStillHolds(base, generation))) return;
    if (!(await this.writeQuietly(storeKey, value, decision.storeTtlMs)) || decision.vary.length === 0) return;
    const marker = encodeRecord({ kind: 'vary', vary: decision.vary, generation });
    await this.writeQuietly(base, marker, Math.max(decision.storeTtlMs, VARY_MARKER_MIN_TTL_MS));
  }

  private async markerStillHolds(base: string, generation: string): Promise<boolean> {
    try {
      const record = decodeRecord((await this.store.get(base)) ?? Buffer.alloc(0));
      return record !== null && record.kind === 'vary' && record.generation === generation;
    } catch {
      return false;
    }
  }

  private async writeQuietly(key: string, value: Buffer, ttlMs: number): Promise<boolean> {
    try {
      await this.store.set(key, value, ttlMs);
      return true;
    } catch (error) {
      this.options.logger.debug('cache write skipped', { cause: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  private async deleteQuietly(key: string): Promise<void> {
    try {
      await this.store.delete(key);
    } catch {
      // Expires by itself.
    }
  }

  /**
   * RFC 9111 §4.4: a non-error answer (2xx, 3xx) to an unsafe request invalidates the stored
   * responses for its URL, and for the URLs in its Location and Content-Location when they have
   * the same origin.
   */
  private invalidateAfter(c: CacheRequest): void {
    const keys = [this.keys(c).base];
    c.res.once('finish', () => {
      if (c.res.statusCode < 200 || c.res.statusCode >= 400 || !this.store.available()) return;
      for (const name of ['location', 'content-location']) {
        const other = this.sameOriginKey(c, c.res.getHeader(name));
        if (other !== null) keys.push(other);
      }
      for (const key of keys) {
        this.passMemo.delete(key);
        // Deleting the entry or the Vary marker orphans every variant (see variantKey).
        void this.deleteQuietly(key);
      }
    });
  }

  /** The base key of a Location-like URL, when it is on this request's origin and a cached route serves it. */
  private sameOriginKey(c: CacheRequest, value: number | string | string[] | undefined): string | null {
    if (typeof value !== 'string' || value === '') return null;
    const proto = 'encrypted' in c.req.socket && c.req.socket.encrypted === true ? 'https' : 'http';
    const here = `${proto}://${c.req.headers.host ?? 'localhost'}`;
    let url: URL;
    try {
      url = new URL(value, here + c.target.path);
    } catch {
      return null;
    }
    if (url.origin !== new URL(here).origin) return null;
    const located = c.routeOf?.(url.pathname) ?? null;
    if (located === null) return null;
    const { route, path } = located;
    return this.keys({ ...c, route, target: { ...c.target, route, path, query: url.search } }).base;
  }

  /** Deletes every key under `prefix` that passes `filter` (see cache-purge.ts). */
  async purge(prefix: string, filter?: (key: string) => boolean): Promise<number> {
    this.passMemo.clear();
    return this.store.deleteMatching(prefix, filter, 30_000);
  }

  private rememberPass(key: string): void {
    if (this.passMemo.size >= PASS_MEMO_LIMIT) {
      const oldest = this.passMemo.keys().next();
      if (oldest.done !== true) this.passMemo.delete(oldest.value);
    }
    this.passMemo.set(key, this.options.clock() + this.passMemoMs);
  }

  private remembersPass(key: string): boolean {
    const until = this.passMemo.get(key);
    if (until === undefined) return false;
    if (until > this.options.clock()) return true;
    this.passMemo.delete(key);
    return false;
  }

  /** Waits (briefly) for background refreshes, then closes the store. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.race([Promise.allSettled([...this.background]), delay(2_000)]);
    await this.store.close();
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

function hasBody(headers: IncomingHttpHeaders): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
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

/** The client's conditional (If-None-Match / If-Modified-Since) matches: it may get a 304. */
function clientHasIt(request: IncomingHttpHeaders, response: OutgoingHttpHeaders): boolean {
  if (request['if-none-match'] === undefined && request['if-modified-since'] === undefined) return false;
  const etag = response['etag'];
  const lastModified = response['last-modified'];
  return fresh(request, { etag: typeof etag === 'string' ? etag : undefined, 'last-modified': typeof lastModified === 'string' ? lastModified : undefined });
}

function notModifiedHeaders(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name of NOT_MODIFIED_HEADERS) if (headers[name] !== undefined) out[name] = headers[name];
  out[CACHE_HEADER] = headers[CACHE_HEADER];
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
