/**
 * What of one flags file can still be checked against the others once the schema has found
 * problems in it. The schema pass reports shape errors; the cross-reference checks (upstream and
 * handler names, route conflicts) need well-typed values. Rather than skipping a whole file for
 * one bad field, the file is split by the error paths: parts the schema passed whole are compiled
 * as usual; a route with an error keeps only its untouched reference fields; nothing is guessed.
 * Pure.
 */

/** A JSON Pointer from Ajv, split into segments (array indices as numbers). */
export type InstancePath = readonly (string | number)[];

/** The reference fields of a route the schema rejected, each present only if the schema did not touch it. */
export interface PartialRoute {
  readonly partial: true;
  readonly name?: string;
  readonly path?: string;
  /** Absent: every method. `invalid`: the methods cannot be read, so conflicts cannot be checked. */
  readonly methods?: readonly string[] | 'invalid';
  readonly legacy?: { readonly upstream?: string };
  readonly new?: { readonly handler?: string; readonly upstream?: string };
}

export interface PartitionedFile<Upstream, Route, FileSettings> {
  /** Upstream entries the schema passed. */
  readonly upstreams: Record<string, Upstream>;
  /** Every upstream name the file defines, valid entry or not; null when its upstreams cannot be read. */
  readonly upstreamNames: readonly string[] | null;
  /** In file order (indices kept): whole routes the schema passed, partial views of the others. */
  readonly routes: readonly (Route | PartialRoute)[];
  /** The settings block; `{}` when it had errors (it still counts as present), undefined when absent. */
  readonly settings: FileSettings | Record<string, never> | undefined;
}

export function pointerSegments(pointer: string): InstancePath {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when no error lies at `prefix` or below it. */
function untouched(errors: readonly InstancePath[], prefix: InstancePath): boolean {
  return !errors.some((e) => e.length >= prefix.length && prefix.every((part, i) => e[i] === part));
}

export function partitionFile<Upstream, Route, FileSettings>(value: unknown, errors: readonly InstancePath[]): PartitionedFile<Upstream, Route, FileSettings> {
  if (!isObject(value)) return { upstreams: {}, upstreamNames: null, routes: [], settings: undefined };
  const rawUpstreams = value['upstreams'];
  const upstreams: Record<string, Upstream> = {};
  let upstreamNames: string[] | null = [];
  if (isObject(rawUpstreams)) {
    upstreamNames = Object.keys(rawUpstreams);
    for (const name of upstreamNames) if (untouched(errors, ['upstreams', name])) upstreams[name] = rawUpstreams[name] as Upstream;
  } else if (rawUpstreams !== undefined) upstreamNames = null;
  const rawRoutes = value['routes'];
  const routes = Array.isArray(rawRoutes) ? rawRoutes.map((r: unknown, i) => (untouched(errors, ['routes', i]) ? (r as Route) : partialRoute(r, ['routes', i], errors))) : [];
  const rawSettings = value['settings'];
  const settings = rawSettings === undefined ? undefined : untouched(errors, ['settings']) ? (rawSettings as FileSettings) : {};
  return { upstreams, upstreamNames, routes, settings };
}

function partialRoute(raw: unknown, at: InstancePath, errors: readonly InstancePath[]): PartialRoute {
  if (!isObject(raw)) return { partial: true };
  const text = (container: unknown, path: InstancePath): string | undefined => {
    const key = path[path.length - 1]!;
    const v = isObject(container) ? container[key] : undefined;
    return typeof v === 'string' && untouched(errors, [...at, ...path]) ? v : undefined;
  };
  const route: { -readonly [K in keyof PartialRoute]: PartialRoute[K] } = { partial: true };
  const name = text(raw, ['name']);
  if (name !== undefined) route.name = name;
  const path = text(raw, ['path']);
  if (path !== undefined) route.path = path;
  if (raw['methods'] !== undefined) route.methods = untouched(errors, [...at, 'methods']) ? (raw['methods'] as string[]) : 'invalid';
  const legacyUpstream = text(raw['legacy'], ['legacy', 'upstream']);
  if (legacyUpstream !== undefined) route.legacy = { upstream: legacyUpstream };
  const handler = text(raw['new'], ['new', 'handler']);
  const newUpstream = text(raw['new'], ['new', 'upstream']);
  if (handler !== undefined || newUpstream !== undefined) route.new = { ...(handler === undefined ? {} : { handler }), ...(newUpstream === undefined ? {} : { upstream: newUpstream }) };
  return route;
}
