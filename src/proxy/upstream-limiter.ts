/**
 * The seed's thread pool of `workers`, seen from the proxy: at most `maxInFlight` requests reach
 * the backend at once, up to `maxQueue` wait in arrival order, and whoever waits longer than
 * `queueTimeoutMs` — or arrives to a full queue — is turned away at once instead of hanging.
 * Gunicorn's sync workers serve one request each; queueing here rather than in gunicorn's
 * listen backlog keeps the wait bounded and visible.
 */
export type SlotRejection = 'queue_full' | 'queue_timeout';

interface Waiter {
  granted: ((release: () => void) => void) | null;
  rejected: (why: SlotRejection) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface LimiterSettings {
  readonly maxInFlight: number;
  readonly maxQueue: number;
  readonly queueTimeoutMs: number;
}

export class UpstreamLimiter {
  private active = 0;
  /** Arrival order is insertion order; a Set lets a cancelled waiter leave in O(1). */
  private readonly waiters = new Set<Waiter>();
  private idleListeners: (() => void)[] = [];

  constructor(private settings: LimiterSettings) {}

  /**
   * Adopts new limits (a hot reload) while keeping the requests in flight and queued, so a
   * reload can never let more than `maxInFlight` through at once.
   */
  resize(settings: LimiterSettings): void {
    this.settings = settings;
    this.grantNext();
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.size;
  }

  /**
   * Calls `granted` with a release function once a slot is free (synchronously when one is),
   * or `rejected`. Returns a cancel function for a client that goes away while queued.
   */
  acquire(granted: (release: () => void) => void, rejected: (why: SlotRejection) => void): () => void {
    if (this.active < this.settings.maxInFlight && this.waiters.size === 0) {
      this.active++;
      granted(this.releaser());
      return noop;
    }
    if (this.waiters.size >= this.settings.maxQueue) {
      rejected('queue_full');
      return noop;
    }
    const waiter: Waiter = { granted, rejected, timer: undefined };
    waiter.timer = setTimeout(() => {
      if (waiter.granted === null) return;
      this.drop(waiter);
      rejected('queue_timeout');
    }, this.settings.queueTimeoutMs);
    this.waiters.add(waiter);
    return () => {
      if (waiter.granted !== null) this.drop(waiter);
    };
  }

  /** Resolves when nothing is in flight or queued (used to retire an upstream after reload). */
  whenIdle(listener: () => void): void {
    if (this.active === 0 && this.waiters.size === 0) listener();
    else this.idleListeners.push(listener);
  }

  private drop(waiter: Waiter): void {
    waiter.granted = null;
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    this.notifyIfIdle();
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.grantNext();
      this.notifyIfIdle();
    };
  }

  private grantNext(): void {
    for (const waiter of this.waiters) {
      if (this.active >= this.settings.maxInFlight) break;
      const granted = waiter.granted!;
      waiter.granted = null;
      clearTimeout(waiter.timer);
      this.waiters.delete(waiter);
      this.active++;
      granted(this.releaser());
    }
  }

  private notifyIfIdle(): void {
    if (this.active !== 0 || this.waiters.size !== 0 || this.idleListeners.length === 0) return;
    const listeners = this.idleListeners;
    this.idleListeners = [];
    for (const listener of listeners) listener();
  }
}

function noop(): void {}
