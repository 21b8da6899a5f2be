import { rateIncreaseTest } from '../stats/proportions.js';
import { classifyField, type NoiseThresholds } from './noise-filter.js';
import { parsePointerPattern } from './json-pointer.js';
import type { RouteShadowCounts, ShadowSample } from './shadow-store.js';

/** Why a field is proposed for an ignore rule. */
export type ProposalReason = 'noise_rate' | 'timestamp' | 'uuid' | 'request_id';

export interface IgnoreProposal {
  readonly route: string;
  /** The generalised JSON Pointer (`/items/*\/updated_at`): what the rule would ignore. */
  readonly field: string;
  readonly reasons: readonly ProposalReason[];
  readonly evidence: {
    readonly compared: number;
    readonly noiseSamples: number;
    /** Comparisons in which legacy and new differed at this field. */
    readonly raw: number;
    /** Noise samples in which two calls of the same side differed at it. */
    readonly noise: number;
    readonly rawRate: number;
    readonly noiseRate: number | null;
    /** One-sided test of "legacy-vs-new differs more often than noise": large = no evidence it does. */
    readonly pValue: number | null;
    /** Values seen at the field in the stored mismatch samples, per side (a few, distinct). */
    readonly values: { readonly legacy: readonly string[]; readonly new: readonly string[] };
    /** Of the sample values, how many look like a timestamp, a UUID, a request id. */
    readonly looksLike: { readonly timestamp: number; readonly uuid: number; readonly requestId: number; readonly of: number };
  };
}

export interface ProposalInput {
  readonly counts: RouteShadowCounts;
  readonly samples: readonly ShadowSample[];
  readonly thresholds: NoiseThresholds;
  /** Patterns already ignored (flags/ and approved at runtime): never proposed again. */
  readonly ignored: readonly string[];
  /** Fields a person rejected: never proposed again. */
  readonly rejected: readonly string[];
}

/** Fewer noise samples than this say nothing about a field's noise rate. */
export const MIN_NOISE_SAMPLES = 5;
/** Fewer sample values than this say nothing about what a field holds. */
export const MIN_VALUES = 3;
/** Share of sample values that must look alike (timestamp, UUID, request id). */
export const LOOKS_LIKE_SHARE = 0.8;
/** p-values at or above this: no evidence that legacy and new differ more often than noise. */
export const INDISTINGUISHABLE_P = 0.05;

/**
 * Ignore rules to propose for a route: a JSON field whose legacy-vs-new difference rate is
 * indistinguishable from its noise rate (Diffy's verdict is noise *and* a one-sided two-proportion
 * test finds no excess at 5%, with enough noise samples and at least one noisy difference), or
 * whose values in the mismatch samples look like timestamps, UUIDs or request ids (with several
 * distinct values). Status, headers and non-JSON bodies are never proposed; nor is what is
 * already ignored or was rejected. Pure; sorted by how often the field differed.
 */
export function proposeIgnoreRules(input: ProposalInput): IgnoreProposal[] {
  const { counts } = input;
  const skip = new Set([...input.ignored, ...input.rejected]);
  const out: IgnoreProposal[] = [];
  for (const [field, c] of Object.entries(counts.fields)) {
    if (c.raw === 0 || field === '' || field.startsWith('@') || skip.has(field)) continue;
    const rawRate = counts.compared === 0 ? 0 : c.raw / counts.compared;
    const noiseRate = counts.noiseSamples === 0 ? null : c.noise / counts.noiseSamples;
    const pValue = counts.compared === 0 || counts.noiseSamples === 0 ? null : rateIncreaseTest({ events: c.raw, trials: counts.compared }, { events: c.noise, trials: counts.noiseSamples }).pValue;
    const values = sampleValues(input.samples, field);
    const looksLike = classifyValues(field, [...values.legacy, ...values.new]);
    const reasons: ProposalReason[] = [];
    const noisy =
      counts.noiseSamples >= MIN_NOISE_SAMPLES && c.noise > 0 && pValue !== null && pValue >= INDISTINGUISHABLE_P &&
      classifyField(c, counts.compared, counts.noiseSamples, input.thresholds) === 'noise';
    if (noisy) reasons.push('noise_rate');
    const enough = looksLike.of >= MIN_VALUES && distinct(values) >= 2;
    if (enough && looksLike.timestamp >= LOOKS_LIKE_SHARE * looksLike.of) reasons.push('timestamp');
    if (enough && looksLike.uuid >= LOOKS_LIKE_SHARE * looksLike.of) reasons.push('uuid');
    if (enough && looksLike.requestId >= LOOKS_LIKE_SHARE * looksLike.of) reasons.push('request_id');
    if (reasons.length === 0) continue;
    out.push({
      route: counts.route,
      field,
      reasons,
      evidence: { compared: counts.compared, noiseSamples: counts.noiseSamples, raw: c.raw, noise: c.noise, rawRate, noiseRate, pValue, values: { legacy: values.legacy.slice(0, 5), new: values.new.slice(0, 5) }, looksLike },
    });
  }
  return out.sort((a, b) => b.evidence.raw - a.evidence.raw || a.field.localeCompare(b.field));
}

const distinct = (v: { legacy: readonly string[]; new: readonly string[] }): number => new Set([...v.legacy, ...v.new]).size;

/** Distinct values at `field` (a pattern with `*`) in the samples' JSON bodies, by side, newest first. */
export function sampleValues(samples: readonly ShadowSample[], field: string): { legacy: string[]; new: string[] } {
  const pattern = parsePointerPattern(field);
  const found = { legacy: new Set<string>(), new: new Set<string>() };
  for (const sample of samples) {
    for (const exchange of [sample.primary, sample.candidate]) {
      const body = parseBody(exchange.body);
      if (body === undefined) continue;
      for (const value of valuesAt(body, pattern)) found[exchange.side].add(typeof value === 'string' ? value : JSON.stringify(value));
    }
  }
  return { legacy: [...found.legacy], new: [...found.new] };
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined; // a truncated or non-JSON sample body
  }
}

function valuesAt(value: unknown, pattern: readonly string[]): unknown[] {
  if (pattern.length === 0) return value === undefined ? [] : [value];
  if (typeof value !== 'object' || value === null) return [];
  const [head, ...rest] = pattern as [string, ...string[]];
  const children = head === '*' ? Object.values(value) : Object.hasOwn(value, head) ? [(value as Record<string, unknown>)[head]] : [];
  return children.flatMap((child) => valuesAt(child, rest));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
// Epoch seconds or milliseconds between 2000 and 2100.
const EPOCH_S = [946_684_800, 4_102_444_800] as const;
const ID_NAME = /(^|[_-])(request|req|trace|span|correlation|message|event)[_-]?id$|^(nonce|etag)$/i;
const ID_VALUE = /^(?=.*\d)[A-Za-z0-9_-]{12,64}$/;

/** How many of `values` look like a timestamp, a UUID, a request id (by value, or by the field's name and an id-like value). */
export function classifyValues(field: string, values: readonly string[]): { timestamp: number; uuid: number; requestId: number; of: number } {
  const name = field.slice(field.lastIndexOf('/') + 1);
  let timestamp = 0;
  let uuid = 0;
  let requestId = 0;
  for (const v of values) {
    if (looksLikeTimestamp(v)) timestamp++;
    if (UUID.test(v)) uuid++;
    if (ID_NAME.test(name) && (UUID.test(v) || ID_VALUE.test(v))) requestId++;
  }
  return { timestamp, uuid, requestId, of: values.length };
}

export function looksLikeTimestamp(value: string): boolean {
  if (ISO_DATE_TIME.test(value) || HTTP_DATE.test(value)) return true;
  if (!/^\d+(\.\d+)?$/.test(value)) return false;
  const n = Number(value);
  return (n >= EPOCH_S[0] && n <= EPOCH_S[1]) || (n >= EPOCH_S[0] * 1000 && n <= EPOCH_S[1] * 1000);
}
