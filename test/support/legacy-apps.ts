/**
 * Launch the example "legacy" WSGI apps (examples/legacy-flask and
 * examples/legacy-django) under gunicorn for tests and the benchmark.
 *
 *   const flask = await startFlask({ workers: 2 });
 *   try { ... fetch(`${flask.url}/hello`) ... } finally { await flask.stop(); }
 *
 * Python comes from Debian packages (python3-flask, python3-django, gunicorn);
 * see findPython() for how the interpreter is chosen.
 *
 * Lifetime: gunicorn is spawned with detached: false (same process group, so a
 * terminal Ctrl+C reaches it too) and unref()'d, so a server that a test forgot
 * to stop never keeps the test process alive; a process 'exit' hook then
 * SIGKILLs every gunicorn master and its workers that is still running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

export interface LegacyServer {
  /** 'flask' | 'django' */
  readonly name: string;
  /** Base URL without trailing slash, e.g. http://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** LEGACY_STATE_DIR given to the app (the flask app keeps its shared counters there). */
  readonly stateDir: string;
  /** Last part of gunicorn's error log (its stderr), for diagnostics. */
  logTail(): string;
  /**
   * Sends a signal to gunicorn's master and every worker (chaos tests: SIGSTOP/SIGCONT hang and
   * resume the app, SIGKILL kills it without a goodbye). Returns when the signal is sent; after
   * SIGKILL, stop() only cleans up.
   */
  signal(name: NodeJS.Signals): void;
  /** gunicorn's master and its workers as they are now (benchmarks read their CPU time). */
  pids(): number[];
  /** SIGTERM, wait for exit (SIGKILL after 5 s); idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** gunicorn --workers; default 2. */
  workers?: number;
  /** gunicorn --threads; default 1 (sync worker; >1 selects the gthread worker). */
  threads?: number;
  /** gunicorn --timeout (worker silence timeout) in seconds; default 30. */
  timeoutSeconds?: number;
  /** Port to bind on 127.0.0.1; default: a free port. */
  port?: number;
  /** Extra environment for gunicorn (wins over the defaults, incl. LEGACY_STATE_DIR). */
  env?: Record<string, string>;
  /** Extra gunicorn arguments before the app, e.g. an access log: ['--access-logfile', file]. */
  extraArgs?: readonly string[];
}

/**
 * What fetchJson resolves to: exactly what JSON.parse returns (i.e. `any`).
 * Pass a type argument for a typed result: fetchJson<{ value: number }>(url).
 */
export type JsonResult = ReturnType<typeof JSON.parse>;

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_MS = 50;
const STOP_KILL_AFTER_MS = 5_000;
const LOG_TAIL_BYTES = 8_192;
const INSTALL_HINT = 'apt-get install -y python3-flask python3-django gunicorn';

// ---------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------

/** Repo root: nearest ancestor of this file that holds examples/legacy-flask. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'examples', 'legacy-flask', 'app.py'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `legacy-apps: cannot locate examples/legacy-flask/app.py above ${fileURLToPath(import.meta.url)}`,
      );
    }
    dir = parent;
  }
}

interface AppSpec {
  readonly name: 'flask' | 'django';
  readonly dir: string;
  readonly wsgi: string;
}

function appSpec(name: 'flask' | 'django'): AppSpec {
  const root = repoRoot();
  return name === 'flask'
    ? { name, dir: join(root, 'examples', 'legacy-flask'), wsgi: 'app:app' }
    : { name, dir: join(root, 'examples', 'legacy-django'), wsgi: 'legacy_site.wsgi:application' };
}

// ---------------------------------------------------------------------------
// Python discovery
// ---------------------------------------------------------------------------

let cachedPython: string | undefined;

/**
 * The interpreter that can `import flask, django, gunicorn`: $SWITCHYARD_PYTHON,
 * then /usr/bin/python3 (Debian packages), then `python3` on PATH. Checked once
 * and cached. Throws with install instructions when none qualifies.
 */
export function findPython(): string {
  if (cachedPython !== undefined) return cachedPython;
  const candidates: string[] = [];
  const fromEnv = process.env['SWITCHYARD_PYTHON'];
  if (fromEnv) candidates.push(fromEnv);
  candidates.push('/usr/bin/python3', 'python3');

  const failures: string[] = [];
  for (const candidate of [...new Set(candidates)]) {
    const r = spawnSync(candidate, ['-c', 'import flask, django, gunicorn'], {
      encoding: 'utf8',
      timeout: 20_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (r.status === 0) {
      cachedPython = candidate;
      return candidate;
    }
    const reason = r.error
      ? r.error.message
      : r.stderr.trim().split('\n').pop() || `exit status ${String(r.status ?? r.signal)}`;
    failures.push(`  ${candidate}: ${reason}`);
  }
  throw new Error(
    'legacy-apps: no Python interpreter can `import flask, django, gunicorn` ' +
      '(needed to run the legacy WSGI example apps under gunicorn).\n' +
      `Tried:\n${failures.join('\n')}\n` +
      `Install the Debian packages: ${INSTALL_HINT}\n` +
      '(or point SWITCHYARD_PYTHON at an interpreter that has Flask, Django and gunicorn).',
  );
}

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------

/**
 * A port that is free on 127.0.0.1 now and that the kernel will not hand out by itself: chosen
 * below the ephemeral range (`net.ipv4.ip_local_port_range`). A port from `listen(0)` is an
 * ephemeral one, and between closing it and a child process binding it any outgoing connection of
 * a concurrent test may take it as its local port — a pooled keep-alive connection then holds it
 * for longer than gunicorn's five bind retries (CI saw "Connection in use" on the demo's Flask
 * port). Ports handed out by this process are not handed out again; other test processes draw
 * at random from thousands of ports, and a caller that binds later retries on "in use" anyway.
 */
export async function freePort(): Promise<number> {
  const [low, high] = FIXED_PORT_RANGE;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return kernelChosenPort(); // the range is crowded: fall back to the kernel's choice
}

const handedOut = new Set<number>();
const FIXED_PORT_RANGE: readonly [number, number] = ((): [number, number] => {
  let ephemeralLow = 32_768;
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(first) && first > 0) ephemeralLow = first;
  } catch {
    // not Linux: keep the IANA/Linux default boundary
  }
  // At most 10,000 ports wide and kept below 22,768 where the boundary allows, so a Redis Cluster
  // node's bus port (port + 10,000) stays below the ephemeral range too.
  const high = Math.min(ephemeralLow - 1, 22_767);
  return [Math.max(1_025, high - 9_999), high];
})();

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Bind 127.0.0.1:0, read the port the kernel chose, close. */
function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/**
 * fetch on a connection of its own (`Connection: close`, unless the caller sets one), for a test's
 * direct calls to gunicorn. A pooled keep-alive socket would race gunicorn's 2 s idle close: a
 * request written just as gunicorn closes the socket fails with "other side closed", which fails
 * the test without saying anything about Switchyard.
 */
export function freshFetch(url: string, init?: RequestInit): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (!headers.has('connection')) headers.set('connection', 'close');
  return fetch(url, { ...init, headers });
}

/**
 * fetch + JSON.parse. Rejects (with `status` and `body` on the error) when the
 * response is not 2xx or the body is not JSON. The result is untyped (`any`,
 * as from JSON.parse) unless a type argument is given.
 */
export async function fetchJson<T = JsonResult>(url: string, init?: RequestInit): Promise<T> {
  const res = await freshFetch(url, init);
  const text = await res.text();
  if (!res.ok) {
    throw Object.assign(
      new Error(`${init?.method ?? 'GET'} ${url} -> ${res.status} ${res.statusText}: ${text.slice(0, 500)}`),
      { status: res.status, body: text },
    );
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw Object.assign(new Error(`${init?.method ?? 'GET'} ${url}: response is not JSON: ${text.slice(0, 500)}`), {
      status: res.status,
      body: text,
    });
  }
}

function readTail(file: string, bytes = LOG_TAIL_BYTES): string {
  try {
    const buf = readFileSync(file);
    return buf.subarray(Math.max(0, buf.length - bytes)).toString('utf8');
  } catch {
    return '';
  }
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Direct children of `pid` (Linux /proc; empty elsewhere). Synchronous on purpose (used in 'exit'). */
export function childPids(pid: number): number[] {
  const out = new Set<number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      for (const p of text.split(/\s+/)) if (p) out.add(Number(p));
    }
    return [...out];
  } catch {
    // No /proc/<pid>/task/*/children (kernel without CONFIG_PROC_CHILDREN): scan /proc.
  }
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        // pid (comm) state ppid ... — comm may contain spaces/parens, so split after the last ')'.
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) out.add(Number(entry));
      } catch {
        // process vanished
      }
    }
  } catch {
    // not Linux
  }
  return [...out];
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------
// Process-exit safety net
// ---------------------------------------------------------------------------

const live = new Set<ChildProcess>();
/** Temp dirs we created and have not removed yet (removed by stop() or at exit). */
const pendingDirs = new Set<string>();
let exitHookInstalled = false;

function killTree(child: ChildProcess, signal: NodeJS.Signals): void {
  const pid = child.pid;
  if (pid === undefined || !isRunning(child)) return;
  // Collect workers first: once the master dies they are re-parented.
  const workers = childPids(pid);
  killQuietly(pid, signal);
  for (const w of workers) killQuietly(w, signal);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) killTree(child, 'SIGKILL');
    live.clear();
    for (const dir of pendingDirs) rmSync(dir, { recursive: true, force: true });
    pendingDirs.clear();
  });
}

// ---------------------------------------------------------------------------
// Starting gunicorn
// ---------------------------------------------------------------------------

class GunicornServer implements LegacyServer {
  private stopping: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly url: string,
    readonly port: number,
    readonly stateDir: string,
    private readonly child: ChildProcess,
    private readonly logFile: string,
    private readonly ownedDirs: readonly string[],
  ) {}

  logTail(): string {
    return readTail(this.logFile);
  }

  signal(name: NodeJS.Signals): void {
    killTree(this.child, name);
  }

  pids(): number[] {
    const pid = this.child.pid;
    return pid === undefined || !isRunning(this.child) ? [] : [pid, ...childPids(pid)];
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const { child } = this;
    if (isRunning(child)) {
      child.ref(); // keep the event loop alive until gunicorn is really gone
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const workers = child.pid === undefined ? [] : childPids(child.pid);
      // gunicorn: SIGTERM = graceful stop (it SIGKILLs its own workers after
      // --graceful-timeout, which we keep below our 5 s).
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const w of child.pid === undefined ? [] : childPids(child.pid)) killQuietly(w, 'SIGKILL');
        child.kill('SIGKILL');
        for (const w of workers) killQuietly(w, 'SIGKILL');
      }, STOP_KILL_AFTER_MS);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    live.delete(child);
    for (const dir of this.ownedDirs) {
      rmSync(dir, { recursive: true, force: true });
      pendingDirs.delete(dir);
    }
  }
}

async function waitForReady(url: string, child: ChildProcess, logFile: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    if (!isRunning(child)) {
      throw new Error(
        `gunicorn exited early (code ${String(child.exitCode)}, signal ${String(child.signalCode)}).\n` +
          `--- gunicorn stderr (tail) ---\n${readTail(logFile)}`,
      );
    }
    try {
      const res = await fetch(`${url}/__health`, { signal: AbortSignal.timeout(2_000) });
      const body = await res.text();
      if (res.ok && body.trim() === 'ok') return;
      lastError = `GET /__health -> ${res.status}: ${body.slice(0, 200)}`;
    } catch (err) {
      lastError = err instanceof Error ? `${err.message}${err.cause ? ` (${err.cause instanceof Error ? err.cause.message : JSON.stringify(err.cause)})` : ''}` : String(err);
    }
    await delay(READY_POLL_MS);
  }
  throw new Error(
    `gunicorn did not become ready within ${READY_TIMEOUT_MS} ms at ${url} (last: ${lastError}).\n` +
      `--- gunicorn stderr (tail) ---\n${readTail(logFile)}`,
  );
}

function positiveInt(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`legacy-apps: ${what} must be a positive integer, got ${v}`);
  return v;
}

async function startOnce(spec: AppSpec, opts: StartOptions, port: number): Promise<LegacyServer> {
  const python = findPython();
  const workers = positiveInt(opts.workers, 2, 'workers');
  const threads = positiveInt(opts.threads, 1, 'threads');
  const timeout = positiveInt(opts.timeoutSeconds, 30, 'timeoutSeconds');

  // Run dir: gunicorn's error log. State dir: LEGACY_STATE_DIR (fresh per server).
  const runDir = mkdtempSync(join(tmpdir(), `switchyard-${spec.name}-run-`));
  const ownedDirs = [runDir];
  let stateDir = opts.env?.['LEGACY_STATE_DIR'];
  if (!stateDir) {
    stateDir = mkdtempSync(join(tmpdir(), `switchyard-${spec.name}-state-`));
    ownedDirs.push(stateDir);
  }
  const logFile = join(runDir, 'gunicorn.log');

  const args = [
    '-m',
    'gunicorn',
    '--bind',
    `127.0.0.1:${port}`,
    '--workers',
    String(workers),
    '--threads',
    String(threads),
    '--timeout',
    String(timeout),
    '--graceful-timeout',
    '3',
    '--chdir',
    spec.dir,
    '--error-logfile',
    '-',
    '--log-level',
    'info',
    // Access log stays off: gunicorn only writes one when --access-logfile is given.
    ...(opts.extraArgs ?? []),
    spec.wsgi,
  ];

  // gunicorn's stderr (and stdout) go straight to a file: no pipe to drain, and
  // nothing that keeps our event loop alive.
  const logFd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(python, args, {
      cwd: spec.dir,
      detached: false,
      stdio: ['ignore', logFd, logFd],
      env: {
        ...process.env,
        PYTHONUNBUFFERED: '1',
        PYTHONDONTWRITEBYTECODE: '1',
        DJANGO_SETTINGS_MODULE: 'legacy_site.settings',
        LEGACY_STATE_DIR: stateDir,
        ...opts.env,
      },
    });
  } finally {
    closeSync(logFd);
  }
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`legacy-apps: cannot spawn ${python}: ${err.message}`)));
  });
  spawnError.catch(() => {}); // only consumed by the race below; never unhandled

  installExitHook();
  live.add(child);
  for (const dir of ownedDirs) pendingDirs.add(dir);
  child.once('exit', () => live.delete(child));
  child.unref();

  const url = `http://127.0.0.1:${port}`;
  const server = new GunicornServer(spec.name, url, port, stateDir, child, logFile, ownedDirs);
  try {
    await Promise.race([waitForReady(url, child, logFile), spawnError]);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

async function start(name: 'flask' | 'django', opts: StartOptions = {}): Promise<LegacyServer> {
  const spec = appSpec(name);
  // With a port of our choosing there is a small window between freePort()
  // closing it and gunicorn binding it: retry on "address in use".
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOnce(spec, opts, port);
    } catch (err) {
      lastError = err;
      const msg = err instanceof Error ? err.message : String(err);
      if (!/Address already in use|Connection in use/i.test(msg)) break;
    }
  }
  if (lastError instanceof Error) {
    lastError.message = `legacy-apps: starting ${name} failed: ${lastError.message}`;
    throw lastError;
  }
  throw new Error(`legacy-apps: starting ${name} failed: ${String(lastError)}`);
}

/** gunicorn serving examples/legacy-flask (app:app). */
export function startFlask(opts?: StartOptions): Promise<LegacyServer> {
  return start('flask', opts);
}

/** gunicorn serving examples/legacy-django (legacy_site.wsgi:application). */
export function startDjango(opts?: StartOptions): Promise<LegacyServer> {
  return start('django', opts);
}
