import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createSketch, mergeSketches, parseSketch, recordValue, sketchQuantile, type QuantileSketch, type SketchSettings } from '../../src/stats/quantile-sketch.js';
import { seededRandom } from '../../src/stats/seeded-random.js';
import { assertClose, exactQuantiles, logNormal, repeat } from './stats-helpers.js';

const QUANTILES = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

function sketchOf(values: readonly number[], settings: Partial<SketchSettings> = {}): QuantileSketch {
  const sketch = createSketch(settings);
  for (const v of values) recordValue(sketch, v);
  return sketch;
}

/** Seeded data sets shaped like what a route sees. */
function datasets(seed: number): Record<string, number[]> {
  const random = seededRandom(seed);
  return {
    'log-normal latencies (median 40 ms)': repeat(10_000, () => logNormal(random, 40, 0.6)),
    'uniform 0–1000 ms': repeat(5_000, () => random() * 1000),
    'cache hits and misses (0.3 ms / 200 ms)': repeat(8_000, () => (random() < 0.7 ? logNormal(random, 0.3, 0.2) : logNormal(random, 200, 0.5))),
    'eight decades (0.01 ms – 1000 s)': repeat(5_000, () => 10 ** (random() * 8 - 2)),
    'heavy ties (integers 1–20)': repeat(5_000, () => 1 + Math.floor(random() * 20)),
  };
}

function withoutSum(s: QuantileSketch): Omit<QuantileSketch, 'sum'> {
  const { sum: _sum, ...rest } = s;
  return rest;
}

describe('quantile sketch', () => {
  for (const alpha of [0.01, 0.02, 0.05]) {
    it(`every quantile is within its stated relative error α = ${alpha} of the exact one`, () => {
      for (const [name, values] of Object.entries(datasets(11))) {
        const sketch = sketchOf(values, { relativeAccuracy: alpha });
        const quantile = exactQuantiles(values);
        for (const q of QUANTILES) {
          const exact = quantile(q);
          const estimate = sketchQuantile(sketch, q) as number;
          assert.ok(Math.abs(estimate - exact) <= alpha * exact * (1 + 1e-9), `${name}: q=${q} estimate ${estimate} vs exact ${exact}`);
        }
      }
    });
  }

  it('p0 and p100 are the exact extremes, and the count, sum and mean are exact', () => {
    const values = datasets(3)['log-normal latencies (median 40 ms)'] as number[];
    const sketch = sketchOf(values);
    assert.equal(sketchQuantile(sketch, 0), Math.min(...values));
    assert.equal(sketchQuantile(sketch, 1), Math.max(...values));
    assert.equal(sketch.count, values.length);
    assertClose(sketch.sum, values.reduce((a, b) => a + b, 0), 1e-12, 'sum');
    assert.ok(sketch.bins.length < 400, `${sketch.bins.length} bins for a log-normal`);
  });

  it('merging sketches gives the sketch of all the data, in any grouping and order', () => {
    const random = seededRandom(5);
    for (const [name, values] of Object.entries(datasets(7))) {
      const parts: number[][] = repeat(7, () => []);
      for (const v of values) parts[Math.floor(random() * parts.length)]?.push(v);
      const whole = sketchOf(values);
      const pieces = parts.map((p) => sketchOf(p));
      const merged = mergeSketches(pieces);
      assert.deepEqual(withoutSum(merged), withoutSum(whole), name); // sums differ only by rounding order
      assertClose(merged.sum, whole.sum, 1e-12, `${name}: sum`);
      const regrouped = mergeSketches([mergeSketches(pieces.slice(4).reverse()), mergeSketches(pieces.slice(0, 4))]);
      assert.deepEqual(withoutSum(regrouped), withoutSum(whole), `${name}: regrouped`);
    }
    // Merging never touches its inputs.
    const a = sketchOf([1, 2, 3]);
    const before = JSON.stringify(a);
    mergeSketches([a, sketchOf([1000])]);
    assert.equal(JSON.stringify(a), before);
  });

  it('is plain JSON: a round trip through JSON gives the same sketch, and still merges', () => {
    const sketch = sketchOf(datasets(9)['uniform 0–1000 ms'] as number[]);
    const copy = parseSketch(JSON.parse(JSON.stringify(sketch)));
    assert.ok(copy !== null);
    assert.deepEqual(copy, sketch);
    assert.deepEqual(withoutSum(mergeSketches([copy, sketchOf([5])])), withoutSum(mergeSketches([sketch, sketchOf([5])])));
  });

  it('rejects JSON that is not a consistent sketch, and refuses to merge different settings', () => {
    const good = JSON.parse(JSON.stringify(sketchOf([1, 2, 3]))) as Record<string, unknown>;
    assert.equal(parseSketch(null), null);
    assert.equal(parseSketch('sketch'), null);
    assert.equal(parseSketch({ ...good, count: 4 }), null); // counts do not add up
    assert.equal(parseSketch({ ...good, bins: [1, -1, 3] }), null);
    assert.equal(parseSketch({ ...good, relativeAccuracy: 2 }), null);
    assert.equal(parseSketch({ ...good, min: 'x' }), null);
    assert.throws(() => mergeSketches([sketchOf([1]), sketchOf([1], { relativeAccuracy: 0.02 })]), RangeError);
  });

  it('values below minValue (zeros) are counted apart and reported as the smallest of them', () => {
    const sketch = sketchOf([0, 0, 0.0004, 5, 6]);
    assert.equal(sketch.zeroCount, 3);
    assert.equal(sketchQuantile(sketch, 0.5), 0);
    assertClose(sketchQuantile(sketch, 1) as number, 6, 0.01);
  });

  it('past maxBins the lowest bins fold: the upper quantiles keep the guarantee, and merging still equals building', () => {
    const random = seededRandom(13);
    const values = repeat(4000, () => 10 ** (random() * 12 - 3));
    // 200 bins of α = 1% span a factor e^(200·0.02) ≈ 55, the top 1.7 of these 12 decades.
    const settings = { maxBins: 200 };
    const sketch = sketchOf(values, settings);
    assert.equal(sketch.bins.length, 200);
    const quantile = exactQuantiles(values);
    for (const q of [0.9, 0.95, 0.99, 1]) {
      const exact = quantile(q);
      assert.ok(Math.abs((sketchQuantile(sketch, q) as number) - exact) <= 0.01 * exact * (1 + 1e-9), `q=${q}`);
    }
    const merged = mergeSketches([sketchOf(values.slice(0, 1500), settings), sketchOf(values.slice(1500), settings)]);
    assert.deepEqual(withoutSum(merged), withoutSum(sketch));
  });

  it('an empty sketch has no quantiles; bad values and settings are refused', () => {
    assert.equal(sketchQuantile(createSketch(), 0.5), null);
    assert.throws(() => recordValue(createSketch(), Number.NaN), RangeError);
    assert.throws(() => recordValue(createSketch(), -1), RangeError);
    assert.throws(() => recordValue(createSketch(), Infinity), RangeError);
    assert.throws(() => sketchQuantile(sketchOf([1]), 1.1), RangeError);
    assert.throws(() => createSketch({ relativeAccuracy: 0 }), RangeError);
    assert.throws(() => createSketch({ maxBins: 0 }), RangeError);
  });
});
