import type { Side } from '../config/types.js';
import type { FlagAnswer } from '../routing/routing-decision.js';
import { inRollout, rolloutBucket } from './bucketing.js';
import type { FlagContext } from './flag-context.js';

/**
 * A flag source that answers per request (OpenFeature's provider idea): Unleash in production,
 * the in-memory provider below for embedding and tests. Runtime overrides (admin API) and the
 * flags/ files are not providers: they are the layers above and below it in the precedence.
 */
export interface FlagProvider {
  readonly kind: 'unleash' | 'memory';
  /**
   * The side this flag picks for this request. Never throws. null: no answer — the flag does not
   * exist there, or the provider has no state at all — and the route's flags/ mode decides.
   */
  evaluate(flag: string, context: FlagContext): FlagAnswer | null;
  /** What the flag amounts to, for people (admin API); null when the provider does not know it. */
  describe(flag: string): FlagDescription | null;
  status(): FlagProviderStatus;
  /**
   * Resolves once the provider has answered from its server, or after `timeoutMs` — never later.
   * Resolves to true when it answered.
   */
  ready(timeoutMs: number): Promise<boolean>;
  /** Called whenever the provider's flag definitions change. Returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

/**
 * `synchronized`: its server answered the latest poll; `stale`: it did before, the latest poll
 * failed, the last known state serves; `backup`: its server has not answered since start-up, the
 * backup file serves; `none`: no state at all — every route uses its flags/ mode.
 */
export type ProviderState = 'synchronized' | 'stale' | 'backup' | 'none';

export interface FlagProviderStatus {
  readonly kind: FlagProvider['kind'];
  readonly state: ProviderState;
  /** When the provider last heard from its server (ISO time), or null. */
  readonly lastSyncAt: string | null;
  /** The last error talking to its server, if the latest attempt failed. */
  readonly lastError: string | null;
  readonly details: Readonly<Record<string, unknown>>;
}

export interface FlagDescription {
  /**
   * `legacy` (off), `new` (on for everyone), `rollout` (one sticky percentage), or `strategies`
   * (constraints, segments, variants or several strategies: only a request can tell).
   */
  readonly mode: 'legacy' | 'new' | 'rollout' | 'strategies';
  readonly percentage?: number;
  readonly enabled: boolean;
  readonly strategies: readonly string[];
  /** When this process first saw the flag's current definition (ISO time), or null. */
  readonly seenAt: string | null;
}

/** A flag in the in-memory provider: on/off, optionally a sticky percentage of userIds, or a fixed variant side. */
export interface InMemoryFlag {
  readonly enabled: boolean;
  /** 0..100 of userIds (bucketed exactly as Unleash's flexibleRollout with userId stickiness). */
  readonly percentage?: number;
  /** Unleash's groupId; default: the flag name. */
  readonly groupId?: string;
  /** When enabled and in the rollout, the side a variant would pick (default new). */
  readonly variantSide?: Side;
}

/**
 * A provider whose flags live in this process (in the style of OpenFeature's InMemoryProvider):
 * always synchronized, replaced whole by `putConfiguration`. For embedding apps that drive flags
 * from code, and for tests of the precedence.
 */
export class InMemoryFlagProvider implements FlagProvider {
  readonly kind = 'memory';
  private flags: ReadonlyMap<string, InMemoryFlag>;
  private seenAt = new Map<string, string>();
  private definitions = new Map<string, string>();
  private readonly listeners = new Set<() => void>();

  constructor(flags: Readonly<Record<string, InMemoryFlag>> = {}) {
    this.flags = new Map(Object.entries(flags));
    this.stamp();
  }

  putConfiguration(flags: Readonly<Record<string, InMemoryFlag>>): void {
    this.flags = new Map(Object.entries(flags));
    this.stamp();
    for (const listener of this.listeners) listener();
  }

  evaluate(flag: string, context: FlagContext): FlagAnswer | null {
    const f = this.flags.get(flag);
    if (f === undefined) return null;
    if (!f.enabled) return { side: 'legacy' };
    if (f.percentage !== undefined) {
      // Unleash's flexibleRollout with userId stickiness: no userId, not in the rollout.
      if (context.userId === undefined || !inRollout(rolloutBucket(f.groupId ?? flag, context.userId), f.percentage)) return { side: 'legacy' };
    }
    return f.variantSide === undefined ? { side: 'new' } : { side: f.variantSide, variant: f.variantSide };
  }

  describe(flag: string): FlagDescription | null {
    const f = this.flags.get(flag);
    if (f === undefined) return null;
    const seenAt = this.seenAt.get(flag) ?? null;
    if (!f.enabled) return { mode: 'legacy', enabled: false, strategies: [], seenAt };
    if (f.variantSide !== undefined) return { mode: 'strategies', enabled: true, strategies: ['memory'], seenAt };
    if (f.percentage !== undefined) return { mode: 'rollout', percentage: f.percentage, enabled: true, strategies: ['flexibleRollout'], seenAt };
    return { mode: 'new', enabled: true, strategies: ['default'], seenAt };
  }

  status(): FlagProviderStatus {
    return { kind: this.kind, state: 'synchronized', lastSyncAt: null, lastError: null, details: { flags: this.flags.size } };
  }

  ready(): Promise<boolean> {
    return Promise.resolve(true);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }

  /** A flag's seenAt moves only when its definition changed. */
  private stamp(): void {
    const now = new Date().toISOString();
    const next = new Map<string, string>();
    const defs = new Map<string, string>();
    for (const [name, f] of this.flags) {
      const def = JSON.stringify(f);
      defs.set(name, def);
      next.set(name, this.definitions.get(name) === def ? (this.seenAt.get(name) ?? now) : now);
    }
    this.seenAt = next;
    this.definitions = defs;
  }
}
