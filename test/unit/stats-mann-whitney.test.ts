import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hodgesLehmannShift, median } from '../../src/stats/hodges-lehmann.js';
import { judgeLatency } from '../../src/stats/latency-judge.js';
import { mannWhitneyU, uNullCdf, type Alternative } from '../../src/stats/mann-whitney.js';
import { seededRandom } from '../../src/stats/seeded-random.js';
import { assertClose, logNormal, repeat } from './stats-helpers.js';

// Samples (seeded log-normal latencies, numpy default_rng(7)) and the reference values computed
// from them with scipy 1.17.1: scipy.stats.mannwhitneyu(x, y, alternative=…, method=…,
// use_continuity=True). Its `statistic` is U of x, the convention here too.
const SMALL = {
  x: [20.09, 21.97, 18.5, 15.38, 17.52, 14.92, 20.45, 30.03],
  y: [21.16, 20.37, 28.42, 27.3, 25.32, 18.56, 24.32, 30.22, 16.39, 21.39],
};
const TWENTY = {
  x: [9.389, 11.991, 9.615, 18.283, 12.098, 22.388, 21.385, 18.638, 7.34, 16.192, 19.7, 21.017, 10.891, 16.592, 13.58, 14.534, 30.703, 14.541, 19.826, 28.61],
  y: [20.421, 24.663, 26.955, 26.457, 15.799, 26.588, 44.413, 13.89, 36.37, 27.051, 19.954, 57.407, 34.984, 15.963, 26.571, 32.482, 23.915, 33.891, 25.113, 33.68],
};
const TIES = {
  x: [13, 13, 8, 9, 7, 9, 10, 14, 17, 8, 18, 13, 11, 9, 17, 12, 15, 11, 14, 12, 10, 14, 12, 18, 18, 7, 16, 13, 12, 9],
  y: [12, 15, 14, 15, 19, 21, 13, 22, 18, 16, 25, 13, 6, 20, 9, 14, 16, 23, 15, 10, 13, 9, 14, 5, 11, 15, 15, 16, 12, 14, 16, 10, 6, 12, 15, 12, 18, 10, 16, 8],
};
const UNBALANCED = {
  x: [29.417, 33.851, 22.269],
  y: [
    16.487, 14.884, 15.394, 21.298, 15.881, 22.35, 22.241, 36.876, 13.226, 26.216, 19.553, 20.001, 13.001, 17.495, 25.102, 19.595, 20.58, 18.408, 28.399, 19.957, 10.38, 16.32, 11.127, 7.573, 17.132, 29.966, 20.371, 14.129, 15.147, 28.196,
    21.058, 20.377, 19.766, 20.318, 25.575, 23.707, 21.428, 14.69, 23.414, 16.358, 27.887, 13.718, 19.273, 20.041, 13.499, 33.669, 31.128, 17.478, 25.318, 22.502, 9.17, 21.652, 19.719, 20.593, 14.54, 18.526, 19.04, 28.687, 22.205, 20.052,
  ],
};

type Case = { set: { x: number[]; y: number[] }; u: number; p: Record<Alternative, { asymptotic: number; exact?: number }> };
const CASES: Record<string, Case> = {
  '8 vs 10, no ties': {
    set: SMALL,
    u: 21,
    p: {
      'two-sided': { asymptotic: 0.10022410561773794, exact: 0.10110151286621874 },
      greater: { asymptotic: 0.9584184255318446, exact: 0.9584304584304585 },
      less: { asymptotic: 0.05011205280886897, exact: 0.05055075643310937 },
    },
  },
  '20 vs 20, no ties': {
    set: TWENTY,
    u: 61,
    p: {
      'two-sided': { asymptotic: 0.00017936378528946248, exact: 7.937834992049819e-5 },
      greater: { asymptotic: 0.9999195093301704, exact: 0.9999654539287949 },
      less: { asymptotic: 8.968189264473124e-5, exact: 3.9689174960249094e-5 },
    },
  },
  '30 vs 40 integers, many ties': {
    set: TIES,
    u: 450.5,
    p: { 'two-sided': { asymptotic: 0.07604609058877189 }, greater: { asymptotic: 0.962951170624109 }, less: { asymptotic: 0.038023045294385945 } },
  },
  '3 vs 60, no ties': {
    set: UNBALANCED,
    u: 159,
    p: {
      'two-sided': { asymptotic: 0.027047750542290864, exact: 0.020447734884540807 },
      greater: { asymptotic: 0.013523875271145432, exact: 0.010223867442270404 },
      less: { asymptotic: 0.9875549086798293, exact: 0.9909848656543526 },
    },
  },
};

describe('Mann–Whitney U', () => {
  for (const [name, c] of Object.entries(CASES)) {
    it(`${name}: U and p-values match scipy.stats.mannwhitneyu`, () => {
      for (const alternative of ['two-sided', 'greater', 'less'] as const) {
        const expected = c.p[alternative];
        const asymptotic = mannWhitneyU(c.set.x, c.set.y, { alternative, method: 'asymptotic' });
        assert.equal(asymptotic.u, c.u);
        assertClose(asymptotic.pValue, expected.asymptotic, 1e-12, `${alternative} asymptotic`);
        const exact = mannWhitneyU(c.set.x, c.set.y, { alternative, method: 'exact' });
        if (expected.exact === undefined) {
          assert.equal(exact.method, 'asymptotic', 'ties: exact falls back to the approximation');
        } else {
          assert.equal(exact.method, 'exact');
          assertClose(exact.pValue, expected.exact, 1e-12, `${alternative} exact`);
        }
      }
    });
  }

  it("'auto' is exact for untied samples of at most 20 each, asymptotic otherwise", () => {
    assert.equal(mannWhitneyU(TWENTY.x, TWENTY.y).method, 'exact');
    assert.equal(mannWhitneyU(UNBALANCED.x, UNBALANCED.y).method, 'asymptotic');
    assert.equal(mannWhitneyU(TIES.x.slice(0, 10), TIES.y.slice(0, 10)).method, 'asymptotic');
    // z: (U − n₁n₂/2 − ½)/σ for 'greater', recomputed by hand for the 8 vs 10 case (σ = √(80·19/12)).
    assertClose(mannWhitneyU(SMALL.x, SMALL.y, { alternative: 'greater' }).z, (21 - 40 - 0.5) / Math.sqrt((80 * 19) / 12), 1e-14, 'z');
  });

  it('the exact null distribution: small cases by hand, symmetry, and a total of 1', () => {
    // n₁ = n₂ = 2: U ∈ {0, 1, 2, 2, 3, 4} over the C(4, 2) = 6 arrangements.
    assert.deepEqual(uNullCdf(2, 2).map((p) => p * 6), [1, 2, 4, 5, 6]);
    const cdf = uNullCdf(7, 12);
    assertClose(cdf[cdf.length - 1] as number, 1, 1e-15, 'total');
    for (let k = 0; k < 84; k++) assertClose(cdf[k] as number, 1 - (cdf[83 - k] as number), 1e-12, `symmetry at ${k}`);
  });

  it('degenerate input: all values equal gives p = 1; empty or non-finite samples are refused', () => {
    const r = mannWhitneyU([5, 5, 5], [5, 5]);
    assert.deepEqual([r.u, r.z, r.pValue], [3, 0, 1]);
    assert.throws(() => mannWhitneyU([], [1]), RangeError);
    assert.throws(() => mannWhitneyU([1, Number.NaN], [1]), RangeError);
  });
});

// Reference values: numpy.median(numpy.subtract.outer(y, x)) for the estimate; the interval's
// order statistics recomputed in Python (exact null counts by the recursion f(u; m, n) =
// f(u − n; m − 1, n) + f(u; m, n − 1), or k = ⌊mn/2 + ½ − norm.isf(α/2)·σ⌋ with ties).
describe('Hodges–Lehmann shift', () => {
  const cases: [string, { x: number[]; y: number[] }, number, [number, number, number]][] = [
    ['8 vs 10 (exact interval)', SMALL, 0.95, [3.755000000000001, -1.129999999999999, 8.8]],
    ['8 vs 10 (exact interval)', SMALL, 0.98, [3.755000000000001, -1.8900000000000006, 9.780000000000001]],
    ['20 vs 20 (exact interval)', TWENTY, 0.95, [10.671, 5.5710000000000015, 15.352999999999998]],
    ['20 vs 20 (exact interval)', TWENTY, 0.98, [10.671, 5.071999999999999, 16.346]],
    ['30 vs 40 with ties (normal interval)', TIES, 0.95, [2, 0, 4]],
    ['30 vs 40 with ties (normal interval)', TIES, 0.98, [2, -1, 4]],
    ['3 vs 60 (normal interval)', UNBALANCED, 0.98, [-8.938500000000003, -18.29, 1.1450000000000031]],
  ];
  for (const [name, set, confidence, [estimate, lower, upper]] of cases) {
    it(`${name}, ${confidence * 100}%: estimate and interval`, () => {
      const shift = hodgesLehmannShift(set.x, set.y, { confidence });
      assertClose(shift.estimate, estimate, 1e-12, 'estimate');
      assertClose(shift.lower, lower, 1e-12, 'lower');
      assertClose(shift.upper, upper, 1e-12, 'upper');
      assert.equal(shift.pairs, set.x.length * set.y.length);
    });
  }

  it('the interval covers the true shift about as often as it says (seeded simulation)', () => {
    const random = seededRandom(31);
    let covered = 0;
    const runs = 400;
    for (let r = 0; r < runs; r++) {
      const baseline = repeat(60, () => logNormal(random, 40, 0.5));
      const candidate = repeat(50, () => logNormal(random, 40, 0.5) + 7); // a pure shift of 7 ms
      const shift = hodgesLehmannShift(baseline, candidate, { confidence: 0.9 });
      if (shift.lower <= 7 && 7 <= shift.upper) covered++;
    }
    // 90% nominal; Binomial(400, 0.9) has sd 6, so 4 sd either side.
    assert.ok(covered >= 336 && covered <= 384, `covered ${covered} of ${runs}`);
  });

  it('beyond maxPairs it thins both samples: bounded work, nearly the same estimate, a wider interval', () => {
    const random = seededRandom(32);
    const baseline = repeat(1500, () => logNormal(random, 40, 0.5));
    const candidate = repeat(1200, () => logNormal(random, 48, 0.5));
    const full = hodgesLehmannShift(baseline, candidate, { maxPairs: Infinity });
    const thinned = hodgesLehmannShift(baseline, candidate, { maxPairs: 40_000 });
    assert.equal(full.thinned, false);
    assert.equal(thinned.thinned, true);
    assert.ok(thinned.pairs <= 40_000, `${thinned.pairs} pairs`);
    assert.ok(Math.abs(thinned.estimate - full.estimate) < 0.02 * Math.abs(full.estimate), `${thinned.estimate} vs ${full.estimate}`);
    assert.ok(thinned.lower <= full.lower && thinned.upper >= full.upper);
  });

  it('median, and too-small samples get an unbounded interval', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    const tiny = hodgesLehmannShift([1, 2], [3], { confidence: 0.95 });
    assert.deepEqual([tiny.estimate, tiny.lower, tiny.upper], [1.5, -Infinity, Infinity]);
    assert.throws(() => hodgesLehmannShift([], [1]), RangeError);
    assert.throws(() => hodgesLehmannShift([1], [1], { confidence: 1 }), RangeError);
  });
});

describe('latency judge (Kayenta-style)', () => {
  const random = seededRandom(41);
  const sample = (n: number, medianMs: number) => repeat(n, () => logNormal(random, medianMs, 0.4));

  it('too few points on either side is inconclusive, never a failure', () => {
    const verdict = judgeLatency(sample(200, 40), sample(49, 400));
    assert.equal(verdict.verdict, 'inconclusive');
    assert.match(verdict.reason, /200 baseline and 49 candidate, 50 needed/);
    assert.equal(verdict.shift, null);
  });

  it('a candidate 3× slower fails, with the numbers that show it', () => {
    const verdict = judgeLatency(sample(300, 40), sample(300, 120));
    assert.equal(verdict.verdict, 'fail');
    assert.ok(verdict.shift !== null && verdict.allowedShiftMs !== null && verdict.shift.lower > verdict.allowedShiftMs);
    assert.ok(verdict.mannWhitney !== null && verdict.mannWhitney.pValue < 1e-20);
    assert.match(verdict.reason, /candidate slower by .* ms \(Hodges–Lehmann, 98% CI .* to .* ms\): even the interval's low end exceeds the allowed shift of .* ms \(25% of the baseline median .* ms\)$/);
  });

  it('a candidate 5% slower passes however many samples there are (the band is relative to the baseline)', () => {
    const verdict = judgeLatency(sample(1000, 40), sample(1000, 42));
    assert.equal(verdict.verdict, 'pass');
    assert.ok(verdict.relativeShift !== null && verdict.relativeShift > 0 && verdict.relativeShift < 0.15, `relative shift ${verdict.relativeShift}`);
  });

  it('a faster candidate passes, and a 60% slower one fails', () => {
    assert.equal(judgeLatency(sample(300, 40), sample(300, 20)).verdict, 'pass');
    assert.equal(judgeLatency(sample(300, 40), sample(300, 64)).verdict, 'fail');
  });

  it('a noisy, small slowdown near the band passes (not shown to exceed it)', () => {
    const verdict = judgeLatency(sample(60, 40), sample(60, 50));
    assert.equal(verdict.verdict, 'pass');
    assert.match(verdict.reason, /is not shown to exceed the allowed shift of .* ms \(25% of the baseline median/);
  });
});
