import type { Logger } from '../logging/logger.js';
import { CacheUnavailableError, type CacheStore } from './cache-store.js';

export interface GuardOptions {
  /** Longest wait for one operation. */
  readonly timeoutMs: number;
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold?: number;
  /** How long an open circuit refuses operations before letting one probe through. */
  readonly openMs?: number;
  readonly logger: Logger;
}

/**
 * Every cache operation through one gate: a timeout, and a circuit breaker so a slow or dead
 * store costs requests nothing after a few failures — no command is even sent while the circuit
 * is open, so nothing piles up. After `openMs` one operation probes; success closes the circuit.
 * Failures surface as CacheUnavailableError, which the cache turns into BYPASS.
 */
export class GuardedStore {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private failures = 0;
  private timeouts = 0;
  private readonly threshold: number;
  private readonly openMs: number;

  constructor(
    readonly inner: CacheStore,
    private readonly options: GuardOptions,
  ) {
    this.threshold = options.failureThreshold ?? 3;
    this.openMs = options.openMs ?? 1000;
  }

  get kind(): string {
    return this.inner.kind;
  }

  get shared(): boolean {
    return this.inner.shared;
  }

  /** False when a request should not even try the store. */
  available(): boolean {
    return this.inner.isAvailable() && Date.now() >= this.openUntil;
  }

  stats(): { kind: string; available: boolean; failures: number; timeouts: number; circuitOpen: boolean; nearCopies: boolean } {
    return { kind: this.inner.kind, available: this.available(), failures: this.failures, timeouts: this.timeouts, circuitOpen: Date.now() < this.openUntil, nearCopies: this.inner.nearActive === true };
  }

  get(key: string): Promise<Buffer | null> {
    return this.run('get', () => this.inner.get(key));
  }

  /**
   * A read that needs no waiting: a store with `peek` (in-process, or Redis's coherent copies)
   * offers one, and only while it is available and the circuit closed — otherwise undefined, and
   * the caller uses `get` (which then fails the usual way).
   */
  peek(key: string): Buffer | null | undefined {
    const inner = this.inner;
    if (inner.peek === undefined || !inner.isAvailable() || Date.now() < this.openUntil) return undefined;
    return inner.peek(key);
  }

  set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    return this.run('set', () => this.inner.set(key, value, ttlMs));
  }

  delete(key: string): Promise<boolean> {
    return this.run('delete', () => this.inner.delete(key));
  }

  /** Purges scan the keyspace: they get their own, longer, time limit. */
  deleteMatching(prefix: string, filter: ((key: string) => boolean) | undefined, timeoutMs: number): Promise<number> {
    return this.run('purge', () => this.inner.deleteMatching(prefix, filter), timeoutMs);
  }

  tryLock(key: string, ttlMs: number): Promise<string | null> {
    return this.run('lock', () => this.inner.tryLock(key, ttlMs));
  }

  unlock(key: string, token: string): Promise<void> {
    return this.run('unlock', () => this.inner.unlock(key, token));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private run<T>(op: string, work: () => Promise<T>, timeoutMs = this.options.timeoutMs): Promise<T> {
    if (!this.inner.isAvailable()) return Promise.reject(new CacheUnavailableError(`cache store (${this.inner.kind}) is not connected`));
    if (Date.now() < this.openUntil) return Promise.reject(new CacheUnavailableError(`cache store (${this.inner.kind}) circuit is open`));
    // In-process: its own promise as it is (an async wrapper would add three microtask turns per read).
    if (this.inner.inProcess === true) {
      try {
        return work();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    return this.guarded(op, work, timeoutMs);
  }

  /**
   * `work` within `timeoutMs` (one promise, one timer): its value, or a CacheUnavailableError —
   * counted, and opening the circuit after `threshold` consecutive failures.
   */
  private guarded<T>(op: string, work: () => Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const fail = (error: unknown): void => {
        this.failures++;
        this.consecutiveFailures++;
        if (this.consecutiveFailures >= this.threshold && Date.now() >= this.openUntil) {
          this.openUntil = Date.now() + this.openMs;
          this.options.logger.warn(`cache store (${this.inner.kind}) failing; bypassing it for ${this.openMs} ms`, { cause: error instanceof Error ? error.message : String(error) });
        }
        reject(error instanceof CacheUnavailableError ? error : new CacheUnavailableError(`cache ${op} failed`, { cause: error }));
      };
      // The timer fires in the event loop's timers phase, before the poll phase reads sockets: when
      // this process was busy (its own load, not the store's) a reply that has already arrived
      // would lose the race. setImmediate lets that I/O be read first, so only a store that really
      // has not answered counts as timed out — and only those can trip the breaker.
      const timer = setTimeout(() => {
        setImmediate(() => {
          if (settled) return;
          settled = true;
          this.timeouts++;
          fail(new CacheUnavailableError(`cache ${op} took longer than ${timeoutMs} ms`));
        });
      }, timeoutMs);
      let pending: Promise<T>;
      try {
        pending = work();
      } catch (error) {
        clearTimeout(timer);
        settled = true;
        return fail(error);
      }
      pending.then(
        (value) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          this.consecutiveFailures = 0;
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (settled) return;
          settled = true;
          fail(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }
}
