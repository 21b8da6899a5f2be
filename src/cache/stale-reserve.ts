import type { LoadedEntry } from './cache-lookup.js';

/** Accounting overhead per kept entry (maps, key strings, meta objects), as the memory store counts. */
const ENTRY_OVERHEAD_BYTES = 512;

interface Kept {
  readonly base: string;
  readonly entry: LoadedEntry;
  readonly bytes: number;
}

/**
 * The last copy of each shared-store entry this process has read, kept in memory for one case
 * only: the shared store (Redis) is unreachable *and* legacy fails. Varnish calls it grace; the
 * shared store alone cannot give it, because then the stale copy is exactly what is out of reach.
 *
 * It is never served while the store answers, nor for a fresh hit while it is down (another
 * instance may have purged the URL meanwhile: only legacy's failure justifies an old copy), and
 * only within the entry's own stale-if-error window. Purges and invalidations through this
 * process delete their copies here first. Bounded by bytes, least recently kept evicted first.
 */
export class StaleReserve {
  /** By store key (the URL's or its variant's); Map order is the eviction order. */
  private readonly kept = new Map<string, Kept>();
  /** Store keys by the URL's base key: a request finds its variant among them. */
  private readonly byBase = new Map<string, Set<string>>();
  private used = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.kept.size;
  }

  /** Keeps `entry`, stored under `key` for the URL `base` (the same key replaces the old copy). */
  remember(base: string, key: string, entry: LoadedEntry): void {
    this.forgetKey(key);
    const bytes = entry.body.length + key.length + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes) return;
    while (this.used + bytes > this.maxBytes) {
      const oldest = this.kept.keys().next();
      if (oldest.done === true) break;
      this.forgetKey(oldest.value);
    }
    this.kept.set(key, { base, entry, bytes });
    this.used += bytes;
    let keys = this.byBase.get(base);
    if (keys === undefined) this.byBase.set(base, (keys = new Set()));
    keys.add(key);
  }

  /** The copy kept for this URL whose key `keyFor` (the request's own variant key) names. */
  find(base: string, keyFor: (entry: LoadedEntry) => string): LoadedEntry | null {
    const keys = this.byBase.get(base);
    if (keys === undefined) return null;
    for (const key of keys) {
      const kept = this.kept.get(key);
      if (kept !== undefined && keyFor(kept.entry) === key) return kept.entry;
    }
    return null;
  }

  /** Forgets a store key; a URL's base key takes all its variants with it (as deleting its Vary marker orphans them). */
  forget(key: string): void {
    const variants = this.byBase.get(key);
    if (variants !== undefined) for (const variant of [...variants]) this.forgetKey(variant);
    this.forgetKey(key);
  }

  /** Forgets every key under `prefix` that passes `filter` (a purge's scope). */
  forgetMatching(prefix: string, filter?: (key: string) => boolean): void {
    for (const key of [...this.kept.keys()]) if (key.startsWith(prefix) && (filter === undefined || filter(key))) this.forgetKey(key);
  }

  private forgetKey(key: string): void {
    const kept = this.kept.get(key);
    if (kept === undefined) return;
    this.kept.delete(key);
    this.used -= kept.bytes;
    const keys = this.byBase.get(kept.base);
    keys?.delete(key);
    if (keys?.size === 0) this.byBase.delete(kept.base);
  }
}
