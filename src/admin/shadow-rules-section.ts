import express, { type Request } from 'express';
import { stringify } from 'yaml';
import type { FlagsConfig, RouteConfig } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { proposeIgnoreRules, type IgnoreProposal } from '../shadow/ignore-proposals.js';
import { RulesStoreUnavailableError, type IgnoreRuleChange, type RuntimeIgnoreRules } from '../shadow/ignore-rule-store.js';
import type { ShadowResultStore } from '../shadow/shadow-store.js';
import { badAdminInput, type AdminSection } from './admin-api.js';
import { changeNotesOf } from './change-notes.js';

/** Mismatch samples read to find what a field holds. */
const SAMPLES_FOR_PROPOSALS = 50;
const MAX_FIELD = 512;

/**
 * Runtime shadow ignore rules (token- or session-protected like the whole admin API):
 *
 * GET  /_switchyard/shadow-rules                        every shadowed route's rules: from flags/, approved, rejected
 * GET  /_switchyard/shadow-rules/proposals[?route=R]    proposed rules with their evidence
 * POST /_switchyard/shadow-rules/:route/approve         {field, reason, by?}: the differ ignores the field from now on
 * POST /_switchyard/shadow-rules/:route/reject          {field, reason, by?}: never proposed again
 * POST /_switchyard/shadow-rules/:route/withdraw        {field, reason, by?}: forget the decision
 * GET  /_switchyard/shadow-rules/audit?limit=N          the decisions, newest first
 * GET  /_switchyard/shadow-rules/export                 YAML to paste into flags/ (text/yaml)
 *
 * Every decision needs a reason (readNotes: 400 SWITCHYARD_ADMIN_BAD_INPUT naming `reason`, nothing decided).
 */
export function shadowRulesSection(rules: RuntimeIgnoreRules, results: ShadowResultStore, config: () => FlagsConfig): AdminSection {
  const router = express.Router();
  const store = rules.store;
  const shadowed = (): RouteConfig[] => config().routes.filter((r) => r.shadow !== undefined);
  const findShadowed = (name: string): RouteConfig & { shadow: NonNullable<RouteConfig['shadow']> } => {
    const route = config().routes.find((r) => r.name === name);
    if (route === undefined) throw new SwitchyardError('SWITCHYARD_ADMIN_UNKNOWN_ROUTE', `no route named \`${name}\``, { status: 404 });
    if (route.shadow === undefined) throw new SwitchyardError('SWITCHYARD_ADMIN_CONFLICT', `route \`${name}\` has no shadow block: there is nothing to ignore`, { status: 409 });
    return route as RouteConfig & { shadow: NonNullable<RouteConfig['shadow']> };
  };
  const scope = () => ({ scope: store.shared ? 'all-instances' : 'this-process', store: store.kind });
  const view = (r: RouteConfig) => ({ route: r.name, file: r.shadow?.ignore ?? [], approved: rules.approved(r.name), rejected: rules.rejected(r.name) });
  const proposalsFor = async (r: RouteConfig): Promise<IgnoreProposal[]> => {
    const { noiseRelativeThreshold: relative, noiseAbsoluteThreshold: absolute } = config().settings.shadow;
    const [counts, samples] = await Promise.all([results.counts(r.name), results.samples(r.name, SAMPLES_FOR_PROPOSALS)]);
    return proposeIgnoreRules({ counts, samples, thresholds: { relative, absolute }, ignored: [...(r.shadow?.ignore ?? []), ...rules.approved(r.name)], rejected: rules.rejected(r.name) });
  };

  router.get('/', (_req, res) => {
    res.json({ ...scope(), version: store.version(), routes: shadowed().map(view) });
  });

  router.get('/proposals', async (req, res) => {
    const name = req.query['route'];
    if (name !== undefined && typeof name !== 'string') throw badAdminInput('route', 'give it once');
    const routes = name === undefined ? shadowed() : [findShadowed(name)];
    res.json({ ...scope(), proposals: (await Promise.all(routes.map(proposalsFor))).flat() });
  });

  router.get('/audit', async (req, res) => {
    const raw = req.query['limit'];
    const limit = raw === undefined ? 100 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw badAdminInput('limit', 'must be an integer from 1 to 1000');
    res.json({ ...scope(), entries: await unavailableAs503(() => store.audit(limit)) });
  });

  router.get('/export', (_req, res) => {
    const routes = shadowed()
      .map(view)
      .filter((v) => v.approved.length > 0)
      .map((v) => ({ name: v.route, shadow: { ignore: [...v.file, ...v.approved.filter((f) => !v.file.includes(f))] } }));
    const header = '# Shadow ignore rules approved at runtime (GET /_switchyard/shadow-rules/export).\n# Merge each route\'s `shadow.ignore` into its entry in flags/ (the list holds the file\'s rules too).\n';
    res.type('text/yaml').send(header + stringify({ routes }));
  });

  const decide = (decision: IgnoreRuleChange['decision']) => async (req: Request<{ route: string }>, res: express.Response) => {
    const route = findShadowed(req.params['route'] ?? '');
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badAdminInput('(body)', 'must be a JSON object such as {"field":"/generated_at","reason":"…"}');
    const fields = body as Record<string, unknown>;
    const extra = Object.keys(fields).find((k) => !['field', 'reason', 'by'].includes(k));
    if (extra !== undefined) throw badAdminInput(extra, 'unknown field (allowed: field, reason, by)');
    const field = fields['field'];
    if (typeof field !== 'string' || !field.startsWith('/') || field.length > MAX_FIELD || hasControlCharacters(field)) {
      throw badAdminInput('field', `must be a JSON Pointer pattern such as /items/*/updated_at (at most ${MAX_FIELD} characters)`);
    }
    if (decision === 'approved' && route.shadow.ignore.includes(field)) throw new SwitchyardError('SWITCHYARD_ADMIN_CONFLICT', `${field} is already ignored by flags/`, { status: 409 });
    const notes = changeNotesOf(req, fields);
    const entry = await unavailableAs503(() => store.decide({ route: route.name, field, decision, by: notes.by, at: new Date().toISOString(), reason: notes.reason }));
    res.json({ ...scope(), audit: entry, rules: view(route) });
  };
  router.post('/:route/approve', decide('approved'));
  router.post('/:route/reject', decide('rejected'));
  router.post('/:route/withdraw', decide(null));
  return { name: 'shadow-rules', router };
}

function hasControlCharacters(text: string): boolean {
  return [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

async function unavailableAs503<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RulesStoreUnavailableError) throw new SwitchyardError('SWITCHYARD_RULES_STORE_UNAVAILABLE', `${error.message}; nothing was changed`, { status: 503, cause: error });
    throw error;
  }
}
