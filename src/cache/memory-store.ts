import { randomUUID } from 'node:crypto';
import type { Clock } from './cache-policy.js';
import type { CacheStore } from './cache-store.js';

/** Bytes counted per entry beyond key and value: Map slot, object, timestamps. */
const ENTRY_OVERHEAD_BYTES = 96;

interface Slot {
  readonly value: Buffer;
  readonly expiresAt: number;
  readonly bytes: number;
}

/**
 * The embedded store: an LRU bounded by bytes (keys, values and a per-entry overhead), with
 * per-entry expiry on the injected clock. A value larger than the whole bound is not kept.
 */
export class MemoryStore implements CacheStore {
  readonly kind = 'memory';
  readonly shared = false;
  readonly inProcess = true;
  private readonly slots = new Map<string, Slot>();
  private readonly locks = new Map<string, { token: string; expiresAt: number }>();
  private used = 0;
  /** The key last in the Map's order (the most recently used), while known. */
  private newest: string | undefined;

  constructor(
    private maxBytes: number,
    private readonly clock: Clock = Date.now,
  ) {}

  /** Bytes currently accounted (for tests and stats). */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.slots.size;
  }

  get(key: string): Promise<Buffer | null> {
    return Promise.resolve(this.peek(key));
  }

  peek(key: string): Buffer | null {
    const slot = this.slots.get(key);
    if (slot === undefined) return null;
    if (slot.expiresAt <= this.clock()) {
      this.remove(key, slot);
      return null;
    }
    this.touch(key, slot);
    return slot.value;
  }

  set(key: string, value: Buffer, ttlMs: number): Promise<void> {
    const existing = this.slots.get(key);
    if (existing !== undefined) this.remove(key, existing);
    const bytes = Buffer.byteLength(key) + value.length + ENTRY_OVERHEAD_BYTES;
    if (ttlMs <= 0 || bytes > this.maxBytes) return Promise.resolve();
    this.evictFor(bytes);
    this.slots.set(key, { value, expiresAt: this.clock() + ttlMs, bytes });
    this.newest = key;
    this.used += bytes;
    return Promise.resolve();
  }

  delete(key: string): Promise<boolean> {
    const slot = this.slots.get(key);
    if (slot === undefined) return Promise.resolve(false);
    this.remove(key, slot);
    return Promise.resolve(true);
  }

  deleteMatching(prefix: string, filter?: (key: string) => boolean): Promise<number> {
    let count = 0;
    for (const [key, slot] of this.slots) {
      if (key.startsWith(prefix) && (filter === undefined || filter(key))) {
        this.remove(key, slot);
        count++;
      }
    }
    return Promise.resolve(count);
  }

  tryLock(key: string, ttlMs: number): Promise<string | null> {
    const now = this.clock();
    const held = this.locks.get(key);
    if (held !== undefined && held.expiresAt > now) return Promise.resolve(null);
    const token = randomUUID();
    this.locks.set(key, { token, expiresAt: now + ttlMs });
    return Promise.resolve(token);
  }

  unlock(key: string, token: string): Promise<void> {
    if (this.locks.get(key)?.token === token) this.locks.delete(key);
    return Promise.resolve();
  }

  isAvailable(): boolean {
    return true;
  }

  /** Changes the bound, evicting least recently used entries down to it. */
  resize(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.evictFor(0);
  }

  close(): Promise<void> {
    this.slots.clear();
    this.newest = undefined;
    this.locks.clear();
    this.used = 0;
    return Promise.resolve();
  }

  private evictFor(incoming: number): void {
    if (this.used + incoming <= this.maxBytes) return;
    // Least recently used first (the Map's insertion order); expired entries also go lazily on get.
    for (const [key, slot] of this.slots) {
      if (this.used + incoming <= this.maxBytes) break;
      this.remove(key, slot);
    }
  }

  /** Most recently used goes to the end of the Map's order (already there: nothing to move — a hot key's hits). */
  private touch(key: string, slot: Slot): void {
    if (key === this.newest) return;
    this.slots.delete(key);
    this.slots.set(key, slot);
    this.newest = key;
  }

  private remove(key: string, slot: Slot): void {
    if (key === this.newest) this.newest = undefined;
    this.slots.delete(key);
    this.used -= slot.bytes;
  }
}
