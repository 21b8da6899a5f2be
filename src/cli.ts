import http from 'node:http';
import { createSwitchyard } from './app.js';
import type { ServiceOptions } from './config/env-options.js';
import { createConsoleLogger } from './logging/logger.js';
import { loadHandlersModule } from './server/load-handlers.js';
import type { TelemetryHandle } from './telemetry/otel-sdk.js';

/**
 * The service behind the CLI (see main.ts, which starts telemetry first): start-up errors throw;
 * SIGHUP reloads flags; SIGTERM/SIGINT drain in-flight requests, flush telemetry and exit 0.
 */
export async function runService(options: ServiceOptions, telemetry: TelemetryHandle | null): Promise<void> {
  const logger = createConsoleLogger(options.logLevel);
  const handlers = options.handlersModule ? await loadHandlersModule(options.handlersModule) : {};
  const switchyard = await createSwitchyard({
    flagsDir: options.flagsDir,
    handlers,
    useLegacy: options.useLegacy,
    overrideToken: options.overrideToken,
    adminToken: options.adminToken,
    watch: options.watch,
    logger,
  });
  for (const line of switchyard.mounts()) logger.info(line);
  if (options.useLegacy) logger.warn('USE_LEGACY is set: every route goes to legacy');
  if (options.overrideToken === null) logger.info('no SWITCHYARD_OVERRIDE_TOKEN: X-Switchyard-Force headers are ignored');

  const server = http.createServer(switchyard.handler);
  server.on('clientError', switchyard.clientError);
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeouts
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  logger.info(`listening on http://${options.host === '0.0.0.0' ? '127.0.0.1' : options.host}:${port} (flags ${options.flagsDir}, version ${switchyard.config.version})`);

  process.on('SIGHUP', () => void switchyard.reload());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: draining in-flight requests`);
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    server.close(() => {
      void switchyard
        .close()
        .then(() => telemetry?.shutdown())
        .then(() => process.exit(0));
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

