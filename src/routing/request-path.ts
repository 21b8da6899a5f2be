/**
 * Request-path hygiene before matching. Gunicorn percent-decodes PATH_INFO, so a path that
 * Switchyard matched one way could reach Flask meaning another (`/flask%2Fhello` would dodge a
 * `/flask/*` route and land on a catch-all as `/flask/hello`). We therefore decode the escapes
 * that are always safe (RFC 3986 unreserved characters) and refuse the ones that change the
 * path's structure. Pure.
 */
export type RequestPathResult = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

const UNRESERVED_ESCAPE = /%(4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2D|2E|5F|7E)/gi;
const STRUCTURAL_ESCAPE = /%(2F|5C|00)/i;

export function normalizeRequestPath(rawPath: string): RequestPathResult {
  if (!rawPath.startsWith('/')) return { ok: false, reason: 'the request path must start with /' };
  let path = rawPath;
  if (path.includes('%')) {
    if (STRUCTURAL_ESCAPE.test(path)) return { ok: false, reason: 'encoded /, \\ or NUL in the path is not allowed' };
    path = path.replace(UNRESERVED_ESCAPE, (escape) => String.fromCharCode(parseInt(escape.slice(1), 16)));
  }
  if (path.includes('\\')) return { ok: false, reason: 'backslash in the path is not allowed' };
  if (path.includes('#')) return { ok: false, reason: 'a fragment (#) in the request path is not allowed' };
  // Neither a dot segment nor an empty one is possible without `/.` or `//` (most paths): no split.
  if (!path.includes('/.') && !path.includes('//')) return { ok: true, path };
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '.' || segment === '..') return { ok: false, reason: 'dot segments (. or ..) in the path are not allowed' };
    // `//` would match a mount here but be merged by the backend (werkzeug merges slashes).
    if (segment === '' && i < segments.length - 1) return { ok: false, reason: 'empty path segments (//) are not allowed' };
  }
  return { ok: true, path };
}

/** Splits `req.url` into path and query (with its `?`, or ''). */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q) };
}

/**
 * An absolute-form request target (`http://host/path?q`, RFC 9112 §3.2.2): its authority and its
 * origin-form (path and query, `/` when the path is empty). Null for anything else.
 */
export function parseAbsoluteForm(target: string): { readonly host: string; readonly originForm: string } | null {
  const m = /^https?:\/\/([^/?#\s@]+)([^?#\s]*)(\?[^#\s]*)?$/i.exec(target);
  if (m === null || m[1] === undefined) return null;
  const path = m[2] === undefined || m[2] === '' ? '/' : m[2];
  if (!path.startsWith('/')) return null;
  return { host: m[1], originForm: path + (m[3] ?? '') };
}
