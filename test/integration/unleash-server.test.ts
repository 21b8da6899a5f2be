// Unleash as the flag source, against a REAL unleash-server 6.4.1 (test-only install in
// test/unleash-server) on the PostgreSQL at 127.0.0.1:5432, with a real gunicorn Flask as the
// legacy side. Flags and strategies are created through Unleash's Admin API; Switchyard must
// follow them within the refresh interval, keep its decisions when Unleash dies, reproduce them
// from the backup file alone after a restart, and fall back to flags/ when there is no state.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import type { UnleashOptions } from '../../src/flags/unleash-options.js';
import { freePort, startFlask, type JsonResult, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';
import { disagreements, expectedSides, sidesFor, within, type Side } from '../support/unleash-decisions.js';
import { startUnleashServer, type UnleashTestServer } from '../support/unleash-server.js';

const ADMIN = 'admin-token-0123456789abcdef';
const REFRESH_MS = 500;
const APP = 'switchyard-it';
const USERS = Array.from({ length: 200 }, (_, i) => `user-${i}-${(i * 7919) % 1009}`);
// Time from the Admin API call to Switchyard following it: Switchyard applies the first poll
// that brings the change, so one refresh interval — plus Unleash's own delay: the server moves
// the revision behind its ETag once a second (updateMaxRevisionId), and until then answers a
// poll with 304 — plus 1 s of slack for a loaded 2-core CI machine.
const UNLEASH_REVISION_TICK_MS = 1000;
const FOLLOW_BUDGET_MS = REFRESH_MS + UNLEASH_REVISION_TICK_MS + 1000;

const flags = (flaskUrl: string) => `
upstreams:
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
    flag: greeting-v2
`;

describe('Unleash as the flag source (real unleash-server on PostgreSQL)', { timeout: 600_000 }, () => {
  let unleash: UnleashTestServer;
  let flask: LegacyServer;
  let backupDir: string;
  let sy: Listening;
  let strategyId: string;
  const logger = captureLogger();
  const impressions: Record<string, unknown>[] = [];
  const timings: Record<string, number> = {};

  const unleashOptions = (over: Partial<UnleashOptions> = {}): UnleashOptions => ({
    url: unleash.url,
    apiToken: unleash.clientToken,
    appName: APP,
    environment: unleash.environment,
    backupDir,
    refreshIntervalMs: REFRESH_MS,
    metricsIntervalMs: 1000,
    startupTimeoutMs: 15_000,
    ...over,
  });
  const start = (over: Partial<UnleashOptions> = {}, log = captureLogger()) =>
    listen({ flags: flagsText(flags(flask.url)), handlers, logger: log, adminToken: ADMIN, runtimeFlags: { redisUrl: null }, unleash: unleashOptions(over) });
  const usersView = async (l: Listening) => {
    const res = await fetch(`${l.url}/_switchyard/flags/routes/users`, { headers: { authorization: `Bearer ${ADMIN}` } });
    return (await res.json()) as { source: string; mode: string; percentage: number | null; layers: { unleash: unknown } };
  };
  const flagsView = async (l: Listening) => (await (await fetch(`${l.url}/_switchyard/flags`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as Record<string, JsonResult>;
  const sides = (l: Listening = sy) => sidesFor(l.url, '/flask/users/7', USERS);
  const all = (side: Side) => new Map(USERS.map((u) => [u, side]));

  before(async () => {
    const t0 = performance.now();
    [unleash, flask] = await Promise.all([startUnleashServer(), startFlask({ workers: 2 })]);
    timings['unleash server start (ms)'] = Math.round(performance.now() - t0);
    backupDir = await mkdtemp(join(tmpdir(), 'switchyard-unleash-it-'));
    await unleash.admin.createFlag('users', { impressionData: true });
    strategyId = await unleash.admin.addFlexibleRollout('users', { percentage: 0 });
    await unleash.admin.enable('users');
    const t1 = performance.now();
    sy = await start({ onImpression: (e) => impressions.push(e) }, logger);
    timings['switchyard start, first sync (ms)'] = Math.round(performance.now() - t1);
  });

  after(async () => {
    await sy?.close();
    await Promise.allSettled([unleash?.stop(), flask?.stop()]);
    if (backupDir) await rm(backupDir, { recursive: true, force: true });
    // Printed for the record (node:test shows diagnostics in its report).
    process.stdout.write(`# unleash timings: ${JSON.stringify(timings)}\n`);
  });

  it('starts synchronized with Unleash and reports the route whose flag does not exist', async () => {
    const view = await flagsView(sy);
    assert.equal(view['unleash'].state, 'synchronized');
    assert.deepEqual(view['missingFlags'], [{ route: 'greeting', flag: 'greeting-v2' }]);
    assert.ok(logger.lines.some((l) => /unleash: 1 route has no flag there and uses its flags\/ mode: greeting \(flag `greeting-v2`\)/.test(l)), logger.lines.join('\n'));
    // …and that route keeps its flags/ mode (new).
    const greeting = await fetch(`${sy.url}/flask/hello`);
    assert.equal(greeting.headers.get('x-switchyard-backend'), 'new');
  });

  it('0% → every user on legacy', async () => {
    const view = await usersView(sy);
    assert.deepEqual([view.source, view.mode, view.percentage], ['unleash', 'rollout', 0]);
    assert.deepEqual(disagreements(await sides(), all('legacy')), []);
  });

  it('25% → exactly the users the local bucketing picks, within the refresh interval', async () => {
    await unleash.admin.updateFlexibleRollout('users', strategyId, { percentage: 25 });
    timings['follow 0→25% (ms)'] = await within(FOLLOW_BUDGET_MS, async () => (await usersView(sy)).percentage === 25, 'Switchyard follows 25%');
    const actual = await sides();
    assert.deepEqual(disagreements(actual, expectedSides(USERS, 'users', 25)), []);
    const onNew = [...actual.values()].filter((s) => s === 'new').length;
    assert.ok(onNew > 20 && onNew < 80, `${onNew} of ${USERS.length} on new`);
  });

  it('100% → every user on new', async () => {
    await unleash.admin.updateFlexibleRollout('users', strategyId, { percentage: 100 });
    timings['follow 25→100% (ms)'] = await within(FOLLOW_BUDGET_MS, async () => (await usersView(sy)).mode === 'new', 'Switchyard follows 100%');
    assert.deepEqual(disagreements(await sides(), all('new')), []);
  });

  it('toggled off → every user on legacy', async () => {
    await unleash.admin.disable('users');
    timings['follow off (ms)'] = await within(FOLLOW_BUDGET_MS, async () => (await usersView(sy)).mode === 'legacy', 'Switchyard follows off');
    assert.deepEqual(disagreements(await sides(), all('legacy')), []);
    await unleash.admin.enable('users');
    await unleash.admin.updateFlexibleRollout('users', strategyId, { percentage: 25 });
    timings['follow on at 25% (ms)'] = await within(FOLLOW_BUDGET_MS, async () => (await usersView(sy)).percentage === 25, 'Switchyard follows on at 25%');
  });

  it('passes impression data on, and Unleash sees the usage metrics', async () => {
    await sides();
    assert.ok(impressions.some((e) => e['featureName'] === 'users'), `impressions: ${impressions.length}`);
    const metricsSeen = await within(20_000, async () => {
      const apps = (await unleash.admin.call('GET', '/metrics/applications')) as { applications: { appName: string }[] };
      const feature = (await unleash.admin.call('GET', '/client-metrics/features/users')) as { seenApplications?: string[] };
      return apps.applications.some((a) => a.appName === APP) && (feature.seenApplications ?? []).includes(APP);
    }, 'Unleash shows the app and its usage of `users`');
    timings['metrics visible in Unleash (ms)'] = metricsSeen;

    // Both can be turned off: an instance with metrics and impressions off never shows up.
    const quietApp = `${APP}-quiet`;
    const seen: unknown[] = [];
    const quiet = await start({ appName: quietApp, metrics: false, impressions: false, onImpression: (e) => seen.push(e) });
    try {
      assert.deepEqual(disagreements(await sides(quiet), expectedSides(USERS, 'users', 25)), []);
      await new Promise((r) => setTimeout(r, 2500)); // more than two metrics intervals of the other instance
      const apps = (await unleash.admin.call('GET', '/metrics/applications')) as { applications: { appName: string }[] };
      const feature = (await unleash.admin.call('GET', '/client-metrics/features/users')) as { seenApplications?: string[] };
      assert.ok(!apps.applications.some((a) => a.appName === quietApp), JSON.stringify(apps.applications));
      assert.ok(!(feature.seenApplications ?? []).includes(quietApp));
      assert.equal(seen.length, 0);
    } finally {
      await quiet.close();
    }
  });

  it('Unleash killed mid-run: decisions stay on the last known state', async () => {
    const beforeKill = await sides();
    assert.deepEqual(disagreements(beforeKill, expectedSides(USERS, 'users', 25)), []);
    await unleash.kill();
    // The client retries a refused connection for ~3 s before it reports the failure.
    timings['stale after kill (ms)'] = await within(15_000, async () => (await flagsView(sy))['unleash'].state === 'stale', 'Switchyard notices Unleash is gone');
    assert.deepEqual(disagreements(await sides(), beforeKill), []);
    const view = await usersView(sy);
    assert.deepEqual([view.source, view.percentage], ['unleash', 25]);
  });

  it('restarted with only the backup file (Unleash still down): the same decisions', async () => {
    const files = await readdir(backupDir);
    assert.ok(files.includes(`unleash-backup-${APP}.json`), files.join(', '));
    await sy.close();
    const log = captureLogger();
    const seen: unknown[] = [];
    const t0 = performance.now();
    // Impressions off this time: the flag still asks for them, none may be passed on.
    sy = await start({ startupTimeoutMs: 1500, impressions: false, metrics: false, onImpression: (e) => seen.push(e) }, log);
    timings['restart from backup (ms)'] = Math.round(performance.now() - t0);
    assert.ok(log.lines.some((l) => /serving its last known flags from the backup file/.test(l)), log.lines.join('\n'));
    assert.equal((await flagsView(sy))['unleash'].state, 'backup');
    assert.deepEqual(disagreements(await sides(), expectedSides(USERS, 'users', 25)), []);
    assert.equal(seen.length, 0);
  });

  it('absent at start with no state: the flags/ modes serve after the bounded wait', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'switchyard-unleash-none-'));
    const log = captureLogger();
    const deadPort = await freePort();
    const t0 = performance.now();
    const l = await start({ url: `http://127.0.0.1:${deadPort}/api/`, backupDir: empty, startupTimeoutMs: 1000 }, log);
    const waited = Math.round(performance.now() - t0);
    timings['start with Unleash absent (ms)'] = waited;
    try {
      assert.ok(waited >= 900 && waited < 5000, `waited ${waited} ms`);
      assert.ok(log.lines.some((l2) => /unleash: no answer within 1000 ms.*no backup; every route uses its flags\/ mode/.test(l2)), log.lines.join('\n'));
      assert.deepEqual(disagreements(await sides(l), all('legacy')), []); // users: mode legacy in flags/
      assert.equal((await fetch(`${l.url}/flask/hello`)).headers.get('x-switchyard-backend'), 'new');
      const view = await usersView(l);
      assert.deepEqual([view.source, view.layers.unleash], ['file', 'no-state']);
    } finally {
      await l.close();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
