/**
 * The soak's memory verdict, pure so it can be tested against known series. RSS is read as an
 * envelope: the highest sample of each trailing minute. V8 hands pages back to the OS after a
 * major collection (a dip of 20–25% that the next minute's allocations take back), which is not
 * what the check is for; growth — a leak, an unbounded cache, a queue — raises the envelope and
 * is caught, and so is a lasting drop (the envelope follows it down once the minute has passed).
 */
export interface EnvelopeVerdict {
  readonly pass: boolean;
  readonly median: number;
  /** Largest relative distance of the envelope from its median. */
  readonly worst: number;
  readonly envelope: readonly number[];
}

/** Trailing maximum over `window` samples (the first ones over what there is so far). */
export function trailingMax(series: readonly number[], window: number): number[] {
  return series.map((_, i) => Math.max(...series.slice(Math.max(0, i - window + 1), i + 1)));
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Every point of the trailing-`window` envelope within ±`tolerance` of the envelope's median.
 * `before`: the samples taken before `rss` (the warm-up), which the first points' trailing windows
 * look back into but which are not judged — without them the first judged point's "minute" is that
 * one sample, and a collection's dip landing on it reads as a lasting drop.
 */
export function rssEnvelopeCheck(rss: readonly number[], window: number, tolerance = 0.1, before: readonly number[] = []): EnvelopeVerdict {
  const history = before.slice(Math.max(0, before.length - (window - 1)));
  const envelope = trailingMax([...history, ...rss], window).slice(history.length);
  const m = median(envelope);
  const worst = envelope.length === 0 ? Number.NaN : Math.max(...envelope.map((v) => Math.abs(v / m - 1)));
  return { pass: worst <= tolerance, median: m, worst, envelope };
}
