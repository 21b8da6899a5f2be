import { normalIsf, normalSf } from './normal-distribution.js';

/**
 * Tests on rates (5xx rate, content-mismatch rate) from counts, for a single look at the data.
 * For repeated looks at growing data use `sequential-rate-test.ts`: re-running these at every
 * evaluation inflates false alarms far beyond their nominal level (34% instead of 5% over 200
 * looks at a 1% canary step, in test/unit/stats-proportions.test.ts).
 *
 * - `rateIncreaseTest`: is the candidate's rate higher than the baseline's by more than a margin?
 *   A one-sided z-test of H₀: p_c − p_b ≤ δ whose standard error is taken at the rates that fit
 *   the data best *under H₀* (Farrington & Manning, 1990; restricted maximum likelihood, closed
 *   form). With δ = 0 that is exactly the classic pooled two-proportion z-test; with δ > 0 it
 *   stays sane where the unpooled (Wald) error fails — e.g. both rates 0, which is common for 5xx.
 * - `rateAboveTest`: is one rate above a fixed maximum? The one-sample score test (standard error
 *   at the maximum), which agrees with the Wilson interval: it rejects at level a exactly when the
 *   one-sided Wilson bound at confidence 1 − a lies above the maximum.
 * - `wilsonInterval`: the Wilson score interval, which unlike p̂ ± z·√(p̂(1 − p̂)/n) keeps near its
 *   nominal coverage with few events and never leaves [0, 1].
 *
 * All are normal approximations: with a handful of events their p-values are rough, which is
 * why callers also require a minimum number of requests. Counts must be integers with
 * 0 ≤ events ≤ trials and trials ≥ 1 (RangeError otherwise).
 */
export interface Counts {
  readonly events: number;
  readonly trials: number;
}

export interface RateIncreaseResult {
  readonly candidateRate: number;
  readonly baselineRate: number;
  /** candidateRate − baselineRate. */
  readonly difference: number;
  readonly maxIncrease: number;
  /** (difference − maxIncrease) / standardError. */
  readonly z: number;
  /** P-value of H₀: the candidate's rate exceeds the baseline's by at most maxIncrease. */
  readonly pValue: number;
  /** Standard error of the difference at the restricted (H₀) estimates. */
  readonly standardError: number;
}

export interface RateAboveResult {
  readonly rate: number;
  readonly max: number;
  readonly z: number;
  /** P-value of H₀: the rate is at most `max`. */
  readonly pValue: number;
}

export interface RateInterval {
  readonly rate: number;
  readonly lower: number;
  readonly upper: number;
  readonly confidence: number;
}

/** One-sided test of H₀: p_candidate − p_baseline ≤ maxIncrease (maxIncrease in (−1, 1), default 0). */
export function rateIncreaseTest(candidate: Counts, baseline: Counts, maxIncrease = 0): RateIncreaseResult {
  checkCounts(candidate);
  checkCounts(baseline);
  if (!(maxIncrease > -1 && maxIncrease < 1)) throw new RangeError(`maxIncrease must be in (-1, 1), got ${maxIncrease}`);
  const candidateRate = candidate.events / candidate.trials;
  const baselineRate = baseline.events / baseline.trials;
  const difference = candidateRate - baselineRate;
  const standardError = restrictedStandardError(candidate, baseline, maxIncrease);
  const z = ratio(difference - maxIncrease, standardError);
  return { candidateRate, baselineRate, difference, maxIncrease, z, pValue: normalSf(z), standardError };
}

/** One-sided score test of H₀: rate ≤ max (max in [0, 1)). */
export function rateAboveTest(sample: Counts, max: number): RateAboveResult {
  checkCounts(sample);
  if (!(max >= 0 && max < 1)) throw new RangeError(`max must be in [0, 1), got ${max}`);
  const rate = sample.events / sample.trials;
  const z = ratio(rate - max, Math.sqrt((max * (1 - max)) / sample.trials));
  return { rate, max, z, pValue: normalSf(z) };
}

/**
 * The two-sided Wilson score interval at `confidence` (default 0.95). Its lower end alone is a
 * one-sided bound at confidence (1 + confidence)/2 — so for a 99% lower bound ask for 0.98.
 */
export function wilsonInterval(sample: Counts, confidence = 0.95): RateInterval {
  checkCounts(sample);
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const { events, trials: n } = sample;
  const p = events / n;
  const z = normalIsf((1 - confidence) / 2);
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n));
  // At 0 or n events the matching end is exactly 0 or 1; rounding must not move it.
  return { rate: p, lower: events === 0 ? 0 : Math.max(0, centre - half), upper: events === n ? 1 : Math.min(1, centre + half), confidence };
}

/**
 * The maximum-likelihood rates under the constraint p_c − p_b = difference (Farrington &
 * Manning's closed form: the middle root of a cubic, via the trigonometric solution). With
 * difference 0 this is the pooled rate for both.
 */
export function restrictedRates(candidate: Counts, baseline: Counts, difference: number): { candidate: number; baseline: number } {
  const p1 = candidate.events / candidate.trials;
  const p2 = baseline.events / baseline.trials;
  if (difference === 0) {
    const pooled = (candidate.events + baseline.events) / (candidate.trials + baseline.trials);
    return { candidate: pooled, baseline: pooled };
  }
  const theta = baseline.trials / candidate.trials;
  const a = 1 + theta;
  const b = -(1 + theta + p1 + theta * p2 + difference * (theta + 2));
  const c = difference * difference + difference * (2 * p1 + theta + 1) + p1 + theta * p2;
  const d = -p1 * difference * (1 + difference);
  const v = b ** 3 / (27 * a ** 3) - (b * c) / (6 * a * a) + d / (2 * a);
  const u = Math.sign(v) * Math.sqrt(Math.max(0, (b * b) / (9 * a * a) - c / (3 * a)));
  const root = u === 0 ? -b / (3 * a) : 2 * u * Math.cos((Math.PI + Math.acos(clamp(v / u ** 3, -1, 1))) / 3) - b / (3 * a);
  // Rounding can leave the root a hair outside the feasible range; the baseline rate must stay in [0, 1].
  const baselineRate = clamp(root - difference, Math.max(0, -difference), Math.min(1, 1 - difference));
  return { candidate: baselineRate + difference, baseline: baselineRate };
}

/** √(p̃_c(1 − p̃_c)/n_c + p̃_b(1 − p̃_b)/n_b) at the restricted rates. */
export function restrictedStandardError(candidate: Counts, baseline: Counts, difference: number): number {
  const r = restrictedRates(candidate, baseline, difference);
  return Math.sqrt((r.candidate * (1 - r.candidate)) / candidate.trials + (r.baseline * (1 - r.baseline)) / baseline.trials);
}

export function checkCounts(counts: Counts, minTrials = 1): void {
  const { events, trials } = counts;
  if (!(Number.isInteger(events) && Number.isInteger(trials) && events >= 0 && events <= trials && trials >= minTrials)) {
    throw new RangeError(`counts must be integers with 0 <= events <= trials and trials >= ${minTrials}, got ${events}/${trials}`);
  }
}

/** x / se, where a zero error means certainty: ±∞ by the sign of x, 0 for no difference at all. */
function ratio(x: number, se: number): number {
  if (se > 0) return x / se;
  return x > 0 ? Number.POSITIVE_INFINITY : x < 0 ? Number.NEGATIVE_INFINITY : 0;
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}
