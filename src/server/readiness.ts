/** Where the process is in its life, as `/_switchyard/readyz` reports it. */
export type ReadinessState = 'starting' | 'ready' | 'draining';

/**
 * Ready means "send me traffic": flags are loaded and the flag sources have answered or their
 * start-up wait ran out (createSwitchyard marks it then), and the process is not draining
 * (the CLI marks that on SIGTERM, so load balancers stop sending before connections close).
 * Liveness is separate: a starting or draining process is alive and must not be restarted.
 */
export class Readiness {
  private current: ReadinessState = 'starting';

  get state(): ReadinessState {
    return this.current;
  }

  get ready(): boolean {
    return this.current === 'ready';
  }

  /** Once draining, a process never becomes ready again: it is on its way out. */
  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markDraining(): void {
    this.current = 'draining';
  }
}
