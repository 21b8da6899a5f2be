import express from 'express';
import type { FlagsConfig } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { INSTANCE_ID } from '../flags/runtime-store.js';
import { classifyField } from '../shadow/noise-filter.js';
import type { RouteShadowCounts, ShadowResultStore } from '../shadow/shadow-store.js';
import { badAdminInput, type AdminSection } from './admin-api.js';
import { auditedChange, type AuditLog } from './audited-change.js';
import { changeNotesOf } from './change-notes.js';

const RESET_FIELDS: readonly string[] = ['reason', 'by'];

/**
 * GET  /_switchyard/shadow                  every route's shadow totals
 * GET  /_switchyard/shadow/:route           totals and per-field raw/noise counts with a verdict
 * GET  /_switchyard/shadow/:route/samples   recent mismatches (?limit=N)
 * DELETE /_switchyard/shadow/:route         {reason, by?}: reset the route's results → {route, compared, audit}
 *
 * A reset needs a reason (readNotes) and is recorded in the runtime flags' audit log (target
 * `shadow`, from → to as compared/mismatched counts); refused with 503 while that log is down.
 */
export function shadowSection(store: ShadowResultStore, config: () => FlagsConfig, audit: AuditLog): AdminSection {
  const router = express.Router();
  const knownRoute = (name: string): void => {
    // 404 like the flags section: the request is well formed, the route does not exist.
    if (!config().routes.some((r) => r.name === name)) throw new SwitchyardError('SWITCHYARD_ADMIN_UNKNOWN_ROUTE', `no route named \`${name}\``, { status: 404 });
  };
  const view = (c: RouteShadowCounts) => {
    const { noiseRelativeThreshold: relative, noiseAbsoluteThreshold: absolute } = config().settings.shadow;
    const fields = Object.entries(c.fields)
      .map(([field, counts]) => ({ field, raw: counts.raw, noise: counts.noise, verdict: classifyField(counts, c.compared, c.noiseSamples, { relative, absolute }) }))
      .sort((a, b) => b.raw - a.raw || a.field.localeCompare(b.field));
    return { ...c, fields, differences: fields.filter((f) => f.verdict === 'difference').map((f) => f.field) };
  };
  router.get('/', async (_req, res) => {
    const names = new Set([...(await store.routes()), ...config().routes.filter((r) => r.shadow !== undefined).map((r) => r.name)]);
    res.json({ routes: await Promise.all([...names].sort().map(async (n) => view(await store.counts(n)))) });
  });
  router.get('/:route', async (req, res) => {
    knownRoute(req.params.route);
    res.json(view(await store.counts(req.params.route)));
  });
  router.get('/:route/samples', async (req, res) => {
    knownRoute(req.params.route);
    const raw = req.query['limit'];
    const limit = raw === undefined ? 20 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badAdminInput('limit', 'must be an integer from 1 to 1000');
    res.json({ route: req.params.route, samples: await store.samples(req.params.route, limit) });
  });
  router.delete('/:route', async (req, res) => {
    const route = req.params.route;
    knownRoute(route);
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badAdminInput('(body)', 'must be a JSON object such as {"reason":"…"}');
    const extra = Object.keys(body).find((k) => !RESET_FIELDS.includes(k));
    if (extra !== undefined) throw badAdminInput(extra, `unknown field (allowed: ${RESET_FIELDS.join(', ')})`);
    const notes = changeNotesOf(req, body as Record<string, unknown>);
    const { result, audit: entry } = await auditedChange(audit, {
      nothing: 'nothing was reset',
      run: async () => {
        const { compared, mismatched } = await store.counts(route);
        await store.reset(route);
        return { compared, mismatched };
      },
      done: (c) => `the results of \`${route}\` (${c.compared} compared) were reset`,
      record: (c) => ({
        at: new Date().toISOString(),
        ...notes,
        instance: INSTANCE_ID,
        target: 'shadow',
        action: 'reset',
        route,
        from: { source: 'shadow', ...c },
        to: { source: 'shadow', compared: 0, mismatched: 0 },
      }),
    });
    res.json({ route, compared: result.compared, audit: entry });
  });
  return { name: 'shadow', router };
}
