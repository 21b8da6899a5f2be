/** Shared by the chaos-*.test.ts cases: a scenario of bench/chaos with a shorter fault, and the bar. */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ChaosCluster } from '../../bench/chaos/cluster.js';
import { runScenario, SCENARIOS, type Scenario, type ScenarioResult } from '../../bench/chaos/scenarios.js';

/** Rate of the short cases: low enough for a busy 2-core machine, high enough to overlap every fault. */
const RATE = 60;

/**
 * Inside a `describe`: one ChaosCluster for the suite (started before, stopped after) and `run`,
 * which drives a scenario at RATE with request ids that never repeat across the suite's runs.
 */
export function chaosSuite(): { readonly cluster: () => ChaosCluster; readonly run: (scenario: Scenario) => Promise<ScenarioResult> } {
  let cluster: ChaosCluster | undefined;
  let nextId = 1;
  before(async () => {
    cluster = await ChaosCluster.start({ unleash: false, legacyResponseTimeoutMs: 5_000 });
  });
  after(async () => {
    await cluster?.stop();
  });
  const started = (): ChaosCluster => {
    if (cluster === undefined) throw new Error('the chaos cluster has not started');
    return cluster;
  };
  return {
    cluster: started,
    run: async (scenario) => {
      const result = await runScenario(started(), scenario, { perSecond: RATE, firstId: nextId, beforeMs: 1_500, afterMs: 2_500 });
      nextId += result.outcomes.length + 1_000;
      return result;
    },
  };
}

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
