import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { binomialUpperTail, pairedComparison, signTest } from '../../bench/paired-comparison.js';

const close = (actual: number, expected: number): void => assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} is not ${expected}`);

describe('paired comparison of interleaved benchmark cycles', () => {
  it('binomial upper tail against exact fractions of 2^n', () => {
    close(binomialUpperTail(9, 10), 11 / 1024);
    close(binomialUpperTail(10, 10), 1 / 1024);
    close(binomialUpperTail(5, 10), 638 / 1024);
    assert.equal(binomialUpperTail(0, 10), 1);
    assert.equal(binomialUpperTail(11, 10), 0);
    // 60 fair coins, at least 40 heads: 0.006744… (sum of C(60, i) / 2^60, i = 40…60).
    close(binomialUpperTail(40, 60), 0.00674464686559593);
    assert.throws(() => binomialUpperTail(1.5, 10), RangeError);
  });

  it('sign test, two-sided', () => {
    close(signTest(9, 1), 22 / 1024);
    close(signTest(1, 9), 22 / 1024);
    assert.equal(signTest(5, 5), 1);
    assert.equal(signTest(0, 0), 1);
    close(signTest(6, 0), 2 / 64);
  });

  it('cycle by cycle: ahead, behind and ties, the median ratio, skipping cycles without both figures', () => {
    const c = pairedComparison([110, 90, 100, 120, undefined], [100, 100, 100, 100, 100]);
    assert.ok(c !== null);
    assert.deepEqual(c.ratio.perRound, [1.1, 0.9, 1, 1.2]);
    assert.equal(c.ratio.median, 1);
    assert.deepEqual([c.ahead, c.behind, c.ties], [2, 1, 1]);
    assert.equal(c.signTestP, 1);
    // A cost (CPU per request): lower is ahead.
    const cpu = pairedComparison([0.9, 0.8, 0.95], [1, 1, 1], false);
    assert.deepEqual([cpu?.ahead, cpu?.behind], [3, 0]);
    assert.equal(pairedComparison([], []), null);
  });
});
