import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteConfig, Settings } from '../../src/config/types.js';
import { SETTINGS_DEFAULTS } from '../../src/config/defaults.js';
import { inRollout, rolloutBucket } from '../../src/flags/bucketing.js';
import { flagContextOf } from '../../src/flags/flag-context.js';
import { InMemoryFlagProvider } from '../../src/flags/flag-provider.js';
import { decideRoute, type DecisionInput, type FlagAnswer } from '../../src/routing/routing-decision.js';

function route(overrides: Partial<RouteConfig> = {}): RouteConfig {
  return {
    name: 'users',
    path: '/users/:id',
    methods: null,
    legacy: { upstream: 'flask', stripPrefix: '' },
    new: { kind: 'handler', handler: 'user' },
    mode: 'legacy',
    pinned: false,
    flag: 'users',
    rollout: { percentage: 0, groupId: 'users', stickiness: [] },
    migration: {},
    file: 'routes.yaml',
    index: 0,
    ...overrides,
  };
}

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({ route: route(), killSwitch: false, override: null, stickinessValue: () => 'user-1', ...over });
const NEW: FlagAnswer = { side: 'new' };
const LEGACY: FlagAnswer = { side: 'legacy' };

describe('decision precedence: kill switch > pinned > tester override > runtime override > Unleash > flags/', () => {
  const cases: { name: string; input: DecisionInput; side: 'legacy' | 'new'; reason: string }[] = [
    { name: 'flags/ mode alone', input: input({ route: route({ mode: 'new' }) }), side: 'new', reason: 'static' },
    { name: 'Unleash beats flags/', input: input({ route: route({ mode: 'new' }), flag: () => LEGACY }), side: 'legacy', reason: 'unleash' },
    { name: 'Unleash on beats flags/ legacy', input: input({ flag: () => NEW }), side: 'new', reason: 'unleash' },
    { name: 'runtime override beats Unleash', input: input({ flag: () => NEW, runtime: { mode: 'legacy', percentage: 0 } }), side: 'legacy', reason: 'runtime_override' },
    { name: 'runtime override beats flags/', input: input({ route: route({ mode: 'legacy' }), runtime: { mode: 'new', percentage: 0 } }), side: 'new', reason: 'runtime_override' },
    { name: 'tester override beats runtime override', input: input({ override: 'new', runtime: { mode: 'legacy', percentage: 0 }, flag: () => LEGACY }), side: 'new', reason: 'override' },
    { name: 'pinned beats runtime override and Unleash', input: input({ route: route({ pinned: true }), runtime: { mode: 'new', percentage: 0 }, flag: () => NEW }), side: 'legacy', reason: 'pinned' },
    { name: 'kill switch beats everything', input: input({ killSwitch: true, override: 'new', runtime: { mode: 'new', percentage: 0 }, flag: () => NEW }), side: 'legacy', reason: 'kill_switch' },
    { name: 'a new-only route stays new whatever the flags say', input: input({ route: route({ legacy: null, mode: 'new' }), runtime: { mode: 'legacy', percentage: 0 }, flag: () => LEGACY }), side: 'new', reason: 'only_side' },
    { name: 'Unleash with no answer (missing flag, no state) → flags/', input: input({ route: route({ mode: 'new' }), flag: () => null }), side: 'new', reason: 'static' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decideRoute(c.input);
      assert.equal(d.side, c.side);
      assert.equal(d.reason, c.reason);
    });
  }

  it('never throws: a provider that throws or answers nonsense falls back to flags/', () => {
    const throwing = decideRoute(input({ route: route({ mode: 'new' }), flag: () => { throw new Error('unleash exploded'); } }));
    assert.deepEqual([throwing.side, throwing.reason], ['new', 'static']);
    const nonsense = decideRoute(input({ flag: () => ({ side: 'sideways' }) as unknown as FlagAnswer }));
    assert.deepEqual([nonsense.side, nonsense.reason], ['legacy', 'static']);
  });

  it('asks Unleash only when the decision gets there (each ask counts in its metrics)', () => {
    let asked = 0;
    const flag = () => {
      asked++;
      return NEW;
    };
    decideRoute(input({ killSwitch: true, flag }));
    decideRoute(input({ route: route({ pinned: true }), flag }));
    decideRoute(input({ override: 'legacy', flag }));
    decideRoute(input({ runtime: { mode: 'new', percentage: 0 }, flag }));
    assert.equal(asked, 0);
    decideRoute(input({ flag }));
    assert.equal(asked, 1);
  });

  it('carries the variant that picked the side', () => {
    const d = decideRoute(input({ flag: () => ({ side: 'legacy', variant: 'legacy' }) }));
    assert.deepEqual(d, { side: 'legacy', reason: 'unleash', variant: 'legacy' });
  });

  it('a runtime rollout buckets exactly like the flags/ rollout (same groupId, same users)', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `id-${i}`);
    for (const percentage of [0, 25, 60, 100]) {
      const wrong = ids.filter((id) => {
        const d = decideRoute(input({ runtime: { mode: 'rollout', percentage }, stickinessValue: () => id }));
        return d.side !== (inRollout(rolloutBucket('users', id), percentage) ? 'new' : 'legacy') || d.reason !== 'runtime_override' || d.percentage !== percentage;
      });
      assert.deepEqual(wrong, [], `at ${percentage}%`);
    }
  });
});

describe('in-memory flag provider (OpenFeature InMemoryProvider style)', () => {
  const ctx = (userId?: string) => ({ ...(userId === undefined ? {} : { userId }), properties: {} });

  it('answers on/off/percentage like Unleash, and nothing for an unknown flag', () => {
    const p = new InMemoryFlagProvider({ on: { enabled: true }, off: { enabled: false }, quarter: { enabled: true, percentage: 25 }, picky: { enabled: true, variantSide: 'legacy' } });
    assert.deepEqual(p.evaluate('on', ctx('a')), { side: 'new' });
    assert.deepEqual(p.evaluate('off', ctx('a')), { side: 'legacy' });
    assert.equal(p.evaluate('nope', ctx('a')), null);
    assert.deepEqual(p.evaluate('picky', ctx('a')), { side: 'legacy', variant: 'legacy' });
    const ids = Array.from({ length: 1000 }, (_, i) => `u${i}`);
    assert.deepEqual(ids.filter((id) => (p.evaluate('quarter', ctx(id))?.side === 'new') !== inRollout(rolloutBucket('quarter', id), 25)), []);
    // flexibleRollout with userId stickiness: no userId, not in the rollout.
    assert.deepEqual(p.evaluate('quarter', ctx()), { side: 'legacy' });
    assert.equal(p.describe('quarter')?.mode, 'rollout');
    assert.equal(p.describe('quarter')?.percentage, 25);
    assert.equal(p.describe('nope'), null);
  });

  it('putConfiguration replaces the flags and tells listeners', () => {
    const p = new InMemoryFlagProvider({ a: { enabled: false } });
    let changes = 0;
    p.onChange(() => changes++);
    p.putConfiguration({ a: { enabled: true } });
    assert.equal(changes, 1);
    assert.deepEqual(p.evaluate('a', ctx('x')), { side: 'new' });
  });
});

describe('flag context: the same extraction as rollouts', () => {
  const settings: Settings = {
    ...SETTINGS_DEFAULTS,
    stickiness: [{ header: 'X-User-Id' }],
    flagContext: { sessionId: [{ cookie: 'sid' }], properties: { tenant: { header: 'X-Tenant' }, plan: { cookie: 'plan' } } },
  };
  const req = (headers: Record<string, string>, socketAddress = '::ffff:10.1.2.3') => ({ headers, method: 'GET', path: '/users/7', socketAddress });

  it('userId from the route stickiness (else settings), sessionId, remoteAddress and properties', () => {
    const c = flagContextOf(req({ 'x-user-id': 'u-1', 'x-account': 'acc-9', cookie: 'sid=s-1; plan=gold', 'x-tenant': 'acme' }), route(), settings);
    assert.deepEqual(c, { userId: 'u-1', sessionId: 's-1', remoteAddress: '10.1.2.3', properties: { path: '/users/7', method: 'GET', route: 'users', tenant: 'acme', plan: 'gold' } });
    const own = flagContextOf(req({ 'x-user-id': 'u-1', 'x-account': 'acc-9' }), route({ rollout: { percentage: 0, groupId: 'users', stickiness: [{ header: 'X-Account' }] } }), settings);
    assert.equal(own.userId, 'acc-9');
  });

  it('no stickiness value → no userId (never a random one); X-Forwarded-For only when trusted', () => {
    const c = flagContextOf(req({ 'x-forwarded-for': '203.0.113.5, 10.0.0.1' }), route(), settings);
    assert.equal(c.userId, undefined);
    assert.equal(c.sessionId, undefined);
    assert.equal(c.remoteAddress, '10.1.2.3');
    const trusted = flagContextOf(req({ 'x-forwarded-for': '203.0.113.5, 10.0.0.1' }), route(), { ...settings, trustForwardedHeaders: true });
    assert.equal(trusted.remoteAddress, '203.0.113.5');
  });
});
