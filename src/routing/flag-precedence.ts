import type { RouteConfig, Side } from '../config/types.js';
import type { RuntimeRouteMode } from './routing-decision.js';

/** The layers in the order they win; the admin API lists it as is. */
export const PRECEDENCE = ['kill_switch', 'pinned', 'tester_override', 'runtime_override', 'unleash', 'file'] as const;

export interface PrecedenceInput<U> {
  readonly route: Pick<RouteConfig, 'legacy' | 'new' | 'pinned'>;
  /** Either kill switch (USE_LEGACY / setKillSwitch, or the admin API's): FlagEngine.killSwitch() combines them. */
  readonly killSwitch: boolean;
  /** A tester's authenticated X-Switchyard-Force; always null where there is no request (the admin view). */
  readonly testerOverride: Side | null;
  readonly runtime: RuntimeRouteMode | null;
  /**
   * The flag provider's answer, asked only when no layer above wins (each ask of Unleash counts
   * in its metrics). A request passes its evaluation, the admin view the flag's description;
   * null (or a thunk answering null): no answer, the flags/ file decides.
   */
  readonly unleash: (() => U | null) | null;
}

/**
 * Whether the runtime override and Unleash layers can decide this route at all: a route with one
 * side, or pinned, is decided above them (see `winningLayer`), so nobody need ask for their inputs.
 */
export const consultsFlags = (r: Pick<RouteConfig, 'legacy' | 'new' | 'pinned'>): boolean => r.legacy !== null && r.new !== null && !r.pinned;

/** The layer that decides, with what it decided from. */
export type WinningLayer<U> =
  | { readonly rule: 'only_side'; readonly side: Side }
  | { readonly rule: 'kill_switch' }
  | { readonly rule: 'pinned' }
  | { readonly rule: 'tester_override'; readonly side: Side }
  | { readonly rule: 'runtime_override'; readonly runtime: RuntimeRouteMode }
  | { readonly rule: 'unleash'; readonly answer: U }
  | { readonly rule: 'file' };

const ONLY_LEGACY = Object.freeze({ rule: 'only_side', side: 'legacy' } as const);
const ONLY_NEW = Object.freeze({ rule: 'only_side', side: 'new' } as const);
const KILLED = Object.freeze({ rule: 'kill_switch' } as const);
const PINNED = Object.freeze({ rule: 'pinned' } as const);
const TESTER_LEGACY = Object.freeze({ rule: 'tester_override', side: 'legacy' } as const);
const TESTER_NEW = Object.freeze({ rule: 'tester_override', side: 'new' } as const);
const FILE = Object.freeze({ rule: 'file' } as const);

/**
 * The flag precedence, once: `decideRoute` (per request) and the admin API's effective state
 * (per route) both start here, so they cannot disagree. Pure; allocates only for the layers
 * that carry a value.
 *
 * A route with no legacy side stays on new whatever is set (there is nothing to fall back to);
 * a legacy-only route is on legacy anyway, but says why (kill switch, pin, or only side).
 */
export function winningLayer<U>(input: PrecedenceInput<U>): WinningLayer<U> {
  const { route } = input;
  if (route.new === null) return input.killSwitch ? KILLED : route.pinned ? PINNED : ONLY_LEGACY;
  if (route.legacy === null) return ONLY_NEW;
  if (input.killSwitch) return KILLED;
  if (route.pinned) return PINNED;
  if (input.testerOverride !== null) return input.testerOverride === 'legacy' ? TESTER_LEGACY : TESTER_NEW;
  if (input.runtime !== null) return { rule: 'runtime_override', runtime: input.runtime };
  const answer = input.unleash === null ? null : input.unleash();
  return answer === null ? FILE : { rule: 'unleash', answer };
}
