import { tmpdir } from 'node:os';
import type { ConfigIssue } from '../errors/switchyard-error.js';

/** Unleash as the flag source (see README: "Unleash"). Read from UNLEASH_* by `readUnleashEnv`. */
export interface UnleashOptions {
  /** The Unleash API URL, e.g. http://unleash:4242/api/ (UNLEASH_URL). */
  readonly url: string;
  /** A client (backend) token, sent as Authorization (UNLEASH_API_TOKEN). */
  readonly apiToken?: string | null;
  /** UNLEASH_APP_NAME; default `switchyard`. Also names the backup file. */
  readonly appName?: string;
  /** UNLEASH_ENVIRONMENT: the context's environment; default `default`. (The token picks the server-side environment.) */
  readonly environment?: string;
  readonly instanceId?: string;
  /** Directory of the client's backup file (last known flags), read at start-up (SWITCHYARD_BACKUP_DIR; default the OS temp dir). */
  readonly backupDir?: string;
  /** How often flags are fetched (UNLEASH_REFRESH_INTERVAL_MS; default 15000). */
  readonly refreshIntervalMs?: number;
  /** How often usage metrics are sent (UNLEASH_METRICS_INTERVAL_MS; default 60000). */
  readonly metricsIntervalMs?: number;
  /** Send usage metrics to Unleash (UNLEASH_METRICS; default true). */
  readonly metrics?: boolean;
  /** Pass impression events on (UNLEASH_IMPRESSIONS; default true) — to `onImpression` and the debug log. */
  readonly impressions?: boolean;
  /** Longest start-up wait for the first answer, then serve from the backup or flags/ (UNLEASH_STARTUP_TIMEOUT_MS; default 5000). */
  readonly startupTimeoutMs?: number;
  /** HTTP timeout of one fetch (default 10000). */
  readonly requestTimeoutMs?: number;
  /** Receives Unleash impression events of flags with impression data on. */
  readonly onImpression?: (event: Readonly<Record<string, unknown>>) => void;
}

export const UNLEASH_DEFAULTS = Object.freeze({
  appName: 'switchyard',
  environment: 'default',
  refreshIntervalMs: 15_000,
  metricsIntervalMs: 60_000,
  metrics: true,
  impressions: true,
  startupTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
});

export const defaultBackupDir = (): string => tmpdir();

/**
 * UNLEASH_URL turns Unleash on; the other variables refine it. Every malformed value is named,
 * all at once (the caller throws them as one ConfigError, as for the other variables).
 */
export function readUnleashEnv(env: NodeJS.ProcessEnv): { options: UnleashOptions | null; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const issue = (field: string, reason: string): void => void issues.push({ file: '<env>', field, reason });
  const url = get('UNLEASH_URL');
  if (url === undefined) {
    for (const name of ['UNLEASH_API_TOKEN', 'UNLEASH_APP_NAME', 'UNLEASH_ENVIRONMENT']) {
      if (get(name) !== undefined) issue(name, 'is set but UNLEASH_URL is not: set UNLEASH_URL to use Unleash');
    }
    return { options: null, issues };
  }
  if (!/^https?:\/\/[^\s]+$/.test(url)) issue('UNLEASH_URL', `must be an http(s) URL such as http://unleash:4242/api/ (got ${JSON.stringify(url)})`);
  const integer = (name: string, min: number, max: number): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) issue(name, `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
    return n;
  };
  const bool = (name: string): boolean | undefined => {
    const v = get(name)?.toLowerCase();
    if (v === undefined) return undefined;
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    issue(name, `must be true, false, 1 or 0 (got ${JSON.stringify(v)})`);
    return undefined;
  };
  const options: UnleashOptions = {
    url,
    apiToken: get('UNLEASH_API_TOKEN') ?? null,
    appName: get('UNLEASH_APP_NAME') ?? UNLEASH_DEFAULTS.appName,
    environment: get('UNLEASH_ENVIRONMENT') ?? UNLEASH_DEFAULTS.environment,
    ...(get('UNLEASH_INSTANCE_ID') === undefined ? {} : { instanceId: get('UNLEASH_INSTANCE_ID') }),
    backupDir: get('SWITCHYARD_BACKUP_DIR') ?? defaultBackupDir(),
    refreshIntervalMs: integer('UNLEASH_REFRESH_INTERVAL_MS', 100, 3_600_000) ?? UNLEASH_DEFAULTS.refreshIntervalMs,
    metricsIntervalMs: integer('UNLEASH_METRICS_INTERVAL_MS', 1000, 3_600_000) ?? UNLEASH_DEFAULTS.metricsIntervalMs,
    metrics: bool('UNLEASH_METRICS') ?? UNLEASH_DEFAULTS.metrics,
    impressions: bool('UNLEASH_IMPRESSIONS') ?? UNLEASH_DEFAULTS.impressions,
    startupTimeoutMs: integer('UNLEASH_STARTUP_TIMEOUT_MS', 0, 300_000) ?? UNLEASH_DEFAULTS.startupTimeoutMs,
  };
  return { options: issues.length > 0 ? null : options, issues };
}
