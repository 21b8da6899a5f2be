import type { ChangeNotes } from '../flags/runtime-change.js';
import { INSTANCE_ID, type AuditRecord } from '../flags/runtime-store.js';

/** The fields of a purge request body that say who and why (the rest is what to purge). */
export const PURGE_NOTE_FIELDS: readonly string[] = ['reason', 'by'];

/**
 * The audit entry of a purge: target `cache`, what was asked, the route it was of (null for a
 * prefix or everything), and how many entries it removed — as from → to `entries: N → 0`. Pure.
 */
export function purgeAuditRecord(request: Readonly<Record<string, string | boolean>>, route: string | null, purged: number, notes: ChangeNotes, at: string): AuditRecord {
  return {
    at,
    by: notes.by,
    reason: notes.reason,
    instance: INSTANCE_ID,
    target: 'cache',
    action: 'purge',
    purge: request,
    route,
    purged,
    from: { source: 'cache', entries: purged },
    to: { source: 'cache', entries: 0 },
  };
}
