/**
 * The fault matrix: each scenario injects one fault (or several) into a running ChaosCluster
 * while the open-loop load runs, heals it, and says which client-visible errors the fault
 * documents. runScenario() drives one and returns its figures.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { analyse, type Expectations, type ScenarioFigures } from './analyse.js';
import { INVALID_ROUTES_YAML, routesYaml, type ChaosCluster } from './cluster.js';
import { startLoad, type Outcome } from './load.js';

export interface Scenario {
  readonly name: string;
  /** Needs the cluster's unleash-server. */
  readonly unleash?: boolean;
  /** How long the fault lasts before heal() (ms). */
  readonly faultMs: number;
  inject(c: ChaosCluster): Promise<void>;
  heal(c: ChaosCluster): Promise<void>;
  /** After the measured window: puts back what the scenario changed on purpose (flags). */
  reset?(c: ChaosCluster): Promise<void>;
  readonly expect: Expectations;
}

const LEGACY_FAILURES = new Set(['SWITCHYARD_UPSTREAM_UNAVAILABLE', 'SWITCHYARD_UPSTREAM_TIMEOUT', 'SWITCHYARD_UPSTREAM_OVERLOADED']);

/** A 502/503/504 problem on a request whose decision was legacy, on a route that is not cached. */
const legacyFailure = (o: Outcome): boolean => o.backend === 'legacy' && o.kind !== 'cached' && LEGACY_FAILURES.has(o.error ?? '');
/**
 * The same, cached routes included: when Redis comes back from a SIGKILL it is empty (no
 * persistence here) and legacy may still be restarting — no copy is left that may be served
 * (a process's reserve copy is for an unreachable Redis only: a reachable Redis without the
 * entry may mean another instance purged it).
 */
const legacyFailureAnyRoute = (o: Outcome): boolean => o.backend === 'legacy' && LEGACY_FAILURES.has(o.error ?? '');

const none: Expectations = { allowedError: () => false };

/** The instance a kill scenario stopped (the lease holder when there is one). */
let killed = 1;

/**
 * SIGKILLs the instance holding the autopilot's lease (instance 1 when none does) and, in the
 * background, notes how long until the other instance holds it.
 */
async function killLeader(c: ChaosCluster): Promise<void> {
  const leader = await c.leaderInstance();
  killed = leader ?? 1;
  const at = performance.now();
  await c.signalSwitchyard(killed, 'SIGKILL');
  if (leader === null) return void c.notes.push('autopilot: no instance held the lease before the kill');
  const survivor = 1 - killed;
  void (async () => {
    while (performance.now() - at < 20_000) {
      if ((await c.leaderInstance()) === survivor) return void c.notes.push(`autopilot lease moved from instance ${killed} to ${survivor} ${((performance.now() - at) / 1000).toFixed(1)} s after the SIGKILL (leaseMs 5000)`);
      await delay(100);
    }
    c.notes.push(`autopilot lease did NOT move to instance ${survivor} within 20 s`);
  })();
}

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'Redis SIGKILL, restarted after 8 s',
    faultMs: 8_000,
    inject: (c) => c.redis.kill(),
    heal: (c) => c.redis.restart(),
    expect: none,
  },
  {
    name: 'Redis SIGSTOP for 10 s (hung, not dead)',
    faultMs: 10_000,
    inject: (c) => Promise.resolve(c.redis.pause()),
    heal: (c) => Promise.resolve(c.redis.resume()),
    expect: none,
  },
  {
    name: 'legacy gunicorn SIGKILLed, restarted after 8 s',
    faultMs: 8_000,
    inject: (c) => c.killLegacy(),
    heal: (c) => c.restartLegacy(),
    expect: { allowedError: legacyFailure },
  },
  {
    name: 'legacy hanging (SIGSTOP) for 8 s',
    faultMs: 8_000,
    inject: (c) => Promise.resolve(c.flask.signal('SIGSTOP')),
    heal: (c) => Promise.resolve(c.flask.signal('SIGCONT')),
    expect: { allowedError: legacyFailure },
  },
  {
    name: 'legacy slow (+200 ms a request) for 10 s',
    faultMs: 10_000,
    inject: (c) => c.setLegacyDelay(200),
    heal: (c) => c.setLegacyDelay(0),
    expect: { allowedError: legacyFailure },
  },
  {
    name: 'shadow side hanging for 10 s',
    faultMs: 10_000,
    inject: (c) => c.setShadowMode('hang'),
    heal: (c) => c.setShadowMode('ok'),
    expect: none,
  },
  {
    name: 'shadow side answering garbage for 10 s',
    faultMs: 10_000,
    inject: (c) => c.setShadowMode('garbage'),
    heal: (c) => c.setShadowMode('ok'),
    expect: none,
  },
  {
    name: 'unleash-server SIGKILLed; restarted after 10 s, then `users` 50% → 100%',
    unleash: true,
    faultMs: 10_000,
    inject: (c) => c.unleash!.kill(),
    heal: async (c) => {
      await c.unleash!.restart();
      await c.setUsersRollout(100);
    },
    reset: (c) => c.setUsersRollout(50),
    expect: { allowedError: () => false, settled: (o) => o.kind !== 'users' || o.backend === 'new' },
  },
  {
    name: 'flags/ edit: invalid for 5 s, then a valid one (`toggle` legacy → new)',
    faultMs: 5_000,
    inject: (c) => Promise.resolve(c.writeRoutes(INVALID_ROUTES_YAML)),
    heal: (c) => Promise.resolve(c.writeRoutes(routesYaml('new', c.options.unleash))),
    reset: async (c) => {
      c.writeRoutes(routesYaml('legacy', c.options.unleash));
      await delay(1_000);
    },
    expect: { allowedError: () => false, settled: (o) => o.kind !== 'toggle' || o.backend === 'new' },
  },
  {
    name: 'one Switchyard SIGKILLed (the autopilot leader), restarted after 5 s',
    faultMs: 5_000,
    inject: killLeader,
    heal: (c) => c.startSwitchyard(killed),
    expect: none,
  },
  {
    name: 'one Switchyard SIGTERMed under load (drain), restarted',
    faultMs: 3_000,
    inject: (c) => c.signalSwitchyard(1, 'SIGTERM'),
    heal: (c) => c.startSwitchyard(1),
    expect: none,
  },
  {
    name: 'together: Redis SIGKILL + legacy SIGKILL + shadow garbage, 8 s',
    faultMs: 8_000,
    inject: async (c) => {
      await c.redis.kill();
      await c.killLegacy();
      await c.setShadowMode('garbage');
    },
    heal: async (c) => {
      await c.redis.restart();
      await c.restartLegacy();
      await c.setShadowMode('ok');
    },
    // While Redis is gone the cached route serves each process's reserve copy (stale-reserve.ts);
    // between the empty Redis's return and legacy's, nothing can be served.
    expect: { allowedError: legacyFailureAnyRoute },
  },
  {
    name: 'together: Redis SIGSTOP + legacy slow + shadow hanging + one Switchyard SIGKILLed, 10 s',
    faultMs: 10_000,
    inject: async (c) => {
      c.redis.pause();
      await c.setLegacyDelay(200);
      await c.setShadowMode('hang');
      await killLeader(c);
    },
    heal: async (c) => {
      c.redis.resume();
      await c.setLegacyDelay(0);
      await c.setShadowMode('ok');
      await c.startSwitchyard(killed);
    },
    // Redis hung: the cached route serves the survivor's reserve copies while legacy is overloaded.
    expect: { allowedError: legacyFailure },
  },
];

export interface ScenarioResult {
  readonly name: string;
  readonly figures: ScenarioFigures;
  /** Retried first attempts by socket error (ECONNREFUSED never reached a server). */
  readonly retriedBy: Readonly<Record<string, number>>;
  /** What the scenario observed beyond the table (the autopilot's lease, its run). */
  readonly notes: readonly string[];
  readonly outcomes: readonly Outcome[];
}

export interface RunOptions {
  readonly perSecond: number;
  readonly firstId: number;
  readonly beforeMs?: number;
  readonly afterMs?: number;
}

export async function runScenario(cluster: ChaosCluster, scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  cluster.notes.length = 0;
  const hitsBefore = await cluster.flaskHits();
  const load = startLoad({ urls: cluster.urls, perSecond: options.perSecond, firstId: options.firstId });
  await delay(options.beforeMs ?? 4_000);
  const injectAt = load.now();
  await scenario.inject(cluster);
  await delay(Math.max(0, scenario.faultMs - (load.now() - injectAt)));
  // Recovery counts from the start of the heal: a restart's own duration is part of it.
  const healAt = load.now();
  await scenario.heal(cluster);
  await delay(options.afterMs ?? 8_000);
  const outcomes = await load.stop();
  await delay(500); // gunicorn writes its access line just after answering
  const records = await cluster.sideRecords(options.firstId);
  // Flask's own counters: the new-only decision of /app/hello must never reach legacy's /hello.
  const hitsAfter = await cluster.flaskHits();
  const helloHits = (hitsAfter['/hello'] ?? 0) - (hitsBefore['/hello'] ?? 0);
  const extra = helloHits > 0 ? [`Flask counted ${helloHits} hits on /hello, a route decided new`] : [];
  const figures = analyse(outcomes, records, { injectAt, healAt }, scenario.expect, extra);
  const retriedBy: Record<string, number> = {};
  for (const o of outcomes) if (o.retried) retriedBy[o.firstError ?? '?'] = (retriedBy[o.firstError ?? '?'] ?? 0) + 1;
  await scenario.reset?.(cluster);
  const run = await cluster.canaryRun();
  const notes = [...cluster.notes, run === null ? 'autopilot: no run' : `autopilot run: ${run.status}, ${run.stage.kind} ${run.stage.percentage}%, leader ${run.leader}`];
  return { name: scenario.name, figures, retriedBy, outcomes, notes };
}
