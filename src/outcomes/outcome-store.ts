import type { OutcomeBucket } from '../stats/outcome-bucket.js';

/**
 * Where instances publish their outcome buckets so any instance can read the fleet-wide view.
 * Each instance owns its own buckets (keyed by its id): publishing overwrites them, never adds,
 * so a retried or repeated publish cannot double-count.
 */
export interface OutcomeStore {
  /** `redis`, for answers and logs. */
  readonly kind: string;
  /** Replaces this instance's published buckets of `series` with `buckets`. */
  publish(instance: string, series: string, buckets: readonly OutcomeBucket[], retentionMs: number): Promise<void>;
  /** Every instance's buckets of `series` (parsed; malformed ones dropped), with the instance that published each. */
  read(series: string): Promise<{ instance: string; bucket: OutcomeBucket }[]>;
  close(): Promise<void>;
}
