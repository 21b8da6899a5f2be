import type { Clock } from './cache-policy.js';

const PASS_MEMO_LIMIT = 10_000;

/**
 * Hit-for-pass: keys whose last answer was not storable skip request coalescing for a while, so
 * requests for an uncacheable URL do not queue behind each other. Bounded (oldest first out).
 */
export class PassMemo {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  remember(key: string): void {
    if (this.until.size >= PASS_MEMO_LIMIT) {
      const oldest = this.until.keys().next();
      if (oldest.done !== true) this.until.delete(oldest.value);
    }
    this.until.set(key, this.clock() + this.ttlMs);
  }

  has(key: string): boolean {
    const until = this.until.get(key);
    if (until === undefined) return false;
    if (until > this.clock()) return true;
    this.until.delete(key);
    return false;
  }

  forget(key: string): void {
    this.until.delete(key);
  }

  clear(): void {
    this.until.clear();
  }
}
