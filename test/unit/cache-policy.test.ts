import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deltaSeconds, formatCacheControl, parseCacheControl } from '../../src/cache/cache-control.js';
import { requestView } from '../../src/cache/cache-key.js';
import { ageSeconds, ageValue, applyNotModified, decideStorage, evaluateLookup, isSafeMethod, onlyIfCached, staleIfErrorAllows, type Headers, type StorageDecision } from '../../src/cache/cache-policy.js';
import { parseHttpDate, parseHttpDateHeader } from '../../src/cache/http-date.js';
import { ROUTE_CACHE_DEFAULTS } from '../../src/config/defaults.js';
import type { RouteCacheConfig } from '../../src/config/types.js';

/** Freshness, storability and staleness with a clock the test moves: no sleeping, no flakiness. */
function setup() {
  let now = Date.UTC(2026, 0, 1);
  const clock = () => now;
  const advance = (seconds: number) => (now += seconds * 1000);
  const view = (headers: Record<string, string> = {}, vary: string[] = []) => requestView(headers, 'shop.example', vary, false);
  const decide = (headers: Headers, cache: Partial<RouteCacheConfig> = {}, request: Record<string, string> = {}, status = 200): StorageDecision =>
    decideStorage({ view: view(request, []), status, headers, cache: { ...ROUTE_CACHE_DEFAULTS, ...cache }, keepStaleSeconds: 300, now });
  const stored = (headers: Headers, cache: Partial<RouteCacheConfig> = {}, status = 200) => {
    const d = decide(headers, cache, {}, status);
    assert.ok(d.store, `expected storable: ${JSON.stringify(d)}`);
    return d;
  };
  const lookup = (d: Extract<StorageDecision, { store: true }>, request: Record<string, string> = {}) => evaluateLookup(d.policy, view(request), now).kind;
  return { advance, view, decide, stored, lookup, clock };
}

const HTTP_DATE = 'Thu, 01 Jan 2026 00:00:00 GMT';

describe('HTTP-date parsing (RFC 9110 §5.6.7)', () => {
  it('reads the three forms a recipient must accept', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), expected);
    assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', Date.UTC(2026, 0, 1)), expected);
    assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994'), expected);
    assert.equal(parseHttpDate('Sun Nov 16 08:49:37 1994'), Date.UTC(1994, 10, 16, 8, 49, 37));
    // RFC 9111 §4.2: a cache matches dates case-insensitively.
    assert.equal(parseHttpDate('sun, 06 NOV 1994 08:49:37 gmt'), expected);
    assert.equal(parseHttpDate('SUNDAY, 06-nov-94 08:49:37 Gmt', Date.UTC(2026, 0, 1)), expected);
  });

  it('reads an RFC 850 two-digit year as at most 50 years ahead', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(new Date(parseHttpDate('Monday, 01-Jan-80 00:00:00 GMT', now) ?? 0).getUTCFullYear(), 1980);
    assert.equal(new Date(parseHttpDate('Thursday, 01-Jan-60 00:00:00 GMT', now) ?? 0).getUTCFullYear(), 2060);
    assert.equal(new Date(parseHttpDate('Monday, 01-Jan-35 00:00:00 GMT', now) ?? 0).getUTCFullYear(), 2035);
  });

  it('refuses everything else, where Date.parse would guess a date', () => {
    const invalid = [
      'Thu, 18 Aug 2050 2:01:18 GMT',
      '2050',
      'Thu, 18-Aug-2050 02:01:18 GMT',
      'Thu, 18 Aug 2050  02:01:18 GMT',
      'Thu 18 Aug 2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 02:01:18 UTC',
      'Thu, 31 Feb 2050 02:01:18 GMT',
      'Thu, 18 Aug 2050 24:01:18 GMT',
      '0',
      '-1',
      '',
      '2050-08-18T02:01:18Z',
    ];
    for (const value of invalid) assert.equal(parseHttpDate(value), null, value);
    assert.equal(parseHttpDateHeader(['Thu, 18 Aug 2050 02:01:18 GMT', 'Fri, 19 Aug 2050 02:01:18 GMT']), null, 'two lines');
    assert.equal(parseHttpDateHeader(' Thu, 18 Aug 2050 02:01:18 GMT '), Date.UTC(2050, 7, 18, 2, 1, 18), 'surrounding whitespace is not part of the value');
  });
});

describe('Cache-Control parsing (RFC 9111 §5.2)', () => {
  it('matches directive names case-insensitively', () => {
    const cc = parseCacheControl('MAX-AGE=60, PRIVATE, No-Cache, no-STORE');
    assert.deepEqual([...cc.keys()], ['max-age', 'private', 'no-cache', 'no-store']);
    assert.equal(deltaSeconds(cc, 'max-age'), 60);
  });

  it('reads quoted values, keeps commas inside them, joins several lines', () => {
    const cc = parseCacheControl(['private="set-cookie, x-a"', 'max-age="30"', 'ext="a\\"b"']);
    assert.equal(cc.get('private')?.value, 'set-cookie, x-a');
    assert.equal(deltaSeconds(cc, 'max-age'), 30);
    assert.equal(cc.get('ext')?.value, 'a"b');
    assert.equal(formatCacheControl(parseCacheControl('a=1, b="x y", c')), 'a=1, b="x y", c');
  });

  it('invalid or conflicting delta-seconds are invalid; huge ones are capped at 2^31', () => {
    for (const header of ['max-age=1.5', 'max-age=-1', 'max-age=abc', 'max-age', 'max-age = 60', 'max-age=60, max-age=10', 'max-age="60']) {
      assert.equal(deltaSeconds(parseCacheControl(header), 'max-age'), 'invalid', header);
    }
    assert.equal(deltaSeconds(parseCacheControl('max-age=60, max-age=60'), 'max-age'), 60, 'the same value twice is fine');
    assert.equal(deltaSeconds(parseCacheControl('max-age=99999999999999'), 'max-age'), 2 ** 31);
    assert.equal(deltaSeconds(parseCacheControl('public'), 'max-age'), null);
  });

  it('Age: the first member, non-negative integers only (§5.1)', () => {
    assert.equal(ageValue('10'), 10);
    assert.equal(ageValue('10, 20'), 10);
    assert.equal(ageValue(['7', '8']), 7);
    for (const bad of ['1.5', '-5', 'abc', '', ' 5x']) assert.equal(ageValue(bad), 0, bad);
    assert.equal(ageValue('999999999999'), 2 ** 31);
  });
});

describe('cache policy: what is stored (RFC 9111 shared cache + route overrides)', () => {
  it('stores what the origin marks cacheable', () => {
    const { decide } = setup();
    for (const cc of ['public, max-age=60', 'max-age=60', 's-maxage=60', 'public', 'MAX-AGE=60']) assert.equal(decide({ 'cache-control': cc }).store, true, cc);
    assert.equal(decide({ expires: 'Fri, 02 Jan 2026 00:00:00 GMT', date: HTTP_DATE }).store, true, 'Expires');
  });

  it('never stores private, no-store (any case), Set-Cookie, Vary: *, partial or interim responses', () => {
    const { decide } = setup();
    const cases: [Headers, string][] = [
      [{ 'cache-control': 'private, max-age=60' }, 'not-storable'],
      [{ 'cache-control': 'max-age=60, PRIVATE' }, 'not-storable'],
      [{ 'cache-control': 'Private="set-cookie", max-age=60' }, 'not-storable'],
      [{ 'cache-control': 'no-store' }, 'not-storable'],
      [{ 'cache-control': 'max-age=60, NO-STORE' }, 'not-storable'],
      [{ 'cache-control': 'public, max-age=60', 'set-cookie': ['a=1'] }, 'set-cookie'],
      [{ 'cache-control': 'public, max-age=60', vary: 'Accept, *' }, 'vary-star'],
    ];
    for (const [headers, reason] of cases) assert.deepEqual(decide(headers, { cacheUnmarked: true }), { store: false, reason }, JSON.stringify(headers));
    for (const status of [100, 103, 206, 304]) assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, {}, status).store, false, String(status));
    assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, { 'cache-control': 'no-store' }).store, false, 'request no-store');
    assert.equal(decide({ 'cache-control': 'public, max-age=60' }, {}, { 'cache-control': 'NO-STORE' }).store, false, 'request NO-STORE');
  });

  it('must-understand lets a known status code be stored despite no-store', () => {
    const { decide } = setup();
    assert.equal(decide({ 'cache-control': 'must-understand, no-store, max-age=60' }).store, true);
    assert.equal(decide({ 'cache-control': 'must-understand, no-store, max-age=60' }, {}, {}, 299).store, false, 'an unknown status');
  });

  it('error statuses with explicit freshness are stored; without it they are not', () => {
    const { decide } = setup();
    for (const status of [400, 404, 410, 500, 502, 503, 504]) assert.equal(decide({ 'cache-control': 'max-age=60' }, {}, {}, status).store, true, String(status));
    for (const status of [500, 502, 503]) assert.equal(decide({}, { cacheUnmarked: true }, {}, status).store, false, `${status} unmarked`);
    assert.equal(decide({}, { cacheUnmarked: true }, {}, 404).store, true, '404 is heuristically cacheable');
  });

  it('answers to requests with Authorization only when the response allows it (public, s-maxage, must-revalidate)', () => {
    const { decide } = setup();
    const auth = { authorization: 'Bearer x' };
    assert.equal(decide({ 'cache-control': 'max-age=60' }, {}, auth).store, false);
    assert.equal(decide({ 'cache-control': 'max-age=60' }, { cacheUnmarked: true }, auth).store, false, 'cacheUnmarked never overrides it');
    assert.equal(decide({ 'cache-control': 'PUBLIC, max-age=60' }, {}, auth).store, true);
    assert.equal(decide({ 'cache-control': 's-maxage=60' }, {}, auth).store, true);
    assert.equal(decide({ 'cache-control': 'max-age=60, must-revalidate' }, {}, auth).store, true);
  });

  it('unmarked responses only with cacheUnmarked, fresh for defaultTtlSeconds', () => {
    const { decide, stored, lookup, advance } = setup();
    assert.deepEqual(decide({ 'content-type': 'text/html' }), { store: false, reason: 'unmarked' });
    const d = stored({ 'content-type': 'text/html' }, { cacheUnmarked: true, defaultTtlSeconds: 30 });
    assert.equal(lookup(d), 'fresh');
    advance(29);
    assert.equal(lookup(d), 'fresh');
    advance(2);
    assert.equal(lookup(d), 'revalidate');
    assert.equal(d.storeTtlMs, 30_000, 'no validators: kept exactly as long as it is fresh');
  });

  it('heuristic freshness from Last-Modified: 10% of its age, only when the route turns it on', () => {
    const { decide, stored, lookup, advance } = setup();
    const headers = { date: HTTP_DATE, 'last-modified': 'Wed, 31 Dec 2025 23:00:00 GMT' };
    assert.deepEqual(decide(headers), { store: false, reason: 'unmarked' }, 'off by default');
    const d = stored(headers, { heuristicFreshness: true });
    assert.equal(d.policy.lifetimeMs, 360_000, 'an hour old: 6 minutes');
    advance(359);
    assert.equal(lookup(d), 'fresh');
    advance(2);
    assert.equal(lookup(d), 'revalidate');
    assert.equal(stored(headers, { heuristicFreshness: true, heuristicMaxSeconds: 60 }).policy.lifetimeMs, 60_000, 'capped');
    assert.equal(decide(headers, { heuristicFreshness: true }, {}, 500).store, false, 'not for a 500');
    assert.equal(stored({ ...headers, 'cache-control': 'max-age=5' }, { heuristicFreshness: true }).policy.lifetimeMs, 5_000, 'explicit freshness wins');
  });

  it('`public` without a lifetime gets defaultTtlSeconds; maxTtlSeconds caps the origin; s-maxage wins', () => {
    const { stored, lookup, advance } = setup();
    assert.equal(stored({ 'cache-control': 'public' }, { defaultTtlSeconds: 10 }).policy.lifetimeMs, 10_000);
    const capped = stored({ 'cache-control': 'public, max-age=86400' }, { maxTtlSeconds: 60 });
    assert.equal(capped.policy.lifetimeMs, 60_000);
    assert.equal(stored({ 'cache-control': 'public, max-age=10, s-maxage=86400' }, { maxTtlSeconds: 60 }).policy.lifetimeMs, 60_000, 's-maxage wins in a shared cache, and is capped');
    assert.equal(stored({ 'cache-control': 'max-age=600, s-maxage=5' }).policy.lifetimeMs, 5_000);
    advance(61);
    assert.equal(lookup(capped), 'revalidate');
  });

  it('an invalid max-age or Expires means stale at once (kept only with validators)', () => {
    const { decide } = setup();
    for (const cc of ['max-age=1.5', 'max-age=-1', 'max-age=abc', 'max-age=60, max-age=10']) {
      assert.deepEqual(decide({ 'cache-control': cc }), { store: false, reason: 'no-freshness' }, cc);
      const withEtag = decide({ 'cache-control': cc, etag: '"v"' });
      assert.ok(withEtag.store && withEtag.policy.lifetimeMs === 0, cc);
    }
    for (const expires of ['Thu, 18 Aug 2050 2:01:18 GMT', '2050', 'Thu, 18-Aug-2050 02:01:18 GMT', 'Thu, 18 Aug 2050 02:01:18 UTC', '0', 'Thu 18 Aug 2050 02:01:18 GMT']) {
      assert.deepEqual(decide({ expires, date: HTTP_DATE }), { store: false, reason: 'no-freshness' }, expires);
    }
    assert.deepEqual(decide({ expires: ['Thu, 18 Aug 2050 02:01:18 GMT', 'Fri, 19 Aug 2050 02:01:18 GMT'], date: HTTP_DATE }), { store: false, reason: 'no-freshness' }, 'two Expires lines');
  });

  it('Expires in any valid form counts from Date', () => {
    const { stored } = setup();
    for (const expires of ['Thu, 01 Jan 2026 00:01:40 GMT', 'Thursday, 01-Jan-26 00:01:40 GMT', 'Thu Jan  1 00:01:40 2026']) {
      assert.equal(stored({ expires, date: HTTP_DATE }).policy.lifetimeMs, 100_000, expires);
    }
    assert.equal(stored({ expires: 'Thu, 01 Jan 2026 00:01:40 GMT', date: 'Thu, 01 Jan 2026 00:00:40 GMT' }).policy.lifetimeMs, 60_000, 'origin clock behind ours');
  });

  it('keeps entries with validators past freshness for 304 revalidation; drops what can never be used', () => {
    const { decide } = setup();
    const withEtag = decide({ 'cache-control': 'public, max-age=10', etag: '"v1"' });
    assert.ok(withEtag.store && withEtag.storeTtlMs === 10_000 + 300_000);
    assert.deepEqual(decide({ 'cache-control': 'public, max-age=0' }), { store: false, reason: 'no-freshness' });
    assert.equal(decide({ 'cache-control': 'no-cache', etag: '"v1"' }).store, true, 'no-cache + ETag: stored, revalidated on every use');
  });

  it("Age grows with the clock, from the origin's own Age and the response delay", () => {
    const { stored, advance, clock } = setup();
    const d = stored({ 'cache-control': 'public, max-age=600', age: '5' });
    assert.equal(ageSeconds(d.policy, clock()), 5);
    advance(7.9);
    assert.equal(ageSeconds(d.policy, clock()), 12);
    const delayed = decideStorage({ view: {}, status: 200, headers: { 'cache-control': 'max-age=60', age: '10' }, cache: ROUTE_CACHE_DEFAULTS, keepStaleSeconds: 0, now: clock(), requestTime: clock() - 3000 });
    assert.ok(delayed.store && delayed.policy.initialAgeMs === 13_000);
  });

  it('a Date in the past counts as age (apparent age, on the wall clock), within its one-second granularity', () => {
    const { clock } = setup();
    const at = (date: string, wallNow = clock()) => decideStorage({ view: {}, status: 200, headers: { 'cache-control': 'max-age=600', date }, cache: ROUTE_CACHE_DEFAULTS, keepStaleSeconds: 0, now: clock(), wallNow });
    const old = at('Wed, 31 Dec 2025 23:59:00 GMT');
    assert.ok(old.store && old.policy.initialAgeMs === 60_000);
    const same = at(HTTP_DATE, clock() + 999);
    assert.ok(same.store && same.policy.initialAgeMs === 0, 'the same second');
    const invalid = at('not a date');
    assert.ok(invalid.store && invalid.policy.initialAgeMs === 0);
    assert.deepEqual(at('Thu, 01 Jan 2026 00:00:00 GMT', clock() + 7_200_000).store, false, 'two hours old on arrival: never fresh for max-age=600');
  });

  it('a targeted field (CDN-Cache-Control) replaces Cache-Control when the route names it', () => {
    const { stored, decide } = setup();
    const headers = { 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=120' };
    assert.equal(decide(headers).store, false, 'not named: ignored');
    assert.equal(stored(headers, { targetedCacheControl: 'CDN-Cache-Control' }).policy.lifetimeMs, 120_000);
    assert.equal(decide({ 'cache-control': 'max-age=60', 'cdn-cache-control': 'private' }, { targetedCacheControl: 'CDN-Cache-Control' }).store, false);
    // Not a valid Structured Field Dictionary, or max-age not an integer: ignored, Cache-Control rules.
    for (const invalid of ['max-age=10000, &&&&&', 'max-age="10000"', 'MAX-AGE=10000', 'max-age=-5', 'max-age=1.5', 'max-age']) {
      assert.equal(decide({ 'cache-control': 'no-store', 'cdn-cache-control': invalid }, { targetedCacheControl: 'CDN-Cache-Control' }).store, false, invalid);
    }
    assert.equal(stored({ 'cache-control': 'no-store', 'cdn-cache-control': 'max-age=60;x=1, s-maxage=30' }, { targetedCacheControl: 'CDN-Cache-Control' }).policy.lifetimeMs, 30_000, 'parameters are fine');
  });
});

describe('cache policy: reuse and stale entries', () => {
  it('must-revalidate, proxy-revalidate and s-maxage are served while fresh, revalidated once stale', () => {
    const { stored, lookup, advance, clock } = setup();
    const entries = ['max-age=10, must-revalidate', 'max-age=10, MUST-REVALIDATE', 'max-age=10, proxy-revalidate', 's-maxage=10'].map((cc) => stored({ 'cache-control': cc }, { staleWhileRevalidateSeconds: 30, staleIfErrorSeconds: 30 }));
    for (const d of entries) assert.equal(lookup(d), 'fresh');
    advance(11);
    for (const d of entries) {
      assert.equal(lookup(d), 'revalidate');
      assert.equal(lookup(d, { 'cache-control': 'max-stale' }), 'revalidate', 'not even when the client accepts stale');
      assert.equal(staleIfErrorAllows(d.policy, clock()), false);
    }
  });

  it('stale-while-revalidate from the origin or the route', () => {
    const { stored, lookup, advance } = setup();
    const origin = stored({ 'cache-control': 'public, max-age=10, stale-while-revalidate=30' });
    const route = stored({ 'cache-control': 'public, max-age=10' }, { staleWhileRevalidateSeconds: 30 });
    advance(15);
    assert.equal(lookup(origin), 'stale-while-revalidate');
    assert.equal(lookup(route), 'stale-while-revalidate');
    advance(30);
    assert.equal(lookup(route), 'revalidate', 'past the window');
  });

  it('stale-if-error within the window only, for unreachable legacy or a 500/502/503/504', () => {
    const { stored, advance, clock } = setup();
    const route = stored({ 'cache-control': 'public, max-age=10' }, { staleIfErrorSeconds: 60 });
    const origin = stored({ 'cache-control': 'public, max-age=10, stale-if-error=60' });
    const none = stored({ 'cache-control': 'public, max-age=10' });
    advance(30);
    assert.equal(staleIfErrorAllows(route.policy, clock()), true);
    assert.equal(staleIfErrorAllows(route.policy, clock(), 503), true);
    assert.equal(staleIfErrorAllows(origin.policy, clock(), 500), true);
    assert.equal(staleIfErrorAllows(origin.policy, clock(), 501), false, '501 is not an error for stale-if-error');
    assert.equal(staleIfErrorAllows(none.policy, clock()), false);
    advance(60);
    assert.equal(staleIfErrorAllows(route.policy, clock()), false, 'past the window');
  });

  it('honours request directives: no-cache, Pragma, max-age, min-fresh, max-stale, only-if-cached', () => {
    const { stored, view, lookup, advance } = setup();
    const d = stored({ 'cache-control': 'public, max-age=600' });
    advance(100);
    assert.equal(lookup(d), 'fresh');
    assert.equal(lookup(d, { 'cache-control': 'no-cache' }), 'revalidate');
    assert.equal(lookup(d, { 'cache-control': 'NO-CACHE' }), 'revalidate');
    assert.equal(lookup(d, { pragma: 'no-cache' }), 'revalidate', 'Pragma without Cache-Control');
    assert.equal(lookup(d, { pragma: 'no-cache', 'cache-control': 'max-age=1000' }), 'fresh', 'Cache-Control wins over Pragma');
    assert.equal(lookup(d, { 'cache-control': 'max-age=0' }), 'revalidate');
    assert.equal(lookup(d, { 'cache-control': 'max-age=100' }), 'fresh', 'age 100 ≤ 100');
    assert.equal(lookup(d, { 'cache-control': 'min-fresh=400' }), 'fresh');
    assert.equal(lookup(d, { 'cache-control': 'min-fresh=600' }), 'revalidate');
    advance(510);
    assert.equal(lookup(d), 'revalidate');
    assert.equal(lookup(d, { 'cache-control': 'max-stale=20' }), 'stale-accepted');
    assert.equal(lookup(d, { 'cache-control': 'max-stale=5' }), 'revalidate');
    assert.equal(lookup(d, { 'cache-control': 'max-stale' }), 'stale-accepted');
    assert.equal(onlyIfCached(view({ 'cache-control': 'Only-If-Cached' })), true);
    assert.equal(onlyIfCached(view()), false);
  });

  it('revalidates with the stored validators; a 304 refreshes the entry, headers merged', () => {
    const { stored, lookup, view, advance, clock } = setup();
    const headers = { 'cache-control': 'public, max-age=10', etag: '"v1"', 'last-modified': 'Wed, 01 Jan 2025 00:00:00 GMT', 'x-app': 'old', 'content-encoding': 'gzip' };
    const d = stored(headers);
    advance(11);
    const verdict = evaluateLookup(d.policy, view(), clock());
    assert.ok(verdict.kind === 'revalidate' && verdict.conditionals['if-none-match'] === '"v1"' && verdict.conditionals['if-modified-since'] === headers['last-modified']);
    const input = { view: view(), cache: ROUTE_CACHE_DEFAULTS, keepStaleSeconds: 300, now: clock() };
    const updated = applyNotModified({ status: 200, headers }, { etag: '"v1"', 'cache-control': 'public, max-age=20', 'x-app': 'new', 'content-encoding': 'br', 'content-length': '0' }, input);
    assert.ok(updated.ok && updated.decision.store);
    assert.equal(updated.headers['x-app'], 'new');
    assert.equal(updated.headers['content-encoding'], 'gzip', 'the stored body is still gzip');
    assert.equal(updated.headers['content-length'], undefined);
    assert.equal(updated.decision.policy.lifetimeMs, 20_000);
    assert.equal(lookup(updated.decision), 'fresh');
    assert.equal(applyNotModified({ status: 200, headers }, { etag: '"v2"' }, input).ok, false, 'a 304 for another representation');
    assert.equal(applyNotModified({ status: 200, headers }, { etag: 'W/"v1"' }, input).ok, true, 'weak comparison');
    const bare = applyNotModified({ status: 200, headers }, { 'cache-control': 'max-age=30' }, input);
    assert.ok(bare.ok && bare.decision.store && bare.decision.policy.lifetimeMs === 30_000, 'a 304 without validators answers the conditional sent for this entry');
    assert.equal(applyNotModified({ status: 200, headers }, { 'last-modified': 'Thu, 02 Jan 2025 00:00:00 GMT' }, input).ok, false);
  });

  it('any method that is not safe invalidates', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE']) assert.equal(isSafeMethod(method), true);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'M-SEARCH', 'PURGE', 'LOCK']) assert.equal(isSafeMethod(method), false);
  });
});
