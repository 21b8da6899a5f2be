import { hostname } from 'node:os';
import type { RouteShadowConfig } from '../config/types.js';
import type { ShadowRules } from './response-diff.js';

/** A person's decision on a proposed ignore rule. */
export interface IgnoreRuleDecision {
  readonly route: string;
  /** Generalised JSON Pointer pattern, as in `shadow.ignore`. */
  readonly field: string;
  readonly decision: 'approved' | 'rejected';
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

export interface IgnoreRuleChange {
  readonly route: string;
  readonly field: string;
  /** null withdraws an earlier decision (the field may be proposed again). */
  readonly decision: 'approved' | 'rejected' | null;
  readonly by: string;
  readonly at: string;
  readonly reason: string;
}

export interface RuleAuditEntry {
  readonly at: string;
  readonly by: string;
  readonly action: 'approve' | 'reject' | 'withdraw';
  readonly route: string;
  readonly field: string;
  readonly reason: string;
  readonly instance: string;
  readonly from: IgnoreRuleDecision['decision'] | null;
  readonly to: IgnoreRuleDecision['decision'] | null;
}

export class RulesStoreUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RulesStoreUnavailableError';
  }
}

/**
 * Where runtime ignore-rule decisions live: in Redis with REDIS_URL (every instance, kept across
 * restarts), else in a JSON file next to the flags (this process, kept across restarts), else in
 * memory (this process only). `decisions()` is the local copy the shadow
 * differ reads on every comparison, so it never waits on the store.
 */
export interface IgnoreRuleStore {
  readonly kind: 'memory' | 'file' | 'redis';
  /** True when every instance sees the same decisions. */
  readonly shared: boolean;
  /** Loads the decisions (bounded wait) and starts following changes. */
  start(): Promise<void>;
  decisions(): readonly IgnoreRuleDecision[];
  /** Bumped on every change this instance knows of. */
  version(): number;
  decide(change: IgnoreRuleChange): Promise<RuleAuditEntry>;
  /** Newest first. */
  audit(limit: number): Promise<RuleAuditEntry[]>;
  onChange(listener: () => void): () => void;
  close(): Promise<void>;
}

export const RULE_INSTANCE = `${hostname()}:${process.pid}`;
export const RULE_AUDIT_MAX = 1000;

export function auditEntryOf(change: IgnoreRuleChange, previous: IgnoreRuleDecision | undefined): RuleAuditEntry {
  return {
    at: change.at,
    by: change.by,
    action: change.decision === 'approved' ? 'approve' : change.decision === 'rejected' ? 'reject' : 'withdraw',
    route: change.route,
    field: change.field,
    reason: change.reason,
    instance: RULE_INSTANCE,
    from: previous?.decision ?? null,
    to: change.decision,
  };
}

export const decisionKey = (route: string, field: string): string => `${route}\n${field}`;

/**
 * The embedded default without a rules file: this process only; gone at restart. Decisions are
 * applied one at a time (a queue), each to a copy that `persist` sees first: a store that keeps
 * them somewhere (FileIgnoreRuleStore) refuses a change it could not keep, and nothing changes.
 */
export class MemoryIgnoreRuleStore implements IgnoreRuleStore {
  readonly kind: IgnoreRuleStore['kind'] = 'memory';
  readonly shared = false;
  protected byKey = new Map<string, IgnoreRuleDecision>();
  protected log: RuleAuditEntry[] = [];
  private readonly listeners = new Set<() => void>();
  private changes = 0;
  private queue: Promise<unknown> = Promise.resolve();

  start(): Promise<void> {
    return Promise.resolve();
  }

  decisions(): readonly IgnoreRuleDecision[] {
    return [...this.byKey.values()];
  }

  version(): number {
    return this.changes;
  }

  decide(change: IgnoreRuleChange): Promise<RuleAuditEntry> {
    const run = this.queue.then(() => this.apply(change));
    this.queue = run.catch(() => {});
    return run;
  }

  private async apply(change: IgnoreRuleChange): Promise<RuleAuditEntry> {
    const key = decisionKey(change.route, change.field);
    const entry = auditEntryOf(change, this.byKey.get(key));
    const byKey = new Map(this.byKey);
    if (change.decision === null) byKey.delete(key);
    else byKey.set(key, { route: change.route, field: change.field, decision: change.decision, by: change.by, at: change.at, reason: change.reason });
    const log = [entry, ...this.log].slice(0, RULE_AUDIT_MAX);
    await this.persist([...byKey.values()], log);
    this.byKey = byKey;
    this.log = log;
    this.changes++;
    for (const listener of this.listeners) listener();
    return entry;
  }

  /** Keeps the state a decision leads to before it applies; throwing refuses the decision. */
  protected persist(_decisions: readonly IgnoreRuleDecision[], _audit: readonly RuleAuditEntry[]): Promise<void> {
    return Promise.resolve();
  }

  audit(limit: number): Promise<RuleAuditEntry[]> {
    return Promise.resolve(this.log.slice(0, limit));
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The shadow differ's view: a route's `shadow` rules from flags/ plus the ignore rules approved at
 * runtime. The merged object is kept per (route config, store version), so the diff's compiled
 * patterns are reused until something changes.
 */
export class RuntimeIgnoreRules {
  private readonly merged = new WeakMap<RouteShadowConfig, { version: number; rules: ShadowRules }>();

  constructor(readonly store: IgnoreRuleStore) {}

  /** Fields approved for `route`, in the order they were approved (every instance lists them alike). */
  approved(route: string): string[] {
    return this.fields(route, 'approved');
  }

  rejected(route: string): string[] {
    return this.fields(route, 'rejected');
  }

  private fields(route: string, decision: IgnoreRuleDecision['decision']): string[] {
    return this.store
      .decisions()
      .filter((d) => d.route === route && d.decision === decision)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.field < b.field ? -1 : 1))
      .map((d) => d.field);
  }

  rulesFor(route: string, shadow: RouteShadowConfig): ShadowRules {
    const version = this.store.version();
    const known = this.merged.get(shadow);
    if (known !== undefined && known.version === version) return known.rules;
    const extra = this.approved(route).filter((f) => !shadow.ignore.includes(f));
    const rules: ShadowRules = extra.length === 0 ? shadow : { ...shadow, ignore: [...shadow.ignore, ...extra] };
    this.merged.set(shadow, { version, rules });
    return rules;
  }
}
