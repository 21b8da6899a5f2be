/**
 * Every state-changing admin call says why (issue #12: "every change asks for a reason and
 * appears in the audit log"): without a reason — missing, empty, blank, not a string — each one is
 * a 400 problem+json naming `reason`, and nothing changes: no flag, rule, run, cache entry or
 * shadow result, and no audit entry. One real Switchyard (embedded stores) in front of real gunicorn Flask.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { admin, cacheStatus, eventually, get, sharedStateInstance, shadowTotals } from '../support/shared-state.js';
import type { Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let sy: Listening;
const CACHED = '/c/cacheable?t=reasons';

type Method = 'PUT' | 'POST' | 'DELETE';
/** Each state-changing call with a body that would be applied if it carried a reason. */
const CALLS: readonly { name: string; method: Method; path: string; body: Record<string, unknown> }[] = [
  { name: 'set a route', method: 'PUT', path: '/_switchyard/flags/routes/users', body: { percentage: 40 } },
  { name: 'drop a route override', method: 'DELETE', path: '/_switchyard/flags/routes/catalog', body: {} },
  { name: 'kill switch', method: 'PUT', path: '/_switchyard/flags/kill-switch', body: { on: true } },
  { name: 'approve an ignore rule', method: 'POST', path: '/_switchyard/shadow-rules/catalog/approve', body: { field: '/total' } },
  { name: 'reject an ignore rule', method: 'POST', path: '/_switchyard/shadow-rules/catalog/reject', body: { field: '/total' } },
  { name: 'withdraw an ignore decision', method: 'POST', path: '/_switchyard/shadow-rules/catalog/withdraw', body: { field: '/items' } },
  { name: 'start the autopilot', method: 'POST', path: '/_switchyard/canary/users/start', body: {} },
  { name: 'pause the autopilot', method: 'POST', path: '/_switchyard/canary/users/pause', body: {} },
  { name: 'purge a URL', method: 'POST', path: '/_switchyard/cache/purge', body: { url: CACHED } },
  { name: 'purge a route', method: 'POST', path: '/_switchyard/cache/purge', body: { route: 'cached' } },
  { name: 'purge everything', method: 'DELETE', path: '/_switchyard/cache', body: {} },
  { name: 'reset shadow results', method: 'DELETE', path: '/_switchyard/shadow/catalog', body: {} },
];
const NO_REASON: readonly { name: string; reason?: unknown }[] = [{ name: 'missing' }, { name: 'empty', reason: '' }, { name: 'blank', reason: ' \u00a0 ' }, { name: 'a number', reason: 42 }, { name: 'null', reason: null }, { name: 'an array', reason: ['why'] }];

/** Everything a refused call could have changed, as the admin API reads it. */
async function state(): Promise<unknown> {
  const body = async (path: string) => {
    const r = await get(sy, path);
    assert.equal(r.status, 200, `${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const flags = (await body('/_switchyard/flags')) as { routes: unknown; killSwitch: unknown; runtimeVersion: unknown };
  return {
    flags: { routes: flags.routes, killSwitch: flags.killSwitch, version: flags.runtimeVersion },
    flagsAudit: await body('/_switchyard/flags/audit?limit=1000'),
    rules: await body('/_switchyard/shadow-rules'),
    rulesAudit: await body('/_switchyard/shadow-rules/audit?limit=1000'),
    canary: await body('/_switchyard/canary'),
    shadow: await body('/_switchyard/shadow/catalog'),
  };
}

before(async () => {
  flask = await startFlask({ workers: 2 });
  sy = await sharedStateInstance(flask.url, `reasons-${randomUUID().slice(0, 8)}`, 'reasons', {});
  // State the refused calls would change: an override to drop, a decision to withdraw, a cached entry.
  assert.equal((await admin(sy, 'PUT', '/_switchyard/flags/routes/catalog', { mode: 'legacy', reason: 'setup' })).status, 200);
  assert.equal((await admin(sy, 'POST', '/_switchyard/shadow-rules/catalog/approve', { field: '/items', reason: 'setup' })).status, 200);
  assert.equal(cacheStatus(await get(sy, CACHED)), 'MISS');
  await eventually('the entry is cached', async () => cacheStatus(await get(sy, CACHED)) === 'HIT');
  assert.equal((await get(sy, '/flask/catalog')).status, 200);
  await eventually('a shadow comparison is recorded', async () => (await shadowTotals(sy, 'catalog')).compared > 0);
});
after(async () => {
  await sy?.close();
  await flask?.stop();
});

describe('a state-changing admin call without a reason is refused and changes nothing', () => {
  for (const call of CALLS) {
    it(`${call.method} ${call.path} (${call.name})`, async () => {
      const before = await state();
      for (const variant of NO_REASON) {
        const res = await admin(sy, call.method, call.path, 'reason' in variant ? { ...call.body, reason: variant.reason } : call.body);
        const what = `reason ${variant.name}: ${JSON.stringify(res.body)}`;
        assert.equal(res.status, 400, what);
        assert.match(String(res.headers.get('content-type')), /^application\/problem\+json/, what);
        assert.equal((res.body as { code: string }).code, 'SWITCHYARD_ADMIN_BAD_INPUT', what);
        assert.match((res.body as { detail: string }).detail, /^reason: required/, what);
      }
      assert.deepEqual(await state(), before, 'no flag, rule, run, shadow result or audit entry changed');
      assert.equal(cacheStatus(await get(sy, CACHED)), 'HIT', 'nothing was purged');
    });
  }

  it('a reason over 1000 characters is refused too; with a reason each call goes through and is audited', async () => {
    const long = await admin(sy, 'PUT', '/_switchyard/flags/routes/users', { percentage: 40, reason: 'x'.repeat(1001) });
    assert.equal(long.status, 400);
    assert.match((long.body as { detail: string }).detail, /^reason: required: say why, as a non-empty string of at most 1000 characters/);
    const set = await admin(sy, 'PUT', '/_switchyard/flags/routes/users', { percentage: 40, reason: '  step to 40  ' });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    assert.equal((set.body as { audit: { reason: string } }).audit.reason, 'step to 40', 'kept trimmed');
    const purged = await admin(sy, 'POST', '/_switchyard/cache/purge', { url: CACHED, reason: 'done' });
    assert.equal(purged.status, 200, JSON.stringify(purged.body));
    assert.notEqual(cacheStatus(await get(sy, CACHED)), 'HIT');
  });
});
