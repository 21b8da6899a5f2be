import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rateAboveTest, rateIncreaseTest, restrictedRates, wilsonInterval, type Counts } from '../../src/stats/proportions.js';
import { seededRandom } from '../../src/stats/seeded-random.js';
import { SEQUENTIAL_START, sequentialAboveLook, sequentialIncreaseLook, type SequentialState } from '../../src/stats/sequential-rate-test.js';
import { assertClose, binomial } from './stats-helpers.js';

const counts = (events: number, trials: number): Counts => ({ events, trials });

// Reference values, scipy 1.17.1. statsmodels is not available, so the two-proportion z is
// computed by formula: z = (p̂c − p̂b − δ)/√(p̃c(1−p̃c)/nc + p̃b(1−p̃b)/nb), p = norm.sf(z), where
// (p̃c, p̃b) maximise the binomial likelihood under p̃c − p̃b = δ, found numerically with
// scipy.optimize.brentq on the score equation (not with the closed form under test), and are
// the pooled rate when δ = 0.
describe('two-proportion test (is the candidate’s rate higher by more than a margin?)', () => {
  const cases: [Counts, Counts, number, { z: number; p: number; se: number }][] = [
    [counts(30, 1000), counts(18, 1000), 0, { z: 1.7532171832956915, p: 0.03978236729659525, se: 0.00684455988358638 }],
    [counts(12, 400), counts(5, 600), 0.005, { z: 2.007575583878339, p: 0.022344205644049944, se: 0.008301887510740258 }],
    [counts(45, 1500), counts(20, 1500), 0.005, { z: 2.229356433213354, p: 0.012895099278542913, se: 0.00523319936321288 }],
    [counts(3, 200), counts(0, 3000), 0.01, { z: 0.7106690545187013, p: 0.2386446701347154, se: 0.007035623639735145 }],
    [counts(0, 300), counts(0, 300), 0.005, { z: -1.227818263605087, p: 0.8902424009722402, se: 0.004072263907623539 }],
    [counts(60, 2000), counts(20, 2000), 0.005, { z: 3.4719651523656254, p: 0.0002583316994040168, se: 0.004320319859713954 }],
  ];
  for (const [candidate, baseline, margin, expected] of cases) {
    it(`${candidate.events}/${candidate.trials} vs ${baseline.events}/${baseline.trials}, margin ${margin}: z, p and standard error`, () => {
      const r = rateIncreaseTest(candidate, baseline, margin);
      assertClose(r.z, expected.z, 1e-12, 'z');
      assertClose(r.pValue, expected.p, 1e-12, 'p');
      assertClose(r.standardError, expected.se, 1e-12, 'se');
    });
  }

  it('with no margin it is the classic pooled z-test', () => {
    const pooled = 48 / 2000;
    const z = (0.03 - 0.018) / Math.sqrt(pooled * (1 - pooled) * (1 / 1000 + 1 / 1000));
    assertClose(rateIncreaseTest(counts(30, 1000), counts(18, 1000)).z, z, 1e-15, 'z');
  });

  it('the restricted rates keep the constraint and stay in [0, 1]', () => {
    for (const [c, b, d] of [[counts(12, 400), counts(5, 600), 0.005], [counts(0, 50), counts(50, 50), 0.3], [counts(200, 200), counts(0, 100), 0.3]] as const) {
      const r = restrictedRates(c, b, d);
      assertClose(r.candidate - r.baseline, d, 1e-12, 'difference');
      assert.ok(r.candidate >= 0 && r.candidate <= 1 && r.baseline >= 0 && r.baseline <= 1);
    }
  });

  it('refuses impossible counts and margins', () => {
    assert.throws(() => rateIncreaseTest(counts(3, 2), counts(0, 10)), RangeError);
    assert.throws(() => rateIncreaseTest(counts(0, 0), counts(0, 10)), RangeError);
    assert.throws(() => rateIncreaseTest(counts(1.5, 10), counts(0, 10)), RangeError);
    assert.throws(() => rateIncreaseTest(counts(1, 10), counts(0, 10), 1), RangeError);
  });
});

describe('one rate against a maximum, and the Wilson interval', () => {
  it('Wilson bounds match scipy.stats.binomtest(k, n).proportion_ci(confidence_level, method="wilson")', () => {
    const cases: [number, number, number, number, number][] = [
      [0, 50, 0.95, 0, 0.07134759913335872],
      [1, 50, 0.95, 0.0035392592716462223, 0.10495443589637814],
      [7, 200, 0.95, 0.0170555420085672, 0.07047061152229074],
      [7, 200, 0.98, 0.015002963241891473, 0.07949932682666083],
      [50, 50, 0.95, 0.9286524008666412, 1],
      [481, 500, 0.99, 0.9332484391716764, 0.9786508458944061],
      [3, 1000, 0.9, 0.0011995624784162675, 0.0074824913019056905],
    ];
    for (const [k, n, confidence, lower, upper] of cases) {
      const r = wilsonInterval(counts(k, n), confidence);
      assertClose(r.lower, lower, 1e-12, `${k}/${n} lower`);
      assertClose(r.upper, upper, 1e-12, `${k}/${n} upper`);
    }
  });

  it('the score test matches its formula: z = (p̂ − max)/√(max(1 − max)/n), p = scipy.stats.norm.sf(z)', () => {
    const cases: [number, number, number, number, number][] = [
      [7, 200, 0.005, 6.015056485405026, 8.991199293625974e-10],
      [1, 400, 0.005, -0.7088812050083358, 0.7608009002755323],
      [12, 500, 0.01, 3.1462660248284635, 0.0008268475818501677],
    ];
    for (const [k, n, max, z, p] of cases) {
      const r = rateAboveTest(counts(k, n), max);
      assertClose(r.z, z, 1e-14, 'z');
      assertClose(r.pValue, p, 1e-12, 'p');
    }
  });

  it('agrees with Wilson: rejects at level a exactly when the one-sided (1 − a) Wilson bound is above the maximum', () => {
    const a = 0.01;
    for (let n = 20; n <= 2000; n += 137) {
      for (let k = 0; k <= n; k += Math.max(1, Math.floor(n / 25))) {
        for (const max of [0.001, 0.005, 0.02, 0.1, 0.5]) {
          const rejects = rateAboveTest(counts(k, n), max).pValue < a;
          const bound = wilsonInterval(counts(k, n), 1 - 2 * a).lower;
          if (Math.abs(bound - max) > 1e-12) assert.equal(rejects, bound > max, `${k}/${n} vs ${max}: bound ${bound}`);
        }
      }
    }
  });
});

// Reference e-values: the same formula in Python, with scipy.special.betaln for the Jeffreys
// beta-binomial numerator, scipy.special.xlogy/xlog1py for the null log-likelihood, and the
// restricted rates from scipy.optimize.brentq as above.
describe('sequential rate test (anytime-valid e-process)', () => {
  it('two samples: ln E and the p-value match the reference', () => {
    const cases: [Counts, Counts, number, number][] = [
      [counts(45, 1500), counts(20, 1500), 0.005, -5.276316324054349],
      [counts(60, 2000), counts(20, 2000), 0.005, -1.9654281471278239],
      [counts(30, 1000), counts(18, 1000), 0, -5.810378520498986],
      [counts(5, 1000), counts(9, 1000), 0, -7.372529008238118],
      [counts(25, 100), counts(30, 1900), 0.005, 30.96839902555574],
      [counts(90, 2000), counts(20, 2000), 0.005, 10.431636902458663],
      [counts(40, 500), counts(10, 4500), 0.005, 45.339496548301966],
      [counts(200, 4000), counts(40, 4000), 0.02, 6.622766741823142],
    ];
    for (const [candidate, baseline, maxIncrease, logE] of cases) {
      const look = sequentialIncreaseLook(SEQUENTIAL_START, candidate, baseline, { maxIncrease });
      const what = `${candidate.events}/${candidate.trials} vs ${baseline.events}/${baseline.trials}`;
      assert.ok(Math.abs(Math.log(look.eValue) - logE) < 1e-11, `${what}: ln E ${Math.log(look.eValue)} vs ${logE}`);
      assertClose(look.pValue, Math.min(1, Math.exp(-logE)), 1e-10, `${what}: p`);
      assert.equal(look.reject, Math.exp(-logE) <= 0.05);
    }
  });

  it('one sample: ln E matches the reference', () => {
    const cases: [Counts, number, number][] = [
      [counts(7, 200), 0.005, 4.831218399005387],
      [counts(20, 600), 0.005, 17.76022404552785],
      [counts(2, 1000), 0.005, -3.7003440994828907],
      [counts(1, 20), 0.005, -0.3464864140816557],
      [counts(0, 500), 0, -3.6799189920944704],
    ];
    for (const [sample, max, logE] of cases) {
      const look = sequentialAboveLook(SEQUENTIAL_START, sample, { max });
      assert.ok(Math.abs(Math.log(look.eValue) - logE) < 1e-11, `${sample.events}/${sample.trials}: ln E ${Math.log(look.eValue)} vs ${logE}`);
    }
  });

  /** Runs `streams` seeded canary steps with a look after every `batch` requests; returns the share that ever rejected. */
  function falseAlarms(streams: number, looks: number, step: (random: () => number, c: Counts, b: Counts) => [Counts, Counts], test: (s: SequentialState, c: Counts, b: Counts) => { state: SequentialState; reject: boolean } | boolean): number {
    const random = seededRandom(51);
    let alarms = 0;
    for (let s = 0; s < streams; s++) {
      let state = SEQUENTIAL_START;
      let c = counts(0, 0);
      let b = counts(0, 0);
      for (let l = 0; l < looks; l++) {
        [c, b] = step(random, c, b);
        const result = test(state, c, b);
        const reject = typeof result === 'boolean' ? result : result.reject;
        if (typeof result !== 'boolean') state = result.state;
        if (reject) {
          alarms++;
          break;
        }
      }
    }
    return alarms / streams;
  }

  it('low traffic, rare events, many looks: false alarms stay below α (where re-running a fixed test does not)', () => {
    // A 1% step, both sides at a 0.5% 5xx rate (the null's boundary), a look every 500 requests.
    const step = (random: () => number, c: Counts, b: Counts): [Counts, Counts] => [
      counts(c.events + binomial(5, 0.005, random), c.trials + 5),
      counts(b.events + binomial(495, 0.005, random), b.trials + 495),
    ];
    const sequential = falseAlarms(300, 200, step, (s, c, b) => sequentialIncreaseLook(s, c, b, { alpha: 0.05 }));
    assert.ok(sequential <= 0.05, `sequential: ${sequential}`);
    const naive = falseAlarms(300, 200, step, (_s, c, b) => rateIncreaseTest(c, b).pValue < 0.05);
    assert.ok(naive > 0.15, `re-running the fixed test: ${naive}`);
  });

  it('one sample at the maximum, looked at every 20 requests: false alarms stay below α', () => {
    const step = (random: () => number, c: Counts, b: Counts): [Counts, Counts] => [counts(c.events + binomial(20, 0.005, random), c.trials + 20), b];
    const rate = falseAlarms(300, 200, step, (s, c) => sequentialAboveLook(s, c, { max: 0.005, alpha: 0.05 }));
    assert.ok(rate <= 0.05, `${rate}`);
  });

  it('a gross failure stops early: 20% 5xx against 1% at a 5% step is caught within a few hundred candidate requests', () => {
    const random = seededRandom(52);
    let state = SEQUENTIAL_START;
    let c = counts(0, 0);
    let b = counts(0, 0);
    while (!sequentialIncreaseLook(state, c, b, { maxIncrease: 0.005 }).reject) {
      state = sequentialIncreaseLook(state, c, b, { maxIncrease: 0.005 }).state;
      c = counts(c.events + binomial(5, 0.2, random), c.trials + 5);
      b = counts(b.events + binomial(95, 0.01, random), b.trials + 95);
      assert.ok(c.trials < 300, 'not caught within 300 candidate requests');
    }
  });

  it('the p-value never rises across looks; no trials yet is no evidence; bad input is refused', () => {
    let state = SEQUENTIAL_START;
    const seen: number[] = [];
    for (const [ce, ct, be, bt] of [[0, 0, 0, 0], [3, 20, 1, 400], [3, 60, 5, 1200], [3, 200, 10, 4000], [4, 400, 20, 8000]] as const) {
      const look = sequentialIncreaseLook(state, counts(ce, ct), counts(be, bt));
      state = look.state;
      seen.push(look.pValue);
    }
    assert.equal(seen[0], 1);
    assert.equal(state.looks, 5);
    assert.ok(seen.every((p, i) => i === 0 || p <= (seen[i - 1] as number)), `${seen.join(', ')}`);
    assert.throws(() => sequentialIncreaseLook(state, counts(5, 4), counts(0, 1)), RangeError);
    assert.throws(() => sequentialIncreaseLook(state, counts(1, 4), counts(0, 1), { maxIncrease: -0.1 }), RangeError);
    assert.throws(() => sequentialAboveLook(state, counts(1, 4), { max: 1 }), RangeError);
    assert.throws(() => sequentialAboveLook(state, counts(1, 4), { max: 0.1, alpha: 0 }), RangeError);
  });
});
