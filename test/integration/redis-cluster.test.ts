import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startCluster, type ClusterSet } from '../support/redis-topology.js';
import { ADMIN, admin, cacheStatus, eventually, get, outcomes, shadowTotals, sharedStateInstance, usersSide } from '../support/shared-state.js';
import type { Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let cluster: ClusterSet;
let a: Listening;
let b: Listening;

before(async () => {
  [flask, cluster] = await Promise.all([startFlask({ workers: 2 }), startCluster()]);
  const namespace = `c-${randomUUID().slice(0, 8)}`;
  [a, b] = await Promise.all([sharedStateInstance(flask.url, namespace, 'cluster-a', { redis: cluster.url }), sharedStateInstance(flask.url, namespace, 'cluster-b', { redis: cluster.url })]);
  await eventually('both caches connected', () => Promise.resolve(a.switchyard.cacheStats().store.available && b.switchyard.cacheStats().store.available));
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([flask?.stop(), cluster?.stop()]);
});

/** How many keys each of the three primaries holds. */
async function keysPerNode(): Promise<number[]> {
  return Promise.all(cluster.ports.map(async (port) => Number(/^:(\d+)/.exec(await cluster.command(port, 'DBSIZE'))?.[1] ?? NaN)));
}

describe('Redis Cluster (three primaries): the four shared states', () => {
  it('response cache: entries shared by both instances and spread over the nodes; a purge reaches every node', async () => {
    const paths = Array.from({ length: 12 }, (_, i) => `/c/cacheable?k=${i}`);
    for (const p of paths) assert.equal(cacheStatus(await get(a, p)), 'MISS');
    for (const p of paths) await eventually(`B HITs ${p}`, async () => cacheStatus(await get(b, p)) === 'HIT');
    const spread = await keysPerNode();
    assert.ok(spread.filter((n) => n > 0).length >= 2, `cache keys on several nodes: ${spread.join(',')}`);
    const purge = await fetch(`${a.url}/_switchyard/cache/purge`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ route: 'cached', reason: 'cluster' }) });
    assert.equal(purge.status, 200, await purge.clone().text());
    assert.ok(((await purge.json()) as { purged: number }).purged >= 12);
    assert.equal(cacheStatus(await get(b, paths[0]!)), 'MISS', 'purged on every node');
  });

  it('shadow results: both instances add up (a route\'s keys in one slot, one script)', async () => {
    await Promise.all([get(a, '/flask/catalog'), get(b, '/flask/catalog'), get(a, '/flask/catalog')]);
    const totals = await eventually('three comparisons in one view', async () => {
      const t = await shadowTotals(b, 'catalog');
      return t.compared === 3 ? t : undefined;
    });
    assert.equal(totals.mismatched, 3);
  });

  it('runtime flags: the change script (two keys, one hash tag) runs, and the change reaches the other instance', async () => {
    const change = await admin(a, 'PUT', '/_switchyard/flags/routes/users', { mode: 'new', by: 'test', reason: 'cluster' });
    assert.equal(change.status, 200, JSON.stringify(change.body));
    assert.equal((change.body as { scope: string }).scope, 'all-instances');
    await eventually('B applies the change A made', async () => (await usersSide(b)) === 'new');
    const audit = await get(b, '/_switchyard/flags/audit?limit=5');
    assert.ok((audit.body as { entries: { reason: string | null }[] }).entries.some((e) => e.reason === 'cluster'));
  });

  it('outcomes: the fleet view adds both instances up', async () => {
    await Promise.all([get(a, '/flask/users/2'), get(b, '/flask/users/3')]);
    const view = await eventually('the fleet view', async () => {
      const o = await outcomes(a, 'users');
      return o.scope === 'fleet' && o.instances === 2 ? o : undefined;
    });
    assert.ok(view.sides.legacy.requests + view.sides.new.requests >= 2);
  });
});
