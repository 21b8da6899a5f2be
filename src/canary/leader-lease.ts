/**
 * One controller in the fleet: whoever holds the lease drives every run. `tryAcquire` takes a
 * free (or expired) lease or renews this instance's own; the holder renews it every tick, so when
 * it dies another instance takes over once the lease expires.
 */
export interface LeaderLease {
  readonly kind: 'memory' | 'redis';
  /** This instance's id, as `leader` in the API. */
  readonly id: string;
  /** true when this instance holds the lease afterwards. Never throws: an unreachable store is "not leader". */
  tryAcquire(): Promise<boolean>;
  /** The current holder, or null. */
  holder(): Promise<string | null>;
  /** Gives the lease up (on close), if held. */
  release(): Promise<void>;
  close(): Promise<void>;
}

/** Without Redis the one process drives. */
export class MemoryLease implements LeaderLease {
  readonly kind = 'memory';
  constructor(readonly id: string) {}

  tryAcquire(): Promise<boolean> {
    return Promise.resolve(true);
  }

  holder(): Promise<string | null> {
    return Promise.resolve(this.id);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
