/**
 * The system under chaos: two Switchyard processes (the real CLI, src/main.ts) sharing one private
 * redis-server, in front of gunicorn Flask (gthread workers, an access log naming each request's
 * X-Chaos-Id) and the "new" service (bench/chaos/new-service.ts), optionally with a real
 * unleash-server deciding the `users` route. Every part can be killed, hung, slowed and
 * restarted on its own port, so clients and Switchyard reconnect to the same addresses.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT, type CliRun } from '../../test/support/cli-process.js';
import { freePort, startFlask, type LegacyServer } from '../../test/support/legacy-apps.js';
import { startRedis, type RedisServer } from '../../test/support/redis-server.js';
import { startUnleashServer, type UnleashTestServer } from '../../test/support/unleash-server.js';
import type { ProbeTokens } from './token-probe.js';
import { secretToken } from './token-scan.js';

/** Fresh per run, from letters ordinary output never strings together, so the token scan can look for any part of one. */
export const TOKENS: ProbeTokens = Object.freeze({ admin: secretToken(randomBytes(24)), viewer: secretToken(randomBytes(24)), override: secretToken(randomBytes(24)), guess: secretToken(randomBytes(24)) });
export const ADMIN_TOKEN = TOKENS.admin;
export const USERS_FLAG = 'users';

export interface ClusterOptions {
  /** A real unleash-server decides the `users` rollout (50%, then whatever a scenario sets). */
  readonly unleash: boolean;
  /** Legacy upstream's responseTimeoutMs: how soon a hung gunicorn turns into 504s. */
  readonly legacyResponseTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/** Where a request ended up, by its X-Chaos-Id: gunicorn's access log and the new service's records. */
export interface SideRecords {
  /** id → how many times gunicorn answered it as a served (not shadow) request. */
  readonly legacy: ReadonlyMap<number, number>;
  readonly legacyShadow: ReadonlySet<number>;
  readonly newServed: ReadonlyMap<number, number>;
  readonly newShadow: ReadonlySet<number>;
}

export type ToggleMode = 'legacy' | 'new';

/** flags/ of the run; `toggle` is the route a valid live edit moves. */
export function routesYaml(toggle: ToggleMode, unleash: boolean): string {
  return `routes:
  - name: app
    path: /app/*
    legacy: { upstream: flask, stripPrefix: /app }
  - name: plain
    path: /app/echo/plain
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
  - name: hello
    path: /app/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    new: { handler: hello }
    mode: new
  - name: users
    path: /app/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    new: { upstream: newsvc, stripPrefix: /app }
    mode: ${unleash ? 'legacy' : 'rollout'}
    rollout: { percentage: 50 }
  - name: catalog
    path: /app/catalog
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    new: { upstream: newsvc, stripPrefix: /app }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 0, timeoutMs: 1000 }
  - name: cached
    path: /app/cacheable
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    cache: { staleIfErrorSeconds: 60 }
  - name: toggle
    path: /app/echo/toggle
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    new: { upstream: newsvc, stripPrefix: /app }
    mode: ${toggle}
  # The autopilot moves this one: shadow stage, then 10% → 50% → 100% (the new service answers
  # /status/200 exactly as Flask does, so the gates pass and it promotes while faults come and go).
  - name: canaried
    path: /app/status/200
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /app }
    new: { upstream: newsvc, stripPrefix: /app }
    canary: { autoStart: true, interval: 2s, shadowFirst: { percentage: 100, minCompared: 40, bake: 10s }, steps: [10, 50, 100], bake: 20s, minRequests: 20 }
settings:
  exposeDecisionHeaders: true
  stickiness: [{ header: X-User-Id }]
  shadow: { maxEventLoopUtilization: 1 }
`;
}

/** A routes file the validator rejects (an unknown mode): a live edit that must change nothing. */
export const INVALID_ROUTES_YAML = `routes:
  - name: toggle
    path: /app/echo/toggle
    legacy: { upstream: flask, stripPrefix: /app }
    mode: sideways
`;

function upstreamsYaml(flaskPort: number, newPort: number, responseTimeoutMs: number): string {
  return `upstreams:
  flask:
    url: http://127.0.0.1:${flaskPort}
    maxInFlight: 8
    maxQueue: 200
    queueTimeoutMs: 3000
    connectTimeoutMs: 1000
    responseTimeoutMs: ${responseTimeoutMs}
  newsvc:
    url: http://127.0.0.1:${newPort}
    maxInFlight: 64
    responseTimeoutMs: ${responseTimeoutMs}
`;
}

export class ChaosCluster {
  readonly switchyards: (CliRun | null)[] = [];
  private launches = 0;

  private constructor(
    readonly options: ClusterOptions,
    readonly dir: string,
    readonly redis: RedisServer,
    public flask: LegacyServer,
    private readonly flaskStateDir: string,
    private readonly accessLog: string,
    readonly newService: { readonly url: string; readonly child: ChildProcess },
    readonly unleash: UnleashTestServer | null,
    private readonly usersStrategy: string,
    readonly ports: readonly number[],
  ) {}

  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-chaos-'));
    const say = options.log ?? (() => {});
    const started: { stop(): Promise<void> }[] = [];
    try {
      const redis = await startRedis();
      started.push(redis);
      const flaskStateDir = join(dir, 'flask-state');
      const accessLog = join(dir, 'gunicorn-access.log');
      const flask = await startFlaskAt(undefined, flaskStateDir, accessLog);
      started.push(flask);
      const newService = await startNewService(await freePort());
      started.push({ stop: () => Promise.resolve(void newService.child.kill('SIGKILL')) });
      say(`redis ${redis.url}, flask ${flask.url}, new service ${newService.url}`);
      let unleash: UnleashTestServer | null = null;
      let usersStrategy = '';
      if (options.unleash) {
        say('starting unleash-server (PostgreSQL) …');
        unleash = await startUnleashServer();
        started.push(unleash);
        await unleash.admin.createFlag(USERS_FLAG);
        usersStrategy = await unleash.admin.addFlexibleRollout(USERS_FLAG, { percentage: 50, groupId: USERS_FLAG });
        await unleash.admin.enable(USERS_FLAG);
      }
      const flagsDir = join(dir, 'flags');
      mkdirSync(flagsDir);
      writeFileSync(join(flagsDir, 'upstreams.yaml'), upstreamsYaml(flask.port, Number(new URL(newService.url).port), options.legacyResponseTimeoutMs ?? 2000));
      writeFileSync(join(flagsDir, 'routes.yaml'), routesYaml('legacy', options.unleash));
      const ports = [await freePort(), await freePort()];
      const cluster = new ChaosCluster(options, dir, redis, flask, flaskStateDir, accessLog, newService, unleash, usersStrategy, ports);
      await Promise.all(ports.map((_, i) => cluster.startSwitchyard(i)));
      say(`switchyards ${cluster.urls.join(' ')}`);
      return cluster;
    } catch (error) {
      for (const s of started.reverse()) await s.stop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get urls(): string[] {
    return this.ports.map((p) => `http://127.0.0.1:${p}`);
  }

  get flagsDir(): string {
    return join(this.dir, 'flags');
  }

  /** Starts (or restarts) instance i on its port and waits until readyz answers 200. */
  async startSwitchyard(i: number): Promise<void> {
    const port = this.ports[i]!;
    const env: NodeJS.ProcessEnv = {
      SWITCHYARD_FLAGS_DIR: this.flagsDir,
      SWITCHYARD_PORT: String(port),
      SWITCHYARD_HOST: '127.0.0.1',
      SWITCHYARD_HANDLERS: join(ROOT, 'examples', 'new-handlers.ts'),
      SWITCHYARD_ADMIN_TOKEN: TOKENS.admin,
      SWITCHYARD_VIEWER_TOKEN: TOKENS.viewer,
      SWITCHYARD_OVERRIDE_TOKEN: TOKENS.override,
      SWITCHYARD_METRICS: 'prometheus',
      SWITCHYARD_LOG_FORMAT: 'json',
      SWITCHYARD_BACKUP_DIR: join(this.dir, `backup-${i}`),
      REDIS_URL: this.redis.url,
      ...(this.unleash === null
        ? {}
        : { UNLEASH_URL: this.unleash.url, UNLEASH_API_TOKEN: this.unleash.clientToken, UNLEASH_REFRESH_INTERVAL_MS: '1000', UNLEASH_INSTANCE_ID: `chaos-${i}`, UNLEASH_STARTUP_TIMEOUT_MS: '10000' }),
    };
    const run = runSwitchyard(env, join(this.dir, `switchyard-${i}-${++this.launches}.log`));
    this.switchyards[i] = run;
    let exited = false;
    void run.done.then(() => (exited = true));
    const ready = await pollUntil(async () => (await fetch(`http://127.0.0.1:${port}/_switchyard/readyz`).catch(() => null))?.status === 200, 60_000, () => exited);
    if (!ready) throw new Error(`switchyard ${i} did not become ready:\n${run.stdout()}${run.stderr()}`);
  }

  /** Sends a signal to instance i; SIGKILL/SIGTERM resolve when it has exited. */
  async signalSwitchyard(i: number, signal: NodeJS.Signals): Promise<void> {
    const run = this.switchyards[i];
    if (run === null || run === undefined) return;
    run.signal(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') {
      await run.done;
      this.switchyards[i] = null;
    }
  }

  async killLegacy(): Promise<void> {
    this.flask.signal('SIGKILL');
    await this.flask.stop();
  }

  async restartLegacy(): Promise<void> {
    this.flask = await startFlaskAt(this.flask.port, this.flaskStateDir, this.accessLog);
  }

  async setLegacyDelay(ms: number): Promise<void> {
    const res = await fetch(`${this.flask.url}/__chaos/delay?ms=${ms}`, { method: 'POST' });
    if (!res.ok) throw new Error(`flask delay: ${res.status}`);
  }

  async setShadowMode(mode: 'ok' | 'hang' | 'garbage'): Promise<void> {
    const res = await fetch(`${this.newService.url}/__mode?shadow=${mode}`, { method: 'POST' });
    if (!res.ok) throw new Error(`new service mode: ${res.status}`);
  }

  /** Which instance holds the autopilot's lease (`switchyard:canary:leader`, its value names the pid), or null. */
  async leaderInstance(): Promise<number | null> {
    const reply = await this.redis.command('GET', 'switchyard:canary:leader').catch(() => '');
    const value = reply.startsWith('$-1') ? '' : (reply.split('\r\n')[1] ?? '');
    const index = this.switchyards.findIndex((run) => run !== null && run !== undefined && new RegExp(`(^|\\D)${run.pid}(\\D|$)`).test(value));
    return index === -1 ? null : index;
  }

  /** The autopilot run of `canaried` as the admin API shows it (null when there is none or no instance answers). */
  async canaryRun(): Promise<{ status: string; stage: { kind: string; percentage: number }; leader: string } | null> {
    for (const url of this.urls) {
      const res = await fetch(`${url}/_switchyard/canary/canaried`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).catch(() => null);
      if (res?.ok === true) return (await res.json()) as { status: string; stage: { kind: string; percentage: number }; leader: string };
    }
    return null;
  }

  /** Lines a scenario adds to its row's details (cleared by runScenario). */
  readonly notes: string[] = [];

  /** The `users` flag's rollout percentage in Unleash. */
  async setUsersRollout(percentage: number): Promise<void> {
    if (this.unleash === null) throw new Error('this cluster runs without Unleash');
    await this.unleash.admin.updateFlexibleRollout(USERS_FLAG, this.usersStrategy, { percentage, groupId: USERS_FLAG });
  }

  writeRoutes(text: string): void {
    writeFileSync(join(this.flagsDir, 'routes.yaml'), text);
  }

  async flaskHits(): Promise<Record<string, number>> {
    return (await (await fetch(`${this.flask.url}/__hits`)).json()) as Record<string, number>;
  }

  /** Both sides' records of ids ≥ fromId (gunicorn writes its access line once it has answered). */
  async sideRecords(fromId: number): Promise<SideRecords> {
    const legacy = new Map<number, number>();
    const legacyShadow = new Set<number>();
    for (const line of readFileSync(this.accessLog, 'utf8').split('\n')) {
      const [idText, shadow] = line.split(' ');
      const id = Number(idText);
      if (!Number.isInteger(id) || id < fromId) continue;
      if (shadow === '-') legacy.set(id, (legacy.get(id) ?? 0) + 1);
      else legacyShadow.add(id);
    }
    const seen = (await (await fetch(`${this.newService.url}/__seen?from=${fromId}`)).json()) as { served: number[]; shadow: number[] };
    const newServed = new Map<number, number>();
    for (const id of seen.served) newServed.set(id, (newServed.get(id) ?? 0) + 1);
    return { legacy, legacyShadow, newServed, newShadow: new Set(seen.shadow) };
  }

  /** Unleash's tokens (exact strings: their `*:env.` prefix is ordinary text), when it runs. */
  unleashTokens(): Record<string, string> {
    return this.unleash === null ? {} : { 'unleash client token': this.unleash.clientToken, 'unleash admin token': this.unleash.adminToken };
  }

  /** Everything the Switchyard processes printed (for greps of the captured output). */
  capturedOutput(): string {
    return readdirSync(this.dir)
      .filter((f) => /^switchyard-\d+-\d+\.log$/.test(f))
      .sort()
      .map((f) => `--- ${f} ---\n${readFileSync(join(this.dir, f), 'utf8')}`)
      .join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.switchyards.map((_, i) => this.signalSwitchyard(i, 'SIGTERM')));
    this.newService.child.kill('SIGKILL');
    this.flask.signal('SIGCONT');
    await this.flask.stop();
    this.redis.resume();
    await this.redis.stop();
    await this.unleash?.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * The real CLI (src/main.ts under tsx) with its output going straight to a file, as gunicorn's
 * does: on Linux a write to a pipe is synchronous, so a busy parent reading the pipe slowly would
 * block Switchyard's event loop on its own log lines and measure the load generator, not it.
 */
function runSwitchyard(env: NodeJS.ProcessEnv, logFile: string): CliRun {
  const fd = openSync(logFile, 'a');
  // SWITCHYARD_PRELOAD: a module loaded into the Switchyard processes only (e.g. bench/diagnostics/heap-trace.ts).
  const preload = process.env.SWITCHYARD_PRELOAD;
  const child = spawn(process.execPath, ['--import', 'tsx', ...(preload === undefined ? [] : ['--import', preload]), join(ROOT, 'src/main.ts')], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  process.on('exit', () => child.kill('SIGKILL'));
  const output = (): string => readFileSync(logFile, 'utf8');
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stdout: output(), stderr: '' })));
  return { done, stdout: output, stderr: () => '', signal: (name) => void child.kill(name), pid: child.pid ?? -1 };
}

async function startFlaskAt(port: number | undefined, stateDir: string, accessLog: string): Promise<LegacyServer> {
  appendFileSync(accessLog, '');
  return startFlask({
    workers: 2,
    threads: 4,
    ...(port === undefined ? {} : { port }),
    env: { LEGACY_STATE_DIR: stateDir },
    // One line per answered request: its X-Chaos-Id and whether it was a shadow call ('-' if not).
    extraArgs: ['--access-logfile', accessLog, '--access-logformat', '%({x-chaos-id}i)s %({x-switchyard-shadow}i)s %(U)s %(s)s'],
  });
}

async function startNewService(port: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'chaos', 'new-service.ts'), String(port)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  child.unref();
  process.on('exit', () => child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (c: Buffer) => c.toString().includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`new service exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}`, child };
}

async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, failed: () => boolean): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !failed()) {
    if (await check()) return true;
    await delay(100);
  }
  return false;
}
