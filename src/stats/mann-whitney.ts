import { normalCdf, normalSf } from './normal-distribution.js';

/**
 * The Mann–Whitney U test (Wilcoxon rank-sum): does one sample tend to have larger values than
 * the other? It compares ranks only, so it is indifferent to the long right tail of latencies
 * that ruins a t-test, and it needs no distribution assumption.
 *
 * Conventions follow scipy.stats.mannwhitneyu (the reference of the tests): `u` is U of the first
 * sample — the number of pairs (xᵢ, yⱼ) with xᵢ > yⱼ, ties counting ½ — and 'greater' means
 * "x tends to be larger than y".
 *
 * P-values: the exact null distribution when there are no ties and both samples have at most
 * EXACT_MAX_SIZE values (method 'auto'); otherwise the normal approximation with the tie
 * correction of the variance and a continuity correction of ½. Asking for 'exact' with ties, or
 * where the number of arrangements C(n₁+n₂, n₁) passes 2⁵³ (the exact count would round), falls
 * back to the approximation; `method` in the result says which was used.
 */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface MannWhitneyOptions {
  readonly alternative?: Alternative;
  readonly method?: 'auto' | 'exact' | 'asymptotic';
}

export interface MannWhitneyResult {
  /** U of the first sample, in [0, n₁·n₂]. */
  readonly u: number;
  /**
   * (U − n₁n₂/2 ∓ ½)/σ with the tie-corrected σ, continuity-corrected toward the mean; positive
   * when x tends larger. Reported for the exact method too (as the effect in standard units).
   */
  readonly z: number;
  readonly pValue: number;
  readonly alternative: Alternative;
  readonly method: 'exact' | 'asymptotic';
  readonly n1: number;
  readonly n2: number;
  /** Whether any value occurs more than once in the pooled sample. */
  readonly ties: boolean;
}

export const EXACT_MAX_SIZE = 20;

/** Throws RangeError for an empty sample or a value that is not finite. */
export function mannWhitneyU(x: readonly number[], y: readonly number[], options: MannWhitneyOptions = {}): MannWhitneyResult {
  const alternative = options.alternative ?? 'two-sided';
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('Mann–Whitney needs at least one value in each sample');
  const { rankSum, tieTerm } = rankSumOfFirst(x, y);
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const ties = tieTerm > 0;
  const z = standardizedU(u, n1, n2, tieTerm, alternative);
  const method = options.method ?? 'auto';
  const exact = !ties && method !== 'asymptotic' && (method === 'exact' ? exactIsRepresentable(n1, n2) : n1 <= EXACT_MAX_SIZE && n2 <= EXACT_MAX_SIZE);
  const pValue = exact ? exactPValue(u, n1, n2, alternative) : asymptoticPValue(z, alternative);
  return { u, z, pValue, alternative, method: exact ? 'exact' : 'asymptotic', n1, n2, ties };
}

/**
 * σ of U under the null: √(n₁n₂/12 · ((N + 1) − Σ(t³ − t)/(N(N − 1)))), N = n₁ + n₂, where t runs
 * over the sizes of the groups of tied values (`tieTerm` is that sum; 0 without ties).
 */
export function uStandardDeviation(n1: number, n2: number, tieTerm: number): number {
  const n = n1 + n2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  return Math.sqrt(Math.max(variance, 0));
}

/** Σ(t³ − t) over the groups of equal values of x and y pooled (the tie correction's input). */
export function pooledTieTerm(x: readonly number[], y: readonly number[]): number {
  return rankSumOfFirst(x, y).tieTerm;
}

/**
 * P(U ≤ k) for k = 0 … n₁n₂ under the null (no ties): the coefficients of the Gaussian binomial
 * [n₁+n₂ choose n₁]_q = ∏ᵢ₌₁..ₙ₁ (1 − q^(n₂+i))/(1 − q^i) count the arrangements with U = k.
 * Exact in doubles while C(n₁+n₂, n₁) < 2⁵³ (each P is an exact integer count over the total, so
 * small tails keep their relative precision); O(min²·max) time, O(n₁n₂) memory.
 */
export function uNullCdf(n1: number, n2: number): number[] {
  const m = Math.min(n1, n2);
  const n = Math.max(n1, n2);
  const size = m * n + 1;
  const counts = new Array<number>(size).fill(0);
  counts[0] = 1;
  for (let i = 1; i <= m; i++) {
    // × (1 − q^(n+i)), from the top so each step reads the old coefficient…
    for (let k = size - 1; k >= n + i; k--) counts[k] = (counts[k] as number) - (counts[k - n - i] as number);
    // … then ÷ (1 − q^i) as a power series, from the bottom so each step reads the new one.
    for (let k = i; k < size; k++) counts[k] = (counts[k] as number) + (counts[k - i] as number);
  }
  const total = counts.reduce((a, c) => a + c, 0);
  let cumulative = 0;
  return counts.map((c) => (cumulative += c) / total);
}

export function exactIsRepresentable(n1: number, n2: number): boolean {
  let arrangements = 1;
  const k = Math.min(n1, n2);
  for (let i = 1; i <= k; i++) arrangements = (arrangements * (n1 + n2 - k + i)) / i;
  return arrangements * (n1 + n2) < Number.MAX_SAFE_INTEGER;
}

function standardizedU(u: number, n1: number, n2: number, tieTerm: number, alternative: Alternative): number {
  const sd = uStandardDeviation(n1, n2, tieTerm);
  const d = u - (n1 * n2) / 2;
  if (sd === 0) return 0; // every value equal: no evidence either way
  if (alternative === 'greater') return (d - 0.5) / sd;
  if (alternative === 'less') return (d + 0.5) / sd;
  return (Math.sign(d) * Math.max(Math.abs(d) - 0.5, 0)) / sd;
}

function asymptoticPValue(z: number, alternative: Alternative): number {
  if (alternative === 'greater') return normalSf(z);
  if (alternative === 'less') return normalCdf(z);
  return Math.min(1, 2 * normalSf(Math.abs(z)));
}

function exactPValue(u: number, n1: number, n2: number, alternative: Alternative): number {
  const cdf = uNullCdf(n1, n2);
  const max = n1 * n2;
  // Each tail is read from its own end (P(U ≥ k) = P(U ≤ n₁n₂ − k) by symmetry), never as 1 − x.
  const atMost = (k: number): number => (k >= max ? 1 : (cdf[k] as number));
  const atLeast = (k: number): number => atMost(max - k);
  if (alternative === 'greater') return atLeast(u);
  if (alternative === 'less') return atMost(u);
  return Math.min(1, 2 * atLeast(Math.max(u, max - u)));
}

/** The rank sum of x in x ∪ y (ties get their average rank) and Σ(t³ − t) over tie groups. */
function rankSumOfFirst(x: readonly number[], y: readonly number[]): { rankSum: number; tieTerm: number } {
  const pooled = Float64Array.from([...x, ...y]);
  if (!pooled.every(Number.isFinite)) throw new RangeError('Mann–Whitney needs finite values');
  const order = Array.from(pooled.keys()).sort((a, b) => (pooled[a] as number) - (pooled[b] as number));
  let rankSum = 0;
  let tieTerm = 0;
  for (let i = 0; i < order.length; ) {
    let j = i + 1;
    while (j < order.length && pooled[order[j] as number] === pooled[order[i] as number]) j++;
    const averageRank = (i + 1 + j) / 2; // ranks i+1 … j
    for (let k = i; k < j; k++) if ((order[k] as number) < x.length) rankSum += averageRank;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  return { rankSum, tieTerm };
}
