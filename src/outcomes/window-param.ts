/**
 * A window length as people write it in a query string: `30s`, `5m`, `1h`, or plain seconds.
 * Pure. Returns ms, or a reason that names what is wrong.
 */
export type WindowParam = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly reason: string };

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

export function parseWindowParam(text: string, maxMs: number): WindowParam {
  const m = /^(\d{1,6})([smh]?)$/.exec(text.trim());
  if (m === null) return { ok: false, reason: `\`${text}\` is not a window: write e.g. 30s, 5m or 1h` };
  const ms = Number(m[1]) * (UNITS[m[2] === '' || m[2] === undefined ? 's' : m[2]] ?? 1000);
  if (ms <= 0) return { ok: false, reason: 'the window must be longer than 0' };
  if (ms > maxMs) return { ok: false, reason: `the window must be at most ${formatWindow(maxMs)} (outcomes are kept that long)` };
  return { ok: true, ms };
}

export function formatWindow(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
