import type { OutcomeBucket } from '../stats/outcome-bucket.js';

/**
 * One publish of one series. Buckets are whole (a slot's bucket overwrites what was published for
 * that slot, never adds to it), so an update sent twice changes nothing.
 */
export interface OutcomeUpdate {
  readonly buckets: readonly OutcomeBucket[];
  /**
   * True: `buckets` are every bucket this instance has of the series, and any other slot it
   * published is removed. False: only these slots changed; the others stay as published.
   */
  readonly complete: boolean;
  /** Slot starts this instance published before that fell out of the retention: removed. */
  readonly expired: readonly number[];
}

/**
 * Where instances publish their outcome buckets so any instance can read the fleet-wide view.
 * Each instance owns its own buckets (keyed by its id): publishing overwrites them, never adds,
 * so a retried or repeated publish cannot double-count.
 */
export interface OutcomeStore {
  /** `redis`, for answers and logs. */
  readonly kind: string;
  /**
   * Writes `update` to this instance's published buckets of `series`; the series expires
   * `retentionMs` after. Resolves false when the store had no such series before this write
   * (expired, or lost by a restarted or flushed Redis): the caller then publishes it whole.
   */
  publish(instance: string, series: string, update: OutcomeUpdate, retentionMs: number): Promise<boolean>;
  /** Every instance's buckets of `series` (parsed; malformed ones dropped), with the instance that published each. */
  read(series: string): Promise<{ instance: string; bucket: OutcomeBucket }[]>;
  close(): Promise<void>;
}
