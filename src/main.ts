#!/usr/bin/env node
/**
 * The CLI entry: `switchyard [--flags DIR] [--port N] [--host H] [--handlers MODULE]`.
 * Telemetry must start before express, http-proxy-middleware or ioredis are loaded (so the
 * instrumentations can patch them); hence only options and the SDK are imported statically,
 * and the service itself is imported afterwards.
 */
import { readServiceOptions } from './config/env-options.js';
import { ConfigError } from './errors/switchyard-error.js';
import { startTelemetry } from './telemetry/otel-sdk.js';

async function main(): Promise<void> {
  const options = readServiceOptions(process.env, process.argv.slice(2));
  const telemetry = startTelemetry();
  const { runService } = await import('./cli.js');
  await runService(options, telemetry);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) process.stderr.write(`switchyard: cannot start: ${error.message}\n`);
  else process.stderr.write(`switchyard: cannot start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
