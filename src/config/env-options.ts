import { ConfigError, type ConfigIssue } from '../errors/switchyard-error.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../logging/logger.js';
import { DEFAULT_FLAGS_DIR, DEFAULT_HOST, DEFAULT_PORT, HTTP_SERVER_DEFAULTS, MIN_TOKEN_LENGTH } from './defaults.js';

/** Process-level options: from the environment, overridable on the command line. */
export interface ServiceOptions {
  readonly flagsDir: string;
  readonly port: number;
  readonly host: string;
  /** USE_LEGACY: every route to legacy (the seed's kill switch). */
  readonly useLegacy: boolean;
  readonly overrideToken: string | null;
  readonly adminToken: string | null;
  /** SWITCHYARD_VIEWER_TOKEN: a read-only token for the admin API and the dashboard. */
  readonly viewerToken: string | null;
  readonly handlersModule: string | null;
  readonly watch: boolean;
  readonly logLevel: LogLevel;
  /** SWITCHYARD_LOG_FORMAT: `text` (default) or `json`, one object a line. */
  readonly logFormat: LogFormat;
  /** SWITCHYARD_METRICS=prometheus: Prometheus text at /_switchyard/metrics (off by default). */
  readonly prometheusMetrics: boolean;
  /** SWITCHYARD_METRICS_TOKEN: bearer token the scraper must send; null: the endpoint is open. */
  readonly metricsToken: string | null;
  /** SWITCHYARD_HEADERS_TIMEOUT_MS / SWITCHYARD_REQUEST_TIMEOUT_MS: how long a client may take to send its headers / whole request. */
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Values of SWITCHYARD_METRICS: `off` (default) or `prometheus`. */
const METRICS_VALUES = ['off', 'prometheus'] as const;

const CLI_FLAGS: Record<string, keyof ServiceOptions> = {
  '--flags': 'flagsDir',
  '--port': 'port',
  '--host': 'host',
  '--handlers': 'handlersModule',
  '--log-level': 'logLevel',
};

/**
 * Reads the service options. Every malformed value is reported with the variable (or CLI flag)
 * that carried it, all at once, as a ConfigError: a typo in USE_LEGACY must stop the process,
 * not silently route users to the new side.
 */
export function readServiceOptions(env: NodeJS.ProcessEnv, argv: readonly string[] = []): ServiceOptions {
  const issues: ConfigIssue[] = [];
  const raw: Record<string, { value: string; from: string }> = {};
  const fromEnv = (key: keyof ServiceOptions, ...names: string[]): void => {
    for (const name of names) {
      const value = env[name];
      if (value !== undefined && value !== '') {
        raw[key] = { value, from: name };
        return;
      }
    }
  };
  fromEnv('flagsDir', 'SWITCHYARD_FLAGS_DIR');
  fromEnv('port', 'SWITCHYARD_PORT', 'PORT');
  fromEnv('host', 'SWITCHYARD_HOST');
  fromEnv('useLegacy', 'USE_LEGACY');
  fromEnv('overrideToken', 'SWITCHYARD_OVERRIDE_TOKEN');
  fromEnv('adminToken', 'SWITCHYARD_ADMIN_TOKEN');
  fromEnv('viewerToken', 'SWITCHYARD_VIEWER_TOKEN');
  fromEnv('handlersModule', 'SWITCHYARD_HANDLERS');
  fromEnv('watch', 'SWITCHYARD_WATCH');
  fromEnv('logLevel', 'SWITCHYARD_LOG_LEVEL');
  fromEnv('logFormat', 'SWITCHYARD_LOG_FORMAT');
  fromEnv('prometheusMetrics', 'SWITCHYARD_METRICS');
  fromEnv('metricsToken', 'SWITCHYARD_METRICS_TOKEN');
  fromEnv('headersTimeoutMs', 'SWITCHYARD_HEADERS_TIMEOUT_MS');
  fromEnv('requestTimeoutMs', 'SWITCHYARD_REQUEST_TIMEOUT_MS');

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const key = CLI_FLAGS[flag];
    if (key === undefined) {
      issues.push({ file: '<argv>', field: flag, reason: `unknown option (known: ${Object.keys(CLI_FLAGS).join(', ')})` });
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === '') issues.push({ file: '<argv>', field: flag, reason: 'needs a value' });
    else raw[key] = { value, from: flag };
  }

  const issue = (key: string, reason: string): void => {
    const from = raw[key]?.from ?? key;
    issues.push({ file: from.startsWith('--') ? '<argv>' : '<env>', field: from, reason });
  };
  const bool = (key: keyof ServiceOptions, fallback: boolean): boolean => {
    const v = raw[key]?.value.trim().toLowerCase();
    if (v === undefined) return fallback;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    issue(key, `must be true, false, 1 or 0 (got ${JSON.stringify(raw[key]?.value)})`);
    return fallback;
  };
  const token = (key: keyof ServiceOptions): string | null => {
    const v = raw[key]?.value;
    if (v === undefined) return null;
    if (v.length < MIN_TOKEN_LENGTH) issue(key, `must be at least ${MIN_TOKEN_LENGTH} characters (a short token is guessable)`);
    return v;
  };

  function oneOf<T extends string>(key: keyof ServiceOptions, allowed: readonly T[], fallback: T): T {
    const v = raw[key]?.value.trim().toLowerCase();
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    issue(key, `must be one of ${allowed.join(', ')} (got ${JSON.stringify(raw[key]?.value)})`);
    return fallback;
  }

  const millis = (key: keyof ServiceOptions, fallback: number): number => {
    const v = raw[key]?.value;
    if (v === undefined) return fallback;
    const n = Number(v);
    if (Number.isInteger(n) && n >= 100 && n <= 3_600_000) return n;
    issue(key, `must be a whole number of milliseconds from 100 to 3600000 (got ${JSON.stringify(v)})`);
    return fallback;
  };
  const headersTimeoutMs = millis('headersTimeoutMs', HTTP_SERVER_DEFAULTS.headersTimeoutMs);
  const requestTimeoutMs = millis('requestTimeoutMs', HTTP_SERVER_DEFAULTS.requestTimeoutMs);
  // Node refuses a headers timeout longer than the request timeout (the headers are part of the request).
  if (headersTimeoutMs > requestTimeoutMs) issue('headersTimeoutMs', `must not exceed the request timeout (${requestTimeoutMs} ms)`);

  let port = DEFAULT_PORT;
  if (raw['port']) {
    port = Number(raw['port'].value);
    if (!Number.isInteger(port) || port < 0 || port > 65535) issue('port', `must be an integer from 0 to 65535 (got ${JSON.stringify(raw['port'].value)})`);
  }
  let logLevel: LogLevel = 'info';
  if (raw['logLevel']) {
    const v = raw['logLevel'].value as LogLevel;
    if (LOG_LEVELS.includes(v)) logLevel = v;
    else issue('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const logFormat = oneOf('logFormat', LOG_FORMATS, 'text');
  const metrics = oneOf('prometheusMetrics', METRICS_VALUES, 'off');
  const metricsToken = token('metricsToken');
  if (metricsToken !== null && metrics === 'off') issue('metricsToken', 'is set but SWITCHYARD_METRICS is not `prometheus`: set both to serve protected metrics');
  const options: ServiceOptions = {
    flagsDir: raw['flagsDir']?.value ?? DEFAULT_FLAGS_DIR,
    port,
    host: raw['host']?.value ?? DEFAULT_HOST,
    useLegacy: bool('useLegacy', false),
    overrideToken: token('overrideToken'),
    adminToken: token('adminToken'),
    viewerToken: token('viewerToken'),
    handlersModule: raw['handlersModule']?.value ?? null,
    watch: bool('watch', true),
    logLevel,
    logFormat,
    prometheusMetrics: metrics === 'prometheus',
    metricsToken,
    headersTimeoutMs,
    requestTimeoutMs,
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze(options);
}
