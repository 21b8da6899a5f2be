import type { CacheContext } from './cache-context.js';
import { variantKey } from './cache-key.js';
import type { Policy } from './cache-policy.js';
import { viewOf, type CacheRequest, type Keys } from './cache-request.js';
import { decodeRecord, entryBody, entryHeader, type EntryMeta, type VaryMarker } from './entry-codec.js';

/** Keys whose decoded meta a shared-store lookup keeps (about 1 KB each). */
const SHARED_META_LIMIT = 2_000;

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
  /** Decoded records by the stored Buffer (an in-process store's, or a shared store's in-process copy): a hit skips JSON and policy parsing. */
  private readonly decoded = new WeakMap<Buffer, Found>();
  /**
   * A shared store hands back a new Buffer on every read: the last decoded meta of each key, by
   * its header bytes, so a hit on an unchanged entry compares bytes instead of parsing JSON.
   */
  private readonly sharedMeta = new Map<string, { readonly header: Buffer; readonly meta: EntryMeta }>();

  constructor(private readonly ctx: CacheContext) {}

  async lookup(c: CacheRequest, keys: Keys): Promise<Lookup> {
    const store = this.ctx.store;
    const first = this.ofBase(c, keys, await store.get(keys.base));
    return first.kind === 'marker' ? this.ofVariant(c, keys, first.key, first.record, await store.get(first.key)) : first;
  }

  /**
   * The same lookup without waiting, for an in-process store or a shared store's coherent copies
   * (no I/O): a hit is then served in the request's own turn, with no promise in between.
   * Undefined when the store cannot be read that way (no copy, or out of reach): use `lookup`.
   */
  lookupNow(c: CacheRequest, keys: Keys): Lookup | undefined {
    const store = this.ctx.store;
    const value = store.peek(keys.base);
    if (value === undefined) return undefined;
    const first = this.ofBase(c, keys, value);
    if (first.kind !== 'marker') return first;
    const variantValue = store.peek(first.key);
    return variantValue === undefined ? undefined : this.ofVariant(c, keys, first.key, first.record, variantValue);
  }

  /** What the URL's key holds: an entry, nothing, or a Vary marker naming the variant key to read next. */
  private ofBase(c: CacheRequest, keys: Keys, value: Buffer | null): Lookup | { readonly kind: 'marker'; readonly key: string; readonly record: VaryMarker } {
    const known = value === null ? undefined : this.decoded.get(value);
    if (known !== undefined) return { kind: 'entry', ...known, view: viewOf(c, keys, known.entry.meta.vary) };
    const same = value === null ? undefined : this.sameAsBefore(keys.base, value);
    if (same !== undefined) return { kind: 'entry', ...this.found(keys.base, same.meta, same.body, c, keys, null) };
    const record = decodeRecord(value ?? Buffer.alloc(0));
    if (record === null) return { kind: 'miss', key: keys.base, marker: null };
    if (record.kind === 'entry') return { kind: 'entry', ...this.loaded(value, keys.base, record.meta, record.body, c, keys, null) };
    return { kind: 'marker', key: variantKey(keys.base, record.vary, viewOf(c, keys, record.vary), record.generation), record };
  }

  private ofVariant(c: CacheRequest, keys: Keys, key: string, record: VaryMarker, variantValue: Buffer | null): Lookup {
    const knownVariant = variantValue === null ? undefined : this.decoded.get(variantValue);
    if (knownVariant !== undefined) return { kind: 'entry', ...knownVariant, view: viewOf(c, keys, knownVariant.entry.meta.vary), marker: record };
    const sameVariant = variantValue === null ? undefined : this.sameAsBefore(key, variantValue);
    if (sameVariant !== undefined) return { kind: 'entry', ...this.found(key, sameVariant.meta, sameVariant.body, c, keys, record) };
    const variant = decodeRecord(variantValue ?? Buffer.alloc(0));
    if (variant === null || variant.kind !== 'entry') return { kind: 'miss', key, marker: record };
    return { kind: 'entry', ...this.loaded(variantValue, key, variant.meta, variant.body, c, keys, record) };
  }

  private loaded(value: Buffer | null, key: string, meta: EntryMeta, body: Buffer, c: CacheRequest, keys: Keys, marker: VaryMarker | null): Found {
    const found = this.found(key, meta, body, c, keys, marker);
    if (value === null) return found;
    // An in-process store (or Redis's coherent copies) hands back the same Buffer again; policies are read-only.
    this.decoded.set(value, found);
    if (this.ctx.store.inner.inProcess !== true) {
      this.rememberMeta(key, value, meta);
      // A changed entry only (unchanged ones take the sameAsBefore path): no work per hit.
      this.ctx.reserve?.remember(keys.base, key, found.entry);
    }
    return found;
  }

  private found(key: string, meta: EntryMeta, body: Buffer, c: CacheRequest, keys: Keys, marker: VaryMarker | null): Found {
    return { key, entry: { meta, body, policy: meta.policy }, view: viewOf(c, keys, meta.vary), marker };
  }

  /** The meta decoded last time for `key`, when `value` carries exactly the same header. */
  private sameAsBefore(key: string, value: Buffer): { meta: EntryMeta; body: Buffer } | undefined {
    const known = this.sharedMeta.get(key);
    if (known === undefined) return undefined;
    const header = entryHeader(value);
    return header !== null && header.equals(known.header) ? { meta: known.meta, body: entryBody(value, header) } : undefined;
  }

  private rememberMeta(key: string, value: Buffer, meta: EntryMeta): void {
    const header = entryHeader(value);
    if (header === null) return;
    if (this.sharedMeta.size >= SHARED_META_LIMIT && !this.sharedMeta.has(key)) {
      const oldest = this.sharedMeta.keys().next();
      if (oldest.done !== true) this.sharedMeta.delete(oldest.value);
    }
    // A copy: the value's own bytes belong to the store client's reply.
    this.sharedMeta.set(key, { header: Buffer.from(header), meta });
  }
}

/** An encoded entry read back (what followers of a fill are handed). */
export function decodeEntry(value: Buffer): LoadedEntry {
  const record = decodeRecord(value);
  if (record === null || record.kind !== 'entry') throw new Error('cache entry did not round-trip');
  return { meta: record.meta, body: record.body, policy: record.meta.policy };
}
