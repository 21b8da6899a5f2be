import type { ComparisonRecord, ShadowResultStore, SkipReason } from '../shadow/shadow-store.js';

export interface ShadowCountsSnapshot {
  readonly compared: Readonly<Record<string, { matched: number; mismatched: number }>>;
  readonly skipped: Readonly<Record<string, Partial<Record<SkipReason, number>>>>;
}

/**
 * This process's own shadow outcomes, counted as they are handed to the result store. The store
 * cannot serve Prometheus: in Redis it holds every instance's total, and a scrape of each
 * instance would count them all again. Monotonic, like every Prometheus counter.
 */
export class ShadowCounts {
  private readonly compared = new Map<string, { matched: number; mismatched: number }>();
  private readonly skipped = new Map<string, Partial<Record<SkipReason, number>>>();

  /** The same store, with every recorded comparison and skip counted here first. */
  wrap(store: ShadowResultStore): ShadowResultStore {
    return {
      recordComparison: (route: string, record: ComparisonRecord) => {
        this.countComparison(route, record.matched);
        return store.recordComparison(route, record);
      },
      recordSkip: (route: string, reason: SkipReason) => {
        this.countSkip(route, reason);
        return store.recordSkip(route, reason);
      },
      counts: (route) => store.counts(route),
      routes: () => store.routes(),
      samples: (route, limit) => store.samples(route, limit),
      reset: (route) => store.reset(route),
      close: () => store.close(),
    };
  }

  countComparison(route: string, matched: boolean): void {
    let counts = this.compared.get(route);
    if (counts === undefined) {
      counts = { matched: 0, mismatched: 0 };
      this.compared.set(route, counts);
    }
    if (matched) counts.matched++;
    else counts.mismatched++;
  }

  countSkip(route: string, reason: SkipReason): void {
    let counts = this.skipped.get(route);
    if (counts === undefined) {
      counts = {};
      this.skipped.set(route, counts);
    }
    counts[reason] = (counts[reason] ?? 0) + 1;
  }

  snapshot(): ShadowCountsSnapshot {
    return {
      compared: Object.fromEntries([...this.compared].map(([route, c]) => [route, { ...c }])),
      skipped: Object.fromEntries([...this.skipped].map(([route, c]) => [route, { ...c }])),
    };
  }
}
