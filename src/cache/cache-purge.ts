import type { CacheSettings } from '../config/types.js';
import { normalizeRequestPath, splitUrl } from '../routing/request-path.js';
import { cacheTarget, ENTRY_SEGMENT, LOCK_SEGMENT, normaliseHost, parseEntryKey, routePrefix, targetPrefix, versionPrefix } from './cache-key.js';

/** What to purge: one URL (all its variants; one host or every host), a route, a path prefix, or everything. */
export type PurgeRequest = { readonly url: string } | { readonly route: string } | { readonly prefix: string } | { readonly all: true };

/** Keys to delete: every key under `prefix` that passes `filter`. */
export interface PurgeScope {
  readonly prefix: string;
  readonly filter?: (key: string) => boolean;
}

export interface PurgeContext {
  readonly settings: CacheSettings;
  readonly routeNames: ReadonlySet<string>;
  /** The route a GET of this (normalised) path is routed by, or null. */
  routeFor(path: string): string | null;
}

/** `route`: the one route the purge is of (named, or the one serving the URL), null for a prefix or everything. */
export type PurgeResolution = { readonly ok: true; readonly scope: PurgeScope; readonly route: string | null } | { readonly ok: false; readonly status: 400 | 404; readonly reason: string };

const ABSOLUTE_URL = /^(https?):\/\/([^/?#\s]+)([^?#\s]*)(\?[^#\s]*)?$/i;

/** Validates a purge request body and turns it into key prefixes. Pure. */
export function resolvePurge(body: unknown, ctx: PurgeContext): PurgeResolution {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return bad('the body must be a JSON object: {"url"}, {"route"}, {"prefix"} or {"all": true}');
  const fields = Object.keys(body);
  if (fields.length !== 1) return bad('give exactly one of "url", "route", "prefix" or "all"');
  const { namespace, keyVersion } = ctx.settings;
  const request = body as Record<string, unknown>;
  if ('all' in request) {
    if (request['all'] !== true) return bad('"all" must be true');
    // Every key version's entries and locks — and nothing else: runtime flags (`ns:flags:*`) and
    // shadow results (`ns:shadow:*`) may share the namespace and must survive a cache purge.
    return { ok: true, route: null, scope: { prefix: `${namespace}:v`, filter: isCacheKeyOf(namespace) } };
  }
  if ('route' in request) {
    const route = request['route'];
    if (typeof route !== 'string' || route === '') return bad('"route" must be a route name');
    if (!ctx.routeNames.has(route)) return { ok: false, status: 404, reason: `no route named \`${route}\`` };
    return { ok: true, route, scope: { prefix: routePrefix(namespace, keyVersion, route) } };
  }
  if ('prefix' in request) {
    const prefix = request['prefix'];
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) return bad('"prefix" must be a path prefix starting with /');
    return {
      ok: true,
      route: null,
      scope: {
        prefix: `${versionPrefix(namespace, keyVersion)}${ENTRY_SEGMENT}:`,
        filter: (key) => parseEntryKey(key, namespace, keyVersion)?.target.startsWith(prefix) === true,
      },
    };
  }
  if ('url' in request) {
    const url = request['url'];
    if (typeof url !== 'string' || url === '') return bad('"url" must be a URL (http://host/path?query) or a path (/path?query)');
    let origin: { proto: 'http' | 'https'; host: string } | null = null;
    let pathAndQuery = url;
    const absolute = ABSOLUTE_URL.exec(url);
    if (absolute !== null) {
      const proto = absolute[1]?.toLowerCase() === 'https' ? 'https' : 'http';
      origin = { proto, host: normaliseHost(absolute[2], proto) };
      pathAndQuery = (absolute[3] === '' || absolute[3] === undefined ? '/' : absolute[3]) + (absolute[4] ?? '');
    } else if (!url.startsWith('/')) {
      return bad('"url" must be a URL (http://host/path?query) or a path (/path?query)');
    }
    const { path, query } = splitUrl(pathAndQuery);
    const normalized = normalizeRequestPath(path);
    if (!normalized.ok) return bad(`"url": ${normalized.reason}`);
    const route = ctx.routeFor(normalized.path);
    if (route === null) return { ok: false, status: 404, reason: `no route serves GET ${normalized.path}` };
    const prefix = targetPrefix(namespace, keyVersion, route, cacheTarget(normalized.path, query));
    if (origin === null) return { ok: true, route, scope: { prefix } };
    const head = `${prefix}GET ${origin.proto}://${encodeURIComponent(origin.host)}`;
    return { ok: true, route, scope: { prefix: head, filter: (key) => key[head.length] === ' ' || key[head.length] === ';' } };
  }
  return bad(`unknown field "${fields[0]}": give one of "url", "route", "prefix" or "all"`);
}

/** Matches `{namespace}:v{n}:e:…` and `{namespace}:v{n}:l:…` (see cache-key.ts). */
function isCacheKeyOf(namespace: string): (key: string) => boolean {
  const head = `${namespace}:v`;
  return (key) => {
    let i = head.length;
    while (i < key.length && key.charCodeAt(i) >= 48 && key.charCodeAt(i) <= 57) i++;
    if (i === head.length) return false;
    const segment = key.slice(i, i + 3);
    return segment === `:${ENTRY_SEGMENT}:` || segment === `:${LOCK_SEGMENT}:`;
  };
}

function bad(reason: string): PurgeResolution {
  return { ok: false, status: 400, reason };
}
