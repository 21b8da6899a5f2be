import { DEFAULT_MAX_PAIRS, hodgesLehmannShift, median, type ShiftEstimate } from './hodges-lehmann.js';
import { mannWhitneyU, type MannWhitneyResult } from './mann-whitney.js';

/**
 * A Kayenta-style latency verdict for a canary: is the candidate slower than the baseline by
 * more than a tolerance, with confidence?
 *
 * - inconclusive: either side has fewer than `minSamples` latencies (Kayenta warns below 50).
 *   Low traffic is never a failure.
 * - fail: the lower end of the `confidence` interval of the Hodges–Lehmann shift is above the
 *   tolerance, `tolerance` × |baseline median| — we are confident the candidate is slower by more
 *   than allowed. With a two-sided 98% interval that is a one-sided test at 1%.
 * - pass: otherwise. A candidate that is faster, or slower within the tolerance, or too noisy
 *   to be shown slower, passes (as Kayenta's classifier does); `shift.upper` tells how sure the
 *   pass is.
 *
 * Unlike Kayenta, whose critical band is a fraction of the estimate itself (so any significant
 * shift fails), the band here is relative to the baseline's median: a real but small slowdown
 * (5% with a 25% tolerance) passes however many samples there are. Only slowdowns fail.
 */
export type Verdict = 'pass' | 'fail' | 'inconclusive';

export interface LatencyJudgeOptions {
  /** Default 0.98. */
  readonly confidence?: number;
  /** Allowed slowdown as a fraction of the baseline median; default 0.25. */
  readonly tolerance?: number;
  /** Per side; default 50. */
  readonly minSamples?: number;
  readonly maxPairs?: number;
}

export interface SampleSummary {
  readonly n: number;
  /** null for an empty sample. */
  readonly median: number | null;
}

export interface LatencyJudgement {
  readonly verdict: Verdict;
  /** One sentence with the numbers behind the verdict. */
  readonly reason: string;
  readonly baseline: SampleSummary;
  readonly candidate: SampleSummary;
  /** The allowed shift in ms (tolerance × |baseline median|); null when inconclusive. */
  readonly allowedShiftMs: number | null;
  /** candidate − baseline; null when inconclusive. */
  readonly shift: ShiftEstimate | null;
  /** shift.estimate / baseline median; null when inconclusive or the median is 0. */
  readonly relativeShift: number | null;
  /** One-sided ('greater': candidate slower) Mann–Whitney test; null when inconclusive. */
  readonly mannWhitney: MannWhitneyResult | null;
}

export const LATENCY_JUDGE_DEFAULTS = { confidence: 0.98, tolerance: 0.25, minSamples: 50, maxPairs: DEFAULT_MAX_PAIRS } as const;

export function judgeLatency(baseline: readonly number[], candidate: readonly number[], options: LatencyJudgeOptions = {}): LatencyJudgement {
  const { confidence, tolerance, minSamples, maxPairs } = { ...LATENCY_JUDGE_DEFAULTS, ...options };
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  const summaries = { baseline: summarize(baseline), candidate: summarize(candidate) };
  if (baseline.length < Math.max(1, minSamples) || candidate.length < Math.max(1, minSamples)) {
    const reason = `too few latencies to judge: ${baseline.length} baseline and ${candidate.length} candidate, ${minSamples} needed on each side`;
    return { verdict: 'inconclusive', reason, ...summaries, allowedShiftMs: null, shift: null, relativeShift: null, mannWhitney: null };
  }
  const baselineMedian = summaries.baseline.median as number;
  const allowedShiftMs = tolerance * Math.abs(baselineMedian);
  const shift = hodgesLehmannShift(baseline, candidate, { confidence, maxPairs });
  const mw = mannWhitneyU(candidate, baseline, { alternative: 'greater' });
  const verdict: Verdict = shift.lower > allowedShiftMs ? 'fail' : 'pass';
  return {
    verdict,
    reason: explain(verdict, shift, allowedShiftMs, baselineMedian, tolerance),
    ...summaries,
    allowedShiftMs,
    shift,
    relativeShift: baselineMedian === 0 ? null : shift.estimate / baselineMedian,
    mannWhitney: mw,
  };
}

function summarize(values: readonly number[]): SampleSummary {
  return { n: values.length, median: values.length === 0 ? null : median(values) };
}

function explain(verdict: Verdict, shift: ShiftEstimate, allowed: number, baselineMedian: number, tolerance: number): string {
  const interval = `${percent(shift.confidence)} CI ${ms(shift.lower)} to ${ms(shift.upper)}`;
  const band = `allowed shift of ${ms(allowed)} (${percent(tolerance)} of the baseline median ${ms(baselineMedian)})`;
  return verdict === 'fail'
    ? `candidate slower by ${ms(shift.estimate)} (Hodges–Lehmann, ${interval}): even the interval's low end exceeds the ${band}`
    : `candidate shift ${ms(shift.estimate)} (Hodges–Lehmann, ${interval}) is not shown to exceed the ${band}`;
}

function ms(x: number): string {
  return Number.isFinite(x) ? `${Number(x.toPrecision(3))} ms` : `${x > 0 ? '+' : '−'}∞`;
}

function percent(x: number): string {
  return `${Number((x * 100).toPrecision(3))}%`;
}
