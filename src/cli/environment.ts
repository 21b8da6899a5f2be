/**
 * Every environment variable Switchyard reads, for `--help` and the README. A test scans src/
 * for variable names, so a new one cannot be read without being listed here.
 */
export interface EnvironmentVariable {
  readonly name: string;
  readonly meaning: string;
  readonly default: string;
}

export const ENVIRONMENT: readonly { readonly group: string; readonly variables: readonly EnvironmentVariable[] }[] = [
  {
    group: 'Service',
    variables: [
      { name: 'SWITCHYARD_FLAGS_DIR', meaning: 'flags directory (--flags)', default: 'flags' },
      { name: 'SWITCHYARD_PORT', meaning: 'listen port (--port); PORT is read when it is unset', default: '8080' },
      { name: 'PORT', meaning: 'listen port, as platforms set it', default: '8080' },
      { name: 'SWITCHYARD_HOST', meaning: 'listen address (--host)', default: '0.0.0.0' },
      { name: 'SWITCHYARD_HANDLERS', meaning: 'module exporting `handlers`, the new TypeScript handlers (--handlers)', default: 'none' },
      { name: 'SWITCHYARD_WATCH', meaning: 'reload flags/ when its files change: true/false', default: 'true' },
      { name: 'SWITCHYARD_LOG_LEVEL', meaning: 'debug, info, warn, error or silent (--log-level)', default: 'info' },
      { name: 'SWITCHYARD_LOG_FORMAT', meaning: 'text, or json: one object a line (time, level, msg, fields)', default: 'text' },
      { name: 'USE_LEGACY', meaning: 'kill switch, every route to legacy: true/false/1/0 (anything else stops start-up)', default: 'false' },
      { name: 'SWITCHYARD_OVERRIDE_TOKEN', meaning: 'token that makes X-Switchyard-Force count (16+ characters)', default: 'unset: overrides ignored' },
      { name: 'SWITCHYARD_ADMIN_TOKEN', meaning: 'bearer token of the admin API under /_switchyard (16+ characters)', default: 'unset: admin API off' },
      { name: 'SWITCHYARD_VIEWER_TOKEN', meaning: 'read-only token for the admin API and the dashboard at /_switchyard/ui/ (16+ characters)', default: 'unset: no viewers' },
      { name: 'SWITCHYARD_METRICS', meaning: 'off, or prometheus: Prometheus text at /_switchyard/metrics', default: 'off' },
      { name: 'SWITCHYARD_METRICS_TOKEN', meaning: 'bearer token a scraper must send for the metrics (16+ characters)', default: 'unset: metrics open' },
      { name: 'SWITCHYARD_HEADERS_TIMEOUT_MS', meaning: 'a client must send its request line and headers within this (then 408, connection closed)', default: '10000' },
      { name: 'SWITCHYARD_REQUEST_TIMEOUT_MS', meaning: 'a client must send its whole request, body included, within this (then 408)', default: '120000' },
    ],
  },
  {
    group: 'Shared state',
    variables: [
      { name: 'REDIS_URL', meaning: 'Redis every instance shares (response cache, shadow results, outcomes, runtime flag changes): redis://host:port[/db], redis+sentinel://host:port,host:port/primary-name[/db] or redis+cluster://host:port,host:port (rediss… for TLS)', default: 'unset: in-process memory' },
      { name: 'SWITCHYARD_FLAGS_NAMESPACE', meaning: 'Redis key and channel prefix of runtime flag changes', default: 'switchyard' },
      { name: 'SWITCHYARD_BACKUP_DIR', meaning: 'last known flags: the Unleash backup file and the runtime overrides', default: 'the OS temp dir' },
    ],
  },
  {
    group: 'Unleash (flags from an Unleash server)',
    variables: [
      { name: 'UNLEASH_URL', meaning: 'Unleash API URL, e.g. http://unleash:4242/api/ (turns Unleash on)', default: 'unset: flags/ only' },
      { name: 'UNLEASH_API_TOKEN', meaning: 'client (backend) token', default: 'none' },
      { name: 'UNLEASH_APP_NAME', meaning: 'app name; also names the backup file', default: 'switchyard' },
      { name: 'UNLEASH_ENVIRONMENT', meaning: "the context's environment", default: 'default' },
      { name: 'UNLEASH_INSTANCE_ID', meaning: 'instance id reported to Unleash', default: "the client's own" },
      { name: 'UNLEASH_REFRESH_INTERVAL_MS', meaning: 'how often flags are fetched', default: '15000' },
      { name: 'UNLEASH_METRICS_INTERVAL_MS', meaning: 'how often usage metrics are sent', default: '60000' },
      { name: 'UNLEASH_STARTUP_TIMEOUT_MS', meaning: 'longest start-up wait for the first answer (readyz waits for it too)', default: '5000' },
      { name: 'UNLEASH_METRICS', meaning: 'send usage metrics to Unleash: true/false', default: 'true' },
      { name: 'UNLEASH_IMPRESSIONS', meaning: 'pass impression events on: true/false', default: 'true' },
    ],
  },
  {
    group: 'Telemetry (OpenTelemetry; the SDK starts only when an exporter is configured)',
    variables: [
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', meaning: 'OTLP collector, e.g. http://otel-collector:4318', default: 'unset' },
      { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', meaning: 'OTLP endpoint for traces only', default: 'unset' },
      { name: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', meaning: 'OTLP endpoint for metrics only', default: 'unset' },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', meaning: 'grpc, http/protobuf or http/json', default: 'http/protobuf' },
      { name: 'OTEL_TRACES_EXPORTER', meaning: 'otlp, console or none', default: 'unset' },
      { name: 'OTEL_METRICS_EXPORTER', meaning: 'otlp, console or none', default: 'unset' },
      { name: 'OTEL_SERVICE_NAME', meaning: 'service name on spans and metrics', default: 'switchyard' },
      { name: 'OTEL_SDK_DISABLED', meaning: 'true: no telemetry at all', default: 'false' },
      { name: 'SWITCHYARD_OTEL_CONSOLE', meaning: 'true: also print spans to stdout', default: 'false' },
    ],
  },
];

/** The SDK reads the rest of the standard OTEL_* variables itself; named in the help, not listed one by one. */
export const OTEL_STANDARD_NOTE = 'and the SDK’s other standard OTEL_* variables (OTEL_TRACES_SAMPLER, OTEL_RESOURCE_ATTRIBUTES, …)';
