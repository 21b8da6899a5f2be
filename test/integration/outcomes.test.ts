import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Request, Response } from 'express';
import { eventually } from '../support/shared-state.js';
import supertest from 'supertest';
import { request } from '../support/http-client.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * Outcomes per route and side, against real gunicorn Flask and a private redis-server: what the
 * admin API reports must match what clients received, across two instances sharing Redis, and
 * degrade to this process (never a client error) when Redis goes away.
 */
const ADMIN = 'outcomes-admin-token-0123456789';
let flask: LegacyServer;
let redis: RedisServer;

const handlers = {
  fast: (_req: Request, res: Response) => void res.json({ ok: true }),
  failing: (_req: Request, res: Response) => void res.status(503).json({ ok: false }),
  // Flask's /users/<id> answers {id, name: "user-<id>", source: "flask"}: this port agrees for ids
  // 0 and 1 modulo 5 and says "new" for the rest, so a known share of the shadows mismatch.
  user: (req: Request, res: Response) => {
    const id = Number(req.path.split('/').pop());
    res.json({ id, name: `user-${id}`, source: id % 5 < 2 ? 'flask' : 'new' });
  },
};

const flags = () => `
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: mixed
    path: /status/*
    legacy: { upstream: flask }
    new: { handler: failing }
    mode: legacy
  - name: split
    path: /hello
    legacy: { upstream: flask }
    new: { handler: fast }
    mode: rollout
    rollout: { percentage: 50 }
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
  - name: timed
    path: /slow
    legacy: { upstream: flask }
  - name: compared
    path: /users/*
    legacy: { upstream: flask }
    new: { handler: user }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 0 }
`;

async function instance(redisUrl: string | null, name: string): Promise<Listening> {
  return listen({
    flags: flagsText(flags()),
    handlers,
    adminToken: ADMIN,
    logger: captureLogger(),
    cache: { redisUrl: null },
    outcomes: redisUrl === null ? { store: null, instance: name } : { redisUrl, instance: name, publishEveryMs: 100 },
  });
}

interface SideView {
  requests: number;
  status: Record<string, number>;
  errorRate: number | null;
  cacheHits: number;
  latencyMs: { p50: number; p95: number; p99: number } | null;
}
interface Outcomes {
  scope: string;
  instances: number;
  degraded?: string;
  detail?: string;
  window: { ms: number };
  sides: { legacy: SideView; new: SideView };
  shadow?: { compared: number; mismatched: number; mismatchRate: number | null };
}

const outcomesOf = async (sy: Listening, route: string, window = '5m') => {
  const res = await supertest(sy.url).get(`/_switchyard/routes/${route}/outcomes?window=${window}`).set('Authorization', `Bearer ${ADMIN}`);
  return { status: res.status, body: res.body as Outcomes };
};

before(async () => {
  flask = await startFlask({ workers: 2 });
  redis = await startRedis();
});
after(async () => {
  await flask?.stop();
  await redis?.stop();
});

describe('outcomes per route and side', () => {
  let a: Listening;
  let b: Listening;
  before(async () => {
    [a, b] = await Promise.all([instance(redis.url, 'instance-a'), instance(redis.url, 'instance-b')]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('200 requests of a known mix over two instances: the counts match what clients received, fleet-wide', async () => {
    const plan: string[] = [];
    for (let i = 0; i < 200; i++) plan.push(i % 10 === 0 ? '/status/503' : i % 10 === 1 ? '/status/404' : i % 10 === 2 ? '/status/302' : '/status/200');
    const received: number[] = [];
    for (let i = 0; i < plan.length; i += 20) {
      const batch = plan.slice(i, i + 20);
      const replies = await Promise.all(batch.map((path, j) => request((i + j) % 2 === 0 ? a.url : b.url, path)));
      received.push(...replies.map((r) => r.status));
    }
    // Both have published (every 100 ms) once either sees all 200.
    for (const sy of [a, b]) await eventually('the fleet view holds all 200', async () => (await outcomesOf(sy, 'mixed')).body.sides.legacy.requests === 200);
    const count = (lo: number) => received.filter((s) => s >= lo && s < lo + 100).length;
    for (const sy of [a, b]) {
      const { status, body } = await outcomesOf(sy, 'mixed');
      assert.equal(status, 200);
      assert.equal(body.scope, 'fleet');
      assert.equal(body.instances, 2);
      const legacy = body.sides.legacy;
      assert.equal(legacy.requests, 200);
      assert.deepEqual(legacy.status, { '2xx': count(200), '3xx': count(300), '4xx': count(400), '5xx': count(500), other: 0 });
      assert.equal(legacy.errorRate, count(500) / 200);
      const l = legacy.latencyMs;
      assert.ok(l !== null && l.p50 > 0 && l.p50 <= l.p95 && l.p95 <= l.p99);
      assert.equal(body.sides.new.requests, 0);
      assert.equal(body.sides.new.errorRate, null);
    }
  });

  it('200 requests with known latencies over two instances: the fleet-wide p50 is a fast request, p95 and p99 the slow tenth', async () => {
    // Two lanes, one per instance, each one request at a time (gunicorn has two workers, so no
    // request queues behind another); every tenth sleeps SLOW_MS in Flask, the rest not at all.
    const SLOW_MS = 250;
    const lane = async (sy: Listening): Promise<{ fast: number[]; slow: number[] }> => {
      const fast: number[] = [];
      const slow: number[] = [];
      for (let i = 0; i < 100; i++) {
        const sleeps = i % 10 === 9;
        const started = performance.now();
        const reply = await request(sy.url, `/slow?ms=${sleeps ? SLOW_MS : 0}`);
        assert.equal(reply.status, 200);
        (sleeps ? slow : fast).push(performance.now() - started);
      }
      return { fast, slow };
    };
    const lanes = await Promise.all([lane(a), lane(b)]);
    const fast = lanes.flatMap((l) => l.fast);
    const slow = lanes.flatMap((l) => l.slow);
    assert.equal(slow.length, 20);
    for (const sy of [a, b]) {
      const body = await eventually('the fleet view holds all 200', async () => {
        const view = (await outcomesOf(sy, 'timed')).body;
        return view.sides.legacy.requests === 200 ? view : undefined;
      });
      const l = body.sides.legacy.latencyMs;
      assert.ok(l !== null);
      // Switchyard measures inside the client's round trip, so each of its latencies is at most the
      // client's; the sketch's relative error is 1%. Ranks 100 (p50) of 200 is one of the 180 fast
      // requests; ranks 190 and 198 (p95, p99) are among the 20 that slept.
      const alpha = 1.01;
      assert.ok(l.p50 <= Math.max(...fast) * alpha, `p50 ${l.p50} ms is a fast request's (slowest fast: ${Math.max(...fast)} ms)`);
      assert.ok(l.p50 < SLOW_MS / alpha, `p50 ${l.p50} ms`);
      for (const [name, value] of [['p95', l.p95], ['p99', l.p99]] as const) {
        assert.ok(value >= SLOW_MS / alpha, `${name} ${value} ms covers the ${SLOW_MS} ms sleep`);
        assert.ok(value <= Math.max(...slow) * alpha, `${name} ${value} ms is at most the slowest client round trip (${Math.max(...slow)} ms)`);
      }
    }
  });

  it('the shadow mismatch rate of the same window, fleet-wide: 6 of 10 compared shadows differ', async () => {
    for (let id = 0; id < 10; id++) {
      const reply = await request(id % 2 === 0 ? a.url : b.url, `/users/${id}`);
      assert.equal(reply.status, 200);
      assert.equal(reply.json()['source'], 'flask', 'legacy serves; the new side is only shadowed');
    }
    for (const sy of [a, b]) {
      const body = await eventually('all 10 comparisons in the fleet view', async () => {
        const view = (await outcomesOf(sy, 'compared')).body;
        return view.shadow?.compared === 10 ? view : undefined;
      });
      assert.deepEqual(body.shadow, { compared: 10, mismatched: 6, mismatchRate: 0.6 });
      assert.equal(body.sides.legacy.requests, 10);
      assert.equal(body.sides.new.requests, 0, 'shadow calls are not served requests');
    }
    const other = await outcomesOf(a, 'mixed');
    assert.deepEqual(other.body.shadow, { compared: 0, mismatched: 0, mismatchRate: null }, 'per route');
  });

  it('per side: a 50% split counts each side, cache hits are counted', async () => {
    for (let i = 0; i < 40; i++) await request(a.url, '/hello', { headers: { 'x-user-id': `user-${i}` } });
    await request(a.url, '/c/cacheable?t=outcomes');
    await request(a.url, '/c/cacheable?t=outcomes');
    // Read on the other instance: once a's publish has reached it.
    const body = await eventually('b sees a\'s 40 split requests', async () => {
      const view = (await outcomesOf(b, 'split')).body;
      return view.sides.legacy.requests + view.sides.new.requests >= 40 ? view : undefined;
    });
    assert.equal(body.sides.legacy.requests + body.sides.new.requests, 40);
    assert.ok(body.sides.legacy.requests > 0 && body.sides.new.requests > 0);
    const cached = await eventually('b sees both cached-route requests', async () => {
      const view = await outcomesOf(b, 'cached');
      return view.body.sides.legacy.requests >= 2 ? view : undefined;
    });
    assert.equal(cached.body.sides.legacy.requests, 2);
    assert.equal(cached.body.sides.legacy.cacheHits, 1);
  });

  it('bad input: unknown route 404, bad or too long window 400, all problem+json; no token 401', async () => {
    const unknown = await outcomesOf(a, 'nope');
    assert.equal(unknown.status, 404);
    for (const window of ['abc', '5x', '0s', '16m', '-1m']) {
      const bad = await outcomesOf(a, 'mixed', window);
      assert.equal(bad.status, 400, window);
      assert.match(String(bad.body.detail), /window/);
    }
    const res = await supertest(a.url).get('/_switchyard/routes/mixed/outcomes?window=5m&window=1m').set('Authorization', `Bearer ${ADMIN}`);
    assert.equal(res.status, 400);
    assert.match(res.headers['content-type'] ?? '', /problem\+json/);
    await supertest(a.url).get('/_switchyard/routes/mixed/outcomes').expect(401);
  });

  it('Redis down: clients are served, outcomes degrade to this process and say so', async () => {
    await redis.kill();
    const reply = await request(a.url, '/status/200');
    assert.equal(reply.status, 200);
    const { status, body } = await outcomesOf(a, 'mixed');
    assert.equal(status, 200);
    assert.equal(body.scope, 'this-process');
    assert.match(String(body.degraded), /outcome store \(redis\) failed/);
    assert.ok(body.sides.legacy.requests >= 100, 'this process still counts its own');
  });
});

describe('outcomes without Redis', () => {
  it('this process only, and the answer says so', async () => {
    const sy = await instance(null, 'solo');
    try {
      await request(sy.url, '/status/500');
      const { body } = await outcomesOf(sy, 'mixed', '30s');
      assert.equal(body.scope, 'this-process');
      assert.equal(body.degraded, undefined);
      assert.equal(body.sides.legacy.requests, 1);
      assert.equal(body.sides.legacy.status['5xx'], 1);
      assert.equal(body.window.ms, 30_000);
    } finally {
      await sy.close();
    }
  });
});
