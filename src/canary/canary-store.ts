import type { CanaryRun } from './canary-run.js';

/**
 * Where runs live. Writes are compare-and-set on the run's `version`, so two instances (a leader
 * and one taking an admin control, or a deposed leader) can never overwrite each other's change:
 * the loser re-reads and decides again.
 */
export interface CanaryRunStore {
  readonly kind: 'memory' | 'redis';
  /** true: every instance sharing the store sees the same runs (Redis). */
  readonly shared: boolean;
  get(route: string): Promise<CanaryRun | null>;
  list(): Promise<CanaryRun[]>;
  /** Stores `run` if the stored run's version is `expectedVersion` (null: none stored); false when it moved. */
  put(run: CanaryRun, expectedVersion: number | null): Promise<boolean>;
  close(): Promise<void>;
}

/** Thrown when the store cannot be reached: nothing was read or written. */
export class CanaryStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CanaryStoreUnavailableError';
  }
}

/** Runs of this process only (no REDIS_URL): kept as JSON so a caller never shares a mutable object. */
export class MemoryCanaryStore implements CanaryRunStore {
  readonly kind = 'memory';
  readonly shared = false;
  private readonly runs = new Map<string, string>();

  get(route: string): Promise<CanaryRun | null> {
    const text = this.runs.get(route);
    return Promise.resolve(text === undefined ? null : (JSON.parse(text) as CanaryRun));
  }

  list(): Promise<CanaryRun[]> {
    return Promise.resolve([...this.runs.keys()].sort().map((route) => JSON.parse(this.runs.get(route) as string) as CanaryRun));
  }

  put(run: CanaryRun, expectedVersion: number | null): Promise<boolean> {
    const text = this.runs.get(run.route);
    const stored = text === undefined ? null : (JSON.parse(text) as CanaryRun).version;
    if (stored !== expectedVersion) return Promise.resolve(false);
    this.runs.set(run.route, JSON.stringify(run));
    return Promise.resolve(true);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
