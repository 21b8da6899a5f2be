import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SETTINGS_DEFAULTS } from '../../src/config/defaults.js';
import type { RouteConfig, RouteMode, Side } from '../../src/config/types.js';
import { FlagEngine, type EffectiveRule } from '../../src/flags/flag-engine.js';
import { InMemoryFlagProvider } from '../../src/flags/flag-provider.js';
import { MemoryRuntimeStore } from '../../src/flags/runtime-store.js';
import { silentLogger } from '../../src/logging/logger.js';
import { PRECEDENCE } from '../../src/routing/flag-precedence.js';
import { decideRoute, type DecisionReason } from '../../src/routing/routing-decision.js';

/**
 * One table of cases; both the per-request decision (`decideRoute`) and the admin API's
 * effective state (`FlagEngine.routeState`) are derived from each row's flag layers, so the two
 * cannot drift apart. `admin` is only given where they legitimately differ: a tester override
 * exists only on a request, so the admin view shows the layer below it.
 */
interface Row {
  readonly name: string;
  readonly sides?: 'both' | 'legacy-only' | 'new-only';
  readonly pinned?: boolean;
  readonly kill?: 'env' | 'runtime' | 'both';
  readonly tester?: Side;
  readonly runtime?: { mode: RouteMode; percentage?: number };
  /** `missing`: a provider that has state but not this flag. No key: no provider at all. */
  readonly unleash?: 'on' | 'off' | 'missing';
  readonly file: RouteMode;
  readonly rule: (typeof PRECEDENCE)[number] | 'only_side';
  readonly side: Side;
  readonly admin?: { rule: EffectiveRule; mode: RouteMode };
}

const ROWS: readonly Row[] = [
  { name: 'the file alone', file: 'new', rule: 'file', side: 'new' },
  { name: 'the file rollout at 100%', file: 'rollout', rule: 'file', side: 'new' },
  { name: 'a provider without the flag → the file', unleash: 'missing', file: 'new', rule: 'file', side: 'new' },
  { name: 'Unleash on beats the file', unleash: 'on', file: 'legacy', rule: 'unleash', side: 'new' },
  { name: 'Unleash off beats the file', unleash: 'off', file: 'new', rule: 'unleash', side: 'legacy' },
  { name: 'runtime override beats Unleash', runtime: { mode: 'legacy' }, unleash: 'on', file: 'new', rule: 'runtime_override', side: 'legacy' },
  { name: 'runtime rollout at 100% beats the file', runtime: { mode: 'rollout', percentage: 100 }, file: 'legacy', rule: 'runtime_override', side: 'new' },
  { name: 'tester override beats runtime override', tester: 'new', runtime: { mode: 'legacy' }, unleash: 'off', file: 'legacy', rule: 'tester_override', side: 'new', admin: { rule: 'runtime_override', mode: 'legacy' } },
  { name: 'tester override beats the file', tester: 'legacy', file: 'new', rule: 'tester_override', side: 'legacy', admin: { rule: 'file', mode: 'new' } },
  { name: 'pinned beats tester, runtime and Unleash', pinned: true, tester: 'new', runtime: { mode: 'new' }, unleash: 'on', file: 'new', rule: 'pinned', side: 'legacy', admin: { rule: 'pinned', mode: 'legacy' } },
  { name: 'process kill switch beats the pin and everything below', kill: 'env', pinned: true, tester: 'new', runtime: { mode: 'new' }, unleash: 'on', file: 'new', rule: 'kill_switch', side: 'legacy', admin: { rule: 'kill_switch', mode: 'legacy' } },
  { name: 'runtime kill switch beats everything below', kill: 'runtime', tester: 'new', unleash: 'on', file: 'new', rule: 'kill_switch', side: 'legacy', admin: { rule: 'kill_switch', mode: 'legacy' } },
  { name: 'both kill switches', kill: 'both', file: 'new', rule: 'kill_switch', side: 'legacy' },
  { name: 'a new-only route stays new under the kill switch', sides: 'new-only', kill: 'both', runtime: { mode: 'legacy' }, unleash: 'off', file: 'new', rule: 'only_side', side: 'new' },
  { name: 'a legacy-only route says why it is on legacy: kill switch', sides: 'legacy-only', kill: 'runtime', file: 'legacy', rule: 'kill_switch', side: 'legacy' },
  { name: 'a legacy-only route says why it is on legacy: pinned', sides: 'legacy-only', pinned: true, tester: 'new', file: 'legacy', rule: 'pinned', side: 'legacy' },
  { name: 'a legacy-only route says why it is on legacy: only side', sides: 'legacy-only', tester: 'new', runtime: { mode: 'new' }, unleash: 'on', file: 'legacy', rule: 'only_side', side: 'legacy', admin: { rule: 'only_side', mode: 'legacy' } },
];

function routeOf(row: Row): RouteConfig {
  return {
    name: 'users',
    path: '/users/:id',
    methods: null,
    legacy: row.sides === 'new-only' ? null : { upstream: 'flask', stripPrefix: '' },
    new: row.sides === 'legacy-only' ? null : { kind: 'handler', handler: 'user' },
    mode: row.file,
    pinned: row.pinned ?? false,
    flag: 'users-flag',
    rollout: { percentage: 100, groupId: 'users', stickiness: [] },
    migration: {},
    file: 'routes.yaml',
    index: 0,
  };
}

/** The row's flag layers as they are in production: a runtime store, a provider, the process kill switch. */
async function engineOf(row: Row, route: RouteConfig): Promise<FlagEngine> {
  const store = new MemoryRuntimeStore();
  const meta = { by: 'oncall', at: '2026-01-01T00:00:00.000Z', reason: 'table' };
  if (row.kill === 'runtime' || row.kill === 'both') await store.apply({ target: 'killSwitch', on: true, meta });
  if (row.runtime !== undefined) await store.apply({ target: 'route', route: route.name, set: { mode: row.runtime.mode, percentage: row.runtime.percentage ?? 0 }, meta, fallback: { source: 'file' } });
  const provider = row.unleash === undefined ? null : new InMemoryFlagProvider(row.unleash === 'missing' ? {} : { [route.flag]: { enabled: row.unleash === 'on' } });
  return new FlagEngine({ provider, store, logger: silentLogger, providerStartupTimeoutMs: 0, storeStartupTimeoutMs: 0, useLegacy: row.kill === 'env' || row.kill === 'both' });
}

const RULE_OF_REASON: Record<DecisionReason, Row['rule']> = {
  kill_switch: 'kill_switch',
  pinned: 'pinned',
  override: 'tester_override',
  runtime_override: 'runtime_override',
  unleash: 'unleash',
  static: 'file',
  rollout: 'file',
  only_side: 'only_side',
};

describe('flag precedence: one table, the request decision and the admin view', () => {
  for (const row of ROWS) {
    it(row.name, async () => {
      const route = routeOf(row);
      const engine = await engineOf(row, route);
      const decision = decideRoute({
        route,
        killSwitch: engine.killSwitchOn(),
        override: row.tester ?? null,
        stickinessValue: () => 'user-1',
        ...engine.inputsFor(route, { headers: {}, method: 'GET', path: '/users/1', socketAddress: '127.0.0.1' }, SETTINGS_DEFAULTS),
      });
      assert.equal(RULE_OF_REASON[decision.reason], row.rule, `decision reason ${decision.reason}`);
      assert.equal(decision.side, row.side);

      const state = engine.routeState(route);
      const admin = row.admin ?? { rule: row.rule as EffectiveRule, mode: row.rule === 'runtime_override' && row.runtime !== undefined ? row.runtime.mode : row.rule === 'file' ? row.file : row.side };
      assert.equal(state.rule, admin.rule);
      assert.equal(state.mode, admin.mode);
      if (state.rule === 'kill_switch') assert.equal(state.source, row.kill === 'runtime' ? 'override' : 'env', 'the process kill switch wins the attribution');
    });
  }

  it('the table covers every layer, and the admin API lists the same order', () => {
    const covered = new Set(ROWS.map((r) => r.rule));
    for (const rule of [...PRECEDENCE, 'only_side' as const]) assert.ok(covered.has(rule), `no row where ${rule} wins`);
    assert.deepEqual(PRECEDENCE, ['kill_switch', 'pinned', 'tester_override', 'runtime_override', 'unleash', 'file']);
  });

  it('the kill switch is combined in one place: the process one always wins, the runtime one applies everywhere', async () => {
    const route = routeOf({ name: '', file: 'new', rule: 'file', side: 'new' });
    const store = new MemoryRuntimeStore();
    const engine = new FlagEngine({ provider: null, store, logger: silentLogger, providerStartupTimeoutMs: 0, storeStartupTimeoutMs: 0 });
    assert.deepEqual(engine.killSwitch(), { effective: false, env: false, runtime: null });
    engine.setProcessKillSwitch(true);
    assert.equal(engine.killSwitchOn(), true);
    assert.equal(engine.routeState(route).source, 'env');
    await store.apply({ target: 'killSwitch', on: true, meta: { by: 'oncall', at: '2026-01-01T00:00:00.000Z', reason: null } });
    engine.setProcessKillSwitch(false);
    assert.deepEqual(engine.killSwitch(), { effective: true, env: false, runtime: { on: true, by: 'oncall', at: '2026-01-01T00:00:00.000Z', reason: null } });
    assert.equal(engine.routeState(route).by, 'oncall');
    await store.apply({ target: 'killSwitch', on: false, meta: { by: 'oncall', at: '2026-01-01T00:01:00.000Z', reason: null } });
    assert.equal(engine.killSwitchOn(), false);
    assert.equal(engine.killSwitch().runtime?.on, false, 'an off runtime switch is still shown, with who turned it off');
  });
});
