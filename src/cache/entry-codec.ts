import type { Policy } from './cache-policy.js';

/**
 * What a store holds under a key, as one binary value (one GET/SET in Redis, and the exact byte
 * count for the memory store's bound): a small JSON header, then the body bytes untouched.
 *
 *   "SWY" | format 2 | kind 'E' (entry) or 'V' (vary marker) | uint32 BE JSON length | JSON | body
 */
export interface EntryMeta {
  /** Status and origin headers as the client gets them (hop-by-hop removed, Cache-Control as sent). */
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[]>>;
  /** Freshness (cache-policy.ts) with the route's overrides applied. */
  readonly policy: Policy;
  /** Header names of the response's Vary, lower-case, sorted. */
  readonly vary: readonly string[];
  /** The Vary marker's generation the entry was stored under ('' without Vary). */
  readonly generation: string;
  readonly route: string;
  /** Request target (path and normalised query), for purges and logs. */
  readonly target: string;
  /** Clock time of the response (ms). */
  readonly storedAt: number;
}

/** Stored at a URL's base key when its responses vary: which request headers pick the variant. */
export interface VaryMarker {
  readonly vary: readonly string[];
  readonly generation: string;
}

export type CacheRecord = { readonly kind: 'entry'; readonly meta: EntryMeta; readonly body: Buffer } | ({ readonly kind: 'vary' } & VaryMarker);

/** A record to encode; an entry's body may be the chunks as read (copied once, into the value). */
export type RecordInput = { readonly kind: 'entry'; readonly meta: EntryMeta; readonly body: Buffer | readonly Buffer[] } | ({ readonly kind: 'vary' } & VaryMarker);

const MAGIC = Buffer.from('SWY');
// 2: the policy is cache-policy.ts's own record (1 held http-cache-semantics' object; read as a miss).
const FORMAT = 2;
const HEADER_BYTES = MAGIC.length + 2 + 4;

export function encodeRecord(record: RecordInput): Buffer {
  const json = Buffer.from(JSON.stringify(record.kind === 'entry' ? record.meta : { vary: record.vary, generation: record.generation }), 'utf8');
  const chunks = record.kind === 'vary' ? [] : Buffer.isBuffer(record.body) ? [record.body] : record.body;
  const bodyLength = chunks.reduce((n, c) => n + c.length, 0);
  const out = Buffer.allocUnsafe(HEADER_BYTES + json.length + bodyLength);
  MAGIC.copy(out, 0);
  out[MAGIC.length] = FORMAT;
  out[MAGIC.length + 1] = record.kind === 'entry' ? 0x45 : 0x56;
  out.writeUInt32BE(json.length, MAGIC.length + 2);
  json.copy(out, HEADER_BYTES);
  let offset = HEADER_BYTES + json.length;
  for (const chunk of chunks) {
    chunk.copy(out, offset);
    offset += chunk.length;
  }
  return out;
}

/** The record in `value`, or null for anything this version did not write (treated as a miss). */
export function decodeRecord(value: Buffer): CacheRecord | null {
  if (value.length < HEADER_BYTES || !value.subarray(0, MAGIC.length).equals(MAGIC) || value[MAGIC.length] !== FORMAT) return null;
  const kind = value[MAGIC.length + 1];
  const jsonLength = value.readUInt32BE(MAGIC.length + 2);
  if (HEADER_BYTES + jsonLength > value.length) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8', HEADER_BYTES, HEADER_BYTES + jsonLength));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  if (kind === 0x56) {
    const { vary, generation } = parsed as { vary?: unknown; generation?: unknown };
    return Array.isArray(vary) && vary.every((v) => typeof v === 'string') && typeof generation === 'string' ? { kind: 'vary', vary, generation } : null;
  }
  if (kind !== 0x45) return null;
  const meta = parsed as EntryMeta;
  if (typeof meta.status !== 'number' || typeof meta.headers !== 'object' || typeof meta.policy !== 'object' || meta.policy === null || typeof meta.policy.lifetimeMs !== 'number' || !Array.isArray(meta.vary) || typeof meta.generation !== 'string') return null;
  // A view, not a copy: the body is served straight from the stored value.
  return { kind: 'entry', meta, body: value.subarray(HEADER_BYTES + jsonLength) };
}

/**
 * The JSON header of an encoded entry (its meta), to tell two values of one key apart without
 * parsing them: two values with the same header bytes decode to the same meta. Null for
 * anything that is not an entry this version wrote.
 */
export function entryHeader(value: Buffer): Buffer | null {
  if (value.length < HEADER_BYTES || value[MAGIC.length] !== FORMAT || value[MAGIC.length + 1] !== 0x45) return null;
  const end = HEADER_BYTES + value.readUInt32BE(MAGIC.length + 2);
  return end > value.length ? null : value.subarray(HEADER_BYTES, end);
}

/** The body of an encoded entry whose header is `header` (see entryHeader). */
export function entryBody(value: Buffer, header: Buffer): Buffer {
  return value.subarray(HEADER_BYTES + header.length);
}
