import { ConfigError, type ConfigIssue } from '../errors/switchyard-error.js';
import { readUnleashEnv, type UnleashOptions } from '../flags/unleash-options.js';
import { parseRedisUrl, type RedisTarget } from '../redis/redis-url.js';

/** The OTEL_* choices Switchyard itself acts on (the SDK reads the rest of the standard variables). */
export interface TelemetryEnv {
  /** OTEL_SDK_DISABLED=true: no telemetry at all. */
  readonly disabled: boolean;
  /** An exporter or endpoint is configured: the SDK starts and reads its OTEL_* itself. */
  readonly exporterConfigured: boolean;
  /** SWITCHYARD_OTEL_CONSOLE=true: also print spans to stdout. */
  readonly console: boolean;
  /** OTEL_SERVICE_NAME, or null (then `switchyard`). */
  readonly serviceName: string | null;
}

/**
 * Where the shared infrastructure is: Redis, Unleash, the OpenTelemetry collector. Read from
 * the environment once (`readInfrastructureEnv`), frozen, and handed to the adapters; nothing
 * else in src/ reads these variables.
 */
export interface InfrastructureEnv {
  /** REDIS_URL, parsed (one server, a Sentinel set or a Cluster); null: unset. */
  readonly redis: RedisTarget | null;
  /** SWITCHYARD_FLAGS_NAMESPACE: Redis key and channel prefix of runtime flag changes. */
  readonly flagsNamespace: string;
  /** SWITCHYARD_BACKUP_DIR; null: the OS temp dir. */
  readonly backupDir: string | null;
  /** UNLEASH_* (UNLEASH_URL turns it on); null: off. */
  readonly unleash: UnleashOptions | null;
  readonly telemetry: TelemetryEnv;
}

/** OTEL_* variables that mean "the operator chose an exporter": then the SDK reads the env itself. */
const EXPORTER_ENV = ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] as const;
const ENDPOINT_ENV = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'] as const;
/** What the Node SDK accepts in OTEL_TRACES_EXPORTER / OTEL_METRICS_EXPORTER (comma-separated). */
const EXPORTERS = { OTEL_TRACES_EXPORTER: ['otlp', 'zipkin', 'jaeger', 'console', 'none'], OTEL_METRICS_EXPORTER: ['otlp', 'prometheus', 'console', 'none'] } as const;
const OTLP_PROTOCOLS = ['grpc', 'http/protobuf', 'http/json'];

const nonEmpty = (v: string | undefined): string | null => (v === undefined || v.trim() === '' ? null : v.trim());

/**
 * Reads and validates REDIS_URL, SWITCHYARD_FLAGS_NAMESPACE, SWITCHYARD_BACKUP_DIR, UNLEASH_* and
 * the OTEL_* variables Switchyard acts on. Every bad value is reported at once, naming the
 * variable and why, as one ConfigError (the CLI exits 1 with it before starting anything).
 */
export function readInfrastructureEnv(env: NodeJS.ProcessEnv): InfrastructureEnv {
  const issues: ConfigIssue[] = [];
  const issue = (field: string, reason: string): void => void issues.push({ file: '<env>', field, reason });

  let redis: RedisTarget | null = null;
  const redisUrl = nonEmpty(env['REDIS_URL']);
  if (redisUrl !== null) {
    const parsed = parseRedisUrl(redisUrl);
    if (parsed.ok) redis = parsed.target;
    else issue('REDIS_URL', parsed.reason);
  }
  const flagsNamespace = nonEmpty(env['SWITCHYARD_FLAGS_NAMESPACE']) ?? 'switchyard';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(flagsNamespace)) issue('SWITCHYARD_FLAGS_NAMESPACE', 'letters, digits, dot, dash, underscore (at most 64)');

  const unleash = readUnleashEnv(env);
  issues.push(...unleash.issues);
  const telemetry = readTelemetryEnv(env, issue);

  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ redis, flagsNamespace, backupDir: nonEmpty(env['SWITCHYARD_BACKUP_DIR']), unleash: unleash.options === null ? null : Object.freeze(unleash.options), telemetry });
}

/** The telemetry part alone (the SDK starts before anything else is loaded). Throws like readInfrastructureEnv. */
export function readTelemetryEnvOnly(env: NodeJS.ProcessEnv): TelemetryEnv {
  const issues: ConfigIssue[] = [];
  const telemetry = readTelemetryEnv(env, (field, reason) => void issues.push({ file: '<env>', field, reason }));
  if (issues.length > 0) throw new ConfigError(issues);
  return telemetry;
}

function readTelemetryEnv(env: NodeJS.ProcessEnv, issue: (field: string, reason: string) => void): TelemetryEnv {
  const bool = (name: string): boolean => {
    const v = nonEmpty(env[name])?.toLowerCase();
    if (v === undefined || v === null) return false;
    if (v === 'true' || v === 'false') return v === 'true';
    issue(name, `must be true or false (got ${JSON.stringify(env[name])})`);
    return false;
  };
  for (const name of ENDPOINT_ENV) {
    const v = nonEmpty(env[name]);
    if (v !== null && !/^https?:\/\/[^\s/]+/.test(v)) issue(name, `must be an http(s) URL such as http://otel-collector:4318 (got ${JSON.stringify(v)})`);
  }
  for (const [name, allowed] of Object.entries(EXPORTERS)) {
    const v = nonEmpty(env[name]);
    const unknown = v === null ? [] : v.split(',').map((s) => s.trim()).filter((s) => !(allowed as readonly string[]).includes(s));
    if (unknown.length > 0) issue(name, `must be a comma-separated list of ${allowed.join(', ')} (unknown: ${unknown.join(', ')})`);
  }
  const protocol = nonEmpty(env['OTEL_EXPORTER_OTLP_PROTOCOL']);
  if (protocol !== null && !OTLP_PROTOCOLS.includes(protocol)) issue('OTEL_EXPORTER_OTLP_PROTOCOL', `must be one of ${OTLP_PROTOCOLS.join(', ')} (got ${JSON.stringify(protocol)})`);
  return Object.freeze({
    disabled: bool('OTEL_SDK_DISABLED'),
    exporterConfigured: EXPORTER_ENV.some((name) => nonEmpty(env[name]) !== null),
    console: bool('SWITCHYARD_OTEL_CONSOLE'),
    serviceName: nonEmpty(env['OTEL_SERVICE_NAME']),
  });
}
