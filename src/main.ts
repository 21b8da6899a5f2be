#!/usr/bin/env node
/**
 * The CLI entry: `switchyard [serve|check|routes] [options]`, `--help`, `--version`.
 * Telemetry must start before express, http-proxy-middleware or ioredis are loaded (so the
 * instrumentations can patch them); hence only options and the SDK are imported statically,
 * and the service itself is imported afterwards. `check` and `routes` start nothing.
 */
import { parseCommandLine } from './cli/command-line.js';
import type { CommandOutput } from './cli/command-output.js';
import { helpText } from './cli/help-text.js';
import { startupFailure } from './cli/startup-failure.js';
import { readServiceOptions } from './config/env-options.js';
import { readInfrastructureEnv } from './config/infrastructure-env.js';
import { packageVersion } from './config/package-version.js';
import { startTelemetry } from './telemetry/otel-sdk.js';

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2));
  if (parsed.kind === 'help') return void process.stdout.write(helpText());
  if (parsed.kind === 'version') return void process.stdout.write(`switchyard ${packageVersion()}\n`);
  if (parsed.kind === 'usage-error') {
    process.stderr.write(`switchyard: ${parsed.message}\n\n${helpText()}`);
    process.exitCode = 2;
    return;
  }
  if (parsed.command === 'check' || parsed.command === 'routes') {
    const run = parsed.command === 'check' ? (await import('./cli/check-command.js')).runCheck : (await import('./cli/routes-command.js')).runRoutes;
    return report(await run(parsed.options, process.env));
  }
  const options = readServiceOptions(process.env, parsed.argv);
  // REDIS_URL, UNLEASH_*, OTEL_*: read and validated once, before anything starts (exit 1 on a bad value).
  const infrastructure = readInfrastructureEnv(process.env);
  const telemetry = startTelemetry({ telemetry: infrastructure.telemetry });
  const { runService } = await import('./cli.js');
  await runService(options, telemetry, infrastructure);
}

function report(output: CommandOutput): void {
  for (const line of output.stdout) process.stdout.write(`${line}\n`);
  for (const line of output.stderr) process.stderr.write(`${line}\n`);
  process.exitCode = output.code;
}

main().catch((error: unknown) => {
  process.stderr.write(startupFailure(error, process.env));
  process.exit(1);
});
