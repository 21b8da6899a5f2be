import assert from 'node:assert/strict';
import type { Random } from '../../src/stats/reservoir.js';

/** Shared by the stats-*.test.ts files (not a test file itself). */

/** |actual − expected| ≤ tolerance·|expected| (relative), or ≤ tolerance when expected is 0. */
export function assertClose(actual: number, expected: number, tolerance: number, what = ''): void {
  const scale = expected === 0 ? 1 : Math.abs(expected);
  assert.ok(Math.abs(actual - expected) <= tolerance * scale, `${what} ${actual} ≠ ${expected} (relative tolerance ${tolerance})`);
}

/** A standard normal variate (Box–Muller; 1 − u keeps the log finite). */
export function gaussian(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Latency-like data: log-normal with median `median` ms and log-sd `sigma`. */
export function logNormal(random: Random, median: number, sigma: number): number {
  return median * Math.exp(sigma * gaussian(random));
}

export function repeat<T>(n: number, f: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

/** Exact quantiles: the data value of rank ⌊q·(n − 1)⌋, the sketch's definition. Sorts once. */
export function exactQuantiles(values: readonly number[]): (q: number) => number {
  const sorted = Float64Array.from(values).sort();
  return (q) => sorted[Math.floor(q * (sorted.length - 1))] as number;
}

/** A Binomial(n, p) variate by inversion (fine for the small n·p of these tests). */
export function binomial(n: number, p: number, random: Random): number {
  const u = random();
  let k = 0;
  let probability = (1 - p) ** n;
  let cdf = probability;
  while (u > cdf && k < n) {
    probability *= ((n - k) / (k + 1)) * (p / (1 - p));
    k++;
    cdf += probability;
  }
  return k;
}
