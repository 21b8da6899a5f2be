/**
 * Found by npm run chaos: under load, a stall of Switchyard's own event loop longer than the
 * cache's 100 ms operation limit made ioredis fail commands Redis had already answered ("Command
 * timed out"), three of them opened the breaker, and cached routes lost their stale-if-error
 * answers while legacy was down. The limit is now the GuardedStore's alone (its timer reads
 * pending replies first); a Redis that really does not answer still times out.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { GuardedStore } from '../../src/cache/guarded-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';
import { silentLogger } from '../../src/logging/logger.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/** Blocks this process's event loop, as a long GC pause or a starved CPU would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

describe('cache store operations across an event-loop stall (real Redis)', () => {
  let redis: RedisServer;
  let store: GuardedStore;
  before(async () => {
    redis = await startRedis();
    store = new GuardedStore(new RedisStore({ url: redis.url, commandTimeoutMs: 100, logger: silentLogger }), { timeoutMs: 100, logger: silentLogger });
    while (!store.available()) await delay(20);
    await store.set('k', Buffer.from('v'), 60_000);
  });
  after(async () => {
    await store.close();
    await redis.stop();
  });

  it('a reply that arrived while this process was stalled is read, not timed out', async () => {
    for (let i = 0; i < 3; i++) {
      const pending = store.get('k');
      // Once the command is written (ioredis batches on the next tick), the process stalls.
      setImmediate(() => stall(300));
      assert.equal((await pending)?.toString(), 'v');
    }
    assert.equal(store.stats().circuitOpen, false);
    assert.equal(store.stats().timeouts, 0);
  });

  it('a Redis that does not answer (SIGSTOP) still fails within the operation limit', async () => {
    redis.pause();
    try {
      const started = performance.now();
      await assert.rejects(store.get('k'), /took longer than 100 ms/);
      assert.ok(performance.now() - started < 1_000);
    } finally {
      redis.resume();
    }
  });
});
