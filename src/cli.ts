import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { answerProbe } from './admin/health-probes.js';
import { createSwitchyard } from './app.js';
import type { ServiceOptions } from './config/env-options.js';
import type { InfrastructureEnv } from './config/infrastructure-env.js';
import { sendProblem } from './errors/problem.js';
import { SwitchyardError } from './errors/switchyard-error.js';
import { createConsoleLogger } from './logging/logger.js';
import { createClientErrorHandler } from './server/client-error.js';
import { createHttpServer, type HttpListeners } from './server/http-server.js';
import { loadHandlersModule } from './server/load-handlers.js';
import { Readiness } from './server/readiness.js';
import { SHUTDOWN_BUDGET_MS, type TelemetryHandle } from './telemetry/otel-sdk.js';

/** From the end of the drain to exit: closing stores and clients, then the telemetry budget. */
/** After SIGTERM, how long an idle keep-alive connection may still bring a request (answered, then closed). */
const DRAIN_IDLE_GRACE_MS = 1_000;

const SHUTDOWN_DEADLINE_MS = SHUTDOWN_BUDGET_MS + 2_000;

/**
 * The service behind the CLI (see main.ts, which starts telemetry first): start-up errors throw;
 * SIGHUP reloads flags; SIGTERM/SIGINT drain in-flight requests, flush telemetry and exit 0.
 * The port is bound first, so probes answer from the start (readyz 503 while flags and Unleash
 * load); readyz turns 503 again on SIGTERM so load balancers stop sending before the drain.
 */
export async function runService(options: ServiceOptions, telemetry: TelemetryHandle | null, infrastructure: InfrastructureEnv): Promise<void> {
  const logger = createConsoleLogger(options.logLevel, options.logFormat);
  const handlers = options.handlersModule ? await loadHandlersModule(options.handlersModule) : {};
  const readiness = new Readiness();
  const starting = (req: IncomingMessage, res: ServerResponse): void => {
    if (!answerProbe(req, res, readiness)) sendProblem(res, new SwitchyardError('SWITCHYARD_STARTING', 'Switchyard is starting', { status: 503 }), {}, { 'retry-after': '1' });
  };
  // Timeouts, 100-continue and parser errors: see server/http-server.ts (and README, Hostile clients).
  const listeners: HttpListeners = { request: starting, checkContinue: starting, clientError: createClientErrorHandler(logger) };
  const server = createHttpServer(listeners, options);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  const base = `http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port}`;
  logger.debug(`starting: probes answer at ${base}/_switchyard/healthz and /_switchyard/readyz`);

  const switchyard = await createSwitchyard({
    flagsDir: options.flagsDir,
    handlers,
    useLegacy: options.useLegacy,
    overrideToken: options.overrideToken,
    adminToken: options.adminToken,
    viewerToken: options.viewerToken,
    watch: options.watch,
    logger,
    readiness,
    metrics: { prometheus: options.prometheusMetrics, token: options.metricsToken },
    environment: infrastructure,
  });
  for (const line of switchyard.mounts()) logger.info(line);
  if (options.useLegacy) logger.warn('USE_LEGACY is set: every route goes to legacy');
  if (options.overrideToken === null) logger.info('no SWITCHYARD_OVERRIDE_TOKEN: X-Switchyard-Force headers are ignored');

  if (options.adminToken !== null) logger.info(`dashboard at ${base}/_switchyard/ui/ (sign in with the admin token${options.viewerToken === null ? '' : ' or the viewer token'})`);
  if (options.prometheusMetrics) logger.info(`Prometheus metrics at ${base}/_switchyard/metrics${options.metricsToken === null ? ' (no token: keep this port off public networks)' : ' (bearer token required)'}`);
  Object.assign(listeners, { request: switchyard.handler, checkContinue: switchyard.checkContinue, clientError: switchyard.clientError });
  logger.info(`listening on ${base} (flags ${options.flagsDir}, version ${switchyard.config.version})`);

  process.on('SIGHUP', () => void switchyard.reload());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    readiness.markDraining();
    logger.info(`${signal}: draining in-flight requests`);
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    // New connections are refused at once, but open ones are not cut: every answer from now on
    // ends its connection (`Connection: close`, so clients stop reusing it), and only those still
    // idle after a grace period are closed. Closing idle keep-alive connections at once (what
    // http.Server#close does) resets the request a client is writing on one at that instant —
    // npm run chaos measured it. net.Server#close stops listening without that.
    const serveDraining = listeners.request;
    listeners.request = (req, res) => {
      res.setHeader('connection', 'close');
      serveDraining(req, res);
    };
    net.Server.prototype.close.call(server, () => void finish());
    setTimeout(() => server.closeIdleConnections(), DRAIN_IDLE_GRACE_MS).unref();
  };
  // After the drain: close Switchyard, flush telemetry (bounded, see otel-sdk.ts), exit 0. A
  // collector that is down or hung costs at most its budget and one log line, never the exit code.
  const finish = async (): Promise<void> => {
    const deadline = setTimeout(() => {
      logger.warn(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    try {
      await switchyard.close();
    } catch (error) {
      logger.error('closing Switchyard failed', { cause: error instanceof Error ? error.message : String(error) });
    }
    const flushed = await telemetry?.shutdown();
    if (flushed !== undefined && flushed.unflushed.length > 0) logger.warn(`telemetry not flushed before exit, dropped: ${flushed.unflushed.join('; ')}`);
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

