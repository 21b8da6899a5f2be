import type { RouteConfig, RouteMode } from '../config/types.js';
import type { RuntimeRouteMode } from '../routing/routing-decision.js';
import type { RouteOverride } from './runtime-store.js';

/** Why an admin request cannot be applied: the HTTP status, the field and the reason. Nothing changes. */
export interface ChangeRejection {
  readonly ok: false;
  readonly status: 400 | 409;
  readonly field: string;
  readonly reason: string;
}

export interface ChangeNotes {
  readonly by: string;
  /** Required on every change made through the admin API (and so the dashboard): trimmed, never empty. */
  readonly reason: string;
}

const MODES: readonly RouteMode[] = ['legacy', 'new', 'rollout'];
const MAX_BY = 200;
const MAX_REASON = 1000;
// C0 controls and DEL.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const reject = (field: string, reason: string, status: 400 | 409 = 400): ChangeRejection => ({ ok: false, status, field, reason });

function isObject(body: unknown): body is Record<string, unknown> {
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * `by` (body, else the X-Switchyard-Actor header) and `reason`: who changed it and why, for the audit
 * log. The one check of both for every state-changing admin call: a change without a reason is
 * refused (nothing changes), so every audit entry says why.
 */
export function readNotes(body: Record<string, unknown>, actorHeader: string | undefined): { ok: true; notes: ChangeNotes } | ChangeRejection {
  const by = body['by'] ?? actorHeader;
  if (by !== undefined && (typeof by !== 'string' || by.trim() === '' || by.length > MAX_BY)) return reject('by', `must be a non-empty string of at most ${MAX_BY} characters`);
  // One audit entry reads as one line: control characters could forge entries in a log view.
  if (typeof by === 'string' && CONTROL.test(by)) return reject('by', 'must not contain control characters (line breaks, tabs, NUL…)');
  const reason = body['reason'];
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON) {
    return reject('reason', `required: say why, as a non-empty string of at most ${MAX_REASON} characters (it goes to the audit log); nothing was changed`);
  }
  if (CONTROL.test(reason)) return reject('reason', 'must not contain control characters (line breaks, tabs, NUL…)');
  return { ok: true, notes: { by: typeof by === 'string' ? by.trim() : 'admin-api', reason: reason.trim() } };
}

function unknownKeys(body: Record<string, unknown>, allowed: readonly string[]): ChangeRejection | null {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  return extra.length === 0 ? null : reject(extra[0]!, `unknown field (allowed: ${allowed.join(', ')})`);
}

/**
 * Validates `PUT /_switchyard/flags/routes/:name` — `{ mode?, percentage?, reason, by? }`.
 * A percentage alone means mode rollout; mode rollout alone keeps the route's current runtime
 * percentage, else its flags/ one. A route that cannot switch (one side, or pinned) is a 409.
 */
export function validateRouteChange(body: unknown, route: RouteConfig, current: RouteOverride | null, actorHeader?: string): { ok: true; set: RuntimeRouteMode; notes: ChangeNotes } | ChangeRejection {
  if (!isObject(body)) return reject('(body)', 'must be a JSON object such as {"mode":"rollout","percentage":25,"reason":"…"} (send Content-Type: application/json)');
  const extra = unknownKeys(body, ['mode', 'percentage', 'reason', 'by']);
  if (extra !== null) return extra;
  const { mode, percentage } = body;
  if (mode !== undefined && (typeof mode !== 'string' || !MODES.includes(mode as RouteMode))) return reject('mode', `must be one of ${MODES.map((m) => `"${m}"`).join(', ')} (got ${JSON.stringify(mode)})`);
  if (percentage !== undefined && (typeof percentage !== 'number' || !Number.isInteger(percentage) || percentage < 0 || percentage > 100)) {
    return reject('percentage', `must be an integer from 0 to 100 (got ${JSON.stringify(percentage)})`);
  }
  if (mode === undefined && percentage === undefined) return reject('mode', 'give `mode` and/or `percentage` (to drop the runtime override, DELETE this route)');
  if (percentage !== undefined && mode !== undefined && mode !== 'rollout') return reject('percentage', `only applies to mode "rollout" (mode is "${String(mode)}")`);
  const notes = readNotes(body, actorHeader);
  if (!notes.ok) return notes;
  const structural = cannotSwitch(route);
  if (structural !== null) return structural;
  const m = (mode ?? 'rollout') as RouteMode;
  const p = typeof percentage === 'number' ? percentage : current?.mode === 'rollout' ? current.percentage : route.rollout.percentage;
  return { ok: true, set: { mode: m, percentage: p }, notes: notes.notes };
}

/** Validates `PUT /_switchyard/flags/kill-switch` — `{ on: boolean, reason, by? }`. */
export function validateKillSwitchChange(body: unknown, actorHeader?: string): { ok: true; on: boolean; notes: ChangeNotes } | ChangeRejection {
  if (!isObject(body)) return reject('(body)', 'must be a JSON object such as {"on":true,"reason":"…"} (send Content-Type: application/json)');
  const extra = unknownKeys(body, ['on', 'reason', 'by']);
  if (extra !== null) return extra;
  if (typeof body['on'] !== 'boolean') return reject('on', `must be true or false (got ${JSON.stringify(body['on'])})`);
  const notes = readNotes(body, actorHeader);
  if (!notes.ok) return notes;
  return { ok: true, on: body['on'], notes: notes.notes };
}

/** A route with one side, or pinned in its file, cannot be switched at run time. */
export function cannotSwitch(route: RouteConfig): ChangeRejection | null {
  if (route.legacy === null || route.new === null) {
    return reject('route', `route \`${route.name}\` has only a ${route.legacy === null ? 'new' : 'legacy'} side: there is nothing to switch`, 409);
  }
  if (route.pinned) return reject('route', `route \`${route.name}\` is pinned to legacy in ${route.file}; unpin it there first`, 409);
  return null;
}
