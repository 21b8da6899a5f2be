import type { FlagsConfig, RouteConfig, CanaryPolicy } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import type { FlagEngine } from '../flags/flag-engine.js';
import { RuntimeStoreUnavailableError } from '../flags/runtime-store.js';
import type { Logger } from '../logging/logger.js';
import type { OutcomeRecorder } from '../outcomes/outcome-recorder.js';
import { matchesPattern, parsePointerPattern } from '../shadow/json-pointer.js';
import type { ShadowResultStore } from '../shadow/shadow-store.js';
import { slotStart, type WindowSummary } from '../stats/outcome-windows.js';
import { recordCanaryEvaluation, recordCanaryEvent } from '../telemetry/canary-telemetry.js';
import { evaluateStage, type SideSample } from './canary-evaluator.js';
import type { CanaryEvaluation, CanaryRun, CanaryRunView, MismatchSample, ShadowTotals } from './canary-run.js';
import { CanaryStoreUnavailableError, type CanaryRunStore } from './canary-store.js';
import { applyControl, applyVerdict, controlConflict, newRun, pauseFor, stageShadow, withEvaluation, type CanaryControl, type ControlNotes, type Transition } from './canary-transitions.js';
import type { CanaryNotifier } from './canary-webhook.js';
import type { LeaderLease } from './leader-lease.js';

export const AUTOPILOT = 'autopilot';

export interface CanaryControllerOptions {
  config(): FlagsConfig;
  readonly flags: FlagEngine;
  readonly outcomes: OutcomeRecorder;
  readonly shadow: ShadowResultStore;
  readonly store: CanaryRunStore;
  readonly lease: LeaderLease;
  readonly notifier: CanaryNotifier | null;
  readonly now: () => number;
  readonly randomId: () => string;
  readonly logger: Logger;
}

/**
 * The migration autopilot: whichever instance holds the lease evaluates every running run when
 * its interval is due and applies the verdict — moving the route's percentage through the
 * runtime override (so every instance follows, audited `by: autopilot`). Admin controls may
 * arrive at any instance: they are applied there at once, through the same store, and the leader
 * picks the new state up on its next tick. Every write is compare-and-set on the run's version;
 * operations of this process are serialised.
 *
 * The kill switch, `pinned`, and a human change of the route's flag pause the run: they always
 * win over the autopilot.
 */
export class CanaryController {
  private timer: NodeJS.Timeout | undefined;
  private serial: Promise<unknown> = Promise.resolve();
  private leading = false;
  private closed = false;

  constructor(private readonly options: CanaryControllerOptions) {}

  get scope(): 'fleet' | 'process' {
    return this.options.store.shared ? 'fleet' : 'process';
  }

  /** Ticks every `tickMs` (lease, then the runs that are due). */
  start(tickMs: number): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.tick(), tickMs);
    this.timer.unref();
  }

  /** One round: renew or take the lease; if leading, start autoStart runs and evaluate those due. */
  tick(): Promise<void> {
    return this.serialised(async () => {
      if (this.closed) return;
      const leading = await this.options.lease.tryAcquire();
      if (leading !== this.leading) this.options.logger.info(leading ? `canary: this instance (${this.options.lease.id}) now drives the autopilot` : 'canary: another instance drives the autopilot');
      this.leading = leading;
      if (!leading) return;
      try {
        const runs = await this.options.store.list();
        await this.autoStart(runs);
        for (const run of runs) {
          if (run.status !== 'running') continue;
          try {
            await this.advance(run);
          } catch (error) {
            this.options.logger.warn(`canary: evaluating ${run.route} failed; retried next tick`, { cause: describe(error) });
          }
        }
      } catch (error) {
        this.options.logger.warn('canary: tick failed; retried next tick', { cause: describe(error) });
      }
    });
  }

  async list(): Promise<{ scope: 'fleet' | 'process'; runs: CanaryRunView[] }> {
    const runs = await this.storeCall(() => this.options.store.list());
    const leader = await this.options.lease.holder();
    return { scope: this.scope, runs: runs.map((r) => this.view(r, leader)) };
  }

  async get(routeName: string): Promise<CanaryRunView> {
    this.route(routeName);
    const run = await this.storeCall(() => this.options.store.get(routeName));
    if (run === null) throw new SwitchyardError('SWITCHYARD_CANARY_NO_RUN', `route \`${routeName}\` has no autopilot run; POST /_switchyard/canary/${routeName}/start to begin one`, { status: 404 });
    return this.view(run, await this.options.lease.holder());
  }

  /** A person's control, applied here and now (any instance); 409 when it does not apply. */
  control(routeName: string, control: CanaryControl, notes: ControlNotes, policy?: CanaryPolicy): Promise<CanaryRunView> {
    return this.serialised(async () => {
      const route = this.route(routeName);
      for (let attempt = 0; attempt < 3; attempt++) {
        const run = await this.storeCall(() => this.options.store.get(routeName));
        const conflict = controlConflict(run, control) ?? (control === 'start' || control === 'resume' || control === 'retry' || control === 'promote' ? this.cannotDrive(route) : null);
        if (conflict !== null) throw new SwitchyardError('SWITCHYARD_CANARY_CONFLICT', conflict, { status: 409 });
        const chosen = policy ?? route.canary;
        if (control === 'start' && chosen === undefined) {
          throw new SwitchyardError('SWITCHYARD_CANARY_CONFLICT', `route \`${routeName}\` has no \`canary\` policy in ${route.file}; add one or send \`policy\` with start`, { status: 409 });
        }
        const totals = await this.totals(routeName);
        const now = this.options.now();
        const transition =
          run === null || control === 'start'
            ? newRun({ route: routeName, runId: this.options.randomId(), policy: chosen as CanaryPolicy, now, totals, notes })
            : applyControl(run, control, notes, now, totals);
        const stored = await this.commit(route, run, transition, `${control} by ${notes.by}: ${notes.reason}`);
        if (stored !== null) return this.view(stored, await this.options.lease.holder());
      }
      throw new SwitchyardError('SWITCHYARD_CANARY_CONFLICT', `the run of \`${routeName}\` kept changing while this control was applied; try again`, { status: 409 });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.serial.catch(() => {});
    await this.options.lease.release();
    await Promise.all([this.options.lease.close(), this.options.store.close(), this.options.notifier?.close()]);
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const next = this.serial.then(work, work);
    this.serial = next.catch(() => {});
    return next;
  }

  private route(name: string): RouteConfig {
    const route = this.options.config().routes.find((r) => r.name === name);
    if (route === undefined) throw new SwitchyardError('SWITCHYARD_ADMIN_UNKNOWN_ROUTE', `no route named \`${name}\``, { status: 404 });
    return route;
  }

  /** Why the autopilot may not move this route now (kill switch, pinned, one side), or null. */
  private cannotDrive(route: RouteConfig): string | null {
    if (route.legacy === null || route.new === null) return `route \`${route.name}\` needs both a legacy and a new side`;
    if (route.pinned) return `route \`${route.name}\` is pinned to legacy in ${route.file}: pinned always wins over the autopilot`;
    if (this.options.flags.killSwitchOn()) return 'the kill switch is on (every route to legacy): it always wins over the autopilot';
    return null;
  }

  /** Starts a run for each autoStart route that has none in `stored` (this tick's list). */
  private async autoStart(stored: readonly CanaryRun[]): Promise<void> {
    const runs = new Set(stored.map((r) => r.route));
    for (const route of this.options.config().routes) {
      if (route.canary?.autoStart !== true || runs.has(route.name) || this.cannotDrive(route) !== null) continue;
      const transition = newRun({ route: route.name, runId: this.options.randomId(), policy: route.canary, now: this.options.now(), totals: await this.totals(route.name), notes: { by: AUTOPILOT, reason: `autoStart in ${route.file}` } });
      await this.commit(route, null, transition, 'autoStart');
    }
  }

  /** One running run: guards first (they win), then an evaluation when its interval is due. */
  private async advance(run: CanaryRun): Promise<void> {
    const now = this.options.now();
    const route = this.options.config().routes.find((r) => r.name === run.route);
    if (route === undefined) {
      await this.commit(null, run, pauseFor(run, AUTOPILOT, `paused at ${run.setPercentage}%: the route is no longer in flags/`, now), null);
      return;
    }
    const blocked = this.cannotDrive(route);
    const guard = blocked === null ? this.humanChange(run) : { by: AUTOPILOT, reason: blocked };
    if (guard !== null) {
      await this.commit(route, run, pauseFor(run, guard.by, `paused at ${run.setPercentage}%: ${guard.reason}`, now), null);
      return;
    }
    if (now < (run.lastEvaluatedAt ?? run.stageStartedAt) + run.policy.intervalMs) return;
    const [totals, sides] = await Promise.all([this.totals(route.name), this.sides(run, now)]);
    const stages = run.stages;
    const next = stages[run.stage.index + 1] ?? null;
    const result = evaluateStage({
      now,
      policy: run.policy,
      stage: run.stage,
      next: next === null ? null : next.percentage,
      stageStartedAt: run.stageStartedAt,
      samplesMetAt: run.samplesMetAt,
      sequential: run.sequential,
      knownFields: run.knownFields,
      shadow: stageShadow(totals, run.shadowBaseline),
      sides: run.stage.kind === 'shadow' ? null : sides,
      noise: { relative: this.options.config().settings.shadow.noiseRelativeThreshold, absolute: this.options.config().settings.shadow.noiseAbsoluteThreshold },
    });
    const mismatchSamples = result.failedFields.length > 0 ? await this.mismatchSamples(route.name, result.failedFields, run.stageStartedAt) : [];
    const evaluation: CanaryEvaluation = {
      at: new Date(now).toISOString(),
      stage: run.stage,
      verdict: result.verdict,
      explanation: result.explanation,
      gates: result.gates,
      ...(mismatchSamples.length > 0 ? { mismatchSamples } : {}),
    };
    recordCanaryEvaluation({ route: route.name, ...evaluation });
    const evaluated: CanaryRun = withEvaluation({ ...run, samplesMetAt: result.samplesMetAt, sequential: result.sequential, lastEvaluatedAt: now, updatedAt: evaluation.at }, evaluation, this.options.config().settings.canary.evaluationsKept);
    const transition = applyVerdict(evaluated, result.verdict, result.explanation, now, totals);
    await this.commit(route, run, transition, `autopilot: ${result.explanation}`);
  }

  /**
   * A change of the route's flag that is not the autopilot's: only judged once this instance has
   * seen the autopilot's own last change (the runtime state's version), so a slow update from Redis
   * is never mistaken for a person.
   */
  private humanChange(run: CanaryRun): { by: string; reason: string } | null {
    const state = this.options.flags.store.state();
    if (state.version < run.flagVersion) return null;
    const override = state.routes.get(run.route);
    if (override === undefined) return { by: 'admin-api', reason: "the route's runtime override was removed outside the autopilot" };
    if (override.by === AUTOPILOT) return null;
    const set = `${override.mode}${override.mode === 'rollout' ? ` ${override.percentage}%` : ''}`;
    return { by: override.by, reason: `${override.by} changed the route's flag outside the autopilot (${set}${override.reason === null ? '' : `: "${override.reason}"`})` };
  }

  /**
   * Sets the percentage (if any), then stores the run if nobody changed it meanwhile. When the
   * store refuses, the flag is put back to what the stored run says, so flag and run never part.
   */
  private async commit(route: RouteConfig | null, expected: CanaryRun | null, transition: Transition, flagReason: string | null): Promise<CanaryRun | null> {
    let flagVersion = transition.run.flagVersion;
    if (transition.percentage !== null && route !== null) flagVersion = await this.setFlag(route, transition.percentage, flagReason ?? 'autopilot');
    const run: CanaryRun = { ...transition.run, version: (expected?.version ?? 0) + 1, flagVersion };
    const stored = await this.storeCall(() => this.options.store.put(run, expected?.version ?? null));
    if (!stored) {
      if (transition.percentage !== null && route !== null) {
        const current = await this.options.store.get(run.route);
        if (current !== null) await this.setFlag(route, current.setPercentage, `autopilot: back to the stored run's ${current.setPercentage}%`);
      }
      return null;
    }
    const event = transition.event;
    if (event !== null) {
      recordCanaryEvent(run.route, event);
      this.options.notifier?.notify(run.route, run.runId, event);
      this.options.logger.info(`canary ${run.route}: ${event.action} by ${event.by} (${event.from.percentage}% → ${event.to.percentage}%): ${event.reason}`);
    }
    return run;
  }

  private async setFlag(route: RouteConfig, percentage: number, reason: string): Promise<number> {
    try {
      const outcome = await this.options.flags.setRoute(route, { mode: 'rollout', percentage }, { by: AUTOPILOT, at: new Date(this.options.now()).toISOString(), reason: reason.slice(0, 1000) });
      return outcome.applied ? outcome.entry.version : outcome.state.version;
    } catch (error) {
      if (error instanceof RuntimeStoreUnavailableError) throw new SwitchyardError('SWITCHYARD_FLAGS_STORE_UNAVAILABLE', `${error.message}; the run was not changed`, { status: 503, cause: error });
      throw error;
    }
  }

  private async totals(route: string): Promise<ShadowTotals> {
    const c = await this.options.shadow.counts(route);
    return { compared: c.compared, mismatched: c.mismatched, noiseSamples: c.noiseSamples, fields: c.fields };
  }

  /** Both sides' outcomes since the stage began (from its time slot; at most the retention). */
  private async sides(run: CanaryRun, now: number): Promise<{ legacy: SideSample; new: SideSample }> {
    const { outcomes } = this.options;
    const bucket = outcomes.bucketMs;
    const windowMs = Math.min(outcomes.retentionMs, slotStart(now, bucket) - slotStart(run.stageStartedAt, bucket) + bucket);
    const [legacy, fresh] = await Promise.all([outcomes.series(run.route, 'legacy', windowMs), outcomes.series(run.route, 'new', windowMs)]);
    return { legacy: sideSample(legacy.summary), new: sideSample(fresh.summary) };
  }

  private async mismatchSamples(route: string, fields: readonly string[], since: number): Promise<MismatchSample[]> {
    const patterns = fields.map((f) => parsePointerPattern(f));
    const samples = await this.options.shadow.samples(route, 200);
    const matching = samples.filter(
      (s) => Date.parse(s.at) >= since && s.differences.some((d) => fields.includes(d.path) || (d.path.startsWith('/') && patterns.some((p) => matchesPattern(parsePointerPattern(d.path), p)))),
    );
    return matching.slice(0, 5).map((s) => ({
      at: s.at,
      request: { method: s.request.method, path: s.request.path },
      differences: s.differences.slice(0, 10),
      legacy: { status: (s.primary.side === 'legacy' ? s.primary : s.candidate).status, body: (s.primary.side === 'legacy' ? s.primary : s.candidate).body },
      new: { status: (s.primary.side === 'new' ? s.primary : s.candidate).status, body: (s.primary.side === 'new' ? s.primary : s.candidate).body },
    }));
  }

  private view(run: CanaryRun, leader: string | null): CanaryRunView {
    const { version: _v, stageStartedAt: _s, samplesMetAt: _m, lastEvaluatedAt: _l, sequential: _q, shadowBaseline: _b, knownFields: _k, lastSafePercentage: _p, flagVersion: _f, ...view } = run;
    const route = this.options.config().routes.find((r) => r.name === run.route);
    let actual: number | null = null;
    if (route !== undefined) {
      const state = this.options.flags.routeState(route);
      actual = state.mode === 'new' ? 100 : state.mode === 'legacy' ? 0 : state.mode === 'rollout' ? state.percentage : null;
    }
    return { ...view, actualPercentage: actual, leader };
  }

  private async storeCall<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof CanaryStoreUnavailableError) throw new SwitchyardError('SWITCHYARD_CANARY_STORE_UNAVAILABLE', `${error.message}; nothing was changed`, { status: 503, cause: error });
      throw error;
    }
  }
}

function sideSample(s: WindowSummary): SideSample {
  return { requests: s.requests, errors: s.status['5xx'], latencies: s.sample.values, p99: s.latencyMs?.p99 ?? null };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
