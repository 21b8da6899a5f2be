import { jsonLogLine } from './json-line.js';

/** The few log calls Switchyard makes; pass your own (pino, winston…) or use the console one. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** `text` for people at a terminal; `json` (SWITCHYARD_LOG_FORMAT=json): one object a line for log shippers. */
export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

export function createConsoleLogger(level: LogLevel = 'info', format: LogFormat = 'text'): Logger {
  const threshold = LOG_LEVELS.indexOf(level);
  const write = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(at) < threshold) return;
    const line = format === 'json' ? jsonLogLine(at, message, fields) : textLogLine(at, message, fields);
    if (at === 'error' || at === 'warn') process.stderr.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

function textLogLine(level: string, message: string, fields?: Record<string, unknown>): string {
  const suffix = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `switchyard ${level}: ${message}${suffix}\n`;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
