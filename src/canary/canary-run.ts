import type { CanaryPolicy } from '../config/types.js';
import type { SequentialState } from '../stats/sequential-rate-test.js';

/**
 * The autopilot's data, as stored and as the admin API answers it (`GET /_switchyard/canary…`).
 * The dashboard builds on these names: fields may be added, never renamed. Plain JSON.
 */
export type CanaryStatus = 'running' | 'paused' | 'done' | 'rolled_back' | 'aborted';

/** Where a run is: the shadow stage (0% live) or a live step. `index` counts stages from 0 (the shadow stage, when the policy has one). */
export interface CanaryStage {
  readonly kind: 'shadow' | 'step';
  readonly index: number;
  /** Live percentage of the stage (0 for the shadow stage). */
  readonly percentage: number;
}

export type GateName = 'contentMismatch' | 'newFieldDivergence' | 'errorRate' | 'latency';
export type GateOutcome = 'pass' | 'fail' | 'inconclusive';
export type CanaryVerdict = 'promote' | 'hold' | 'inconclusive' | 'rollback' | 'pause' | 'done';

/** One field of the shadow diffs in a stage (JSON Pointer, `@status`, `@header/x`, `@body`). */
export interface FieldResult {
  readonly field: string;
  /** Comparisons in which the two sides differed on it. */
  readonly raw: number;
  /** Times it differed between two calls of the same side (noise samples). */
  readonly noise: number;
  readonly rate: number;
  readonly noiseRate: number;
  /** Diffy's rule: a real difference, or noise. */
  readonly verdict: 'difference' | 'noise';
  /** Differed before this stage (run start, or a stage that passed). */
  readonly known: boolean;
  /** Anytime-valid p-value of "its rate is above the limit"; absent for noise. */
  readonly pValue?: number;
}

export interface GateResult {
  readonly gate: GateName;
  readonly result: GateOutcome;
  /** The measured value the threshold applies to (a rate difference, a relative shift…); null without data. */
  readonly value: number | null;
  readonly threshold: number | null;
  readonly pValue?: number;
  /** Effect size: rate difference, or the Hodges–Lehmann shift in ms. */
  readonly effect?: number;
  /** Requests per side (comparisons, for the content gates). */
  readonly samples: { readonly legacy: number; readonly new: number };
  readonly fields?: readonly FieldResult[];
  /** latency: p99(new) / p99(legacy) and its limit. */
  readonly p99Ratio?: { readonly value: number | null; readonly threshold: number };
  /** One sentence with the numbers. */
  readonly detail: string;
}

export interface MismatchSample {
  readonly at: string;
  readonly request: { readonly method: string; readonly path: string };
  readonly differences: readonly { readonly path: string; readonly kind: string }[];
  readonly legacy: { readonly status: number; readonly body: string };
  readonly new: { readonly status: number; readonly body: string };
}

export interface CanaryEvaluation {
  readonly at: string;
  readonly stage: CanaryStage;
  readonly verdict: CanaryVerdict;
  /** One sentence: "held at 5%: 140 of 200 requests needed on new". */
  readonly explanation: string;
  readonly gates: readonly GateResult[];
  /** The mismatches behind a content-gate failure (both responses, redacted and truncated). */
  readonly mismatchSamples?: readonly MismatchSample[];
}

export interface CanaryPosition {
  readonly status: CanaryStatus;
  readonly stage: CanaryStage;
  readonly percentage: number;
}

export type CanaryAction = 'start' | 'pause' | 'resume' | 'promote' | 'promote-full' | 'abort' | 'retry' | 'evaluate' | 'takeover';

/** What happened to a run and who did it (`autopilot` for its own verdicts). */
export interface CanaryEvent {
  readonly at: string;
  readonly by: string;
  readonly action: CanaryAction | CanaryVerdict;
  readonly reason: string;
  readonly from: CanaryPosition;
  readonly to: CanaryPosition;
}

export interface CanaryRunView {
  readonly route: string;
  readonly runId: string;
  readonly status: CanaryStatus;
  readonly stage: CanaryStage;
  /** Every stage of the policy, in order. */
  readonly stages: readonly CanaryStage[];
  /** What the autopilot last set (through the runtime override). */
  readonly setPercentage: number;
  /** What is in force now (kill switch, pinned, a human override…); null when Unleash strategies decide per request. */
  readonly actualPercentage: number | null;
  readonly policy: CanaryPolicy;
  readonly startedAt: string;
  readonly updatedAt: string;
  /** The instance driving the runs; null when none holds the lease. */
  readonly leader: string | null;
  /** Why the run is paused / stopped, when it is. */
  readonly reason: string | null;
  /** Oldest first, the newest `settings.canary.evaluationsKept`. */
  readonly evaluations: readonly CanaryEvaluation[];
  readonly events: readonly CanaryEvent[];
}

/** Cumulative shadow counts of a route, as the shadow store reports them. */
export interface ShadowTotals {
  readonly compared: number;
  readonly mismatched: number;
  readonly noiseSamples: number;
  readonly fields: Readonly<Record<string, { readonly raw: number; readonly noise: number }>>;
}

/** A run as stored: the view's fields plus the controller's bookkeeping. */
export interface CanaryRun extends Omit<CanaryRunView, 'actualPercentage' | 'leader'> {
  /** Bumped by every write; a write that expects an older one is refused (compare-and-set). */
  readonly version: number;
  readonly stageStartedAt: number;
  /** When every sample minimum of the stage was first met; the bake counts from here. */
  readonly samplesMetAt: number | null;
  readonly lastEvaluatedAt: number | null;
  /** Sequential tests of the stage, by gate (and field): the p-value is the minimum over looks. */
  readonly sequential: Readonly<Record<string, SequentialState>>;
  /** The route's shadow totals when the stage began: the stage's counts are the difference. */
  readonly shadowBaseline: ShadowTotals;
  /** Fields that differed before the stage (newFieldDivergence compares against these). */
  readonly knownFields: readonly string[];
  /** The last step that passed (for `rollbackTo: previous`), or null. */
  readonly lastSafePercentage: number | null;
  /** The runtime-flags version of the autopilot's last change: a newer change by anyone else is a human's. */
  readonly flagVersion: number;
}

export const EMPTY_SHADOW_TOTALS: ShadowTotals = Object.freeze({ compared: 0, mismatched: 0, noiseSamples: 0, fields: Object.freeze({}) });

/** The stages of a policy: the shadow stage (if any), then each step. */
export function stagesOf(policy: CanaryPolicy): CanaryStage[] {
  const stages: CanaryStage[] = policy.shadowFirst === null ? [] : [{ kind: 'shadow', index: 0, percentage: 0 }];
  for (const percentage of policy.steps) stages.push({ kind: 'step', index: stages.length, percentage });
  return stages;
}

/** "the shadow stage" / "5%": how explanations name a stage. */
export function stageLabel(stage: CanaryStage): string {
  return stage.kind === 'shadow' ? 'the shadow stage' : `${stage.percentage}%`;
}
