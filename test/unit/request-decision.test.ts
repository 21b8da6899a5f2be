import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig } from '../../src/config/types.js';
import { normalizeRequestPath } from '../../src/routing/request-path.js';
import { decideRoute, type DecisionInput } from '../../src/routing/routing-decision.js';
import { cookieValue, stickinessValue } from '../../src/routing/stickiness.js';
import { readTesterOverride } from '../../src/routing/tester-override.js';

const base: RouteConfig = {
  name: 'users',
  path: '/users/:id',
  methods: null,
  legacy: { upstream: 'flask', stripPrefix: '' },
  new: { kind: 'handler', handler: 'user' },
  mode: 'rollout',
  pinned: false,
  flag: 'users',
  rollout: { percentage: 50, groupId: 'users', stickiness: [] },
  migration: {},
  file: 'f.yaml',
  index: 0,
};

const input = (over: Partial<Omit<DecisionInput, 'route'>> & { route?: Partial<RouteConfig> } = {}): DecisionInput => ({
  killSwitch: false,
  override: null,
  stickinessValue: () => 'user-1',
  ...over,
  route: { ...base, ...over.route },
});

describe('routing decision precedence', () => {
  it('kill switch beats pin, override and mode', () => {
    assert.deepEqual(decideRoute(input({ killSwitch: true, override: 'new', route: { mode: 'new' } })), { side: 'legacy', reason: 'kill_switch' });
  });
  it('pin beats override and mode', () => {
    assert.deepEqual(decideRoute(input({ override: 'new', route: { pinned: true, mode: 'new' } })), { side: 'legacy', reason: 'pinned' });
  });
  it('override beats mode and rollout', () => {
    assert.deepEqual(decideRoute(input({ override: 'new', route: { mode: 'legacy' } })), { side: 'new', reason: 'override' });
    assert.deepEqual(decideRoute(input({ override: 'legacy', route: { mode: 'new' } })), { side: 'legacy', reason: 'override' });
  });
  it('static modes', () => {
    assert.deepEqual(decideRoute(input({ route: { mode: 'legacy' } })), { side: 'legacy', reason: 'static' });
    assert.deepEqual(decideRoute(input({ route: { mode: 'new' } })), { side: 'new', reason: 'static' });
  });
  it('rollout carries bucket and percentage, and only then reads the stickiness value', () => {
    let reads = 0;
    const d = decideRoute(input({ stickinessValue: () => (reads++, 'user-1') }));
    assert.equal(d.reason, 'rollout');
    assert.equal(d.percentage, 50);
    assert.ok(d.bucket !== undefined && d.bucket >= 1 && d.bucket <= 100);
    assert.equal(reads, 1);
    decideRoute(input({ stickinessValue: () => (reads++, 'x'), route: { mode: 'new' } }));
    assert.equal(reads, 1);
  });
  it('0% is all legacy, 100% all new', () => {
    for (let i = 0; i < 200; i++) {
      assert.equal(decideRoute(input({ stickinessValue: () => `u${i}`, route: { rollout: { ...base.rollout, percentage: 0 } } })).side, 'legacy');
      assert.equal(decideRoute(input({ stickinessValue: () => `u${i}`, route: { rollout: { ...base.rollout, percentage: 100 } } })).side, 'new');
    }
  });
  it('a one-sided route stays on its side, even under the kill switch when it has no legacy', () => {
    assert.deepEqual(decideRoute(input({ killSwitch: true, route: { legacy: null, mode: 'new' } })), { side: 'new', reason: 'only_side' });
    assert.deepEqual(decideRoute(input({ override: 'new', route: { new: null, mode: 'legacy' } })), { side: 'legacy', reason: 'only_side' });
  });
});

describe('stickiness', () => {
  const sources = [{ header: 'X-User-Id' }, { cookie: 'uid' }] as const;
  it('takes the first source present', () => {
    assert.equal(stickinessValue({ 'x-user-id': 'h', cookie: 'uid=c' }, sources, () => 'r'), 'h');
    assert.equal(stickinessValue({ cookie: 'a=1; uid=c%20d; b=2' }, sources, () => 'r'), 'c d');
  });
  it('falls back to the random value when none is present or the value is empty', () => {
    assert.equal(stickinessValue({}, sources, () => 'r'), 'r');
    assert.equal(stickinessValue({ 'x-user-id': '' }, sources, () => 'r'), 'r');
  });
  it('reads header and cookie values as UTF-8 (Node hands them over as Latin-1), keeping invalid UTF-8 as it came', () => {
    const wire = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
    assert.equal(stickinessValue({ 'x-user-id': wire('Zoë-山田-😀') }, sources, () => 'r'), 'Zoë-山田-😀');
    assert.equal(stickinessValue({ cookie: wire('uid=Jürgen') }, sources, () => 'r'), 'Jürgen');
    assert.equal(stickinessValue({ cookie: 'uid=J%C3%BCrgen' }, sources, () => 'r'), 'Jürgen');
    // 0xE9 alone is not UTF-8: the raw byte's Latin-1 reading, the same on every request.
    assert.equal(stickinessValue({ 'x-user-id': Buffer.from([0x4a, 0xe9]).toString('latin1') }, sources, () => 'r'), 'Jé');
    // A value set in code (not one character per byte) is taken as it is.
    assert.equal(stickinessValue({ 'x-user-id': '山田' }, sources, () => 'r'), '山田');
  });
  it('parses quoted and malformed cookies without throwing', () => {
    assert.equal(cookieValue('uid="q"', 'uid'), 'q');
    assert.equal(cookieValue('uid=%E0%A4%A', 'uid'), '%E0%A4%A');
    assert.equal(cookieValue('garbage; uidx=1', 'uid'), undefined);
  });
});

describe('tester override', () => {
  const token = Buffer.from('0123456789abcdef-token');
  it('applies with the right token', () => {
    assert.deepEqual(readTesterOverride({ 'x-switchyard-force': 'New', 'x-switchyard-override-token': token.toString() }, token), { kind: 'applied', side: 'new' });
  });
  it('is ignored (with the reason) without a valid token', () => {
    assert.deepEqual(readTesterOverride({ 'x-switchyard-force': 'new' }, token), { kind: 'ignored', why: 'missing_token' });
    assert.deepEqual(readTesterOverride({ 'x-switchyard-force': 'new', 'x-switchyard-override-token': 'wrong' }, token), { kind: 'ignored', why: 'invalid_token' });
    assert.deepEqual(readTesterOverride({ 'x-switchyard-force': 'new', 'x-switchyard-override-token': token.toString() }, null), { kind: 'ignored', why: 'no_token_configured' });
  });
  it('is malformed with a valid token and a value other than legacy/new', () => {
    const r = readTesterOverride({ 'x-switchyard-force': 'both', 'x-switchyard-override-token': token.toString() }, token);
    assert.equal(r.kind, 'malformed');
  });
  it('is none without the header', () => assert.deepEqual(readTesterOverride({}, token), { kind: 'none' }));
});

describe('request path hygiene', () => {
  it('decodes unreserved escapes so the match is what gunicorn will see', () => {
    assert.deepEqual(normalizeRequestPath('/fl%61sk/hello'), { ok: true, path: '/flask/hello' });
    assert.deepEqual(normalizeRequestPath('/a%20b'), { ok: true, path: '/a%20b' });
    assert.deepEqual(normalizeRequestPath('/flask/'), { ok: true, path: '/flask/' });
    assert.deepEqual(normalizeRequestPath('/'), { ok: true, path: '/' });
  });
  it('keeps names with dots that are not dot segments (no `/.` or `//` needs no split, the rest is checked segment by segment)', () => {
    for (const good of ['/a.b/c', '/v1.2/x..y', '/a/.well-known/x', '/a/..b', '/a/b.', '/a/...']) assert.deepEqual(normalizeRequestPath(good), { ok: true, path: good });
    for (const bad of ['/.', '/..', '/x/.', '/a/..', '/./a', '/a//', '/a/./']) assert.equal(normalizeRequestPath(bad).ok, false, bad);
  });
  it('refuses structure-changing escapes, backslashes and dot segments', () => {
    for (const bad of ['/flask%2Fhello', '/a%2fb', '/a%5Cb', '/a\\b', '/a/../b', '/a/./b', '/a/%2e%2e/b', '/a%00', 'no-slash', '/flask//users/7', '//x', '/flask/whoami#frag']) {
      assert.equal(normalizeRequestPath(bad).ok, false, bad);
    }
  });
});
