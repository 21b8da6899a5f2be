import type { Request } from 'express';
import { readNotes, type ChangeNotes } from '../flags/runtime-change.js';
import { badAdminInput } from './admin-api.js';

/** Names the actor in the audit log when the body does not (`by`); the dashboard sets it from the session. */
export const ACTOR_HEADER = 'x-switchyard-actor';

/** The first X-Switchyard-Actor value, if any. */
export function actorOf(req: Request): string | undefined {
  const h = req.headers[ACTOR_HEADER];
  return Array.isArray(h) ? h[0] : h;
}

/** Who made a state-changing admin call and why (`by`, `reason` — required); 400 naming the field otherwise. */
export function changeNotesOf(req: Request, fields: Record<string, unknown>): ChangeNotes {
  const notes = readNotes(fields, actorOf(req));
  if (!notes.ok) throw badAdminInput(notes.field, notes.reason);
  return notes.notes;
}
