import { addStatusCounts, cloneBucket, createBucket, recordOutcome, type Outcome, type OutcomeBucket, type StatusCounts } from './outcome-bucket.js';
import { mergeSketches, sketchQuantile, type QuantileSketch, type SketchSettings } from './quantile-sketch.js';
import { mergeReservoirs, type Random, type Reservoir } from './reservoir.js';

/**
 * Sliding, time-bucketed outcome windows per key (the caller's choice, e.g. route + side):
 * requests land in the bucket of their time slot, buckets older than the retention are dropped,
 * and a window query merges the buckets it covers. The clock and the random source are injected,
 * so nothing here reads the time or `Math.random` itself.
 *
 * Memory per key is bounded: at most ⌈retention / bucket⌉ + 1 buckets, each a sketch of at most
 * `sketch.maxBins` counts and a reservoir of at most `reservoirSize` latencies (defaults: 91
 * buckets × (~300 bins in practice + 128 latencies)).
 */
export interface WindowSettings {
  /** Length of a bucket (slot), ms. Default 10 s. */
  readonly bucketMs: number;
  /** How long buckets are kept, ms; the longest window that can be asked for. Default 15 min. */
  readonly retentionMs: number;
  /** Raw latencies kept per bucket for rank tests. Default 128. */
  readonly reservoirSize: number;
  readonly sketch: Partial<SketchSettings>;
}

export const WINDOW_DEFAULTS: WindowSettings = { bucketMs: 10_000, retentionMs: 15 * 60_000, reservoirSize: 128, sketch: {} };

/** How many latencies a window's merged sample holds at most, unless asked otherwise. */
export const DEFAULT_SAMPLE_SIZE = 1000;

export interface WindowDependencies {
  /** Wall-clock ms since the epoch (slots are aligned to it, so instances' buckets line up). */
  readonly now: () => number;
  readonly random: Random;
}

/** A window's merged outcomes. */
export interface WindowSummary {
  /** Start of the earliest slot covered, and the query time: the window is [fromMs, toMs]. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly requests: number;
  readonly status: StatusCounts;
  readonly cacheHits: number;
  /** 5xx responses / requests (4xx are the client's); null without requests. */
  readonly errorRate: number | null;
  /** From the merged sketch, each within its relative accuracy; null without requests. */
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly mean: number } | null;
  readonly sketch: QuantileSketch;
  /** A sample of the window's latencies in which every request had the same chance (see `mergeReservoirs`). */
  readonly sample: Reservoir;
}

export interface WindowQuery {
  readonly nowMs: number;
  readonly windowMs: number;
  readonly bucketMs: number;
  /** At most this many latencies in the merged sample; default DEFAULT_SAMPLE_SIZE. */
  readonly sampleSize?: number;
  readonly random: Random;
}

export class OutcomeWindows {
  private readonly settings: WindowSettings;
  private readonly series = new Map<string, OutcomeBucket[]>();

  constructor(
    private readonly deps: WindowDependencies,
    settings: Partial<WindowSettings> = {},
  ) {
    this.settings = { ...WINDOW_DEFAULTS, ...settings };
    const { bucketMs, retentionMs } = this.settings;
    if (!(Number.isInteger(bucketMs) && bucketMs > 0)) throw new RangeError(`bucketMs must be a positive integer, got ${bucketMs}`);
    if (!(retentionMs >= bucketMs)) throw new RangeError(`retentionMs (${retentionMs}) must be at least bucketMs (${bucketMs})`);
    createBucket(0, this.bucketSettings()); // validates the sketch and reservoir settings up front
  }

  get bucketMs(): number {
    return this.settings.bucketMs;
  }

  get retentionMs(): number {
    return this.settings.retentionMs;
  }

  /** Counts one served request for `key` at the current time; returns the start of the slot it landed in. */
  record(key: string, outcome: Outcome): number {
    const now = this.deps.now();
    let buckets = this.series.get(key);
    if (buckets === undefined) {
      buckets = [];
      this.series.set(key, buckets);
    }
    this.dropExpired(buckets, now);
    const start = slotStart(now, this.settings.bucketMs);
    recordOutcome(this.bucketAt(buckets, start), outcome, this.deps.random);
    return start;
  }

  /**
   * The unexpired buckets of `key` whose slot starts at or after `fromStart` (all of them by
   * default), oldest first, as copies (to publish to other instances).
   */
  buckets(key: string, fromStart = Number.NEGATIVE_INFINITY): OutcomeBucket[] {
    return this.view(key)
      .filter((b) => b.start >= fromStart)
      .map(cloneBucket);
  }

  /**
   * The unexpired buckets of `key`, oldest first, not copied: for a query that only reads them
   * before it yields (a window summary), where copying 91 sketches and reservoirs per series
   * on every autopilot evaluation was most of what it allocated.
   */
  view(key: string): readonly OutcomeBucket[] {
    const buckets = this.series.get(key) ?? [];
    this.dropExpired(buckets, this.deps.now());
    return buckets;
  }

  /** Keys that have buckets (possibly expired until the next `prune`). */
  keys(): string[] {
    return [...this.series.keys()];
  }

  /** Drops expired buckets of every key, and keys left with none; call it now and then. */
  prune(): void {
    const now = this.deps.now();
    for (const [key, buckets] of this.series) {
      this.dropExpired(buckets, now);
      if (buckets.length === 0) this.series.delete(key);
    }
  }

  /**
   * This process's window of the last `windowMs` for `key` (see `summarizeWindow`). Throws
   * RangeError for a window longer than the retention, whose start would silently be missing.
   */
  summary(key: string, windowMs: number, sampleSize = DEFAULT_SAMPLE_SIZE): WindowSummary {
    if (windowMs > this.settings.retentionMs) throw new RangeError(`window ${windowMs} ms is longer than the retention (${this.settings.retentionMs} ms)`);
    const buckets = this.series.get(key) ?? [];
    return summarizeWindow(buckets, { nowMs: this.deps.now(), windowMs, bucketMs: this.settings.bucketMs, sampleSize, random: this.deps.random });
  }

  private bucketSettings() {
    return { sketch: this.settings.sketch, reservoirSize: this.settings.reservoirSize };
  }

  /** The bucket of slot `start`, created in order (normally at the end; earlier if the clock stepped back). */
  private bucketAt(buckets: OutcomeBucket[], start: number): OutcomeBucket {
    let i = buckets.length - 1;
    while (i >= 0 && (buckets[i] as OutcomeBucket).start > start) i--;
    const found = buckets[i];
    if (found !== undefined && found.start === start) return found;
    const bucket = createBucket(start, this.bucketSettings());
    buckets.splice(i + 1, 0, bucket);
    return bucket;
  }

  private dropExpired(buckets: OutcomeBucket[], now: number): void {
    const oldestKept = now - this.settings.retentionMs;
    let expired = 0;
    while (expired < buckets.length && (buckets[expired] as OutcomeBucket).start + this.settings.bucketMs <= oldestKept) expired++;
    if (expired > 0) buckets.splice(0, expired);
  }
}

/**
 * Merges the buckets that a window of the last `windowMs` covers — from this process or from
 * several instances at once (buckets of the same slot simply add up). The window is the current
 * slot plus the ⌈windowMs / bucketMs⌉ − 1 before it, so it spans between windowMs − bucketMs and
 * windowMs of real time; `fromMs` says where it starts. Buckets of later slots (another
 * instance's clock running ahead) are included rather than lost.
 */
export function summarizeWindow(buckets: readonly OutcomeBucket[], query: WindowQuery): WindowSummary {
  const { nowMs, windowMs, bucketMs, random } = query;
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`);
  const slots = Math.ceil(windowMs / bucketMs);
  const fromMs = slotStart(nowMs, bucketMs) - (slots - 1) * bucketMs;
  const covered = buckets.filter((b) => b.start >= fromMs);
  const requests = covered.reduce((n, b) => n + b.requests, 0);
  const status = addStatusCounts(covered.map((b) => b.status));
  const sketch = mergeSketches(covered.map((b) => b.latency));
  return {
    fromMs,
    toMs: nowMs,
    requests,
    status,
    cacheHits: covered.reduce((n, b) => n + b.cacheHits, 0),
    errorRate: requests === 0 ? null : status['5xx'] / requests,
    latencyMs: latencySummary(sketch),
    sketch,
    sample: mergeReservoirs(covered.map((b) => b.sample), query.sampleSize ?? DEFAULT_SAMPLE_SIZE, random),
  };
}

/** Start of the slot that contains `ms`. */
export function slotStart(ms: number, bucketMs: number): number {
  return Math.floor(ms / bucketMs) * bucketMs;
}

function latencySummary(sketch: QuantileSketch): WindowSummary['latencyMs'] {
  const [p50, p95, p99] = [0.5, 0.95, 0.99].map((q) => sketchQuantile(sketch, q));
  if (p50 == null || p95 == null || p99 == null) return null;
  return { p50, p95, p99, mean: sketch.sum / sketch.count };
}
