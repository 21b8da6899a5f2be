import type { CacheContext } from './cache-context.js';
import type { StorageDecision } from './cache-policy.js';
import { decodeRecord, encodeRecord } from './entry-codec.js';

const VARY_MARKER_MIN_TTL_MS = 3_600_000;

/**
 * Store writes that never fail a request: a write the store refuses is skipped (the next request
 * fills again), a delete that fails expires by itself.
 */
export class CacheWrites {
  constructor(private readonly ctx: CacheContext) {}

  /**
   * The variant goes first, its Vary marker second: an instance that sees the marker always finds
   * the variant (seeing no marker, it waits on the fill lock this instance holds). A variant whose
   * marker write fails is unreachable and expires by itself.
   */
  async write(base: string, storeKey: string, value: Buffer, decision: Extract<StorageDecision, { store: true }>, generation: string, reusesMarker: boolean): Promise<void> {
    // A fill that joined the marker it found at lookup must not bring that marker back once it is
    // gone: an unsafe request (or a purge) deleted it meanwhile to orphan every older variant.
    if (reusesMarker && !(await this.markerStillHolds(base, generation))) return;
    if (!(await this.writeQuietly(storeKey, value, decision.storeTtlMs)) || decision.vary.length === 0) return;
    const marker = encodeRecord({ kind: 'vary', vary: decision.vary, generation });
    await this.writeQuietly(base, marker, Math.max(decision.storeTtlMs, VARY_MARKER_MIN_TTL_MS));
  }

  private async markerStillHolds(base: string, generation: string): Promise<boolean> {
    try {
      const record = decodeRecord((await this.ctx.store.get(base)) ?? Buffer.alloc(0));
      return record !== null && record.kind === 'vary' && record.generation === generation;
    } catch {
      return false;
    }
  }

  async writeQuietly(key: string, value: Buffer, ttlMs: number): Promise<boolean> {
    try {
      await this.ctx.store.set(key, value, ttlMs);
      return true;
    } catch (error) {
      this.ctx.logger.debug('cache write skipped', { cause: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  async deleteQuietly(key: string): Promise<void> {
    // The reserve first: even when the store cannot be reached, this process never serves what it was told is gone.
    this.ctx.reserve?.forget(key);
    try {
      await this.ctx.store.delete(key);
    } catch {
      // Expires by itself.
    }
  }
}
