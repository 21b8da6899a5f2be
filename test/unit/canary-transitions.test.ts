import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_SHADOW_TOTALS, stagesOf } from '../../src/canary/canary-run.js';
import { applyControl, applyVerdict, controlConflict, newRun, stageShadow } from '../../src/canary/canary-transitions.js';
import { CANARY_POLICY_DEFAULTS } from '../../src/config/defaults.js';

const notes = { by: 'alice', reason: 'because' };
const totals = { compared: 10, mismatched: 2, noiseSamples: 1, fields: { '/a': { raw: 2, noise: 0 } } };
const start = () => newRun({ route: 'users', runId: 'r1', policy: CANARY_POLICY_DEFAULTS, now: 1000, totals, notes });

describe('canary run transitions (pure)', () => {
  it('a new run starts at the shadow stage (0%), knows the fields that already differed, and records who started it', () => {
    const { run, percentage, event } = start();
    assert.deepEqual(run.stage, { kind: 'shadow', index: 0, percentage: 0 });
    assert.equal(percentage, 0);
    assert.deepEqual(run.knownFields, ['/a']);
    assert.deepEqual(run.stages.map((s) => s.percentage), [0, 1, 5, 25, 50, 100]);
    assert.deepEqual([event?.action, event?.by, event?.reason], ['start', 'alice', 'because']);
    assert.deepEqual(stagesOf({ ...CANARY_POLICY_DEFAULTS, shadowFirst: null })[0], { kind: 'step', index: 0, percentage: 1 });
  });

  it('controls apply only where they make sense (a 409 reason otherwise)', () => {
    const { run } = start();
    assert.equal(controlConflict(null, 'start'), null);
    assert.match(controlConflict(null, 'pause') ?? '', /no run to pause/);
    assert.match(controlConflict(run, 'start') ?? '', /already running/);
    assert.match(controlConflict(run, 'resume') ?? '', /`resume` applies to a run that is paused, and this one is running/);
    assert.equal(controlConflict(run, 'pause'), null);
    const aborted = applyControl(run, 'abort', notes, 2000, totals).run;
    assert.equal(aborted.status, 'aborted');
    assert.equal(controlConflict(aborted, 'retry'), null);
    assert.equal(controlConflict(aborted, 'start'), null);
    assert.match(controlConflict(aborted, 'promote') ?? '', /aborted/);
  });

  it('promote skips the bake to the next stage; promote-full and a verdict at the last step are done at 100%', () => {
    const { run } = start();
    const promoted = applyControl(run, 'promote', notes, 2000, { ...totals, fields: { '/a': { raw: 2, noise: 0 }, '/b': { raw: 1, noise: 0 } } });
    assert.equal(promoted.percentage, 1);
    assert.deepEqual(promoted.run.stage, { kind: 'step', index: 1, percentage: 1 });
    assert.deepEqual(promoted.run.knownFields, ['/a', '/b'], 'a field that differed in a passed stage is known afterwards');
    assert.equal(promoted.run.stageStartedAt, 2000);
    const full = applyControl(promoted.run, 'promote-full', notes, 3000, totals);
    assert.deepEqual([full.run.status, full.percentage, full.run.stage.percentage], ['done', 100, 100]);
    const done = applyVerdict(promoted.run, 'done', 'all passed', 3000, totals);
    assert.deepEqual([done.run.status, done.percentage, done.event?.by], ['done', 100, 'autopilot']);
  });

  it('rollback goes to 0%, or to the last safe step; hold changes nothing', () => {
    const { run } = start();
    const atFive = applyVerdict(applyVerdict(run, 'promote', 'ok', 2000, totals).run, 'promote', 'ok', 3000, totals).run;
    assert.equal(atFive.setPercentage, 5);
    assert.equal(atFive.lastSafePercentage, 1);
    const zero = applyVerdict(atFive, 'rollback', 'bad', 4000, totals);
    assert.deepEqual([zero.run.status, zero.percentage, zero.run.reason], ['rolled_back', 0, 'bad']);
    const previous = applyVerdict({ ...atFive, policy: { ...atFive.policy, rollbackTo: 'previous' } }, 'rollback', 'bad', 4000, totals);
    assert.equal(previous.percentage, 1);
    const hold = applyVerdict(atFive, 'hold', 'waiting', 4000, totals);
    assert.deepEqual([hold.run, hold.percentage, hold.event], [atFive, null, null]);
  });

  it("a stage's shadow counts are the totals minus its baseline; a reset store starts again", () => {
    const later = { compared: 30, mismatched: 5, noiseSamples: 3, fields: { '/a': { raw: 2, noise: 0 }, '/b': { raw: 3, noise: 1 } } };
    assert.deepEqual(stageShadow(later, totals), { compared: 20, mismatched: 3, noiseSamples: 2, fields: { '/b': { raw: 3, noise: 1 } } });
    assert.deepEqual(stageShadow(EMPTY_SHADOW_TOTALS, totals), EMPTY_SHADOW_TOTALS);
  });
});
