import type { CanaryPolicy } from '../config/types.js';
import { stagesOf, type CanaryAction, type CanaryEvaluation, type CanaryEvent, type CanaryPosition, type CanaryRun, type CanaryStage, type CanaryStatus, type CanaryVerdict, type ShadowTotals } from './canary-run.js';

/**
 * How a run moves: the controls a person sends and the verdicts the autopilot reaches, as pure
 * functions from one stored run to the next and the percentage to set. The controller does the
 * I/O (runtime flags, the run store) around them.
 */
export type CanaryControl = 'start' | 'pause' | 'resume' | 'promote' | 'promote-full' | 'abort' | 'retry';
export const CANARY_CONTROLS: readonly CanaryControl[] = ['start', 'pause', 'resume', 'promote', 'promote-full', 'abort', 'retry'];

/** Who and why, as the audit log and the run's events record them. */
export interface ControlNotes {
  readonly by: string;
  readonly reason: string;
}

export interface Transition {
  readonly run: CanaryRun;
  /** The live percentage to set through the runtime override; null: leave the flag alone. */
  readonly percentage: number | null;
  /** The event the transition added to the run (none for a hold). */
  readonly event: CanaryEvent | null;
}

const MAX_EVENTS = 200;

/** From which statuses each control applies (anything else is a 409). */
const APPLIES: Record<Exclude<CanaryControl, 'start'>, readonly CanaryStatus[]> = {
  pause: ['running'],
  resume: ['paused'],
  promote: ['running', 'paused'],
  'promote-full': ['running', 'paused', 'rolled_back'],
  abort: ['running', 'paused', 'rolled_back'],
  retry: ['rolled_back', 'aborted'],
};

const TERMINAL: readonly CanaryStatus[] = ['done', 'aborted', 'rolled_back'];

export function positionOf(run: CanaryRun): CanaryPosition {
  return { status: run.status, stage: run.stage, percentage: run.setPercentage };
}

/** Why `control` does not apply to `run` (null: it does). */
export function controlConflict(run: CanaryRun | null, control: CanaryControl): string | null {
  if (control === 'start') return run === null || TERMINAL.includes(run.status) ? null : `a run is already ${run.status} at ${run.setPercentage}%; pause, abort or promote it instead`;
  if (run === null) return `no run to ${control}; start one first`;
  const allowed = APPLIES[control];
  return allowed.includes(run.status) ? null : `\`${control}\` applies to a run that is ${allowed.join(' or ')}, and this one is ${run.status}`;
}

export interface NewRunInput {
  readonly route: string;
  readonly runId: string;
  readonly policy: CanaryPolicy;
  readonly now: number;
  readonly totals: ShadowTotals;
  readonly notes: ControlNotes;
}

export function newRun(input: NewRunInput): Transition {
  const stages = stagesOf(input.policy);
  const stage = stages[0] as CanaryStage;
  const at = new Date(input.now).toISOString();
  const before: CanaryPosition = { status: 'aborted', stage, percentage: 0 };
  const run: CanaryRun = {
    route: input.route,
    runId: input.runId,
    version: 0,
    status: 'running',
    stage,
    stages,
    setPercentage: stage.percentage,
    policy: input.policy,
    startedAt: at,
    updatedAt: at,
    reason: null,
    evaluations: [],
    events: [],
    stageStartedAt: input.now,
    samplesMetAt: null,
    lastEvaluatedAt: null,
    sequential: {},
    shadowBaseline: input.totals,
    // What already differed before the run is not "new" to it.
    knownFields: Object.keys(input.totals.fields).filter((f) => (input.totals.fields[f]?.raw ?? 0) > 0),
    lastSafePercentage: null,
    flagVersion: 0,
  };
  const event: CanaryEvent = { at, by: input.notes.by, action: 'start', reason: input.notes.reason, from: before, to: positionOf(run) };
  return { run: withEvent(run, event), percentage: stage.percentage, event };
}

/** A person's control. Call only when `controlConflict` is null. */
export function applyControl(run: CanaryRun, control: Exclude<CanaryControl, 'start'>, notes: ControlNotes, now: number, totals: ShadowTotals): Transition {
  const said = `${control} by ${notes.by}: ${notes.reason}`;
  switch (control) {
    case 'pause':
      return record(run, { ...run, status: 'paused', reason: said }, control, notes, now, null);
    case 'resume':
    case 'retry':
      // Measured afresh: what happened before the pause or the failure says nothing about now.
      return record(run, { ...enterStage(run, run.stage, now, totals), status: 'running', reason: null }, control, notes, now, run.stage.percentage);
    case 'promote': {
      const next = run.stages[run.stage.index + 1];
      if (next === undefined || next.percentage === 100) return finish(run, control, notes, now, said);
      return record(run, { ...enterStage(run, next, now, totals), status: 'running', reason: null, lastSafePercentage: run.stage.kind === 'step' ? run.stage.percentage : run.lastSafePercentage }, control, notes, now, next.percentage);
    }
    case 'promote-full':
      return finish(run, control, notes, now, said);
    case 'abort':
      return record(run, { ...run, status: 'aborted', setPercentage: 0, reason: said }, control, notes, now, 0);
  }
}

/** The autopilot's own verdict at an evaluation (hold changes nothing but the evaluation record). */
export function applyVerdict(run: CanaryRun, verdict: CanaryVerdict, explanation: string, now: number, totals: ShadowTotals): Transition {
  const notes = { by: 'autopilot', reason: explanation };
  switch (verdict) {
    case 'hold':
      return { run, percentage: null, event: null };
    case 'promote': {
      const next = run.stages[run.stage.index + 1];
      if (next === undefined) return finish(run, 'done', notes, now, explanation);
      return record(run, { ...enterStage(run, next, now, totals), lastSafePercentage: run.stage.kind === 'step' ? run.stage.percentage : run.lastSafePercentage }, 'promote', notes, now, next.percentage);
    }
    case 'done':
      return finish(run, 'done', notes, now, explanation);
    case 'rollback': {
      const target = run.policy.rollbackTo === 'previous' ? (run.lastSafePercentage ?? 0) : 0;
      return record(run, { ...run, status: 'rolled_back', setPercentage: target, reason: explanation }, 'rollback', notes, now, target);
    }
    case 'pause':
    case 'inconclusive':
      return record(run, { ...run, status: 'paused', reason: explanation }, verdict, notes, now, null);
  }
}

/** Paused by the autopilot's guards (kill switch, pinned, a human's flag change): no evaluation. */
export function pauseFor(run: CanaryRun, by: string, reason: string, now: number): Transition {
  return record(run, { ...run, status: 'paused', reason }, 'pause', { by, reason }, now, null);
}

export function withEvaluation(run: CanaryRun, evaluation: CanaryEvaluation, kept: number): CanaryRun {
  return { ...run, evaluations: [...run.evaluations, evaluation].slice(-kept) };
}

function withEvent(run: CanaryRun, event: CanaryEvent): CanaryRun {
  return { ...run, events: [...run.events, event].slice(-MAX_EVENTS) };
}

function finish(run: CanaryRun, action: CanaryAction | CanaryVerdict, notes: ControlNotes, now: number, reason: string): Transition {
  const last = run.stages[run.stages.length - 1] as CanaryStage;
  const stage = last.percentage === 100 ? last : run.stage;
  return record(run, { ...run, status: 'done', stage, setPercentage: 100, reason }, action, notes, now, 100);
}

function enterStage(run: CanaryRun, stage: CanaryStage, now: number, totals: ShadowTotals): CanaryRun {
  // Fields that differed in the stage being left were accepted with it.
  const known = new Set(run.knownFields);
  for (const [field, counts] of Object.entries(totals.fields)) if (counts.raw > (run.shadowBaseline.fields[field]?.raw ?? 0)) known.add(field);
  return { ...run, stage, setPercentage: stage.percentage, stageStartedAt: now, samplesMetAt: null, lastEvaluatedAt: null, sequential: {}, shadowBaseline: totals, knownFields: [...known].sort() };
}

function record(before: CanaryRun, after: CanaryRun, action: CanaryAction | CanaryVerdict, notes: ControlNotes, now: number, percentage: number | null): Transition {
  const at = new Date(now).toISOString();
  const event: CanaryEvent = { at, by: notes.by, action, reason: notes.reason, from: positionOf(before), to: positionOf(after) };
  return { run: withEvent({ ...after, updatedAt: at }, event), percentage, event };
}

/** The stage's shadow counts: the route's totals minus those when the stage began (a reset store starts again from zero). */
export function stageShadow(totals: ShadowTotals, baseline: ShadowTotals): ShadowTotals {
  if (totals.compared < baseline.compared) return totals;
  const fields: Record<string, { raw: number; noise: number }> = {};
  for (const [field, counts] of Object.entries(totals.fields)) {
    const before = baseline.fields[field] ?? { raw: 0, noise: 0 };
    const raw = Math.max(0, counts.raw - before.raw);
    const noise = Math.max(0, counts.noise - before.noise);
    if (raw > 0 || noise > 0) fields[field] = { raw, noise };
  }
  return { compared: totals.compared - baseline.compared, mismatched: Math.max(0, totals.mismatched - baseline.mismatched), noiseSamples: Math.max(0, totals.noiseSamples - baseline.noiseSamples), fields };
}
