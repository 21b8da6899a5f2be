import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startSentinelSet, type SentinelSet } from '../support/redis-topology.js';
import { admin, cacheStatus, eventually, get, outcomes, shadowTotals, sharedStateInstance, usersSide } from '../support/shared-state.js';
import type { Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let set: SentinelSet;
let a: Listening;
let b: Listening;

before(async () => {
  [flask, set] = await Promise.all([startFlask({ workers: 2 }), startSentinelSet()]);
  const namespace = `s-${randomUUID().slice(0, 8)}`;
  [a, b] = await Promise.all([sharedStateInstance(flask.url, namespace, 'sentinel-a', { redis: set.url }), sharedStateInstance(flask.url, namespace, 'sentinel-b', { redis: set.url })]);
  await eventually('both caches connected', () => Promise.resolve(a.switchyard.cacheStats().store.available && b.switchyard.cacheStats().store.available));
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([flask?.stop(), set?.stop()]);
});

/** Client traffic on both instances until stopped: every answer's status and cache outcome. */
function traffic(): { stop: () => Promise<{ statuses: Map<number, number>; cache: Map<string, number>; requests: number }> } {
  let running = true;
  const statuses = new Map<number, number>();
  const cache = new Map<string, number>();
  let requests = 0;
  const count = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);
  const loop = async (sy: Listening, path: string): Promise<void> => {
    while (running) {
      const r = await get(sy, path);
      requests++;
      count(statuses, r.status);
      const c = cacheStatus(r);
      if (c !== null) count(cache, c);
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  const loops = [a, b].flatMap((sy) => ['/c/cacheable?during=failover', '/flask/users/1', '/flask/catalog'].map((p) => loop(sy, p)));
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
      return { statuses, cache, requests };
    },
  };
}

describe('Redis Sentinel: the four shared states through primary failovers', () => {
  it('cache, shadow results, runtime flags and outcomes work on the Sentinel set', async () => {
    assert.equal(cacheStatus(await get(a, '/c/cacheable?k=before')), 'MISS');
    await eventually('the entry A stored serves B: one shared cache', async () => cacheStatus(await get(b, '/c/cacheable?k=before')) === 'HIT');
    await Promise.all([get(a, '/flask/catalog'), get(b, '/flask/catalog')]);
    await eventually('both comparisons in one view', async () => (await shadowTotals(a, 'catalog')).compared === 2);
    const set1 = await admin(a, 'PUT', '/_switchyard/flags/routes/users', { mode: 'new', by: 'test', reason: 'sentinel' });
    assert.equal(set1.status, 200, JSON.stringify(set1.body));
    await eventually('B applies the change A made', async () => (await usersSide(b)) === 'new');
    const fleet = await eventually('the fleet view', async () => {
      const o = await outcomes(a, 'cached');
      return o.scope === 'fleet' && o.instances === 2 ? o : undefined;
    });
    assert.ok(fleet.sides.legacy.requests >= 2);
  });

  /** Traffic on both instances through `failover`; then every kind of state works on the new primary. */
  const throughFailover = async (t: TestContext, label: string, failover: () => Promise<number>): Promise<void> => {
    const oldPrimary = await set.primaryPort();
    const comparedBefore = (await shadowTotals(a, 'catalog')).compared;
    const load = traffic();
    await new Promise((r) => setTimeout(r, 300));
    const newPrimary = await failover();
    assert.notEqual(newPrimary, oldPrimary);

    // Cache: a new entry is stored on the new primary and served from it to the other instance.
    const key = await eventually('the cache stores again after the failover', async () => {
      const k = `/c/cacheable?k=after-${randomUUID()}`;
      return cacheStatus(await get(a, k)) === 'MISS' ? k : undefined;
    });
    await eventually('…and the other instance HITs that entry', async () => cacheStatus(await get(b, key)) === 'HIT');
    // Runtime flags: a change is taken (a 503 only while the new primary is not reached yet) and broadcast.
    const mode = (await usersSide(a)) === 'new' ? 'legacy' : 'new';
    await eventually('a runtime change is stored on the new primary', async () => (await admin(b, 'PUT', '/_switchyard/flags/routes/users', { mode, by: 'test', reason: label })).status === 200);
    await eventually('A applies the change B made after the failover', async () => (await usersSide(a)) === mode);
    // Shadow results keep adding up, from both instances.
    await eventually('shadow comparisons recorded after the failover', async () => (await shadowTotals(b, 'catalog')).compared > comparedBefore + 4);
    const seen = await load.stop();

    // Outcomes: the fleet view is back, and counts the traffic of both instances.
    await eventually('the fleet view after the failover', async () => {
      const o = await outcomes(b, 'cached');
      return o.scope === 'fleet' && o.instances === 2;
    });
    t.diagnostic(`${label}: ${seen.requests} client requests during the failover; statuses ${JSON.stringify(Object.fromEntries(seen.statuses))}; cache ${JSON.stringify(Object.fromEntries(seen.cache))}`);
    assert.ok(seen.requests > 30, `traffic ran through the failover (${seen.requests} requests)`);
    assert.deepEqual([...seen.statuses.keys()], [200], `every client answer was 200: ${JSON.stringify([...seen.statuses])}`);
    const outcomesSeen = [...seen.cache.keys()].sort();
    assert.ok(outcomesSeen.every((c) => c === 'HIT' || c === 'MISS' || c === 'BYPASS'), outcomesSeen.join(','));
    assert.ok((seen.cache.get('HIT') ?? 0) > 0, JSON.stringify([...seen.cache]));
    const audit = await get(a, '/_switchyard/flags/audit?limit=10');
    assert.ok((audit.body as { entries: { reason: string | null }[] }).entries.some((e) => e.reason === label), 'the change made after the failover is in the audit log');
  };

  it('keeps working through SENTINEL FAILOVER (the primary demoted): no client error beyond cache BYPASS', (t) => throughFailover(t, 'after SENTINEL FAILOVER', () => set.failover()));

  it('keeps working when the primary is SIGKILLed and a replica promoted: no client error beyond cache BYPASS', (t) => throughFailover(t, 'after SIGKILL', () => set.killPrimary()));
});
