/**
 * Diffy's noise cancelling: a field differs for real only when it differs between legacy and new
 * (raw) clearly more often than between two calls of the same side (noise). Noise is sampled on a
 * fraction of requests, so rates, not counts, are compared. Pure.
 */
export interface NoiseThresholds {
  /** |raw − noise| / (raw + noise) must exceed this (Diffy: 20%). */
  readonly relative: number;
  /** |raw − noise| as a share of all comparisons must exceed this (Diffy: 0.03%). */
  readonly absolute: number;
}

export const DIFFY_THRESHOLDS: NoiseThresholds = Object.freeze({ relative: 0.2, absolute: 0.0003 });

export interface FieldCounts {
  readonly raw: number;
  readonly noise: number;
}

export type FieldVerdict = 'difference' | 'noise';

export function classifyField(counts: FieldCounts, compared: number, noiseSamples: number, t: NoiseThresholds = DIFFY_THRESHOLDS): FieldVerdict {
  if (compared === 0) return 'noise';
  const rawRate = counts.raw / compared;
  const noiseRate = noiseSamples === 0 ? 0 : counts.noise / noiseSamples;
  if (rawRate <= noiseRate) return 'noise';
  const relative = (rawRate - noiseRate) / (rawRate + noiseRate);
  return relative > t.relative && rawRate - noiseRate > t.absolute ? 'difference' : 'noise';
}
