import type { CanaryPolicy } from '../config/types.js';
import { classifyField, type NoiseThresholds } from '../shadow/noise-filter.js';
import { judgeLatency } from '../stats/latency-judge.js';
import { rateAboveTest } from '../stats/proportions.js';
import { SEQUENTIAL_START, sequentialAboveLook, sequentialIncreaseLook, type SequentialState } from '../stats/sequential-rate-test.js';
import { stageLabel, type CanaryStage, type CanaryVerdict, type FieldResult, type GateResult, type ShadowTotals } from './canary-run.js';

/**
 * One evaluation of a canary stage: inputs → gate results → verdict and a one-sentence
 * explanation. Pure: the controller gathers the inputs (outcome windows since the stage began,
 * the stage's shadow counts) and applies the verdict.
 *
 * - A gate fails only with significance (anytime-valid sequential tests for the rates, so looking
 *   at every interval is fine; Kayenta's judge for latency). A failure may come before the sample
 *   minimum: a gross failure is stopped early.
 * - Too few samples is `inconclusive` for a gate and `hold` for the stage — never a failure —
 *   until the extended bakes run out, then `inconclusive` (the controller pauses).
 * - Promote once every gate passed with its samples and the bake has elapsed since they were met.
 */
export interface SideSample {
  readonly requests: number;
  /** 5xx responses. */
  readonly errors: number;
  /** A uniform sample of the window's latencies (ms). */
  readonly latencies: readonly number[];
  readonly p99: number | null;
}

export interface EvaluationInput {
  readonly now: number;
  readonly policy: CanaryPolicy;
  readonly stage: CanaryStage;
  /** The percentage a promotion goes to; null when this is the last stage (promotion is `done`). */
  readonly next: number | null;
  readonly stageStartedAt: number;
  readonly samplesMetAt: number | null;
  readonly sequential: Readonly<Record<string, SequentialState>>;
  /** Fields that differed before this stage. */
  readonly knownFields: readonly string[];
  /** The stage's shadow comparisons (totals minus the stage's baseline). */
  readonly shadow: ShadowTotals;
  /** Both sides' served requests since the stage began; null in the shadow stage (nothing is live). */
  readonly sides: { readonly legacy: SideSample; readonly new: SideSample } | null;
  readonly noise: NoiseThresholds;
}

export interface EvaluationResult {
  readonly verdict: CanaryVerdict;
  readonly explanation: string;
  readonly gates: readonly GateResult[];
  readonly samplesMetAt: number | null;
  readonly sequential: Readonly<Record<string, SequentialState>>;
  /** Fields behind a failed content gate, for the mismatch samples. */
  readonly failedFields: readonly string[];
}

export function evaluateStage(input: EvaluationInput): EvaluationResult {
  const sequential: Record<string, SequentialState> = { ...input.sequential };
  const look = (key: string): SequentialState => sequential[key] ?? SEQUENTIAL_START;
  const content = contentGates(input, look, (key, state) => (sequential[key] = state));
  const gates: GateResult[] = [...content.gates];
  if (input.sides !== null) {
    gates.push(errorRateGate(input, look('errorRate'), (state) => (sequential['errorRate'] = state)));
    gates.push(latencyGate(input));
  }
  const failed = gates.filter((g) => g.result === 'fail');
  const met = gates.every((g) => g.result !== 'inconclusive');
  const samplesMetAt = met ? (input.samplesMetAt ?? input.now) : input.samplesMetAt;
  const base = { gates, samplesMetAt, sequential, failedFields: content.failedFields };
  const here = stageLabel(input.stage);
  const { policy } = input;
  if (failed.length > 0) {
    const why = failed.map((g) => `${g.gate} failed: ${g.detail}`).join('; ');
    return policy.onFailure === 'rollback'
      ? { ...base, verdict: 'rollback', explanation: `rolled back from ${here}: ${why}` }
      : { ...base, verdict: 'pause', explanation: `paused at ${here}: ${why}` };
  }
  const bakeMs = input.stage.kind === 'shadow' ? (policy.shadowFirst?.bakeMs ?? policy.bakeMs) : policy.bakeMs;
  if (samplesMetAt !== null) {
    const baked = input.now - samplesMetAt;
    if (baked >= bakeMs) {
      const summary = `all ${gates.length} gates passed on ${sampleSummary(input)} after a ${duration(bakeMs)} bake`;
      return input.next === null || input.next === 100
        ? { ...base, verdict: 'done', explanation: `done from ${here}: ${summary}; new serves 100% (set \`mode: new\` in flags/ to finish the migration)` }
        : { ...base, verdict: 'promote', explanation: `promoted from ${here} to ${input.next}%: ${summary}` };
    }
    return { ...base, verdict: 'hold', explanation: `held at ${here}: baking, ${duration(baked)} of ${duration(bakeMs)} since the minimum samples were met` };
  }
  const missing = firstMissing(input);
  const waited = input.now - input.stageStartedAt;
  const allowed = bakeMs * (1 + policy.inconclusive.extendBakes);
  if (waited >= allowed && policy.inconclusive.then === 'pause') {
    return { ...base, verdict: 'inconclusive', explanation: `inconclusive at ${here}: ${missing} after ${1 + policy.inconclusive.extendBakes} bakes (${duration(waited)}); paused for a human (low traffic is never a failure)` };
  }
  const extension = Math.min(policy.inconclusive.extendBakes, Math.floor(waited / bakeMs));
  return { ...base, verdict: 'hold', explanation: `held at ${here}: ${missing} needed${extension > 0 ? ` (bake extension ${extension} of ${policy.inconclusive.extendBakes})` : ''}` };
}

type Look = (key: string) => SequentialState;

/**
 * Hodges–Lehmann pairs per evaluation: 200 × 200 order statistics of each side's sample. The
 * default (250,000) costs ~60 ms of event loop per route — a leader with 20 routes would stall its
 * own requests for a second each interval; this costs a few ms, with an interval as wide as 200
 * latencies per side give (conservative: wider, never narrower).
 */
export const LATENCY_MAX_PAIRS = 40_000;

/** Requests per side before the p99 tail is judged (ten expected above a p99). */
export const TAIL_MIN_REQUESTS = 1000;

function minimumOf(input: EvaluationInput): number {
  return input.stage.kind === 'shadow' ? (input.policy.shadowFirst?.minCompared ?? input.policy.minRequests) : input.policy.minRequests;
}

/** "140 of 200 requests on new": the first sample minimum not met. */
function firstMissing(input: EvaluationInput): string {
  const min = minimumOf(input);
  if (input.sides !== null) {
    if (input.sides.new.requests < min) return `${input.sides.new.requests} of ${min} requests on new`;
    if (input.sides.legacy.requests < min) return `${input.sides.legacy.requests} of ${min} requests on legacy`;
  }
  return `${input.shadow.compared} of ${min} shadow comparisons`;
}

function sampleSummary(input: EvaluationInput): string {
  if (input.sides === null) return `${input.shadow.compared} shadow comparisons`;
  return `${input.sides.legacy.requests} legacy and ${input.sides.new.requests} new requests (${input.shadow.compared} compared)`;
}

/** contentMismatch and newFieldDivergence, from the stage's shadow counts (Diffy's noise rule per field). */
function contentGates(input: EvaluationInput, look: Look, keep: (key: string, state: SequentialState) => void): { gates: GateResult[]; failedFields: string[] } {
  const { shadow, policy } = input;
  const { max, confidence } = policy.gates.contentMismatch;
  const alpha = 1 - confidence;
  const min = minimumOf(input);
  const compared = shadow.compared;
  const known = new Set(input.knownFields);
  const samples = { legacy: compared, new: compared };
  const fields: FieldResult[] = [];
  const failedFields: string[] = [];
  const unexpected: FieldResult[] = [];
  let minP = 1;
  for (const [field, counts] of Object.entries(shadow.fields)) {
    if (compared === 0 || counts.raw === 0) continue;
    const rate = counts.raw / compared;
    const noiseRate = shadow.noiseSamples === 0 ? 0 : Math.min(1, counts.noise / shadow.noiseSamples);
    const verdict = classifyField(counts, compared, shadow.noiseSamples, input.noise);
    if (verdict === 'noise') {
      fields.push({ field, raw: counts.raw, noise: counts.noise, rate, noiseRate, verdict, known: known.has(field) });
      continue;
    }
    // Noise-cancelled: the field fails when its rate is shown above its noise rate plus the limit.
    const step = sequentialAboveLook(look(`content:${field}`), { events: counts.raw, trials: compared }, { max: Math.min(0.999, noiseRate + max), alpha });
    keep(`content:${field}`, step.state);
    minP = Math.min(minP, step.pValue);
    if (step.reject) failedFields.push(field);
    const result: FieldResult = { field, raw: counts.raw, noise: counts.noise, rate, noiseRate, verdict, known: known.has(field), pValue: step.pValue };
    fields.push(result);
    // Zero tolerance (any new field), so it is judged only on the stage's sample minimum: one odd
    // comparison among a handful is not a verdict on the handler.
    if (!result.known && compared >= min) {
      const fresh = sequentialAboveLook(look(`new:${field}`), { events: counts.raw, trials: compared }, { max: Math.min(0.999, noiseRate + input.noise.absolute), alpha });
      keep(`new:${field}`, fresh.state);
      if (fresh.reject) unexpected.push(result);
    }
  }
  // In total: comparisons with a real difference (a comparison may differ in several fields, so capped by the mismatches).
  const totalEvents = Math.min(shadow.mismatched, sumRaw(fields));
  const total = compared === 0 ? null : sequentialAboveLook(look('content:total'), { events: totalEvents, trials: compared }, { max, alpha });
  if (total !== null) {
    keep('content:total', total.state);
    minP = Math.min(minP, total.pValue);
  }
  const totalFails = total?.reject === true;
  fields.sort((a, b) => Number(b.verdict === 'difference') - Number(a.verdict === 'difference') || b.raw - a.raw || a.field.localeCompare(b.field));
  const shown = fields.slice(0, 20);
  const rate = compared === 0 ? null : totalEvents / compared;
  const mismatch: GateResult = {
    gate: 'contentMismatch',
    result: failedFields.length > 0 || totalFails ? 'fail' : compared >= min ? 'pass' : 'inconclusive',
    value: rate,
    threshold: max,
    ...(compared === 0 ? {} : { pValue: minP }),
    samples,
    fields: shown,
    detail: contentDetail(fields, failedFields, compared, rate, max, totalFails),
  };
  const gates = [mismatch];
  const mode = policy.gates.newFieldDivergence;
  if (mode !== 'off') {
    const blocks = mode === 'block' && unexpected.length > 0;
    for (const f of unexpected) if (blocks && !failedFields.includes(f.field)) failedFields.push(f.field);
    gates.push({
      gate: 'newFieldDivergence',
      result: blocks ? 'fail' : compared >= min ? 'pass' : 'inconclusive',
      value: unexpected.length,
      threshold: 0,
      samples,
      fields: unexpected,
      detail:
        unexpected.length === 0
          ? `no field that matched before differs now (${compared} comparisons)`
          : `${unexpected.map((f) => `${f.field} (${pct(f.rate)} of ${compared})`).join(', ')} never differed before${mode === 'warn' ? ' (warn only)' : ''}`,
    });
  }
  return { gates, failedFields };
}

function sumRaw(fields: readonly FieldResult[]): number {
  return fields.filter((f) => f.verdict === 'difference').reduce((n, f) => n + f.raw, 0);
}

function contentDetail(fields: readonly FieldResult[], failed: readonly string[], compared: number, rate: number | null, max: number, totalFails: boolean): string {
  if (compared === 0) return 'no shadow comparisons yet';
  const named = fields.filter((f) => failed.includes(f.field));
  if (named.length > 0) return `${named.map((f) => `${f.field} differs in ${pct(f.rate)} of ${compared} comparisons`).join(', ')} (max ${pct(max)}, noise-cancelled)`;
  if (totalFails) return `${pct(rate ?? 0)} of ${compared} comparisons differ for real (max ${pct(max)})`;
  const real = fields.filter((f) => f.verdict === 'difference');
  return `${pct(rate ?? 0)} of ${compared} comparisons differ for real (max ${pct(max)})${real.length > 0 ? `: ${real.map((f) => f.field).join(', ')}` : ''}${fields.length > real.length ? `; ${fields.length - real.length} noisy field(s) ignored` : ''}`;
}

function errorRateGate(input: EvaluationInput, state: SequentialState, keep: (state: SequentialState) => void): GateResult {
  const sides = input.sides!;
  const { maxIncrease, confidence } = input.policy.gates.errorRate;
  const fresh = { events: sides.new.errors, trials: sides.new.requests };
  const legacy = { events: sides.legacy.errors, trials: sides.legacy.requests };
  const step = sequentialIncreaseLook(state, fresh, legacy, { maxIncrease, alpha: 1 - confidence });
  keep(step.state);
  const min = input.policy.minRequests;
  const rates = fresh.trials > 0 && legacy.trials > 0 ? { fresh: fresh.events / fresh.trials, legacy: legacy.events / legacy.trials } : null;
  const difference = rates === null ? null : rates.fresh - rates.legacy;
  const enough = fresh.trials >= min && legacy.trials >= min;
  const detail = rates === null ? 'no requests on one side yet' : `new 5xx rate ${pct(rates.fresh)} of ${fresh.trials} vs legacy ${pct(rates.legacy)} of ${legacy.trials} (max increase ${pct(maxIncrease)}, p = ${p(step.pValue)})`;
  return {
    gate: 'errorRate',
    result: step.reject ? 'fail' : enough ? 'pass' : 'inconclusive',
    value: difference,
    threshold: maxIncrease,
    pValue: step.pValue,
    ...(difference === null ? {} : { effect: difference }),
    samples: { legacy: legacy.trials, new: fresh.trials },
    detail,
  };
}

function latencyGate(input: EvaluationInput): GateResult {
  const sides = input.sides!;
  const { confidence, tolerance, p99Ratio } = input.policy.gates.latency;
  const min = input.policy.minRequests;
  const judged = judgeLatency(sides.legacy.latencies, sides.new.latencies, { confidence, tolerance, minSamples: Math.min(50, min), maxPairs: LATENCY_MAX_PAIRS });
  const ratio = sides.legacy.p99 !== null && sides.new.p99 !== null && sides.legacy.p99 > 0 ? sides.new.p99 / sides.legacy.p99 : null;
  const mwP = judged.mannWhitney?.pValue;
  // The p99 ratio alone is noisy at canary volumes: the tail fails only when new's share of
  // requests slower than p99Ratio × legacy's p99 is shown above the 1% a p99 allows — and only
  // with TAIL_MIN_REQUESTS per side: below that a p99 is the few slowest requests, noise.
  const tail = sides.legacy.requests >= TAIL_MIN_REQUESTS && sides.new.requests >= TAIL_MIN_REQUESTS ? tailTest(sides, p99Ratio) : null;
  const tailFails = ratio !== null && ratio > p99Ratio && tail !== null && tail <= 1 - confidence;
  const fails = judged.verdict === 'fail' || tailFails;
  const enough = judged.verdict !== 'inconclusive' && sides.new.requests >= min && sides.legacy.requests >= min;
  const tailText = ratio === null ? '' : `; p99 ${ms(sides.new.p99)} vs ${ms(sides.legacy.p99)} (ratio ${ratio.toFixed(2)}, max ${p99Ratio}${tailFails ? ', shown in the tail' : ''})`;
  return {
    gate: 'latency',
    result: fails ? 'fail' : enough ? 'pass' : 'inconclusive',
    value: judged.relativeShift,
    threshold: tolerance,
    ...(mwP === undefined ? {} : { pValue: mwP }),
    ...(judged.shift === null ? {} : { effect: judged.shift.estimate }),
    samples: { legacy: sides.legacy.requests, new: sides.new.requests },
    p99Ratio: { value: ratio, threshold: p99Ratio },
    detail: `${judged.reason}${tailText}`,
  };
}

/** P-value of "more than 1% of new's latencies exceed p99Ratio × legacy's p99" (one-sided score test), or null without data. */
function tailTest(sides: { readonly legacy: SideSample; readonly new: SideSample }, p99Ratio: number): number | null {
  if (sides.legacy.p99 === null || sides.new.latencies.length === 0) return null;
  const limit = p99Ratio * sides.legacy.p99;
  const above = sides.new.latencies.filter((l) => l > limit).length;
  return rateAboveTest({ events: above, trials: sides.new.latencies.length }, 0.01).pValue;
}

function pct(rate: number): string {
  return `${Number((rate * 100).toPrecision(2))}%`;
}

function p(value: number): string {
  return value < 0.0001 ? '< 0.0001' : String(Number(value.toPrecision(2)));
}

function ms(value: number | null): string {
  return value === null ? 'n/a' : `${Number(value.toPrecision(3))} ms`;
}

function duration(msValue: number): string {
  if (msValue >= 60_000) return `${Number((msValue / 60_000).toPrecision(3))}m`;
  if (msValue >= 1000) return `${Number((msValue / 1000).toPrecision(3))}s`;
  return `${Math.round(msValue)}ms`;
}
