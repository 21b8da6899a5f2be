import { hostname } from 'node:os';
import type { RouteMode } from '../config/types.js';
import type { RuntimeRouteMode } from '../routing/routing-decision.js';

/** Who changed something at run time, when, and why. */
export interface ChangeMeta {
  readonly by: string;
  /** ISO time. */
  readonly at: string;
  readonly reason: string | null;
}

/** A route's mode/percentage set through the admin API; wins over Unleash and flags/. */
export interface RouteOverride extends RuntimeRouteMode, ChangeMeta {}

export interface KillSwitchState extends ChangeMeta {
  readonly on: boolean;
}

export interface RuntimeState {
  /** Increases with every change (Redis: across all instances). */
  readonly version: number;
  readonly killSwitch: KillSwitchState | null;
  readonly routes: ReadonlyMap<string, RouteOverride>;
}

/** Where a route's effective mode comes from. */
export type FlagSourceKind = 'file' | 'override' | 'unleash';

/** A route's (or the kill switch's) setting as the audit log records it; for a cache purge, how many entries it matched. */
export interface AuditValue {
  readonly mode?: RouteMode | 'strategies';
  readonly percentage?: number;
  readonly on?: boolean;
  readonly entries?: number;
  /** A shadow reset: the route's comparisons before and after. */
  readonly compared?: number;
  readonly mismatched?: number;
  readonly source: FlagSourceKind | 'env' | 'cache' | 'shadow';
  readonly by?: string;
  readonly at?: string;
}

export interface AuditEntry {
  readonly version: number;
  readonly at: string;
  readonly by: string;
  readonly reason: string | null;
  /** `route:<name>`, `killSwitch`, `cache` (a purge: see `purge`, `route`, `purged`) or `shadow` (a reset of `route`'s results). */
  readonly target: string;
  readonly action: 'set' | 'clear' | 'purge' | 'reset';
  readonly from: AuditValue;
  readonly to: AuditValue;
  /** The instance that took the change (`host:pid`). */
  readonly instance: string;
  /** Cache purges: what was asked (`{url}`, `{route}`, `{prefix}` or `{all: true}`). */
  readonly purge?: Readonly<Record<string, string | boolean>>;
  /** Cache purges: the route purged (by name, or the one serving the URL); null for a prefix or everything. Shadow resets: the route. */
  readonly route?: string | null;
  /** Cache purges: how many entries were removed. */
  readonly purged?: number;
}

/** An audit entry for something that is not runtime flag state (a cache purge, a shadow reset): the store adds the version. */
export type AuditRecord = Omit<AuditEntry, 'version'>;

export type RuntimeChange =
  | {
      readonly target: 'route';
      readonly route: string;
      /** null clears the override: the route goes back to Unleash / flags/. */
      readonly set: RuntimeRouteMode | null;
      readonly meta: ChangeMeta;
      /** The route's effective setting when it has no override (recorded as `from` when there was none, and as `to` on a clear). */
      readonly fallback: AuditValue;
    }
  | { readonly target: 'killSwitch'; readonly on: boolean; readonly meta: ChangeMeta };

export type ChangeOutcome = { readonly applied: true; readonly entry: AuditEntry; readonly state: RuntimeState } | { readonly applied: false; readonly state: RuntimeState };

export interface RuntimeStoreStatus {
  readonly kind: 'memory' | 'redis';
  /** true: changes reach every instance sharing the store, and survive restarts. */
  readonly shared: boolean;
  readonly connected: boolean;
  readonly lastError: string | null;
  readonly note: string;
}

/**
 * Where runtime changes live. `state()` is synchronous (the hot path reads it on every request);
 * `apply` stores a change with its audit entry atomically and makes every instance sharing the
 * store apply it.
 */
export interface RuntimeFlagStore {
  readonly kind: 'memory' | 'redis';
  readonly shared: boolean;
  /** Loads the stored state: bounded by `timeoutMs`; never throws (an unreachable store is logged and retried). */
  start(timeoutMs: number): Promise<void>;
  state(): RuntimeState;
  /** Rejects with RuntimeStoreUnavailableError when the change could not be stored (then nothing changed). */
  apply(change: RuntimeChange): Promise<ChangeOutcome>;
  /**
   * Appends an entry to the audit log that changes no flag (a cache purge): it gets the next
   * version, and every instance sharing the store sees it (its listeners are told, as on a change).
   * Rejects with RuntimeStoreUnavailableError when it could not be stored.
   */
  record(entry: AuditRecord): Promise<AuditEntry>;
  /** The newest `limit` audit entries, oldest first. */
  audit(limit: number): Promise<readonly AuditEntry[]>;
  onChange(listener: (state: RuntimeState) => void): () => void;
  status(): RuntimeStoreStatus;
  close(): Promise<void>;
}

export class RuntimeStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeStoreUnavailableError';
  }
}

export const AUDIT_MAX_ENTRIES = 1000;
export const EMPTY_RUNTIME_STATE: RuntimeState = Object.freeze({ version: 0, killSwitch: null, routes: new Map<string, RouteOverride>() });
export const INSTANCE_ID = `${hostname()}:${process.pid}`;

export const routeField = (route: string): string => `route:${route}`;
export const KILL_SWITCH_FIELD = 'killSwitch';
export const VERSION_FIELD = '__version';

export function overrideValue(o: RouteOverride): AuditValue {
  return { mode: o.mode, ...(o.mode === 'rollout' ? { percentage: o.percentage } : {}), source: 'override', by: o.by, at: o.at };
}

export function killSwitchValue(k: KillSwitchState | null): AuditValue {
  return k === null ? { on: false, source: 'override' } : { on: k.on, source: 'override', by: k.by, at: k.at };
}

/** The audit entry for a change, before the store gives it a version and (Redis) reads `from` atomically. */
export function auditEntryFor(change: RuntimeChange, previous: RuntimeState): Omit<AuditEntry, 'version'> {
  const base = { at: change.meta.at, by: change.meta.by, reason: change.meta.reason, instance: INSTANCE_ID };
  if (change.target === 'killSwitch') {
    return { ...base, target: KILL_SWITCH_FIELD, action: 'set', from: killSwitchValue(previous.killSwitch), to: { on: change.on, source: 'override' } };
  }
  const old = previous.routes.get(change.route);
  const from = old === undefined ? change.fallback : overrideValue(old);
  const to: AuditValue = change.set === null ? change.fallback : { mode: change.set.mode, ...(change.set.mode === 'rollout' ? { percentage: change.set.percentage } : {}), source: 'override' };
  return { ...base, target: routeField(change.route), action: change.set === null ? 'clear' : 'set', from, to };
}

/** The stored value of a change (JSON in Redis), or null for a clear. */
export function storedValue(change: RuntimeChange): { field: string; value: string | null } {
  if (change.target === 'killSwitch') return { field: KILL_SWITCH_FIELD, value: JSON.stringify({ on: change.on, ...change.meta } satisfies KillSwitchState) };
  const value = change.set === null ? null : JSON.stringify({ mode: change.set.mode, percentage: change.set.percentage, ...change.meta } satisfies RouteOverride);
  return { field: routeField(change.route), value };
}

const MODES: readonly string[] = ['legacy', 'new', 'rollout'];

/** Parses the stored fields (a Redis hash); malformed entries are skipped and named in `problems`. */
export function parseRuntimeState(fields: Readonly<Record<string, string>>): { state: RuntimeState; problems: string[] } {
  const problems: string[] = [];
  const routes = new Map<string, RouteOverride>();
  let killSwitch: KillSwitchState | null = null;
  let version = 0;
  for (const [field, text] of Object.entries(fields)) {
    if (field === VERSION_FIELD) {
      version = Number(text) || 0;
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      problems.push(`${field}: not JSON`);
      continue;
    }
    if (typeof value !== 'object' || value === null) {
      problems.push(`${field}: not an object`);
      continue;
    }
    const v = value as Record<string, unknown>;
    const meta = { by: typeof v['by'] === 'string' ? v['by'] : 'unknown', at: typeof v['at'] === 'string' ? v['at'] : '', reason: typeof v['reason'] === 'string' ? v['reason'] : null };
    if (field === KILL_SWITCH_FIELD) {
      if (typeof v['on'] === 'boolean') killSwitch = { on: v['on'], ...meta };
      else problems.push(`${field}: \`on\` is not a boolean`);
    } else if (field.startsWith('route:')) {
      const mode = v['mode'];
      const percentage = v['percentage'];
      if (typeof mode !== 'string' || !MODES.includes(mode) || typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 0 || percentage > 100) {
        problems.push(`${field}: not a valid mode/percentage`);
        continue;
      }
      routes.set(field.slice('route:'.length), { mode: mode as RouteMode, percentage, ...meta });
    }
  }
  return { state: { version, killSwitch, routes }, problems };
}

/** Runtime changes in this process only: they apply at once here, reach no other instance and end with it. */
export class MemoryRuntimeStore implements RuntimeFlagStore {
  readonly kind = 'memory';
  readonly shared = false;
  private current: RuntimeState = EMPTY_RUNTIME_STATE;
  private readonly log: AuditEntry[] = [];
  private readonly listeners = new Set<(state: RuntimeState) => void>();

  start(): Promise<void> {
    return Promise.resolve();
  }

  state(): RuntimeState {
    return this.current;
  }

  apply(change: RuntimeChange): Promise<ChangeOutcome> {
    const previous = this.current;
    if (change.target === 'route' && change.set === null && !previous.routes.has(change.route)) return Promise.resolve({ applied: false, state: previous });
    const entry: AuditEntry = { ...auditEntryFor(change, previous), version: previous.version + 1 };
    const routes = new Map(previous.routes);
    let killSwitch = previous.killSwitch;
    if (change.target === 'killSwitch') killSwitch = { on: change.on, ...change.meta };
    else if (change.set === null) routes.delete(change.route);
    else routes.set(change.route, { ...change.set, ...change.meta });
    this.commit({ version: entry.version, killSwitch, routes }, entry);
    return Promise.resolve({ applied: true, entry, state: this.current });
  }

  record(record: AuditRecord): Promise<AuditEntry> {
    const entry: AuditEntry = { ...record, version: this.current.version + 1 };
    this.commit({ ...this.current, version: entry.version }, entry);
    return Promise.resolve(entry);
  }

  private commit(state: RuntimeState, entry: AuditEntry): void {
    this.current = state;
    this.log.push(entry);
    if (this.log.length > AUDIT_MAX_ENTRIES) this.log.splice(0, this.log.length - AUDIT_MAX_ENTRIES);
    for (const listener of this.listeners) listener(this.current);
  }

  audit(limit: number): Promise<readonly AuditEntry[]> {
    return Promise.resolve(this.log.slice(-limit));
  }

  onChange(listener: (state: RuntimeState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  status(): RuntimeStoreStatus {
    return { kind: 'memory', shared: false, connected: true, lastError: null, note: 'no REDIS_URL: runtime changes apply to this process only and are lost when it stops' };
  }

  close(): Promise<void> {
    this.listeners.clear();
    return Promise.resolve();
  }
}
