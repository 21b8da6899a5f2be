/**
 * Goal ratios from interleaved benchmark rounds (pure; no I/O). Round r of every scenario runs in
 * the same pass over the scenario list, so a slow spell of a shared machine weighs on both sides
 * of a ratio instead of on whichever scenario happened to run during it; the ratio reported is
 * the median of the per-round ratios, with each round's shown beside it.
 */
export interface Ratio {
  /** The median of the per-round ratios (the lower middle one for an even count). */
  readonly median: number;
  readonly perRound: readonly number[];
}

/**
 * a[r] / b[r] for every round both measured (undefined: that round has no figure, e.g. no CPU
 * reading); null when no round has both.
 */
export function roundRatios(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): Ratio | null {
  const perRound: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || y === 0) continue;
    perRound.push(x / y);
  }
  if (perRound.length === 0) return null;
  const sorted = [...perRound].sort((p, q) => p - q);
  return { median: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0, perRound };
}

/** `1.21×`, and each round's ratio when there were several: `1.21× (1.18, 1.21, 1.30)`. */
export function formatRatio(r: Ratio): string {
  return `${r.median.toFixed(2)}×${r.perRound.length > 1 ? ` (${r.perRound.map((x) => x.toFixed(2)).join(', ')})` : ''}`;
}
