import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { EventLoopUtilization } from 'node:perf_hooks';
import { createLoopUtilization } from '../../src/shadow/loop-utilization.js';

describe('event-loop utilization for shadow load-shedding', () => {
  it('re-samples once per window and answers from the last window in between', () => {
    let t = 0;
    const readings = [0.2, 0.95];
    let taken = 0;
    const sample = (previous?: EventLoopUtilization): EventLoopUtilization => ({ idle: 0, active: 0, utilization: previous === undefined ? 0 : (readings[taken++] ?? 0) });
    const utilization = createLoopUtilization({ windowMs: 100, now: () => t, sample });
    assert.equal(utilization(), 0, 'no full window yet');
    t = 100;
    assert.equal(utilization(), 0.2);
    t = 150;
    assert.equal(utilization(), 0.2, 'within the window: no new sample');
    assert.equal(taken, 1);
    t = 200;
    assert.equal(utilization(), 0.95);
  });

  it('a window that measured nothing (NaN) keeps the last reading', () => {
    let t = 0;
    const readings = [0.7, Number.NaN];
    let taken = 0;
    const sample = (previous?: EventLoopUtilization): EventLoopUtilization => ({ idle: 0, active: 0, utilization: previous === undefined ? 0 : (readings[taken++] ?? 0) });
    const utilization = createLoopUtilization({ windowMs: 100, now: () => t, sample });
    t = 100;
    assert.equal(utilization(), 0.7);
    t = 200;
    assert.equal(utilization(), 0.7);
  });

  it('reads the real event loop: near 1 after blocking it, near 0 after idling', async () => {
    // The loop must be running: Node 24's test runner can start a file's tests before its first
    // iteration, when eventLoopUtilization() is still all zeros (a server's loop always runs).
    await delay(10);
    const utilization = createLoopUtilization({ windowMs: 50 });
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // Keep the loop busy, as a saturated server would.
    }
    assert.ok(utilization() > 0.9, 'blocked for the whole window');
    await delay(120);
    assert.ok(utilization() < 0.5, 'idle for the whole window');
  });
});
