/**
 * A mergeable quantile sketch with a bounded *relative* error, after DDSketch (Masson, Rim & Lee,
 * VLDB 2019): values fall into logarithmic bins (γ^(i−1), γ^i] with γ = (1 + α)/(1 − α), and a bin
 * is reported as 2γ^i/(1 + γ), which is within ±α of every value in it. So a quantile estimate is
 * within α·v of the data value v of that rank — the guarantee holds for every quantile and any
 * distribution, which a fixed-width histogram cannot give for both 2 ms and 2 s latencies.
 *
 * The sketch is plain JSON (counts in a dense array from `offset`), so buckets can be written to
 * Redis by one instance and merged by another. Merging is exact: merging sketches gives the same
 * sketch as recording all their values into one (same settings required). Memory is at most
 * `maxBins` numbers; with α = 1% that spans a ratio of 10^17 between the smallest and the largest
 * value, so folding (below) only ever happens for nonsense input.
 *
 * Limits: values below `minValue` (including 0) are counted apart and reported as the smallest of
 * them, an absolute error below `minValue`. If the bins would span more than `maxBins`, the lowest
 * ones are folded into the lowest kept bin (as DDSketch does): the highest quantiles keep their
 * guarantee, the folded lowest ones lose it.
 */
export interface SketchSettings {
  /** α, in (0, 1): the relative error bound of every quantile. Default 0.01. */
  readonly relativeAccuracy: number;
  /** Values below this are counted as "zero". Default 1e-3 (1 µs when values are milliseconds). */
  readonly minValue: number;
  /** Most bins kept; default 2048. */
  readonly maxBins: number;
}

export const SKETCH_DEFAULTS: SketchSettings = { relativeAccuracy: 0.01, minValue: 1e-3, maxBins: 2048 };

/** Mutated in place by `recordValue`; everything else returns new sketches. */
export interface QuantileSketch extends SketchSettings {
  count: number;
  /** Values below `minValue`. */
  zeroCount: number;
  sum: number;
  /** Exact extremes (0 when the sketch is empty). */
  min: number;
  max: number;
  /** The bin index of `bins[0]`. */
  offset: number;
  bins: number[];
}

export function createSketch(settings: Partial<SketchSettings> = {}): QuantileSketch {
  const { relativeAccuracy, minValue, maxBins } = { ...SKETCH_DEFAULTS, ...settings };
  if (!(relativeAccuracy > 0 && relativeAccuracy < 1)) throw new RangeError(`relativeAccuracy must be in (0, 1), got ${relativeAccuracy}`);
  if (!(minValue > 0 && Number.isFinite(minValue))) throw new RangeError(`minValue must be > 0, got ${minValue}`);
  if (!(Number.isInteger(maxBins) && maxBins >= 1)) throw new RangeError(`maxBins must be a positive integer, got ${maxBins}`);
  return { relativeAccuracy, minValue, maxBins, count: 0, zeroCount: 0, sum: 0, min: 0, max: 0, offset: 0, bins: [] };
}

/** Adds one value (≥ 0, finite; RangeError otherwise) to the sketch, in place. */
export function recordValue(sketch: QuantileSketch, value: number): void {
  if (!(value >= 0 && Number.isFinite(value))) throw new RangeError(`a sketch records finite values >= 0, got ${value}`);
  sketch.min = sketch.count === 0 ? value : Math.min(sketch.min, value);
  sketch.max = sketch.count === 0 ? value : Math.max(sketch.max, value);
  sketch.count++;
  sketch.sum += value;
  if (value < sketch.minValue) sketch.zeroCount++;
  else addToBin(sketch, binIndex(sketch, value), 1);
}

/**
 * The value of rank ⌊q·(count − 1)⌋ (0-based, the "lower" quantile: a data value, never an
 * interpolation), within ±α of it; null for an empty sketch. q must be in [0, 1].
 */
export function sketchQuantile(sketch: QuantileSketch, q: number): number | null {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be in [0, 1], got ${q}`);
  if (sketch.count === 0) return null;
  const rank = Math.floor(q * (sketch.count - 1));
  if (rank < sketch.zeroCount) return sketch.min;
  let seen = sketch.zeroCount;
  for (let j = 0; j < sketch.bins.length; j++) {
    seen += sketch.bins[j] ?? 0;
    // The estimate lies in the value's bin, and the value lies in [min, max]: clamping only helps.
    if (seen > rank) return Math.min(sketch.max, Math.max(sketch.min, binValue(sketch, sketch.offset + j)));
  }
  return sketch.max;
}

/** One sketch holding the values of all of them (none: an empty default sketch). */
export function mergeSketches(sketches: readonly QuantileSketch[]): QuantileSketch {
  const first = sketches[0];
  const merged = first === undefined ? createSketch() : cloneSketch(first);
  for (const sketch of sketches.slice(1)) mergeInto(merged, sketch);
  return merged;
}

export function cloneSketch(sketch: QuantileSketch): QuantileSketch {
  return { ...sketch, bins: [...sketch.bins] };
}

/** Checks JSON from elsewhere (another instance, Redis): a valid sketch, or null. */
export function parseSketch(value: unknown): QuantileSketch | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const numbers = ['relativeAccuracy', 'minValue', 'maxBins', 'count', 'zeroCount', 'sum', 'min', 'max', 'offset'].every((k) => typeof v[k] === 'number' && Number.isFinite(v[k]));
  if (!numbers || !Array.isArray(v['bins']) || !v['bins'].every((c) => Number.isInteger(c) && (c as number) >= 0)) return null;
  let settings: QuantileSketch;
  try {
    settings = createSketch({ relativeAccuracy: v['relativeAccuracy'] as number, minValue: v['minValue'] as number, maxBins: v['maxBins'] as number });
  } catch {
    return null;
  }
  const sketch: QuantileSketch = { ...settings, count: v['count'] as number, zeroCount: v['zeroCount'] as number, sum: v['sum'] as number, min: v['min'] as number, max: v['max'] as number, offset: v['offset'] as number, bins: [...(v['bins'] as number[])] };
  const binned = sketch.bins.reduce((a, c) => a + c, 0);
  const consistent = Number.isInteger(sketch.offset) && Number.isInteger(sketch.zeroCount) && sketch.zeroCount >= 0 && sketch.count === sketch.zeroCount + binned && sketch.bins.length <= sketch.maxBins && sketch.min <= sketch.max;
  return consistent ? sketch : null;
}

function mergeInto(target: QuantileSketch, source: QuantileSketch): void {
  if (source.relativeAccuracy !== target.relativeAccuracy || source.minValue !== target.minValue || source.maxBins !== target.maxBins) {
    throw new RangeError('only sketches with the same relativeAccuracy, minValue and maxBins can be merged');
  }
  if (source.count === 0) return;
  target.min = target.count === 0 ? source.min : Math.min(target.min, source.min);
  target.max = target.count === 0 ? source.max : Math.max(target.max, source.max);
  target.count += source.count;
  target.zeroCount += source.zeroCount;
  target.sum += source.sum;
  source.bins.forEach((c, j) => {
    if (c > 0) addToBin(target, source.offset + j, c);
  });
}

function logGamma(sketch: SketchSettings): number {
  return Math.log((1 + sketch.relativeAccuracy) / (1 - sketch.relativeAccuracy));
}

function binIndex(sketch: SketchSettings, value: number): number {
  return Math.ceil(Math.log(value) / logGamma(sketch));
}

function binValue(sketch: SketchSettings, index: number): number {
  const gamma = (1 + sketch.relativeAccuracy) / (1 - sketch.relativeAccuracy);
  return (2 * Math.exp(index * logGamma(sketch))) / (1 + gamma);
}

/** Adds `n` to bin `index`, growing the dense array either way, then folds to `maxBins`. */
function addToBin(sketch: QuantileSketch, index: number, n: number): void {
  if (sketch.bins.length === 0) {
    sketch.offset = index;
    sketch.bins = [n];
    return;
  }
  // A bin below the folded floor belongs to the floor (see the module comment).
  const top = sketch.offset + sketch.bins.length - 1;
  const at = Math.max(index, Math.min(sketch.offset, top - sketch.maxBins + 1));
  if (at < sketch.offset) {
    sketch.bins = [...new Array<number>(sketch.offset - at).fill(0), ...sketch.bins];
    sketch.offset = at;
  } else if (at > top) {
    sketch.bins.push(...new Array<number>(at - top).fill(0));
  }
  sketch.bins[at - sketch.offset] = (sketch.bins[at - sketch.offset] ?? 0) + n;
  fold(sketch);
}

/** Keeps the `maxBins` highest bins, adding everything below into the lowest kept one. */
function fold(sketch: QuantileSketch): void {
  const excess = sketch.bins.length - sketch.maxBins;
  if (excess <= 0) return;
  const folded = sketch.bins.slice(0, excess + 1).reduce((a, c) => a + c, 0);
  sketch.bins = [folded, ...sketch.bins.slice(excess + 1)];
  sketch.offset += excess;
}
