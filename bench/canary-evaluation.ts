/**
 * The autopilot's cost (issue 11), in-process, no network:
 *
 * - one evaluation of 20 routes with full windows: per route both sides' 15-minute windows (91
 *   buckets of 10 s, each with its latency sketch and a full 128-latency reservoir) merged, and the
 *   evaluator run on them with 20 shadow fields — what the leader does per interval;
 * - the per-request cost of the outcome recording the gates read. An active run adds nothing per
 *   request (the controller only reads the windows at its interval), so this is the whole extra.
 *
 * `tsx bench/canary-evaluation.ts` on its own, or as part of `npm run bench`.
 */
import { performance } from 'node:perf_hooks';
import { evaluateStage, type SideSample } from '../src/canary/canary-evaluator.js';
import { CANARY_POLICY_DEFAULTS } from '../src/config/defaults.js';
import { DIFFY_THRESHOLDS } from '../src/shadow/noise-filter.js';
import { OutcomeWindows, summarizeWindow, type WindowSummary } from '../src/stats/outcome-windows.js';
import { seededRandom } from '../src/stats/seeded-random.js';

const ROUTES = 20;
const BUCKET_MS = 10_000;
const RETENTION_MS = 15 * 60_000;
const PER_BUCKET = 300;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function side(summary: WindowSummary): SideSample {
  return { requests: summary.requests, errors: summary.status['5xx'], latencies: summary.sample.values, p99: summary.latencyMs?.p99 ?? null };
}

export function measureCanary(iterations = 30): { evaluationMs: number; recordNs: number; buckets: number } {
  const random = seededRandom(11);
  let now = 0;
  const windows = new OutcomeWindows({ now: () => now, random }, { bucketMs: BUCKET_MS, retentionMs: RETENTION_MS });
  // Fill every route's two series over the whole retention.
  for (let t = 0; t < RETENTION_MS; t += BUCKET_MS) {
    now = t;
    for (let r = 0; r < ROUTES; r++) {
      for (let i = 0; i < PER_BUCKET; i++) {
        windows.record(`r${r}:legacy`, { status: random() < 0.002 ? 500 : 200, latencyMs: 5 + 20 * random(), cacheHit: false });
        windows.record(`r${r}:new`, { status: random() < 0.002 ? 500 : 200, latencyMs: 5 + 21 * random(), cacheHit: false });
      }
    }
  }
  const fields = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`/items/*/f${i}`, { raw: i * 3, noise: i }]));
  const shadow = { compared: 50_000, mismatched: 400, noiseSamples: 5000, fields };
  const query = { nowMs: now, windowMs: RETENTION_MS, bucketMs: BUCKET_MS, random };
  const evaluateAll = (): void => {
    for (let r = 0; r < ROUTES; r++) {
      const legacy = summarizeWindow(windows.buckets(`r${r}:legacy`), query);
      const fresh = summarizeWindow(windows.buckets(`r${r}:new`), query);
      evaluateStage({
        now,
        policy: CANARY_POLICY_DEFAULTS,
        stage: { kind: 'step', index: 3, percentage: 25 },
        next: 50,
        stageStartedAt: 0,
        samplesMetAt: 0,
        sequential: {},
        knownFields: [],
        shadow,
        sides: { legacy: side(legacy), new: side(fresh) },
        noise: DIFFY_THRESHOLDS,
      });
    }
  };
  evaluateAll(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const started = performance.now();
    evaluateAll();
    times.push(performance.now() - started);
  }
  // Recording, as the outcome observer does it for every response.
  const records = 200_000;
  const started = performance.now();
  for (let i = 0; i < records; i++) windows.record('r0:new', { status: 200, latencyMs: 5 + (i % 20), cacheHit: false });
  const recordNs = ((performance.now() - started) * 1e6) / records;
  return { evaluationMs: median(times), recordNs, buckets: windows.buckets('r0:legacy').length };
}

/** Markdown for bench/results/latest.md. */
export function canaryEvaluationReport(): string {
  const m = measureCanary();
  return [
    '| autopilot | figure |',
    '|---|---:|',
    `| one evaluation of ${ROUTES} routes, full 15-min windows (${m.buckets} buckets × 2 sides, 1000-latency samples, 20 shadow fields) | ${m.evaluationMs.toFixed(1)} ms (median of 30) |`,
    `| outcome recording per request (the gates' data; an active run adds no per-request work) | ${m.recordNs.toFixed(0)} ns |`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(canaryEvaluationReport());
