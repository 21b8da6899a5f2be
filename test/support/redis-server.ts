/**
 * A private `redis-server` for tests: its own free port, no persistence, stopped by the test.
 * Tests never touch a shared Redis (the outage tests kill and pause this one).
 *
 *   const redis = await startRedis();
 *   try { ... redis.url ... await redis.kill(); await redis.restart(); } finally { await redis.stop(); }
 *
 * Needs Debian's redis-server (`apt-get install redis-server`); fails with that hint when missing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from './legacy-apps.js';

export interface RedisServer {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: an outage with no goodbye. */
  kill(): Promise<void>;
  /** Start again on the same port (empty: nothing is persisted). */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: a Redis that accepts connections but never answers. */
  pause(): void;
  resume(): void;
  /** One command over a fresh connection (e.g. `INFO stats`), answer as text. */
  command(...args: string[]): Promise<string>;
  /** Stop for good (idempotent). */
  stop(): Promise<void>;
}

const INSTALL_HINT = 'apt-get install -y redis-server';
const READY_TIMEOUT_MS = 10_000;
const live = new Set<ChildProcess>();
let exitHook = false;

export function findRedisServer(): string {
  const candidates = [process.env['SWITCHYARD_REDIS_SERVER'], '/usr/bin/redis-server', 'redis-server'].filter((c): c is string => c !== undefined && c !== '');
  for (const candidate of candidates) {
    if (candidate.includes('/') ? existsSync(candidate) : spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(`redis-server not found (tried ${candidates.join(', ')}): the cache tests run a private Redis. Install it with: ${INSTALL_HINT}`);
}

/**
 * Spawns one Redis process (`redis-server`, or `redis-sentinel` with its config file) and waits
 * until it answers PING on `port`. Killed with this test process if the test forgets it.
 */
export async function spawnRedisProcess(binary: string, args: readonly string[], port: number): Promise<ChildProcess> {
  const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.unref();
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const p of live) p.kill('SIGKILL');
    });
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${binary} exited at start-up (port ${port}): ${stderr}`);
    try {
      if ((await send(port, ['PING'])).startsWith('+PONG')) return proc;
    } catch {
      // not listening yet
    }
    await delay(25);
  }
  proc.kill('SIGKILL');
  throw new Error(`${binary} did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms: ${stderr}`);
}

/** Stops a process spawned by spawnRedisProcess and waits for its exit (SIGKILL: an outage with no goodbye). */
export async function stopRedisProcess(proc: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.ref(); // the child is unref()'d: without this, awaiting its exit can let the event loop drain
  proc.kill('SIGCONT');
  proc.kill(signal);
  await exited;
}

export async function startRedis(): Promise<RedisServer> {
  const binary = findRedisServer();
  const port = await freePort();
  let child: ChildProcess | null = null;
  let stopped = false;

  const launch = async (): Promise<void> => {
    child = await spawnRedisProcess(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], port);
  };

  const killNow = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    await stopRedisProcess(proc, signal);
  };

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => killNow('SIGKILL'),
    restart: async () => {
      await killNow('SIGKILL');
      await launch();
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    command: (...args) => send(port, args),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await killNow('SIGTERM');
    },
  };
}

/** Sends one RESP command and returns the raw reply (enough for PING, INFO, DBSIZE, FLUSHALL). */
export function send(port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis ${args[0]}: no reply`));
    }, 2_000);
    socket.on('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (complete(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

function complete(reply: string): boolean {
  if (reply.startsWith('$')) {
    const header = reply.indexOf('\r\n');
    if (header === -1) return false;
    const length = Number(reply.slice(1, header));
    return length < 0 || Buffer.byteLength(reply) >= header + 2 + length + 2;
  }
  return reply.endsWith('\r\n');
}
