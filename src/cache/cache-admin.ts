import express, { type Request } from 'express';
import { badAdminInput, type AdminSection } from '../admin/admin-api.js';
import { changeNotesOf } from '../admin/change-notes.js';
import { auditedChange, type AuditLog } from '../admin/audited-change.js';
import { BadRequestError, SwitchyardError } from '../errors/switchyard-error.js';
import type { AuditEntry } from '../flags/runtime-store.js';
import { resolvePurge, type PurgeContext, type PurgeScope } from './cache-purge.js';
import { PURGE_NOTE_FIELDS, purgeAuditRecord } from './purge-audit.js';

export interface CacheAdminView {
  context(): PurgeContext;
  purge(scope: PurgeScope): Promise<number>;
  stats(): unknown;
  /** Where purges are recorded. */
  readonly audit: AuditLog;
}

/** Names the actor in the audit log when the body does not (`by`); the dashboard's session sets it. */

/**
 * The cache's part of the admin API (behind its bearer token, problem+json errors):
 *
 *   GET    /_switchyard/cache          hit/miss/stale/revalidated/bypass per route, store state
 *   POST   /_switchyard/cache/purge    {"url": "/flask/p/1?x=1"} | {"url": "https://host/flask/p/1"}
 *                                      | {"route": "name"} | {"prefix": "/flask/p/"} | {"all": true}
 *                                      plus {"reason": "…", "by"?: "…"}   → {"purged": N, "audit": {…}}
 *   DELETE /_switchyard/cache          {"reason": "…", "by"?}: everything → the same
 *
 * A purge needs a reason (400 SWITCHYARD_ADMIN_BAD_INPUT, nothing purged, without one) and is
 * recorded in the runtime flags' audit log (target `cache`). While that log cannot be written
 * (Redis down) purges are refused with 503, so none goes unaudited.
 */
export function cacheSection(view: CacheAdminView): AdminSection {
  const router = express.Router();
  const purge = async (req: Request, body: unknown): Promise<{ purged: number; scope: string; audit: AuditEntry }> => {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('SWITCHYARD_ADMIN_BAD_INPUT', 'the body must be a JSON object: {"url"}, {"route"}, {"prefix"} or {"all": true}, with {"reason"}');
    const fields = body as Record<string, unknown>;
    const notes = changeNotesOf(req, fields);
    const request = Object.fromEntries(Object.entries(fields).filter(([k]) => !PURGE_NOTE_FIELDS.includes(k)));
    const resolved = resolvePurge(request, view.context());
    if (!resolved.ok) throw resolved.status === 404 ? new SwitchyardError('SWITCHYARD_PURGE_NOT_FOUND', resolved.reason, { status: 404 }) : new BadRequestError('SWITCHYARD_ADMIN_BAD_INPUT', resolved.reason);
    const { result: purged, audit, scope } = await auditedChange(view.audit, {
      nothing: 'nothing was purged',
      run: async () => {
        try {
          return await view.purge(resolved.scope);
        } catch (error) {
          throw new SwitchyardError('SWITCHYARD_CACHE_UNAVAILABLE', `the cache store could not purge: ${error instanceof Error ? error.message : String(error)}`, { status: 503, cause: error });
        }
      },
      done: (n) => `${n} entries were purged`,
      record: (n) => purgeAuditRecord(request as Record<string, string | boolean>, resolved.route, n, notes, new Date().toISOString()),
    });
    return { purged, scope, audit };
  };
  router.get('/', (_req, res) => {
    res.set('cache-control', 'no-store').json(view.stats());
  });
  router.post('/purge', async (req, res) => {
    res.set('cache-control', 'no-store').json(await purge(req, req.body));
  });
  router.delete('/', async (req, res) => {
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badAdminInput('(body)', 'must be a JSON object such as {"reason":"…"}');
    const extra = Object.keys(body).find((k) => !PURGE_NOTE_FIELDS.includes(k));
    if (extra !== undefined) throw badAdminInput(extra, `unknown field (allowed: ${PURGE_NOTE_FIELDS.join(', ')}; to purge less, POST /_switchyard/cache/purge)`);
    res.set('cache-control', 'no-store').json(await purge(req, { ...body, all: true }));
  });
  return { name: 'cache', router };
}
