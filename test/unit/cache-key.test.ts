import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { baseKey, cacheTarget, lockKey, normaliseHost, normaliseQuery, normaliseVaryValue, parseEntryKey, parseVary, requestView, routePrefix, targetPrefix, variantKey, type KeyInput } from '../../src/cache/cache-key.js';
import { decodeRecord, encodeRecord, type EntryMeta } from '../../src/cache/entry-codec.js';
import { resolvePurge, type PurgeContext } from '../../src/cache/cache-purge.js';
import { CACHE_SETTINGS_DEFAULTS } from '../../src/config/defaults.js';

const input = (over: Partial<KeyInput> = {}): KeyInput => ({
  namespace: 'sy',
  keyVersion: 1,
  route: 'shop',
  path: '/shop/items',
  query: '?b=2&a=1',
  host: 'Shop.Example:80',
  proto: 'http',
  forwarded: null,
  credential: null,
  ...over,
});

describe('cache key (pure)', () => {
  it('orders query parameters by name, keeping the order of repeated names', () => {
    assert.equal(normaliseQuery('?b=2&a=1&c'), '?a=1&b=2&c');
    assert.equal(normaliseQuery('?a=2&b=1&a=1'), '?a=2&a=1&b=1');
    assert.equal(normaliseQuery('?'), '');
    assert.equal(normaliseQuery(''), '');
    assert.equal(normaliseQuery('?&&x=1&'), '?x=1');
    // One parameter is kept as it is, with or without a value.
    assert.equal(normaliseQuery('?max_age=3600'), '?max_age=3600');
    assert.equal(normaliseQuery('max_age=3600'), '?max_age=3600');
    assert.equal(normaliseQuery('?flag'), '?flag');
    assert.equal(cacheTarget('/p', '?z=1&y=2'), '/p?y=2&z=1');
  });

  it('holds method, scheme, host (lower-case, default port dropped), path and query', () => {
    const key = baseKey(input());
    assert.equal(key, 'sy:v1:e:shop:/shop/items?a=1&b=2 GET http://shop.example;');
    assert.equal(baseKey(input({ query: '?a=1&b=2', host: 'shop.example' })), key, 'same resource, same key');
    assert.notEqual(baseKey(input({ host: 'other.example' })), key);
    assert.notEqual(baseKey(input({ proto: 'https' })), key);
    assert.notEqual(baseKey(input({ path: '/shop/Items' })), key, 'paths are case-sensitive');
    assert.notEqual(baseKey(input({ keyVersion: 2 })), key, 'a key version bump invalidates everything');
    assert.notEqual(baseKey(input({ namespace: 'other' })), key);
    assert.equal(normaliseHost('A.example:443', 'https'), 'a.example');
    assert.equal(normaliseHost('a.example:8443', 'https'), 'a.example:8443');
  });

  it('keys forwarded headers only when they are trusted (and so reach the backend)', () => {
    const plain = baseKey(input());
    assert.equal(baseKey(input({ forwarded: null })), plain);
    const evil = baseKey(input({ forwarded: { 'x-forwarded-host': 'evil.example' } }));
    const good = baseKey(input({ forwarded: { 'x-forwarded-host': 'shop.example' } }));
    assert.notEqual(evil, good);
    assert.notEqual(evil, plain);
    assert.notEqual(baseKey(input({ credential: 'abc' })), plain);
  });

  it('variants differ by the vary\'d values and by the marker generation', () => {
    const base = baseKey(input());
    const en = requestView({ 'accept-language': 'en' }, 'shop.example', ['accept-language'], false);
    const fr = requestView({ 'accept-language': 'fr' }, 'shop.example', ['accept-language'], false);
    const frSpaced = requestView({ 'accept-language': ' fr , en ' }, 'shop.example', ['accept-language'], false);
    const frTight = requestView({ 'accept-language': 'fr,en' }, 'shop.example', ['accept-language'], false);
    assert.notEqual(variantKey(base, ['accept-language'], en, 'g1'), variantKey(base, ['accept-language'], fr, 'g1'));
    assert.equal(variantKey(base, ['accept-language'], frSpaced, 'g1'), variantKey(base, ['accept-language'], frTight, 'g1'));
    assert.notEqual(variantKey(base, ['accept-language'], en, 'g1'), variantKey(base, ['accept-language'], en, 'g2'));
    assert.ok(variantKey(base, ['accept-language'], en, 'g1').startsWith(base));
  });

  it('the request view holds no secrets: cookies and credentials only as digests', () => {
    const view = requestView({ cookie: 'session=s3cret', authorization: 'Bearer t0ken', 'cache-control': 'no-cache', 'x-other': 'x' }, 'h', ['cookie'], false);
    assert.equal(view['cache-control'], 'no-cache');
    assert.equal(view['host'], 'h');
    assert.equal(view['x-other'], undefined, 'only vary\'d headers are kept');
    assert.ok(!JSON.stringify(view).includes('s3cret'));
    assert.ok(!JSON.stringify(view).includes('t0ken'));
    assert.match(view['authorization'] ?? '', /^[0-9a-f]{32}$/);
    assert.equal(requestView({ authorization: 'Bearer t' }, 'h', [], true)['authorization'], undefined, 'allowAuthorized keys the credential instead');
  });

  it('parses Vary', () => {
    assert.deepEqual(parseVary('Accept-Language, accept-encoding,  Accept-Language'), ['accept-encoding', 'accept-language']);
    assert.equal(parseVary('Accept, *'), '*');
    assert.deepEqual(parseVary(undefined), []);
  });

  it('prefixes and parsing used by purges', () => {
    const key = baseKey(input());
    assert.ok(key.startsWith(routePrefix('sy', 1, 'shop')));
    assert.ok(key.startsWith(targetPrefix('sy', 1, 'shop', '/shop/items?a=1&b=2')));
    assert.ok(!baseKey(input({ query: '?a=1&b=22' })).startsWith(targetPrefix('sy', 1, 'shop', '/shop/items?a=1&b=2')));
    assert.deepEqual(parseEntryKey(key, 'sy', 1), { route: 'shop', target: '/shop/items?a=1&b=2' });
    assert.equal(parseEntryKey('sy:v1:l:abc', 'sy', 1), null);
  });
});

describe('Vary value normalisation', () => {
  it('Accept-Language and Accept-Encoding: case, spaces, q=1 and q order do not split variants; the order of equals does', () => {
    assert.equal(normaliseVaryValue('accept-language', 'fr-FR, en;q=0.5'), normaliseVaryValue('accept-language', 'en;q=0.50,FR-fr;q=1'));
    assert.equal(normaliseVaryValue('accept-language', ['fr-FR', 'en;q=0.5']), normaliseVaryValue('accept-language', 'fr-fr, en;q=0.5'));
    assert.notEqual(normaliseVaryValue('accept-language', 'en, fr'), normaliseVaryValue('accept-language', 'fr, en'));
    assert.equal(normaliseVaryValue('accept-encoding', 'GZIP, br;q=0.9'), 'gzip,br;q=0.9');
    assert.equal(normaliseVaryValue('x-custom', 'A, B'), 'A,B', 'other headers keep their case');
  });
});

describe('entry codec', () => {
  const meta: EntryMeta = {
    status: 200,
    headers: { 'content-type': 'application/octet-stream', link: ['<a>', '<b>'] },
    policy: { responseTime: 0, initialAgeMs: 0, lifetimeMs: 60_000, revalidateWhenStale: false, noCache: false, staleWhileRevalidateMs: 0, staleIfErrorMs: 0, etag: null, lastModified: null },
    vary: [],
    generation: '',
    route: 'r',
    target: '/t',
    storedAt: 1,
  };

  it('round-trips every byte value exactly, from chunks or one buffer', () => {
    const body = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 256));
    for (const given of [body, [body.subarray(0, 1000), body.subarray(1000)]]) {
      const decoded = decodeRecord(encodeRecord({ kind: 'entry', meta, body: given }));
      assert.ok(decoded !== null && decoded.kind === 'entry');
      assert.ok(decoded.body.equals(body));
      assert.deepEqual(decoded.meta, meta);
    }
  });

  it('round-trips Vary markers and refuses what it did not write', () => {
    assert.deepEqual(decodeRecord(encodeRecord({ kind: 'vary', vary: ['accept-language'], generation: 'g' })), { kind: 'vary', vary: ['accept-language'], generation: 'g' });
    assert.equal(decodeRecord(Buffer.from('hello world')), null);
    assert.equal(decodeRecord(Buffer.alloc(0)), null);
    const value = encodeRecord({ kind: 'entry', meta, body: Buffer.from('x') });
    assert.equal(decodeRecord(value.subarray(0, 12)), null, 'truncated');
  });
});

describe('purge scopes (pure)', () => {
  const ctx: PurgeContext = {
    settings: { ...CACHE_SETTINGS_DEFAULTS, namespace: 'sy', keyVersion: 1 },
    routeNames: new Set(['shop', 'other']),
    routeFor: (path) => (path.startsWith('/shop') ? 'shop' : null),
  };
  const keyFor = (over: Partial<KeyInput>) => baseKey(input(over));
  const matches = (body: unknown, key: string): boolean => {
    const r = resolvePurge(body, ctx);
    assert.ok(r.ok, JSON.stringify(r));
    return key.startsWith(r.scope.prefix) && (r.scope.filter === undefined || r.scope.filter(key));
  };

  it('by URL: a path purges every host and variant of it, an absolute URL one host', () => {
    const a = keyFor({ host: 'a.example' });
    const b = keyFor({ host: 'b.example' });
    const variant = variantKey(a, ['accept-language'], { 'accept-language': 'x' }, 'g');
    assert.ok(matches({ url: '/shop/items?a=1&b=2' }, a) && matches({ url: '/shop/items?b=2&a=1' }, b) && matches({ url: '/shop/items?a=1&b=2' }, variant));
    assert.ok(!matches({ url: '/shop/items' }, a), 'another query is another URL');
    assert.ok(matches({ url: 'http://A.example/shop/items?b=2&a=1' }, a));
    assert.ok(!matches({ url: 'http://a.example/shop/items?b=2&a=1' }, b));
    assert.ok(!matches({ url: 'http://a.example/shop/items?b=2&a=1' }, keyFor({ host: 'a.example.evil' })));
  });

  it('by route, by prefix, everything', () => {
    const key = keyFor({});
    assert.ok(matches({ route: 'shop' }, key));
    assert.ok(!matches({ route: 'other' }, key));
    assert.ok(matches({ prefix: '/shop/' }, key));
    assert.ok(!matches({ prefix: '/shopping' }, key));
    assert.ok(matches({ all: true }, key));
    assert.ok(matches({ all: true }, 'sy:v7:e:x:/ GET http://h;'), 'every key version');
    assert.ok(matches({ all: true }, lockKey('sy', 3, key)), 'fill locks too');
    // Runtime flags and shadow results may share the namespace: a cache purge leaves them alone.
    for (const other of ['sy:flags:state', 'sy:flags:audit', 'sy:shadow:routes', 'sy:shadow:shop:counts', 'sy:v:e:x', 'sy:vx:e:x', 'sy:v7:flags']) assert.ok(!matches({ all: true }, other), other);
  });

  it('names the route a purge is of: by name or by the URL serving it; none for a prefix or everything', () => {
    const routeOf = (body: unknown): string | null => {
      const r = resolvePurge(body, ctx);
      assert.ok(r.ok, JSON.stringify(r));
      return r.route;
    };
    assert.equal(routeOf({ route: 'other' }), 'other');
    assert.equal(routeOf({ url: '/shop/items?a=1' }), 'shop');
    assert.equal(routeOf({ url: 'https://a.example/shop/items' }), 'shop');
    assert.equal(routeOf({ prefix: '/shop/' }), null);
    assert.equal(routeOf({ all: true }), null);
  });

  it('rejects malformed requests with the reason, unknown routes with 404', () => {
    for (const body of [null, [], {}, { url: 1 }, { url: 'shop/items' }, { route: 'shop', all: true }, { all: false }, { prefix: 'x' }, { what: 1 }, { url: '/shop/%2e%2e/x' }]) {
      const r = resolvePurge(body, ctx);
      assert.ok(!r.ok && r.status === 400, JSON.stringify(body));
    }
    const unknown = resolvePurge({ route: 'nope' }, ctx);
    assert.ok(!unknown.ok && unknown.status === 404);
    const unrouted = resolvePurge({ url: '/elsewhere' }, ctx);
    assert.ok(!unrouted.ok && unrouted.status === 404);
  });
});
