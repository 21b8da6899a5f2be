import { cloneSketch, createSketch, mergeSketches, parseSketch, recordValue, type QuantileSketch, type SketchSettings } from './quantile-sketch.js';
import { cloneReservoir, createReservoir, mergeReservoirs, offerValue, parseReservoir, type Random, type Reservoir } from './reservoir.js';

/** One served request, as the outcome recorder sees it. */
export interface Outcome {
  readonly status: number;
  readonly latencyMs: number;
  readonly cacheHit: boolean;
}

/** Final statuses by class; `other` is anything outside 200–599 (e.g. a 101 upgrade). */
export interface StatusCounts {
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  other: number;
}

/**
 * What happened in one time slot [start, start + bucket length) for one key (route and side):
 * counts, a latency sketch and a latency sample. Plain JSON, so an instance can publish its
 * buckets and another can merge them with its own.
 */
export interface OutcomeBucket {
  /** Start of the slot, ms since the epoch, a multiple of the bucket length (so instances agree). */
  readonly start: number;
  requests: number;
  readonly status: StatusCounts;
  cacheHits: number;
  readonly latency: QuantileSketch;
  readonly sample: Reservoir;
}

export interface BucketSettings {
  readonly sketch: Partial<SketchSettings>;
  readonly reservoirSize: number;
}

export function createBucket(start: number, settings: BucketSettings): OutcomeBucket {
  return { start, requests: 0, status: emptyStatusCounts(), cacheHits: 0, latency: createSketch(settings.sketch), sample: createReservoir(settings.reservoirSize) };
}

export function emptyStatusCounts(): StatusCounts {
  return { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 };
}

export function statusClass(status: number): keyof StatusCounts {
  if (status >= 200 && status < 300) return '2xx';
  if (status >= 300 && status < 400) return '3xx';
  if (status >= 400 && status < 500) return '4xx';
  if (status >= 500 && status < 600) return '5xx';
  return 'other';
}

/** Counts one outcome into the bucket, in place. A latency < 0 or not finite: RangeError, bucket untouched. */
export function recordOutcome(bucket: OutcomeBucket, outcome: Outcome, random: Random): void {
  recordValue(bucket.latency, outcome.latencyMs); // first: it validates before it changes anything
  bucket.requests++;
  bucket.status[statusClass(outcome.status)]++;
  if (outcome.cacheHit) bucket.cacheHits++;
  offerValue(bucket.sample, outcome.latencyMs, random);
}

/**
 * Buckets of the same slot from several instances, as one. Counts and sketches add exactly;
 * the samples merge proportionally into a reservoir of the first bucket's size (see
 * `mergeReservoirs`). Throws RangeError if the slots differ.
 */
export function mergeBuckets(buckets: readonly OutcomeBucket[], random: Random): OutcomeBucket {
  const first = buckets[0];
  if (first === undefined) throw new RangeError('mergeBuckets needs at least one bucket');
  if (buckets.some((b) => b.start !== first.start)) throw new RangeError('only buckets of the same slot merge');
  return {
    start: first.start,
    requests: sum(buckets, (b) => b.requests),
    status: addStatusCounts(buckets.map((b) => b.status)),
    cacheHits: sum(buckets, (b) => b.cacheHits),
    latency: mergeSketches(buckets.map((b) => b.latency)),
    sample: mergeReservoirs(buckets.map((b) => b.sample), first.sample.capacity, random),
  };
}

export function addStatusCounts(counts: readonly StatusCounts[]): StatusCounts {
  const total = emptyStatusCounts();
  for (const c of counts) for (const k of Object.keys(total) as (keyof StatusCounts)[]) total[k] += c[k];
  return total;
}

export function totalCount(counts: StatusCounts): number {
  return counts['2xx'] + counts['3xx'] + counts['4xx'] + counts['5xx'] + counts.other;
}

export function cloneBucket(bucket: OutcomeBucket): OutcomeBucket {
  return { ...bucket, status: { ...bucket.status }, latency: cloneSketch(bucket.latency), sample: cloneReservoir(bucket.sample) };
}

/** Checks JSON from elsewhere (another instance's buckets in Redis): a valid bucket, or null. */
export function parseBucket(value: unknown): OutcomeBucket | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const status = parseStatusCounts(v['status']);
  const latency = parseSketch(v['latency']);
  const sample = parseReservoir(v['sample']);
  const { start, requests, cacheHits } = v;
  if (status === null || latency === null || sample === null || !Number.isFinite(start) || !isCount(requests) || !isCount(cacheHits)) return null;
  if (totalCount(status) !== requests || latency.count !== requests || sample.seen !== requests || cacheHits > requests) return null;
  return { start: start as number, requests, status, cacheHits, latency, sample };
}

function parseStatusCounts(value: unknown): StatusCounts | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const counts = emptyStatusCounts();
  for (const k of Object.keys(counts) as (keyof StatusCounts)[]) {
    const c = v[k];
    if (!isCount(c)) return null;
    counts[k] = c;
  }
  return counts;
}

function isCount(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0;
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((n, item) => n + of(item), 0);
}
