import { ENVIRONMENT, OTEL_STANDARD_NOTE } from './environment.js';

const USAGE = `Usage:
  switchyard [serve] [--flags DIR] [--port N] [--host H] [--handlers MODULE] [--log-level L]
  switchyard check   [--flags DIR] [--handlers MODULE]
  switchyard routes  [--flags DIR] [--handlers MODULE]
  switchyard --help | --version

Commands:
  serve    run the service (the default): flags from DIR, hot reload, SIGHUP reloads,
           SIGTERM/SIGINT drain in-flight requests and exit 0
  check    validate DIR without starting: exit 0 with a one-line summary, or exit 1 with
           every problem as file:line: field: reason (for your CI)
  routes   print the route table in match order (most specific first), with warnings and conflicts

Options:
  --flags DIR         flags directory (every *.yaml/*.yml in it)           env SWITCHYARD_FLAGS_DIR
  --port N            listen port, 0 for any free one                       env SWITCHYARD_PORT, PORT
  --host H            listen address                                        env SWITCHYARD_HOST
  --handlers MODULE   module exporting \`handlers\` (name → Express handler);  env SWITCHYARD_HANDLERS
                      check/routes without it do not check handler names
  --log-level L       debug, info, warn, error, silent                      env SWITCHYARD_LOG_LEVEL
  -h, --help          this text
  -V, --version       Switchyard's version

Endpoints without the admin token: /_switchyard/healthz (liveness), /_switchyard/readyz
(200 once flags are loaded and Unleash answered or its wait ran out; 503 while starting or
draining), /_switchyard/metrics (with SWITCHYARD_METRICS=prometheus).

Exit codes: 0 ok, 1 invalid configuration or start-up failure, 2 wrong usage.`;

/** The whole `--help` text: usage, then every environment variable with its default. */
export function helpText(): string {
  const width = Math.max(...ENVIRONMENT.flatMap((g) => g.variables.map((v) => v.name.length)));
  const groups = ENVIRONMENT.map((group) => {
    const lines = group.variables.map((v) => `  ${v.name.padEnd(width)}  ${v.meaning} [default: ${v.default}]`);
    return `${group.group}:\n${lines.join('\n')}`;
  });
  return `${USAGE}\n\nEnvironment:\n${groups.join('\n')}\n  (${OTEL_STANDARD_NOTE})\n`;
}
