import type { OutcomeBucket } from '../stats/outcome-bucket.js';
import { slotStart } from '../stats/outcome-windows.js';
import { mergeSketches, sketchQuantile } from '../stats/quantile-sketch.js';

export interface TimelineSide {
  readonly requests: number;
  readonly errors: number;
  readonly cacheHits: number;
  /** null in a slot without requests. */
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
}

export interface TimelinePoint {
  /** Start of the slot, ms since the epoch. */
  readonly at: number;
  readonly legacy: TimelineSide;
  readonly new: TimelineSide;
  readonly shadow: { readonly compared: number; readonly mismatched: number };
}

export interface RouteTimeline {
  readonly route: string;
  readonly bucketMs: number;
  readonly scope: 'fleet' | 'this-process';
  readonly degraded?: string;
  readonly points: readonly TimelinePoint[];
}

/**
 * Buckets of several instances (slot-aligned, so equal starts add up) → one point per slot of
 * the window, oldest first, empty slots included so a chart's x axis is even. Pure.
 */
export function timelineSlots(series: { legacy: readonly OutcomeBucket[]; new: readonly OutcomeBucket[]; shadow: readonly OutcomeBucket[] }, nowMs: number, windowMs: number, bucketMs: number): TimelinePoint[] {
  const count = Math.max(1, Math.ceil(windowMs / bucketMs));
  const last = slotStart(nowMs, bucketMs);
  const points: TimelinePoint[] = [];
  for (let i = count - 1; i >= 0; i--) {
    const at = last - i * bucketMs;
    const shadow = series.shadow.filter((b) => b.start === at);
    points.push({
      at,
      legacy: sideAt(series.legacy, at),
      new: sideAt(series.new, at),
      shadow: { compared: shadow.reduce((n, b) => n + b.requests, 0), mismatched: shadow.reduce((n, b) => n + b.status['5xx'], 0) },
    });
  }
  return points;
}

function sideAt(buckets: readonly OutcomeBucket[], at: number): TimelineSide {
  const slot = buckets.filter((b) => b.start === at);
  const sketch = mergeSketches(slot.map((b) => b.latency));
  const round = (v: number | null) => (v === null ? null : Math.round(v * 100) / 100);
  return {
    requests: slot.reduce((n, b) => n + b.requests, 0),
    errors: slot.reduce((n, b) => n + b.status['5xx'], 0),
    cacheHits: slot.reduce((n, b) => n + b.cacheHits, 0),
    p50: round(sketchQuantile(sketch, 0.5)),
    p95: round(sketchQuantile(sketch, 0.95)),
    p99: round(sketchQuantile(sketch, 0.99)),
  };
}
