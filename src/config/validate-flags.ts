import { createHash } from 'node:crypto';
import { Ajv, type ErrorObject } from 'ajv';
import type { ConfigIssue } from '../errors/switchyard-error.js';
import { RouteTable } from '../routing/route-table.js';
import { deepFreeze } from './deep-freeze.js';
import { ROUTE_CACHE_DEFAULTS, ROUTE_DEFAULTS, ROUTE_SHADOW_DEFAULTS, SETTINGS_DEFAULTS, UPSTREAM_DEFAULTS } from './defaults.js';
import { FLAGS_SCHEMA } from './flags-schema.js';
import type { CacheSettings, CanaryPolicy, RouteShadowConfig, ShadowSettings, FlagsConfig, NewSide, ProxiedSide, RouteCacheConfig, RouteConfig, RouteMode, Settings, StickinessSource, UpstreamConfig } from './types.js';
import { formatFieldPath, parseYamlSource, type YamlSource } from './yaml-source.js';
import { buildCanaryPolicy, buildCanarySettings, type RawCanary, type RawCanarySettings } from './canary-policy.js';
import { partitionFile, pointerSegments, type InstancePath, type PartialRoute } from './schema-partition.js';

/** The shape the schema guarantees; only this module ever sees it. */
type RawUpstream = Partial<Omit<UpstreamConfig, 'name' | 'file'>> & { url: string };
type RawSettings = Partial<Omit<Settings, 'cache' | 'shadow' | 'flagContext' | 'canary'>> & {
  cache?: Partial<CacheSettings>;
  shadow?: Partial<ShadowSettings>;
  flagContext?: Partial<Settings['flagContext']>;
  canary?: RawCanarySettings;
};
/** One file after the schema: what it passed whole, and partial views of the routes it did not. */
interface RawFile {
  upstreams: Record<string, RawUpstream>;
  routes: readonly (RawRoute | PartialRoute)[];
  settings?: RawSettings | Record<string, never>;
}
interface Source {
  readonly source: YamlSource;
  readonly raw: RawFile;
}
/** Every upstream name defined anywhere; null when a file's upstreams could not be read, so names cannot be checked. */
type UpstreamNames = ReadonlySet<string> | null;
interface RawRoute {
  name: string;
  path: string;
  methods?: string[];
  legacy?: { upstream: string; stripPrefix?: string };
  new?: { handler?: string; upstream?: string; stripPrefix?: string };
  mode?: RouteMode;
  pinned?: boolean;
  flag?: string;
  rollout?: { percentage: number; groupId?: string; stickiness?: StickinessSource[] };
  migration?: RouteConfig['migration'];
  maxBodyBytes?: number | null;
  cache?: Partial<RouteCacheConfig> & { enabled?: boolean };
  shadow?: Partial<RouteShadowConfig> & { enabled?: boolean };
  canary?: RawCanary;
}

export interface FlagsFileText {
  readonly file: string;
  readonly text: string;
}

export interface CompileOptions {
  /** Names of the new handlers registered in code; a route naming another one is an error. */
  readonly handlerNames: ReadonlySet<string>;
}

export type CompileResult =
  | { readonly ok: true; readonly config: FlagsConfig; readonly table: RouteTable; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly warnings: readonly string[] };

let validateSchema: ReturnType<Ajv['compile']> | undefined;
function schemaValidator(): ReturnType<Ajv['compile']> {
  validateSchema ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true }).compile(FLAGS_SCHEMA);
  return validateSchema;
}

/**
 * Turns the text of every flags file into one frozen configuration and its route table, or a
 * list of problems that each name the file, the field path (and line) and the reason. Pure.
 */
export function compileFlags(files: readonly FlagsFileText[], options: CompileOptions): CompileResult {
  const issues: ConfigIssue[] = [];
  const sources: Source[] = [];
  // Schema problems do not stop the cross-reference checks: what the schema passed is still
  // checked against the rest, so one run reports both kinds (see schema-partition.ts).
  let namesReadable = true;
  const names = new Set<string>();
  for (const { file, text } of files) {
    const parsed = parseYamlSource(file, text);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      namesReadable = false;
      continue;
    }
    const schema = checkSchema(parsed.source);
    issues.push(...schema.issues);
    const part = partitionFile<RawUpstream, RawRoute, RawSettings>(parsed.source.value, schema.errorPaths);
    if (part.upstreamNames === null) namesReadable = false;
    for (const name of part.upstreamNames ?? []) names.add(name);
    sources.push({ source: parsed.source, raw: { upstreams: part.upstreams, routes: part.routes, ...(part.settings === undefined ? {} : { settings: part.settings }) } });
  }

  const upstreams = mergeUpstreams(sources, issues);
  const settings = mergeSettings(sources, issues);
  const routes = buildRoutes(sources, { upstreamNames: namesReadable ? names : null, ...options }, issues);
  const earlier = issues.length;

  const built = RouteTable.build(routes);
  // A failed configuration built from partial routes would only warn about half-read routes.
  const warnings = earlier > 0 ? [] : [...built.warnings, ...ignoredRolloutWarnings(sources)];
  for (const e of built.errors) {
    const source = sources.find((s) => s.source.file === e.route.file)?.source;
    issues.push({ file: e.route.file, field: `routes[${e.route.index}].${e.field}`, reason: e.reason, line: source?.lineOf(['routes', e.route.index, e.field]) });
  }
  if (built.table === null || issues.length > 0) return { ok: false, issues: inFileOrder(issues, files), warnings };

  const config: FlagsConfig = deepFreeze({ upstreams, routes, settings, version: versionOf(files), files: files.map((f) => f.file) });
  return { ok: true, config, table: built.table, warnings };
}

/** Problems by file, then line, whichever check found them: the order an operator fixes them in. */
function inFileOrder(issues: readonly ConfigIssue[], files: readonly FlagsFileText[]): ConfigIssue[] {
  const rank = new Map(files.map((f, i) => [f.file, i]));
  const fileOf = (i: ConfigIssue): number => rank.get(i.file) ?? files.length;
  return [...issues].sort((a, b) => fileOf(a) - fileOf(b) || (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
}

/** A `rollout` block is kept ready while the mode is legacy/new, but say that it is not in force. */
function ignoredRolloutWarnings(sources: readonly Source[]): string[] {
  const warnings: string[] = [];
  for (const { source, raw } of sources) {
    raw.routes.forEach((r, i) => {
      if (!('partial' in r) && r.rollout !== undefined && r.mode !== 'rollout') {
        warnings.push(`${source.file}:${source.lineOf(['routes', i, 'rollout']) ?? '?'}: routes[${i}].rollout: route \`${r.name}\` has a rollout block but mode ${r.mode ?? 'default'}; its percentage is not in force`);
      }
    });
  }
  return warnings;
}

function checkSchema(source: YamlSource): { issues: ConfigIssue[]; errorPaths: InstancePath[] } {
  const validate = schemaValidator();
  if (validate(source.value)) return { issues: [], errorPaths: [] };
  const errors = validate.errors ?? [];
  return { issues: errors.map((error) => schemaIssue(source, error)), errorPaths: errors.map((e) => pointerSegments(e.instancePath)) };
}

function schemaIssue(source: YamlSource, error: ErrorObject): ConfigIssue {
  const path = pointerSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') {
    const key = String(params['additionalProperty']);
    return { file: source.file, field: formatFieldPath([...path, key]), reason: 'unknown option', line: source.lineOf(path, key) };
  }
  if (error.keyword === 'required') {
    const key = String(params['missingProperty']);
    return { file: source.file, field: formatFieldPath([...path, key]), reason: 'is required', line: source.lineOf(path) };
  }
  let reason = error.message ?? 'is invalid';
  if (error.keyword === 'enum') reason = `must be one of ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (error.keyword === 'pattern' && error.parentSchema && typeof error.parentSchema === 'object' && 'description' in error.parentSchema) {
    reason = `${reason} (${String(error.parentSchema.description)})`;
  }
  if (error.keyword === 'propertyNames') reason = `invalid name ${JSON.stringify(params['propertyName'])}: names are lower-case letters, digits, dot, dash, underscore`;
  return { file: source.file, field: formatFieldPath(path), reason, line: source.lineOf(path) };
}

function mergeUpstreams(sources: readonly Source[], issues: ConfigIssue[]): Record<string, UpstreamConfig> {
  const upstreams: Record<string, UpstreamConfig> = {};
  for (const { source, raw } of sources) {
    for (const [name, u] of Object.entries(raw.upstreams)) {
      const existing = upstreams[name];
      if (existing) {
        issues.push({ file: source.file, field: `upstreams.${name}`, reason: `upstream \`${name}\` is already defined in ${existing.file}`, line: source.lineOf(['upstreams'], name) });
        continue;
      }
      const urlProblem = upstreamUrlProblem(u.url);
      if (urlProblem !== null) {
        issues.push({ file: source.file, field: `upstreams.${name}.url`, reason: urlProblem, line: source.lineOf(['upstreams', name, 'url']) });
        continue;
      }
      upstreams[name] = { ...UPSTREAM_DEFAULTS, ...u, url: u.url.replace(/\/+$/, ''), name, file: source.file };
    }
  }
  return upstreams;
}

function mergeSettings(sources: readonly Source[], issues: ConfigIssue[]): Settings {
  const withSettings = sources.filter((s) => s.raw.settings !== undefined);
  const second = withSettings[1];
  if (second) {
    issues.push({ file: second.source.file, field: 'settings', reason: `settings may appear in one file only; also in ${withSettings[0]?.source.file}`, line: second.source.lineOf([], 'settings') });
  }
  const raw = withSettings[0]?.raw.settings;
  return {
    ...SETTINGS_DEFAULTS,
    ...raw,
    cache: { ...SETTINGS_DEFAULTS.cache, ...raw?.cache },
    shadow: { ...SETTINGS_DEFAULTS.shadow, ...raw?.shadow },
    canary: buildCanarySettings(raw?.canary),
    flagContext: { ...SETTINGS_DEFAULTS.flagContext, ...raw?.flagContext },
  };
}

/** What a route's references are checked against. */
interface References extends CompileOptions {
  readonly upstreamNames: UpstreamNames;
}

/**
 * Every route that can take part in the conflict checks, whether or not it has problems of its
 * own (those are in `issues`; the configuration is refused whenever there are any).
 */
function buildRoutes(sources: readonly Source[], refs: References, issues: ConfigIssue[]): RouteConfig[] {
  const routes: RouteConfig[] = [];
  const byName = new Map<string, RouteConfig>();
  for (const { source, raw } of sources) {
    raw.routes.forEach((r, index) => {
      const problem = (field: string, reason: string, key?: string): void => {
        const path: (string | number)[] = ['routes', index, ...(field === '' ? [] : field.split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p)))];
        issues.push({ file: source.file, field: formatFieldPath(key === undefined ? path : [...path, key]), reason, line: source.lineOf(path, key) });
      };
      const route = 'partial' in r ? checkPartialRoute(r, index, source.file, refs, problem) : buildRoute(r, index, source.file, refs, problem);
      if (route === null) return;
      const clash = byName.get(route.name);
      if (clash) problem('', `route name \`${route.name}\` is already used by routes[${clash.index}] in ${clash.file}`, 'name');
      byName.set(route.name, route);
      routes.push(route);
    });
  }
  return routes;
}

type Problem = (field: string, reason: string, key?: string) => void;

/**
 * The route, with defaults filled in. A side with a problem is left out (reported through
 * `problem`), but the route is still returned: its path and methods are sound, so it still takes
 * part in the conflict checks.
 */
function buildRoute(r: RawRoute, index: number, file: string, refs: References, problem: Problem): RouteConfig {
  const literalPrefix = literalPrefixOf(r.path);
  const legacy = r.legacy ? proxiedSide('legacy', r.legacy, literalPrefix, refs.upstreamNames, problem) : null;
  const newSide = r.new ? buildNewSide(r.new, literalPrefix, refs, problem) : null;
  if (!r.legacy && !r.new) problem('', 'a route needs a `legacy` side, a `new` side, or both');
  const mode: RouteMode = r.mode ?? (r.legacy ? 'legacy' : 'new');
  if (mode === 'legacy' && !r.legacy && r.new) problem('mode', 'mode `legacy` needs a `legacy` side');
  if (mode === 'new' && !r.new && r.legacy) problem('mode', 'mode `new` needs a `new` side');
  if (mode === 'rollout') {
    if (!r.legacy || !r.new) problem('mode', 'mode `rollout` needs both a `legacy` and a `new` side');
    if (!r.rollout) problem('', 'mode `rollout` needs `rollout.percentage`', 'rollout');
  }
  if (r.pinned === true && !r.legacy) problem('pinned', 'a route can only be pinned to legacy when it has a `legacy` side');
  const cache = buildRouteCache(r, problem);
  const canary = buildRouteCanary(r, problem);
  const shadow = buildRouteShadow(r, problem) ?? (canary === null ? null : canaryShadow(canary));
  const flag = r.flag ?? r.name;
  return {
    name: r.name,
    path: r.path,
    methods: r.methods ?? null,
    legacy,
    new: newSide,
    mode,
    pinned: r.pinned ?? ROUTE_DEFAULTS.pinned,
    flag,
    rollout: {
      percentage: r.rollout?.percentage ?? ROUTE_DEFAULTS.percentage,
      groupId: r.rollout?.groupId ?? flag,
      stickiness: r.rollout?.stickiness ?? [],
    },
    migration: r.migration ?? {},
    ...(r.maxBodyBytes === undefined ? {} : { maxBodyBytes: r.maxBodyBytes }),
    ...(cache === null ? {} : { cache }),
    ...(shadow === null ? {} : { shadow }),
    ...(canary === null ? {} : { canary }),
    file,
    index,
  };
}

/** The route's `canary` policy with defaults filled in; null when absent. */
function buildRouteCanary(r: RawRoute, problem: Problem): CanaryPolicy | null {
  if (r.canary === undefined) return null;
  if (!r.legacy || !r.new) problem('canary', 'the autopilot moves traffic from `legacy` to `new`: the route needs both sides');
  const policy = buildCanaryPolicy(r.canary, (field, reason) => problem(`canary.${field}`, reason));
  const shadowFirst = r.canary.shadowFirst;
  // The content gates read the shadow comparisons: one mirror share, stated once.
  if (r.shadow !== undefined && r.shadow.enabled !== false && typeof shadowFirst === 'object' && shadowFirst.percentage !== undefined && shadowFirst.percentage !== (r.shadow.percentage ?? ROUTE_SHADOW_DEFAULTS.percentage)) {
    problem('canary.shadowFirst.percentage', `${shadowFirst.percentage} differs from shadow.percentage (${r.shadow.percentage ?? ROUTE_SHADOW_DEFAULTS.percentage}); give the mirror share in one place`);
  }
  if (r.shadow?.enabled === false) problem('shadow.enabled', "the autopilot's content gates need the shadow comparisons: remove `enabled: false` or the `canary` block");
  return policy;
}

/** A canary without a `shadow` block still shadows: the default block at the policy's share. */
function canaryShadow(policy: CanaryPolicy): RouteShadowConfig {
  return { ...ROUTE_SHADOW_DEFAULTS, percentage: policy.shadowFirst?.percentage ?? ROUTE_SHADOW_DEFAULTS.percentage };
}

/**
 * The reference checks of a route the schema rejected: only its untouched upstream and handler
 * names, and — when its name, path and methods are intact — a stand-in for the conflict checks.
 * Nothing else of it is built, so nothing is reported twice or guessed.
 */
function checkPartialRoute(r: PartialRoute, index: number, file: string, refs: References, problem: Problem): RouteConfig | null {
  if (r.legacy?.upstream !== undefined) knownUpstream('legacy', r.legacy.upstream, refs.upstreamNames, problem);
  if (r.new?.upstream !== undefined) knownUpstream('new', r.new.upstream, refs.upstreamNames, problem);
  if (r.new?.handler !== undefined) knownHandler(r.new.handler, refs, problem);
  if (r.name === undefined || r.path === undefined || r.methods === 'invalid') return null;
  return {
    name: r.name,
    path: r.path,
    methods: r.methods ?? null,
    legacy: r.legacy?.upstream === undefined ? null : { upstream: r.legacy.upstream, stripPrefix: '' },
    new: r.new?.handler !== undefined ? { kind: 'handler', handler: r.new.handler } : r.new?.upstream !== undefined ? { kind: 'upstream', upstream: r.new.upstream, stripPrefix: '' } : null,
    mode: 'legacy',
    pinned: ROUTE_DEFAULTS.pinned,
    flag: r.name,
    rollout: { percentage: ROUTE_DEFAULTS.percentage, groupId: r.name, stickiness: [] },
    migration: {},
    file,
    index,
  };
}

function knownUpstream(side: 'legacy' | 'new', upstream: string, names: UpstreamNames, problem: Problem): boolean {
  // Unknown when some file's upstreams could not be read: better no message than a false one.
  if (names === null || names.has(upstream)) return true;
  problem(`${side}.upstream`, `no upstream named \`${upstream}\` (defined: ${names.size > 0 ? [...names].join(', ') : 'none'})`);
  return false;
}

function knownHandler(handler: string, options: CompileOptions, problem: Problem): boolean {
  if (options.handlerNames.has(handler)) return true;
  const known = [...options.handlerNames];
  problem('new.handler', `no handler named \`${handler}\` is registered (registered: ${known.length > 0 ? known.join(', ') : 'none'})`);
  return false;
}

function proxiedSide(side: 'legacy' | 'new', raw: { upstream?: string; stripPrefix?: string }, literalPrefix: string, upstreamNames: UpstreamNames, problem: Problem): ProxiedSide | null {
  const upstream = raw.upstream ?? '';
  if (!knownUpstream(side, upstream, upstreamNames, problem)) return null;
  const stripPrefix = raw.stripPrefix === undefined ? '' : raw.stripPrefix.replace(/\/+$/, '');
  if (stripPrefix !== '' && literalPrefix !== stripPrefix && !literalPrefix.startsWith(`${stripPrefix}/`)) {
    problem(`${side}.stripPrefix`, `"${raw.stripPrefix}" is not a whole-segment prefix of the route's literal path "${literalPrefix}"`);
    return null;
  }
  return { upstream, stripPrefix };
}

function buildNewSide(raw: NonNullable<RawRoute['new']>, literalPrefix: string, refs: References, problem: Problem): NewSide | null {
  if ((raw.handler === undefined) === (raw.upstream === undefined)) {
    problem('new', 'give exactly one of `handler` (a registered TypeScript handler) or `upstream`');
    return null;
  }
  if (raw.handler !== undefined) {
    if (raw.stripPrefix !== undefined) problem('new.stripPrefix', '`stripPrefix` only applies to a new `upstream`, not to a handler');
    if (!knownHandler(raw.handler, refs, problem)) return null;
    return { kind: 'handler', handler: raw.handler };
  }
  const side = proxiedSide('new', raw, literalPrefix, refs.upstreamNames, problem);
  return side === null ? null : { kind: 'upstream', ...side };
}

/** The route's `shadow` block with defaults filled in; null when absent or `enabled: false`. */
function buildRouteShadow(r: RawRoute, problem: Problem): RouteShadowConfig | null {
  if (r.shadow === undefined || r.shadow.enabled === false) return null;
  const { enabled: _enabled, ...fields } = r.shadow;
  if (!r.legacy || !r.new) problem('shadow', 'shadow traffic needs both a `legacy` and a `new` side: the one that does not serve is the shadow');
  return { ...ROUTE_SHADOW_DEFAULTS, ...fields, compareHeaders: (fields.compareHeaders ?? ROUTE_SHADOW_DEFAULTS.compareHeaders).map((h) => h.toLowerCase()) };
}

/** The route's `cache` block with defaults filled in; null when absent or `enabled: false`. */
function buildRouteCache(r: RawRoute, problem: Problem): RouteCacheConfig | null {
  if (r.cache === undefined || r.cache.enabled === false) return null;
  const { enabled: _enabled, ...fields } = r.cache;
  const cache: RouteCacheConfig = { ...ROUTE_CACHE_DEFAULTS, ...fields };
  if (!r.legacy) problem('cache', 'the cache stores legacy responses, and this route has no `legacy` side');
  if (r.methods !== undefined && !r.methods.includes('GET') && !r.methods.includes('HEAD')) {
    problem('cache', `only GET and HEAD responses are cached, and this route only routes ${r.methods.join(', ')}`);
  }
  if (cache.defaultTtlSeconds > cache.maxTtlSeconds) {
    problem('cache.defaultTtlSeconds', `must be <= cache.maxTtlSeconds (${cache.maxTtlSeconds})`);
  }
  return cache;
}

/** A URL the proxy can really use: parses, has a host and a valid port, and nothing it would drop. */
function upstreamUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return `"${raw}" is not a valid URL`;
  }
  if (url.hostname === '') return `"${raw}" has no host`;
  if (url.username !== '' || url.password !== '') return 'credentials in the URL are not supported (they would be sent nowhere); put them in the backend';
  if (url.search !== '' || url.hash !== '' || raw.includes('?') || raw.includes('#')) return 'an upstream URL cannot have a query or fragment';
  return null;
}

function literalPrefixOf(path: string): string {
  const parts: string[] = [];
  for (const part of path.slice(1).split('/')) {
    if (part === '' || part === '*' || part.startsWith(':')) break;
    parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** Short content hash of the flags files: the configuration's version. */
export function versionOf(files: readonly FlagsFileText[]): string {
  const hash = createHash('sha256');
  for (const f of files) hash.update(f.file).update('\0').update(f.text).update('\0');
  return hash.digest('hex').slice(0, 12);
}
