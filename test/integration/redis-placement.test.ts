import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { readInfrastructureEnv } from '../../src/config/infrastructure-env.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { admin, cacheStatus, eventually, get, outcomes, shadowTotals, sharedStateInstance } from '../support/shared-state.js';

let flask: LegacyServer;
let redis: RedisServer;

before(async () => {
  flask = await startFlask({ workers: 2 });
  redis = await startRedis();
});
after(async () => {
  await flask?.stop();
  await redis?.stop();
});

/** Keys in the private Redis, by the kind of state they hold. */
async function keysIn(): Promise<string[]> {
  const reply = await redis.command('KEYS', '*');
  return [...reply.matchAll(/^\$\d+\r\n(.*)$/gm)].map((m) => m[1]!);
}

describe('where state lives: REDIS_URL, the `redis` option and per-feature overrides, against a real Redis', () => {
  it('REDIS_URL set, `cache: { redisUrl: null }`: nothing at all goes to Redis (not the shadow store, outcomes or runtime flags either)', async () => {
    await redis.command('FLUSHALL');
    const namespace = `p-${randomUUID().slice(0, 8)}`;
    const environment = readInfrastructureEnv({ REDIS_URL: redis.url });
    const sy = await sharedStateInstance(flask.url, namespace, 'a', { environment, cache: { redisUrl: null } });
    try {
      assert.equal(cacheStatus(await get(sy, '/c/cacheable?memory')), 'MISS');
      assert.equal(cacheStatus(await get(sy, '/c/cacheable?memory')), 'HIT');
      await get(sy, '/flask/catalog');
      await eventually('the shadow comparison', async () => (await shadowTotals(sy, 'catalog')).compared === 1);
      const change = await admin(sy, 'PUT', '/_switchyard/flags/routes/users', { mode: 'new', by: 'test', reason: 'placement' });
      assert.equal((change.body as { scope: string }).scope, 'this-process');
      assert.equal((await outcomes(sy, 'cached')).scope, 'this-process');
      assert.deepEqual(await keysIn(), [], 'the private Redis stays empty');
    } finally {
      await sy.close();
    }
  });

  it('`redis` with the cache kept in memory: shadow results, outcomes and runtime flags in Redis, no cache entry there', async () => {
    await redis.command('FLUSHALL');
    const namespace = `q-${randomUUID().slice(0, 8)}`;
    const sy = await sharedStateInstance(flask.url, namespace, 'b', { environment: readInfrastructureEnv({}), redis: redis.url, cache: { redisUrl: null } });
    try {
      await get(sy, '/c/cacheable?split');
      assert.equal(cacheStatus(await get(sy, '/c/cacheable?split')), 'HIT');
      await get(sy, '/flask/catalog');
      await eventually('the shadow comparison', async () => (await shadowTotals(sy, 'catalog')).compared === 1);
      const change = await admin(sy, 'PUT', '/_switchyard/flags/routes/users', { mode: 'new', by: 'test', reason: 'placement' });
      assert.equal((change.body as { scope: string }).scope, 'all-instances');
      const keys = await eventually('outcome buckets published', async () => {
        const k = await keysIn();
        return k.some((key) => key.startsWith(`${namespace}:outcomes:`)) ? k : undefined;
      });
      assert.ok(keys.includes(`{${namespace}:flags}:state`), keys.join(' '));
      assert.ok(keys.includes(`${namespace}:shadow:{catalog}:counts`), keys.join(' '));
      assert.ok(!keys.some((k) => k.includes('cacheable')), `no cache entry in Redis: ${keys.join(' ')}`);
    } finally {
      await sy.close();
    }
  });
});
