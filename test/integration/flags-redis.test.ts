// Runtime flag changes shared through Redis by two Switchyard PROCESSES: this test process and
// the real CLI (src/main.ts) in a child process, both on a private redis-server, with a real
// gunicorn Flask as the legacy side. A change on one is applied by the other within 1 s, the
// audit log has one entry per change, a restart keeps the change, bad input changes nothing,
// and a Redis outage keeps the last known state (and refuses changes).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { handlers } from '../../examples/new-handlers.js';
import { startFlask, type JsonResult, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';
import { disagreements, expectedSides, sidesFor, within, type Side } from '../support/unleash-decisions.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADMIN = 'admin-token-0123456789abcdef';
const NAMESPACE = 'flags-it';
const USERS = Array.from({ length: 120 }, (_, i) => `member-${i}`);
const APPLY_BUDGET_MS = 1000;

const flags = (flaskUrl: string) => `upstreams:
  flask: { url: "${flaskUrl}", maxInFlight: 4 }
routes:
  - name: users
    path: /flask/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: legacy
  - name: greeting
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
`;

interface Instance {
  readonly url: string;
  close(): Promise<void>;
}

describe('runtime flags shared through Redis by two Switchyard processes', { timeout: 300_000 }, () => {
  let redis: RedisServer;
  let flask: LegacyServer;
  let dir: string;
  let backupDir: string;
  let a: Listening;
  let b: Instance;
  const timings: Record<string, number> = {};

  const startInProcess = (log = captureLogger()) =>
    listen({ flags: flagsText(flags(flask.url)), handlers, logger: log, adminToken: ADMIN, unleash: null, runtimeFlags: { redisUrl: redis.url, namespace: NAMESPACE, backupDir } });

  /** The real CLI in a child process: REDIS_URL and the rest from its environment. */
  async function startCli(): Promise<Instance> {
    const child: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), '--flags', dir, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'examples/new-handlers.ts')],
      {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL: redis.url, SWITCHYARD_FLAGS_NAMESPACE: NAMESPACE, SWITCHYARD_ADMIN_TOKEN: ADMIN, SWITCHYARD_BACKUP_DIR: backupDir, SWITCHYARD_WATCH: 'false', SWITCHYARD_LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let url = '';
    await within(30_000, () => {
      if (child.exitCode !== null) throw new Error(`switchyard CLI exited: ${out}`);
      url = /listening on (http:\/\/\S+)/.exec(out)?.[1] ?? '';
      return url !== '';
    }, `CLI start-up:\n${out}`);
    return {
      url,
      close: async () => {
        if (child.exitCode === null) child.kill('SIGTERM');
        await exited;
      },
    };
  }

  const admin = (base: string, method: string, p: string, body?: unknown) =>
    fetch(`${base}/_switchyard/flags${p}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = async (res: Response): Promise<Record<string, JsonResult>> => (await res.json()) as Record<string, JsonResult>;
  const sideOf = async (base: string, user = 'member-1'): Promise<Side> => (await sidesFor(base, '/flask/users/7', [user], 1)).get(user)!;
  const shared = async (base: string) => {
    const view = await json(await admin(base, 'GET', ''));
    const audit = await json(await admin(base, 'GET', '/audit'));
    return { version: view['runtimeVersion'], killSwitch: view['killSwitch'], routes: (view['routes'] as Record<string, unknown>[]).map((r) => [r['name'], r['mode'], r['percentage'], r['source']]), audit: audit['entries'] };
  };

  before(async () => {
    [redis, flask] = await Promise.all([startRedis(), startFlask({ workers: 2 })]);
    dir = await mkdtemp(path.join(tmpdir(), 'switchyard-flags-redis-'));
    backupDir = await mkdtemp(path.join(tmpdir(), 'switchyard-flags-backup-'));
    await writeFile(path.join(dir, 'routes.yaml'), flags(flask.url));
    [a, b] = await Promise.all([startInProcess(), startCli()]);
  });

  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    await Promise.allSettled([redis?.stop(), flask?.stop()]);
    await Promise.allSettled([dir && rm(dir, { recursive: true, force: true }), backupDir && rm(backupDir, { recursive: true, force: true })]);
    process.stdout.write(`# redis flag timings: ${JSON.stringify(timings)}\n`);
  });

  it('a start against a healthy Redis logs no Redis error (no false "Stream isn\'t writeable" alarm)', async () => {
    for (let i = 0; i < 5; i++) {
      const log = captureLogger();
      const extra = await startInProcess(log);
      await extra.close();
      assert.ok(!log.lines.some((l) => /Redis error|isn't writeable/.test(l)), log.lines.join('\n'));
      assert.ok(log.lines.some((l) => /runtime flags: Redis at /.test(l)), log.lines.join('\n'));
    }
  });

  it('both say changes reach every instance', async () => {
    for (const base of [a.url, b.url]) {
      const view = await json(await admin(base, 'GET', ''));
      assert.equal(view['scope'], 'all-instances');
      assert.equal(view['runtimeStore'].kind, 'redis');
      assert.equal(view['runtimeStore'].connected, true);
    }
    assert.equal(await sideOf(a.url), 'legacy');
    assert.equal(await sideOf(b.url), 'legacy');
  });

  it('a change on one process is applied by the other within 1 s, with one audit entry', async () => {
    const res = await admin(b.url, 'PUT', '/routes/users', { mode: 'new', by: 'carol', reason: 'canary' });
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal((await json(res))['scope'], 'all-instances');
    timings['B→A mode new (ms)'] = await within(APPLY_BUDGET_MS, async () => (await sideOf(a.url)) === 'new', 'A applies B’s change');

    const put = await admin(a.url, 'PUT', '/routes/users', { percentage: 25, by: 'dave', reason: 'step 2' });
    assert.equal(put.status, 200);
    timings['A→B 25% (ms)'] = await within(APPLY_BUDGET_MS, async () => {
      const view = await json(await admin(b.url, 'GET', '/routes/users'));
      return view['percentage'] === 25;
    }, 'B applies A’s change');
    assert.deepEqual(disagreements(await sidesFor(b.url, '/flask/users/7', USERS), expectedSides(USERS, 'users', 25)), []);
    assert.deepEqual(disagreements(await sidesFor(a.url, '/flask/users/7', USERS), expectedSides(USERS, 'users', 25)), []);

    const fromA = await shared(a.url);
    const fromB = await shared(b.url);
    assert.deepEqual(fromA, fromB);
    const entries = fromA.audit as Record<string, JsonResult>[];
    assert.equal(entries.length, 2);
    assert.deepEqual(
      entries.map((e) => ({ by: e['by'], reason: e['reason'], target: e['target'], from: e['from'], to: e['to'], version: e['version'] })),
      [
        { by: 'carol', reason: 'canary', target: 'route:users', from: { mode: 'legacy', source: 'file' }, to: { mode: 'new', source: 'override' }, version: 1 },
        { by: 'dave', reason: 'step 2', target: 'route:users', from: { mode: 'new', source: 'override', by: 'carol', at: entries[0]?.['at'] }, to: { mode: 'rollout', percentage: 25, source: 'override' }, version: 2 },
      ],
    );
  });

  it('the kill switch flipped on one process applies on the other within 1 s', async () => {
    assert.equal((await admin(a.url, 'PUT', '/kill-switch', { on: true, by: 'oncall', reason: 'incident' })).status, 200);
    timings['A→B kill switch on (ms)'] = await within(APPLY_BUDGET_MS, async () => (await fetch(`${b.url}/flask/hello`)).headers.get('x-switchyard-backend') === 'legacy', 'B goes legacy');
    assert.deepEqual(disagreements(await sidesFor(b.url, '/flask/users/7', USERS), new Map<string, Side>(USERS.map((u) => [u, 'legacy']))), []);
    assert.equal((await admin(b.url, 'PUT', '/kill-switch', { on: false, by: 'oncall', reason: 'resolved' })).status, 200);
    timings['B→A kill switch off (ms)'] = await within(APPLY_BUDGET_MS, async () => (await fetch(`${a.url}/flask/hello`)).headers.get('x-switchyard-backend') === 'new', 'A back to new');
    assert.equal(((await shared(a.url)).audit as unknown[]).length, 4);
  });

  it('bad input on either process changes nothing anywhere', async () => {
    const before = await shared(a.url);
    for (const [base, body] of [
      [a.url, { percentage: 101 }],
      [b.url, { percentage: '25' }],
      [a.url, { mode: 'sideways' }],
    ] as const) {
      const res = await admin(base, 'PUT', '/routes/users', body);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /problem\+json/);
    }
    assert.equal((await admin(b.url, 'PUT', '/routes/nope', { mode: 'new' })).status, 404);
    assert.equal((await fetch(`${a.url}/_switchyard/flags/routes/users`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"mode":"new"}' })).status, 401);
    assert.equal((await fetch(`${b.url}/_switchyard/flags/routes/users`, { method: 'PUT', headers: { authorization: 'Bearer wrong-token-0123456789', 'content-type': 'application/json' }, body: '{"mode":"new"}' })).status, 403);
    assert.deepEqual(await shared(a.url), before);
    assert.deepEqual(await shared(b.url), before);
  });

  it('a restart keeps the change (both processes)', async () => {
    await b.close();
    b = await startCli();
    assert.deepEqual(disagreements(await sidesFor(b.url, '/flask/users/7', USERS), expectedSides(USERS, 'users', 25)), []);
    await a.close();
    a = await startInProcess();
    const view = await json(await admin(a.url, 'GET', '/routes/users'));
    assert.deepEqual([view['mode'], view['percentage'], view['source'], view['by'], view['reason']], ['rollout', 25, 'override', 'dave', 'step 2']);
    assert.deepEqual(disagreements(await sidesFor(a.url, '/flask/users/7', USERS), expectedSides(USERS, 'users', 25)), []);
  });

  it('Redis down: decisions stay, changes are refused (503), a new instance starts from the backup', async () => {
    const expected = expectedSides(USERS, 'users', 25);
    await redis.kill();
    assert.deepEqual(disagreements(await sidesFor(a.url, '/flask/users/7', USERS), expected), []);
    const refused = await admin(a.url, 'PUT', '/routes/users', { mode: 'legacy', reason: 'redis is down' });
    assert.equal(refused.status, 503);
    assert.equal((await json(refused))['code'], 'SWITCHYARD_FLAGS_STORE_UNAVAILABLE');
    assert.deepEqual(disagreements(await sidesFor(b.url, '/flask/users/7', USERS), expected), []);

    const log = captureLogger();
    const c = await listen({ flags: flagsText(flags(flask.url)), handlers, logger: log, adminToken: ADMIN, unleash: null, runtimeFlags: { redisUrl: redis.url, namespace: NAMESPACE, backupDir, startupTimeoutMs: 500 } });
    try {
      assert.ok(log.lines.some((l) => /serving the last known runtime state from .*switchyard-runtime-flags-flags-it\.json/.test(l)), log.lines.join('\n'));
      assert.deepEqual(disagreements(await sidesFor(c.url, '/flask/users/7', USERS), expected), []);

      // Redis comes back (empty: this one keeps nothing on disk). Every instance reconnects and
      // re-subscribes by itself — including C, which has never reached it — and changes flow again.
      await redis.restart();
      let put: Response | undefined;
      timings['reconnect after Redis restart (ms)'] = await within(10_000, async () => {
        put = await admin(a.url, 'PUT', '/routes/users', { mode: 'new', by: 'erin', reason: 'after the outage' });
        return put.status === 200;
      }, 'A accepts changes again');
      timings['A→C after outage (ms)'] = await within(APPLY_BUDGET_MS, async () => (await sideOf(c.url)) === 'new', 'C applies a change made after the outage');
      await within(APPLY_BUDGET_MS, async () => (await sideOf(b.url)) === 'new', 'B applies it too');
    } finally {
      await c.close();
    }
  });
});
