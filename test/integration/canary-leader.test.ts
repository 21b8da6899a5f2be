import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, runCli, type CliRun } from '../support/cli-process.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { adminClient, startTraffic, story, usersCanaryFlags, waitFor } from '../support/canary-harness.js';

/**
 * Proof 6: two real Switchyard processes (the CLI) share a private Redis; the one driving the
 * autopilot is SIGKILLed mid-run; the other takes the lease over once it expires and continues
 * the same run from the same step (stored state: stage, sequential tests), to the end.
 */
const ADMIN = 'canary-leader-token-0123456789';
let flask: LegacyServer;
let redis: RedisServer;
let dir: string;

const flags = () =>
  usersCanaryFlags(
    flask.url,
    `interval: 200ms
    shadowFirst: { percentage: 100, minCompared: 30, bake: 300ms }
    steps: [10, 50, 100]
    bake: 2s
    minRequests: 30
    inconclusive: { extendBakes: 1000 }`,
    '{ tickMs: 100, leaseMs: 1500 }',
  );

interface Instance {
  readonly cli: CliRun;
  readonly url: string;
}

async function serve(): Promise<Instance> {
  const cli = runCli(['--flags', dir, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'test/support/canary-handlers.ts')], { REDIS_URL: redis.url, SWITCHYARD_ADMIN_TOKEN: ADMIN, SWITCHYARD_LOG_LEVEL: 'info' });
  let url = '';
  await waitFor(() => Promise.resolve((url = /listening on (http:\/\/[\d.:]+) /.exec(cli.stdout())?.[1] ?? '')), (u) => u !== '', 20_000, () => cli.stdout() + cli.stderr());
  return { cli, url };
}

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2, threads: 4 }), startRedis()]);
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-canary-'));
  await writeFile(path.join(dir, 'routes.yaml'), flags());
});
after(async () => {
  await Promise.all([flask.stop(), redis.stop(), rm(dir, { recursive: true, force: true })]);
});

describe('autopilot across two processes', () => {
  it('6. the leader is killed mid-run: the other instance takes over and continues from the same step', async () => {
    const first = await serve();
    const second = await serve();
    const live = [first, second];
    const traffic = startTraffic(() => live[Math.floor(Math.random() * live.length)]!.url, () => `/users/${1 + Math.floor(Math.random() * 500)}`, { concurrency: 4, maxMs: 90_000 });
    try {
      const api = (i: Instance) => adminClient(i.url, ADMIN);
      const started = await api(second).control('users', 'start', { reason: 'two-process migration', by: 'alice' });
      assert.equal(started.status, 200, JSON.stringify(started.body));
      // Mid-run: at the 10% step (its bake is 2 s, so the leader is killed inside it).
      const atStep = await waitFor(() => api(second).run('users'), (r) => r?.stage.percentage === 10, 30_000, story);
      const leaderId = atStep!.leader ?? '';
      const leader = live.find((i) => leaderId.startsWith(`${i.cli.pid}-`));
      assert.ok(leader !== undefined, `leader ${leaderId} is one of ${live.map((i) => i.cli.pid).join(', ')}`);
      const survivor = live.find((i) => i !== leader)!;
      leader.cli.signal('SIGKILL');
      live.splice(live.indexOf(leader), 1);
      await leader.cli.done;

      // Taken over once the lease (1.5 s) expires; the run is the same one, at the same step.
      const taken = await waitFor(() => api(survivor).run('users'), (r) => r !== null && r.leader !== null && r.leader !== leaderId, 15_000, story);
      assert.ok(taken!.leader?.startsWith(`${survivor.cli.pid}-`), story(taken));
      assert.equal(taken!.runId, atStep!.runId);
      assert.ok(taken!.stage.index >= atStep!.stage.index, story(taken));
      assert.match(survivor.cli.stdout(), /canary: this instance \(\d+-\w+\) now drives the autopilot/);

      const done = await waitFor(() => api(survivor).run('users'), (r) => r?.status !== 'running', 60_000, story);
      assert.equal(done!.status, 'done', story(done));
      assert.equal(done!.runId, atStep!.runId);
      // One run from start to end: a single start, each stage entered once, none repeated after the takeover.
      assert.deepEqual(done!.events.map((e) => `${e.action}:${e.to.percentage}`), ['start:0', 'promote:10', 'promote:50', 'done:100'], story(done));
      assert.ok(done!.evaluations.some((e) => e.stage.percentage >= 10), 'evaluations after the takeover are stored with the same run');
    } finally {
      await traffic.stop();
      for (const i of live) i.cli.signal('SIGTERM');
      await Promise.all(live.map((i) => i.cli.done));
    }
  });
});
