/**
 * The standard normal distribution: CDF, upper tail and inverse CDF, in plain double precision.
 *
 * Accuracy, measured against 50-digit mpmath over z ∈ [−38, 38] and p ∈ [1e-300, 1) (the test
 * file test/unit/stats-normal.test.ts keeps reference points from scipy.stats.norm and mpmath):
 * - `normalCdf` and `normalSf`: relative error below 5e-14 wherever the result is a normal double
 *   (|z| up to about 37.5; past that the true tail underflows and 0 is returned). The small side
 *   of each is computed directly, never as `1 - x`, so tail p-values keep their digits. (For
 *   comparison, scipy's own ndtr is off by up to 2.2e-13 in the far tails.)
 * - `normalPpf` / `normalIsf`: relative error in z below 1e-14, including z ≈ 0. The input is the
 *   limit: for p near 1 only `1 - p` carries information, so pass a small upper-tail probability
 *   to `normalIsf` rather than `normalPpf(1 - q)`.
 */

const SQRT_PI = Math.sqrt(Math.PI);
const SQRT_2 = Math.SQRT2;
const SQRT_2PI = Math.sqrt(2 * Math.PI);
/** Below this the series for erf is used, above it the continued fraction for erfc (both converge fast there). */
const SERIES_LIMIT = 1.5;
const MAX_TERMS = 500;
const EPSILON = 1e-17;

/** Φ(z) = P(Z ≤ z). */
export function normalCdf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  return z <= 0 ? upperTail(-z) : 1 - upperTail(z);
}

/** The survival function 1 − Φ(z) = P(Z > z), accurate in the upper tail. */
export function normalSf(z: number): number {
  return normalCdf(-z);
}

/** The density φ(z). */
export function normalPdf(z: number): number {
  return expMinusHalfSquare(z) / SQRT_2PI;
}

/** Φ⁻¹(p): the z with Φ(z) = p; −∞ at 0, +∞ at 1. Throws RangeError outside [0, 1]. */
export function normalPpf(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalPpf: p must be in [0, 1], got ${p}`);
  // 1 − p is exact for p ≥ 0.5 (Sterbenz), so each half solves for its own small tail.
  return p < 0.5 ? -upperTailQuantile(p) : upperTailQuantile(1 - p);
}

/** The inverse survival function: the z with P(Z > z) = q. */
export function normalIsf(q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`normalIsf: q must be in [0, 1], got ${q}`);
  return q < 0.5 ? upperTailQuantile(q) : -upperTailQuantile(1 - q);
}

/** P(Z > t) for t ≥ 0, i.e. erfc(t/√2)/2. */
function upperTail(t: number): number {
  if (t === Number.POSITIVE_INFINITY) return 0;
  const x = t / SQRT_2;
  if (x < SERIES_LIMIT) return (1 - erfSeries(x)) / 2;
  return expMinusHalfSquare(t) / (2 * SQRT_PI * erfcContinuedFraction(x));
}

/**
 * erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (1·3·…·(2n+1)): every term is positive, so there is
 * no cancellation (unlike the alternating Taylor series), and for x < 1.5 it converges in < 50 terms.
 */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < MAX_TERMS && term > sum * EPSILON; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return (2 / SQRT_PI) * Math.exp(-x2) * sum;
}

/**
 * The denominator of Laplace's continued fraction erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x +
 * (3/2)/(x + …)))), evaluated with the modified Lentz method; for x ≥ 1.5 it needs at most ~90 steps.
 */
function erfcContinuedFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < MAX_TERMS; k++) {
    const a = k / 2;
    d = x + a * d;
    d = d === 0 ? tiny : d;
    c = x + a / c;
    c = c === 0 ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return f;
}

/**
 * e^(−t²/2) without the rounding error of t² (relative error ≈ t²·1e-16, four digits lost at
 * t = 37): t = hi + lo with hi on a 1/16 grid, so hi² is exact and lo·(2hi + lo) is small.
 */
function expMinusHalfSquare(t: number): number {
  const hi = Math.round(t * 16) / 16;
  const lo = t - hi;
  return Math.exp(-(hi * hi) / 2) * Math.exp(-(lo * (2 * hi + lo)) / 2);
}

/**
 * The z ≥ 0 with P(Z > z) = q, for q in [0, 0.5]: Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4)
 * as the start, then Halley steps on the accurate tail; convergence is cubic, so three steps
 * reach full precision and the fourth is a guard.
 */
function upperTailQuantile(q: number): number {
  if (q === 0) return Number.POSITIVE_INFINITY;
  if (q === 0.5) return 0;
  const t = Math.sqrt(-2 * Math.log(q));
  const z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  // Solve Φ(y) = q for y = −z ≤ 0, where Φ(y) is computed without cancellation.
  let y = -Math.max(z, 0);
  for (let i = 0; i < 4; i++) {
    const u = cdfMinus(y, q) / normalPdf(y);
    const step = u / (1 + (y * u) / 2);
    y -= step;
    if (Math.abs(step) <= 1e-16 * Math.abs(y)) break;
  }
  return -y;
}

/**
 * Φ(y) − q for y ≤ 0. Near the centre both are ≈ ½ and their difference would keep only absolute
 * precision (a relative error of 1e-12 in z ≈ 1e-4); there Φ(y) − q = (½ − q) − erf(−y/√2)/2, whose
 * first term is exact for q ≥ ¼.
 */
function cdfMinus(y: number, q: number): number {
  const x = -y / SQRT_2;
  return x < SERIES_LIMIT ? 0.5 - q - erfSeries(x) / 2 : normalCdf(y) - q;
}
