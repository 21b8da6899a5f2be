import express from 'express';
import type { CanaryController } from '../canary/canary-controller.js';
import { CANARY_CONTROLS, type CanaryControl } from '../canary/canary-transitions.js';
import { readCanaryPolicy } from '../config/canary-policy.js';
import type { CanaryPolicy } from '../config/types.js';
import { SwitchyardError } from '../errors/switchyard-error.js';
import { badAdminInput, type AdminSection } from './admin-api.js';
import { changeNotesOf } from './change-notes.js';

/**
 * The migration autopilot (token-protected like the whole admin API):
 *
 * GET  /_switchyard/canary                   { scope: fleet|process, runs: CanaryRunView[] }
 * GET  /_switchyard/canary/:route            one run (404 SWITCHYARD_CANARY_NO_RUN when none)
 * POST /_switchyard/canary/:route/:control   start | pause | resume | promote | promote-full | abort | retry
 *                                            { reason, by?, policy? (start only) } → the updated run;
 *                                            409 SWITCHYARD_CANARY_CONFLICT when it does not apply now
 *
 * Types in src/canary/canary-run.ts. Controls are applied by the instance that takes them and
 * audited twice: in the run's events (who, why) and, when the percentage moves, in the flags
 * audit log (`by: autopilot`, the reason naming the person).
 */
export function canarySection(controller: CanaryController): AdminSection {
  const router = express.Router();

  router.get('/', async (_req, res) => {
    res.json(await controller.list());
  });

  router.get('/:route', async (req, res) => {
    res.json(await controller.get(req.params['route'] ?? ''));
  });

  router.post('/:route/:control', async (req, res) => {
    const control = req.params['control'] ?? '';
    if (!(CANARY_CONTROLS as readonly string[]).includes(control)) {
      throw new SwitchyardError('SWITCHYARD_ADMIN_NOT_FOUND', `no autopilot control \`${control}\` (controls: ${CANARY_CONTROLS.join(', ')})`, { status: 404 });
    }
    const body: unknown = req.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badAdminInput('(body)', 'must be a JSON object such as {"reason":"…","by":"alice"} (send Content-Type: application/json)');
    const fields = body as Record<string, unknown>;
    const allowed = control === 'start' ? ['reason', 'by', 'policy'] : ['reason', 'by'];
    const extra = Object.keys(fields).find((k) => !allowed.includes(k));
    if (extra !== undefined) throw badAdminInput(extra, `unknown field (allowed: ${allowed.join(', ')})`);
    const notes = changeNotesOf(req, fields);
    let policy: CanaryPolicy | undefined;
    if (fields['policy'] !== undefined) {
      const read = readCanaryPolicy(fields['policy']);
      if (!read.ok) throw badAdminInput(read.field, read.reason);
      policy = read.policy;
    }
    res.json(await controller.control(req.params['route'] ?? '', control as CanaryControl, { by: notes.by, reason: notes.reason }, policy));
  });

  return { name: 'canary', router };
}
