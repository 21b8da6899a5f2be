import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisShadowStore } from '../../src/shadow/redis-shadow-store.js';
import { MemoryShadowStore, type ShadowResultStore, type ShadowSample } from '../../src/shadow/shadow-store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { startCluster, type ClusterSet } from '../support/redis-topology.js';

/** One contract, run against every ShadowResultStore implementation (memory and Redis). */
function storeContract(name: string, make: () => ShadowResultStore): void {
  describe(`shadow result store contract: ${name}`, () => {
    const sample = (n: number): ShadowSample => ({
      at: new Date(n).toISOString(),
      route: 'r',
      flagVersion: 'v',
      request: { method: 'GET', path: `/x/${n}`, headers: {} },
      primary: { side: 'legacy', status: 200, headers: {}, body: '{}' },
      candidate: { side: 'new', status: 200, headers: {}, body: '{"a":1}' },
      differences: [{ path: '/a', kind: 'added' }],
    });

    it('adds up comparisons, fields (once per comparison), noise samples and skips', async () => {
      const store = make();
      try {
        await store.recordComparison('r', { matched: true, rawFields: [] });
        await store.recordComparison('r', { matched: false, rawFields: ['/a', '/a', '/b'], noiseFields: ['/b'] });
        await store.recordComparison('r', { matched: false, rawFields: ['/a'], noiseFields: [] });
        await store.recordSkip('r', 'timeout');
        await store.recordSkip('r', 'timeout');
        await store.recordSkip('r', 'sampled_out');
        const c = await store.counts('r');
        assert.equal(c.compared, 3);
        assert.equal(c.matched, 1);
        assert.equal(c.mismatched, 2);
        assert.equal(c.noiseSamples, 2);
        assert.deepEqual(c.fields, { '/a': { raw: 2, noise: 0 }, '/b': { raw: 1, noise: 1 } });
        assert.equal(c.skipped.timeout, 2);
        assert.equal(c.skipped.sampled_out, 1);
        assert.equal(c.skipped.error, 0);
        assert.deepEqual(await store.routes(), ['r']);
      } finally {
        await store.close();
      }
    });

    it('keeps a capped ring of samples, newest first, and resets a route', async () => {
      const store = make();
      try {
        for (let i = 0; i < 5; i++) await store.recordComparison('r', { matched: false, rawFields: ['/a'], sample: sample(i) });
        const samples = await store.samples('r', 10);
        assert.deepEqual(samples.map((s) => s.request.path), ['/x/4', '/x/3', '/x/2']);
        assert.deepEqual((await store.samples('r', 1)).map((s) => s.request.path), ['/x/4']);
        await store.reset('r');
        assert.equal((await store.counts('r')).compared, 0);
        assert.deepEqual(await store.samples('r', 10), []);
      } finally {
        await store.close();
      }
    });
  });
}

storeContract('memory', () => new MemoryShadowStore(3));

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});
storeContract('redis', () => new RedisShadowStore({ url: redis.url, namespace: `t-${randomUUID()}`, maxSamples: 3, commandTimeoutMs: 1000 }));

// And on a three-primary Redis Cluster: a route's keys share a hash tag, so its MULTI runs on one slot.
let cluster: ClusterSet;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await cluster?.stop();
});
storeContract('redis cluster', () => new RedisShadowStore({ url: cluster.url, namespace: `t-${randomUUID()}`, maxSamples: 3, commandTimeoutMs: 2000 }));

describe('redis store: two instances add up', () => {
  it('counts from two store instances on one namespace are one total', async () => {
    const namespace = `t-${randomUUID()}`;
    const a = new RedisShadowStore({ url: redis.url, namespace, maxSamples: 3, commandTimeoutMs: 1000 });
    const b = new RedisShadowStore({ url: redis.url, namespace, maxSamples: 3, commandTimeoutMs: 1000 });
    try {
      await Promise.all([a.recordComparison('r', { matched: true, rawFields: [] }), b.recordComparison('r', { matched: false, rawFields: ['/x'] })]);
      assert.equal((await a.counts('r')).compared, 2);
      assert.equal((await b.counts('r')).mismatched, 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
