/** Shared by the chaos-*.test.ts cases: a scenario of bench/chaos with a shorter fault, and the bar. */
import assert from 'node:assert/strict';
import { SCENARIOS, type Scenario, type ScenarioResult } from '../../bench/chaos/scenarios.js';

export function shortScenario(prefix: string, faultMs: number): Scenario {
  const scenario = SCENARIOS.find((s) => s.name.startsWith(prefix));
  if (scenario === undefined) throw new Error(`no chaos scenario starts with ${prefix}`);
  return { ...scenario, faultMs };
}

/** Zero lost, zero misrouted, every client-visible error the documented one for the fault, recovered. */
export function assertNothingLostOrMisrouted(result: ScenarioResult): void {
  const f = result.figures;
  assert.ok(f.sent > 0);
  assert.equal(f.lost, 0, `lost requests: ${JSON.stringify(f.byStatus)}`);
  assert.equal(f.misrouted, 0, f.misroutedExamples.join('\n'));
  assert.equal(f.unexpectedErrors, 0, `errors the fault does not document: ${JSON.stringify(f.errors.filter((e) => !e.expected))}`);
  assert.notEqual(f.recoveryMs, null, 'still failing when the run ended');
}
