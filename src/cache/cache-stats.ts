/** What X-Switchyard-Cache says about a response. */
export type CacheStatus = 'HIT' | 'MISS' | 'STALE' | 'REVALIDATED' | 'BYPASS';

export type CacheCounts = Record<'hit' | 'miss' | 'stale' | 'revalidated' | 'bypass', number>;

const FIELD: Record<CacheStatus, keyof CacheCounts> = { HIT: 'hit', MISS: 'miss', STALE: 'stale', REVALIDATED: 'revalidated', BYPASS: 'bypass' };

/** Per-route counts of cache outcomes, for the dashboard and metrics (monotonic counters). */
export class CacheStats {
  private readonly perRoute = new Map<string, CacheCounts>();
  private listeners: ((route: string, status: CacheStatus) => void)[] = [];

  count(route: string, status: CacheStatus): void {
    let counts = this.perRoute.get(route);
    if (counts === undefined) {
      counts = { hit: 0, miss: 0, stale: 0, revalidated: 0, bypass: 0 };
      this.perRoute.set(route, counts);
    }
    counts[FIELD[status]]++;
    for (const listener of this.listeners) listener(route, status);
  }

  /** Called on every counted outcome (e.g. to feed an OpenTelemetry counter); returns an unsubscribe. */
  onCount(listener: (route: string, status: CacheStatus) => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  snapshot(): Record<string, CacheCounts> {
    return Object.fromEntries([...this.perRoute].map(([route, counts]) => [route, { ...counts }]));
  }
}
