import express from 'express';
import type { FlagsConfig, RouteConfig } from '../config/types.js';
import type { EffectiveRouteState } from '../flags/flag-engine.js';
import type { RoutingStats } from '../server/routing-stats.js';
import type { AdminSection } from './admin-api.js';

export interface RoutesView {
  config(): FlagsConfig;
  killSwitch(): boolean;
  readonly stats: RoutingStats;
  upstreamLoad(): Iterable<{ name: string; inFlight: number; queued: number }>;
  /** The route's effective flag state (runtime override > Unleash > file), as /_switchyard/flags shows it. */
  effective(route: RouteConfig): EffectiveRouteState;
}

/** GET /_switchyard/routes: every route's effective state, for people and dashboards. */
export function routesSection(view: RoutesView): AdminSection {
  const router = express.Router();
  router.get('/', (_req, res) => {
    const config = view.config();
    const counts = view.stats.snapshot().routes;
    res.json({
      flagVersion: config.version,
      killSwitch: view.killSwitch(),
      routes: config.routes.map((r) => {
        const state = view.effective(r);
        return {
          name: r.name,
          path: r.path,
          methods: r.methods,
          mode: state.mode,
          percentage: state.percentage ?? undefined,
          pinned: r.pinned,
          flag: r.flag,
          source: state.source,
          rule: state.rule,
          file: r.file,
          legacy: r.legacy,
          new: r.new,
          migration: r.migration,
          // Own keys only: a route may be named `constructor`.
          decisions: Object.hasOwn(counts, r.name) ? counts[r.name] : { legacy: 0, new: 0 },
        };
      }),
      upstreams: [...view.upstreamLoad()],
      overrides: view.stats.snapshot().overrides,
    });
  });
  return { name: 'routes', router };
}
