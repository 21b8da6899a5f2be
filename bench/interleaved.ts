/**
 * `npm run bench:interleaved -- [--cycles N] [--seconds S]`: issue 10's legacy req/s goal
 * (Switchyard's ratio to direct gunicorn ≥ nginx's) measured in short interleaved slices.
 *
 * On these shared 2-core machines the host's speed wanders by ±35% over seconds (direct gunicorn
 * alone: 2.3k–4.7k req/s in consecutive 4 s runs; a bare node:http server 23k–39k), so in
 * `npm run bench` — each scenario 5 s on a fresh server, a minute or more apart — a round's
 * Switchyard and nginx figures often come from different spells. Here every target runs at
 * once (idle ones cost nothing) against the same keep-alive gthread gunicorn, and each cycle
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
  readonly start: (flaskUrl: string) => Promise<Target>;
}

const DIRECT = 'direct gunicorn gthread (keep-alive)';
const SWITCHYARD = 'Switchyard legacy route';
const NGINX = 'nginx proxy_pass (keep-alive upstream)';
const NGINX_FORWARDED = 'nginx proxy_pass + X-Forwarded-* and /flask prefix';
const BARE_UNDICI = 'bare undici Pool.dispatch proxy';

const SLOTS: readonly Slot[] = [
  { name: DIRECT, path: '/hello', start: (url) => Promise.resolve({ url, stop: () => Promise.resolve() }) },
  { name: SWITCHYARD, path: '/flask/hello', start: (url) => startServer('switchyard-legacy', [url]) },
  { name: NGINX, path: '/hello', start: (url) => startNginx(url, { keepAlive: true }) },
  { name: NGINX_FORWARDED, path: '/flask/hello', start: (url) => startNginx(url, { keepAlive: true, forwarded: true }) },
  { name: BARE_UNDICI, path: '/hello', start: (url) => startServer('bare-undici-proxy', [url]) },
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
  const rows = ['| target | median req/s | per-cycle ratio to direct gunicorn (median; each cycle) | CPU/req (median) |', '|---|---:|---|---:|'];
  for (const slot of SLOTS) {
    const own = samples.get(slot.name) ?? [];
    const ratio = slot.name === DIRECT ? null : roundRatios(rps(slot.name), rps(DIRECT));
    const cpu = own.flatMap((s) => (s.cpuMsPerRequest === undefined ? [] : [s.cpuMsPerRequest]));
    rows.push(`| ${slot.name} | ${Math.round(medianOf(rps(slot.name)))} | ${ratio === null ? 'baseline' : formatRatio(ratio)} | ${cpu.length === 0 ? '–' : `${medianOf(cpu).toFixed(3)} ms`} |`);
  }
  const ours = roundRatios(rps(SWITCHYARD), rps(DIRECT));
  const goal = (nginxName: string): string => {
    const theirs = roundRatios(rps(nginxName), rps(DIRECT));
    if (ours === null || theirs === null) return 'n/a';
    return `${ours.median.toFixed(2)}× vs ${theirs.median.toFixed(2)}× — ${ours.median >= theirs.median ? 'met' : 'not met'}`;
  };
  return [
    `Interleaved run (${when}): ${settings.cycles} cycles, each target ${settings.seconds} s per cycle after a 1 s settle, wrk -t2 -c16, order rotated every cycle; gunicorn gthread 2 workers × 4 threads (keep-alive), Flask GET /hello; Switchyard compiled, \`switchyard.handler\`, all observers on; nginx 1 worker. Machine: ${availableParallelism()} CPUs, Node ${process.version}; load average before ${load.before}, after ${load.after}.`,
    '',
    rows.join('\n'),
    '',
    '| comparison | per-cycle ratio (median; each cycle) | cycles |',
    '|---|---|---|',
    pairedLine('Switchyard req/s over nginx proxy_pass', pairedComparison(rps(SWITCHYARD), rps(NGINX))),
    pairedLine('Switchyard req/s over nginx with the same X-Forwarded-* and prefix', pairedComparison(rps(SWITCHYARD), rps(NGINX_FORWARDED))),
    pairedLine('Switchyard req/s over the bare undici proxy', pairedComparison(rps(SWITCHYARD), rps(BARE_UNDICI))),
    '',
    `Issue 10's goal, legacy route req/s vs direct gunicorn ≥ nginx's ratio (medians of the per-cycle ratios): against plain proxy_pass ${goal(NGINX)}; against the like-for-like nginx ${goal(NGINX_FORWARDED)}.`,
  ].join('\n');
}

async function main(): Promise<void> {
  const settings = parseArgs(process.argv.slice(2));
  if (!existsSync(WRK)) usage('wrk is missing (npm run bench:interleaved installs it: scripts/ensure-deps.mjs --bench)');
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const flask = await startFlask({ workers: 2, threads: 4 });
  const targets = new Map<string, Target>();
  const samples = new Map<string, Sample[]>();
  try {
    for (const slot of SLOTS) targets.set(slot.name, await slot.start(flask.url));
    for (const slot of SLOTS) {
      const target = targets.get(slot.name);
      if (target === undefined) continue;
      const res = await fetch(target.url + slot.path);
      const body = await res.text();
      if (res.status !== 200 || !body.includes('Hello from Flask!')) throw new Error(`${slot.name}: GET ${slot.path} -> ${res.status}: ${body.slice(0, 200)}`);
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
    await flask.stop();
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
