import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBucket, mergeBuckets, parseBucket, recordOutcome, statusClass, type Outcome, type OutcomeBucket } from '../../src/stats/outcome-bucket.js';
import { OutcomeWindows, summarizeWindow } from '../../src/stats/outcome-windows.js';
import { createSketch, recordValue, sketchQuantile } from '../../src/stats/quantile-sketch.js';
import { createReservoir, mergeReservoirs, offerValue, parseReservoir, type Reservoir } from '../../src/stats/reservoir.js';
import { seededRandom } from '../../src/stats/seeded-random.js';
import { exactQuantiles, logNormal, repeat } from './stats-helpers.js';

const T0 = 1_700_000_000_000; // a multiple of 10 s
const SECOND = 1000;
const MINUTE = 60 * SECOND;

function reservoirOf(values: readonly number[], capacity: number, random: () => number): Reservoir {
  const r = createReservoir(capacity);
  for (const v of values) offerValue(r, v, random);
  return r;
}

function randomOutcome(random: () => number): Outcome {
  const roll = random();
  const status = roll < 0.8 ? 200 : roll < 0.88 ? 304 : roll < 0.95 ? 404 : 503;
  return { status, latencyMs: logNormal(random, 30, 0.7), cacheHit: random() < 0.3 };
}

/** A windows instance on a clock the test moves. */
function windowsOnClock(seed: number, settings: ConstructorParameters<typeof OutcomeWindows>[1] = {}) {
  const clock = { now: T0 };
  const windows = new OutcomeWindows({ now: () => clock.now, random: seededRandom(seed) }, settings);
  return { clock, windows };
}

describe('reservoir sampling', () => {
  it('never holds more than its capacity, and holds the whole stream until then', () => {
    const random = seededRandom(1);
    const r = createReservoir(16);
    for (let i = 0; i < 1000; i++) {
      offerValue(r, i, random);
      assert.ok(r.values.length <= 16);
      if (i < 16) assert.deepEqual(r.values, repeat(i + 1, (j) => j));
    }
    assert.equal(r.seen, 1000);
    assert.equal(new Set(r.values).size, 16);
    assert.ok(r.values.every((v) => v >= 0 && v < 1000));
  });

  it('keeps every value with the same probability k/n', () => {
    const random = seededRandom(2);
    const hits = new Array<number>(100).fill(0);
    const trials = 4000;
    for (let t = 0; t < trials; t++) for (const v of reservoirOf(repeat(100, (i) => i), 10, random).values) hits[v] = (hits[v] ?? 0) + 1;
    // Each count is Binomial(4000, 0.1): mean 400, sd 19; 5 sd either way.
    for (const [v, h] of hits.entries()) assert.ok(Math.abs(h - 400) < 95, `value ${v} kept ${h} times`);
  });

  it('merges in proportion to the traffic each reservoir stands for, not to its size', () => {
    const random = seededRandom(3);
    const busy = reservoirOf(repeat(9000, () => 1), 100, random);
    const quiet = reservoirOf(repeat(1000, () => 2), 100, random);
    const merged = mergeReservoirs([busy, quiet], 100, random);
    assert.equal(merged.seen, 10_000);
    assert.equal(merged.values.length, 100);
    assert.equal(merged.values.filter((v) => v === 1).length, 90); // systematic rounding: exact here
    // A bucket with most of the traffic but a small reservoir limits the sample to what it can back.
    const limited = mergeReservoirs([reservoirOf(repeat(10_000, () => 1), 50, random), reservoirOf(repeat(100, () => 2), 100, random)], 500, random);
    assert.equal(limited.values.length, 50);
    assert.ok(limited.values.filter((v) => v === 1).length >= 49);
  });

  it('a merged sample gives every underlying value the same chance, and never exceeds its capacity', () => {
    const random = seededRandom(4);
    const hits = new Array<number>(1200).fill(0);
    const trials = 3000;
    for (let t = 0; t < trials; t++) {
      const a = reservoirOf(repeat(1000, (i) => i), 50, random);
      const b = reservoirOf(repeat(200, (i) => 1000 + i), 50, random);
      const merged = mergeReservoirs([a, b], 60, random);
      assert.equal(merged.values.length, 60);
      for (const v of merged.values) hits[v] = (hits[v] ?? 0) + 1;
    }
    // P(kept) = 60/1200 for every value; compare the two streams' halves in blocks of 100 values.
    for (let block = 0; block < 12; block++) {
      const count = hits.slice(block * 100, block * 100 + 100).reduce((a, c) => a + c, 0);
      assert.ok(Math.abs(count - 15_000) < 800, `values ${block * 100}–${block * 100 + 99} kept ${count} times, expected ~15000`);
    }
  });

  it('round-trips through JSON and rejects inconsistent JSON', () => {
    const r = reservoirOf([1, 2, 3, 4], 3, seededRandom(5));
    assert.deepEqual(parseReservoir(JSON.parse(JSON.stringify(r))), r);
    assert.equal(parseReservoir({ capacity: 2, seen: 5, values: [1, 2, 3] }), null);
    assert.equal(parseReservoir({ capacity: 2, seen: 1, values: [1, 2] }), null);
    assert.equal(parseReservoir({ capacity: 0, seen: 0, values: [] }), null);
    assert.throws(() => createReservoir(0), RangeError);
  });
});

describe('outcome buckets', () => {
  it('classify statuses; anything outside 200–599 is "other"', () => {
    assert.deepEqual([101, 200, 299, 301, 404, 499, 500, 599, 600].map(statusClass), ['other', '2xx', '2xx', '3xx', '4xx', '4xx', '5xx', '5xx', 'other']);
  });

  it('buckets of the same slot from several instances merge into the bucket of all their requests', () => {
    const random = seededRandom(6);
    const settings = { sketch: {}, reservoirSize: 64 };
    const outcomes = repeat(3000, () => randomOutcome(random));
    const all = createBucket(T0, settings);
    const instances = repeat(3, () => createBucket(T0, settings));
    outcomes.forEach((o, i) => {
      recordOutcome(all, o, random);
      recordOutcome(instances[i % 3] as OutcomeBucket, o, random);
    });
    const merged = mergeBuckets(instances, random);
    assert.deepEqual({ ...merged.status, requests: merged.requests, cacheHits: merged.cacheHits }, { ...all.status, requests: all.requests, cacheHits: all.cacheHits });
    assert.deepEqual({ ...merged.latency, sum: 0 }, { ...all.latency, sum: 0 });
    assert.equal(merged.sample.seen, 3000);
    assert.equal(merged.sample.values.length, 64);
    const latencies = new Set(outcomes.map((o) => o.latencyMs));
    assert.ok(merged.sample.values.every((v) => latencies.has(v)));
    assert.throws(() => mergeBuckets([createBucket(T0, settings), createBucket(T0 + 10 * SECOND, settings)], random), RangeError);
  });

  it('round-trip through JSON (what another instance reads from Redis) and reject inconsistent ones', () => {
    const random = seededRandom(7);
    const bucket = createBucket(T0, { sketch: {}, reservoirSize: 8 });
    for (let i = 0; i < 50; i++) recordOutcome(bucket, randomOutcome(random), random);
    const json = JSON.parse(JSON.stringify(bucket)) as Record<string, unknown>;
    assert.deepEqual(parseBucket(json), bucket);
    assert.equal(parseBucket({ ...json, requests: 51 }), null);
    assert.equal(parseBucket({ ...json, status: { '2xx': 50 } }), null);
    assert.equal(parseBucket({ ...json, cacheHits: -1 }), null);
    assert.equal(parseBucket({ ...json, latency: {} }), null);
    assert.equal(parseBucket('{}'), null);
  });
});

describe('sliding outcome windows', () => {
  it('drop expired buckets as the injected clock moves, and keep at most retention/bucket + 1', () => {
    const { clock, windows } = windowsOnClock(8);
    const random = seededRandom(9);
    for (let t = 0; t < 40 * MINUTE; t += 2 * SECOND) {
      clock.now = T0 + t;
      windows.record('users:new', randomOutcome(random));
      assert.ok(windows.buckets('users:new').length <= 91);
    }
    const buckets = windows.buckets('users:new');
    assert.equal(buckets.length, 91); // the oldest one still overlaps the last 15 minutes
    assert.ok(buckets.every((b) => b.start + 10 * SECOND > clock.now - 15 * MINUTE));
    assert.deepEqual(buckets.map((b) => b.start), [...buckets.map((b) => b.start)].sort((a, b) => a - b));
    // An idle key keeps its buckets until they expire; prune then forgets the key.
    windows.record('orders:legacy', randomOutcome(random));
    clock.now += 15 * MINUTE + 10 * SECOND;
    windows.prune();
    assert.deepEqual(windows.keys(), []);
  });

  it('a window query counts exactly the requests of the slots it covers', () => {
    const { clock, windows } = windowsOnClock(10);
    const random = seededRandom(11);
    const log: { at: number; outcome: Outcome }[] = [];
    for (let t = 0; t < 12 * MINUTE; t += 700) {
      clock.now = T0 + t;
      const outcome = randomOutcome(random);
      windows.record('k', outcome);
      log.push({ at: clock.now, outcome });
    }
    const summary = windows.summary('k', 5 * MINUTE);
    // The current slot plus the 29 before it.
    assert.equal(summary.fromMs, Math.floor(clock.now / 10_000) * 10_000 - 29 * 10 * SECOND);
    assert.ok(clock.now - summary.fromMs > 4 * MINUTE + 50 * SECOND && clock.now - summary.fromMs <= 5 * MINUTE);
    const inWindow = log.filter((e) => e.at >= summary.fromMs).map((e) => e.outcome);
    const count = (f: (o: Outcome) => boolean) => inWindow.filter(f).length;
    assert.equal(summary.requests, inWindow.length);
    assert.deepEqual(summary.status, { '2xx': count((o) => o.status < 300), '3xx': count((o) => o.status === 304), '4xx': count((o) => o.status === 404), '5xx': count((o) => o.status === 503), other: 0 });
    assert.equal(summary.cacheHits, count((o) => o.cacheHit));
    assert.equal(summary.errorRate, count((o) => o.status === 503) / inWindow.length);
    const quantile = exactQuantiles(inWindow.map((o) => o.latencyMs));
    for (const [q, est] of [[0.5, summary.latencyMs?.p50], [0.95, summary.latencyMs?.p95], [0.99, summary.latencyMs?.p99]] as const) {
      assert.ok(est !== undefined && Math.abs(est - quantile(q)) <= 0.01 * quantile(q) * (1 + 1e-9), `p${q * 100}: ${est} vs ${quantile(q)}`);
    }
    assert.ok(summary.sample.values.length <= 1000 && summary.sample.values.length >= 400);
    assert.equal(summary.sample.seen, inWindow.length);
  });

  it('the reservoir of every bucket and of every answer stays within its bound', () => {
    const { clock, windows } = windowsOnClock(12, { reservoirSize: 20 });
    const random = seededRandom(13);
    for (let i = 0; i < 20_000; i++) {
      clock.now = T0 + i * 30; // ~333 requests per 10 s bucket
      windows.record('k', randomOutcome(random));
    }
    assert.ok(windows.buckets('k').every((b) => b.sample.values.length === 20 && b.sample.seen > 300));
    assert.ok(windows.summary('k', 5 * MINUTE, 200).sample.values.length <= 200);
    assert.ok(windows.summary('k', 5 * MINUTE, 5000).sample.values.length <= 30 * 20);
  });

  it('two instances’ published buckets summarise to what one instance would have seen', () => {
    const clock = { now: T0 };
    const a = new OutcomeWindows({ now: () => clock.now, random: seededRandom(14) });
    const b = new OutcomeWindows({ now: () => clock.now, random: seededRandom(15) });
    const one = new OutcomeWindows({ now: () => clock.now, random: seededRandom(16) });
    const random = seededRandom(17);
    for (let i = 0; i < 5000; i++) {
      clock.now = T0 + i * 97;
      const outcome = randomOutcome(random);
      (i % 3 === 0 ? a : b).record('k', outcome);
      one.record('k', outcome);
    }
    const published = [...a.buckets('k'), ...b.buckets('k')].map((x) => parseBucket(JSON.parse(JSON.stringify(x))) as OutcomeBucket);
    const fleet = summarizeWindow(published, { nowMs: clock.now, windowMs: 5 * MINUTE, bucketMs: 10 * SECOND, random });
    const alone = one.summary('k', 5 * MINUTE);
    assert.deepEqual([fleet.requests, fleet.status, fleet.cacheHits, fleet.errorRate, fleet.latencyMs?.p99], [alone.requests, alone.status, alone.cacheHits, alone.errorRate, alone.latencyMs?.p99]);
    assert.deepEqual({ ...fleet.sketch, sum: 0 }, { ...alone.sketch, sum: 0 });
  });

  it('a clock that steps back records into the earlier slot, in order', () => {
    const { clock, windows } = windowsOnClock(18);
    clock.now = T0 + 35 * SECOND;
    windows.record('k', { status: 200, latencyMs: 5, cacheHit: false });
    clock.now = T0 + 12 * SECOND;
    windows.record('k', { status: 500, latencyMs: 9, cacheHit: false });
    clock.now = T0 + 31 * SECOND;
    windows.record('k', { status: 200, latencyMs: 7, cacheHit: true });
    assert.deepEqual(windows.buckets('k').map((b) => [b.start - T0, b.requests]), [[10 * SECOND, 1], [30 * SECOND, 2]]);
  });

  it('an empty window has counts of 0 and no rates; bad windows are refused', () => {
    const { windows } = windowsOnClock(19);
    const empty = windows.summary('nothing', MINUTE);
    assert.equal(empty.requests, 0);
    assert.equal(empty.errorRate, null);
    assert.equal(empty.latencyMs, null);
    assert.equal(empty.sample.values.length, 0);
    assert.throws(() => windows.summary('k', 16 * MINUTE), RangeError);
    assert.throws(() => windows.summary('k', 0), RangeError);
    assert.throws(() => new OutcomeWindows({ now: () => T0, random: Math.random }, { bucketMs: 0 }), RangeError);
    assert.throws(() => new OutcomeWindows({ now: () => T0, random: Math.random }, { retentionMs: 5 * SECOND }), RangeError);
  });

  it('the summary’s sketch agrees with a sketch built from the window’s latencies', () => {
    const { clock, windows } = windowsOnClock(20);
    const random = seededRandom(21);
    const sketch = createSketch();
    for (let i = 0; i < 600; i++) {
      clock.now = T0 + i * 100; // one minute
      const outcome = randomOutcome(random);
      windows.record('k', outcome);
      recordValue(sketch, outcome.latencyMs);
    }
    const summary = windows.summary('k', 2 * MINUTE);
    assert.equal(summary.latencyMs?.p95, sketchQuantile(sketch, 0.95));
  });
});
