import type { RouteConfig, RouteMode, Side } from '../config/types.js';
import { inRollout, rolloutBucket } from '../flags/bucketing.js';
import { winningLayer } from './flag-precedence.js';

/**
 * Why a request went where it went (in the spirit of OpenFeature's resolution reasons), so
 * every decision can be explained in a header, a span or a log line.
 */
export type DecisionReason =
  | 'kill_switch' // USE_LEGACY forces legacy everywhere
  | 'pinned' // the route is pinned to legacy in its file
  | 'override' // a tester's authenticated X-Switchyard-Force
  | 'runtime_override' // a mode/percentage set at run time through the admin API
  | 'unleash' // the route's Unleash flag (strategies and variants)
  | 'static' // mode legacy/new in flags/
  | 'rollout' // sticky percentage in flags/
  | 'only_side'; // the route has only one side configured

export interface RoutingDecision {
  readonly side: Side;
  readonly reason: DecisionReason;
  /** 1..100 for rollouts (Unleash's normalised value), else undefined. */
  readonly bucket?: number;
  readonly percentage?: number;
  /** The Unleash variant that picked the side, when one did. */
  readonly variant?: string;
}

/** A route's mode set at run time (admin API); wins over Unleash and flags/. */
export interface RuntimeRouteMode {
  readonly mode: RouteMode;
  /** Used when `mode` is rollout (bucketed like flags/ rollouts: same groupId and stickiness). */
  readonly percentage: number;
}

/** A flag provider's answer for one request (Unleash); null: no answer, flags/ decides. */
export interface FlagAnswer {
  readonly side: Side;
  readonly variant?: string;
}

export interface DecisionInput {
  readonly route: RouteConfig;
  readonly killSwitch: boolean;
  readonly override: Side | null;
  /** Only read for rollouts; a thunk so we never hash or draw randomness when it is not needed. */
  readonly stickinessValue: () => string;
  /** The route's runtime override (admin API), if any. */
  readonly runtime?: RuntimeRouteMode | null;
  /**
   * The route's Unleash flag, asked only when the decision gets that far (each call counts in
   * Unleash's metrics). Returns null (or throws) when Unleash has no answer: the flags/ mode decides.
   */
  readonly flag?: (() => FlagAnswer | null) | null;
}

const frozen = (side: Side, reason: DecisionReason): RoutingDecision => Object.freeze({ side, reason });
const FIXED = {
  kill_switch: frozen('legacy', 'kill_switch'),
  pinned: frozen('legacy', 'pinned'),
  legacyOnly: frozen('legacy', 'only_side'),
  newOnly: frozen('new', 'only_side'),
  overrideLegacy: frozen('legacy', 'override'),
  overrideNew: frozen('new', 'override'),
  staticLegacy: frozen('legacy', 'static'),
  staticNew: frozen('new', 'static'),
  runtimeLegacy: frozen('legacy', 'runtime_override'),
  runtimeNew: frozen('new', 'runtime_override'),
  unleashLegacy: frozen('legacy', 'unleash'),
  unleashNew: frozen('new', 'unleash'),
} as const;

/**
 * The routing decision. Pure and total: it never throws. Which layer wins is `winningLayer`'s
 * (flag-precedence.ts), the same function the admin API describes routes with; this only turns
 * the winner into a side, bucketing rollouts. Unleash is asked only when the decision gets there.
 */
export function decideRoute(input: DecisionInput): RoutingDecision {
  const { route } = input;
  const layer = winningLayer({
    route,
    killSwitch: input.killSwitch,
    testerOverride: input.override,
    runtime: input.runtime ?? null,
    unleash: input.flag === undefined || input.flag === null ? null : () => askFlag(input.flag),
  });
  switch (layer.rule) {
    case 'only_side':
      return layer.side === 'legacy' ? FIXED.legacyOnly : FIXED.newOnly;
    case 'kill_switch':
      return FIXED.kill_switch;
    case 'pinned':
      return FIXED.pinned;
    case 'tester_override':
      return layer.side === 'legacy' ? FIXED.overrideLegacy : FIXED.overrideNew;
    case 'runtime_override':
      return byMode(layer.runtime.mode, layer.runtime.percentage, route.rollout.groupId, input.stickinessValue, 'runtime_override');
    case 'unleash':
      return layer.answer;
    case 'file':
      return byMode(route.mode, route.rollout.percentage, route.rollout.groupId, input.stickinessValue, null);
  }
}

function byMode(mode: RouteMode, percentage: number, groupId: string, stickinessValue: () => string, reason: 'runtime_override' | null): RoutingDecision {
  if (mode === 'legacy') return reason === null ? FIXED.staticLegacy : FIXED.runtimeLegacy;
  if (mode === 'new') return reason === null ? FIXED.staticNew : FIXED.runtimeNew;
  const bucket = rolloutBucket(groupId, stickinessValue());
  return { side: inRollout(bucket, percentage) ? 'new' : 'legacy', reason: reason ?? 'rollout', bucket, percentage };
}

/** The flag provider's answer as a decision, or null when it has none, gives a malformed one or throws. */
function askFlag(flag: (() => FlagAnswer | null) | null | undefined): RoutingDecision | null {
  if (flag === undefined || flag === null) return null;
  let answer: FlagAnswer | null;
  try {
    answer = flag();
  } catch {
    return null;
  }
  if (answer === null || (answer.side !== 'legacy' && answer.side !== 'new')) return null;
  if (answer.variant === undefined) return answer.side === 'legacy' ? FIXED.unleashLegacy : FIXED.unleashNew;
  return Object.freeze({ side: answer.side, reason: 'unleash', variant: answer.variant });
}
