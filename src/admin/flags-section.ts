import express from 'express';
import { actorOf, changeNotesOf } from './change-notes.js';
import type { FlagsConfig, RouteConfig } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import type { FlagEngine } from '../flags/flag-engine.js';
import { validateKillSwitchChange, validateRouteChange, type ChangeRejection } from '../flags/runtime-change.js';
import { RuntimeStoreUnavailableError, type ChangeOutcome } from '../flags/runtime-store.js';
import { PRECEDENCE } from '../routing/flag-precedence.js';
import { badAdminInput, type AdminSection } from './admin-api.js';

export interface FlagsView {
  readonly engine: FlagEngine;
  config(): FlagsConfig;
}


/**
 * Runtime flag control (token-protected like the whole admin API):
 *
 * GET    /_switchyard/flags                 every route's effective state (mode, percentage, source, who/when), the kill switch, Unleash and store status, missing flags
 * GET    /_switchyard/flags/routes/:route   one route
 * PUT    /_switchyard/flags/routes/:route   {mode?, percentage?, reason, by?}: set its runtime override
 * DELETE /_switchyard/flags/routes/:route   {reason, by?}: drop the override (back to Unleash / flags/)
 * PUT    /_switchyard/flags/kill-switch     {on, reason, by?}
 * GET    /_switchyard/flags/audit           ?limit=N (default 100): the newest changes, oldest first
 *
 * Every change needs a reason (readNotes: 400 naming `reason` without one). Bad input is a 4xx
 * problem and changes nothing; with no Redis the answer says the change applies to this process only.
 */
export function flagsSection(view: FlagsView): AdminSection {
  const router = express.Router();
  const { engine } = view;

  const findRoute = (name: string): RouteConfig => {
    const route = view.config().routes.find((r) => r.name === name);
    if (route === undefined) {
      const known = view.config().routes.map((r) => r.name);
      throw new SwitchyardError('SWITCHYARD_ADMIN_UNKNOWN_ROUTE', `no route named \`${name}\` (routes: ${known.join(', ') || 'none'})`, { status: 404 });
    }
    return route;
  };
  const rejected = (r: ChangeRejection): SwitchyardError =>
    r.status === 409 ? new SwitchyardError('SWITCHYARD_ADMIN_CONFLICT', `${r.field}: ${r.reason}`, { status: 409 }) : badAdminInput(r.field, r.reason);
  const scope = () => {
    const store = engine.store.status();
    return { scope: store.shared ? 'all-instances' : 'this-process', store: store.kind, note: store.note };
  };
  const apply = async (change: () => Promise<ChangeOutcome>): Promise<ChangeOutcome> => {
    try {
      return await change();
    } catch (error) {
      if (error instanceof RuntimeStoreUnavailableError) throw new SwitchyardError('SWITCHYARD_FLAGS_STORE_UNAVAILABLE', `${error.message}; nothing was changed`, { status: 503, cause: error });
      throw error;
    }
  };
  const killSwitch = () => engine.killSwitch();
  const routeState = (route: RouteConfig) => engine.routeState(route);

  router.get('/', (_req, res) => {
    const config = view.config();
    const status = engine.status();
    const state = engine.store.state();
    const known = new Set(config.routes.map((r) => r.name));
    res.json({
      flagVersion: config.version,
      runtimeVersion: state.version,
      killSwitch: killSwitch(),
      precedence: PRECEDENCE,
      ...scope(),
      runtimeStore: status.store,
      unleash: status.provider,
      missingFlags: engine.missingFlags(config),
      routes: config.routes.map(routeState),
      /** Overrides stored for routes that no longer exist in flags/ (kept, unused). */
      orphanOverrides: [...state.routes.keys()].filter((name) => !known.has(name)),
    });
  });

  router.get('/audit', async (req, res) => {
    const raw = req.query['limit'];
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badAdminInput('limit', 'must be an integer from 1 to 1000');
    let entries;
    try {
      entries = await engine.store.audit(limit);
    } catch (error) {
      if (error instanceof RuntimeStoreUnavailableError) throw new SwitchyardError('SWITCHYARD_FLAGS_STORE_UNAVAILABLE', error.message, { status: 503, cause: error });
      throw error;
    }
    res.json({ ...scope(), entries });
  });

  router.get('/routes/:route', (req, res) => {
    res.json(routeState(findRoute(req.params['route'] ?? '')));
  });

  router.put('/routes/:route', async (req, res) => {
    const route = findRoute(req.params['route'] ?? '');
    const valid = validateRouteChange(req.body, route, engine.store.state().routes.get(route.name) ?? null, actorOf(req));
    if (!valid.ok) throw rejected(valid);
    const outcome = await apply(() => engine.setRoute(route, valid.set, { ...valid.notes, at: new Date().toISOString() }));
    res.json({ changed: outcome.applied, ...scope(), audit: outcome.applied ? outcome.entry : null, route: routeState(route) });
  });

  router.delete('/routes/:route', async (req, res) => {
    const route = findRoute(req.params['route'] ?? '');
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badAdminInput('(body)', 'must be a JSON object (or empty)');
    const extra = Object.keys(body).filter((k) => k !== 'reason' && k !== 'by');
    if (extra.length > 0) throw badAdminInput(extra[0]!, 'unknown field (allowed: reason, by)');
    const notes = changeNotesOf(req, body as Record<string, unknown>);
    const outcome = await apply(() => engine.setRoute(route, null, { ...notes, at: new Date().toISOString() }));
    res.json({ changed: outcome.applied, ...scope(), audit: outcome.applied ? outcome.entry : null, route: routeState(route) });
  });

  router.put('/kill-switch', async (req, res) => {
    const valid = validateKillSwitchChange(req.body, actorOf(req));
    if (!valid.ok) throw rejected(valid);
    const outcome = await apply(() => engine.setKillSwitch(valid.on, { ...valid.notes, at: new Date().toISOString() }));
    const state = killSwitch();
    res.json({
      changed: outcome.applied,
      ...scope(),
      audit: outcome.applied ? outcome.entry : null,
      killSwitch: state,
      ...(state.env && !valid.on ? { warning: 'USE_LEGACY (or setKillSwitch) is on in this process: it always wins, so every route stays on legacy here' } : {}),
    });
  });

  return { name: 'flags', router };
}
