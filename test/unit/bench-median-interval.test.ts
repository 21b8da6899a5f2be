import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { medianInterval } from '../../bench/median-interval.js';

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);
/** 1, 2, …, n in a shuffled order: the interval must not depend on the order given. */
const ranks = (n: number): number[] => Array.from({ length: n }, (_, i) => ((i * 7) % n) + 1);

describe('distribution-free confidence interval for a median', () => {
  it('10 values at 95%: the 2nd and 9th, covering 1 − 2·11/1024', () => {
    const i = medianInterval(ranks(10));
    assert.ok(i !== null);
    assert.equal(i.low, 2);
    assert.equal(i.high, 9);
    close(i.coverage, 1 - 22 / 1024);
  });

  it('20 values at 95%: the 6th and 15th (the textbook ranks), covering 1 − 2·21700/2^20', () => {
    const i = medianInterval(ranks(20));
    assert.ok(i !== null);
    assert.deepEqual([i.low, i.high], [6, 15]);
    close(i.coverage, 1 - 43400 / 1048576);
  });

  it('6 values are the fewest for 95% (the whole range, 1 − 2/64); 5 are too few', () => {
    const six = medianInterval(ranks(6));
    assert.ok(six !== null);
    assert.deepEqual([six.low, six.high, six.coverage], [1, 6, 1 - 2 / 64]);
    assert.equal(medianInterval(ranks(5)), null);
    assert.equal(medianInterval([]), null);
  });

  it('a lower confidence gives a narrower interval; non-finite values are left out', () => {
    const i = medianInterval(ranks(10), 0.8);
    assert.ok(i !== null);
    // k = 3: 1 − 2·56/1024 = 0.890…; k = 4 would cover only 1 − 2·176/1024 = 0.656…
    assert.deepEqual([i.low, i.high], [3, 8]);
    close(i.coverage, 1 - 112 / 1024);
    assert.deepEqual(medianInterval([...ranks(10), Number.NaN, Number.POSITIVE_INFINITY]), medianInterval(ranks(10)));
  });

  it('rejects a confidence outside (0, 1)', () => {
    assert.throws(() => medianInterval([1, 2, 3], 1), RangeError);
    assert.throws(() => medianInterval([1, 2, 3], 0), RangeError);
  });
});
