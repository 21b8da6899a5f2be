import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { EMPTY_SHADOW_TOTALS, type CanaryRun } from '../../src/canary/canary-run.js';
import { CanaryStoreUnavailableError, MemoryCanaryStore, type CanaryRunStore } from '../../src/canary/canary-store.js';
import { MemoryLease } from '../../src/canary/leader-lease.js';
import { RedisCanaryStore, RedisLease } from '../../src/canary/redis-canary-store.js';
import { CANARY_POLICY_DEFAULTS } from '../../src/config/defaults.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

function run(route: string, version: number, percentage = 0): CanaryRun {
  const stage = { kind: 'shadow', index: 0, percentage: 0 } as const;
  return {
    route,
    runId: `run-${route}`,
    version,
    status: 'running',
    stage,
    stages: [stage],
    setPercentage: percentage,
    policy: CANARY_POLICY_DEFAULTS,
    startedAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    reason: null,
    evaluations: [],
    events: [],
    stageStartedAt: 0,
    samplesMetAt: null,
    lastEvaluatedAt: null,
    sequential: { errorRate: { looks: 2, pValue: 0.3 } },
    shadowBaseline: EMPTY_SHADOW_TOTALS,
    knownFields: ['/a'],
    lastSafePercentage: null,
    flagVersion: 0,
  };
}

/** One contract, run against every CanaryRunStore (memory and Redis). */
function storeContract(name: string, make: () => CanaryRunStore): void {
  describe(`canary run store contract: ${name}`, () => {
    it('stores and reads runs back whole; lists them by route', async () => {
      const store = make();
      try {
        assert.equal(await store.get('users'), null);
        assert.equal(await store.put(run('users', 1), null), true);
        assert.equal(await store.put(run('catalog', 1), null), true);
        assert.deepEqual(await store.get('users'), run('users', 1));
        assert.deepEqual((await store.list()).map((r) => r.route), ['catalog', 'users']);
      } finally {
        await store.close();
      }
    });

    it('compare-and-set: a write that expects an older version changes nothing', async () => {
      const store = make();
      try {
        assert.equal(await store.put(run('users', 1), null), true);
        assert.equal(await store.put(run('users', 2, 5), 1), true);
        assert.equal(await store.put(run('users', 3, 25), 1), false, 'a second writer from version 1 loses');
        assert.equal(await store.put(run('users', 9), null), false, 'creating over an existing run loses');
        assert.equal((await store.get('users'))?.setPercentage, 5);
      } finally {
        await store.close();
      }
    });
  });
}

storeContract('memory', () => new MemoryCanaryStore());

describe('Redis canary store and lease', () => {
  let redis: RedisServer;
  const namespace = () => `t${randomUUID().slice(0, 8)}`;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });

  const ns = namespace();
  storeContract('redis', () => new RedisCanaryStore({ url: redis.url, namespace: ns + randomUUID().slice(0, 4), commandTimeoutMs: 1000 }));

  it('two stores on one namespace see each other’s runs (the fleet)', async () => {
    const options = { url: redis.url, namespace: namespace(), commandTimeoutMs: 1000 };
    const a = new RedisCanaryStore(options);
    const b = new RedisCanaryStore(options);
    try {
      await a.put(run('users', 1, 5), null);
      assert.equal((await a.list())[0]?.setPercentage, 5, 'A has read (and parsed) version 1');
      assert.equal((await b.get('users'))?.setPercentage, 5);
      assert.equal(await b.put(run('users', 2, 25), 1), true);
      // A parses a stored run once per version: B's write must not be hidden by what A parsed before.
      assert.deepEqual((await a.list()).map((r) => [r.version, r.setPercentage]), [[2, 25]]);
      assert.equal((await a.get('users'))?.setPercentage, 25);
      assert.equal(await a.put(run('users', 2, 50), 1), false);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('lease: one holder; renewed by it; taken over once it expires; released on close', async () => {
    const options = { url: redis.url, namespace: namespace(), commandTimeoutMs: 1000 };
    const a = new RedisLease(options, 'a', 600);
    const b = new RedisLease(options, 'b', 600);
    try {
      assert.equal(await a.tryAcquire(), true);
      assert.equal(await b.tryAcquire(), false);
      assert.equal(await b.holder(), 'a');
      for (let i = 0; i < 4; i++) {
        await delay(250);
        assert.equal(await a.tryAcquire(), true, 'the holder renews');
        assert.equal(await b.tryAcquire(), false);
      }
      // a stops renewing (dies): b gets it once the lease expires.
      await delay(700);
      assert.equal(await b.tryAcquire(), true);
      assert.equal(await a.tryAcquire(), false);
      await a.release(); // not a's: nothing happens
      assert.equal(await a.holder(), 'b');
      await b.release();
      assert.equal(await a.holder(), null);
      assert.equal(await a.tryAcquire(), true);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Redis down: the store says so, the lease is simply not held', async () => {
    const other = await startRedis();
    const options = { url: other.url, namespace: namespace(), commandTimeoutMs: 300 };
    const store = new RedisCanaryStore(options);
    const lease = new RedisLease(options, 'a', 1000);
    try {
      assert.equal(await lease.tryAcquire(), true);
      await other.kill();
      await assert.rejects(store.get('users'), CanaryStoreUnavailableError);
      assert.equal(await lease.tryAcquire(), false);
    } finally {
      await store.close();
      await lease.close();
      await other.stop();
    }
  });
});

describe('memory lease', () => {
  it('without Redis the one process drives', async () => {
    const lease = new MemoryLease('me');
    assert.equal(await lease.tryAcquire(), true);
    assert.equal(await lease.holder(), 'me');
  });
});
