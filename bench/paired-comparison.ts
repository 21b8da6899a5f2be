/**
 * Two benchmark targets measured in the same short cycles, compared cycle by cycle (pure; no
 * I/O): on a host whose speed wanders over seconds, a cycle's slow spell weighs on both sides of
 * its pair, so the per-cycle ratio keeps what an end-to-end ratio loses in the noise.
 */
import { roundRatios, type Ratio } from './round-ratios.js';

export interface PairedComparison {
  /** a/b cycle by cycle, and their median. */
  readonly ratio: Ratio;
  /** Cycles where a did better than b, worse, and exactly as well. */
  readonly ahead: number;
  readonly behind: number;
  readonly ties: number;
  /**
   * Two-sided exact sign test over the cycles that were not ties: how likely a split at least this
   * lopsided is when neither side is really faster (1 = no evidence either way).
   */
  readonly signTestP: number;
}

/** `higherIsBetter`: req/s (a ahead when a > b); false for a cost such as CPU per request. */
export function pairedComparison(a: readonly (number | undefined)[], b: readonly (number | undefined)[], higherIsBetter = true): PairedComparison | null {
  const ratio = roundRatios(a, b);
  if (ratio === null) return null;
  let ahead = 0;
  let behind = 0;
  let ties = 0;
  for (const r of ratio.perRound) {
    if (r === 1) ties++;
    else if (r > 1 === higherIsBetter) ahead++;
    else behind++;
  }
  return { ratio, ahead, behind, ties, signTestP: signTest(ahead, behind) };
}

/** Two-sided exact sign test: 2 × P(X ≥ max) for X ~ Binomial(ahead + behind, ½), at most 1. */
export function signTest(ahead: number, behind: number): number {
  const n = ahead + behind;
  if (n === 0) return 1;
  return Math.min(1, 2 * binomialUpperTail(Math.max(ahead, behind), n));
}

/** P(X ≥ k) for X ~ Binomial(n, ½), summed exactly (n up to a few hundred cycles). */
export function binomialUpperTail(k: number, n: number): number {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 0) throw new RangeError(`binomialUpperTail: integers n ≥ 0 expected, got k=${k}, n=${n}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  // C(n, i) / 2^n term by term, from i = k up: each term from the last by (n - i) / (i + 1).
  let term = Math.exp(logChoose(n, k) - n * Math.LN2);
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += term;
    term *= (n - i) / (i + 1);
  }
  return Math.min(1, sum);
}

function logChoose(n: number, k: number): number {
  let sum = 0;
  for (let i = 1; i <= k; i++) sum += Math.log((n - k + i) / i);
  return sum;
}
