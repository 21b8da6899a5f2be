import diff from 'microdiff';
import { generalizePointer, matchesAny, matchesPattern, parsePointerPattern, toPointer, type PointerPattern } from './json-pointer.js';

/** A response as the comparison sees it (bodies may be cut at the compare limit; then hashed). */
export interface ComparableResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** sha256 of the whole body, when it was longer than what `body` holds. */
  readonly bodyHash?: string;
}

export interface ShadowRules {
  /** Header names compared (lower-case). */
  readonly compareHeaders: readonly string[];
  /** JSON Pointer patterns removed from both bodies before comparing. */
  readonly ignore: readonly string[];
  /** Arrays at these patterns compare as unordered multisets. */
  readonly unordered: readonly string[];
  /** Numeric tolerance by pattern: |a − b| ≤ tolerance is equal. */
  readonly tolerance: Readonly<Record<string, number>>;
  /** For non-JSON text: CRLF → LF and trailing whitespace per line ignored. */
  readonly normalizeText: boolean;
}

export interface FieldDifference {
  /** Exact pointer (`/items/2/price`), or `@status`, `@header/<name>`, `@body`. */
  readonly path: string;
  /** Pointer with indices as `*`, the key per-field statistics add up under. */
  readonly field: string;
  readonly kind: 'changed' | 'added' | 'removed';
  readonly primary?: unknown;
  readonly candidate?: unknown;
}

/** The outcome of comparing one pair of responses. */
export interface ShadowComparison {
  readonly matched: boolean;
  readonly bodyKind: 'json' | 'text' | 'bytes';
  readonly differences: readonly FieldDifference[];
}

interface CompiledRules {
  readonly rules: ShadowRules;
  readonly ignore: readonly PointerPattern[];
  readonly unordered: readonly PointerPattern[];
  readonly tolerance: readonly [PointerPattern, number][];
}

const compiledCache = new WeakMap<ShadowRules, CompiledRules>();
function compile(rules: ShadowRules): CompiledRules {
  let compiled = compiledCache.get(rules);
  if (compiled === undefined) {
    compiled = {
      rules,
      ignore: rules.ignore.map(parsePointerPattern),
      unordered: rules.unordered.map(parsePointerPattern),
      tolerance: Object.entries(rules.tolerance).map(([p, t]) => [parsePointerPattern(p), t]),
    };
    compiledCache.set(rules, compiled);
  }
  return compiled;
}

/**
 * Compares the serving side's response (`primary`) with the shadow's (`candidate`): status, the
 * configured headers, and the body — structurally for JSON (per field, with ignore rules,
 * unordered arrays and numeric tolerance), as normalised text or as bytes otherwise. Pure.
 */
export function compareResponses(primary: ComparableResponse, candidate: ComparableResponse, rules: ShadowRules): ShadowComparison {
  const c = compile(rules);
  const differences: FieldDifference[] = [];
  if (primary.status !== candidate.status) differences.push({ path: '@status', field: '@status', kind: 'changed', primary: primary.status, candidate: candidate.status });
  for (const name of rules.compareHeaders) {
    const a = normalizeHeader(name, primary.headers[name]);
    const b = normalizeHeader(name, candidate.headers[name]);
    if (a !== b) differences.push({ path: `@header/${name}`, field: `@header/${name}`, kind: a === undefined ? 'added' : b === undefined ? 'removed' : 'changed', primary: a, candidate: b });
  }
  const bodyKind = kindOf(primary, candidate);
  if (bodyKind === 'json') differences.push(...jsonDifferences(parseJson(primary.body), parseJson(candidate.body), c));
  else if (!bodiesEqual(primary, candidate, bodyKind === 'text' && rules.normalizeText)) differences.push({ path: '@body', field: '@body', kind: 'changed' });
  return { matched: differences.length === 0, bodyKind, differences };
}

function normalizeHeader(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (name !== 'content-type') return value;
  // `application/json; charset=utf-8`, `application/json;charset=UTF-8` and `application/json`
  // say the same thing (JSON is UTF-8 by definition, RFC 8259): Flask and Express differ here.
  const normalized = value.toLowerCase().replace(/\s*;\s*/g, ';');
  return /[/+]json\b/.test(normalized) ? normalized.replace(/;charset=utf-8\b/, '') : normalized;
}

function isJson(r: ComparableResponse): boolean {
  return r.bodyHash === undefined && /[/+]json\b/i.test(r.headers['content-type'] ?? '') && parseJson(r.body) !== NOT_JSON;
}

function kindOf(a: ComparableResponse, b: ComparableResponse): ShadowComparison['bodyKind'] {
  if (isJson(a) && isJson(b)) return 'json';
  const text = (r: ComparableResponse) => /^text\/|[/+](json|xml)\b|javascript/i.test(r.headers['content-type'] ?? '');
  return text(a) && text(b) ? 'text' : 'bytes';
}

const NOT_JSON = Symbol('not json');
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}

function bodiesEqual(a: ComparableResponse, b: ComparableResponse, normalize: boolean): boolean {
  if (a.bodyHash !== undefined || b.bodyHash !== undefined) return a.bodyHash !== undefined && a.bodyHash === b.bodyHash;
  if (!normalize) return a.body.equals(b.body);
  const norm = (buf: Buffer) => buf.toString('utf8').replace(/\r\n/g, '\n').replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
  return norm(a.body) === norm(b.body);
}

function jsonDifferences(a: unknown, b: unknown, c: CompiledRules): FieldDifference[] {
  const left = normalizeJson(a, [], c);
  const right = normalizeJson(b, [], c);
  if (!isContainer(left) || !isContainer(right)) {
    return JSON.stringify(left) === JSON.stringify(right) ? [] : [{ path: '', field: '', kind: 'changed', primary: left, candidate: right }];
  }
  const out: FieldDifference[] = [];
  for (const d of diff(left, right)) {
    if (d.type === 'CHANGE' && withinTolerance(d.path, d.oldValue, d.value, c)) continue;
    const kind = d.type === 'CHANGE' ? 'changed' : d.type === 'CREATE' ? 'added' : 'removed';
    out.push({
      path: toPointer(d.path),
      field: generalizePointer(d.path),
      kind,
      ...(d.type !== 'CREATE' ? { primary: d.oldValue as unknown } : {}),
      ...(d.type !== 'REMOVE' ? { candidate: d.value as unknown } : {}),
    });
  }
  return out;
}

function isContainer(v: unknown): v is Record<string, unknown> | unknown[] {
  return typeof v === 'object' && v !== null;
}

function withinTolerance(path: readonly (string | number)[], a: unknown, b: unknown, c: CompiledRules): boolean {
  if (typeof a !== 'number' || typeof b !== 'number') return false;
  return c.tolerance.some(([pattern, tolerance]) => matchesPattern(path, pattern) && Math.abs(a - b) <= tolerance);
}

/** Drops ignored fields and puts unordered arrays in a canonical order, recursively. */
function normalizeJson(value: unknown, path: (string | number)[], c: CompiledRules): unknown {
  if (Array.isArray(value)) {
    const items = value.map((v, i) => normalizeJson(v, [...path, i], c)).filter((_, i) => !matchesAny([...path, i], c.ignore));
    return matchesAny(path, c.unordered) ? items.sort((x, y) => compareCanonical(canonical(x), canonical(y))) : items;
  }
  if (isContainer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (!matchesAny([...path, k], c.ignore)) out[k] = normalizeJson(v, [...path, k], c);
    }
    return out;
  }
  return value;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isContainer(value)) {
    const entries = Object.entries(value).sort(([a], [b]) => compareCanonical(a, b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const compareCanonical = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
