import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How busy this process's event loop has been lately, in [0, 1]: the fraction of the last window
 * it spent running code rather than waiting for I/O. Shadow calls are skipped while it is above
 * `settings.shadow.maxEventLoopUtilization`, so mirroring only ever uses CPU clients leave idle.
 * Re-sampled at most once per window, so asking costs a clock read.
 */
export function createLoopUtilization(
  options: { readonly windowMs?: number; readonly now?: () => number; readonly sample?: (previous?: EventLoopUtilization) => EventLoopUtilization } = {},
): () => number {
  const windowMs = options.windowMs ?? 100;
  const now = options.now ?? (() => performance.now());
  const sample = options.sample ?? ((previous?: EventLoopUtilization) => performance.eventLoopUtilization(previous));
  let mark = sample();
  let markedAt = now();
  let latest = 0;
  return () => {
    const at = now();
    if (at - markedAt >= windowMs) {
      const current = sample();
      const utilization = sample(mark).utilization;
      // A window with no time in it (a paused process) says nothing: keep the last reading.
      if (Number.isFinite(utilization)) latest = utilization;
      mark = current;
      markedAt = at;
    }
    return latest;
  };
}
