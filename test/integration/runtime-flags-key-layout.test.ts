// The runtime flag keys moved under one hash tag (`{<ns>:flags}:state|audit`) so the change
// script is cluster-safe. A deployment that stored overrides under the old keys keeps them: the
// first instance of the new layout copies them once; later ones find the new keys and copy nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { RedisRuntimeStore } from '../../src/flags/redis-runtime-store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger } from '../support/switchyard-harness.js';

let redis: RedisServer;
before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

const OVERRIDE = JSON.stringify({ mode: 'new', percentage: 0, by: 'alice', at: '2026-01-01T00:00:00.000Z', reason: 'old layout' });
const KILL = JSON.stringify({ on: true, by: 'oncall', at: '2026-01-01T00:01:00.000Z', reason: 'incident' });
const AUDIT = JSON.stringify({ version: 2, at: '2026-01-01T00:01:00.000Z', by: 'oncall', reason: 'incident', target: 'killSwitch', action: 'set', from: { source: 'env' }, to: { on: true, source: 'override' }, instance: 'old:1' });

describe('runtime flags: keys before the hash tag are carried over', () => {
  it('copies state and audit log once, then applies changes on the new keys', async () => {
    const ns = `m-${randomUUID().slice(0, 8)}`;
    await redis.command('HSET', `${ns}:flags:state`, 'route:users', OVERRIDE, 'killSwitch', KILL, '__version', '2');
    await redis.command('RPUSH', `${ns}:flags:audit`, AUDIT);
    const log = captureLogger();
    const first = new RedisRuntimeStore({ url: redis.url, namespace: ns, logger: log, backupFile: null });
    try {
      await first.start(3000);
      assert.equal(first.state().routes.get('users')?.by, 'alice');
      assert.equal(first.state().killSwitch?.on, true);
      assert.equal(first.state().version, 2);
      assert.equal((await first.audit(10)).length, 1);
      assert.ok(log.lines.some((l) => l.includes(`copied the state and 1 audit entries from ${ns}:flags:state to {${ns}:flags}:state`)), log.lines.join('\n'));
      const outcome = await first.apply({ target: 'killSwitch', on: false, meta: { by: 'oncall', at: '2026-01-02T00:00:00.000Z', reason: 'over' } });
      assert.equal(outcome.applied, true);
      assert.equal(first.state().version, 3);
    } finally {
      await first.close();
    }
    // A second instance (or a restart) finds the new keys: nothing copied again, the change stays.
    const log2 = captureLogger();
    const second = new RedisRuntimeStore({ url: redis.url, namespace: ns, logger: log2, backupFile: null });
    try {
      await second.start(3000);
      assert.equal(second.state().killSwitch?.on, false);
      assert.equal((await second.audit(10)).length, 2, 'the old entry and the new change, no duplicate');
      assert.ok(!log2.lines.some((l) => l.includes('copied the state')));
    } finally {
      await second.close();
    }
  });
});
