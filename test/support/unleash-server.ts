/**
 * A real Unleash server (unleash-server 6.4.1, the newest line that runs on Node 20) for the
 * integration tests, on the PostgreSQL at 127.0.0.1:5432 (trust auth, user postgres).
 *
 *   const unleash = await startUnleashServer();
 *   try { await unleash.admin.createFlag('users'); ... unleash.url, unleash.clientToken ... }
 *   finally { await unleash.stop(); }     // stops it and drops its database
 *
 * The server is a test-only install in test/unleash-server (its own package.json and lock file),
 * never in Switchyard's dependency tree: `npm ci --prefix test/unleash-server` runs here on first
 * use when its node_modules is missing (.ci/run installs it up front). Each server gets a fresh
 * database, dropped by stop(); databases left by a test process that died are dropped next time.
 * Initial admin and client API tokens come from the server's start options.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './legacy-apps.js';

export const UNLEASH_SERVER_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'unleash-server');
const SERVER_SCRIPT = join(UNLEASH_SERVER_DIR, 'server.cjs');
const DB_PREFIX = 'switchyard_unleash_';
const START_TIMEOUT_MS = 120_000;
const ENVIRONMENT = 'development';

export interface FlexibleRollout {
  readonly percentage: number;
  readonly groupId?: string;
  readonly stickiness?: string;
  readonly constraints?: readonly Record<string, unknown>[];
}

export interface UnleashAdmin {
  /** Creates a release flag in project `default` (off in every environment until enabled). */
  createFlag(name: string, options?: { impressionData?: boolean }): Promise<void>;
  /** Adds a flexibleRollout strategy to the flag in `development`; returns the strategy id. */
  addFlexibleRollout(flag: string, rollout: FlexibleRollout): Promise<string>;
  updateFlexibleRollout(flag: string, strategyId: string, rollout: FlexibleRollout): Promise<void>;
  enable(flag: string): Promise<void>;
  disable(flag: string): Promise<void>;
  /** Any Admin API call: method, path under /api/admin, JSON body. */
  call(method: string, path: string, body?: unknown): Promise<unknown>;
}

export interface UnleashTestServer {
  /** The API URL clients use: http://127.0.0.1:PORT/api/ */
  readonly url: string;
  readonly port: number;
  readonly database: string;
  readonly adminToken: string;
  /** A client (backend SDK) token for the `development` environment. */
  readonly clientToken: string;
  readonly environment: string;
  readonly admin: UnleashAdmin;
  logTail(): string;
  /** SIGKILL: Unleash gone without a goodbye (the database stays until stop()). */
  kill(): Promise<void>;
  /** Starts it again after kill(), on the same port, database and tokens. */
  restart(): Promise<void>;
  /** Stops the server (if still running) and drops its database; idempotent. */
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHook = false;

function run(command: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} took longer than ${options.timeoutMs} ms:\n${output.slice(-4000)}`));
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** `npm ci --prefix test/unleash-server` when its node_modules is missing (a few hundred MB, about a minute). */
export async function ensureUnleashServerInstalled(): Promise<void> {
  if (existsSync(join(UNLEASH_SERVER_DIR, 'node_modules', 'unleash-server', 'package.json')) && existsSync(join(UNLEASH_SERVER_DIR, 'node_modules', 'pg', 'package.json'))) return;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const { code, output } = await run(npm, ['ci', '--prefix', UNLEASH_SERVER_DIR, '--no-audit', '--no-fund'], { timeoutMs: 540_000 });
  if (code !== 0) throw new Error(`could not install the test-only Unleash server (npm ci --prefix ${UNLEASH_SERVER_DIR}, exit ${code}):\n${output.slice(-4000)}`);
}

async function serverScript(command: string, arg: string): Promise<void> {
  const { code, output } = await run(process.execPath, [SERVER_SCRIPT, command, arg], { cwd: UNLEASH_SERVER_DIR, timeoutMs: 30_000 });
  if (code !== 0) throw new Error(`unleash test server ${command} ${arg} failed (exit ${code}):\n${output.slice(-2000)}`);
}

/** True when something accepts TCP connections at 127.0.0.1:port. */
function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Unleash needs PostgreSQL at 127.0.0.1:5432 (trust auth). If it is down, start the machine's
 * cluster the way this machine kind does (`pg_ctlcluster … main start`); if that is not possible,
 * fail saying exactly what is missing.
 */
async function ensurePostgres(): Promise<void> {
  if (await reachable(5432)) return;
  if (existsSync('/etc/postgresql')) {
    const versions = readdirSync('/etc/postgresql');
    for (const version of versions) await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { timeoutMs: 30_000 }).catch(() => undefined);
    for (let i = 0; i < 50 && !(await reachable(5432)); i++) await delay(100);
    if (await reachable(5432)) return;
  }
  throw new Error(
    'the real Unleash server needs PostgreSQL at 127.0.0.1:5432 with trust auth for user postgres, and none answers.\n' +
      '  Install and start it: apt-get install -y postgresql && pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n' +
      '  (then allow trust auth for 127.0.0.1 in pg_hba.conf).',
  );
}

export async function startUnleashServer(options: { logLevel?: string } = {}): Promise<UnleashTestServer> {
  await ensurePostgres();
  await ensureUnleashServerInstalled();
  await serverScript('prune', DB_PREFIX);
  const port = await freePort();
  const database = `${DB_PREFIX}${process.pid}_${Date.now()}`;
  const secret = randomBytes(16).toString('hex');
  const adminToken = `*:*.admin${secret}`;
  const clientToken = `*:${ENVIRONMENT}.client${secret}`;
  const startOptions = { database, port, adminToken, clientTokens: [{ secret: clientToken, environment: ENVIRONMENT }], logLevel: options.logLevel ?? 'warn' };

  let log = '';
  // A relaunch (restart()) reuses the port, database and tokens: clients reconnect to the same URL.
  const launch = async (reuseDatabase: boolean): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [SERVER_SCRIPT, 'start', JSON.stringify({ ...startOptions, reuseDatabase })], { cwd: UNLEASH_SERVER_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    child.once('exit', () => live.delete(child));
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const p of live) p.kill('SIGKILL');
      });
    }
    log = '';
    const append = (c: Buffer): void => {
      log = (log + c.toString()).slice(-16_384);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    child.unref();

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!log.includes('UNLEASH_READY')) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`unleash-server exited at start-up (exit ${child.exitCode ?? child.signalCode}):\n${log}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`unleash-server did not start within ${START_TIMEOUT_MS} ms:\n${log}`);
      }
      await delay(50);
    }
    return child;
  };
  let child: ChildProcess;
  try {
    child = await launch(false);
  } catch (error) {
    await serverScript('dropdb', database).catch(() => {});
    throw error;
  }

  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${base}/api/admin${path}`, {
      method,
      headers: { authorization: adminToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Unleash Admin API ${method} ${path}: ${res.status} ${text}`);
    return text === '' ? null : (JSON.parse(text) as unknown);
  };
  const feature = (flag: string) => `/projects/default/features/${encodeURIComponent(flag)}`;
  const strategyBody = (r: FlexibleRollout) => ({
    name: 'flexibleRollout',
    parameters: { rollout: String(r.percentage), stickiness: r.stickiness ?? 'userId', groupId: r.groupId ?? '' },
    constraints: r.constraints ?? [],
  });
  const admin: UnleashAdmin = {
    createFlag: async (name, o = {}) => void (await call('POST', '/projects/default/features', { name, type: 'release', impressionData: o.impressionData ?? false })),
    addFlexibleRollout: async (flag, r) => {
      const body = strategyBody({ ...r, groupId: r.groupId ?? flag });
      const created = (await call('POST', `${feature(flag)}/environments/${ENVIRONMENT}/strategies`, body)) as { id: string };
      return created.id;
    },
    updateFlexibleRollout: async (flag, id, r) => void (await call('PUT', `${feature(flag)}/environments/${ENVIRONMENT}/strategies/${id}`, strategyBody({ ...r, groupId: r.groupId ?? flag }))),
    enable: async (flag) => void (await call('POST', `${feature(flag)}/environments/${ENVIRONMENT}/on`)),
    disable: async (flag) => void (await call('POST', `${feature(flag)}/environments/${ENVIRONMENT}/off`)),
    call,
  };

  let stopped = false;
  const killWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(force);
  };
  return {
    url: `${base}/api/`,
    port,
    database,
    adminToken,
    clientToken,
    environment: ENVIRONMENT,
    admin,
    logTail: () => log,
    kill: () => killWith('SIGKILL'),
    restart: async () => {
      await killWith('SIGKILL');
      child = await launch(true);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await killWith('SIGTERM');
      await serverScript('dropdb', database);
    },
  };
}
