import { ConfigError } from '../errors/switchyard-error.js';
import { jsonLogLine } from '../logging/json-line.js';

/**
 * The last words of a process that could not start, in the log format the operator chose:
 * a log shipper reading JSON lines must see why the service never came up, too. (The format
 * variable is read leniently here: an invalid value is itself among the reported problems.)
 */
export function startupFailure(error: unknown, env: NodeJS.ProcessEnv): string {
  const json = env['SWITCHYARD_LOG_FORMAT']?.trim().toLowerCase() === 'json';
  if (error instanceof ConfigError) {
    if (!json) return `switchyard: cannot start: ${error.message}\n`;
    return jsonLogLine('error', `cannot start: ${error.message.split('\n', 1)[0] ?? ''}`, { code: error.code, issues: error.issues });
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return json ? jsonLogLine('error', 'cannot start', { error: detail }) : `switchyard: cannot start: ${detail}\n`;
}
