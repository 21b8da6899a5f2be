/**
 * A cache purge says why and is audited, on two real Switchyard instances in front of real
 * gunicorn Flask sharing a private real Redis: without a reason nothing is purged; with one the
 * purge reaches both instances and its audit entry is read from the other.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AuditEntry } from '../../src/flags/runtime-store.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { admin, cacheStatus, eventually, get, sharedStateInstance } from '../support/shared-state.js';
import type { Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let redis: RedisServer;
let a: Listening;
let b: Listening;

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2 }), startRedis()]);
  const namespace = `pa-${randomUUID().slice(0, 8)}`;
  [a, b] = await Promise.all([sharedStateInstance(flask.url, namespace, 'purge-a', { redis: redis.url }), sharedStateInstance(flask.url, namespace, 'purge-b', { redis: redis.url })]);
  await eventually('both caches connected', () => Promise.resolve(a.switchyard.cacheStats().store.available && b.switchyard.cacheStats().store.available));
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([flask?.stop(), redis?.stop()]);
});

const audit = async (sy: Listening): Promise<AuditEntry[]> => ((await get(sy, '/_switchyard/flags/audit?limit=50')).body as { entries: AuditEntry[] }).entries;

describe('cache purge through the admin API: a reason, and an audit entry every instance reads', () => {
  it('without a reason: 400 problem+json and nothing purged, on either instance', async () => {
    assert.equal(cacheStatus(await get(a, '/c/cacheable?t=unexplained')), 'MISS');
    await eventually('B HITs it too', async () => cacheStatus(await get(b, '/c/cacheable?t=unexplained')) === 'HIT');
    for (const body of [{ route: 'cached' }, { url: '/c/cacheable?t=unexplained', by: 'ops' }, { all: true, reason: '' }]) {
      const refused = await admin(a, 'POST', '/_switchyard/cache/purge', body);
      assert.equal(refused.status, 400, JSON.stringify(refused.body));
      assert.match(String(refused.headers.get('content-type')), /^application\/problem\+json/);
      assert.equal((refused.body as { code: string }).code, 'SWITCHYARD_ADMIN_BAD_INPUT');
    }
    assert.equal((await admin(a, 'DELETE', '/_switchyard/cache', {})).status, 400);
    assert.equal(cacheStatus(await get(b, '/c/cacheable?t=unexplained')), 'HIT', 'still cached');
    assert.ok(!(await audit(b)).some((e) => e.target === 'cache'), 'nothing audited');
  });

  it('with a reason: purged for both instances, audited once, and the entry is read from the other instance', async () => {
    assert.equal(cacheStatus(await get(a, '/c/cacheable?t=explained')), 'MISS');
    await eventually('B HITs it too', async () => cacheStatus(await get(b, '/c/cacheable?t=explained')) === 'HIT');
    const purged = await admin(a, 'POST', '/_switchyard/cache/purge', { url: '/c/cacheable?t=explained', reason: 'report was wrong', by: 'ops' });
    assert.equal(purged.status, 200, JSON.stringify(purged.body));
    const answer = purged.body as { purged: number; scope: string; audit: AuditEntry };
    // One entry per Host the URL was cached for (A's and B's ports): a path purges every host.
    assert.ok(answer.purged >= 1, JSON.stringify(answer));
    assert.equal(answer.scope, 'all-instances');
    assert.equal(cacheStatus(await get(b, '/c/cacheable?t=explained')), 'MISS', 'gone for B too');
    const seen = await eventually('B reads the purge in the audit log', async () => (await audit(b)).find((e) => e.version === answer.audit.version));
    assert.deepEqual(seen, answer.audit);
    assert.equal(seen.target, 'cache');
    assert.equal(seen.action, 'purge');
    assert.equal(seen.route, 'cached', 'the route serving the URL');
    assert.deepEqual(seen.purge, { url: '/c/cacheable?t=explained' });
    assert.equal(seen.purged, answer.purged);
    assert.equal(seen.by, 'ops');
    assert.equal(seen.reason, 'report was wrong');
    assert.equal((await audit(b)).filter((e) => e.target === 'cache').length, 1, 'one entry');

    const everything = await admin(b, 'DELETE', '/_switchyard/cache', { reason: 'deploy' });
    assert.equal(everything.status, 200, JSON.stringify(everything.body));
    const entry = await eventually('A reads B’s purge of everything', async () => (await audit(a)).find((e) => e.target === 'cache' && e.reason === 'deploy'));
    assert.equal(entry.route, null);
    assert.deepEqual(entry.purge, { all: true });
    assert.equal(entry.by, 'admin-api');
  });
});
