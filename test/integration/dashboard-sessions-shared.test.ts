/**
 * Signing out of the dashboard on one instance ends the session on every instance sharing a
 * private real Redis (in front of real gunicorn Flask); without Redis only on the instance that
 * took the sign-out, as documented. Open event streams end with their session, on every instance.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { openEventStream, type EventStream } from '../support/event-stream.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { ADMIN, sharedStateInstance } from '../support/shared-state.js';
import type { Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let redis: RedisServer;
let namespace: string;
let a: Listening;
let b: Listening;

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2 }), startRedis()]);
  namespace = `ss-${randomUUID().slice(0, 8)}`;
  [a, b] = await Promise.all([sharedStateInstance(flask.url, namespace, 'sessions-a', { redis: redis.url }), sharedStateInstance(flask.url, namespace, 'sessions-b', { redis: redis.url })]);
});
after(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await Promise.all([flask?.stop(), redis?.stop()]);
});

interface Signed {
  cookie: string;
  csrf: string;
  signOut: string;
}
async function signIn(sy: Listening, name: string): Promise<Signed> {
  const res = await fetch(`${sy.url}/_switchyard/ui/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: ADMIN, name }) });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { csrfToken: string; signOut: string };
  const cookie = /^(switchyard_session=[^;]+)/.exec(res.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie, 'a session cookie');
  return { cookie, csrf: body.csrfToken, signOut: body.signOut };
}
const signOut = (sy: Listening, s: Signed) => fetch(`${sy.url}/_switchyard/ui/session`, { method: 'DELETE', headers: { cookie: s.cookie, 'x-csrf-token': s.csrf } });
/** What the cookie gets from the admin API and the session endpoint of `sy`. */
async function opens(sy: Listening, s: Signed): Promise<[number, number]> {
  const api = await fetch(`${sy.url}/_switchyard/routes`, { headers: { cookie: s.cookie } });
  const session = await fetch(`${sy.url}/_switchyard/ui/session`, { headers: { cookie: s.cookie } });
  return [api.status, session.status];
}

describe('dashboard sign-out across instances', () => {
  it('with Redis: a cookie signed out on A is refused by B at once, and by an instance started later; other sessions live on', async () => {
    const ana = await signIn(a, 'ana');
    const bob = await signIn(b, 'bob');
    assert.equal(ana.signOut, 'all-instances');
    assert.deepEqual(await opens(b, ana), [200, 200], 'the signed cookie opens every instance');
    const out = await signOut(a, ana);
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /switchyard_session=; .*Max-Age=0/);
    assert.deepEqual(await opens(a, ana), [401, 401]);
    assert.deepEqual(await opens(b, ana), [401, 401], 'refused by the other instance, right after the sign-out');
    const change = await fetch(`${b.url}/_switchyard/flags/kill-switch`, { method: 'PUT', headers: { cookie: ana.cookie, 'x-csrf-token': ana.csrf, 'content-type': 'application/json' }, body: JSON.stringify({ on: true, reason: 'replayed' }) });
    assert.equal(change.status, 401, 'a replayed cookie changes nothing');
    const c = await sharedStateInstance(flask.url, namespace, 'sessions-c', { redis: redis.url });
    try {
      assert.deepEqual(await opens(c, ana), [401, 401], 'kept in Redis, not only in the processes that were told');
      assert.deepEqual(await opens(c, bob), [200, 200], 'only that session ended');
    } finally {
      await c.close();
    }
    assert.deepEqual(await opens(a, bob), [200, 200]);
  });

  it('with Redis: a sign-out on A ends the session’s open event stream on B (at B’s next beat), not the others’', async () => {
    const kim = await signIn(a, 'kim');
    const lee = await signIn(a, 'lee');
    const streams: EventStream[] = [];
    try {
      const [kimsOnB, leesOnB] = await Promise.all([openEventStream(`${b.url}/_switchyard/events`, { cookie: kim.cookie }), openEventStream(`${b.url}/_switchyard/events`, { cookie: lee.cookie })]);
      streams.push(kimsOnB, leesOnB);
      await Promise.all(streams.map((s) => s.readUntil(/event: update\n/)));
      assert.equal((await signOut(a, kim)).status, 204);
      assert.match(await kimsOnB.ended(), /event: session-ended\ndata: \{"reason":"signed-out"\}\n\n$/);
      // Lee's stream on B beats on after Kim's ended.
      const seen = leesOnB.text().length;
      await leesOnB.readUntil(/event: update\n/, seen);
      assert.doesNotMatch(leesOnB.text(), /session-ended/);
    } finally {
      for (const s of streams) s.close();
    }
  });

  it('with Redis down: the sign-out still ends the session on this instance and says it could not be shared (503)', async () => {
    const eve = await signIn(a, 'eve');
    await redis.kill();
    try {
      const out = await signOut(a, eve);
      assert.equal(out.status, 503);
      assert.equal(((await out.json()) as { code: string }).code, 'SWITCHYARD_SESSION_STORE_UNAVAILABLE');
      assert.match(out.headers.get('set-cookie') ?? '', /switchyard_session=; .*Max-Age=0/, 'the browser forgets it all the same');
      assert.deepEqual(await opens(a, eve), [401, 401]);
    } finally {
      await redis.restart();
    }
  });

  it('without Redis: the sign-out ends the session on this process only (documented)', async () => {
    const [x, y] = await Promise.all([sharedStateInstance(flask.url, namespace, 'alone-x', { redis: null }), sharedStateInstance(flask.url, namespace, 'alone-y', { redis: null })]);
    try {
      const ida = await signIn(x, 'ida');
      assert.equal(ida.signOut, 'this-process');
      assert.equal((await signOut(x, ida)).status, 204);
      assert.deepEqual(await opens(x, ida), [401, 401]);
      assert.deepEqual(await opens(y, ida), [200, 200], 'another process does not know of it');
    } finally {
      await Promise.all([x.close(), y.close()]);
    }
  });
});
