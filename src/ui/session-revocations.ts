/**
 * Signed-out dashboard sessions, by id, until they would have expired anyway. In this process
 * only (no Redis) or shared through Redis by every instance (redis-revocations.ts).
 */
export interface SessionRevocations {
  /** true: a sign-out here is refused by every instance sharing the store. */
  readonly shared: boolean;
  /** Signs session `id` out until `untilMs`. Rejects when it could not be shared (it is refused here all the same). */
  revoke(id: string, untilMs: number): Promise<void>;
  /** Whether session `id` (valid until `untilMs`) was signed out. */
  isRevoked(id: string, untilMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** This process's list: another instance accepts a signed-out cookie until it expires. */
export class MemoryRevocations implements SessionRevocations {
  readonly shared: boolean = false;
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  revoke(id: string, untilMs: number): Promise<void> {
    this.add(id, untilMs);
    return Promise.resolve();
  }

  isRevoked(id: string): Promise<boolean> {
    return Promise.resolve(this.has(id));
  }

  /** Synchronous forms, for the Redis store's local copy. */
  add(id: string, untilMs: number): void {
    const now = this.now();
    for (const [known, until] of this.until) if (until <= now) this.until.delete(known);
    this.until.set(id, untilMs);
  }

  has(id: string): boolean {
    return this.until.has(id);
  }

  close(): Promise<void> {
    this.until.clear();
    return Promise.resolve();
  }
}
