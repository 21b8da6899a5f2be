/**
 * The human units of flags files: durations (`500ms`, `30s`, `10m`, `1h`) and percentages
 * (`0.5%`, or a number, which is percent too, like `rollout.percentage`). The schema checks the
 * form; these turn a valid value into ms and fractions. Pure.
 */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Ms of a duration the schema accepted; NaN for anything else. */
export function parseDuration(text: string): number {
  const match = /^([0-9]+)(ms|s|m|h)$/.exec(text);
  if (match === null) return Number.NaN;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** A fraction from `0.5%` or 0.5 (both 0.005); NaN for anything else. */
export function parsePercent(value: number | string): number {
  if (typeof value === 'number') return value / 100;
  const match = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(value);
  return match === null ? Number.NaN : Number(match[1]) / 100;
}

/** `600000` → `10m`, for messages and the admin view. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}
