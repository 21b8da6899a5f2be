import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { CacheStore } from '../../src/cache/cache-store.js';
import { MemoryStore } from '../../src/cache/memory-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { silentLogger } from '../../src/logging/logger.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startCluster, type ClusterSet } from '../support/redis-topology.js';

interface StoreUnderTest {
  readonly store: CacheStore;
  /** Lets `ms` pass for the store's expiry (a fake clock, or real time for Redis). */
  advance(ms: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * One contract, every store: the cache relies on exactly these behaviours, whichever store is
 * configured. Called once per implementation below.
 */
function cacheStoreContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`cache store contract: ${name}`, () => {
    let t: StoreUnderTest;
    let n = 0;
    const key = (label: string) => `contract:${name}:${label}:${++n}`;
    before(async () => (t = await make()));
    after(() => t.close());

    it('get of an unknown key is null', async () => {
      assert.equal(await t.store.get(key('missing')), null);
    });

    it('stores values byte for byte (every byte value, 1 MiB of random bytes)', async () => {
      const k1 = key('bytes');
      const all = Buffer.from(Array.from({ length: 256 * 16 }, (_, i) => i % 256));
      await t.store.set(k1, all, 60_000);
      assert.ok((await t.store.get(k1))?.equals(all));
      const k2 = key('random');
      const random = randomBytes(1024 * 1024);
      await t.store.set(k2, random, 60_000);
      assert.ok((await t.store.get(k2))?.equals(random));
      const k3 = key('empty');
      await t.store.set(k3, Buffer.alloc(0), 60_000);
      assert.equal((await t.store.get(k3))?.length, 0);
    });

    it('set replaces the value', async () => {
      const k = key('replace');
      await t.store.set(k, Buffer.from('one'), 60_000);
      await t.store.set(k, Buffer.from('two'), 60_000);
      assert.equal((await t.store.get(k))?.toString(), 'two');
    });

    it('values expire after their TTL', async () => {
      const k = key('ttl');
      await t.store.set(k, Buffer.from('v'), 150);
      assert.equal((await t.store.get(k))?.toString(), 'v');
      await t.advance(400);
      assert.equal(await t.store.get(k), null);
    });

    it('delete removes one key and says whether it was there', async () => {
      const k = key('delete');
      await t.store.set(k, Buffer.from('v'), 60_000);
      assert.equal(await t.store.delete(k), true);
      assert.equal(await t.store.get(k), null);
      assert.equal(await t.store.delete(k), false);
    });

    it('deleteMatching removes a literal prefix (glob characters too), filtered', async () => {
      const prefix = key('purge*?[x]\\');
      const keys = [`${prefix}/a`, `${prefix}/b`, `${prefix}/keep`];
      const outside = `${prefix.slice(0, -3)}zz/a`;
      for (const k of [...keys, outside]) await t.store.set(k, Buffer.from(k), 60_000);
      assert.equal(await t.store.deleteMatching(prefix, (k) => !k.endsWith('/keep')), 2);
      assert.equal(await t.store.get(keys[0]!), null);
      assert.equal(await t.store.get(keys[1]!), null);
      assert.notEqual(await t.store.get(keys[2]!), null);
      assert.notEqual(await t.store.get(outside), null, 'a key that only globs would match stays');
      assert.equal(await t.store.deleteMatching(prefix), 1);
    });

    it('tryLock is exclusive until unlocked with its token or expired', async () => {
      const k = key('lock');
      const token = await t.store.tryLock(k, 60_000);
      assert.ok(token !== null);
      assert.equal(await t.store.tryLock(k, 60_000), null);
      await t.store.unlock(k, 'not-the-token');
      assert.equal(await t.store.tryLock(k, 60_000), null, 'a wrong token releases nothing');
      await t.store.unlock(k, token);
      const again = await t.store.tryLock(k, 150);
      assert.ok(again !== null);
      await t.advance(400);
      assert.ok((await t.store.tryLock(k, 60_000)) !== null, 'an expired lock can be taken');
    });

    it('is available', () => {
      assert.equal(t.store.isAvailable(), true);
    });
  });
}

cacheStoreContract('memory', () => {
  let now = Date.now();
  const store = new MemoryStore(64 * 1024 * 1024, () => now);
  return Promise.resolve({
    store,
    advance: (ms) => {
      now += ms;
      return Promise.resolve();
    },
    close: () => store.close(),
  });
});

let redis: RedisServer | undefined;
cacheStoreContract('redis', async () => {
  redis = await startRedis();
  const store = new RedisStore({ url: redis.url, commandTimeoutMs: 1000, logger: silentLogger });
  for (let i = 0; i < 100 && !store.isAvailable(); i++) await delay(20);
  return {
    store,
    advance: (ms) => delay(ms),
    close: async () => {
      await store.close();
      await redis?.stop();
    },
  };
});

// The same contract on a three-primary Redis Cluster: keys spread over the nodes, a purge scans them all.
let cluster: ClusterSet | undefined;
cacheStoreContract('redis cluster', async () => {
  cluster = await startCluster();
  const store = new RedisStore({ url: cluster.url, commandTimeoutMs: 1000, logger: silentLogger });
  for (let i = 0; i < 200 && !store.isAvailable(); i++) await delay(20);
  return {
    store,
    advance: (ms) => delay(ms),
    close: async () => {
      await store.close();
      await cluster?.stop();
    },
  };
});

describe('memory store: bounded by bytes, least recently used first', () => {
  it('evicts the least recently used entries to stay under its bound', async () => {
    const store = new MemoryStore(10 * 1024);
    const value = Buffer.alloc(3000, 1);
    await store.set('a', value, 60_000);
    await store.set('b', value, 60_000);
    await store.set('c', value, 60_000);
    await store.get('a'); // a is now the most recent
    await store.set('d', value, 60_000);
    assert.equal(await store.get('b'), null, 'b was the least recently used');
    assert.notEqual(await store.get('a'), null);
    assert.ok(store.bytes <= 10 * 1024);
    await store.set('huge', Buffer.alloc(20 * 1024), 60_000);
    assert.equal(await store.get('huge'), null, 'larger than the whole bound: not kept');
    assert.ok(store.bytes <= 10 * 1024);
  });
});
