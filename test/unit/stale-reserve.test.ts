import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LoadedEntry } from '../../src/cache/cache-lookup.js';
import type { Policy } from '../../src/cache/cache-policy.js';
import { StaleReserve } from '../../src/cache/stale-reserve.js';

const policy: Policy = { responseTime: 0, initialAgeMs: 0, lifetimeMs: 1000, revalidateWhenStale: false, noCache: false, staleWhileRevalidateMs: 0, staleIfErrorMs: 60_000, etag: null, lastModified: null };

function entry(body: string, vary: readonly string[] = []): LoadedEntry {
  return { meta: { status: 200, headers: {}, policy, vary, generation: '', route: 'r', target: '/', storedAt: 0 }, body: Buffer.from(body), policy };
}

/** The copy whose key is exactly `key` (what expectedKey names for a request). */
const named = (key: string) => (): string => key;

describe('StaleReserve: the last copies kept for an outage', () => {
  it('finds the variant the request names, among the URL’s copies', () => {
    const reserve = new StaleReserve(1 << 20);
    reserve.remember('ns:e:/a', 'ns:e:/a;en', entry('english', ['accept-language']));
    reserve.remember('ns:e:/a', 'ns:e:/a;fr', entry('français', ['accept-language']));
    assert.equal(reserve.find('ns:e:/a', named('ns:e:/a;fr'))?.body.toString(), 'français');
    assert.equal(reserve.find('ns:e:/a', named('ns:e:/a;de')), null);
    assert.equal(reserve.find('ns:e:/b', named('ns:e:/b')), null);
  });

  it('replaces the copy of the same key and keeps the byte count exact', () => {
    const reserve = new StaleReserve(1 << 20);
    reserve.remember('k', 'k', entry('old'));
    const one = reserve.bytes;
    reserve.remember('k', 'k', entry('new'));
    assert.equal(reserve.size, 1);
    assert.equal(reserve.bytes, one);
    assert.equal(reserve.find('k', named('k'))?.body.toString(), 'new');
  });

  it('evicts the least recently kept copy once over its bytes, and never keeps one larger than all of them', () => {
    const one = new StaleReserve(1 << 20);
    one.remember('a', 'a', entry('x'.repeat(100)));
    const size = one.bytes;
    const reserve = new StaleReserve(size * 2);
    reserve.remember('a', 'a', entry('x'.repeat(100)));
    reserve.remember('b', 'b', entry('y'.repeat(100)));
    reserve.remember('a', 'a', entry('z'.repeat(100))); // kept again: now the newest
    reserve.remember('c', 'c', entry('w'.repeat(100)));
    assert.equal(reserve.find('b', named('b')), null, 'b was the oldest');
    assert.equal(reserve.find('a', named('a'))?.body.toString(), 'z'.repeat(100));
    assert.ok(reserve.find('c', named('c')) !== null);
    assert.ok(reserve.bytes <= size * 2);
    reserve.remember('huge', 'huge', entry('h'.repeat(size * 3)));
    assert.equal(reserve.find('huge', named('huge')), null);
    assert.equal(reserve.size, 2, 'a copy too large for the reserve evicts nothing');
  });

  it('forgetting a URL’s base key forgets its variants (as deleting the Vary marker orphans them); a variant key only itself', () => {
    const reserve = new StaleReserve(1 << 20);
    reserve.remember('u', 'u;1', entry('one', ['x']));
    reserve.remember('u', 'u;2', entry('two', ['x']));
    reserve.forget('u;1');
    assert.equal(reserve.find('u', named('u;1')), null);
    assert.ok(reserve.find('u', named('u;2')) !== null);
    reserve.forget('u');
    assert.equal(reserve.size, 0);
    assert.equal(reserve.bytes, 0);
  });

  it('forgets what a purge scope names: prefix and filter', () => {
    const reserve = new StaleReserve(1 << 20);
    for (const key of ['ns:v1:e:r1:/a', 'ns:v1:e:r1:/b', 'ns:v1:e:r2:/a']) reserve.remember(key, key, entry(key));
    reserve.forgetMatching('ns:v1:e:r1:', (key) => key.endsWith('/a'));
    assert.deepEqual(['ns:v1:e:r1:/a', 'ns:v1:e:r1:/b', 'ns:v1:e:r2:/a'].map((k) => reserve.find(k, named(k)) !== null), [false, true, true]);
    reserve.forgetMatching('ns:v1:');
    assert.equal(reserve.size, 0);
  });
});
