/**
 * A breaker per route for shadow calls: after `failures` consecutive failures it opens for
 * `cooldownMs`, then lets one trial through (half-open). The clock is passed in.
 */
export class CircuitBreaker {
  private consecutive = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(
    private readonly failures: number,
    private readonly cooldownMs: number,
    private readonly now: () => number,
  ) {}

  /** May a call start now? Takes the half-open trial slot when it does. */
  allow(): boolean {
    if (this.consecutive < this.failures) return true;
    if (this.now() < this.openUntil || this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.consecutive = 0;
    this.trialInFlight = false;
  }

  failure(): void {
    this.consecutive++;
    this.trialInFlight = false;
    if (this.consecutive >= this.failures) this.openUntil = this.now() + this.cooldownMs;
  }

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.consecutive < this.failures) return 'closed';
    return this.now() < this.openUntil ? 'open' : 'half-open';
  }
}
