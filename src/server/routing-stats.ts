import type { RequestObserver } from '../pipeline/routed-request.js';
import type { Side } from '../config/types.js';
import type { TesterOverride } from '../routing/tester-override.js';

type IgnoredWhy = Extract<TesterOverride, { kind: 'ignored' }>['why'] | 'rate_limited';

/** In-process counters the admin API, the dashboard and metrics read. */
export class RoutingStats {
  private readonly perRoute = new Map<string, Record<Side, number>>();
  private readonly ignored: Record<IgnoredWhy, number> = { no_token_configured: 0, missing_token: 0, invalid_token: 0, rate_limited: 0 };
  private applied = 0;
  private readonly lastSeen = new Map<string, Record<Side, number | null>>();
  /** When counting started: "unused since" means nothing before it. */
  readonly since: number;

  constructor(private readonly now: () => number = Date.now) {
    this.since = now();
  }

  countDecision(route: string, side: Side): void {
    let seen = this.lastSeen.get(route);
    if (seen === undefined) this.lastSeen.set(route, (seen = { legacy: null, new: null }));
    seen[side] = this.now();
    let counts = this.perRoute.get(route);
    if (counts === undefined) {
      counts = { legacy: 0, new: 0 };
      this.perRoute.set(route, counts);
    }
    counts[side]++;
  }

  countOverride(override: TesterOverride): void {
    if (override.kind === 'ignored') this.ignored[override.why]++;
    else if (override.kind === 'rate_limited') this.ignored.rate_limited++;
    else if (override.kind === 'applied') this.applied++;
  }

  /** Counts each routed request's decision. */
  observer(): RequestObserver {
    return { name: 'stats', onRouted: (r) => this.countDecision(r.route.name, r.decision.side) };
  }

  /** When each side of `route` last served (ms since the epoch; null: not since `since`). */
  lastSeenOf(route: string): Record<Side, number | null> {
    const seen = this.lastSeen.get(route);
    return seen === undefined ? { legacy: null, new: null } : { ...seen };
  }

  snapshot(): { routes: Record<string, Record<Side, number>>; overrides: { applied: number; ignored: Record<IgnoredWhy, number> } } {
    return {
      routes: Object.fromEntries([...this.perRoute].map(([name, counts]) => [name, { ...counts }])),
      overrides: { applied: this.applied, ignored: { ...this.ignored } },
    };
  }
}
