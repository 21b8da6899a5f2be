import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Request, Response } from 'express';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';
import { adminClient, startTraffic, story, usersCanaryFlags, waitFor } from '../support/canary-harness.js';
import type { CanaryRunView } from '../../src/canary/canary-run.js';

/**
 * Proof 7 and the admin API: two Switchyard instances sharing a private Redis (one leads), real
 * gunicorn Flask. A person's pause / resume / abort sent to the instance that does not lead is
 * honoured within one interval and audited (the run's events: who and why; the flags audit log:
 * by autopilot, naming the person); a human change of the flag, the kill switch and bad input.
 */
const ADMIN = 'canary-controls-token-0123456789';
let flask: LegacyServer;
let redis: RedisServer;
let a: Listening;
let b: Listening;
const INTERVAL_MS = 200;

const handlers = { user: (req: Request, res: Response) => void res.json({ id: Number(req.params['id']), name: `user-${String(req.params['id'])}`, source: 'flask' }) };

const flags = () =>
  usersCanaryFlags(
    flask.url,
    `interval: ${INTERVAL_MS}ms
    shadowFirst: { percentage: 100, minCompared: 20, bake: 200ms }
    steps: [10, 50, 100]
    bake: 1h
    minRequests: 20
    inconclusive: { extendBakes: 1000 }`,
    '{ tickMs: 50, leaseMs: 1000 }',
    `  - name: plain
    path: /hello
    legacy: { upstream: flask }
`,
  );

async function instance(name: string): Promise<Listening> {
  // Everything but the cache on the private Redis (README "Shared state").
  return listen({ flags: flagsText(flags()), handlers, adminToken: ADMIN, logger: captureLogger(), redis: redis.url, cache: { redisUrl: null },
    // Both instances and the traffic share this event loop: shadows must not be skipped as overloaded.
    shadow: { loopUtilization: () => 0 },
    outcomes: { instance: name, publishEveryMs: 100, windows: { bucketMs: 100 } },
    canary: { instance: name },
  });
}

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2, threads: 2 }), startRedis()]);
  a = await instance('instance-a');
  // a took the lease first (its tick runs at start): b never leads while a lives.
  await waitFor(() => adminClient(a.url, ADMIN).call('GET', '/canary'), (r) => r.status === 200, 5000);
  b = await instance('instance-b');
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([flask.stop(), redis.stop()]);
});

describe('autopilot controls (two instances, real Redis and Flask)', () => {
  it('7. pause / resume / abort through the instance that does not lead: honoured within one interval, audited', async () => {
    const viaB = adminClient(b.url, ADMIN);
    const viaA = adminClient(a.url, ADMIN);
    const traffic = startTraffic(a.url, () => `/users/${1 + Math.floor(Math.random() * 500)}`, { concurrency: 3, maxMs: 60_000 });
    try {
      const list = await viaB.call('GET', '/canary');
      assert.deepEqual(list.body, { scope: 'fleet', runs: [] });
      const started = await viaB.control('users', 'start', { reason: 'move users to the port', by: 'alice' });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      assert.equal(started.body.leader, 'instance-a');
      // The leader takes it from the shared store and promotes out of the shadow stage to the 10% step (bake 1h: it stays there).
      const atTen = await waitFor(() => viaA.run('users'), (r) => r?.setPercentage === 10, 20_000, story);
      assert.equal(atTen?.status, 'running');
      assert.equal(atTen?.actualPercentage, 10);
      assert.equal((await viaB.run('users'))?.actualPercentage, 10, 'every instance follows the runtime override');

      const paused = await viaB.control('users', 'pause', { reason: 'checking a dashboard', by: 'bob' });
      assert.equal(paused.status, 200);
      assert.equal(paused.body.status, 'paused');
      const evaluationsAtPause = (paused.body as CanaryRunView).evaluations.length;
      // Honoured: the leader's next evaluations (several intervals) leave a paused run alone.
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 3));
      const still = await viaA.run('users');
      assert.equal(still?.status, 'paused');
      assert.equal(still?.evaluations.length, evaluationsAtPause);

      const again = await viaB.control('users', 'pause', { reason: 'twice' });
      assert.equal(again.status, 409);
      assert.match(again.type, /application\/problem\+json/);
      assert.equal(again.body.code, 'SWITCHYARD_CANARY_CONFLICT');

      const resumed = await viaB.control('users', 'resume', { reason: 'dashboard fine', by: 'bob' });
      assert.equal(resumed.body.status, 'running');
      await waitFor(() => viaA.run('users'), (r) => (r?.evaluations.length ?? 0) > evaluationsAtPause, INTERVAL_MS * 10, story);

      const aborted = await viaB.control('users', 'abort', { reason: 'customer complaint', by: 'carol' });
      assert.equal(aborted.body.status, 'aborted');
      assert.equal(aborted.body.setPercentage, 0);
      await waitFor(() => viaA.run('users'), (r) => r?.actualPercentage === 0, INTERVAL_MS * 5, story);

      const run = (await viaA.run('users'))!;
      const humans = run.events.filter((e) => e.by !== 'autopilot').map((e) => [e.action, e.by, e.reason, e.to.status, e.to.percentage]);
      assert.deepEqual(humans, [
        ['start', 'alice', 'move users to the port', 'running', 0],
        ['pause', 'bob', 'checking a dashboard', 'paused', 10],
        ['resume', 'bob', 'dashboard fine', 'running', 10],
        ['abort', 'carol', 'customer complaint', 'aborted', 0],
      ]);
      const entries = await viaA.audit('users');
      assert.ok(entries.every((e) => e.by === 'autopilot'));
      assert.match(entries.at(-1)?.reason ?? '', /^abort by carol: customer complaint$/);
      assert.equal(entries.at(-1)?.to.percentage, 0);

      // Retry starts the stage again.
      const retried = await viaA.control('users', 'retry', { reason: 'fixed', by: 'carol' });
      assert.equal(retried.body.status, 'running');
    } finally {
      await traffic.stop();
    }
  });

  it("a human change of the route's flag pauses the run; so does the kill switch, which always wins", async () => {
    const api = adminClient(b.url, ADMIN);
    const current = await api.run('users');
    if (current?.status !== 'running') await api.control('users', current === null ? 'start' : current.status === 'paused' ? 'resume' : 'retry', { reason: 'again', by: 'alice' });
    const changed = await api.call('PUT', '/flags/routes/users', { percentage: 30, by: 'dave', reason: 'manual bump' });
    assert.equal(changed.status, 200);
    const paused = await waitFor(() => api.run('users'), (r) => r?.status === 'paused', INTERVAL_MS * 10, story);
    assert.match(paused?.reason ?? '', /dave changed the route's flag outside the autopilot \(rollout 30%: "manual bump"\)/);
    assert.equal(paused?.events.at(-1)?.by, 'dave');
    assert.equal(paused?.actualPercentage, 30, 'the human setting stays in force');

    await api.control('users', 'resume', { reason: 'autopilot takes over again', by: 'dave' });
    assert.equal((await api.call('PUT', '/flags/kill-switch', { on: true, by: 'erin', reason: 'incident' })).status, 200);
    const killed = await waitFor(() => api.run('users'), (r) => r?.status === 'paused', INTERVAL_MS * 10, story);
    assert.match(killed?.reason ?? '', /kill switch is on/);
    assert.equal(killed?.actualPercentage, 0);
    const refused = await api.control('users', 'resume', { reason: 'try' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.detail, /kill switch/);
    await api.call('PUT', '/flags/kill-switch', { on: false, by: 'erin', reason: 'over' });
  });

  it('bad input: unknown route 404, no run 404 with its own code, unknown control 404, missing reason 400, bad policy 400, token needed', async () => {
    const api = adminClient(a.url, ADMIN);
    const unknown = await api.call('GET', '/canary/nope');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.code, 'SWITCHYARD_ADMIN_UNKNOWN_ROUTE');
    const none = await api.call('GET', '/canary/plain');
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'SWITCHYARD_CANARY_NO_RUN');
    assert.match(none.type, /application\/problem\+json/);
    assert.equal((await api.control('users', 'explode', { reason: 'x' })).status, 404);
    const noReason = await api.control('users', 'pause', {});
    assert.equal(noReason.status, 400);
    assert.match(noReason.body.detail, /^reason: /);
    const extra = await api.control('users', 'pause', { reason: 'x', policy: {} });
    assert.equal(extra.status, 400);
    assert.match(extra.body.detail, /^policy: unknown field/);
    const onePlain = await api.control('plain', 'start', { reason: 'x' });
    assert.equal(onePlain.status, 409, 'a route with one side cannot be driven');
    const badPolicy = await api.control('users', 'start', { reason: 'x', policy: { steps: [50, 10] } });
    assert.equal(badPolicy.status, 400);
    assert.match(badPolicy.body.detail, /^policy\.steps\.1: steps must increase/);
    const badBake = await api.control('users', 'start', { reason: 'x', policy: { bake: 'soon' } });
    assert.match(badBake.body.detail, /^policy\.bake: must match pattern/);
    const anonymous = await fetch(`${a.url}/_switchyard/canary`);
    assert.equal(anonymous.status, 401);
  });
});
