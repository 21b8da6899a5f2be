import express, { type Request } from 'express';
import type { FlagsConfig, RouteConfig } from '../config/types.js';
import type { EffectiveRouteState } from '../flags/flag-engine.js';
import type { RoutingStats } from '../server/routing-stats.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import type { OutcomeRecorder } from '../outcomes/outcome-recorder.js';
import { parseWindowParam } from '../outcomes/window-param.js';
import { badAdminInput, type AdminSection } from './admin-api.js';

export interface RoutesView {
  config(): FlagsConfig;
  killSwitch(): boolean;
  readonly stats: RoutingStats;
  upstreamLoad(): Iterable<{ name: string; inFlight: number; queued: number }>;
  /** The route's effective flag state (runtime override > Unleash > file), as /_switchyard/flags shows it. */
  effective(route: RouteConfig): EffectiveRouteState;
  readonly outcomes?: OutcomeRecorder;
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
          // The stickiness in force: the route's own, else settings.stickiness (as the switch reads it).
          rollout: { ...r.rollout, stickiness: r.rollout.stickiness.length > 0 ? r.rollout.stickiness : config.settings.stickiness },
          shadowed: r.shadow !== undefined,
          cached: r.cache !== undefined,
          autopilot: r.canary !== undefined,
          // Own keys only: a route may be named `constructor`.
          decisions: Object.hasOwn(counts, r.name) ? counts[r.name] : { legacy: 0, new: 0 },
          lastSeen: iso(view.stats.lastSeenOf(r.name)),
        };
      }),
      upstreams: [...view.upstreamLoad()],
      countingSince: new Date(view.stats.since).toISOString(),
      overrides: view.stats.snapshot().overrides,
    });
  });
  // GET /_switchyard/routes/:route/outcomes?window=5m — per side: requests, status classes, error
  // rate, p50/p95/p99, cache hits; the shadow mismatch rate; fleet-wide with Redis.
  const windowOf = (req: Request<{ route: string }>): { recorder: OutcomeRecorder; name: string; ms: number } => {
    const recorder = view.outcomes;
    const name = req.params['route'] ?? '';
    if (recorder === undefined) throw new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', 'outcome recording is off', { status: 404 });
    if (!view.config().routes.some((r) => r.name === name)) throw new SwitchyardError('SWITCHYARD_ADMIN_UNKNOWN_ROUTE', `no route named \`${name}\``, { status: 404 });
    const raw = req.query['window'] ?? '5m';
    if (typeof raw !== 'string') throw badAdminInput('window', 'give it once, e.g. ?window=5m');
    const window = parseWindowParam(raw, recorder.retentionMs);
    if (!window.ok) throw badAdminInput('window', window.reason);
    return { recorder, name, ms: window.ms };
  };
  router.get('/:route/outcomes', async (req, res) => {
    const { recorder, name, ms } = windowOf(req);
    res.json(await recorder.route(name, ms));
  });
  // GET /_switchyard/routes/:route/timeline?window=15m — one point per 10 s slot: requests, 5xx,
  // cache hits and p50/p95/p99 per side, shadow compared/mismatched; what the dashboard charts.
  router.get('/:route/timeline', async (req, res) => {
    const { recorder, name, ms } = windowOf(req);
    res.json(await recorder.timeline(name, ms));
  });
  return { name: 'routes', router };
}

const iso = (seen: Record<'legacy' | 'new', number | null>) => ({
  legacy: seen.legacy === null ? null : new Date(seen.legacy).toISOString(),
  new: seen.new === null ? null : new Date(seen.new).toISOString(),
});
