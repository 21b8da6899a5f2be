import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import type { NewHandler } from '../../src/index.js';
import { createSwitchyard, type Switchyard } from '../../src/app.js';
import { PROMETHEUS_CONTENT_TYPE } from '../../src/metrics/prometheus-text.js';
import { Readiness } from '../../src/server/readiness.js';
import { RedisShadowStore } from '../../src/shadow/redis-shadow-store.js';
import { silentLogger } from '../../src/logging/logger.js';
import { eventually } from '../support/cli-process.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-parse.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { flagsText, listen } from '../support/switchyard-harness.js';

const ADMIN = 'admin-token-0123456789';
const SCRAPE = 'scrape-token-0123456789';
let flask: LegacyServer;
let redis: RedisServer;

const handlers: Record<string, NewHandler> = {
  hello: (_req, res) => void res.json({ message: 'Hello from Flask!' }),
  catalog: (_req, res) => void res.json({ items: [], tags: [], price: 9.99, total: 0, generated_at: Date.now() / 1000 }),
};
const flags = (maxInFlight = 4) => `
upstreams:
  flask: { url: "${flask.url}", maxInFlight: ${maxInFlight}, maxQueue: 8 }
routes:
  - { name: app, path: /flask/*, legacy: { upstream: flask, stripPrefix: /flask } }
  - { name: hello, path: /flask/hello, methods: [GET], legacy: { upstream: flask, stripPrefix: /flask }, new: { handler: hello }, mode: new }
  - { name: cached, path: /flask/cacheable, legacy: { upstream: flask, stripPrefix: /flask }, cache: {} }
  - { name: catalog, path: /flask/catalog, legacy: { upstream: flask, stripPrefix: /flask }, new: { handler: catalog }, mode: legacy, shadow: { percentage: 100 } }
`;

before(async () => {
  flask = await startFlask({ workers: 2 });
  redis = await startRedis();
});
after(async () => {
  await flask?.stop();
  await redis?.stop();
});

describe('/_switchyard/healthz and /_switchyard/readyz', () => {
  let sy: Switchyard;
  before(async () => {
    sy = await createSwitchyard({ flags: flagsText(flags()), handlers, adminToken: ADMIN, watch: false, logger: silentLogger });
  });
  after(() => sy.close());

  it('answer without the admin token, revealing only the state', async () => {
    const live = await supertest(sy.handler).get('/_switchyard/healthz').expect(200);
    assert.deepEqual(live.body, { status: 'ok' });
    assert.equal(live.headers['cache-control'], 'no-store');
    const ready = await supertest(sy.handler).get('/_switchyard/readyz').expect(200);
    assert.deepEqual(ready.body, { status: 'ready' });
    assert.deepEqual(Object.keys(ready.body), ['status'], 'no version, routes or dependencies');
    await supertest(sy.handler).head('/_switchyard/readyz').expect(200);
    // The same answers through the Express app and the embeddable middleware.
    await supertest(sy.app).get('/_switchyard/healthz').expect(200, { status: 'ok' });
  });

  it('the rest of /_switchyard still needs the token; probes refuse other methods', async () => {
    await supertest(sy.handler).get('/_switchyard/flags').expect(401);
    await supertest(sy.handler).get('/_switchyard/healthz/extra').expect(401);
    const post = await supertest(sy.handler).post('/_switchyard/readyz').expect(405);
    assert.equal(post.headers['allow'], 'GET, HEAD');
  });

  it('readyz is 503 while starting (a Readiness the CLI shares) and again while draining', async () => {
    const readiness = new Readiness();
    assert.equal(readiness.state, 'starting');
    const other = await createSwitchyard({ flags: flagsText(flags()), handlers, watch: false, logger: silentLogger, readiness });
    try {
      assert.equal(other.readiness, readiness);
      await supertest(other.handler).get('/_switchyard/readyz').expect(200, { status: 'ready' });
      other.readiness.markDraining();
      await supertest(other.handler).get('/_switchyard/readyz').expect(503, { status: 'draining' });
      other.readiness.markReady();
      assert.equal(other.readiness.state, 'draining', 'a draining process never becomes ready again');
      await supertest(other.handler).get('/_switchyard/healthz').expect(200, { status: 'ok' });
    } finally {
      await other.close();
    }
  });
});

describe('/_switchyard/metrics (Prometheus text)', () => {
  it('is off by default: the path does not exist — the same 404 as any other path under /_switchyard', async () => {
    const sy = await createSwitchyard({ flags: flagsText(flags()), handlers, watch: false, logger: silentLogger });
    try {
      const res = await supertest(sy.handler).get('/_switchyard/metrics').expect(404);
      assert.match(res.headers['content-type']!, /application\/problem\+json/);
      assert.equal(res.body.code, 'SWITCHYARD_ADMIN_DISABLED');
      assert.deepEqual((await supertest(sy.handler).get('/_switchyard/no-such-thing').expect(404)).body, res.body);
    } finally {
      await sy.close();
    }
  });

  it('exposes decisions by side, cache outcomes, shadow compared/skipped and upstream in-flight/queued — valid for the Prometheus parser', async () => {
    // The one shadow is compared however busy the machine is (skipping when overloaded is tested elsewhere).
    const l = await listen({ flags: flagsText(flags(1)), handlers, watch: false, logger: silentLogger, metrics: { prometheus: true }, shadow: { loopUtilization: () => 0 } });
    try {
      const get = (path: string, init?: RequestInit) => fetch(`${l.url}${path}`, init).then(async (r) => ({ status: r.status, headers: r.headers, text: await r.text() }));
      await get('/flask/hello');
      await get('/flask/hello');
      assert.equal((await get('/flask/cacheable?max_age=60')).headers.get('x-switchyard-cache'), 'MISS');
      assert.equal((await get('/flask/cacheable?max_age=60')).headers.get('x-switchyard-cache'), 'HIT');
      await get('/flask/catalog');
      await get('/flask/catalog', { method: 'POST' }); // unsafe: not mirrored, counted as skipped
      const scrape = async () => parsePrometheusText((await get('/_switchyard/metrics')).text);
      assert.ok(await eventually(async () => sampleValue(await scrape(), 'switchyard_shadow_compared_total', { route: 'catalog', outcome: 'mismatched' }) === 1), 'the shadow comparison is counted');

      // One legacy request at the only slot, two waiting for it: the gauges say so while it lasts.
      const slow = [0, 1, 2].map(() => get('/flask/slow?ms=1500'));
      assert.ok(await eventually(async () => sampleValue(await scrape(), 'switchyard_upstream_queued', { upstream: 'flask' }) === 2, 1_000));
      const res = await get('/_switchyard/metrics');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), PROMETHEUS_CONTENT_TYPE);
      const m = parsePrometheusText(res.text);
      const types = Object.fromEntries(m.map((f) => [f.name, f.type]));
      assert.equal(types['switchyard_decisions'], 'counter');
      assert.equal(types['switchyard_upstream_in_flight'], 'gauge');
      assert.equal(sampleValue(m, 'switchyard_upstream_in_flight', { upstream: 'flask' }), 1);
      assert.equal(sampleValue(m, 'switchyard_decisions_total', { route: 'hello', side: 'new' }), 2);
      assert.equal(sampleValue(m, 'switchyard_decisions_total', { route: 'hello', side: 'legacy' }), 0);
      assert.equal(sampleValue(m, 'switchyard_decisions_total', { route: 'cached', side: 'legacy' }), 2);
      assert.equal(sampleValue(m, 'switchyard_cache_responses_total', { route: 'cached', status: 'hit' }), 1);
      assert.equal(sampleValue(m, 'switchyard_cache_responses_total', { route: 'cached', status: 'miss' }), 1);
      assert.equal(sampleValue(m, 'switchyard_shadow_skipped_total', { route: 'catalog', reason: 'unsafe_method' }), 1);
      assert.equal(sampleValue(m, 'switchyard_ready'), 1);
      assert.equal(sampleValue(m, 'switchyard_kill_switch'), 0);
      assert.equal(sampleValue(m, 'switchyard_info', { flags_version: l.switchyard.config.version }), 1);
      // The process's own health (what npm run soak samples): memory, heap, event-loop delay.
      assert.ok(sampleValue(m, 'process_resident_memory_bytes')! > 1_000_000);
      assert.ok(sampleValue(m, 'nodejs_heap_used_bytes')! > 0);
      assert.equal(types['nodejs_eventloop_delay_seconds'], 'gauge');
      assert.ok(sampleValue(m, 'nodejs_eventloop_delay_seconds', { quantile: '0.99' })! >= 0);
      await Promise.all(slow);
      assert.equal(sampleValue(await scrape(), 'switchyard_upstream_in_flight', { upstream: 'flask' }), 0);
    } finally {
      await l.close();
    }
  });

  it('with a metrics token: 401 without it, 403 with another (the admin token too), 200 with it', async () => {
    const sy = await createSwitchyard({ flags: flagsText(flags()), handlers, adminToken: ADMIN, watch: false, logger: silentLogger, metrics: { prometheus: true, token: SCRAPE } });
    try {
      const none = await supertest(sy.handler).get('/_switchyard/metrics').expect(401);
      assert.equal(none.body.code, 'SWITCHYARD_METRICS_UNAUTHENTICATED');
      assert.match(none.headers['www-authenticate']!, /^Bearer /);
      assert.equal((await supertest(sy.handler).get('/_switchyard/metrics').set('Authorization', `Bearer ${ADMIN}`).expect(403)).body.code, 'SWITCHYARD_METRICS_FORBIDDEN');
      const ok = await supertest(sy.handler).get('/_switchyard/metrics').set('Authorization', `Bearer ${SCRAPE}`).expect(200);
      assert.ok(parsePrometheusText(ok.text).some((f) => f.name === 'switchyard_decisions'));
      await supertest(sy.handler).delete('/_switchyard/metrics').set('Authorization', `Bearer ${SCRAPE}`).expect(405);
    } finally {
      await sy.close();
    }
    await assert.rejects(createSwitchyard({ flags: flagsText(flags()), handlers, watch: false, logger: silentLogger, metrics: { prometheus: true, token: 'short' } }), /metricsToken: must be at least 16 characters/);
  });

  it('shadow counters are per process even when the results store is Redis (summing instances stays right)', async () => {
    const namespace = `metrics-${Date.now()}`;
    const shared = () => new RedisShadowStore({ url: redis.url, namespace, maxSamples: 10, commandTimeoutMs: 500 });
    const a = await createSwitchyard({ flags: flagsText(flags()), handlers, adminToken: ADMIN, watch: false, logger: silentLogger, metrics: { prometheus: true }, shadow: { store: shared(), loopUtilization: () => 0 } });
    const b = await createSwitchyard({ flags: flagsText(flags()), handlers, adminToken: ADMIN, watch: false, logger: silentLogger, metrics: { prometheus: true }, shadow: { store: shared(), loopUtilization: () => 0 } });
    try {
      await supertest(a.handler).get('/flask/catalog').expect(200);
      await supertest(b.handler).get('/flask/catalog').expect(200);
      await supertest(b.handler).get('/flask/catalog').expect(200);
      const compared = async (sy: Switchyard) => sampleValue(parsePrometheusText((await supertest(sy.handler).get('/_switchyard/metrics')).text), 'switchyard_shadow_compared_total', { route: 'catalog', outcome: 'mismatched' });
      assert.ok(await eventually(async () => (await compared(a)) === 1 && (await compared(b)) === 2));
      // The admin API reads the shared store: both instances' comparisons.
      const total = await supertest(a.handler).get('/_switchyard/shadow/catalog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      assert.equal(total.body.compared, 3);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
