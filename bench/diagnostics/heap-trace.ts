// A diagnostic preload, not part of any run by default:
// SWITCHYARD_PRELOAD=$PWD/bench/diagnostics/heap-trace.ts HEAP_TRACE_DIR=/tmp/trace npm run soak -- --minutes 4
// (bench/chaos/cluster.ts loads it into the Switchyard processes only). Every Switchyard process (src/main.ts or
// dist/src/main.js) then writes one JSON line every 2 s to HEAP_TRACE_DIR/<pid>.jsonl: RSS, each
// V8 heap space's used/size, and the full (mark-compact) GCs since the last line with their
// pause, so an old-space excursion can be told from a leak (fill rate vs what a full GC frees).
// HEAP_TRACE_PROFILE=FROM-TO (seconds) also writes <pid>.heapprofile: a sampling heap profile of
// the objects allocated in that span that survived the young generation (live at the end, or
// freed only by a full GC) — what fills the old space, by allocating stack. HEAP_TRACE_GC=1 turns on
// V8's GC trace (--trace-gc-verbose) in those processes.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';

const dir = process.env.HEAP_TRACE_DIR;
const script = process.argv[1] ?? '';
if (dir !== undefined && /main\.(ts|js)$/.test(script)) {
  mkdirSync(dir, { recursive: true });
  // V8's own account of each GC (growing factor, limits) on the process's stdout.
  if (process.env.HEAP_TRACE_GC === '1') v8.setFlagsFromString('--trace-gc --trace-gc-verbose');
  const file = join(dir, `${process.pid}.jsonl`);
  const started = Date.now();
  let majors: number[] = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (((e as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors.push(Math.round(e.duration * 10) / 10);
  }).observe({ entryTypes: ['gc'] });
  const span = /^(\d+)-(\d+)$/.exec(process.env.HEAP_TRACE_PROFILE ?? '');
  if (span !== null) {
    const session = new Session();
    session.connect();
    const post = (method: string, params?: object): Promise<unknown> =>
      new Promise((resolve, reject) => session.post(method, params, (error: Error | null, result: unknown) => (error === null ? resolve(result) : reject(error))));
    setTimeout(() => void post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: false }), Number(span[1]) * 1000).unref();
    setTimeout(() => {
      void (async () => {
      const { profile } = (await post('HeapProfiler.stopSampling')) as { profile: unknown };
      writeFileSync(join(dir, `${process.pid}.heapprofile`), JSON.stringify(profile));
      })();
    }, Number(span[2]) * 1000).unref();
  }
  const mb = (n: number): number => Math.round(n / 1e5) / 10;
  setInterval(() => {
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), [mb(s.space_used_size), mb(s.space_size)]]));
    appendFileSync(file, `${JSON.stringify({ s: Math.round((Date.now() - started) / 1000), rss: mb(process.memoryUsage.rss()), spaces, majors })}\n`);
    majors = [];
  }, 2000).unref();
}
