/**
 * Short cases of `npm run chaos` (bench/chaos/): steady load through two real Switchyard
 * processes sharing a private Redis in front of gunicorn Flask, while a dependency fails. The
 * assertions are outcomes, never timings: nothing lost, nothing misrouted (decision headers
 * against gunicorn's access log, the new service's records and Flask's own counters), and every
 * error a client saw is the documented one for that fault.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTokenSecrecy } from '../../bench/chaos/token-probe.js';
import { assertNothingLostOrMisrouted, chaosSuite, shortScenario } from '../support/chaos-assertions.js';

describe('chaos: dependencies failing under load (two Switchyard processes, Redis, gunicorn)', { timeout: 170_000 }, () => {
  const { cluster, run } = chaosSuite();

  it('Redis SIGKILLed and restarted: every request answered 200, cache, shadow and flags carry on', async () => {
    const result = await run(shortScenario('Redis SIGKILL', 3_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
  });

  it('Redis hung (SIGSTOP): still every request 200', async () => {
    const result = await run(shortScenario('Redis SIGSTOP', 3_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
  });

  it('gunicorn SIGKILLed: cached routes serve stale, other legacy routes 502 problem+json, new routes untouched', async () => {
    const result = await run(shortScenario('legacy gunicorn SIGKILLed', 3_000));
    assertNothingLostOrMisrouted(result);
    const failed = result.outcomes.filter((o) => o.status !== 200);
    assert.ok(failed.length > 0, 'the dead legacy app was visible on its uncached routes');
    for (const o of failed) assert.equal(o.backend, 'legacy', `#${o.id} ${o.path}: ${o.status} ${o.error}`);
    assert.ok(failed.every((o) => o.kind !== 'cached' && o.kind !== 'hello'));
    assert.ok(result.outcomes.some((o) => o.kind === 'cached' && o.cache === 'STALE'), 'stale entries were served while legacy was down');
  });

  it('the shadow side answering garbage: clients never notice', async () => {
    const result = await run(shortScenario('shadow side answering garbage', 3_000));
    assertNothingLostOrMisrouted(result);
    assert.deepEqual(Object.keys(result.figures.byStatus), ['200']);
  });

  it('after the faults: no token, right or wrong, in either instance’s whole output or in any admin answer', async () => {
    const secrecy = await checkTokenSecrecy(cluster());
    assert.ok(secrecy.probes >= 20 && secrecy.scannedBytes > 10_000, JSON.stringify({ probes: secrecy.probes, bytes: secrecy.scannedBytes }));
    // The probes reached what they aim at: wrong tokens refused, the viewer refused a control, the rest answered.
    assert.equal(secrecy.statuses.length, secrecy.probes);
    const perInstance = secrecy.probes / cluster().urls.length;
    assert.deepEqual(secrecy.statuses, secrecy.statuses.map((_, i) => (i % perInstance < 3 ? 403 : 200)));
    assert.deepEqual(secrecy.leaks, []);
  });
});
