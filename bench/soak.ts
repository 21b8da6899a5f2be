/**
 * `npm run soak -- --minutes 10 [--rate 150] [--no-unleash]`: steady open-loop load with every
 * feature on (two Switchyard processes, Redis cache and shared stores, shadow 100% on one route,
 * a rollout decided by a real Unleash, Prometheus metrics), no faults. Every 10 s it samples each
 * instance's RSS, V8 heap and event-loop delay (from /_switchyard/metrics) and the clients'
 * latency of that window. Passes when, after the warm-up (the first fifth, at least 1 minute):
 * - RSS stays within ±10%: each instance's RSS envelope (the highest sample of each trailing minute,
 *   soak-checks.ts — a post-GC dip that the next minute takes back is not growth) within ±10% of
 *   its median; the raw minimum and maximum are reported beside it;
 * - the heap does not grow: the median of the last third of the samples is within ±10% of the
 *   first third's (the heap saw-tooths with each GC, so it is compared as a trend);
 * - p99 does not drift: the median window p99 of the last third is at most 1.5× that of the
 *   first third (client latency and event-loop delay; 1.5×, not 1.1×: the machine is shared),
 *   and neither does each instance's CPU time per request (from /proc: what Switchyard itself
 *   spends, which contention from other work on the machine does not inflate; the load average
 *   is recorded beside it);
 * - nothing was lost or misrouted and no error reached a client.
 * Writes the samples and the verdict to bench/results/soak.md.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { analyse, summary } from './chaos/analyse.js';
import { ChaosCluster } from './chaos/cluster.js';
import { startLoad, type Outcome } from './chaos/load.js';
import { median, rssEnvelopeCheck } from './soak-checks.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const minutes = Number(argValue('--minutes') ?? 10);
const rate = Number(argValue('--rate') ?? 150);
const unleash = !process.argv.includes('--no-unleash');
if (!(minutes > 0) || !Number.isInteger(rate) || rate < 1) throw new Error('usage: npm run soak -- --minutes N [--rate R] [--no-unleash]');
const SAMPLE_MS = 10_000;

interface Sample {
  readonly atS: number;
  /** The machine's 1-minute load average (2 cores shared with other work: read latency with it). */
  readonly load: number;
  /**
   * Share of the machine's CPU time the hypervisor gave to other guests in the window (/proc/stat
   * `steal`, %): latency rises with it while nothing in Switchyard changed — read p99 with it.
   */
  readonly stealPct: number;
  /** Each instance's CPU time per request in the window: what Switchyard itself spends, whatever the contention. */
  readonly cpuMsPerRequest: number[];
  readonly rssMb: number[];
  readonly heapMb: number[];
  readonly loopP99Ms: number[];
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

async function scrape(url: string): Promise<{ rss: number; heap: number; loopP99: number }> {
  const text = await (await fetch(`${url}/_switchyard/metrics`)).text();
  const value = (pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  return {
    rss: value(/^process_resident_memory_bytes (\S+)$/m),
    heap: value(/^nodejs_heap_used_bytes (\S+)$/m),
    loopP99: value(/^nodejs_eventloop_delay_seconds\{quantile="0\.99"\} (\S+)$/m),
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
}

/** The machine's CPU times so far (/proc/stat's first line): steal and the total, in USER_HZ. */
function machineCpu(): { steal: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  return { steal: fields[7] ?? 0, total: fields.reduce((a, b) => a + b, 0) };
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

const resultsDir = join(dirname(fileURLToPath(import.meta.url)), 'results');
const log = (line: string): void => void process.stderr.write(`soak: ${line}\n`);
const cluster = await ChaosCluster.start({ unleash, log, legacyResponseTimeoutMs: 5_000 });
const samples: Sample[] = [];
let outcomes: readonly Outcome[] = [];
let records;
try {
  const load = startLoad({ urls: cluster.urls, perSecond: rate, firstId: 1 });
  const end = minutes * 60_000;
  let seen = 0;
  const pids = cluster.switchyards.map((run) => run!.pid);
  let cpuBefore = pids.map(cpuSeconds);
  let machineBefore = machineCpu();
  while (load.now() < end) {
    await delay(Math.min(SAMPLE_MS, end - load.now()));
    const stats = await Promise.all(cluster.urls.map(scrape));
    const all = load.outcomes();
    const window = all.slice(seen).filter((o) => o.status !== null);
    seen = all.length;
    const lat = summary(window.map((o) => o.doneAt - o.sentAt));
    const cpuNow = pids.map(cpuSeconds);
    // Requests alternate between the two instances: each served half of the window's.
    const cpuMsPerRequest = cpuNow.map((c, i) => Math.round(((c - cpuBefore[i]!) * 1000 * 1000) / Math.max(1, window.length / pids.length)) / 1000);
    cpuBefore = cpuNow;
    const machineNow = machineCpu();
    const stealPct = Math.round(((machineNow.steal - machineBefore.steal) * 1000) / Math.max(1, machineNow.total - machineBefore.total)) / 10;
    machineBefore = machineNow;
    const sample: Sample = {
      atS: Math.round(load.now() / 1000),
      load: Math.round(loadavg()[0]! * 10) / 10,
      stealPct,
      cpuMsPerRequest,
      rssMb: stats.map((s) => mb(s.rss)),
      heapMb: stats.map((s) => mb(s.heap)),
      loopP99Ms: stats.map((s) => Math.round(s.loopP99 * 10_000) / 10),
      requests: window.length,
      p50Ms: Math.round(lat.p50 * 10) / 10,
      p99Ms: Math.round(lat.p99 * 10) / 10,
    };
    samples.push(sample);
    log(`${sample.atS} s: load ${sample.load}, steal ${sample.stealPct}%, cpu/req ${sample.cpuMsPerRequest.join('/')} ms, rss ${sample.rssMb.join('/')} MB, heap ${sample.heapMb.join('/')} MB, loop p99 ${sample.loopP99Ms.join('/')} ms, clients p50/p99 ${sample.p50Ms}/${sample.p99Ms} ms (${sample.requests})`);
  }
  outcomes = await load.stop();
  await delay(500);
  records = await cluster.sideRecords(1);
  // What the instances logged is gone with the cluster's directory: kept when a client saw a failure.
  if (outcomes.some((o) => o.status !== 200)) {
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(join(resultsDir, 'soak-switchyard.log'), cluster.capturedOutput());
  }
} finally {
  await cluster.stop();
}

const figures = analyse(outcomes, records, { injectAt: Number.POSITIVE_INFINITY, healAt: Number.POSITIVE_INFINITY }, { allowedError: () => false });
const warmFromS = Math.max(60, (minutes * 60) / 5);
const warm = samples.filter((s) => s.atS >= warmFromS);
const warmingUp = samples.filter((s) => s.atS < warmFromS);
const third = Math.max(1, Math.floor(warm.length / 3));
const checks: { what: string; pass: boolean; detail: string }[] = [];
for (let i = 0; i < cluster.urls.length; i++) {
  const rss = warm.map((s) => s.rssMb[i]!);
  const warmUp = warmingUp.map((s) => s.rssMb[i]!);
  const envelope = rssEnvelopeCheck(rss, Math.round(60_000 / SAMPLE_MS), 0.1, warmUp);
  const rawWorst = Math.max(...rss.map((v) => Math.abs(v / median(rss) - 1)));
  checks.push({
    what: `instance ${i} RSS (its 1-minute envelope) within ±10% of its median`,
    pass: envelope.pass,
    detail: `envelope median ${envelope.median} MB, worst ${(envelope.worst * 100).toFixed(1)}%; raw samples ${Math.min(...rss)}–${Math.max(...rss)} MB (worst ${(rawWorst * 100).toFixed(1)}% from their median)`,
  });
  const heap = warm.map((s) => s.heapMb[i]!);
  const growth = median(heap.slice(-third)) / median(heap.slice(0, third)) - 1;
  checks.push({ what: `instance ${i} heap trend within ±10%`, pass: Math.abs(growth) <= 0.1, detail: `median of the first third ${median(heap.slice(0, third)).toFixed(1)} MB, of the last third ${median(heap.slice(-third)).toFixed(1)} MB (${(growth * 100).toFixed(1)}%)` });
  const cpu = warm.map((s) => s.cpuMsPerRequest[i]!);
  const cpuDrift = median(cpu.slice(-third)) / median(cpu.slice(0, third));
  checks.push({ what: `instance ${i} CPU per request does not drift`, pass: cpuDrift <= 1.5, detail: `median ${round3(median(cpu.slice(0, third)))} → ${round3(median(cpu.slice(-third)))} ms (×${cpuDrift.toFixed(2)})` });
  const loop = warm.map((s) => s.loopP99Ms[i]!);
  const loopDrift = median(loop.slice(-third)) / median(loop.slice(0, third));
  checks.push({ what: `instance ${i} event-loop delay p99 does not drift`, pass: loopDrift <= 1.5, detail: `median window p99 ${round3(median(loop.slice(0, third)))} → ${round3(median(loop.slice(-third)))} ms (×${loopDrift.toFixed(2)})` });
}
const p99 = warm.map((s) => s.p99Ms);
const drift = median(p99.slice(-third)) / median(p99.slice(0, third));
const loads = warm.map((s) => s.load);
const steals = warm.map((s) => s.stealPct);
checks.push({ what: 'client p99 does not drift', pass: drift <= 1.5, detail: `median window p99 ${round3(median(p99.slice(0, third)))} → ${round3(median(p99.slice(-third)))} ms (×${drift.toFixed(2)}); machine load average meanwhile ${round3(median(loads.slice(0, third)))} → ${round3(median(loads.slice(-third)))}, CPU steal ${round3(median(steals.slice(0, third)))} → ${round3(median(steals.slice(-third)))}%` });
checks.push({
  what: 'nothing lost or misrouted, no error reached a client',
  pass: figures.lost === 0 && figures.misrouted === 0 && figures.errors.length === 0,
  detail: `${figures.sent} sent; ${Object.entries(figures.byStatus).map(([s, n]) => `${s}: ${n}`).join(', ')}; lost ${figures.lost}; misrouted ${figures.misrouted}${figures.misroutedExamples.length > 0 ? ` (${figures.misroutedExamples.join(' | ')})` : ''}${failedExamples(outcomes)}`,
});

const verdict = checks.every((c) => c.pass) ? 'PASS' : 'FAIL';
const table = [
  '| t (s) | load avg | steal % | CPU ms/req (a/b) | RSS MB (a/b) | heap MB (a/b) | loop p99 ms (a/b) | requests | client p50 / p99 ms |',
  '|---:|---:|---:|---|---|---|---|---:|---|',
  ...samples.map((s) => `| ${s.atS} | ${s.load} | ${s.stealPct} | ${s.cpuMsPerRequest.join(' / ')} | ${s.rssMb.join(' / ')} | ${s.heapMb.join(' / ')} | ${s.loopP99Ms.join(' / ')} | ${s.requests} | ${s.p50Ms} / ${s.p99Ms} |`),
].join('\n');
const report = `Soak ${new Date().toISOString()}: ${minutes} min at ${rate} req/s, ${unleash ? 'Unleash on' : 'no Unleash'}; ${verdict}\n\n${checks.map((c) => `- ${c.pass ? 'pass' : 'FAIL'}: ${c.what} — ${c.detail}`).join('\n')}\n\n${table}\n`;
mkdirSync(resultsDir, { recursive: true });
writeFileSync(join(resultsDir, 'soak.md'), report);
process.stdout.write(report);
if (verdict !== 'PASS') process.exitCode = 1;

/** Three decimals: a median of two samples printed as 1.6400000000000001 otherwise. */
function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The first few requests that did not get a 200, each with enough to find it in the logs. */
function failedExamples(all: readonly Outcome[]): string {
  const failed = all.filter((o) => o.status !== 200);
  if (failed.length === 0) return '';
  const shown = failed.slice(0, 10).map((o) => `${o.path} at ${(o.sentAt / 1000).toFixed(1)} s on instance ${o.instance} → ${o.status ?? 'no answer'} ${o.error ?? ''}${o.retried ? ` (retried after ${o.firstError})` : ''}`.trim());
  return `; not 200: ${shown.join(' | ')}${failed.length > shown.length ? ` | … ${failed.length - shown.length} more` : ''}`;
}
