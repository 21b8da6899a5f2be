import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { headersNamedInConnection } from '../proxy/forwarded-headers.js';

/**
 * Cache keys, pure. Layout (readable in `redis-cli --scan`, and purgeable by prefix):
 *
 *   {namespace}:v{keyVersion}:e:{route}:{path}?{sorted query} GET {proto}://{host}[ fwd=…][ cred=…];
 *   …the same…;~{generation}.{digest of the Vary'd request values}  (one per variant)
 *   {namespace}:v{keyVersion}:l:{sha256 of the key}                (fill lock)
 *
 * The request target comes first so "everything under /flask/products/" is a key prefix within a
 * route; it cannot contain a space, so the first space ends it. Only what reaches the backend and
 * can shape its answer is keyed: method, scheme, host, path, query (parameters ordered by name),
 * the X-Forwarded-* values when (and only when) they are trusted and passed through, the
 * credential for `allowAuthorized` routes, and — per variant — the headers the response names in
 * `Vary`. Untrusted X-Forwarded-* never reach the backend (Switchyard replaces them), so they
 * cannot poison an entry.
 */
export interface KeyInput {
  readonly namespace: string;
  readonly keyVersion: number;
  readonly route: string;
  /** Normalised request path, no query. */
  readonly path: string;
  /** Raw query with its `?`, or ''. */
  readonly query: string;
  readonly host: string;
  readonly proto: 'http' | 'https';
  /** Client-supplied forwarding headers, only when trusted (then they reach the backend). */
  readonly forwarded: Readonly<Record<string, string | string[]>> | null;
  /** Digest of the Authorization value, for routes that store authorised answers per credential. */
  readonly credential: string | null;
}

export const ENTRY_SEGMENT = 'e';

/**
 * Headers that reach the backend only when `trustForwardedHeaders` is on (otherwise Switchyard
 * sets or drops them), and that frameworks use to build URLs: keyed in that case.
 */
export const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-prefix',
  'x-forwarded-port',
  'x-forwarded-server',
  'x-forwarded-ssl',
  'x-original-url',
  'x-rewrite-url',
] as const;
export const LOCK_SEGMENT = 'l';

/** `{namespace}:v{version}:` — every key of one key version starts with it. */
export function versionPrefix(namespace: string, keyVersion: number): string {
  return `${namespace}:v${keyVersion}:`;
}

export function routePrefix(namespace: string, keyVersion: number, route: string): string {
  return `${versionPrefix(namespace, keyVersion)}${ENTRY_SEGMENT}:${route}:`;
}

/** Orders query parameters by name (stable, so repeated names keep their order); drops empty pairs. */
export function normaliseQuery(query: string): string {
  const raw = query.startsWith('?') ? query.slice(1) : query;
  if (raw === '') return '';
  // One parameter (most cached URLs): nothing to order.
  if (!raw.includes('&')) return `?${raw}`;
  const pairs = raw.split('&').filter((p) => p !== '');
  if (pairs.length === 0) return '';
  const named = pairs.map((pair, index) => ({ pair, name: pair.split('=', 1)[0] ?? '', index }));
  named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.index - b.index));
  return `?${named.map((p) => p.pair).join('&')}`;
}

/** The keyed request target: path plus normalised query. */
export function cacheTarget(path: string, query: string): string {
  return path + normaliseQuery(query);
}

/** Lower-cased host without the scheme's default port. */
export function normaliseHost(host: string | undefined, proto: 'http' | 'https'): string {
  const h = (host ?? '').trim().toLowerCase();
  const defaultPort = proto === 'https' ? ':443' : ':80';
  return h.endsWith(defaultPort) ? h.slice(0, -defaultPort.length) : h;
}

/** Key of a URL's entry (or of its Vary marker, when the response varies). */
export function baseKey(input: KeyInput): string {
  const target = cacheTarget(input.path, input.query);
  let origin = `${input.proto}://${encodeURIComponent(normaliseHost(input.host, input.proto))}`;
  if (input.forwarded !== null) {
    const values = FORWARDING_HEADERS.map((name) => [name, input.forwarded?.[name] ?? null]).filter(([, v]) => v !== null);
    // Readable when it is just the usual host/proto, a digest otherwise.
    if (values.length > 0) origin += ` fwd=${digest(JSON.stringify(values))}`;
  }
  if (input.credential !== null) origin += ` cred=${input.credential}`;
  return `${routePrefix(input.namespace, input.keyVersion, input.route)}${target} GET ${origin};`;
}

/** The key prefix shared by every entry of one target in one route (all hosts, all variants). */
export function targetPrefix(namespace: string, keyVersion: number, route: string, target: string): string {
  return `${routePrefix(namespace, keyVersion, route)}${target} `;
}

/**
 * Key of one variant of a URL whose responses carry `Vary`: the view holds the vary'd values, and
 * `generation` comes from the URL's Vary marker — deleting the marker (a purge, or an unsafe
 * request) orphans every variant at once, in O(1).
 */
export function variantKey(base: string, vary: readonly string[], view: Readonly<Record<string, string>>, generation: string): string {
  const values = vary.map((name) => [name, view[name] ?? null]);
  return `${base}~${generation}.${digest(JSON.stringify(values))}`;
}

export function lockKey(namespace: string, keyVersion: number, key: string): string {
  return `${versionPrefix(namespace, keyVersion)}${LOCK_SEGMENT}:${digest(key)}`;
}

/** Route and target of an entry key, for filtering a prefix purge; null for other keys. */
export function parseEntryKey(key: string, namespace: string, keyVersion: number): { route: string; target: string } | null {
  const prefix = `${versionPrefix(namespace, keyVersion)}${ENTRY_SEGMENT}:`;
  if (!key.startsWith(prefix)) return null;
  const rest = key.slice(prefix.length);
  const colon = rest.indexOf(':');
  const space = rest.indexOf(' ', colon + 1);
  if (colon <= 0 || space === -1) return null;
  return { route: rest.slice(0, colon), target: rest.slice(colon + 1, space) };
}

/**
 * Header names listed in `Vary`, lower-cased, de-duplicated and sorted; `'*'` when it contains
 * `*` (never storable). Both the key and the policy's request view use this list.
 */
export function parseVary(value: string | string[] | undefined): string[] | '*' {
  if (value === undefined) return [];
  const names = new Set<string>();
  for (const part of (Array.isArray(value) ? value.join(',') : value).split(',')) {
    const name = part.trim().toLowerCase();
    if (name === '*') return '*';
    if (name !== '') names.add(name);
  }
  return [...names].sort();
}

/** Header value as one string, with insignificant whitespace around commas removed. */
export function normaliseHeaderValue(value: string | string[]): string {
  return (Array.isArray(value) ? value.join(',') : value).trim().replace(/\s*,\s*/g, ',');
}

/** Negotiation headers whose values compare case-insensitively and by preference, not by spelling. */
const PREFERENCE_LISTS = new Set(['accept-language', 'accept-encoding']);

/**
 * A Vary'd request value as keyed. For Accept-Language and Accept-Encoding, variants that mean
 * the same preference share one entry: lower-cased, `;q=1` dropped, and ordered by q-value
 * (stable, so equal preferences keep the client's order — a server may pick the first of equals).
 * `en-US, FR;q=0.5` and `fr;q=0.5,en-us` are one variant; `en, fr` and `fr, en` are two.
 */
export function normaliseVaryValue(name: string, value: string | string[]): string {
  if (!PREFERENCE_LISTS.has(name)) return normaliseHeaderValue(value);
  const items = normaliseHeaderValue(value)
    .toLowerCase()
    .split(',')
    .filter((item) => item !== '')
    .map((item) => {
      const [tag = '', ...params] = item.split(';').map((p) => p.trim());
      let q = 1;
      const rest: string[] = [];
      for (const param of params) {
        const m = /^q=([01](?:\.\d{0,3})?)$/.exec(param.replace(/\s+/g, ''));
        if (m !== null) q = Number(m[1]);
        else rest.push(param);
      }
      return { text: [tag, ...rest, ...(q === 1 ? [] : [`q=${q}`])].join(';'), q };
    });
  return items
    .map((item, index) => ({ ...item, index }))
    .sort((a, b) => b.q - a.q || a.index - b.index)
    .map((item) => item.text)
    .join(',');
}

/** Short SHA-256 (128 bits, hex): keys and request views never hold credentials or cookies. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** Headers the policy (cache-policy.ts) reads directly; they stay raw in the request view. */
const RAW_VIEW_HEADERS = new Set(['host', 'cache-control', 'pragma']);

/**
 * The request as the cache policy sees it: the normalised host, the request's own Cache-Control
 * and Pragma, a digest of Authorization (the policy only needs to know it is there), and digests
 * of the headers the response varies on. Stored with the entry, so it must hold no secrets.
 * A header the request names in `Connection` is dropped by the proxy before legacy sees it, so
 * here it counts as absent: otherwise `Connection: accept-language` would store legacy's
 * language-less answer under the client's language (a poisoned variant).
 */
export function requestView(headers: IncomingHttpHeaders, host: string, vary: readonly string[], allowAuthorized: boolean): Record<string, string> {
  const view: Record<string, string> = { host };
  const dropped = headersNamedInConnection(headers['connection']);
  const cc = headers['cache-control'];
  if (cc !== undefined) view['cache-control'] = cc;
  const pragma = headers['pragma'];
  if (pragma !== undefined) view['pragma'] = pragma;
  for (const name of vary) {
    if (RAW_VIEW_HEADERS.has(name) || (name === 'authorization' && allowAuthorized)) continue;
    const value = dropped.has(name) ? undefined : headers[name];
    if (value !== undefined) view[name] = digest(normaliseVaryValue(name, value));
  }
  const authorization = headers['authorization'];
  if (!allowAuthorized && authorization !== undefined && view['authorization'] === undefined) view['authorization'] = digest(authorization);
  return view;
}
