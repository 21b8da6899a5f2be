/** Keys every JSON log line starts with; a field of the same name is kept under `field.<name>`. */
const RESERVED = new Set(['time', 'level', 'msg']);

/**
 * One log record as a single line of JSON (`time`, `level`, `msg`, then the fields), for log
 * shippers that read one object a line. Never throws: a log call must not take a request down,
 * so values JSON cannot hold (errors, bigints, cycles) are written as readable stand-ins.
 */
export function jsonLogLine(level: string, message: string, fields: Record<string, unknown> | undefined, now: Date = new Date()): string {
  const record: Record<string, unknown> = { time: now.toISOString(), level, msg: message };
  for (const [key, value] of Object.entries(fields ?? {})) record[RESERVED.has(key) ? `field.${key}` : key] = value;
  return `${safeStringify(record)}\n`;
}

function safeStringify(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) return { name: value.name, message: value.message, ...('code' in value ? { code: (value as { code: unknown }).code } : {}) };
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  });
}
