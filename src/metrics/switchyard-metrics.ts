import type { CacheCounts } from '../cache/cache-stats.js';
import type { Side } from '../config/types.js';
import type { MetricFamily, MetricSample } from './prometheus-text.js';
import type { ShadowCountsSnapshot } from './shadow-counts.js';

/** What one scrape reads: the in-process counters Switchyard keeps anyway (no OpenTelemetry SDK involved). */
export interface MetricsSources {
  readonly decisions: Readonly<Record<string, Readonly<Record<Side, number>>>>;
  readonly overrides: { readonly applied: number; readonly ignored: Readonly<Record<string, number>> };
  readonly cache: Readonly<Record<string, CacheCounts>>;
  readonly shadow: ShadowCountsSnapshot;
  readonly upstreams: Iterable<{ readonly name: string; readonly inFlight: number; readonly queued: number }>;
  readonly killSwitch: boolean;
  readonly ready: boolean;
  readonly version: string;
  readonly flagsVersion: string;
}

/** Switchyard's metric families, sorted by label values so consecutive scrapes diff cleanly. */
export function switchyardMetrics(s: MetricsSources): MetricFamily[] {
  const upstreams = [...s.upstreams].sort((a, b) => a.name.localeCompare(b.name));
  return [
    { name: 'switchyard_info', help: 'Switchyard version and the flags/ version in force (always 1).', type: 'gauge', samples: [{ labels: { version: s.version, flags_version: s.flagsVersion }, value: 1 }] },
    { name: 'switchyard_ready', help: '1 when /_switchyard/readyz answers 200.', type: 'gauge', samples: [{ labels: {}, value: s.ready ? 1 : 0 }] },
    { name: 'switchyard_kill_switch', help: '1 while the kill switch sends every route to legacy.', type: 'gauge', samples: [{ labels: {}, value: s.killSwitch ? 1 : 0 }] },
    {
      name: 'switchyard_decisions_total',
      help: 'Routed requests by route and the side that served them.',
      type: 'counter',
      samples: perRoute(s.decisions, (route, counts) => (['legacy', 'new'] as const).map((side) => ({ labels: { route, side }, value: counts[side] }))),
    },
    { name: 'switchyard_overrides_applied_total', help: 'Tester overrides (X-Switchyard-Force) applied with a valid token.', type: 'counter', samples: [{ labels: {}, value: s.overrides.applied }] },
    {
      name: 'switchyard_overrides_ignored_total',
      help: 'Tester overrides ignored, by reason.',
      type: 'counter',
      samples: Object.entries(s.overrides.ignored).sort(([a], [b]) => a.localeCompare(b)).map(([reason, value]) => ({ labels: { reason }, value })),
    },
    {
      name: 'switchyard_cache_responses_total',
      help: 'Responses of cached routes by X-Switchyard-Cache status.',
      type: 'counter',
      samples: perRoute(s.cache, (route, counts) => Object.entries(counts).map(([status, value]) => ({ labels: { route, status }, value }))),
    },
    {
      name: 'switchyard_shadow_compared_total',
      help: 'Shadow comparisons made by this process, by outcome.',
      type: 'counter',
      samples: perRoute(s.shadow.compared, (route, c) => [
        { labels: { route, outcome: 'matched' }, value: c.matched },
        { labels: { route, outcome: 'mismatched' }, value: c.mismatched },
      ]),
    },
    {
      name: 'switchyard_shadow_skipped_total',
      help: 'Requests this process could have mirrored and did not, by reason.',
      type: 'counter',
      samples: perRoute(s.shadow.skipped, (route, c) => Object.entries(c).sort(([a], [b]) => a.localeCompare(b)).map(([reason, value]) => ({ labels: { route, reason }, value: value ?? 0 }))),
    },
    { name: 'switchyard_upstream_in_flight', help: 'Requests at each upstream now (at most its maxInFlight).', type: 'gauge', samples: upstreams.map((u) => ({ labels: { upstream: u.name }, value: u.inFlight })) },
    { name: 'switchyard_upstream_queued', help: 'Requests waiting for a slot at each upstream now.', type: 'gauge', samples: upstreams.map((u) => ({ labels: { upstream: u.name }, value: u.queued })) },
  ];
}

function perRoute<T>(byRoute: Readonly<Record<string, T>>, samples: (route: string, value: T) => MetricSample[]): MetricSample[] {
  return Object.keys(byRoute)
    .sort()
    .flatMap((route) => samples(route, byRoute[route]!));
}
