/**
 * `npm run bench:profile -- <mode> [--seconds N]`: where one benchmark server spends its CPU under
 * the bench's load (wrk -t2 -c16 against keep-alive gthread gunicorn, as in `npm run bench`).
 * The server (bench/servers.ts, compiled) runs its warm-up unprofiled; V8's sampling profiler
 * (every 250 µs) then covers exactly the measured wrk run, and the profile is summarised per
 * request by category and by function (bench/cpu-profile-summary.ts), beside the CPU time per
 * request the kernel counted for the process over the same run. Run a
 * Switchyard mode and its bare Node counterpart one after the other to see what the difference is
 * made of. The raw profile is kept (path printed) for Chrome's or VS Code's profiler panel.
 *
 * Modes: switchyard-legacy, switchyard-cache-memory, switchyard-new, bare-proxy, bare-undici-proxy,
 * bare-json, express.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { startFlask, type LegacyServer } from '../test/support/legacy-apps.js';
import { cpuSeconds, startServer, WRK, wrk } from './bench-processes.js';
import { formatSummary, summariseProfile, type CpuProfile } from './cpu-profile-summary.js';

const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** The path each mode is loaded on (the same as its `npm run bench` scenario). */
const PATHS: Readonly<Record<string, string>> = {
  'switchyard-legacy': '/flask/hello',
  'switchyard-cache-memory': '/cached/cacheable?max_age=3600',
  'switchyard-new': '/flask/hello',
  'bare-proxy': '/hello',
  'bare-undici-proxy': '/hello',
  'bare-json': '/hello',
  express: '/hello',
};

function usage(message: string): never {
  process.stderr.write(`bench:profile: ${message}\nusage: npm run bench:profile -- <${Object.keys(PATHS).join('|')}> [--seconds N]\n`);
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { mode: string; seconds: number } {
  let mode: string | undefined;
  let seconds = 10;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--seconds') {
      seconds = Number(argv[++i]);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > 600) usage('--seconds must be an integer from 1 to 600');
    } else if (mode === undefined && !arg.startsWith('-')) mode = arg;
    else usage(`unknown argument \`${arg}\``);
  }
  if (mode === undefined) usage('name a mode');
  if (PATHS[mode] === undefined) usage(`unknown mode \`${mode}\``);
  return { mode, seconds };
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`the server wrote no profile to ${file} within ${timeoutMs} ms`);
    await delay(50);
  }
}

async function main(): Promise<void> {
  const { mode, seconds } = parseArgs(process.argv.slice(2));
  if (!existsSync(WRK)) throw new Error(`wrk not found at ${WRK}; \`npm run bench:profile\` installs it (apt-get install -y wrk)`);
  const profileFile = join(mkdtempSync(join(tmpdir(), 'switchyard-profile-')), `${mode}.cpuprofile`);
  let flask: LegacyServer | undefined;
  try {
    flask = await startFlask({ workers: 2, threads: 4 });
    const target = await startServer(mode, [flask.url], { BENCH_CPU_PROFILE: profileFile });
    try {
      const url = target.url + (PATHS[mode] ?? '/');
      const probe = await fetch(url);
      if (probe.status !== 200) throw new Error(`GET ${url} -> ${probe.status}: ${(await probe.text()).slice(0, 300)}`);
      await wrk(url, 2, 16, 2);
      if (target.pid === undefined) throw new Error('the server has no pid to signal');
      process.kill(target.pid, 'SIGUSR2');
      await delay(100); // the profiler is on before the load starts
      const cpuBefore = cpuSeconds(target.pid);
      const load = await wrk(url, seconds, 16, 2);
      const cpuAfter = cpuSeconds(target.pid);
      process.kill(target.pid, 'SIGUSR2');
      await waitForFile(profileFile, 30_000);
      const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
      const summary = summariseProfile(profile, repoRoot);
      process.stdout.write(`## ${mode}: GET ${PATHS[mode] ?? '/'}, wrk -t2 -c16 -d${seconds}s — ${Math.round(load.rps)} req/s${load.problems.length > 0 ? ` (${load.problems.join('; ')})` : ''}\n\n`);
      // The sampler fires on wall-clock time: a sample taken while the thread waits for a core
      // (two cores shared with wrk and gunicorn) lands on whatever it was in — mostly the write
      // that woke the peer. So the profile's busy time runs above the CPU the kernel counted.
      const cpuUs = cpuBefore === null || cpuAfter === null ? null : ((cpuAfter - cpuBefore) * 1e6) / load.requests;
      process.stdout.write(`CPU per request from /proc (all threads, user + system): ${cpuUs === null ? 'unknown' : `**${cpuUs.toFixed(1)} µs**`}; the profile's figures below are main-thread time between samples, waits for a core included.\n\n`);
      process.stdout.write(`${formatSummary(summary, load.requests)}\n\nraw profile: ${profileFile}\n`);
    } finally {
      await target.stop();
    }
  } finally {
    await flask?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:profile: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
