import express from 'express';
import type { AdminSection } from '../admin/admin-api.js';
import { BadRequestError, SwitchyardError } from '../errors/switchyard-error.js';
import { resolvePurge, type PurgeContext, type PurgeScope } from './cache-purge.js';

export interface CacheAdminView {
  context(): PurgeContext;
  purge(scope: PurgeScope): Promise<number>;
  stats(): unknown;
}

/**
 * The cache's part of the admin API (behind its bearer token, problem+json errors):
 *
 *   GET    /_switchyard/cache          hit/miss/stale/revalidated/bypass per route, store state
 *   POST   /_switchyard/cache/purge    {"url": "/flask/p/1?x=1"} | {"url": "https://host/flask/p/1"}
 *                                      | {"route": "name"} | {"prefix": "/flask/p/"} | {"all": true}
 *   DELETE /_switchyard/cache          everything                          → {"purged": N}
 */
export function cacheSection(view: CacheAdminView): AdminSection {
  const router = express.Router();
  const purge = async (body: unknown): Promise<{ purged: number }> => {
    const resolved = resolvePurge(body, view.context());
    if (!resolved.ok) {
      throw resolved.status === 404 ? new SwitchyardError('SWITCHYARD_PURGE_NOT_FOUND', resolved.reason, { status: 404 }) : new BadRequestError('SWITCHYARD_ADMIN_BAD_INPUT', resolved.reason);
    }
    try {
      return { purged: await view.purge(resolved.scope) };
    } catch (error) {
      throw new SwitchyardError('SWITCHYARD_CACHE_UNAVAILABLE', `the cache store could not purge: ${error instanceof Error ? error.message : String(error)}`, { status: 503, cause: error });
    }
  };
  router.get('/', (_req, res) => {
    res.set('cache-control', 'no-store').json(view.stats());
  });
  router.post('/purge', async (req, res) => {
    res.set('cache-control', 'no-store').json(await purge(req.body));
  });
  router.delete('/', async (_req, res) => {
    res.set('cache-control', 'no-store').json(await purge({ all: true }));
  });
  return { name: 'cache', router };
}
