/**
 * Route path patterns: `/literal/:param/*`. A final `*` makes the route a mount (it matches the
 * prefix itself and everything below it). Matching works on raw (undecoded) segments so that
 * what we match is byte-for-byte what the backend receives.
 */

export type PatternSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'param'; readonly name: string }
  | { readonly kind: 'rest' };

export interface PathPattern {
  readonly source: string;
  readonly segments: readonly PatternSegment[];
  readonly isMount: boolean;
  /** The literal segments before the first param or `*`, e.g. `/flask` for `/flask/*`. */
  readonly literalPrefix: string;
}

export type PatternParseResult = { readonly ok: true; readonly pattern: PathPattern } | { readonly ok: false; readonly reason: string };

const PARAM = /^:([A-Za-z_][A-Za-z0-9_]*)$/;
const LITERAL = /^[A-Za-z0-9\-._~!$&'()+,;=:@]*$/;

export function parsePathPattern(source: string): PatternParseResult {
  if (!source.startsWith('/')) return { ok: false, reason: 'must start with /' };
  const parts = source.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const names = new Set<string>();
  for (const [i, part] of parts.entries()) {
    if (part === '*') {
      if (i !== parts.length - 1) return { ok: false, reason: '* is only allowed as the last segment' };
      segments.push({ kind: 'rest' });
      continue;
    }
    const param = PARAM.exec(part);
    if (param?.[1] !== undefined) {
      if (names.has(param[1])) return { ok: false, reason: `parameter :${param[1]} appears twice` };
      names.add(param[1]);
      segments.push({ kind: 'param', name: param[1] });
      continue;
    }
    if (part.includes('*')) return { ok: false, reason: `segment "${part}": * must be a whole segment` };
    if (part.startsWith(':')) return { ok: false, reason: `segment "${part}": parameter names are letters, digits and _` };
    if (part === '' && i !== parts.length - 1) return { ok: false, reason: 'empty segment (//)' };
    if (part === '.' || part === '..') return { ok: false, reason: 'dot segments are not allowed' };
    // Requests are matched after their escapes are normalised, so an escaped literal could never match.
    if (part.includes('%')) return { ok: false, reason: `segment "${part}": write characters themselves, not percent-escapes` };
    if (!LITERAL.test(part)) return { ok: false, reason: `segment "${part}" has characters that are not allowed in a URL path` };
    segments.push({ kind: 'literal', value: part });
  }
  // `/` alone is one empty literal segment: the root, exactly.
  const literalParts: string[] = [];
  for (const s of segments) {
    if (s.kind !== 'literal' || s.value === '') break;
    literalParts.push(s.value);
  }
  return {
    ok: true,
    pattern: { source, segments, isMount: segments.at(-1)?.kind === 'rest', literalPrefix: `/${literalParts.join('/')}` },
  };
}

/**
 * Returns captured params when the request path (normalised, no query) matches, else null. The
 * path's segments are `path.slice(1).split('/')` (so `/` is one empty segment, the root pattern's),
 * walked in place: a request allocates no segment array, only a param's value.
 */
export function matchPath(pattern: PathPattern, path: string): Record<string, string> | null {
  const p = pattern.segments;
  let params: Record<string, string> | null = null;
  // Where the current segment starts; past the end once every segment is taken.
  let at = 1;
  for (let i = 0; i < p.length; i++) {
    const seg = p[i]!;
    // `/flask/*` also matches `/flask` itself, and `/flask/` (the trailing empty segment).
    if (seg.kind === 'rest') return params ?? EMPTY_PARAMS;
    if (at > path.length) return null;
    const slash = path.indexOf('/', at);
    const end = slash === -1 ? path.length : slash;
    if (seg.kind === 'literal') {
      if (end - at !== seg.value.length || !path.startsWith(seg.value, at)) return null;
    } else {
      if (end === at) return null;
      params ??= {};
      params[seg.name] = decodeParam(path.slice(at, end));
    }
    at = end + 1;
  }
  // Every pattern segment matched: a match only if the path has no segment left.
  return at > path.length ? (params ?? EMPTY_PARAMS) : null;
}

const EMPTY_PARAMS: Record<string, string> = Object.freeze({});

function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * Specificity rank of each position: a literal beats a param, a param beats the end of an exact
 * pattern, and that beats a mount's `*`. Two patterns that can match the same path are ordered by
 * the first position where their ranks differ, so the outcome never depends on file order.
 */
const RANK = { literal: 3, param: 2, end: 1, rest: 0 } as const;

function rankAt(pattern: PathPattern, i: number): number {
  const seg = pattern.segments[i];
  return seg === undefined ? RANK.end : RANK[seg.kind];
}

/** Negative when `a` is more specific than `b`; 0 when they have the same shape. */
export function compareSpecificity(a: PathPattern, b: PathPattern): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const ra = rankAt(a, i);
    const rb = rankAt(b, i);
    if (ra !== rb) return rb - ra;
    // Both literals: different values never overlap, so any stable order will do.
    const sa = a.segments[i];
    const sb = b.segments[i];
    if (sa?.kind === 'literal' && sb?.kind === 'literal' && sa.value !== sb.value) return sa.value < sb.value ? -1 : 1;
  }
  return 0;
}

/** True when some request path matches both patterns. */
export function patternsOverlap(a: PathPattern, b: PathPattern): boolean {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const sa = a.segments[i];
    const sb = b.segments[i];
    if (sa?.kind === 'rest' || sb?.kind === 'rest') return true;
    if (sa === undefined || sb === undefined) return false;
    if (sa.kind === 'literal' && sb.kind === 'literal' && sa.value !== sb.value) return false;
    // A param matches any non-empty segment; an empty literal (trailing slash) it cannot.
    if ((sa.kind === 'param' && sb.kind === 'literal' && sb.value === '') || (sb.kind === 'param' && sa.kind === 'literal' && sa.value === '')) return false;
  }
  return true;
}
