/**
 * JSON Pointers (RFC 6901) and the patterns users write in shadow rules: a pointer where a `*`
 * segment matches any one key or array index, e.g. `/items/*\/updated_at`. Pure.
 */
export function toPointer(path: readonly (string | number)[]): string {
  return path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Stats key for a field: array indices become `*`, so `/items/3/id` and `/items/7/id` add up. */
export function generalizePointer(path: readonly (string | number)[]): string {
  return toPointer(path.map((p) => (typeof p === 'number' ? '*' : p)));
}

export type PointerPattern = readonly string[];

export function parsePointerPattern(pattern: string): PointerPattern {
  if (pattern === '' || pattern === '/') return [];
  return pattern
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function matchesPattern(path: readonly (string | number)[], pattern: PointerPattern): boolean {
  if (path.length !== pattern.length) return false;
  for (let i = 0; i < path.length; i++) {
    const want = pattern[i];
    if (want !== '*' && want !== String(path[i])) return false;
  }
  return true;
}

export function matchesAny(path: readonly (string | number)[], patterns: readonly PointerPattern[]): boolean {
  return patterns.some((p) => matchesPattern(path, p));
}
