/**
 * `npm run bench:interleaved -- [--cycles N] [--seconds S] [--only legacy,new,cache]`: issue 10's three req/s goals — the
 * legacy route's ratio to direct gunicorn ≥ nginx's, the new route ≥ 0.95× plain Express, a memory
 * cache hit ≥ 0.60× nginx's proxy_cache — measured in short interleaved slices.
 *
 * On these shared 2-core machines the host's speed wanders by ±35% over seconds (direct gunicorn
 * alone: 2.3k–4.7k req/s in consecutive 4 s runs; a bare node:http server 23k–39k), so in
 * `npm run bench` — each scenario 5 s on a fresh server, a minute or more apart — a round's
 * Switchyard and nginx figures often come from different spells. Here every target runs at
 * once (idle ones cost nothing) — the legacy rows against one keep-alive gthread gunicorn, the
 * cache rows in front of one with sync workers — and each cycle
 * gives each a short slice in turn — the order rotated cycle by cycle, so no target always follows
 * another — and a cycle's ratios are taken within the cycle. The verdict is the issue's (median
 * per-cycle ratios), with the paired per-cycle comparison and its sign test beside it
 * (bench/paired-comparison.ts, unit-tested). Written to bench/results/interleaved.md.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFlask } from '../test/support/legacy-apps.js';
import { cpuSeconds, startServer, WRK, wrk, type Target } from './bench-processes.js';
import { startNginx } from './nginx.js';
import { medianInterval } from './median-interval.js';
import { pairedComparison, type PairedComparison } from './paired-comparison.js';
import { formatRatio, roundRatios } from './round-ratios.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

interface Slot {
  readonly name: string;
  /** The table it belongs to (what `--only` picks). */
  readonly group: GroupName;
  readonly path: string;
  /** A substring of the body one request is checked for before any load. */
  readonly body: string;
  readonly start: (backends: Backends) => Promise<Target>;
}

interface Backends {
  /** gunicorn gthread (keep-alive), the legacy goal's backend. */
  readonly threaded: string;
  /** gunicorn sync workers, behind the cache rows (only the first request reaches it). */
  readonly sync: string;
}

type GroupName = 'legacy' | 'new' | 'cache';
const GROUP_NAMES: readonly GroupName[] = ['legacy', 'new', 'cache'];

const DIRECT = 'direct gunicorn gthread (keep-alive)';
const SWITCHYARD = 'Switchyard legacy route';
const NGINX = 'nginx proxy_pass (keep-alive upstream)';
const NGINX_FORWARDED = 'nginx proxy_pass + X-Forwarded-* and /flask prefix';
const BARE_UNDICI = 'bare undici Pool.dispatch proxy';
const EXPRESS = 'plain Express 5 handler';
const SWITCHYARD_NEW = 'Switchyard new route (same handler)';
const NGINX_CACHE = 'nginx proxy_cache hit';
const MEMORY_HIT = 'Switchyard cache hit, memory store';

const FLASK_HELLO = 'Hello from Flask!';
const direct = (url: string): Promise<Target> => Promise.resolve({ url, stop: () => Promise.resolve() });

/** Every target of the three req/s goals (issue 10); all run at once, each a slice per cycle. */
const SLOTS: readonly Slot[] = [
  { name: DIRECT, group: 'legacy', path: '/hello', body: FLASK_HELLO, start: (b) => direct(b.threaded) },
  { name: SWITCHYARD, group: 'legacy', path: '/flask/hello', body: FLASK_HELLO, start: (b) => startServer('switchyard-legacy', [b.threaded]) },
  { name: NGINX, group: 'legacy', path: '/hello', body: FLASK_HELLO, start: (b) => startNginx(b.threaded, { keepAlive: true }) },
  { name: NGINX_FORWARDED, group: 'legacy', path: '/flask/hello', body: FLASK_HELLO, start: (b) => startNginx(b.threaded, { keepAlive: true, forwarded: true }) },
  { name: BARE_UNDICI, group: 'legacy', path: '/hello', body: FLASK_HELLO, start: (b) => startServer('bare-undici-proxy', [b.threaded]) },
  { name: EXPRESS, group: 'new', path: '/hello', body: '{"message":"Hello"}', start: (b) => startServer('express', [b.sync]) },
  { name: SWITCHYARD_NEW, group: 'new', path: '/flask/hello', body: '{"message":"Hello"}', start: (b) => startServer('switchyard-new', [b.sync]) },
  { name: NGINX_CACHE, group: 'cache', path: '/cacheable?max_age=3600', body: 'cacheable', start: (b) => startNginx(b.sync, { cache: true }) },
  { name: MEMORY_HIT, group: 'cache', path: '/cached/cacheable?max_age=3600', body: 'cacheable', start: (b) => startServer('switchyard-cache-memory', [b.sync]) },
];

/** The rows of one table: a baseline and what is compared with it. */
const GROUPS: readonly { readonly name: GroupName; readonly title: string; readonly baseline: string; readonly rows: readonly string[] }[] = [
  { name: 'legacy', title: 'legacy route', baseline: DIRECT, rows: [SWITCHYARD, NGINX, NGINX_FORWARDED, BARE_UNDICI] },
  { name: 'new', title: 'new route', baseline: EXPRESS, rows: [SWITCHYARD_NEW] },
  { name: 'cache', title: 'cache hit', baseline: NGINX_CACHE, rows: [MEMORY_HIT] },
];

function usage(message: string): never {
  process.stderr.write(`bench:interleaved: ${message}\nusage: npm run bench:interleaved -- [--cycles N (2–100, default 10)] [--seconds S (1–60, default 3)] [--only ${GROUP_NAMES.join('|')}[,…]]\n`);
  process.exit(2);
}

interface Settings {
  readonly cycles: number;
  readonly seconds: number;
  readonly groups: ReadonlySet<GroupName>;
}

function parseArgs(argv: readonly string[]): Settings {
  let cycles = 10;
  let seconds = 3;
  let groups: ReadonlySet<GroupName> = new Set(GROUP_NAMES);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = Number(argv[i + 1]);
    if (arg === '--only') {
      const names = (argv[i + 1] ?? '').split(',');
      const unknown = names.find((n) => !(GROUP_NAMES as readonly string[]).includes(n));
      if (unknown !== undefined) usage(`--only takes ${GROUP_NAMES.join(', ')} (comma-separated), not \`${unknown}\``);
      groups = new Set(names as GroupName[]);
    } else if (arg === '--cycles') {
      if (!Number.isInteger(value) || value < 2 || value > 100) usage('--cycles must be an integer from 2 to 100');
      cycles = value;
    } else if (arg === '--seconds') {
      if (!Number.isInteger(value) || value < 1 || value > 60) usage('--seconds must be an integer from 1 to 60');
      seconds = value;
    } else usage(`unknown argument \`${String(arg)}\``);
    i++;
  }
  return { cycles, seconds, groups };
}

interface Sample {
  readonly rps: number;
  /** The target's own process (Switchyard, the bare proxy, nginx's worker). */
  readonly cpuMsPerRequest?: number;
  /** gunicorn's (master and workers) over the same slice: what serving through this target costs the backend. */
  readonly backendCpuMsPerRequest?: number;
}

/** CPU seconds of all these processes together; null when any cannot be read. */
function cpuOf(pids: readonly number[]): number | null {
  let sum = 0;
  for (const pid of pids) {
    const cpu = cpuSeconds(pid);
    if (cpu === null) return null;
    sum += cpu;
  }
  return pids.length === 0 ? null : sum;
}

async function slice(target: Target, path: string, seconds: number, backendPids: readonly number[]): Promise<Sample> {
  const url = target.url + path;
  // Each slice starts on connections the backend may have closed while the others ran (gthread
  // keeps an idle one 2 s): one second to reconnect and settle, then the measured run.
  await wrk(url, 1, 16, 2);
  const own = target.pid === undefined ? [] : [target.pid];
  const before = { own: cpuOf(own), backend: cpuOf(backendPids) };
  const measured = await wrk(url, seconds, 16, 2);
  const after = { own: cpuOf(own), backend: cpuOf(backendPids) };
  if (measured.problems.length > 0) throw new Error(`${url}: ${measured.problems.join('; ')}`);
  const perRequest = (a: number | null, b: number | null): number | undefined => (a === null || b === null || measured.requests === 0 ? undefined : ((b - a) * 1000) / measured.requests);
  const cpu = perRequest(before.own, after.own);
  const backendCpu = perRequest(before.backend, after.backend);
  return { rps: measured.rps, ...(cpu === undefined ? {} : { cpuMsPerRequest: cpu }), ...(backendCpu === undefined ? {} : { backendCpuMsPerRequest: backendCpu }) };
}

function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function pairedLine(what: string, c: PairedComparison | null): string {
  if (c === null) return `| ${what} | n/a | | |`;
  const interval = medianInterval(c.ratio.perRound);
  const range = interval === null ? 'too few cycles' : `${interval.low.toFixed(2)}–${interval.high.toFixed(2)}× (${(interval.coverage * 100).toFixed(1)}%)`;
  return `| ${what} | ${formatRatio(c.ratio)} | ${range} | ahead in ${c.ahead} of ${c.ratio.perRound.length} cycles${c.ties > 0 ? ` (${c.ties} tied)` : ''}; sign test ${c.signTestP < 0.001 ? `p < 0.001 (${c.signTestP.toExponential(1)})` : `p = ${c.signTestP.toFixed(3)}`} |`;
}

const msOrDash = (values: readonly number[]): string => (values.length === 0 ? '–' : `${medianOf(values).toFixed(3)} ms`);

function report(samples: ReadonlyMap<string, readonly Sample[]>, settings: Settings, load: { before: string; after: string }, when: string): string {
  const rps = (name: string): number[] => (samples.get(name) ?? []).map((s) => s.rps);
  const groups = GROUPS.filter((g) => settings.groups.has(g.name));
  const rows = [
    '| target | median req/s | per-cycle ratio to the baseline (median; each cycle) | own CPU/req (median) | backend CPU/req (median) | both, per cycle (median) |',
    '|---|---:|---|---:|---:|---:|',
  ];
  for (const group of groups) {
    for (const name of [group.baseline, ...group.rows]) {
      const taken = samples.get(name) ?? [];
      const own = taken.flatMap((s) => (s.cpuMsPerRequest === undefined ? [] : [s.cpuMsPerRequest]));
      const backend = taken.flatMap((s) => (s.backendCpuMsPerRequest === undefined ? [] : [s.backendCpuMsPerRequest]));
      // Direct gunicorn has no process of its own in front: its backend CPU is the whole cost.
      const both = taken.flatMap((s) => (s.backendCpuMsPerRequest === undefined ? [] : [(s.cpuMsPerRequest ?? 0) + s.backendCpuMsPerRequest]));
      const ratio = name === group.baseline ? null : roundRatios(rps(name), rps(group.baseline));
      rows.push(`| ${name} | ${Math.round(medianOf(rps(name)))} | ${ratio === null ? `baseline (${group.title})` : formatRatio(ratio)} | ${msOrDash(own)} | ${msOrDash(backend)} | ${msOrDash(both)} |`);
    }
  }
  const ratio = (a: string, b: string): number | null => roundRatios(rps(a), rps(b))?.median ?? null;
  const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'yes' : 'no');
  const versus = (nginxName: string): string => {
    const ours = ratio(SWITCHYARD, DIRECT);
    const theirs = ratio(nginxName, DIRECT);
    return ours === null || theirs === null ? '| n/a | | |' : `| ${ours.toFixed(2)}× | ≥ nginx's ${theirs.toFixed(2)}× | ${verdict(ours >= theirs)} |`;
  };
  const atLeast = (a: string, b: string, target: number): string => {
    const r = ratio(a, b);
    return r === null ? '| n/a | | |' : `| ${r.toFixed(2)}× | ≥ ${target.toFixed(2)}× | ${verdict(r >= target)} |`;
  };
  const has = (name: GroupName): boolean => settings.groups.has(name);
  const goals = [
    ...(has('legacy') ? [`| legacy route req/s vs direct gunicorn gthread ${versus(NGINX)}`, `| (same, vs nginx sending the same X-Forwarded-* and stripping the prefix) ${versus(NGINX_FORWARDED)}`] : []),
    ...(has('new') ? [`| new route req/s vs the same handler on plain Express 5 ${atLeast(SWITCHYARD_NEW, EXPRESS, 0.95)}`] : []),
    ...(has('cache') ? [`| cache hit (memory) req/s vs nginx proxy_cache hit ${atLeast(MEMORY_HIT, NGINX_CACHE, 0.6)}`] : []),
  ];
  const paired = [
    ...(has('legacy')
      ? [
          pairedLine('Switchyard legacy req/s over nginx proxy_pass', pairedComparison(rps(SWITCHYARD), rps(NGINX))),
          pairedLine('Switchyard legacy req/s over nginx with the same X-Forwarded-* and prefix', pairedComparison(rps(SWITCHYARD), rps(NGINX_FORWARDED))),
          pairedLine('Switchyard legacy req/s over the bare undici proxy', pairedComparison(rps(SWITCHYARD), rps(BARE_UNDICI))),
        ]
      : []),
    ...(has('new') ? [pairedLine('Switchyard new route req/s over plain Express 5', pairedComparison(rps(SWITCHYARD_NEW), rps(EXPRESS)))] : []),
    ...(has('cache') ? [pairedLine('Switchyard memory hit req/s over nginx proxy_cache', pairedComparison(rps(MEMORY_HIT), rps(NGINX_CACHE)))] : []),
  ];
  return [
    `Interleaved run (${when}): ${settings.cycles} cycles of ${groups.map((g) => g.title).join(', ')}, each target ${settings.seconds} s per cycle after a 1 s settle, wrk -t2 -c16, order rotated every cycle; gunicorn gthread 2 workers × 4 threads (keep-alive) behind the legacy rows, sync workers behind the cache rows, Flask GET /hello; Switchyard compiled, \`switchyard.handler\`, all observers on; nginx 1 worker. Own CPU: the target's process (nginx: its worker); backend CPU: gunicorn's master and workers over the same slice (legacy rows). Machine: ${availableParallelism()} CPUs, Node ${process.version}; load average before ${load.before}, after ${load.after}.`,
    '',
    rows.join('\n'),
    '',
    '| goal (issue 10; medians of the per-cycle ratios) | this run | target | met |',
    '|---|---:|---|---|',
    ...goals,
    '',
    '| paired, cycle by cycle | per-cycle ratio (median; each cycle) | 95% interval of the median ratio (exact coverage) | cycles |',
    '|---|---|---|---|',
    ...paired,
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2));
  if (!existsSync(WRK)) usage('wrk is missing (npm run bench:interleaved installs it: scripts/ensure-deps.mjs --bench)');
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const [threaded, sync] = await Promise.all([startFlask({ workers: 2, threads: 4 }), startFlask({ workers: 2, threads: 1 })]);
  const targets = new Map<string, Target>();
  const samples = new Map<string, Sample[]>();
  try {
    const slots = SLOTS.filter((slot) => settings.groups.has(slot.group));
    for (const slot of slots) targets.set(slot.name, await slot.start({ threaded: threaded.url, sync: sync.url }));
    // Read once: gthread workers are not replaced during a run (no max_requests), and a worker
    // that died would fail the run's own probes first.
    const threadedPids = threaded.pids();
    for (const slot of slots) {
      const target = targets.get(slot.name);
      if (target === undefined) continue;
      const res = await fetch(target.url + slot.path);
      const body = await res.text();
      if (res.status !== 200 || !body.includes(slot.body)) throw new Error(`${slot.name}: GET ${slot.path} -> ${res.status}: ${body.slice(0, 200)}`);
      await wrk(target.url + slot.path, 2, 16, 2);
    }
    for (let cycle = 0; cycle < settings.cycles; cycle++) {
      process.stderr.write(`bench:interleaved: cycle ${cycle + 1}/${settings.cycles}\n`);
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[(cycle + k) % slots.length];
        const target = slot === undefined ? undefined : targets.get(slot.name);
        if (slot === undefined || target === undefined) continue;
        samples.set(slot.name, [...(samples.get(slot.name) ?? []), await slice(target, slot.path, settings.seconds, slot.group === 'legacy' ? threadedPids : [])]);
      }
    }
  } finally {
    for (const target of targets.values()) await target.stop();
    await Promise.all([threaded.stop(), sync.stop()]);
  }
  const md = report(samples, settings, { before: loadBefore, after: loadavg().map((l) => l.toFixed(2)).join(', ') }, when);
  console.log(md);
  const out = join(benchDir, 'results', 'interleaved.md');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${md}\n`);
  process.stderr.write(`bench:interleaved: written to ${out}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench:interleaved: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
