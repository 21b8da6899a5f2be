// `npm run demo [-- --no-traffic] [--port N] [--flags DIR]`: the legacy Flask and Django example
// apps under gunicorn, Switchyard in front of them on the embedded defaults (flags from flags/,
// no Unleash, no collector), the admin API on with a generated token, Prometheus metrics, and a
// small traffic generator. See flags/routes.yaml for the routes it shows.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readFlagsDir } from '../src/config/flags-files.js';
import { compileFlags } from '../src/config/validate-flags.js';
import { ConfigError, formatConfigIssue } from '../src/errors/switchyard-error.js';
import { createHttpServer, createSwitchyard, type Switchyard } from '../src/index.js';
import { startDjango, startFlask, type LegacyServer } from '../test/support/legacy-apps.js';
import { demoStores, type DemoStores } from './demo-stores.js';
import { startTraffic, type TrafficGenerator } from './demo-traffic.js';
import { handlers } from './new-handlers.js';

const USAGE = 'usage: npm run demo [-- [--no-traffic] [--port N] [--flags DIR]]';

interface DemoOptions {
  readonly flagsDir: string;
  readonly port: number;
  readonly traffic: boolean;
}

const running: { servers: LegacyServer[]; stores?: DemoStores; switchyard?: Switchyard; traffic?: TrafficGenerator; backupDir?: string } = { servers: [] };

function parseArgs(argv: readonly string[]): DemoOptions {
  let flagsDir = 'flags';
  let port = Number(process.env['PORT'] ?? 8080);
  let traffic = true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--no-traffic') traffic = false;
    else if (arg === '--flags' && argv[i + 1] !== undefined) flagsDir = argv[++i]!;
    else if (arg === '--port' && argv[i + 1] !== undefined) port = Number(argv[++i]);
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else usageError(`unknown argument \`${arg}\``);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) usageError(`the port must be an integer from 0 to 65535 (got ${port})`);
  return { flagsDir, port, traffic };
}

function usageError(message: string): never {
  console.error(`demo: ${message}\n${USAGE}`);
  process.exit(2);
}

/** The demo starts the legacy apps where the flags expect them: the `flask` and `django` upstreams on this machine. */
async function legacyPorts(flagsDir: string): Promise<{ flask: number; django: number }> {
  const result = compileFlags(await readFlagsDir(flagsDir), { handlerNames: new Set(Object.keys(handlers)) });
  if (!result.ok) throw new ConfigError(result.issues);
  const portOf = (name: string): number => {
    const url = result.config.upstreams[name]?.url;
    if (url === undefined) throw new Error(`${flagsDir} has no \`${name}\` upstream for the demo to start`);
    const parsed = new URL(url);
    if (!['127.0.0.1', 'localhost'].includes(parsed.hostname)) throw new Error(`the \`${name}\` upstream (${url}) is not on this machine`);
    return Number(parsed.port || 80);
  };
  return { flask: portOf('flask'), django: portOf('django') };
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const ports = await legacyPorts(options.flagsDir);
  running.stores = await demoStores(process.env);
  // createSwitchyard reads these like the CLI does: the cache, shadow results and runtime flag
  // changes go to the demo's own Redis, and no earlier run's saved state is picked up.
  if (running.stores.redisUrl !== null) process.env['REDIS_URL'] = running.stores.redisUrl;
  running.backupDir = mkdtempSync(path.join(tmpdir(), 'switchyard-demo-'));
  process.env['SWITCHYARD_BACKUP_DIR'] ??= running.backupDir;

  const [flask, django] = await Promise.all([startFlask({ port: ports.flask, workers: 2, threads: 2 }), startDjango({ port: ports.django, workers: 2 })]);
  running.servers.push(flask, django);

  const adminToken = process.env['SWITCHYARD_ADMIN_TOKEN'] || randomBytes(18).toString('base64url');
  const switchyard = await createSwitchyard({ flagsDir: options.flagsDir, handlers, adminToken, useLegacy: process.env['USE_LEGACY'] === 'true', metrics: { prometheus: true } });
  running.switchyard = switchyard;
  // The CLI's server: its timeouts against slow clients, 100-continue and parser-error answers.
  const server = createHttpServer({ request: switchyard.handler, checkContinue: switchyard.checkContinue, clientError: switchyard.clientError });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(options.port, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (options.traffic) running.traffic = startTraffic(base);

  for (const line of switchyard.mounts()) console.log(`  ${line}`);
  console.log(banner(base, flask, django, running.stores, adminToken, options));
  const stop = (): void => {
    running.traffic?.stop();
    server.closeAllConnections();
    server.close();
    void shutdown().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function banner(base: string, flask: LegacyServer, django: LegacyServer, stores: DemoStores, adminToken: string, options: DemoOptions): string {
  const auth = '-H "Authorization: Bearer $SWITCHYARD_ADMIN_TOKEN"';
  return `
Switchyard demo is up at ${base}   (Ctrl-C to stop)
  legacy apps: Flask ${flask.url} and Django ${django.url}, each under gunicorn
  stores:      ${stores.description}
  traffic:     ${options.traffic ? '~5 requests/s from 40 users (--no-traffic turns it off)' : 'off (--no-traffic)'}

Dashboard — open this; it signs you in (the admin token is printed once, here, and never logged):
  ${base}/_switchyard/ui/#token=${adminToken}
For the admin API with curl: export SWITCHYARD_ADMIN_TOKEN=<the part after #token= above>

Try:
  curl -i ${base}/flask/hello                          # migrated: the new TypeScript handler (X-Switchyard-Backend: new)
  curl -i -H 'X-User-Id: alice' ${base}/flask/users/7  # sticky 25% rollout: the same user always gets the same side
  curl -i ${base}/flask/report                         # slow legacy report (1.5 s, X-Switchyard-Cache: MISS); again: HIT at once
  curl -i ${base}/flask/catalog                        # legacy serves; the new port is shadowed and diffed
  curl -s ${auth} ${base}/_switchyard/shadow/catalog     # /price differs (a real bug), timestamps are noise
  curl -s ${auth} ${base}/_switchyard/flags              # every route's mode, percentage and where it comes from
  curl -s ${auth} ${base}/_switchyard/canary/slow        # the autopilot moving /flask/slow: stage, gates, verdicts, events
  curl -s -X PUT ${auth} -H 'content-type: application/json' -d '{"percentage":50,"reason":"canary step"}' ${base}/_switchyard/flags/routes/users
  curl -s ${auth} ${base}/_switchyard/cache              # cache counts per route
  curl -s -X POST ${auth} -H 'content-type: application/json' -d '{"route":"report","reason":"report data fixed"}' ${base}/_switchyard/cache/purge
  (every change through the admin API needs a "reason": it goes to ${base}/_switchyard/flags/audit)
  curl -s ${base}/_switchyard/metrics                    # Prometheus text (no token)
  curl -s ${base}/_switchyard/readyz                     # readiness probe (no token)
  curl -i ${base}/flask/whoami  ·  curl -i ${base}/django/whoami/   # legacy Flask and Django side by side
Edit ${options.flagsDir}/routes.yaml while it runs: changes apply live.`;
}

/** Everything the demo started, in reverse order; safe to call twice. */
async function shutdown(): Promise<void> {
  running.traffic?.stop();
  await running.switchyard?.close().catch(() => {});
  await Promise.all(running.servers.map((s) => s.stop()));
  await running.stores?.stop();
  if (running.backupDir !== undefined) rmSync(running.backupDir, { recursive: true, force: true });
}

main().catch(async (error: unknown) => {
  if (error instanceof ConfigError) console.error(`demo: invalid flags:\n${error.issues.map((i) => `  - ${formatConfigIssue(i)}`).join('\n')}`);
  else console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  console.error('(the demo needs the ports of the flask and django upstreams in flags/upstreams.yaml, 8001 and 8002, and 8080 — or PORT / --port — free on 127.0.0.1)');
  await shutdown();
  process.exit(1);
});
