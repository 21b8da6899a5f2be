import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { timelineSlots } from '../../src/outcomes/outcome-timeline.js';
import { createBucket, recordOutcome } from '../../src/stats/outcome-bucket.js';

const bucket = (start: number, outcomes: { status: number; latencyMs: number; cacheHit?: boolean }[]) => {
  const b = createBucket(start, { sketch: {}, reservoirSize: 8 });
  for (const o of outcomes) recordOutcome(b, { cacheHit: false, ...o }, () => 0.5);
  return b;
};

describe('outcome timeline (pure)', () => {
  it('one point per slot over the window, oldest first, empty slots included; instances add up', () => {
    const legacy = [bucket(10_000, [{ status: 200, latencyMs: 10 }]), bucket(20_000, [{ status: 500, latencyMs: 30 }]), bucket(20_000, [{ status: 200, latencyMs: 20, cacheHit: true }])];
    const shadow = [bucket(20_000, [{ status: 500, latencyMs: 0 }, { status: 200, latencyMs: 0 }])];
    const points = timelineSlots({ legacy, new: [], shadow }, 25_000, 30_000, 10_000);
    assert.deepEqual(points.map((p) => p.at), [0, 10_000, 20_000]);
    assert.deepEqual(points[0]!.legacy, { requests: 0, errors: 0, cacheHits: 0, p50: null, p95: null, p99: null });
    assert.equal(points[1]!.legacy.requests, 1);
    assert.equal(points[2]!.legacy.requests, 2, 'two instances, one slot');
    assert.equal(points[2]!.legacy.errors, 1);
    assert.equal(points[2]!.legacy.cacheHits, 1);
    for (const q of ['p50', 'p95', 'p99'] as const) assert.ok(points[2]!.legacy[q]! >= 19.5 && points[2]!.legacy[q]! <= 30.5, `${q} ${points[2]!.legacy[q]}`);
    assert.deepEqual(points[2]!.shadow, { compared: 2, mismatched: 1 });
    assert.equal(points[2]!.new.requests, 0);
  });
});
