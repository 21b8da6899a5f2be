import type { FlagsConfig, RouteConfig } from '../config/types.js';
import type { RouteTable } from '../routing/route-table.js';

/** Human-readable mount lines, most specific first, as the start-up log prints them. */
export function describeMounts(config: FlagsConfig, table: RouteTable): string[] {
  return table.routes.map(({ config: route }) => {
    const methods = route.methods === null ? '' : `${route.methods.join(',')} `;
    const legacy = route.legacy ? `${config.upstreams[route.legacy.upstream]?.url ?? '?'}${route.legacy.stripPrefix ? ` (strips ${route.legacy.stripPrefix})` : ''}` : null;
    if (route.new === null) return `legacy app \`${route.name}\` mounted at ${methods}${route.path} → ${legacy}`;
    const target = route.new.kind === 'handler' ? `handler \`${route.new.handler}\`` : `${config.upstreams[route.new.upstream]?.url ?? '?'}`;
    return `route \`${route.name}\` ${methods}${route.path}: ${modeText(route)}; new → ${target}${legacy ? `; legacy → ${legacy}` : ''}`;
  });
}

function modeText(route: RouteConfig): string {
  if (route.pinned) return 'pinned to legacy';
  if (route.mode === 'rollout') return `rollout ${route.rollout.percentage}% to new (group ${route.rollout.groupId})`;
  return `mode ${route.mode}`;
}
