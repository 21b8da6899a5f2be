import type { RouteConfig } from '../config/types.js';
import { ADMIN_PREFIX as RESERVED_PREFIX } from './admin-prefix.js';
import { compareSpecificity, matchPath, parsePathPattern, patternsOverlap, type PathPattern } from './path-pattern.js';


export interface CompiledRoute {
  readonly config: RouteConfig;
  readonly pattern: PathPattern;
  /** null = every method. */
  readonly methods: ReadonlySet<string> | null;
}

export type RouteMatch =
  | { readonly kind: 'matched'; readonly route: CompiledRoute; readonly params: Record<string, string> }
  /** The path is routed, but not for this method: 405 with the methods that are. */
  | { readonly kind: 'method-not-allowed'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

export interface RouteTableProblem {
  readonly route: RouteConfig;
  readonly field: string;
  readonly reason: string;
}

export interface RouteTableResult {
  readonly table: RouteTable | null;
  readonly errors: readonly RouteTableProblem[];
  readonly warnings: readonly string[];
}

/** A route that takes GET also answers HEAD (see `match`), so GET and HEAD overlap. */
function methodsOverlap(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return true;
  const claims = (set: ReadonlySet<string>, m: string): boolean => set.has(m) || (m === 'HEAD' && set.has('GET'));
  for (const m of a) if (claims(b, m)) return true;
  for (const m of b) if (claims(a, m)) return true;
  return false;
}

/**
 * Routes ordered most-specific first, so the first match wins and the order of files or list
 * entries never matters. Built once per configuration; matching is a linear scan over
 * precompiled segments (route counts are small, and this beats regex compilation per request).
 */
export class RouteTable {
  readonly routes: readonly CompiledRoute[];

  private constructor(routes: readonly CompiledRoute[]) {
    this.routes = routes;
  }

  static build(configs: readonly RouteConfig[]): RouteTableResult {
    const errors: RouteTableProblem[] = [];
    const warnings: string[] = [];
    const compiled: CompiledRoute[] = [];
    for (const config of configs) {
      const parsed = parsePathPattern(config.path);
      if (!parsed.ok) {
        errors.push({ route: config, field: 'path', reason: `invalid path pattern "${config.path}": ${parsed.reason}` });
        continue;
      }
      if (parsed.pattern.literalPrefix === RESERVED_PREFIX || parsed.pattern.literalPrefix.startsWith(`${RESERVED_PREFIX}/`)) {
        errors.push({ route: config, field: 'path', reason: `paths under ${RESERVED_PREFIX} belong to Switchyard's admin API` });
        continue;
      }
      compiled.push({ config, pattern: parsed.pattern, methods: config.methods === null ? null : new Set(config.methods) });
    }
    compiled.sort((a, b) => compareSpecificity(a.pattern, b.pattern) || (a.config.name < b.config.name ? -1 : 1));

    for (let i = 0; i < compiled.length; i++) {
      const a = compiled[i]!;
      for (let j = i + 1; j < compiled.length; j++) {
        const b = compiled[j]!;
        if (compareSpecificity(a.pattern, b.pattern) !== 0) continue;
        if (methodsOverlap(a.methods, b.methods)) {
          errors.push({
            route: b.config,
            field: 'path',
            reason: `route \`${b.config.name}\` (${describe(b)}) claims the same path and method as route \`${a.config.name}\` (${describe(a)}) in ${a.config.file}`,
          });
        }
      }
    }
    // A route with a new side that shares paths with a legacy-only mount: whichever wins, the
    // owner should know — either the mount is swallowing some of the route's paths, or the
    // route is carving them out of the mount.
    for (const route of compiled) {
      if (route.config.new === null) continue;
      for (const mount of compiled) {
        if (mount === route || !mount.pattern.isMount || mount.config.legacy === null || mount.config.new !== null) continue;
        if (!patternsOverlap(route.pattern, mount.pattern) || !methodsOverlap(route.methods, mount.methods)) continue;
        const mountWins = compiled.indexOf(mount) < compiled.indexOf(route);
        warnings.push(
          mountWins
            ? `legacy mount \`${mount.config.name}\` (${mount.pattern.source}, ${mount.config.file}) swallows paths of route \`${route.config.name}\` (${describe(route)}, ${route.config.file}): the mount is more specific there, so those requests never reach the new side`
            : `route \`${route.config.name}\` (${describe(route)}, ${route.config.file}) lies inside legacy mount \`${mount.config.name}\` (${mount.pattern.source}, ${mount.config.file}); ` +
                `the more specific \`${route.config.name}\` wins — the mount would otherwise swallow it`,
        );
      }
    }
    return { table: errors.length === 0 ? new RouteTable(compiled) : null, errors, warnings };
  }

  match(method: string, path: string): RouteMatch {
    let allowed: Set<string> | null = null;
    for (const route of this.routes) {
      const params = matchPath(route.pattern, path);
      if (params === null) continue;
      if (route.methods === null || route.methods.has(method) || (method === 'HEAD' && route.methods.has('GET'))) {
        return { kind: 'matched', route, params };
      }
      allowed ??= new Set();
      for (const m of route.methods) allowed.add(m);
    }
    return allowed === null ? { kind: 'none' } : { kind: 'method-not-allowed', allowed: [...allowed].sort() };
  }
}

function describe(route: CompiledRoute): string {
  return `${route.methods === null ? '*' : [...route.methods].join(',')} ${route.pattern.source}`;
}
