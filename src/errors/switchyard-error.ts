import type { ErrorCode } from './error-codes.js';

/**
 * One base class for every error Switchyard raises on purpose. `code` is stable (safe to match on
 * in logs and alerts); `status` is the HTTP status a client sees when the error reaches one.
 */
export class SwitchyardError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: { status?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? 500;
  }
}

/** Where in which file a configuration problem sits; every start-up error names all three. */
export interface ConfigIssue {
  /** File the problem is in (relative to the working directory), or `<env>` / `<inline>`. */
  readonly file: string;
  /** Field path such as `routes[2].rollout.percentage`, or an environment variable name. */
  readonly field: string;
  readonly reason: string;
  /** 1-based line of the offending node when the file is YAML and the node could be located. */
  readonly line?: number;
}

export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}`;
  return `${where}: ${issue.field}: ${issue.reason}`;
}

export class ConfigError extends SwitchyardError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((issue) => `  - ${formatConfigIssue(issue)}`).join('\n');
    super('SWITCHYARD_CONFIG_INVALID', `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${lines}`);
    this.issues = issues;
  }
}

/** The legacy (or new) upstream could not be reached or broke the connection: 502. */
export class UpstreamUnavailableError extends SwitchyardError {
  constructor(upstream: string, cause?: unknown) {
    super('SWITCHYARD_UPSTREAM_UNAVAILABLE', `upstream \`${upstream}\` is unavailable`, { status: 502, cause });
  }
}

/** The upstream did not connect or answer within its configured time: 504. */
export class UpstreamTimeoutError extends SwitchyardError {
  readonly phase: 'connect' | 'response';
  constructor(upstream: string, phase: 'connect' | 'response', timeoutMs: number) {
    super('SWITCHYARD_UPSTREAM_TIMEOUT', `upstream \`${upstream}\` did not ${phase === 'connect' ? 'accept a connection' : 'answer'} within ${timeoutMs} ms`, { status: 504 });
    this.phase = phase;
  }
}

/** Past `maxInFlight` and a full (or too slow) queue: 503 with Retry-After. */
export class UpstreamOverloadedError extends SwitchyardError {
  readonly retryAfterSeconds: number;
  constructor(upstream: string, detail: string, retryAfterSeconds: number) {
    super('SWITCHYARD_UPSTREAM_OVERLOADED', `upstream \`${upstream}\` is overloaded: ${detail}`, { status: 503 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** A malformed request (bad path, bad override header): 400. */
export class BadRequestError extends SwitchyardError {
  constructor(code: ErrorCode, message: string) {
    super(code, message, { status: 400 });
  }
}
