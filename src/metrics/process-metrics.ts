import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MetricFamily } from './prometheus-text.js';

/** Event-loop delay quantiles of one completed window, in seconds. */
interface DelayWindow {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

const NS_PER_S = 1e9;
/** Long enough for stable quantiles, short enough that a scrape every 10–30 s sees recent trouble. */
const DEFAULT_WINDOW_MS = 10_000;

/**
 * The process's own health for Prometheus: resident memory, V8 heap, and event-loop delay.
 * The delay is measured by Node's sampling histogram and reported for the last completed window
 * (rotated on a timer, not per scrape), so several scrapers see the same figures and a soak can
 * tell a drifting p99 from one bad second.
 */
export class ProcessMetrics {
  private readonly histogram = monitorEventLoopDelay({ resolution: 10 });
  private last: DelayWindow = { p50: 0, p99: 0, max: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(windowMs = DEFAULT_WINDOW_MS) {
    this.histogram.enable();
    this.timer = setInterval(() => this.rotate(), windowMs);
    this.timer.unref();
  }

  families(): MetricFamily[] {
    const memory = process.memoryUsage();
    const gauge = (name: string, help: string, value: number): MetricFamily => ({ name, help, type: 'gauge', samples: [{ labels: {}, value }] });
    return [
      gauge('process_resident_memory_bytes', 'Resident set size of this process.', memory.rss),
      gauge('nodejs_heap_used_bytes', 'V8 heap in use.', memory.heapUsed),
      gauge('nodejs_heap_total_bytes', 'V8 heap reserved.', memory.heapTotal),
      gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript (Buffers included).', memory.external),
      {
        name: 'nodejs_eventloop_delay_seconds',
        help: 'Event-loop delay over the last completed 10 s window, by quantile (1 = the maximum).',
        type: 'gauge',
        samples: [
          { labels: { quantile: '0.5' }, value: this.last.p50 },
          { labels: { quantile: '0.99' }, value: this.last.p99 },
          { labels: { quantile: '1' }, value: this.last.max },
        ],
      },
    ];
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private rotate(): void {
    const h = this.histogram;
    // An idle window has no samples: percentile() then reports 0, which is what it was.
    this.last = { p50: h.percentile(50) / NS_PER_S, p99: h.percentile(99) / NS_PER_S, max: h.max / NS_PER_S };
    h.reset();
  }
}
