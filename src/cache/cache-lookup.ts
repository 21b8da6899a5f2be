import type { CacheContext } from './cache-context.js';
import { variantKey } from './cache-key.js';
import type { Policy } from './cache-policy.js';
import { viewOf, type CacheRequest, type Keys } from './cache-request.js';
import { decodeRecord, type EntryMeta, type VaryMarker } from './entry-codec.js';

export interface LoadedEntry {
  readonly meta: EntryMeta;
  readonly body: Buffer;
  readonly policy: Policy;
}

export interface Found {
  readonly key: string;
  readonly entry: LoadedEntry;
  readonly view: Record<string, string>;
  /** The URL's Vary marker when the entry is one of its variants (a refresh keeps its generation). */
  readonly marker: VaryMarker | null;
}

export type Lookup = ({ readonly kind: 'entry' } & Found) | { readonly kind: 'miss'; readonly key: string; readonly marker: VaryMarker | null };

/**
 * Finds what is stored for a request: the URL's entry, or its Vary marker and then the variant
 * this request selects (one or two store reads).
 */
export class CacheLookup {
  /** Decoded records of an in-process store, by the stored Buffer: a hit skips JSON and policy parsing. */
  private readonly decoded = new WeakMap<Buffer, Found>();

  constructor(private readonly ctx: CacheContext) {}

  async lookup(c: CacheRequest, keys: Keys): Promise<Lookup> {
    const store = this.ctx.store;
    const value = await store.get(keys.base);
    const known = value === null ? undefined : this.decoded.get(value);
    if (known !== undefined) return { kind: 'entry', ...known, view: viewOf(c, keys, known.entry.meta.vary) };
    const record = decodeRecord(value ?? Buffer.alloc(0));
    if (record === null) return { kind: 'miss', key: keys.base, marker: null };
    if (record.kind === 'entry') return { kind: 'entry', ...this.loaded(value, keys.base, record.meta, record.body, c, keys, null) };
    const key = variantKey(keys.base, record.vary, viewOf(c, keys, record.vary), record.generation);
    const variantValue = await store.get(key);
    const knownVariant = variantValue === null ? undefined : this.decoded.get(variantValue);
    if (knownVariant !== undefined) return { kind: 'entry', ...knownVariant, view: viewOf(c, keys, knownVariant.entry.meta.vary), marker: record };
    const variant = decodeRecord(variantValue ?? Buffer.alloc(0));
    if (variant === null || variant.kind !== 'entry') return { kind: 'miss', key, marker: record };
    return { kind: 'entry', ...this.loaded(variantValue, key, variant.meta, variant.body, c, keys, record) };
  }

  private loaded(value: Buffer | null, key: string, meta: EntryMeta, body: Buffer, c: CacheRequest, keys: Keys, marker: VaryMarker | null): Found {
    const found: Found = { key, entry: { meta, body, policy: meta.policy }, view: viewOf(c, keys, meta.vary), marker };
    // Only an in-process store hands back the same Buffer again; policies are read-only.
    if (value !== null && this.ctx.store.inner.inProcess === true) this.decoded.set(value, found);
    return found;
  }
}

/** An encoded entry read back (what followers of a fill are handed). */
export function decodeEntry(value: Buffer): LoadedEntry {
  const record = decodeRecord(value);
  if (record === null || record.kind !== 'entry') throw new Error('cache entry did not round-trip');
  return { meta: record.meta, body: record.body, policy: record.meta.policy };
}
