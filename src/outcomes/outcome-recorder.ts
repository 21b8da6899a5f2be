import type { Logger } from '../logging/logger.js';
import type { RequestObserver } from '../pipeline/routed-request.js';
import type { OutcomeBucket, StatusCounts } from '../stats/outcome-bucket.js';
import { OutcomeWindows, slotStart, summarizeWindow, WINDOW_DEFAULTS, type WindowSettings, type WindowSummary } from '../stats/outcome-windows.js';
import type { Random } from '../stats/reservoir.js';
import type { OutcomeStore, OutcomeUpdate } from './outcome-store.js';
import { timelineSlots, type RouteTimeline } from './outcome-timeline.js';

/** The three series kept per route: what each side served, and the shadow comparisons. */
export type OutcomeSeries = 'legacy' | 'new' | 'shadow';

export interface SideOutcomes {
  readonly requests: number;
  readonly status: StatusCounts;
  /** 5xx / requests; null without requests. */
  readonly errorRate: number | null;
  readonly cacheHits: number;
  readonly latencyMs: WindowSummary['latencyMs'];
}

export interface RouteOutcomes {
  readonly route: string;
  readonly window: { readonly ms: number; readonly from: string; readonly to: string };
  /** `fleet`: every instance publishing to Redis; `this-process`: this one only (no Redis, or it failed). */
  readonly scope: 'fleet' | 'this-process';
  /** Why the answer is this process only although Redis is configured. */
  readonly degraded?: string;
  /** Instances whose buckets are in the answer. */
  readonly instances: number;
  readonly sides: { readonly legacy: SideOutcomes; readonly new: SideOutcomes };
  readonly shadow: { readonly compared: number; readonly mismatched: number; readonly mismatchRate: number | null };
}

export interface OutcomeRecorderOptions {
  readonly now: () => number;
  readonly random: Random;
  readonly logger: Logger;
  /** Null: this process only. */
  readonly store: OutcomeStore | null;
  /** This instance's id among those publishing to the store. */
  readonly instance: string;
  readonly publishEveryMs?: number;
  readonly windows?: Partial<WindowSettings>;
}

/**
 * Records every served request's outcome per route and side — status class, latency, cache hit —
 * in sliding windows (10 s buckets for 15 minutes, with a latency sketch and a raw reservoir for
 * rank tests), plus the shadow comparisons. With a store, this instance publishes its buckets
 * every couple of seconds and a query merges every instance's; without one, or when the store
 * fails, the answer says it is this process only. Recording is in memory and never waits.
 */
export class OutcomeRecorder {
  private readonly windows: OutcomeWindows;
  private readonly settings: WindowSettings;
  /** Series recorded since their last publish → the earliest slot start that changed. */
  private readonly dirty = new Map<string, number>();
  /** Series published → what the next publish of each builds on. */
  private readonly published = new Map<string, PublishedSeries>();
  private readonly keys = new Map<string, Readonly<Record<OutcomeSeries, string>>>();
  private timer: NodeJS.Timeout | undefined;
  private publishing: Promise<void> = Promise.resolve();

  constructor(private readonly options: OutcomeRecorderOptions) {
    this.settings = { ...WINDOW_DEFAULTS, ...options.windows };
    this.windows = new OutcomeWindows({ now: options.now, random: options.random }, this.settings);
  }

  get retentionMs(): number {
    return this.settings.retentionMs;
  }

  get bucketMs(): number {
    return this.settings.bucketMs;
  }

  observer(): RequestObserver {
    return {
      name: 'outcomes',
      onResponse: (routed, outcome) =>
        this.record(routed.route.name, outcome.side, { status: outcome.status, latencyMs: outcome.durationMs, cacheHit: outcome.cache === 'HIT' || outcome.cache === 'STALE' }),
    };
  }

  /** A shadow comparison of `route`: a mismatch counts in the shadow series' error class. */
  recordComparison(route: string, matched: boolean): void {
    this.record(route, 'shadow', { status: matched ? 200 : 500, latencyMs: 0, cacheHit: false });
  }

  private record(route: string, series: OutcomeSeries, outcome: { status: number; latencyMs: number; cacheHit: boolean }): void {
    const key = this.keyOf(route, series);
    const start = this.windows.record(key, outcome);
    const from = this.dirty.get(key);
    if (from === undefined || start < from) this.dirty.set(key, start);
  }

  /**
   * The series key, built once per route and series: on every request a fresh string would be
   * encoded, concatenated and hashed again by both maps it is looked up in. Bounded by the routes
   * that served (a route removed by a reload keeps its few bytes until the process restarts).
   */
  private keyOf(route: string, series: OutcomeSeries): string {
    let keys = this.keys.get(route);
    if (keys === undefined) {
      keys = { legacy: seriesKey(route, 'legacy'), new: seriesKey(route, 'new'), shadow: seriesKey(route, 'shadow') };
      this.keys.set(route, keys);
    }
    return keys[series];
  }

  /** Starts publishing to the store (no-op without one). */
  start(): void {
    if (this.options.store === null || this.timer !== undefined) return;
    this.timer = setInterval(() => void this.publish(), this.options.publishEveryMs ?? 2000);
    this.timer.unref();
  }

  /**
   * Publishes every series that changed since the last publish. Only the slots that changed are
   * written (normally the current one) and the slot that fell out of the retention is deleted
   * by name: rewriting every retained bucket of a busy series every round (91 sketches and
   * reservoirs as JSON) was most of what a quiet instance promoted to V8's old space. The whole
   * series is written the first time, after a failure, when the store says it had lost the series
   * (a restarted or flushed Redis), and every `COMPLETE_EVERY` rounds as a last resort.
   */
  publish(): Promise<void> {
    const store = this.options.store;
    if (store === null) return Promise.resolve();
    this.publishing = this.publishing.then(async () => {
      const dirty = [...this.dirty];
      this.dirty.clear();
      const firstKept = slotStart(this.options.now() - this.settings.retentionMs, this.settings.bucketMs);
      for (const [key, from] of dirty) {
        const update = this.updateOf(key, from, firstKept);
        try {
          const existed = await store.publish(this.options.instance, key, update, this.settings.retentionMs);
          const before = this.published.get(key);
          if (!existed && !update.complete) {
            // The store lost the series (a restarted or flushed Redis): the next round writes it whole.
            this.published.delete(key);
            this.dirty.set(key, Math.min(from, this.dirty.get(key) ?? from));
          } else this.published.set(key, { firstKept, partials: update.complete || before === undefined ? 0 : before.partials + 1 });
        } catch (error) {
          // The next round writes the whole series: what this one did not is still in memory.
          this.published.delete(key);
          this.dirty.set(key, Math.min(from, this.dirty.get(key) ?? from));
          this.options.logger.debug('publishing outcomes failed', { series: key, cause: error instanceof Error ? error.message : String(error) });
        }
      }
    });
    return this.publishing;
  }

  private updateOf(key: string, from: number, firstKept: number): OutcomeUpdate {
    const last = this.published.get(key);
    const bucketMs = this.settings.bucketMs;
    const expiredSlots = last === undefined ? Number.POSITIVE_INFINITY : (firstKept - last.firstKept) / bucketMs;
    if (last === undefined || last.partials + 1 >= COMPLETE_EVERY || expiredSlots > this.settings.retentionMs / bucketMs + 1) {
      return { buckets: this.windows.buckets(key), complete: true, expired: [] };
    }
    const expired: number[] = [];
    for (let start = last.firstKept; start < firstKept; start += bucketMs) expired.push(start);
    return { buckets: this.windows.buckets(key, from), complete: false, expired };
  }

  /** This instance's buckets of one series, plus every other instance's when a store is configured. */
  private async bucketsOf(route: string, series: OutcomeSeries): Promise<{ buckets: OutcomeBucket[]; scope: RouteOutcomes['scope']; degraded?: string; instances: number }> {
    const key = seriesKey(route, series);
    // Not copied: the caller summarises them before it yields (see OutcomeWindows.view).
    const local = () => [...this.windows.view(key)];
    const store = this.options.store;
    if (store === null) return { buckets: local(), scope: 'this-process', instances: 1 };
    try {
      const published = await store.read(key);
      // This instance's own buckets come from memory (fresher than what it last published).
      const others = published.filter((p) => p.instance !== this.options.instance);
      return { buckets: [...local(), ...others.map((p) => p.bucket)], scope: 'fleet', instances: 1 + new Set(others.map((p) => p.instance)).size };
    } catch (error) {
      return { buckets: local(), scope: 'this-process', degraded: `outcome store (${store.kind}) failed: ${error instanceof Error ? error.message : String(error)}`, instances: 1 };
    }
  }

  /** The window summary of one series (with its latency sample), fleet-wide when a store is configured. */
  async series(route: string, series: OutcomeSeries, windowMs: number): Promise<{ summary: WindowSummary; scope: RouteOutcomes['scope']; degraded?: string; instances: number }> {
    const { buckets, ...rest } = await this.bucketsOf(route, series);
    const query = { nowMs: this.options.now(), windowMs, bucketMs: this.settings.bucketMs, random: this.options.random };
    return { summary: summarizeWindow(buckets, query), ...rest };
  }

  /** One point per bucket slot over the window, per side and for the shadow comparisons: what a chart draws. */
  async timeline(route: string, windowMs: number): Promise<RouteTimeline> {
    const [legacy, fresh, shadow] = await Promise.all((['legacy', 'new', 'shadow'] as const).map((s) => this.bucketsOf(route, s)));
    const bucketMs = this.settings.bucketMs;
    const slots = timelineSlots({ legacy: legacy!.buckets, new: fresh!.buckets, shadow: shadow!.buckets }, this.options.now(), windowMs, bucketMs);
    const degraded = legacy!.degraded ?? fresh!.degraded ?? shadow!.degraded;
    return { route, bucketMs, scope: degraded === undefined ? legacy!.scope : 'this-process', ...(degraded === undefined ? {} : { degraded }), points: slots };
  }

  /** Per side: requests, status classes, error rate, p50/p95/p99, cache hits; and the shadow mismatch rate. */
  async route(route: string, windowMs: number): Promise<RouteOutcomes> {
    const [legacy, fresh, shadow] = await Promise.all([this.series(route, 'legacy', windowMs), this.series(route, 'new', windowMs), this.series(route, 'shadow', windowMs)]);
    const degraded = legacy.degraded ?? fresh.degraded ?? shadow.degraded;
    const compared = shadow.summary.requests;
    const mismatched = shadow.summary.status['5xx'];
    return {
      route,
      window: { ms: windowMs, from: new Date(legacy.summary.fromMs).toISOString(), to: new Date(legacy.summary.toMs).toISOString() },
      scope: degraded === undefined ? legacy.scope : 'this-process',
      ...(degraded === undefined ? {} : { degraded }),
      instances: Math.max(legacy.instances, fresh.instances, shadow.instances),
      sides: { legacy: sideOf(legacy.summary), new: sideOf(fresh.summary) },
      shadow: { compared, mismatched, mismatchRate: compared === 0 ? null : mismatched / compared },
    };
  }

  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.publish().catch(() => {});
    await this.options.store?.close();
  }
}

/**
 * A series is written whole at least every this many publishes of it (5 minutes at the default
 * 2 s): a lost series is noticed at once, so this only bounds what nothing else would catch.
 */
const COMPLETE_EVERY = 150;

interface PublishedSeries {
  /** The first slot kept at that publish: slots before it were deleted (or never published). */
  readonly firstKept: number;
  /** Partial publishes since the last complete one. */
  readonly partials: number;
}

function sideOf(s: WindowSummary): SideOutcomes {
  return { requests: s.requests, status: s.status, errorRate: s.errorRate, cacheHits: s.cacheHits, latencyMs: s.latencyMs };
}

function seriesKey(route: string, series: OutcomeSeries): string {
  return `${encodeURIComponent(route)}:${series}`;
}
