import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../src/stats/seeded-random.js';

describe('seeded random', () => {
  it('replays exactly per seed, differs across seeds, and stays in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs, Array.from({ length: 1000 }, () => b()));
    assert.notDeepEqual(xs, Array.from({ length: 1000 }, () => c()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
  });

  it('is uniform enough for sampling: 10 equal cells of 100,000 draws pass a chi-square test', () => {
    const random = seededRandom(7);
    const cells = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) cells[Math.floor(random() * 10)]! += 1;
    const chi2 = cells.reduce((s, c) => s + (c - 10_000) ** 2 / 10_000, 0);
    assert.ok(chi2 < 27.88, `chi-square ${chi2} (9 degrees of freedom, 0.1% critical value 27.88)`);
  });
});
