import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, rssEnvelopeCheck, trailingMax } from '../../bench/soak-checks.js';

describe('soak memory verdict: the RSS envelope', () => {
  it('trailing maximum over a window, and the median', () => {
    assert.deepEqual(trailingMax([3, 1, 2, 5, 1, 1, 1], 3), [3, 3, 3, 5, 5, 5, 1]);
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });

  it('a post-GC dip the next minute takes back passes (the run of 2026-12-02: 152 → 116 MB, back to ~147)', () => {
    const rss = [148, 150, 151, 152, 116, 121, 128, 135, 141, 147, 148, 149, 147, 150, 151, 149, 148, 150];
    const raw = Math.max(...rss.map((v) => Math.abs(v / median(rss) - 1)));
    assert.ok(raw > 0.1, 'the raw samples fail ±10%');
    const verdict = rssEnvelopeCheck(rss, 6);
    assert.equal(verdict.pass, true, JSON.stringify(verdict));
    assert.ok(verdict.worst < 0.03);
  });

  it('steady growth fails: 120 → 150 MB over the run (a leak)', () => {
    const rss = Array.from({ length: 48 }, (_, i) => 120 + (30 * i) / 47);
    const verdict = rssEnvelopeCheck(rss, 6);
    assert.equal(verdict.pass, false);
    assert.ok(verdict.worst > 0.1 && verdict.worst < 0.13, String(verdict.worst));
  });

  it('a lasting step fails either way once it outlives the window', () => {
    const up = [...Array<number>(24).fill(100), ...Array<number>(24).fill(125)];
    assert.equal(rssEnvelopeCheck(up, 6).pass, false);
    const down = [...Array<number>(24).fill(150), ...Array<number>(24).fill(115)];
    assert.equal(rssEnvelopeCheck(down, 6).pass, false);
  });

  it('the first judged points look back into the warm-up: a collection dip on the first one is not a drop', () => {
    // Soak of 2026-12-03 13:34: RSS 164.8 MB through the warm-up, 131.2 MB on the first sample after it
    // (V8 handing pages back), 139.5, 153.8, then back at ~160 MB for the rest of the run.
    const warmUp = [164.4, 164.6, 164.7, 164.7, 164.7, 164.8];
    const judged = [131.2, 139.5, 153.8, 158.9, ...Array<number>(40).fill(160.5)];
    const alone = rssEnvelopeCheck(judged, 6);
    assert.equal(alone.pass, false, 'without the warm-up the first window is that one dip');
    assert.equal(alone.envelope[0], 131.2);
    const withHistory = rssEnvelopeCheck(judged, 6, 0.1, warmUp);
    assert.equal(withHistory.pass, true, JSON.stringify(withHistory.envelope.slice(0, 8)));
    assert.deepEqual(withHistory.envelope.slice(0, 5), [164.8, 164.8, 164.8, 164.8, 164.8]);
    assert.equal(withHistory.envelope.length, judged.length, 'only the judged samples have envelope points');
    // A lasting drop is still caught, at the boundary as later.
    assert.equal(rssEnvelopeCheck(Array<number>(40).fill(120), 6, 0.1, warmUp).pass, false);
    const stepDown = rssEnvelopeCheck([...Array<number>(20).fill(160), ...Array<number>(20).fill(120)], 6, 0.1, warmUp);
    assert.equal(stepDown.pass, false);
  });

  it('within ±10% throughout passes; the tolerance is a parameter', () => {
    const rss = [100, 104, 97, 102, 108, 99, 101, 95, 103];
    assert.equal(rssEnvelopeCheck(rss, 1).pass, true);
    assert.equal(rssEnvelopeCheck(rss, 1, 0.05).pass, false);
  });
});
