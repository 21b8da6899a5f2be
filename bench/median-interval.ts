/**
 * A distribution-free confidence interval for a median (pure; no I/O): between the k-th smallest
 * and the k-th largest of n values, it holds the true median with probability
 * 1 − 2·P(X ≤ k − 1), X ~ Binomial(n, ½) — whatever the values' distribution. Per-cycle ratios
 * on these machines are anything but normal (a slow spell makes outliers), so no t-interval.
 */
import { binomialUpperTail } from './paired-comparison.js';

export interface MedianInterval {
  readonly low: number;
  readonly high: number;
  /** The interval's exact coverage (at least the confidence asked for). */
  readonly coverage: number;
}

/**
 * The narrowest such interval with coverage ≥ `confidence`; null when there are too few values
 * for it (fewer than 6 for 95%: even the whole range covers only 1 − 2/2^n).
 */
export function medianInterval(values: readonly number[], confidence = 0.95): MedianInterval | null {
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`medianInterval: confidence must be between 0 and 1, got ${confidence}`);
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const n = sorted.length;
  let best: { k: number; coverage: number } | null = null;
  for (let k = 1; 2 * k <= n + 1; k++) {
    // P(X ≤ k − 1) = P(X ≥ n − k + 1) by the symmetry of Binomial(n, ½).
    const coverage = 1 - 2 * binomialUpperTail(n - k + 1, n);
    if (coverage < confidence) break;
    best = { k, coverage };
  }
  if (best === null) return null;
  return { low: sorted[best.k - 1] ?? Number.NaN, high: sorted[n - best.k] ?? Number.NaN, coverage: best.coverage };
}
