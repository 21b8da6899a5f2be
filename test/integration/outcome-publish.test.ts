import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/logging/logger.js';
import { OutcomeRecorder } from '../../src/outcomes/outcome-recorder.js';
import type { OutcomeStore, OutcomeUpdate } from '../../src/outcomes/outcome-store.js';
import { RedisOutcomeStore } from '../../src/outcomes/redis-outcome-store.js';
import { seededRandom } from '../../src/stats/seeded-random.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';

/**
 * Publishing writes only the slots that changed, deletes the slot that expired, and yet what a
 * private redis-server holds after every round is exactly this instance's unexpired buckets —
 * with a whole-series write the first time, after a failed round and after Redis lost the series.
 */
const BUCKET_MS = 1000;
const RETENTION_MS = 5000;
const SERIES = 'r:shadow';

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis.stop();
});

class SpyStore implements OutcomeStore {
  readonly kind = 'redis';
  readonly updates: OutcomeUpdate[] = [];
  failNext = false;
  constructor(readonly inner: RedisOutcomeStore) {}
  publish(instance: string, series: string, update: OutcomeUpdate, retentionMs: number): Promise<boolean> {
    this.updates.push(update);
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error('injected failure'));
    }
    return this.inner.publish(instance, series, update, retentionMs);
  }
  read(series: string) {
    return this.inner.read(series);
  }
  close() {
    return this.inner.close();
  }
}

describe('outcome publishing (real Redis)', () => {
  it('keeps Redis equal to the unexpired buckets while writing only what changed', async () => {
    let now = 1_000_000;
    const store = new SpyStore(new RedisOutcomeStore({ url: redis.url, namespace: 'pub-test', commandTimeoutMs: 1000 }));
    const recorder = new OutcomeRecorder({ now: () => now, random: seededRandom(7), logger: silentLogger, store, instance: 'a', windows: { bucketMs: BUCKET_MS, retentionMs: RETENTION_MS } });
    try {
      await publishRounds(store, recorder, () => now, (ms) => (now += ms));
    } finally {
      await recorder.close();
    }
  });
});

async function publishRounds(store: SpyStore, recorder: OutcomeRecorder, clock: () => number, advance: (ms: number) => void): Promise<void> {
  const recorded = new Map<number, number>(); // slot start → comparisons recorded in it
  const rounds = 70;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < 1 + (round % 4); i++) {
      recorder.recordComparison('r', i % 3 !== 0);
      const slot = Math.floor(clock() / BUCKET_MS) * BUCKET_MS;
      recorded.set(slot, (recorded.get(slot) ?? 0) + 1);
    }
    if (round === 45) store.failNext = true;
    if (round === 55) await redis.command('FLUSHALL'); // Redis lost everything (as a restart without persistence does)
    await recorder.publish();
    // Rounds 45 (write refused) and 55 (only the changed slot written to an empty Redis) leave
    // Redis behind; the round after each writes the whole series.
    if (round === 45 || round === 55) continue;
    const firstKept = Math.floor((clock() - RETENTION_MS) / BUCKET_MS) * BUCKET_MS;
    const expected = [...recorded].filter(([slot]) => slot >= firstKept).sort(([a], [b]) => a - b);
    const inRedis = (await store.read(SERIES)).map((p) => [p.bucket.start, p.bucket.requests] as const).sort(([a], [b]) => a - b);
    assert.deepEqual(inRedis, expected, `round ${round}: Redis holds exactly the unexpired buckets`);
    assert.ok((await store.read(SERIES)).every((p) => p.instance === 'a'));
    advance(400);
  }
  const complete = store.updates.flatMap((u, i) => (u.complete ? [i] : []));
  // One update per round; whole ones: the first publish, after the failure, after the flush.
  assert.equal(store.updates.length, rounds);
  assert.deepEqual(complete, [0, 46, 56]);
  const partial = store.updates.filter((u) => !u.complete);
  assert.ok(partial.length >= rounds - 5);
  assert.ok(
    partial.every((u) => u.buckets.length <= 2),
    'a partial publish writes at most the slot that changed and the one before it',
  );
  assert.ok(partial.some((u) => u.expired.length > 0), 'the slot that fell out of the retention is deleted by name');
}
