// The Unleash provider with no server reachable: it serves the client's backup file (last known
// flags) — strategies, constraints, segments and variants evaluated by unleash-client itself —
// and with no backup, start-up waits a bounded time and then every route uses its flags/ mode.
// (The same paths against a real Unleash server: test/integration/unleash-server.test.ts.)
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import { createSwitchyard } from '../../src/app.js';
import { inRollout, rolloutBucket } from '../../src/flags/bucketing.js';
import { UnleashFlagProvider, describeDefinition, sideOfVariant } from '../../src/flags/unleash-provider.js';
import { readUnleashEnv } from '../../src/flags/unleash-options.js';
import { captureLogger } from '../support/switchyard-harness.js';

const DEAD_URL = 'http://127.0.0.1:9/api/';
const APP = 'switchyard-unit';

const rollout = (percentage: number, groupId: string, extra: Record<string, unknown> = {}) => ({ name: 'flexibleRollout', parameters: { rollout: String(percentage), stickiness: 'userId', groupId }, constraints: [], ...extra });
const BACKUP = {
  version: 2,
  features: [
    { name: 'users', enabled: true, strategies: [rollout(25, 'users')], variants: [] },
    { name: 'tenant-gate', enabled: true, strategies: [rollout(100, 'tenant-gate', { constraints: [{ contextName: 'tenant', operator: 'IN', values: ['acme'], inverted: false, caseInsensitive: false }] })], variants: [] },
    { name: 'segmented', enabled: true, strategies: [{ name: 'default', parameters: {}, constraints: [], segments: [1] }], variants: [] },
    { name: 'picker', enabled: true, strategies: [{ name: 'default', parameters: {}, constraints: [], variants: [{ name: 'legacy', weight: 1000, weightType: 'variable', stickiness: 'default' }] }], variants: [] },
    { name: 'off-flag', enabled: false, strategies: [{ name: 'default', parameters: {}, constraints: [] }], variants: [] },
    { name: 'vip', enabled: true, strategies: [{ name: 'userWithId', parameters: { userIds: 'u-1,u-2' }, constraints: [] }], variants: [] },
  ],
  segments: [{ id: 1, constraints: [{ contextName: 'tenant', operator: 'IN', values: ['globex'], inverted: false, caseInsensitive: false }] }],
};

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Unleash provider from its backup file (no server)', () => {
  let dir: string;
  let provider: UnleashFlagProvider;
  const logger = captureLogger();
  const ctx = (userId?: string, properties: Record<string, string> = {}) => ({ ...(userId === undefined ? {} : { userId }), properties: { path: '/x', method: 'GET', route: 'r', ...properties } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-unleash-backup-'));
    await writeFile(join(dir, `unleash-backup-${APP}.json`), JSON.stringify(BACKUP));
    provider = new UnleashFlagProvider({ url: DEAD_URL, appName: APP, backupDir: dir, refreshIntervalMs: 60_000, metrics: false }, logger);
    await until(() => provider.status().state === 'backup');
  });
  after(async () => {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('evaluates flexibleRollout exactly like local bucketing', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `user-${i}`);
    assert.deepEqual(ids.filter((id) => (provider.evaluate('users', ctx(id))?.side === 'new') !== inRollout(rolloutBucket('users', id), 25)), []);
  });

  it('constraints on context properties, segments, userId lists, variants, disabled and missing flags', () => {
    assert.deepEqual(provider.evaluate('tenant-gate', ctx('u', { tenant: 'acme' })), { side: 'new' });
    assert.deepEqual(provider.evaluate('tenant-gate', ctx('u', { tenant: 'initech' })), { side: 'legacy' });
    assert.deepEqual(provider.evaluate('segmented', ctx('u', { tenant: 'globex' })), { side: 'new' });
    assert.deepEqual(provider.evaluate('segmented', ctx('u', { tenant: 'acme' })), { side: 'legacy' });
    assert.deepEqual(provider.evaluate('vip', ctx('u-2')), { side: 'new' });
    assert.deepEqual(provider.evaluate('vip', ctx('u-3')), { side: 'legacy' });
    assert.deepEqual(provider.evaluate('picker', ctx('u')), { side: 'legacy', variant: 'legacy' });
    assert.deepEqual(provider.evaluate('off-flag', ctx('u')), { side: 'legacy' });
    assert.equal(provider.evaluate('orders', ctx('u')), null);
  });

  it('describes flags for people, and says it serves the backup', () => {
    assert.deepEqual(pick(provider.describe('users')), { mode: 'rollout', percentage: 25, enabled: true });
    assert.deepEqual(pick(provider.describe('off-flag')), { mode: 'legacy', percentage: undefined, enabled: false });
    assert.deepEqual(pick(provider.describe('tenant-gate')), { mode: 'strategies', percentage: undefined, enabled: true });
    assert.equal(provider.describe('orders'), null);
    const status = provider.status();
    assert.equal(status.state, 'backup');
    assert.equal(status.lastSyncAt, null);
  });

  it('variant → side mapping and definition summaries', () => {
    assert.equal(sideOfVariant('Legacy', undefined), 'legacy');
    assert.equal(sideOfVariant('blue', 'new'), 'new');
    assert.equal(sideOfVariant('blue', 'green'), null);
    assert.equal(describeDefinition({ name: 'a', enabled: true, strategies: [] }, null).mode, 'new');
    assert.equal(describeDefinition({ name: 'a', enabled: true, strategies: [{ name: 'default', parameters: {}, constraints: [] }] }, null).mode, 'new');
    assert.equal(describeDefinition({ name: 'a', enabled: true, strategies: [rollout(100, 'a') as never] }, null).mode, 'new');
  });
});

describe('Switchyard with Unleash unreachable at start-up', () => {
  const FLAGS = `
upstreams:
  flask: { url: "http://127.0.0.1:9", connectTimeoutMs: 200 }
routes:
  - name: users
    path: /users/:id
    legacy: { upstream: flask }
    new: { handler: user }
    mode: new
  - name: orders
    path: /orders
    legacy: { upstream: flask }
    new: { handler: user }
    mode: new
`;
  const handlers = { user: (_q: unknown, r: { json: (v: unknown) => void }) => r.json({}) };

  it('no backup: serves the flags/ modes after the bounded wait, and logs it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-unleash-empty-'));
    const logger = captureLogger();
    const started = Date.now();
    const sy = await createSwitchyard({ flags: [{ file: 'f.yaml', text: FLAGS }], handlers: handlers as never, watch: false, logger, adminToken: 'admin-token-0123456789abcdef', runtimeFlags: { redisUrl: null }, unleash: { url: DEAD_URL, appName: APP, backupDir: dir, startupTimeoutMs: 400, metrics: false } });
    try {
      const waited = Date.now() - started;
      assert.ok(waited >= 350 && waited < 3000, `start-up took ${waited} ms`);
      assert.ok(logger.lines.some((l) => /unleash: no answer within 400 ms .*and no backup; every route uses its flags\/ mode/.test(l)), logger.lines.join('\n'));
      const res = await supertest(sy.app).get('/users/1').set('X-User-Id', 'user-1');
      assert.equal(res.headers['x-switchyard-backend'], 'new');
      const flags = await supertest(sy.app).get('/_switchyard/flags').set('Authorization', 'Bearer admin-token-0123456789abcdef').expect(200);
      assert.equal(flags.body.unleash.state, 'none');
      assert.deepEqual(flags.body.missingFlags, []);
      assert.equal(flags.body.routes[0].layers.unleash, 'no-state');
      assert.equal(flags.body.routes[0].source, 'file');
    } finally {
      await sy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('with a backup: serves the last known flags, reports the routes whose flag is missing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-unleash-backup-'));
    await writeFile(join(dir, `unleash-backup-${APP}.json`), JSON.stringify(BACKUP));
    const logger = captureLogger();
    const sy = await createSwitchyard({ flags: [{ file: 'f.yaml', text: FLAGS }], handlers: handlers as never, watch: false, logger, adminToken: 'admin-token-0123456789abcdef', runtimeFlags: { redisUrl: null }, unleash: { url: DEAD_URL, appName: APP, backupDir: dir, startupTimeoutMs: 300, metrics: false } });
    try {
      assert.ok(logger.lines.some((l) => /serving its last known flags from the backup file/.test(l)), logger.lines.join('\n'));
      assert.ok(logger.lines.some((l) => /1 route has no flag there and uses its flags\/ mode: orders \(flag `orders`\)/.test(l)), logger.lines.join('\n'));
      const ids = Array.from({ length: 100 }, (_, i) => `user-${i}`);
      for (const id of ids) {
        const res = await supertest(sy.app).get('/users/1').set('X-User-Id', id);
        assert.equal(res.headers['x-switchyard-backend'], inRollout(rolloutBucket('users', id), 25) ? 'new' : 'legacy', id);
      }
      assert.equal((await supertest(sy.app).get('/orders')).headers['x-switchyard-backend'], 'new');
      const flags = await supertest(sy.app).get('/_switchyard/flags').set('Authorization', 'Bearer admin-token-0123456789abcdef').expect(200);
      assert.equal(flags.body.unleash.state, 'backup');
      assert.deepEqual(flags.body.missingFlags, [{ route: 'orders', flag: 'orders' }]);
      const users = (flags.body.routes as { name: string; source: string; mode: string; percentage: number }[]).find((r) => r.name === 'users');
      assert.deepEqual([users?.source, users?.mode, users?.percentage], ['unleash', 'rollout', 25]);
    } finally {
      await sy.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('UNLEASH_* environment', () => {
  it('UNLEASH_URL turns it on; every malformed value is named', () => {
    assert.deepEqual(readUnleashEnv({}), { options: null, issues: [] });
    const ok = readUnleashEnv({ UNLEASH_URL: 'http://unleash:4242/api/', UNLEASH_API_TOKEN: 'default:production.abc', UNLEASH_APP_NAME: 'shop', UNLEASH_ENVIRONMENT: 'production', UNLEASH_METRICS: 'false', UNLEASH_REFRESH_INTERVAL_MS: '2000', SWITCHYARD_BACKUP_DIR: '/var/lib/switchyard' });
    assert.equal(ok.issues.length, 0);
    assert.equal(ok.options?.apiToken, 'default:production.abc');
    assert.equal(ok.options?.metrics, false);
    assert.equal(ok.options?.impressions, true);
    assert.equal(ok.options?.refreshIntervalMs, 2000);
    assert.equal(ok.options?.backupDir, '/var/lib/switchyard');
    const bad = readUnleashEnv({ UNLEASH_URL: 'unleash:4242', UNLEASH_METRICS: 'maybe', UNLEASH_STARTUP_TIMEOUT_MS: '-5' });
    assert.deepEqual(bad.issues.map((i) => i.field).sort(), ['UNLEASH_METRICS', 'UNLEASH_STARTUP_TIMEOUT_MS', 'UNLEASH_URL']);
    assert.equal(bad.options, null);
    assert.deepEqual(readUnleashEnv({ UNLEASH_API_TOKEN: 'x' }).issues.map((i) => i.field), ['UNLEASH_API_TOKEN']);
  });

  it('a bad UNLEASH_* value stops createSwitchyard with a ConfigError', async () => {
    const saved = process.env['UNLEASH_URL'];
    process.env['UNLEASH_URL'] = 'not a url';
    try {
      await assert.rejects(createSwitchyard({ flags: [{ file: 'f.yaml', text: 'routes: []\n' }], watch: false, logger: captureLogger() }), /UNLEASH_URL: must be an http\(s\) URL/);
    } finally {
      if (saved === undefined) delete process.env['UNLEASH_URL'];
      else process.env['UNLEASH_URL'] = saved;
    }
  });
});

function pick(d: { mode: string; percentage?: number; enabled: boolean } | null) {
  return { mode: d?.mode, percentage: d?.percentage, enabled: d?.enabled };
}
