/**
 * Short cases of `npm run chaos`: one of the two Switchyard processes dies (SIGKILL) or is
 * stopped (SIGTERM) under steady load, and a live flags/ edit. The load generator balances like
 * the compose nginx (a refused or broken connection is retried once on the other instance), so
 * the bar is the same: nothing lost, nothing misrouted, no error a client could see.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '../support/cli-process.js';
import { assertNothingLostOrMisrouted, chaosSuite, shortScenario } from '../support/chaos-assertions.js';

describe('chaos: Switchyard instances stopping and flags changing under load', { timeout: 170_000 }, () => {
  const { run, cluster } = chaosSuite();

  it('one instance SIGKILLed: the other serves everything, the restarted one rejoins', async () => {
    const result = await run(shortScenario('one Switchyard SIGKILLed', 2_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
    assert.ok(result.retriedBy['ECONNREFUSED']! > 0, 'the balancer saw the dead instance refuse connections');
    const lastRetry = Math.max(...result.outcomes.filter((o) => o.retried).map((o) => o.sentAt));
    assert.equal(new Set(result.outcomes.filter((o) => o.sentAt > lastRetry).map((o) => o.instance)).size, 2, 'the restarted instance serves again');
    // The autopilot's lease ends up with a live process (the survivor, or the restarted one).
    assert.ok(await eventually(async () => (await cluster().leaderInstance()) !== null, 15_000), result.notes.join('; '));
  });

  it('SIGTERM under load: in-flight requests finish, no connection is cut under a request', async () => {
    const result = await run(shortScenario('one Switchyard SIGTERMed', 2_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
    // Only refusals (the listener closed), never resets of a request already sent on an open connection.
    assert.deepEqual(Object.keys(result.retriedBy).filter((why) => why !== 'ECONNREFUSED' && why !== 'SWITCHYARD_STARTING'), []);
  });

  it('an invalid flags/ edit changes nothing; the valid one after it moves `toggle` to new on both instances', async () => {
    const result = await run(shortScenario('flags/ edit', 2_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
    const toggles = result.outcomes.filter((o) => o.kind === 'toggle');
    assert.equal(toggles.at(-1)?.backend, 'new');
    assert.ok(toggles.some((o) => o.backend === 'legacy'));
    assert.match(cluster().capturedOutput(), /flags reload rejected; version \w+ stays in force:\\n {2}- \S+routes\.yaml:5: routes\[0\]\.mode: must be one of/, 'the rejected edit was logged (a JSON line), file:line:field');
  });
});
