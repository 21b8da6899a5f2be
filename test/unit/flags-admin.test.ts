import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import { createSwitchyard, type Switchyard } from '../../src/app.js';
import { inRollout, rolloutBucket } from '../../src/flags/bucketing.js';
import { InMemoryFlagProvider } from '../../src/flags/flag-provider.js';
import { captureLogger } from '../support/switchyard-harness.js';

const ADMIN = 'admin-token-0123456789abcdef';
// Nothing listens on port 9: legacy answers are 502s, but the decision header is set before the proxy runs.
const FLAGS = `
upstreams:
  flask: { url: "http://127.0.0.1:9", connectTimeoutMs: 200 }
routes:
  - name: users
    path: /users/:id
    legacy: { upstream: flask }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 10 }
  - name: orders
    path: /orders
    legacy: { upstream: flask }
    new: { handler: user }
    mode: legacy
    flag: orders-flag
  - name: pinned
    path: /pinned
    legacy: { upstream: flask }
    new: { handler: user }
    mode: new
    pinned: true
  - name: health
    path: /health
    new: { handler: user }
`;
const handlers = { user: (_q: unknown, r: { json: (v: unknown) => void }) => r.json({ side: 'new' }) };

describe('admin API: runtime flags without Redis (this process only)', () => {
  let sy: Switchyard;
  const logger = captureLogger();
  const agent = () => supertest(sy.app);
  const auth = (t: supertest.Test) => t.set('Authorization', `Bearer ${ADMIN}`);
  const side = async (path: string, user = 'someone'): Promise<string> => (await agent().get(path).set('X-User-Id', user)).headers['x-switchyard-backend'] ?? '';
  const routeView = async (name: string) => (await auth(agent().get(`/_switchyard/flags/routes/${name}`)).expect(200)).body as Record<string, unknown>;

  before(async () => {
    sy = await createSwitchyard({
      flags: [{ file: 'routes.yaml', text: FLAGS }],
      handlers: handlers as never,
      watch: false,
      logger,
      adminToken: ADMIN,
      flagProvider: new InMemoryFlagProvider({ 'orders-flag': { enabled: true } }),
      runtimeFlags: { redisUrl: null },
    });
  });
  after(() => sy.close());

  it('reads every route: mode, percentage, source, who/when, and says changes stay in this process', async () => {
    const res = await auth(agent().get('/_switchyard/flags')).expect(200);
    assert.equal(res.body.scope, 'this-process');
    assert.match(res.body.note, /no REDIS_URL/);
    assert.deepEqual(res.body.killSwitch, { effective: false, env: false, runtime: null });
    assert.deepEqual(res.body.precedence, ['kill_switch', 'pinned', 'tester_override', 'runtime_override', 'unleash', 'file']);
    const byName = Object.fromEntries((res.body.routes as { name: string }[]).map((r) => [r.name, r]));
    assert.deepEqual(pick(byName['users'], ['mode', 'percentage', 'source', 'rule', 'by']), { mode: 'rollout', percentage: 10, source: 'file', rule: 'file', by: 'file:routes.yaml' });
    assert.ok((byName['users'] as { at?: string } | undefined)?.at);
    assert.deepEqual(pick(byName['orders'], ['mode', 'source', 'rule', 'by']), { mode: 'new', source: 'unleash', rule: 'unleash', by: 'unleash' });
    assert.deepEqual(pick(byName['pinned'], ['mode', 'rule']), { mode: 'legacy', rule: 'pinned' });
    assert.deepEqual(pick(byName['health'], ['mode', 'rule']), { mode: 'new', rule: 'only_side' });
    // The provider has no `users` flag: reported, and the route keeps its flags/ mode.
    assert.deepEqual(res.body.missingFlags, [{ route: 'users', flag: 'users' }]);
    assert.ok(logger.lines.some((l) => /1 route has no flag there and uses its flags\/ mode: users \(flag `users`\)/.test(l)), logger.lines.join('\n'));
    assert.ok(logger.lines.some((l) => /no REDIS_URL; admin API changes apply to this process only/.test(l)));
  });

  it('changes a percentage: the same users as local bucketing, with an audit entry (who, when, from → to, reason)', async () => {
    const res = await auth(agent().put('/_switchyard/flags/routes/users')).set('X-Switchyard-Actor', 'alice').send({ percentage: 25, reason: 'canary step 2' }).expect(200);
    assert.equal(res.body.changed, true);
    assert.equal(res.body.scope, 'this-process');
    assert.deepEqual(pick(res.body.audit, ['by', 'reason', 'target', 'action', 'from', 'to']), {
      by: 'alice',
      reason: 'canary step 2',
      target: 'route:users',
      action: 'set',
      from: { mode: 'rollout', percentage: 10, source: 'file' },
      to: { mode: 'rollout', percentage: 25, source: 'override' },
    });
    assert.deepEqual(pick(res.body.route, ['mode', 'percentage', 'source', 'by', 'reason']), { mode: 'rollout', percentage: 25, source: 'override', by: 'alice', reason: 'canary step 2' });
    const users = Array.from({ length: 120 }, (_, i) => `user-${i}`);
    const wrong: string[] = [];
    for (const u of users) {
      const expected = inRollout(rolloutBucket('users', u), 25) ? 'new' : 'legacy';
      if ((await side('/users/7', u)) !== expected) wrong.push(u);
    }
    assert.deepEqual(wrong, []);
  });

  it('a runtime override beats Unleash; dropping it goes back to Unleash', async () => {
    assert.equal(await side('/orders'), 'new');
    await auth(agent().put('/_switchyard/flags/routes/orders')).send({ mode: 'legacy', by: 'bob', reason: 'new side is slow' }).expect(200);
    assert.equal(await side('/orders'), 'legacy');
    assert.equal((await routeView('orders')).source, 'override');
    const cleared = await auth(agent().delete('/_switchyard/flags/routes/orders')).send({ by: 'bob', reason: 'fixed' }).expect(200);
    assert.equal(cleared.body.changed, true);
    assert.deepEqual(pick(cleared.body.audit, ['action', 'from', 'to']), { action: 'clear', from: { mode: 'legacy', source: 'override', by: 'bob', at: cleared.body.audit.from.at }, to: { mode: 'new', source: 'unleash' } });
    assert.equal(await side('/orders'), 'new');
    assert.equal((await routeView('orders')).source, 'unleash');
    // Clearing again changes nothing and logs nothing.
    const again = await auth(agent().delete('/_switchyard/flags/routes/orders')).send({ reason: 'fixed' }).expect(200);
    assert.equal(again.body.changed, false);
  });

  it('flips the kill switch: every route with a legacy side goes to legacy, and back', async () => {
    const on = await auth(agent().put('/_switchyard/flags/kill-switch')).send({ on: true, by: 'oncall', reason: 'incident 42' }).expect(200);
    assert.deepEqual(on.body.killSwitch.effective, true);
    assert.equal(sy.flags.runtimeKillSwitch()?.by, 'oncall');
    assert.equal(await side('/orders'), 'legacy');
    assert.equal(await side('/users/7', 'user-3'), 'legacy');
    assert.equal(await side('/health'), 'new');
    const view = await routeView('users');
    assert.deepEqual(pick(view, ['mode', 'rule', 'source', 'by', 'reason']), { mode: 'legacy', rule: 'kill_switch', source: 'override', by: 'oncall', reason: 'incident 42' });
    await auth(agent().put('/_switchyard/flags/kill-switch')).send({ on: false, by: 'oncall', reason: 'incident 42 over' }).expect(200);
    assert.equal(await side('/orders'), 'new');
    const audit = await auth(agent().get('/_switchyard/flags/audit')).expect(200);
    const entries = audit.body.entries as { target: string; action: string; from: { on?: boolean }; to: { on?: boolean }; version: number }[];
    assert.deepEqual(
      entries.map((e) => `${e.target}:${e.action}`),
      ['route:users:set', 'route:orders:set', 'route:orders:clear', 'killSwitch:set', 'killSwitch:set'],
    );
    assert.deepEqual([entries[3]?.from.on, entries[3]?.to.on, entries[4]?.from.on, entries[4]?.to.on], [false, true, true, false]);
    assert.deepEqual(entries.map((e) => e.version), [1, 2, 3, 4, 5]);
  });

  it('names the flag source of each decision for telemetry (switchyard.flag.source)', () => {
    assert.equal(sy.flags.sourceOf({ side: 'new', reason: 'unleash' }), 'unleash');
    assert.equal(sy.flags.sourceOf({ side: 'new', reason: 'runtime_override' }), 'override');
    assert.equal(sy.flags.sourceOf({ side: 'legacy', reason: 'rollout', bucket: 3, percentage: 1 }), 'file');
    assert.equal(sy.flags.sourceOf({ side: 'legacy', reason: 'kill_switch' }), 'file'); // the runtime kill switch is off again
  });

  describe('bad input: a clear 4xx problem, and nothing changes', () => {
    const state = async () => {
      const flags = await auth(agent().get('/_switchyard/flags')).expect(200);
      const audit = await auth(agent().get('/_switchyard/flags/audit')).expect(200);
      return { routes: flags.body.routes, killSwitch: flags.body.killSwitch, version: flags.body.runtimeVersion, audit: audit.body.entries.length };
    };
    const cases: { name: string; send: () => supertest.Test; status: number; code: string; detail?: RegExp }[] = [
      { name: 'no token', send: () => agent().put('/_switchyard/flags/routes/users').send({ percentage: 50 }), status: 401, code: 'SWITCHYARD_ADMIN_UNAUTHENTICATED' },
      { name: 'wrong token', send: () => agent().put('/_switchyard/flags/routes/users').set('Authorization', `Bearer ${ADMIN}x`).send({ percentage: 50 }), status: 403, code: 'SWITCHYARD_ADMIN_FORBIDDEN' },
      { name: 'unknown route', send: () => auth(agent().put('/_switchyard/flags/routes/nope')).send({ percentage: 50 }), status: 404, code: 'SWITCHYARD_ADMIN_UNKNOWN_ROUTE', detail: /no route named `nope`/ },
      { name: 'percentage 101', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 101 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /percentage: must be an integer from 0 to 100 \(got 101\)/ },
      { name: 'a line break in by (a forged audit line)', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 5, by: 'alice\n2026-01-01 admin: kill switch off' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /by: must not contain control characters/ },
      { name: 'a NUL in reason', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 5, reason: 'x\u0000y' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /reason: must not contain control characters/ },
      { name: 'percentage -1', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: -1 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'percentage as a string', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: '50' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /percentage/ },
      { name: 'fractional percentage', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 2.5 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'unknown mode', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ mode: 'blue' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /mode: must be one of/ },
      { name: 'mode of the wrong type', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ mode: 1 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'percentage with mode legacy', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ mode: 'legacy', percentage: 5 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /only applies to mode "rollout"/ },
      { name: 'empty object', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({}), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'array body', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send([{ percentage: 5 }]), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'unknown field', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 5, colour: 'red' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /colour: unknown field/ },
      { name: 'by of the wrong type', send: () => auth(agent().put('/_switchyard/flags/routes/users')).send({ percentage: 5, by: 42 }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /by:/ },
      { name: 'malformed JSON', send: () => auth(agent().put('/_switchyard/flags/routes/users')).set('Content-Type', 'application/json').send('{"percentage": 5'), status: 400, code: 'SWITCHYARD_ADMIN_BAD_BODY' },
      { name: 'not JSON at all', send: () => auth(agent().put('/_switchyard/flags/routes/users')).set('Content-Type', 'text/plain').send('percentage=5'), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /JSON object/ },
      { name: 'a pinned route', send: () => auth(agent().put('/_switchyard/flags/routes/pinned')).send({ mode: 'new', reason: 'try' }), status: 409, code: 'SWITCHYARD_ADMIN_CONFLICT', detail: /pinned to legacy in routes\.yaml/ },
      { name: 'a route with one side', send: () => auth(agent().put('/_switchyard/flags/routes/health')).send({ mode: 'legacy', reason: 'try' }), status: 409, code: 'SWITCHYARD_ADMIN_CONFLICT', detail: /only a new side/ },
      { name: 'kill switch not a boolean', send: () => auth(agent().put('/_switchyard/flags/kill-switch')).send({ on: 'yes' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT', detail: /on: must be true or false/ },
      { name: 'kill switch without a body', send: () => auth(agent().put('/_switchyard/flags/kill-switch')), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'kill switch without a token', send: () => agent().put('/_switchyard/flags/kill-switch').send({ on: true }), status: 401, code: 'SWITCHYARD_ADMIN_UNAUTHENTICATED' },
      { name: 'unknown field on delete', send: () => auth(agent().delete('/_switchyard/flags/routes/users')).send({ mode: 'new' }), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
      { name: 'audit limit 0', send: () => auth(agent().get('/_switchyard/flags/audit?limit=0')), status: 400, code: 'SWITCHYARD_ADMIN_BAD_INPUT' },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.status}`, async () => {
        const before = await state();
        const res = await c.send();
        assert.equal(res.status, c.status, JSON.stringify(res.body));
        assert.match(res.headers['content-type'] ?? '', /application\/problem\+json/);
        assert.equal(res.body.code, c.code);
        if (c.detail) assert.match(res.body.detail, c.detail);
        assert.deepEqual(await state(), before);
      });
    }
  });
});

describe('admin API: USE_LEGACY always wins', () => {
  it('turning the runtime kill switch off while USE_LEGACY is on keeps legacy, and says so', async () => {
    const sy = await createSwitchyard({ flags: [{ file: 'routes.yaml', text: FLAGS }], handlers: handlers as never, watch: false, logger: captureLogger(), adminToken: ADMIN, useLegacy: true, runtimeFlags: { redisUrl: null }, unleash: null });
    try {
      const res = await supertest(sy.app).put('/_switchyard/flags/kill-switch').set('Authorization', `Bearer ${ADMIN}`).send({ on: false, reason: 'all clear' }).expect(200);
      assert.deepEqual(res.body.killSwitch, { effective: true, env: true, runtime: { on: false, by: 'admin-api', at: res.body.killSwitch.runtime.at, reason: 'all clear' } });
      assert.match(res.body.warning, /USE_LEGACY/);
      const users = await supertest(sy.app).get('/users/1').set('X-User-Id', 'x');
      assert.equal(users.headers['x-switchyard-backend'], 'legacy');
      const view = await supertest(sy.app).get('/_switchyard/flags/routes/users').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      assert.deepEqual([view.body.rule, view.body.source], ['kill_switch', 'env']);
    } finally {
      await sy.close();
    }
  });
});

function pick(o: Record<string, unknown> | undefined, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, o?.[k]]));
}
