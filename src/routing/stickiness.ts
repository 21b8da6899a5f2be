import type { IncomingHttpHeaders } from 'node:http';
import type { StickinessSource } from '../config/types.js';

/**
 * Returns the first configured stickiness value present on the request, or `fallback()`. Header
 * (and Cookie header) values are read as UTF-8 text, see `utf8HeaderText`.
 */
export function stickinessValue(headers: IncomingHttpHeaders, sources: readonly StickinessSource[], fallback: () => string): string {
  for (const source of sources) {
    const value = 'header' in source ? headerValue(headers, source.header) : cookieValue(textOf(headers.cookie), source.cookie);
    if (value !== undefined && value !== '') return value;
  }
  return fallback();
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return textOf(Array.isArray(value) ? value[0] : value);
}

function textOf(value: string | undefined): string | undefined {
  return value === undefined ? undefined : utf8HeaderText(value);
}

const NON_ASCII = /[\u0080-\uffff]/;
const BEYOND_LATIN1 = /[\u0100-\uffff]/;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Node hands header values over decoded as Latin-1 (one character per byte), so `Zoë` sent as
 * UTF-8 arrives as `ZoÃ«`. Ids are text, and an Unleash SDK buckets the text: bucketing the
 * Latin-1 reading would put those users on another side than Unleash (or a flag moved between
 * flags/ and Unleash) does. So the bytes are read as UTF-8; bytes that are not valid UTF-8 keep
 * their Latin-1 reading (one character per byte, as before), which is stable for that client.
 */
export function utf8HeaderText(value: string): string {
  if (!NON_ASCII.test(value)) return value;
  // Not one character per byte: the value did not come from the wire (set in code); leave it.
  if (BEYOND_LATIN1.test(value)) return value;
  try {
    return strictUtf8.decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Reads one cookie from a Cookie header (RFC 6265 §5.4 pairs; optional quotes stripped). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq === -1) continue;
    if (pair.slice(0, eq).trim() !== name) continue;
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}
