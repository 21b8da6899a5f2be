import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestView } from '../../src/cache/cache-key.js';
import { ageSeconds, applyNotModified, clockedPolicyClass, decideStorage, evaluateLookup, staleIfErrorAllows, type Headers, type StorageDecision } from '../../src/cache/cache-policy.js';
import { ROUTE_CACHE_DEFAULTS } from '../../src/config/defaults.js';
import type { RouteCacheConfig } from '../../src/config/types.js';

/** Freshness, storability and staleness with a clock the test moves: no sleeping, no flakiness. */
function setup() {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const Policy = clockedPolicyClass(clock);
  const advance = (seconds: number) => (now += seconds * 1000);
  const view = (headers: Record<string, string> = {}, vary: string[] = []) => requestView(headers, 'shop.example', vary, false);
  const decide = (headers: Headers, cache: Partial<RouteCacheConfig> = {}, request: Record<string, string> = {}, status = 200): StorageDecision =>
    decideStorage(Policy, { view: view(request, []), url: '/p', status, headers, cache: { ...ROUTE_CACHE_DEFAULTS, ...cache }, keepStaleSeconds: 300 });
  const stored = (headers: Headers, cache: Partial<RouteCacheConfig> = {}) => {
    const d = decide(headers, cache);
    assert.ok(d.store, `expected storable: ${JSON.stringify(d)}`);
    return d;
  };
  return { Policy, advance, view, decide, stored, clock };
}

describe('cache policy: what is stored (RFC 9111 shared cache + route overrides)', () => {
  it('stores what the origin marks cacheable', () => {
    const { decide } = setup();
    for (const cc of ['public, max-age=60', 'max-age=60', 's-maxage=60', 'public']) assert.equal(decide({ 'cache-control': cc }).store, true, cc);
    assert.equal(decide({ expires: new Date(Date.UTC(2026, 0, 2)).toUTCString(), date: new Date(Date.UTC(2026, 0, 1)).toUTCString() }).store, true, 'Expires');
  });

  it('never stores private, no-store, Set-Cookie, Vary: * or uncacheable statuses', () => {
    const { decide } = setup();
    const cases: [Headers, string][] = [
      [{ 'cache-control': 'private, max-age=60' }, 'not-storable'],
      [{ 'cache-control': 'no-store' }, 'not-storable'],
      [{ 'cache-control': 'public, max-age=60', 'set-cookie': ['a=1'] }, 'set-cookie'],
      [{ 'cache-control': 'public, max-age=60', vary: 'Accept, *' }, 'vary-star'],
    ];
    for (const [headers, reason] of cases) assert.deepEqual(decide(headers, { cacheUnmarked: true }), { store: false, reason });
    assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, {}, 500).store, false, 'a 500');
    assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, { 'cache-control': 'no-store' }).store, false, 'request no-store');
  });

  it('answers to requests with Authorization only when the response allows it (public, s-maxage, must-revalidate)', () => {
    const { decide } = setup();
    const auth = { authorization: 'Bearer x' };
    assert.equal(decide({ 'cache-control': 'max-age=60' }, {}, auth).store, false);
    assert.equal(decide({ 'cache-control': 'max-age=60' }, { cacheUnmarked: true }, auth).store, false, 'cacheUnmarked never overrides it');
    assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, auth).store, true);
    assert.equal(decide({ 'cache-control': 's-maxage=60' }, {}, auth).store, true);
    assert.equal(decide({ 'cache-control': 'max-age=60, must-revalidate' }, {}, auth).store, true);
  });

  it('unmarked responses only with cacheUnmarked, fresh for defaultTtlSeconds', () => {
    const { decide, stored, view, advance } = setup();
    assert.deepEqual(decide({ 'content-type': 'text/html' }), { store: false, reason: 'unmarked' });
    const d = stored({ 'content-type': 'text/html' }, { cacheUnmarked: true, defaultTtlSeconds: 30 });
    assert.equal(evaluateLookup(d.policy, view(), '/p').kind, 'fresh');
    advance(29);
    assert.equal(evaluateLookup(d.policy, view(), '/p').kind, 'fresh');
    advance(2);
    assert.equal(evaluateLookup(d.policy, view(), '/p').kind, 'revalidate');
    assert.equal(d.storeTtlMs, 30_000, 'no validators: kept exactly as long as it is fresh');
  });

  it('`public` without a lifetime gets defaultTtlSeconds; maxTtlSeconds caps the origin', () => {
    const { stored, view, advance } = setup();
    const d = stored({ 'cache-control': 'public' }, { defaultTtlSeconds: 10 });
    assert.equal(d.policy.maxAge(), 10);
    const capped = stored({ 'cache-control': 'public, max-age=86400' }, { maxTtlSeconds: 60 });
    assert.equal(capped.policy.maxAge(), 60);
    const cappedShared = stored({ 'cache-control': 'public, max-age=10, s-maxage=86400' }, { maxTtlSeconds: 60 });
    assert.equal(cappedShared.policy.maxAge(), 60, 's-maxage wins in a shared cache, and is capped');
    advance(61);
    assert.equal(evaluateLookup(capped.policy, view(), '/p').kind, 'revalidate');
  });

  it('keeps entries with validators past freshness for 304 revalidation; drops what can never be used', () => {
    const { decide } = setup();
    const withEtag = decide({ 'cache-control': 'public, max-age=10', etag: '"v1"' });
    assert.ok(withEtag.store && withEtag.storeTtlMs === 10_000 + 300_000);
    assert.deepEqual(decide({ 'cache-control': 'public, max-age=0' }), { store: false, reason: 'no-freshness' });
    assert.equal(decide({ 'cache-control': 'no-cache', etag: '"v1"' }).store, true, 'no-cache + ETag: stored, revalidated on every use');
  });

  it('Age grows with the clock, from the origin\'s own Age', () => {
    const { stored, advance } = setup();
    const d = stored({ 'cache-control': 'public, max-age=600', age: '5' });
    assert.equal(ageSeconds(d.policy), 5);
    advance(7.9);
    assert.equal(ageSeconds(d.policy), 12);
  });
});

describe('cache policy: stale entries', () => {
  it('stale-while-revalidate from the origin or the route; forbidden by must-revalidate', () => {
    const { stored, view, advance } = setup();
    const origin = stored({ 'cache-control': 'public, max-age=10, stale-while-revalidate=30' });
    const route = stored({ 'cache-control': 'public, max-age=10' }, { staleWhileRevalidateSeconds: 30 });
    const forbidden = stored({ 'cache-control': 'public, max-age=10, must-revalidate' }, { staleWhileRevalidateSeconds: 30 });
    advance(15);
    assert.equal(evaluateLookup(origin.policy, view(), '/p').kind, 'stale-while-revalidate');
    assert.equal(evaluateLookup(route.policy, view(), '/p').kind, 'stale-while-revalidate');
    assert.equal(evaluateLookup(forbidden.policy, view(), '/p').kind, 'revalidate');
    advance(30);
    assert.equal(evaluateLookup(route.policy, view(), '/p').kind, 'revalidate', 'past the window');
  });

  it('stale-if-error within the window only, for unreachable legacy or a 5xx', () => {
    const { stored, view, advance } = setup();
    const route = stored({ 'cache-control': 'public, max-age=10' }, { staleIfErrorSeconds: 60 });
    const origin = stored({ 'cache-control': 'public, max-age=10, stale-if-error=60' });
    const none = stored({ 'cache-control': 'public, max-age=10' });
    const shared = stored({ 'cache-control': 's-maxage=10' }, { staleIfErrorSeconds: 60 });
    advance(30);
    assert.equal(staleIfErrorAllows(route.policy, view(), '/p'), true);
    assert.equal(staleIfErrorAllows(route.policy, view(), '/p', 503), true);
    assert.equal(staleIfErrorAllows(origin.policy, view(), '/p', 500), true);
    assert.equal(staleIfErrorAllows(none.policy, view(), '/p'), false);
    assert.equal(staleIfErrorAllows(shared.policy, view(), '/p'), false, 's-maxage implies proxy-revalidate: no route-level stale');
    advance(60);
    assert.equal(staleIfErrorAllows(route.policy, view(), '/p'), false, 'past the window');
  });

  it('revalidates with the stored validators; a 304 refreshes the entry, headers merged', () => {
    const { stored, view, advance, Policy } = setup();
    const headers = { 'cache-control': 'public, max-age=10', etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT', 'x-app': 'old' };
    const d = stored(headers);
    advance(11);
    const verdict = evaluateLookup(d.policy, view(), '/p');
    assert.equal(verdict.kind, 'revalidate');
    assert.ok(verdict.kind === 'revalidate' && verdict.conditionals['if-none-match'] === '"v1"' && verdict.conditionals['if-modified-since'] === headers['last-modified']);
    const input = { view: view(), url: '/p', cache: ROUTE_CACHE_DEFAULTS, keepStaleSeconds: 300 };
    const updated = applyNotModified(Policy, { status: 200, headers }, { etag: '"v1"', 'cache-control': 'public, max-age=20', 'x-app': 'new' }, input);
    assert.ok(updated.ok && updated.decision.store);
    assert.equal(updated.headers['x-app'], 'new');
    assert.equal(updated.decision.policy.maxAge(), 20);
    assert.equal(evaluateLookup(updated.decision.policy, view(), '/p').kind, 'fresh');
    assert.equal(applyNotModified(Policy, { status: 200, headers }, { etag: '"v2"' }, input).ok, false, 'a 304 for another representation');
  });

  it('honours request directives: no-cache and max-age=0 force revalidation', () => {
    const { stored, view, advance } = setup();
    const d = stored({ 'cache-control': 'public, max-age=600' });
    advance(1);
    assert.equal(evaluateLookup(d.policy, view({ 'cache-control': 'no-cache' }), '/p').kind, 'revalidate');
    assert.equal(evaluateLookup(d.policy, view({ 'cache-control': 'max-age=0' }), '/p').kind, 'revalidate');
    assert.equal(evaluateLookup(d.policy, view(), '/p').kind, 'fresh');
  });
});
