import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRatio, roundRatios } from '../../bench/round-ratios.js';

describe('bench goal ratios from interleaved rounds (pure)', () => {
  it('divides round by round and takes the median of the ratios, not the ratio of the medians', () => {
    // Round 2 was a slow spell for both sides: per round the ratio stays 1.2, 1.25, 1.2.
    const r = roundRatios([0.12, 0.25, 0.18], [0.1, 0.2, 0.15]);
    assert.ok(r !== null);
    assert.deepEqual(r.perRound.map((x) => Number(x.toFixed(6))), [1.2, 1.25, 1.2]);
    assert.equal(Number(r.median.toFixed(6)), 1.2);
    // Where the two differ: the medians are 2 and 1 (ratio 2), the rounds' ratios 1, 3 and 2/3 (median 1).
    const skewed = roundRatios([1, 3, 2], [1, 1, 3]);
    assert.equal(skewed?.median, 1);
  });

  it('takes the lower middle of an even count, skips rounds without both figures, and is null with none', () => {
    assert.equal(roundRatios([4, 1, 3, 2], [1, 1, 1, 1])?.median, 2);
    assert.deepEqual(roundRatios([2, undefined, 6], [1, 1, 2])?.perRound, [2, 3]);
    assert.deepEqual(roundRatios([1, 2], [1])?.perRound, [1], 'rounds beyond the shorter list are ignored');
    assert.equal(roundRatios([1], [0]), null, 'a zero denominator is no ratio');
    assert.equal(roundRatios([], [1]), null);
    assert.equal(roundRatios([undefined], [1]), null);
  });

  it('prints the median and, for several rounds, each round', () => {
    assert.equal(formatRatio({ median: 1.2149, perRound: [1.2149] }), '1.21×');
    assert.equal(formatRatio({ median: 1.2, perRound: [1.18, 1.2, 1.304] }), '1.20× (1.18, 1.20, 1.30)');
  });
});
