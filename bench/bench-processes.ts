/**
 * The processes a benchmark drives (shared by bench/run.ts and bench/profile.ts):
 * a bench/servers.ts target in its own child process, and wrk with its output parsed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const WRK = '/usr/bin/wrk';
const repoRoot = dirname(dirname(fileURLToPath(import.meta.url)));

/** Shared with the Switchyard servers (bench/servers.ts) through their environment. */
export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export interface Target {
  readonly url: string;
  /** The serving process, when it is one of ours: its CPU time per request is reported. */
  readonly pid?: number;
  stop(): Promise<void>;
}

/** Every child started here: killed when this process exits, whatever way it exits. */
export const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Without a handler Node dies without running 'exit' hooks (ours and legacy-apps' gunicorn one).
  process.once(signal, () => process.exit(130));
}

export async function startServer(mode: string, args: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Target> {
  // Compiled by `npm run bench` (tsconfig.bench.json): what users run. Under tsx the same server
  // measured ~30% slower, which is the loader's cost, not Switchyard's.
  const serversJs = join(repoRoot, 'dist', 'bench', 'servers.js');
  if (!existsSync(serversJs)) throw new Error(`${serversJs} is missing: run the benchmark with \`npm run bench\` (it compiles bench/servers.ts first)`);
  const child = spawn(process.execPath, [serversJs, mode, ...args], {
    cwd: repoRoot,
    env: { ...process.env, BENCH_ADMIN_TOKEN: ADMIN_TOKEN, ...extraEnv },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.on('line', (line) => {
        const m = /^PORT (\d+)$/.exec(line);
        if (m) resolve(Number(m[1]));
      });
      child.once('error', reject);
      void exited.then(() => reject(new Error(`bench server \`${mode}\` exited before listening (code ${String(child.exitCode)})`)));
      setTimeout(() => reject(new Error(`bench server \`${mode}\` did not print its port within 30 s`)), 30_000).unref();
    });
    return { url: `http://127.0.0.1:${port}`, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

// ---------------------------------------------------------------------------
// wrk
// ---------------------------------------------------------------------------

export interface WrkResult {
  readonly rps: number;
  readonly p50ms: number;
  readonly p99ms: number;
  readonly requests: number;
  /** The scenario's own report (see Scenario.report). */
  readonly report?: string;
  /** CPU time of the serving process per request, when it is one of ours (see cpuSeconds). */
  readonly cpuMsPerRequest?: number;
  /** Socket errors and non-2xx/3xx responses, as wrk reports them; empty when none. */
  readonly problems: string[];
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function percentileMs(output: string, p: string): number {
  const m = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(output);
  const unit = m?.[2] === undefined ? undefined : UNIT_MS[m[2]];
  if (m?.[1] === undefined || unit === undefined) throw new Error(`wrk output has no ${p}% latency:\n${output}`);
  return Number(m[1]) * unit;
}

function parseWrk(output: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(output)?.[1];
  const requests = /^\s*(\d+) requests in /m.exec(output)?.[1];
  if (rps === undefined || requests === undefined) throw new Error(`cannot parse wrk output:\n${output}`);
  const problems: string[] = [];
  const socket = /Socket errors: (.*)/.exec(output)?.[1];
  if (socket !== undefined) problems.push(`socket errors: ${socket}`);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1];
  if (non2xx !== undefined) problems.push(`${non2xx} non-2xx/3xx responses`);
  return { rps: Number(rps), p50ms: percentileMs(output, '50'), p99ms: percentileMs(output, '99'), requests: Number(requests), problems };
}

/** One wrk run (`threads` capped at `connections`), parsed. */
export async function wrk(url: string, seconds: number, connections: number, threads: number): Promise<WrkResult> {
  const args = [`-t${Math.min(threads, connections)}`, `-c${connections}`, `-d${seconds}s`, '--latency', url];
  const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: (seconds + 30) * 1000 });
  children.add(child);

  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  children.delete(child);
  if (code !== 0) throw new Error(`wrk exited with ${String(code ?? child.signalCode)}:\n${stdout}`);
  return parseWrk(stdout);
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); null elsewhere. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS_PER_SECOND = 100;
