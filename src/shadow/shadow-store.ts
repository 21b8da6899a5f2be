/** Why a request that could have been mirrored was not (the reasons, counted per route). */
export const SKIP_REASONS = ['sampled_out', 'unsafe_method', 'body_too_large', 'overloaded', 'breaker_open', 'error', 'timeout', 'kill_switch', 'legacy_unavailable'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

export interface CapturedExchange {
  readonly side: 'legacy' | 'new';
  readonly status: number;
  readonly headers: Record<string, string>;
  /** Truncated for storage. */
  readonly body: string;
}

/** One mismatch kept for people to look at: both responses, redacted and truncated. */
export interface ShadowSample {
  readonly at: string;
  readonly route: string;
  readonly traceId?: string;
  readonly bucket?: number;
  readonly flagVersion: string;
  readonly request: { readonly method: string; readonly path: string; readonly headers: Record<string, string> };
  readonly primary: CapturedExchange;
  readonly candidate: CapturedExchange;
  readonly differences: readonly { path: string; kind: string }[];
}

export interface ComparisonRecord {
  readonly matched: boolean;
  /** Generalised field keys that differed between the two sides. */
  readonly rawFields: readonly string[];
  /** When the serving side was called twice for this request: the fields that differed then. */
  readonly noiseFields?: readonly string[];
  readonly sample?: ShadowSample;
}

export interface RouteShadowCounts {
  readonly route: string;
  readonly compared: number;
  readonly matched: number;
  readonly mismatched: number;
  readonly noiseSamples: number;
  readonly skipped: Record<SkipReason, number>;
  readonly fields: Record<string, { raw: number; noise: number }>;
}

/**
 * Where shadow results add up. In memory by default; in Redis when configured so that several
 * instances report one total. Implementations never throw into the request path: the mirror
 * calls them fire-and-forget and logs failures.
 */
export interface ShadowResultStore {
  recordComparison(route: string, record: ComparisonRecord): Promise<void>;
  recordSkip(route: string, reason: SkipReason): Promise<void>;
  counts(route: string): Promise<RouteShadowCounts>;
  routes(): Promise<string[]>;
  samples(route: string, limit: number): Promise<ShadowSample[]>;
  reset(route: string): Promise<void>;
  close(): Promise<void>;
}

export function emptySkips(): Record<SkipReason, number> {
  return Object.fromEntries(SKIP_REASONS.map((r) => [r, 0])) as Record<SkipReason, number>;
}

interface RouteState {
  compared: number;
  matched: number;
  mismatched: number;
  noiseSamples: number;
  skipped: Record<SkipReason, number>;
  fields: Map<string, { raw: number; noise: number }>;
  samples: ShadowSample[];
}

/** The embedded default: one process's results, samples in a capped ring per route. */
export class MemoryShadowStore implements ShadowResultStore {
  private readonly state = new Map<string, RouteState>();

  constructor(private readonly maxSamples = 50) {}

  private route(name: string): RouteState {
    let s = this.state.get(name);
    if (s === undefined) {
      s = { compared: 0, matched: 0, mismatched: 0, noiseSamples: 0, skipped: emptySkips(), fields: new Map(), samples: [] };
      this.state.set(name, s);
    }
    return s;
  }

  recordComparison(route: string, record: ComparisonRecord): Promise<void> {
    const s = this.route(route);
    s.compared++;
    if (record.matched) s.matched++;
    else s.mismatched++;
    const field = (key: string) => {
      let f = s.fields.get(key);
      if (f === undefined) s.fields.set(key, (f = { raw: 0, noise: 0 }));
      return f;
    };
    for (const key of new Set(record.rawFields)) field(key).raw++;
    if (record.noiseFields !== undefined) {
      s.noiseSamples++;
      for (const key of new Set(record.noiseFields)) field(key).noise++;
    }
    if (record.sample !== undefined) {
      s.samples.unshift(record.sample);
      if (s.samples.length > this.maxSamples) s.samples.length = this.maxSamples;
    }
    return Promise.resolve();
  }

  recordSkip(route: string, reason: SkipReason): Promise<void> {
    this.route(route).skipped[reason]++;
    return Promise.resolve();
  }

  counts(route: string): Promise<RouteShadowCounts> {
    const s = this.route(route);
    return Promise.resolve({
      route,
      compared: s.compared,
      matched: s.matched,
      mismatched: s.mismatched,
      noiseSamples: s.noiseSamples,
      skipped: { ...s.skipped },
      fields: Object.fromEntries([...s.fields].map(([k, v]) => [k, { ...v }])),
    });
  }

  routes(): Promise<string[]> {
    return Promise.resolve([...this.state.keys()].sort());
  }

  samples(route: string, limit: number): Promise<ShadowSample[]> {
    return Promise.resolve(this.route(route).samples.slice(0, limit));
  }

  reset(route: string): Promise<void> {
    this.state.delete(route);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
