/**
 * `npm run bench`: wrk against each scenario in turn, on loopback, in one run, and a markdown
 * table of requests/s, p50, p99 and the ratio to each scenario's baseline. Also written to
 * bench/results/latest.md.
 *
 * gunicorn is started once and shared; every other server runs in its own child process
 * (bench/servers.ts), started just before its scenario and stopped right after it, so it neither
 * shares an event loop with wrk nor idles beside the next scenario.
 *
 * Env: BENCH_DURATION (seconds per scenario, default 8), BENCH_WARMUP (seconds, default 2),
 *      BENCH_CONNECTIONS (default 16), BENCH_THREADS (wrk threads, default 2), BENCH_ROUNDS (runs per
 *      scenario, each on a fresh server, taken round by round over all scenarios; the median one is
 *      reported and the goals use per-round ratios — default 1; more on a busy host).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { findPython, startFlask, type LegacyServer } from '../test/support/legacy-apps.js';
import { startRedis } from '../test/support/redis-server.js';
import { openLoop } from './open-loop.js';
import { formatRatio, roundRatios, type Ratio } from './round-ratios.js';
import { canaryEvaluationReport } from './canary-evaluation.js';
import { ADMIN_TOKEN, cpuSeconds, startServer, WRK, wrk, type Target, type WrkResult } from './bench-processes.js';
import { ScenarioSkipped, startNginx } from './nginx.js';

const benchDir = dirname(fileURLToPath(import.meta.url));

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got \`${raw}\``);
  return value;
}

const settings = {
  duration: envInt('BENCH_DURATION', 8),
  warmup: envInt('BENCH_WARMUP', 2),
  connections: envInt('BENCH_CONNECTIONS', 16),
  threads: envInt('BENCH_THREADS', 2),
  rounds: envInt('BENCH_ROUNDS', 1),
  gunicornWorkers: 2,
};

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

interface BenchEnv {
  /** gunicorn sync workers: one request per connection (`Connection: close`). */
  readonly flask: LegacyServer;
  /** gunicorn gthread workers: keep-alive, so a proxy can reuse its upstream connections. */
  readonly flaskThreaded: LegacyServer;
  /** A private redis-server for the Redis cache scenario. */
  readonly redisUrl: string;
  /** A local OTLP/HTTP receiver (accepts and drops), for the exporting-telemetry scenario. */
  readonly otlpUrl: string;
}

interface Scenario {
  readonly name: string;
  /** Name of the scenario this one is compared with; omitted for a baseline. */
  readonly baseline?: string;
  readonly start: (env: BenchEnv) => Promise<Target>;
  /** Path requested, appended to the target's URL. */
  readonly path: string;
  /** Checked on one request before the load: a substring of the body, and the side Switchyard chose. */
  readonly expect: { readonly body: string; readonly backend?: 'legacy' | 'new' };
  /** wrk connections for this scenario (default BENCH_CONNECTIONS). */
  readonly connections?: number;
  /** Instead of wrk's closed loop: this many requests per second on a fixed schedule (bench/open-loop.ts). */
  readonly perSecond?: number;
  /** What the scenario actually did, for the notes under the table: reset after the warm-up, read after the load. */
  readonly report?: { readonly reset: (targetUrl: string) => Promise<void>; readonly read: (targetUrl: string) => Promise<string> };
}


/** How many of the measured requests were mirrored and compared, and why the others were not. */
const shadowReport = {
  reset: async (targetUrl: string): Promise<void> => {
    const res = await fetch(`${targetUrl}/_switchyard/shadow/hello`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'bench: count the measured requests only', by: 'bench' }),
    });
    if (!res.ok) throw new Error(`shadow reset: ${res.status} ${await res.text()}`);
  },
  read: readShadowCounts,
};

async function readShadowCounts(targetUrl: string): Promise<string> {
  const res = await fetch(`${targetUrl}/_switchyard/shadow/hello`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (!res.ok) throw new Error(`shadow counts: ${res.status} ${await res.text()}`);
  const c = (await res.json()) as { compared: number; skipped: Record<string, number> };
  const skipped = Object.entries(c.skipped).filter(([, n]) => n > 0);
  const total = c.compared + skipped.reduce((sum, [, n]) => sum + n, 0);
  return `compared ${c.compared} of ${total} requests (${total === 0 ? 0 : Math.round((100 * c.compared) / total)}%)${skipped.length > 0 ? `; skipped: ${skipped.map(([why, n]) => `${why} ${n}`).join(', ')}` : ''}`;
}

/** A bench/servers.ts mode in its own process. */
const server =
  (mode: string, extraEnv: (env: BenchEnv) => NodeJS.ProcessEnv = () => ({})) =>
  (env: BenchEnv): Promise<Target> =>
    startServer(mode, [env.flask.url], extraEnv(env));

const scenarios: readonly Scenario[] = [
  {
    name: 'direct gunicorn (Flask)',
    start: ({ flask }) => Promise.resolve({ url: flask.url, stop: () => Promise.resolve() }),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'Switchyard legacy route → gunicorn',
    baseline: 'direct gunicorn (Flask)',
    start: server('switchyard-legacy'),
    path: '/flask/hello',
    expect: { body: 'Hello from Flask!', backend: 'legacy' },
  },
  {
    name: 'nginx proxy_pass → gunicorn (no cache)',
    baseline: 'direct gunicorn (Flask)',
    start: ({ flask }) => startNginx(flask.url),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => Promise.resolve({ url: flaskThreaded.url, stop: () => Promise.resolve() }),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'Switchyard legacy route → gunicorn gthread',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startServer('switchyard-legacy', [flaskThreaded.url]),
    path: '/flask/hello',
    expect: { body: 'Hello from Flask!', backend: 'legacy' },
  },
  {
    name: 'Switchyard legacy route via switchyard.app (Express + http-proxy-middleware) → gunicorn gthread',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startServer('switchyard-legacy-express', [flaskThreaded.url]),
    path: '/flask/hello',
    expect: { body: 'Hello from Flask!', backend: 'legacy' },
  },
  {
    name: 'bare node:http keep-alive proxy → gunicorn gthread',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startServer('bare-proxy', [flaskThreaded.url]),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'bare undici Pool.dispatch proxy → gunicorn gthread',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startServer('bare-undici-proxy', [flaskThreaded.url]),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'bare node:http proxy + X-Forwarded-* and /flask prefix → gunicorn gthread',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startServer('bare-proxy-forwarded', [flaskThreaded.url]),
    path: '/flask/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'nginx proxy_pass → gunicorn gthread (keep-alive upstream)',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startNginx(flaskThreaded.url, { keepAlive: true }),
    path: '/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'nginx proxy_pass + X-Forwarded-* and /flask prefix → gunicorn gthread (keep-alive upstream)',
    baseline: 'direct gunicorn gthread (keep-alive)',
    start: ({ flaskThreaded }) => startNginx(flaskThreaded.url, { keepAlive: true, forwarded: true }),
    path: '/flask/hello',
    expect: { body: 'Hello from Flask!' },
  },
  {
    name: 'bare node:http JSON server',
    start: server('bare-json'),
    path: '/hello',
    expect: { body: '{"message":"Hello"}' },
  },
  {
    name: 'plain Express 5 handler',
    start: server('express'),
    path: '/hello',
    expect: { body: '{"message":"Hello"}' },
  },
  {
    name: 'Switchyard new route (same handler)',
    baseline: 'plain Express 5 handler',
    start: server('switchyard-new'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
  },
  // The response cache (issue 4), all on the same gunicorn endpoint, and nginx's proxy_cache.
  {
    name: 'direct gunicorn, /cacheable',
    start: ({ flask }) => Promise.resolve({ url: flask.url, stop: () => Promise.resolve() }),
    path: '/cacheable?max_age=3600',
    expect: { body: 'cacheable' },
  },
  {
    name: 'Switchyard cache miss path (max-age=0)',
    baseline: 'direct gunicorn, /cacheable',
    start: server('switchyard-cache-memory'),
    path: '/cached/cacheable?max_age=0',
    expect: { body: 'cacheable', backend: 'legacy' },
  },
  {
    name: 'Switchyard cache hit, memory store',
    baseline: 'direct gunicorn, /cacheable',
    start: server('switchyard-cache-memory'),
    path: '/cached/cacheable?max_age=3600',
    expect: { body: 'cacheable', backend: 'legacy' },
  },
  {
    name: 'Switchyard cache hit, Redis store',
    baseline: 'direct gunicorn, /cacheable',
    start: server('switchyard-cache-redis', (env) => ({ BENCH_REDIS_URL: env.redisUrl })),
    path: '/cached/cacheable?max_age=3600',
    expect: { body: 'cacheable', backend: 'legacy' },
  },
  {
    name: 'nginx proxy_cache hit',
    baseline: 'direct gunicorn, /cacheable',
    start: ({ flask }) => startNginx(flask.url, { cache: true }),
    path: '/cacheable?max_age=3600',
    expect: { body: 'cacheable' },
  },
  // Shadow traffic (issue 3): the same new route, mirroring 0% vs 100% of requests to legacy.
  {
    name: 'new route, shadow 0%',
    start: server('switchyard-shadow-0'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
  },
  {
    name: 'new route, shadow 100% → legacy',
    baseline: 'new route, shadow 0%',
    start: server('switchyard-shadow-100'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
    report: shadowReport,
  },
  // The same pair at one connection: the machine is not saturated, so the difference is what
  // mirroring adds to a client's own request (teeing, capture), not CPU taken by the shadow calls.
  {
    name: 'new route, shadow 0%, 1 connection',
    start: server('switchyard-shadow-0'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
    connections: 1,
  },
  {
    name: 'new route, shadow 100% → legacy, 1 connection',
    baseline: 'new route, shadow 0%, 1 connection',
    start: server('switchyard-shadow-100'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
    connections: 1,
    report: shadowReport,
  },
  // And at a steady rate the host can sustain with mirroring — how teams run shadow traffic.
  {
    name: 'new route, shadow 0%, 500 req/s',
    start: server('switchyard-shadow-0'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
    perSecond: 500,
  },
  {
    name: 'new route, shadow 100% → legacy, 500 req/s',
    baseline: 'new route, shadow 0%, 500 req/s',
    start: server('switchyard-shadow-100'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
    perSecond: 500,
    report: shadowReport,
  },
  // Telemetry (issue 6): off, on without an exporter configured (by design the SDK then stays
  // unstarted: startTelemetry returns null), and exporting every span over OTLP.
  {
    name: 'new route, telemetry off',
    start: server('switchyard-new'),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
  },
  {
    name: 'new route, telemetry on, no exporter configured',
    baseline: 'new route, telemetry off',
    start: server('switchyard-new', () => ({ BENCH_TELEMETRY: 'noexport' })),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
  },
  {
    name: 'new route, telemetry → OTLP receiver',
    baseline: 'new route, telemetry off',
    start: server('switchyard-new', (env) => ({ BENCH_TELEMETRY: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: env.otlpUrl, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' })),
    path: '/flask/hello',
    expect: { body: '{"message":"Hello"}', backend: 'new' },
  },
];

/** Accepts OTLP/HTTP exports and drops them: the exporter's full cost without a collector's. */
async function startOtlpSink(): Promise<{ url: string; close: () => Promise<void> }> {
  const sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const { port } = sink.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => sink.close(() => resolve())) };
}

// ---------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------

async function check(scenario: Scenario, url: string): Promise<void> {
  const res = await fetch(url);
  const body = await res.text();
  const backend = res.headers.get('x-switchyard-backend');
  if (res.status !== 200 || !body.includes(scenario.expect.body) || (scenario.expect.backend !== undefined && backend !== scenario.expect.backend)) {
    throw new Error(`${scenario.name}: GET ${url} -> ${res.status} (backend ${String(backend)}): ${body.slice(0, 300)}`);
  }
}

async function runScenario(scenario: Scenario, env: BenchEnv): Promise<WrkResult> {
  const target = await scenario.start(env);
  try {
    const url = target.url + scenario.path;
    await check(scenario, url);
    const load = (seconds: number): Promise<WrkResult> => (scenario.perSecond === undefined ? wrk(url, seconds, scenario.connections ?? settings.connections, settings.threads) : openLoop(url, scenario.perSecond, seconds));
    await load(settings.warmup);
    await scenario.report?.reset(target.url);
    const cpuBefore = target.pid === undefined ? null : cpuSeconds(target.pid);
    const measured = await load(settings.duration);
    const cpuAfter = target.pid === undefined ? null : cpuSeconds(target.pid);
    // Stabler than req/s on a shared 2-core host: what one request costs the serving process.
    const result = cpuBefore === null || cpuAfter === null || measured.requests === 0 ? measured : { ...measured, cpuMsPerRequest: ((cpuAfter - cpuBefore) * 1000) / measured.requests };
    return scenario.report === undefined ? result : { ...result, report: await scenario.report.read(target.url) };
  } finally {
    await target.stop();
  }
}

/** The round with the median CPU per request (else median req/s): one real run, not a blend. */
function median(rounds: readonly WrkResult[]): WrkResult {
  const key = (r: WrkResult): number => r.cpuMsPerRequest ?? -r.rps;
  const sorted = [...rounds].sort((a, b) => key(a) - key(b));
  const picked = sorted[Math.floor((sorted.length - 1) / 2)];
  if (picked === undefined) throw new Error('no rounds');
  return picked;
}

const fmtMs = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1)) + ' ms';

function table(results: ReadonlyMap<string, WrkResult>): string {
  const rows = ['| scenario | req/s | p50 | p99 | CPU/req | vs baseline: req/s, p99 |', '|---|---:|---:|---:|---:|---|'];
  for (const s of scenarios) {
    const r = results.get(s.name);
    if (r === undefined) continue;
    const base = s.baseline === undefined ? undefined : results.get(s.baseline);
    const ratio = s.baseline === undefined ? 'baseline' : base === undefined ? 'n/a' : `${(r.rps / base.rps).toFixed(2)}×, ${(r.p99ms / base.p99ms).toFixed(2)}× (${s.baseline})`;
    const flag = r.problems.length > 0 ? ' ⚠' : '';
    const cpu = r.cpuMsPerRequest === undefined ? '–' : `${r.cpuMsPerRequest.toFixed(3)} ms`;
    rows.push(`| ${s.name}${flag} | ${Math.round(r.rps)} | ${fmtMs(r.p50ms)} | ${fmtMs(r.p99ms)} | ${cpu} | ${ratio} |`);
  }
  return rows.join('\n');
}

/** Issue 10's speed goals, as ratios within this run (a row that did not run reads n/a). */
const GOALS: readonly { readonly what: string; readonly a: string; readonly b: string; readonly metric: 'rps' | 'cpu'; readonly goal: (ratio: number, rounds: ReadonlyMap<string, readonly WrkResult[]>) => { ok: boolean; target: string } }[] = [
  {
    what: 'legacy route CPU/request vs the bare node:http keep-alive proxy',
    a: 'Switchyard legacy route → gunicorn gthread',
    b: 'bare node:http keep-alive proxy → gunicorn gthread',
    metric: 'cpu',
    goal: (r) => ({ ok: r <= 1.3, target: '≤ 1.30×' }),
  },
  {
    what: '(same, vs the bare proxy that also sends X-Forwarded-* and strips the prefix)',
    a: 'Switchyard legacy route → gunicorn gthread',
    b: 'bare node:http proxy + X-Forwarded-* and /flask prefix → gunicorn gthread',
    metric: 'cpu',
    goal: (r) => ({ ok: r <= 1.3, target: '≤ 1.30×' }),
  },
  {
    what: 'legacy route req/s vs direct gunicorn gthread',
    a: 'Switchyard legacy route → gunicorn gthread',
    b: 'direct gunicorn gthread (keep-alive)',
    metric: 'rps',
    goal: (r, rounds) => {
      const nginx = ratioOf(rounds, 'nginx proxy_pass → gunicorn gthread (keep-alive upstream)', 'direct gunicorn gthread (keep-alive)', 'rps');
      return nginx === null ? { ok: false, target: '≥ nginx (n/a)' } : { ok: r >= nginx.median, target: `≥ nginx's ${formatRatio(nginx)}` };
    },
  },
  {
    what: '(same, vs nginx sending the same X-Forwarded-* and stripping the prefix)',
    a: 'Switchyard legacy route → gunicorn gthread',
    b: 'direct gunicorn gthread (keep-alive)',
    metric: 'rps',
    goal: (r, rounds) => {
      const nginx = ratioOf(rounds, 'nginx proxy_pass + X-Forwarded-* and /flask prefix → gunicorn gthread (keep-alive upstream)', 'direct gunicorn gthread (keep-alive)', 'rps');
      return nginx === null ? { ok: false, target: '≥ nginx (n/a)' } : { ok: r >= nginx.median, target: `≥ nginx's ${formatRatio(nginx)}` };
    },
  },
  {
    what: 'cache hit (memory) req/s vs nginx proxy_cache hit',
    a: 'Switchyard cache hit, memory store',
    b: 'nginx proxy_cache hit',
    metric: 'rps',
    goal: (r) => ({ ok: r >= 0.6, target: '≥ 0.60×' }),
  },
  {
    what: 'cache hit (Redis) CPU/request vs memory hit',
    a: 'Switchyard cache hit, Redis store',
    b: 'Switchyard cache hit, memory store',
    metric: 'cpu',
    goal: (r) => ({ ok: r <= 1.3, target: '≤ 1.30×' }),
  },
  {
    what: 'new route req/s vs the same handler on plain Express 5',
    a: 'Switchyard new route (same handler)',
    b: 'plain Express 5 handler',
    metric: 'rps',
    goal: (r) => ({ ok: r >= 0.95, target: '≥ 0.95×' }),
  },
];

/** a's metric over b's, round by round, from this run's rounds (see round-ratios.ts). */
function ratioOf(rounds: ReadonlyMap<string, readonly WrkResult[]>, a: string, b: string, metric: 'rps' | 'cpu'): Ratio | null {
  const xs = rounds.get(a);
  const ys = rounds.get(b);
  if (xs === undefined || ys === undefined) return null;
  const pick = (r: WrkResult): number | undefined => (metric === 'rps' ? r.rps : r.cpuMsPerRequest);
  return roundRatios(xs.map(pick), ys.map(pick));
}

function goalsTable(rounds: ReadonlyMap<string, readonly WrkResult[]>): string {
  const rows = ['| goal (issue 10) | this run (median of the rounds\' ratios; each round) | target | met |', '|---|---:|---|---|'];
  for (const g of GOALS) {
    const ratio = ratioOf(rounds, g.a, g.b, g.metric);
    if (ratio === null) {
      rows.push(`| ${g.what} | n/a | | |`);
      continue;
    }
    const { ok, target } = g.goal(ratio.median, rounds);
    rows.push(`| ${g.what} | ${formatRatio(ratio)} | ${target} | ${ok ? 'yes' : 'no'} |`);
  }
  return rows.join('\n');
}

function gunicornVersion(): string {
  const r = spawnSync(findPython(), ['-m', 'gunicorn', '--version'], { encoding: 'utf8' });
  return /\d+\.\d+(\.\d+)?/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? 'unknown';
}

async function main(): Promise<void> {
  if (!existsSync(WRK)) {
    console.error('bench: wrk not found at /usr/bin/wrk; install it with: apt-get install -y wrk');
    process.exit(1);
  }
  for (const s of scenarios) {
    if (s.baseline !== undefined && !scenarios.some((b) => b.name === s.baseline)) throw new Error(`scenario \`${s.name}\`: unknown baseline \`${s.baseline}\``);
  }

  // BENCH_ONLY=text runs just the scenarios (and their baselines) whose names contain it.
  const only = process.env['BENCH_ONLY'];
  // Several texts separated by `|` pick the union (e.g. the rows issue 10's goals compare).
  const wanted = only === undefined ? null : only.split('|').filter((t) => t !== '');
  const matches = (name: string): boolean => wanted === null || wanted.some((t) => name.includes(t));
  const picked = wanted === null ? scenarios : scenarios.filter((s) => matches(s.name) || scenarios.some((o) => matches(o.name) && o.baseline === s.name));
  const loadBefore = loadavg().map((l) => l.toFixed(2)).join(', ');
  const flask = await startFlask({ workers: settings.gunicornWorkers, threads: 1 });
  const flaskThreaded = await startFlask({ workers: settings.gunicornWorkers, threads: 4 });
  const otlp = await startOtlpSink();
  const redis = await startRedis();
  const rounds = new Map<string, WrkResult[]>();
  const skipped: string[] = [];
  const skippedNames = new Set<string>();
  try {
    // Round by round, every scenario once per round: the rounds of one scenario are spread over
    // the whole run, and the scenarios a goal compares run minutes apart rather than a whole
    // scenario list apart (see ratioOf).
    for (let round = 0; round < settings.rounds; round++) {
      for (const scenario of picked) {
        if (skippedNames.has(scenario.name)) continue;
        process.stderr.write(`bench: ${settings.rounds > 1 ? `round ${round + 1}/${settings.rounds}: ` : ''}${scenario.name}…\n`);
        try {
          const result = await runScenario(scenario, { flask, flaskThreaded, otlpUrl: otlp.url, redisUrl: redis.url });
          rounds.set(scenario.name, [...(rounds.get(scenario.name) ?? []), result]);
        } catch (error) {
          if (!(error instanceof ScenarioSkipped)) throw error;
          skippedNames.add(scenario.name);
          skipped.push(`- skipped ${scenario.name}: ${error.message}`);
          process.stderr.write(`bench: skipped: ${error.message}\n`);
        }
      }
    }
  } finally {
    await flask.stop();
    await flaskThreaded.stop();
    await otlp.close();
    await redis.stop();
  }

  const results = new Map([...rounds].map(([name, rs]) => [name, median(rs)] as const));
  const notes = scenarios.flatMap((s) => {
    const problems = results.get(s.name)?.problems ?? [];
    const report = results.get(s.name)?.report;
    return [...(problems.length > 0 ? [`- ⚠ ${s.name}: ${problems.join('; ')}`] : []), ...(report === undefined ? [] : [`- ${s.name}: ${report}`])];
  });
  const md = [
    table(results),
    '',
    goalsTable(rounds),
    '',
    canaryEvaluationReport(),
    '',
    `Load average before the run: ${loadBefore}; after: ${loadavg().map((l) => l.toFixed(2)).join(', ')} (other processes on this host share the CPUs: compare rows within one run).`,
    `Machine: ${availableParallelism()} CPUs (nproc), Node ${process.version}, ${process.platform}/${process.arch}; everything on loopback.`,
    `Settings: wrk -t${settings.threads} -c${settings.connections} -d${settings.duration}s --latency after a ${settings.warmup} s warm-up, ${settings.rounds === 1 ? 'one round per scenario' : `${settings.rounds} rounds, each a pass over every scenario (the table shows each scenario's median round; a goal's ratio is the median of its per-round ratios)`}; ` +
      `gunicorn ${gunicornVersion()} with ${settings.gunicornWorkers} sync workers (--threads 1, no keep-alive) or ${settings.gunicornWorkers} gthread workers (--threads 4, keep-alive), Flask GET /hello; ` +
      'Switchyard compiled (dist/), served by `switchyard.handler`, upstream maxInFlight 64, keep-alive agent, no telemetry SDK, decision headers on; nginx 1 worker; ' +
      'Switchyard and Express each in their own Node process; plain Express 5 with its defaults (ETag on).',
    ...(notes.length > 0 || skipped.length > 0 ? ['', ...notes, ...skipped] : []),
  ].join('\n');

  console.log(md);
  const out = join(benchDir, 'results', 'latest.md');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${md}\n`);
  process.stderr.write(`bench: written to ${out}\n`);
}

main().catch((error: unknown) => {
  console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
