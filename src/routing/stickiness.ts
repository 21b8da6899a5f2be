import type { IncomingHttpHeaders } from 'node:http';
import type { StickinessSource } from '../config/types.js';

/** Returns the first configured stickiness value present on the request, or `fallback()`. */
export function stickinessValue(headers: IncomingHttpHeaders, sources: readonly StickinessSource[], fallback: () => string): string {
  for (const source of sources) {
    const value = 'header' in source ? headerValue(headers, source.header) : cookieValue(headers.cookie, source.cookie);
    if (value !== undefined && value !== '') return value;
  }
  return fallback();
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
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
