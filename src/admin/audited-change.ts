import { SwitchyardError } from '../errors/switchyard-error.js';
import { RuntimeStoreUnavailableError, type AuditEntry, type AuditRecord, type RuntimeFlagStore } from '../flags/runtime-store.js';

/** The runtime flags' audit log, where changes that are not flag state are recorded too (Redis: seen by every instance). */
export type AuditLog = Pick<RuntimeFlagStore, 'record' | 'status'>;

export interface AuditedChange<T> {
  /** What the answer says when the log is down before anything was done, e.g. "nothing was purged". */
  readonly nothing: string;
  readonly run: () => Promise<T>;
  /** What was done, for the answer when it was done but its entry could not be stored. */
  readonly done: (result: T) => string;
  readonly record: (result: T) => AuditRecord;
}

/**
 * A change outside the runtime flag state (a cache purge, a shadow reset) that must not go
 * unaudited: refused with 503 while the audit log cannot be written, then done, then recorded.
 */
export async function auditedChange<T>(log: AuditLog, change: AuditedChange<T>): Promise<{ result: T; audit: AuditEntry; scope: 'all-instances' | 'this-process' }> {
  const status = log.status();
  if (!status.connected) throw unaudited(`the audit log (runtime flag store, ${status.kind}) is unavailable: ${status.lastError ?? 'not connected'}; ${change.nothing}`);
  const result = await change.run();
  try {
    return { result, audit: await log.record(change.record(result)), scope: status.shared ? 'all-instances' : 'this-process' };
  } catch (error) {
    if (error instanceof RuntimeStoreUnavailableError) throw unaudited(`${change.done(result)}, but the audit entry could not be stored: ${error.message}`, error);
    throw error;
  }
}

function unaudited(detail: string, cause?: unknown): SwitchyardError {
  return new SwitchyardError('SWITCHYARD_FLAGS_STORE_UNAVAILABLE', detail, { status: 503, ...(cause === undefined ? {} : { cause }) });
}
