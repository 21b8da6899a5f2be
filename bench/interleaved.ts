/**
 * `npm run bench:interleaved -- [--cycles N] [--seconds S]`: issue 10's three req/s goals — the
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
import { pairedComparison, type PairedComparison } from './paired-comparison.js';
import { formatRatio, roundRatios } from './round-ratios.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

interface Slot {
  readonly name: string;
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
  { name: DIRECT, path: '/hello', body: FLASK_HELLO, start: (b) => direct(b.threaded) },
  { name: SWITCHYARD, path: '/flask/hello', body: FLASK_HELLO, start: (b) => startServer('switchyard-legacy', [b.threaded]) },
  { name: NGINX, path: '/hello', body: FLASK_HELLO, start: (b) => startNginx(b.threaded, { keepAlive: true }) },
  { name: NGINX_FORWARDED, path: '/flask/hello', body: FLASK_HELLO, start: (b) => startNginx(b.threaded, { keepAlive: true, forwarded: true }) },
  { name: BARE_UNDICI, path: '/hello', body: FLASK_HELLO, start: (b) => startServer('bare-undici-proxy', [b.threaded]) },
  { name: EXPRESS, path: '/hello', body: '{"message":"Hello"}', start: (b) => startServer('express', [b.sync]) },
  { name: SWITCHYARD_NEW, path: '/flask/hello', body: '{"message":"Hello"}', start: (b) => startServer('switchyard-new', [b.sync]) },
  { name: NGINX_CACHE, path: '/cacheable?max_age=3600', body: 'cacheable', start: (b) => startNginx(b.sync, { cache: true }) },
  { name: MEMORY_HIT, path: '/cached/cacheable?max_age=3600', body: 'cacheable', start: (b) => startServer('switchyard-cache-memory', [b.sync]) },
];

/** The rows of one table: a baseline and what is compared with it. */
const GROUPS: readonly { readonly title: string; readonly baseline: string; readonly rows: readonly string[] }[] = [
  { title: 'legacy route', baseline: DIRECT, rows: [SWITCHYARD, NGINX, NGINX_FORWARDED, BARE_UNDICI] },
  { title: 'new route', baseline: EXPRESS, rows: [SWITCHYARD_NEW] },
  { title: 'cache hit', baseline: NGINX_CACHE, rows: [MEMORY_HIT] },
];

function usage(message: string): never {
  process.stderr.write(`bench:interleaved: ${message}\nusage: npm run bench:interleaved -- [--cycles N (2–100, default 10)] [--seconds S (1–60, default 3)]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { cycles: number; seconds: number } {
  let cycles = 10;
  let seconds = 3;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = Number(argv[i + 1]);
    if (arg === '--cycles') {
      if (!Number.isInteger(value) || value < 2 || value > 100) usage('--cycles must be an integer from 2 to 100');
      cycles = value;
    } else if (arg === '--seconds') {
      if (!Number.isInteger(value) || value < 1 || value > 60) usage('--seconds must be an integer from 1 to 60');
      seconds = value;
    } else usage(`unknown argument \`${String(arg)}\``);
    i++;
  }
  return { cycles, seconds };
}

interface Sample {
  readonly rps: number;
  readonly cpuMsPerRequest?: number;
}

async function slice(target: Target, path: string, seconds: number): Promise<Sample> {
  const url = target.url + path;
  // Each slice starts on connections the backend may have closed while the others ran (gthread
  // keeps an idle one 2 s): one second to reconnect and settle, then the measured run.
  await wrk(url, 1, 16, 2);
  const before = target.pid === undefined ? null : cpuSeconds(target.pid);
  const measured = await wrk(url, seconds, 16, 2);
  const after = target.pid === undefined ? null : cpuSeconds(target.pid);
  if (measured.problems.length > 0) throw new Error(`${url}: ${measured.problems.join('; ')}`);
  return before === null || after === null || measured.requests === 0 ? { rps: measured.rps } : { rps: measured.rps, cpuMsPerRequest: ((after - before) * 1000) / measured.requests };
}

function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

function pairedLine(what: string, c: PairedComparison | null): string {
  if (c === null) return `| ${what} | n/a | |`;
  return `| ${what} | ${formatRatio(c.ratio)} | ahead in ${c.ahead} of ${c.ratio.perRound.length} cycles${c.ties > 0 ? ` (${c.ties} tied)` : ''}; sign test p = ${c.signTestP.toFixed(3)} |`;
}

function report(samples: ReadonlyMap<string, readonly Sample[]>, settings: { cycles: number; seconds: number }, load: { before: string; after: string }, when: string): string {
  const rps = (name: string): number[] => (samples.get(name) ?? []).map((s) => s.rps);
  const rows = ['| target | median req/s | per-cycle ratio to the baseline (median; each cycle) | CPU/req (median) |', '|---|---:|---|---:|'];
  for (const group of GROUPS) {
    for (const name of [group.baseline, ...group.rows]) {
      const cpu = (samples.get(name) ?? []).flatMap((s) => (s.cpuMsPerRequest === undefined ? [] : [s.cpuMsPerRequest]));
      const ratio = name === group.baseline ? null : roundRatios(rps(name), rps(group.baseline));
      rows.push(`| ${name} | ${Math.round(medianOf(rps(name)))} | ${ratio === null ? `baseline (${group.title})` : formatRatio(ratio)} | ${cpu.length === 0 ? '–' : `${medianOf(cpu).toFixed(3)} ms`} |`);
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
  return [
    `Interleaved run (${when}): ${settings.cycles} cycles, each target ${settings.seconds} s per cycle after a 1 s settle, wrk -t2 -c16, order rotated every cycle; gunicorn gthread 2 workers × 4 threads (keep-alive) behind the legacy rows, sync workers behind the cache rows, Flask GET /hello; Switchyard compiled, \`switchyard.handler\`, all observers on; nginx 1 worker. Machine: ${availableParallelism()} CPUs, Node ${process.version}; load average before ${load.before}, after ${load.after}.`,
    '',
    rows.join('\n'),
    '',
    "| goal (issue 10; medians of the per-cycle ratios) | this run | target | met |",
    '|---|---:|---|---|',
    `| legacy route req/s vs direct gunicorn gthread ${versus(NGINX)}`,
    `| (same, vs nginx sending the same X-Forwarded-* and stripping the prefix) ${versus(NGINX_FORWARDED)}`,
    `| new route req/s vs the same handler on plain Express 5 ${atLeast(SWITCHYARD_NEW, EXPRESS, 0.95)}`,
    `| cache hit (memory) req/s vs nginx proxy_cache hit ${atLeast(MEMORY_HIT, NGINX_CACHE, 0.6)}`,
    '',
    '| paired, cycle by cycle | per-cycle ratio (median; each cycle) | cycles |',
    '|---|---|---|',
    pairedLine('Switchyard legacy req/s over nginx proxy_pass', pairedComparison(rps(SWITCHYARD), rps(NGINX))),
    pairedLine('Switchyard legacy req/s over nginx with the same X-Forwarded-* and prefix', pairedComparison(rps(SWITCHYARD), rps(NGINX_FORWARDED))),
    pairedLine('Switchyard legacy req/s over the bare undici proxy', pairedComparison(rps(SWITCHYARD), rps(BARE_UNDICI))),
    pairedLine('Switchyard new route req/s over plain Express 5', pairedComparison(rps(SWITCHYARD_NEW), rps(EXPRESS))),
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
    for (const slot of SLOTS) targets.set(slot.name, await slot.start({ threaded: threaded.url, sync: sync.url }));
    for (const slot of SLOTS) {
      const target = targets.get(slot.name);
      if (target === undefined) continue;
      const res = await fetch(target.url + slot.path);
      const body = await res.text();
      if (res.status !== 200 || !body.includes(slot.body)) throw new Error(`${slot.name}: GET ${slot.path} -> ${res.status}: ${body.slice(0, 200)}`);
      await wrk(target.url + slot.path, 2, 16, 2);
    }
    for (let cycle = 0; cycle < settings.cycles; cycle++) {
      process.stderr.write(`bench:interleaved: cycle ${cycle + 1}/${settings.cycles}\n`);
      for (let k = 0; k < SLOTS.length; k++) {
        const slot = SLOTS[(cycle + k) % SLOTS.length];
        const target = slot === undefined ? undefined : targets.get(slot.name);
        if (slot === undefined || target === undefined) continue;
        samples.set(slot.name, [...(samples.get(slot.name) ?? []), await slice(target, slot.path, settings.seconds)]);
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
