import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateStage, type EvaluationInput, type SideSample } from '../../src/canary/canary-evaluator.js';
import { CANARY_POLICY_DEFAULTS } from '../../src/config/defaults.js';
import type { CanaryPolicy } from '../../src/config/types.js';
import { DIFFY_THRESHOLDS } from '../../src/shadow/noise-filter.js';
import { seededRandom } from '../../src/stats/seeded-random.js';

const MINUTE = 60_000;
const policy: CanaryPolicy = { ...CANARY_POLICY_DEFAULTS };
const step = { kind: 'step', index: 2, percentage: 5 } as const;
const shadowStage = { kind: 'shadow', index: 0, percentage: 0 } as const;

/** Latencies around `median` ms with ±20% spread, seeded. */
function latencies(n: number, median: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => median * (0.8 + 0.4 * random()));
}

function side(requests: number, errors: number, median: number, seed: number): SideSample {
  const sample = latencies(Math.min(requests, 1000), median, seed);
  const sorted = [...sample].sort((a, b) => a - b);
  return { requests, errors, latencies: sample, p99: sorted.length === 0 ? null : (sorted[Math.floor(sorted.length * 0.99)] ?? null) };
}

function input(over: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    now: 20 * MINUTE,
    policy,
    stage: step,
    next: 25,
    stageStartedAt: 0,
    samplesMetAt: null,
    sequential: {},
    knownFields: [],
    shadow: { compared: 600, mismatched: 0, noiseSamples: 60, fields: {} },
    sides: { legacy: side(4000, 4, 20, 1), new: side(600, 1, 20, 2) },
    noise: DIFFY_THRESHOLDS,
    ...over,
  };
}

describe('canary evaluator (pure)', () => {
  it('all gates pass with enough samples: the bake starts, then promote', () => {
    const first = evaluateStage(input());
    assert.equal(first.verdict, 'hold');
    assert.equal(first.samplesMetAt, 20 * MINUTE);
    assert.match(first.explanation, /^held at 5%: baking, 0ms of 10m since the minimum samples were met$/);
    assert.deepEqual(first.gates.map((g) => [g.gate, g.result]), [['contentMismatch', 'pass'], ['newFieldDivergence', 'pass'], ['errorRate', 'pass'], ['latency', 'pass']]);
    const later = evaluateStage(input({ now: 30 * MINUTE, samplesMetAt: first.samplesMetAt, sequential: first.sequential }));
    assert.equal(later.verdict, 'promote');
    assert.match(later.explanation, /^promoted from 5% to 25%: all 4 gates passed on 4000 legacy and 600 new requests \(600 compared\) after a 10m bake$/);
  });

  it('the last step is done', () => {
    const result = evaluateStage(input({ next: 100, samplesMetAt: 0 }));
    assert.equal(result.verdict, 'done');
    assert.match(result.explanation, /mode: new/);
  });

  it('too few requests holds, naming what is missing, then is inconclusive (pause) after the extended bakes — never a failure', () => {
    const low = { legacy: side(900, 0, 20, 1), new: side(140, 0, 20, 2) };
    const held = evaluateStage(input({ now: 5 * MINUTE, sides: low }));
    assert.equal(held.verdict, 'hold');
    assert.equal(held.explanation, 'held at 5%: 140 of 200 requests on new needed');
    const extended = evaluateStage(input({ now: 25 * MINUTE, sides: low }));
    assert.equal(extended.explanation, 'held at 5%: 140 of 200 requests on new needed (bake extension 2 of 3)');
    const out = evaluateStage(input({ now: 40 * MINUTE, sides: low }));
    assert.equal(out.verdict, 'inconclusive');
    assert.match(out.explanation, /^inconclusive at 5%: 140 of 200 requests on new after 4 bakes \(40m\); paused for a human/);
    assert.ok(out.gates.every((g) => g.result !== 'fail'));
  });

  it('a field wrong for 3% of comparisons fails the content gate in the shadow stage, named by its pointer', () => {
    const shadow = { compared: 500, mismatched: 15 + 60, noiseSamples: 50, fields: { '/price': { raw: 15, noise: 0 }, '/generated_at': { raw: 500, noise: 50 } } };
    const result = evaluateStage(input({ stage: shadowStage, next: 1, sides: null, shadow }));
    assert.equal(result.verdict, 'rollback');
    assert.deepEqual(result.failedFields, ['/price']);
    const gate = result.gates.find((g) => g.gate === 'contentMismatch');
    assert.equal(gate?.result, 'fail');
    assert.deepEqual(gate?.fields?.map((f) => [f.field, f.verdict]), [['/price', 'difference'], ['/generated_at', 'noise']]);
    assert.match(result.explanation, /^rolled back from the shadow stage: contentMismatch failed: \/price differs in 3% of 500 comparisons \(max 0\.5%, noise-cancelled\)/);
    assert.deepEqual(result.gates.map((g) => g.gate), ['contentMismatch', 'newFieldDivergence']);
  });

  it('a noisy field (differs as often between two legacy calls) never fails', () => {
    const shadow = { compared: 600, mismatched: 600, noiseSamples: 60, fields: { '/generated_at': { raw: 600, noise: 60 } } };
    const result = evaluateStage(input({ shadow, samplesMetAt: 0 }));
    assert.equal(result.verdict, 'promote');
  });

  it('a field that never differed starts differing: newFieldDivergence blocks; warn only reports', () => {
    const shadow = { compared: 2000, mismatched: 8, noiseSamples: 200, fields: { '/currency': { raw: 8, noise: 0 } } };
    const blocked = evaluateStage(input({ shadow }));
    assert.deepEqual(blocked.gates.map((g) => [g.gate, g.result]).slice(0, 2), [['contentMismatch', 'pass'], ['newFieldDivergence', 'fail']]);
    assert.equal(blocked.verdict, 'rollback');
    const known = evaluateStage(input({ shadow, knownFields: ['/currency'] }));
    assert.equal(known.gates[1]?.result, 'pass');
    const warned = evaluateStage(input({ shadow, policy: { ...policy, gates: { ...policy.gates, newFieldDivergence: 'warn' } } }));
    assert.equal(warned.gates[1]?.result, 'pass');
    assert.match(warned.gates[1]?.detail ?? '', /\/currency .* never differed before \(warn only\)/);
  });

  it('a 5xx rate 2 points higher fails with significance; onFailure: pause pauses instead', () => {
    const sides = { legacy: side(4000, 0, 20, 1), new: side(1000, 20, 20, 2) };
    const result = evaluateStage(input({ sides }));
    const gate = result.gates.find((g) => g.gate === 'errorRate');
    assert.equal(gate?.result, 'fail');
    assert.ok((gate?.pValue ?? 1) <= 0.05);
    assert.equal(result.verdict, 'rollback');
    assert.match(result.explanation, /errorRate failed: new 5xx rate 2% of 1000 vs legacy 0% of 4000/);
    assert.equal(evaluateStage(input({ sides, policy: { ...policy, onFailure: 'pause' } })).verdict, 'pause');
  });

  it('one failure in a few requests is not significant: low traffic holds', () => {
    const sides = { legacy: side(40, 0, 20, 1), new: side(3, 1, 20, 2) };
    const result = evaluateStage(input({ sides, now: MINUTE }));
    assert.equal(result.verdict, 'hold');
    assert.equal(result.gates.find((g) => g.gate === 'errorRate')?.result, 'inconclusive');
  });

  it('latency: 3× slower fails; 5% slower is within the 25% tolerance and passes', () => {
    const slow = evaluateStage(input({ sides: { legacy: side(4000, 0, 20, 1), new: side(600, 0, 60, 2) } }));
    assert.equal(slow.gates.find((g) => g.gate === 'latency')?.result, 'fail');
    assert.equal(slow.verdict, 'rollback');
    const near = evaluateStage(input({ sides: { legacy: side(4000, 0, 20, 1), new: side(600, 0, 21, 2) }, samplesMetAt: 0 }));
    const gate = near.gates.find((g) => g.gate === 'latency');
    assert.equal(gate?.result, 'pass');
    assert.ok(gate?.value !== null && gate?.value !== undefined && gate.value > 0.01 && gate.value < 0.1, `relative shift ${gate?.value}`);
    assert.equal(near.verdict, 'promote');
  });

  it('latency tail: same median, but 10% of new requests 3× slower fails on the p99 ratio only with 1000+ requests per side', () => {
    const tailed = (n: number): SideSample => {
      const base = side(n, 0, 20, 3);
      const latencies = base.latencies.map((l, i) => (i % 10 === 0 ? l * 3 : l));
      const sorted = [...latencies].sort((a, b) => a - b);
      return { ...base, latencies, p99: sorted[Math.floor(sorted.length * 0.99)] ?? null };
    };
    const many = evaluateStage(input({ sides: { legacy: side(4000, 0, 20, 1), new: tailed(1000) } })).gates.find((g) => g.gate === 'latency');
    assert.equal(many?.result, 'fail');
    assert.ok((many?.p99Ratio?.value ?? 0) > 1.2);
    assert.match(many?.detail ?? '', /shown in the tail/);
    const few = evaluateStage(input({ sides: { legacy: side(400, 0, 20, 1), new: tailed(300) } })).gates.find((g) => g.gate === 'latency');
    assert.equal(few?.result, 'pass', 'a p99 of a few hundred requests is not judged');
  });

  it('the sequential state carries the minimum p-value across looks', () => {
    const sides = { legacy: side(4000, 0, 20, 1), new: side(1000, 20, 20, 2) };
    const first = evaluateStage(input({ sides }));
    const p = first.sequential['errorRate']?.pValue ?? 1;
    const after = evaluateStage(input({ sequential: first.sequential }));
    assert.ok((after.sequential['errorRate']?.pValue ?? 1) <= p);
    assert.equal(after.sequential['errorRate']?.looks, 2);
  });
});
