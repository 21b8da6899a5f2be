/**
 * Brute-force brake for every credential Switchyard checks (admin token, metrics token, tester
 * override token — and any sign-in that wants it): after `maxFailures` wrong credentials from one
 * key within `windowMs`, that key is refused for `blockMs` without its credential being looked at.
 * Pure bookkeeping: no I/O, the clock is injected, memory is bounded by `maxClients`.
 *
 * A blocked key is refused even when it finally sends the right credential: if the right one
 * still passed, an attacker would keep guessing through the refusals and learn the token from the
 * one answer that differs. Successes are never limited otherwise, and one resets the key's count.
 */
export interface AuthFailureLimits {
  /** Wrong credentials from one key within `windowMs` that block it. */
  readonly maxFailures: number;
  readonly windowMs: number;
  /** How long a blocked key is refused. */
  readonly blockMs: number;
  /** Keys tracked at once; past it the one whose last failure is oldest is forgotten. */
  readonly maxClients: number;
}

interface KeyState {
  failures: number;
  windowStartedAt: number;
  blockedUntil: number;
}

export class AuthFailureLimiter {
  // Insertion order is recency order: every failure re-inserts its key, so the first key is the
  // one whose last failure is oldest — the cheapest to forget when the map is full.
  private readonly keys = new Map<string, KeyState>();

  constructor(
    readonly limits: AuthFailureLimits,
    private readonly now: () => number,
  ) {}

  /** Milliseconds until `key` may try a credential again; 0 when it may now. */
  retryAfterMs(key: string): number {
    const state = this.live(key);
    return state === undefined ? 0 : Math.max(0, state.blockedUntil - this.now());
  }

  /** A wrong credential from `key`; returns `retryAfterMs(key)` after counting it. */
  recordFailure(key: string): number {
    const now = this.now();
    const state = this.live(key) ?? { failures: 0, windowStartedAt: now, blockedUntil: 0 };
    this.keys.delete(key);
    if (state.blockedUntil > now) {
      this.keys.set(key, state);
      return state.blockedUntil - now;
    }
    if (now - state.windowStartedAt >= this.limits.windowMs) {
      state.failures = 0;
      state.windowStartedAt = now;
    }
    state.failures++;
    if (state.failures >= this.limits.maxFailures) {
      state.blockedUntil = now + this.limits.blockMs;
      state.failures = 0;
      state.windowStartedAt = state.blockedUntil;
    }
    while (this.keys.size >= this.limits.maxClients) {
      const oldest = this.keys.keys().next();
      if (oldest.done === true) break;
      this.keys.delete(oldest.value);
    }
    this.keys.set(key, state);
    return Math.max(0, state.blockedUntil - now);
  }

  /** The right credential from `key` (only reachable while it is not blocked): its count restarts. */
  recordSuccess(key: string): void {
    this.keys.delete(key);
  }

  /** Keys tracked now (bounded by `maxClients`). */
  get size(): number {
    return this.keys.size;
  }

  /** The key's state, or undefined once it has nothing left to remember (forgotten on the way). */
  private live(key: string): KeyState | undefined {
    const state = this.keys.get(key);
    if (state === undefined) return undefined;
    const now = this.now();
    if (state.blockedUntil <= now && now - state.windowStartedAt >= this.limits.windowMs) {
      this.keys.delete(key);
      return undefined;
    }
    return state;
  }
}
