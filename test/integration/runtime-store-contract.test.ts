/**
 * One contract for every RuntimeFlagStore (in memory, and Redis): flag changes and the entries
 * that change no flag (cache purges) share one audit log and one version sequence.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { purgeAuditRecord } from '../../src/cache/purge-audit.js';
import { RedisRuntimeStore } from '../../src/flags/redis-runtime-store.js';
import { MemoryRuntimeStore, type RuntimeFlagStore, type RuntimeState } from '../../src/flags/runtime-store.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { eventually } from '../support/shared-state.js';
import { captureLogger } from '../support/switchyard-harness.js';

const META = { by: 'alice', at: '2026-01-01T00:00:00.000Z', reason: 'step' };
const purgeOf = (route: string, purged: number) => purgeAuditRecord({ route }, route, purged, { by: 'ops', reason: 'stale' }, '2026-01-01T00:01:00.000Z');

function runtimeStoreContract(name: string, make: () => Promise<RuntimeFlagStore>): void {
  describe(`runtime flag store contract: ${name}`, () => {
    it('a change and a recorded purge share the audit log and the version sequence; the purge changes no flag', async () => {
      const store = await make();
      try {
        const seen: RuntimeState[] = [];
        store.onChange((state) => seen.push(state));
        const change = await store.apply({ target: 'route', route: 'users', set: { mode: 'rollout', percentage: 25 }, meta: META, fallback: { mode: 'legacy', source: 'file' } });
        assert.ok(change.applied);
        assert.equal(change.entry.version, 1);
        const purge = await store.record(purgeOf('report', 3));
        assert.deepEqual(purge, { ...purgeOf('report', 3), version: 2 });
        assert.equal(store.state().version, 2);
        assert.deepEqual([...store.state().routes.keys()], ['users'], 'no flag changed');
        assert.equal(store.state().killSwitch, null);
        assert.equal(seen.at(-1)?.version, 2, 'listeners hear of the purge (the dashboard re-reads the audit log)');
        const audit = await store.audit(10);
        assert.deepEqual(audit.map((e) => [e.version, e.target, e.action]), [[1, 'route:users', 'set'], [2, 'cache', 'purge']]);
        assert.deepEqual(audit[1], purge);
        assert.deepEqual((await store.audit(1)).map((e) => e.version), [2], 'the newest only');
        const next = await store.apply({ target: 'killSwitch', on: true, meta: META });
        assert.ok(next.applied);
        assert.equal(next.entry.version, 3, 'a change after a purge takes the next version');
      } finally {
        await store.close();
      }
    });

    it('a purge of no one route (a prefix, everything) is recorded with route null', async () => {
      const store = await make();
      try {
        const entry = await store.record(purgeAuditRecord({ all: true }, null, 0, { by: 'ops', reason: 'deploy' }, '2026-01-01T00:02:00.000Z'));
        assert.equal(entry.route, null);
        assert.deepEqual(entry.purge, { all: true });
        assert.deepEqual((await store.audit(5)).at(-1), entry);
      } finally {
        await store.close();
      }
    });
  });
}

runtimeStoreContract('memory', () => Promise.resolve(new MemoryRuntimeStore()));

describe('Redis runtime flag store', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis?.stop();
  });
  const open = async (namespace: string): Promise<RedisRuntimeStore> => {
    const store = new RedisRuntimeStore({ url: redis.url, namespace, logger: captureLogger(), backupFile: null });
    await store.start(5000);
    return store;
  };

  runtimeStoreContract('redis', () => open(`rs-${randomUUID().slice(0, 8)}`));

  it('a purge recorded by one instance is in the audit log and the version of another', async () => {
    const namespace = `rs-${randomUUID().slice(0, 8)}`;
    const [a, b] = await Promise.all([open(namespace), open(namespace)]);
    try {
      const heard: number[] = [];
      b.onChange((state) => heard.push(state.version));
      const entry = await a.record(purgeOf('report', 2));
      await eventually('B hears of the purge', () => Promise.resolve(heard.includes(entry.version)));
      assert.equal(b.state().version, entry.version);
      assert.deepEqual((await b.audit(10)).at(-1), entry);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
