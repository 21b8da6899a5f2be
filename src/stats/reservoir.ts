/**
 * A bounded uniform sample of a stream (reservoir sampling), kept for rank tests, which need raw
 * values that a sketch does not keep. Plain JSON, like the sketch, so it travels between instances.
 *
 * Invariant: `values` is a uniform random sample (without replacement) of the `seen` values
 * offered, and `values.length ≤ capacity`. The random source is passed in (`() => number` in
 * [0, 1)), so tests are reproducible; the service passes `Math.random`.
 */
export interface Reservoir {
  readonly capacity: number;
  /** How many values the sample stands for. */
  seen: number;
  values: number[];
}

export type Random = () => number;

export function createReservoir(capacity: number): Reservoir {
  if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`reservoir capacity must be a positive integer, got ${capacity}`);
  return { capacity, seen: 0, values: [] };
}

/**
 * Offers one value, in place (Vitter's algorithm R): kept while the sample is the whole stream
 * and has room; afterwards it replaces a random slot with probability size/seen. The general form
 * also keeps a *merged* reservoir (whose sample may be smaller than its capacity) uniform.
 */
export function offerValue(reservoir: Reservoir, value: number, random: Random): void {
  reservoir.seen++;
  const size = reservoir.values.length;
  if (size < reservoir.capacity && size === reservoir.seen - 1) {
    reservoir.values.push(value);
    return;
  }
  const slot = Math.floor(random() * reservoir.seen);
  if (slot < size) reservoir.values[slot] = value;
}

/**
 * One sample of at most `capacity` values standing for all the reservoirs' streams together.
 *
 * Each reservoir contributes in proportion to the values it stands for (`seen`), not to the
 * values it holds, so a busy 10 s bucket is not under-represented beside a quiet one: every
 * underlying value has the same chance k/N of being in the result (proportional stratified
 * sampling, with systematic rounding so the counts add up to exactly k). The size k is the
 * largest the inputs support without repeating a value: min(capacity, N, and for each reservoir
 * holding fewer values than it saw, |values|·N/seen) — a single bucket holding most of the
 * traffic limits the sample to about its own reservoir size.
 */
export function mergeReservoirs(reservoirs: readonly Reservoir[], capacity: number, random: Random): Reservoir {
  const merged = createReservoir(capacity);
  const total = reservoirs.reduce((n, r) => n + r.seen, 0);
  merged.seen = total;
  if (total === 0) return merged;
  const size = reservoirs.reduce((k, r) => (r.values.length < r.seen ? Math.min(k, Math.floor((r.values.length * total) / r.seen)) : k), Math.min(capacity, total));
  const start = random();
  let cumulative = 0;
  for (const r of reservoirs) {
    const before = Math.floor(start + cumulative);
    cumulative += (size * r.seen) / total;
    const take = Math.min(Math.floor(start + cumulative) - before, r.values.length);
    merged.values.push(...sampleWithoutReplacement(r.values, take, random));
  }
  return merged;
}

export function cloneReservoir(reservoir: Reservoir): Reservoir {
  return { capacity: reservoir.capacity, seen: reservoir.seen, values: [...reservoir.values] };
}

/** Checks JSON from elsewhere: a valid reservoir, or null. */
export function parseReservoir(value: unknown): Reservoir | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const { capacity, seen, values } = v;
  if (!Number.isInteger(capacity) || (capacity as number) < 1 || !Number.isInteger(seen) || !Array.isArray(values)) return null;
  if (values.length > (capacity as number) || values.length > (seen as number) || !values.every((x) => typeof x === 'number' && Number.isFinite(x))) return null;
  return { capacity: capacity as number, seen: seen as number, values: [...(values as number[])] };
}

/** k distinct elements chosen uniformly (a partial Fisher–Yates shuffle of a copy). */
function sampleWithoutReplacement(values: readonly number[], k: number, random: Random): number[] {
  if (k >= values.length) return [...values];
  const pool = [...values];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    const picked = pool[j] as number;
    pool[j] = pool[i] as number;
    pool[i] = picked;
  }
  return pool.slice(0, k);
}
