import type { FlagsConfig, RouteConfig } from '../config/types.js';
import type { FlagsFileText } from '../config/validate-flags.js';
import { parseYamlSource } from '../config/yaml-source.js';
import type { ConfigIssue } from '../errors/switchyard-error.js';
import { compareSpecificity, parsePathPattern } from '../routing/path-pattern.js';
import type { RouteTable } from '../routing/route-table.js';

/** One line of `switchyard routes`. */
export interface RouteRow {
  readonly marker: string;
  readonly name: string;
  readonly methods: string;
  readonly path: string;
  readonly mode: string;
  readonly legacy: string;
  readonly new: string;
  readonly extras: string;
}

/** The rows of a valid configuration: the route table itself, in the order requests are matched. */
export function rowsOfTable(config: FlagsConfig, table: RouteTable): RouteRow[] {
  return table.routes.map(({ config: route }) => ({
    marker: '',
    name: route.name,
    methods: route.methods === null ? '*' : route.methods.join(','),
    path: route.path,
    mode: modeOf(route),
    legacy: route.legacy === null ? '-' : `${route.legacy.upstream} ${config.upstreams[route.legacy.upstream]?.url ?? '?'}${route.legacy.stripPrefix ? ` (strips ${route.legacy.stripPrefix})` : ''}`,
    new: route.new === null ? '-' : route.new.kind === 'handler' ? `handler ${route.new.handler}` : `${route.new.upstream} ${config.upstreams[route.new.upstream]?.url ?? '?'}`,
    extras: [route.cache ? 'cache' : '', route.shadow ? `shadow ${route.shadow.percentage}%` : '', route.migration.owner ? `owner ${route.migration.owner}` : ''].filter(Boolean).join(', '),
  }));
}

function modeOf(route: RouteConfig): string {
  if (route.pinned) return 'pinned legacy';
  if (route.legacy === null || route.new === null) return `only ${route.legacy === null ? 'new' : 'legacy'}`;
  if (route.mode === 'rollout') return `rollout ${route.rollout.percentage}% (group ${route.rollout.groupId})`;
  return route.mode;
}

/**
 * The rows of an invalid configuration: no route table exists, so the names, methods and paths
 * that can be read are put in the order the table would use, and a route with a problem is
 * marked `✗` (its problems are listed below the table). A path that does not parse goes last.
 */
export function rowsOfInvalid(files: readonly FlagsFileText[], issues: readonly ConfigIssue[]): RouteRow[] {
  const rows: { row: RouteRow; pattern: ReturnType<typeof parsePathPattern> }[] = [];
  for (const { file, text } of files) {
    const parsed = parseYamlSource(file, text);
    if (!parsed.ok) continue;
    const routes = (parsed.source.value as { routes?: unknown }).routes;
    if (!Array.isArray(routes)) continue;
    routes.forEach((raw: unknown, index) => {
      const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
      const path = typeof r['path'] === 'string' ? r['path'] : '?';
      const flagged = issues.some((i) => i.file === file && (i.field === `routes[${index}]` || i.field.startsWith(`routes[${index}].`)));
      const methods = Array.isArray(r['methods']) ? r['methods'].map(String).join(',') : '*';
      const row: RouteRow = { marker: flagged ? '✗' : '', name: typeof r['name'] === 'string' ? r['name'] : `(routes[${index}] in ${file})`, methods, path, mode: '', legacy: '', new: '', extras: '' };
      rows.push({ row, pattern: parsePathPattern(path) });
    });
  }
  rows.sort((a, b) => {
    if (!a.pattern.ok || !b.pattern.ok) return Number(!a.pattern.ok) - Number(!b.pattern.ok);
    return compareSpecificity(a.pattern.pattern, b.pattern.pattern) || (a.row.name < b.row.name ? -1 : 1);
  });
  return rows.map((r) => r.row);
}

/** Left-aligned columns; empty trailing columns are dropped so the invalid listing stays narrow. */
export function formatRows(rows: readonly RouteRow[]): string[] {
  const header: RouteRow = { marker: '', name: 'ROUTE', methods: 'METHODS', path: 'PATH', mode: 'MODE', legacy: 'LEGACY', new: 'NEW', extras: 'ALSO' };
  const columns = (['name', 'methods', 'path', 'mode', 'legacy', 'new', 'extras'] as const).filter((c) => rows.some((r) => r[c] !== ''));
  const numbered = [{ n: '#', row: header }, ...rows.map((row, i) => ({ n: `${row.marker}${i + 1}`, row }))];
  const widthOf = (values: string[]): number => Math.max(...values.map((v) => [...v].length));
  const nWidth = widthOf(numbered.map((x) => x.n));
  const widths = columns.map((c) => widthOf(numbered.map((x) => x.row[c])));
  return numbered.map(({ n, row }) => `  ${n.padStart(nWidth)}  ${columns.map((c, i) => row[c].padEnd(widths[i]!)).join('  ')}`.trimEnd());
}
