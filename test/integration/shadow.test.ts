import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import type { NewHandler } from '../../src/server/switch-middleware.js';
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../../src/app.js';
import { RedisShadowStore } from '../../src/shadow/redis-shadow-store.js';
import { MemoryShadowStore, type RouteShadowCounts, type ShadowResultStore } from '../../src/shadow/shadow-store.js';
import { fetchJson, freePort, freshFetch, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText } from '../support/switchyard-harness.js';

const ADMIN = 'shadow-admin-token-0123456789';
let flask: LegacyServer;
let redis: RedisServer;

/** New TypeScript handlers with planted differences from the Flask app. */
const handlers: Record<string, NewHandler> = {
  // Same catalog, but: tags reordered (unordered rule), updated_at differs (ignored), price off
  // by 0.004 (tolerance), total changed (a real difference), generated_at differs (pure noise).
  catalog: (_req, res) => {
    const now = Date.now() / 1000 + 1000;
    res.json({ items: [{ id: 1, name: 'anvil', updated_at: now }, { id: 2, name: 'rope', updated_at: now }], tags: ['sale', 'tools', 'outdoor'], price: 10.004, total: 3, generated_at: now });
  },
  status: (req, res) => void res.status(Number(req.params['code']) + 1).json({ status: Number(req.params['code']) }),
  quick: (_req, res) => void res.json({ slept_ms: 0 }),
  counter: (_req, res) => void res.json({ value: -1 }),
  echo: (_req, res) => void res.json({ echoed: false }),
};

function flags(extra = ''): string {
  return `
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: catalog
    path: /flask/catalog
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: catalog }
    mode: legacy
    shadow:
      noisePercentage: 100
      ignore: [/items/*/updated_at]
      unordered: [/tags]
      tolerance: { /price: 0.01 }
  - name: status
    path: /flask/status/:code
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: status }
    mode: legacy
    shadow: { noisePercentage: 0 }
  - name: slow
    path: /flask/slow
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: quick }
    mode: new
    shadow: { noisePercentage: 0, timeoutMs: 10000 }
  - name: counter
    path: /flask/counter/*
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: counter }
    mode: legacy
    shadow: { noisePercentage: 100 }
  - name: counter-new
    path: /flask-new/counter/*
    legacy: { upstream: flask, stripPrefix: /flask-new }
    new: { handler: counter }
    mode: new
    shadow: {}
  - name: echo
    path: /flask/echo
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: echo }
    mode: new
    shadow: { noisePercentage: 0, redactHeaders: [x-api-key] }
${extra}
`;
}

async function make(store: ShadowResultStore = new MemoryShadowStore(), text = flags(), extra: Partial<SwitchyardOptions> = {}): Promise<Switchyard> {
  return createSwitchyard({ flags: flagsText(text), handlers, watch: false, logger: captureLogger(), adminToken: ADMIN, shadow: { store, random: () => 0, loopUtilization: () => 0 }, ...extra });
}

/** Shadow results arrive after the client's response: wait (bounded) until the counts say so. */
async function countsWhen(store: ShadowResultStore, route: string, ready: (c: RouteShadowCounts) => boolean): Promise<RouteShadowCounts> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const c = await store.counts(route);
    if (ready(c)) return c;
    if (Date.now() > deadline) assert.fail(`shadow counts for ${route} never got there: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2, threads: 2 }), startRedis()]);
});
after(async () => {
  await Promise.all([flask?.stop(), redis?.stop()]);
});

describe('shadow diffing against the real Flask app', () => {
  it('reports each planted difference exactly: a changed field is real, a timestamp is noise, ignored/unordered/tolerated fields match', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      for (let i = 0; i < 20; i++) {
        const res = await supertest(sy.app).get('/flask/catalog').set('X-User-Id', `u${i}`).expect(200);
        assert.equal(res.headers['x-switchyard-backend'], 'legacy');
        assert.equal(res.body.total, 2, 'the client always gets the serving side');
      }
      const c = await countsWhen(store, 'catalog', (x) => x.compared === 20);
      assert.equal(c.mismatched, 20);
      assert.equal(c.noiseSamples, 20);
      const admin = await supertest(sy.app).get('/_switchyard/shadow/catalog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      const fields = Object.fromEntries((admin.body.fields as { field: string; raw: number; noise: number; verdict: string }[]).map((f) => [f.field, f]));
      assert.deepEqual(Object.keys(fields).sort(), ['/generated_at', '/total']);
      assert.deepEqual(fields['/total'], { field: '/total', raw: 20, noise: 0, verdict: 'difference' });
      assert.equal(fields['/generated_at']?.verdict, 'noise');
      assert.equal(fields['/generated_at']?.raw, 20);
      assert.equal(fields['/generated_at']?.noise, 20);
      assert.deepEqual(admin.body.differences, ['/total']);
    } finally {
      await sy.close();
    }
  });

  // The standalone handler's dispatch writes the response head itself: the copy the shadow
  // compares must carry the headers the client got (Content-Type decides a JSON comparison),
  // whether or not decision headers were set beside them.
  for (const expose of [true, false]) {
    it(`compares the same fields through the standalone handler (exposeDecisionHeaders: ${expose})`, async () => {
      const store = new MemoryShadowStore();
      const sy = await make(store, `${flags()}\nsettings:\n  exposeDecisionHeaders: ${expose}\n`);
      try {
        for (let i = 0; i < 5; i++) {
          const res = await supertest(sy.handler).get('/flask/catalog').set('X-User-Id', `u${i}`).expect(200);
          assert.equal(res.headers['x-switchyard-backend'], expose ? 'legacy' : undefined);
          assert.equal(res.body.total, 2);
        }
        await countsWhen(store, 'catalog', (x) => x.compared === 5);
        const admin = await supertest(sy.app).get('/_switchyard/shadow/catalog').set('Authorization', `Bearer ${ADMIN}`).expect(200);
        assert.deepEqual((admin.body.fields as { field: string }[]).map((f) => f.field).sort(), ['/generated_at', '/total']);
        assert.deepEqual(admin.body.differences, ['/total']);
      } finally {
        await sy.close();
      }
    });
  }

  it('reports a different status', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      await supertest(sy.app).get('/flask/status/200').expect(200);
      const c = await countsWhen(store, 'status', (x) => x.compared === 1);
      assert.deepEqual(c.fields['@status'], { raw: 1, noise: 0 });
    } finally {
      await sy.close();
    }
  });

  it('legacy answering 502/503/504 is no baseline: counted as legacy_unavailable, not as a mismatch (its own 500 still compares)', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      // Flask answers the code asked for; the new handler answers code + 1.
      for (const code of [502, 503, 504]) await supertest(sy.app).get(`/flask/status/${code}`).expect(code);
      await supertest(sy.app).get('/flask/status/500').expect(500);
      const c = await countsWhen(store, 'status', (x) => x.skipped.legacy_unavailable === 3 && x.compared === 1);
      assert.equal(c.mismatched, 1, 'only the 500 was compared (and differs: the new side said 501)');
      assert.deepEqual(c.fields['@status'], { raw: 1, noise: 0 });
    } finally {
      await sy.close();
    }
  });

  it('never delays the client: the shadow side sleeps 2 s, the client is answered at once', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      const started = Date.now();
      const res = await supertest(sy.app).get('/flask/slow?ms=2000').expect(200);
      const answeredAfter = Date.now() - started;
      assert.deepEqual(res.body, { slept_ms: 0 });
      // The shadow (legacy, 2 s) has not finished when the client has its answer…
      assert.equal((await store.counts('slow')).compared, 0);
      assert.ok(answeredAfter < 2000, `answered after ${answeredAfter} ms`);
      // …and is compared afterwards.
      const c = await countsWhen(store, 'slow', (x) => x.compared === 1);
      assert.ok(Date.now() - started >= 2000);
      assert.equal(c.mismatched, 1);
    } finally {
      await sy.close();
    }
  });

  it('a POST is never sent twice by default (Flask counts its own side effects)', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      await freshFetch(`${flask.url}/__hits/reset`, { method: 'POST' });
      for (let i = 0; i < 5; i++) await supertest(sy.app).post('/flask/counter/incr').expect(200);
      for (let i = 0; i < 3; i++) await supertest(sy.app).post('/flask-new/counter/incr').expect(200);
      assert.equal((await countsWhen(store, 'counter', (x) => x.skipped.unsafe_method === 5)).compared, 0);
      assert.equal((await countsWhen(store, 'counter-new', (x) => x.skipped.unsafe_method === 3)).compared, 0);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await fetchJson(`${flask.url}/counter`), { value: 5 }, 'legacy served 5 POSTs, and was mirrored none');
      // GETs on the same route are mirrored, and (noise 100%) the legacy side is called twice.
      await supertest(sy.app).get('/flask/counter').expect(200);
      await countsWhen(store, 'counter', (x) => x.compared === 1);
      assert.deepEqual(await fetchJson(`${flask.url}/counter`), { value: 5 });
    } finally {
      await sy.close();
    }
  });

  it('marks shadow requests with X-Switchyard-Shadow: 1 and keeps redacted, truncated samples', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      await supertest(sy.app).get('/flask/echo?q=1').set('Authorization', 'Bearer secret-user-token').set('Cookie', 'sid=secret').set('X-Api-Key', 'k-secret').expect(200);
      await countsWhen(store, 'echo', (x) => x.compared === 1);
      const res = await supertest(sy.app).get('/_switchyard/shadow/echo/samples').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      const [sample] = res.body.samples as { candidate: { side: string; body: string }; primary: { side: string }; request: { path: string; headers: Record<string, string> }; flagVersion: string; bucket: number }[];
      assert.ok(sample);
      assert.equal(sample.primary.side, 'new');
      assert.equal(sample.candidate.side, 'legacy');
      assert.equal(sample.request.path, '/flask/echo?q=1');
      assert.equal(sample.request.headers['authorization'], '[redacted]');
      assert.equal(sample.request.headers['cookie'], '[redacted]');
      assert.equal(sample.request.headers['x-api-key'], '[redacted]');
      assert.equal(sample.flagVersion, sy.config.version);
      assert.ok(sample.bucket >= 1 && sample.bucket <= 100);
      const echoed = JSON.parse(sample.candidate.body) as { headers: Record<string, string> };
      assert.equal(echoed.headers['x-switchyard-shadow'], '1', 'the legacy app saw the shadow marker');
      // (Bodies are stored as the backends sent them: this echo endpoint reflects the headers.)
      assert.doesNotMatch(JSON.stringify(sample.request), /secret-user-token|sid=secret|k-secret/);
    } finally {
      await sy.close();
    }
  });

  for (const trusted of [false, true]) {
    it(`shadow calls to legacy carry the forwarded headers the proxy sends (${trusted ? 'trusted X-Forwarded-* kept' : 'forged X-Forwarded-* replaced'})`, async () => {
      const store = new MemoryShadowStore();
      const sy = await make(store, flags(trusted ? 'settings:\n  trustForwardedHeaders: true\n' : ''));
      try {
        await supertest(sy.app).get('/flask/echo?q=proto').set('X-Forwarded-Proto', 'https').set('X-Forwarded-For', '203.0.113.9').set('Host', 'shop.example').expect(200);
        await countsWhen(store, 'echo', (x) => x.compared === 1);
        const [sample] = await store.samples('echo', 10);
        assert.ok(sample);
        const seen = (JSON.parse(sample.candidate.body) as { headers: Record<string, string> }).headers;
        // The client came over plain HTTP: only a trusted proxy in front may say otherwise.
        assert.equal(seen['x-forwarded-proto'], trusted ? 'https' : 'http');
        assert.match(seen['x-forwarded-for'] ?? '', trusted ? /^203\.0\.113\.9, .*127\.0\.0\.1$/ : /^(::ffff:)?127\.0\.0\.1$/);
        assert.equal(seen['x-forwarded-host'], 'shop.example');
        assert.equal(seen['x-forwarded-prefix'], '/flask');
      } finally {
        await sy.close();
      }
    });
  }

  it('samples never hold the tester-override token', async () => {
    const store = new MemoryShadowStore();
    const token = 'override-token-SECRET-9876543210';
    const sy = await make(store, flags(), { overrideToken: token });
    try {
      await supertest(sy.app).get('/flask/status/200').set('X-Switchyard-Force', 'legacy').set('X-Switchyard-Override-Token', token).expect(200);
      await countsWhen(store, 'status', (x) => x.compared === 1);
      const [sample] = await store.samples('status', 10);
      assert.ok(sample);
      // Removed once read (a new handler never sees it either); redacted should it ever get this far.
      assert.ok(['[redacted]', undefined].includes(sample.request.headers['x-switchyard-override-token']));
      assert.doesNotMatch(JSON.stringify(sample), /override-token-SECRET/);
    } finally {
      await sy.close();
    }
  });

  it('the kill switch stops shadow traffic to the new side too, counted as kill_switch', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store, flags(), { useLegacy: true });
    try {
      const killed = await supertest(sy.app).get('/flask/status/200').expect(200);
      assert.equal(killed.headers['x-switchyard-backend'], 'legacy');
      await supertest(sy.handler).get('/flask/status/200').expect(200);
      sy.setKillSwitch(false);
      await supertest(sy.app).get('/flask/status/200').expect(200);
      const c = await countsWhen(store, 'status', (x) => x.compared >= 1);
      assert.equal(c.compared, 1, 'only the request after the kill switch was mirrored');
      const { kill_switch: killSwitch, ...others } = c.skipped;
      assert.equal(killSwitch, 2, 'both requests under the kill switch are counted under their reason');
      assert.equal(Object.values(others).reduce((a, b) => a + b, 0), 0, 'and under no other reason');
    } finally {
      await sy.close();
    }
  });
});

describe('skips, counted by reason', () => {
  it('sampled_out, body_too_large, timeout, error and breaker_open', async () => {
    const dead = await freePort();
    const store = new MemoryShadowStore();
    const text = `
upstreams:
  flask: { url: "${flask.url}" }
  dead: { url: "http://127.0.0.1:${dead}" }
routes:
  - name: never
    path: /never/*
    legacy: { upstream: flask, stripPrefix: /never }
    new: { handler: quick }
    shadow: { percentage: 0 }
  - name: uploads
    path: /uploads/*
    legacy: { upstream: flask, stripPrefix: /uploads }
    new: { handler: echo }
    shadow: { allowUnsafeMethods: true, maxBodyBytes: 10, noisePercentage: 0 }
  - name: sleepy
    path: /sleepy/*
    legacy: { upstream: flask, stripPrefix: /sleepy }
    new: { handler: quick }
    mode: new
    shadow: { timeoutMs: 200, noisePercentage: 0 }
  - name: broken
    path: /broken/*
    legacy: { upstream: dead }
    new: { handler: quick }
    mode: new
    shadow: { noisePercentage: 0 }
settings:
  shadow: { breakerFailures: 2, breakerCooldownMs: 60000 }
`;
    const sy = await make(store, text);
    try {
      for (let i = 0; i < 3; i++) await supertest(sy.app).get('/never/hello').expect(200);
      assert.equal((await countsWhen(store, 'never', (x) => x.skipped.sampled_out === 3)).compared, 0);

      // Declared too large (Content-Length), and found too large while streaming (chunked).
      await supertest(sy.app).post('/uploads/echo').send('x'.repeat(100)).expect(200);
      const server = sy.app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      const { port } = server.address() as { port: number };
      const chunked = await new Promise<number>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: '/uploads/echo', method: 'POST' }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.write('y'.repeat(60));
        req.end('y'.repeat(60));
      });
      server.close();
      assert.equal(chunked, 200);
      await countsWhen(store, 'uploads', (x) => x.skipped.body_too_large === 2);
      await supertest(sy.app).post('/uploads/echo').send('small').expect(200);
      await countsWhen(store, 'uploads', (x) => x.compared === 1);

      await supertest(sy.app).get('/sleepy/slow?ms=1500').expect(200);
      await countsWhen(store, 'sleepy', (x) => x.skipped.timeout === 1);

      for (let i = 0; i < 4; i++) await supertest(sy.app).get('/broken/x').expect(200);
      const c = await countsWhen(store, 'broken', (x) => x.skipped.error + x.skipped.breaker_open === 4);
      assert.equal(c.skipped.error, 2);
      assert.equal(c.skipped.breaker_open, 2);
    } finally {
      await sy.close();
    }
  });

  it('overloaded while the event loop is busier than settings.shadow.maxEventLoopUtilization; the client is answered as usual', async () => {
    const store = new MemoryShadowStore();
    let utilization = 0.95;
    const text = `${flags()}settings:\n  shadow: { maxEventLoopUtilization: 0.9 }\n`;
    const sy = await make(store, text, { shadow: { store, random: () => 0, loopUtilization: () => utilization } });
    try {
      const busy = await supertest(sy.app).get('/flask/status/200').expect(200);
      assert.equal(busy.headers['x-switchyard-backend'], 'legacy');
      const first = await countsWhen(store, 'status', (x) => x.skipped.overloaded === 1);
      assert.equal(first.compared, 0);
      utilization = 0.5;
      await supertest(sy.app).get('/flask/status/200').expect(200);
      const second = await countsWhen(store, 'status', (x) => x.compared === 1);
      assert.equal(second.skipped.overloaded, 1);
    } finally {
      await sy.close();
    }
  });

  it('overloaded when the route’s concurrency cap is reached', async () => {
    const store = new MemoryShadowStore();
    const text = `
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: capped
    path: /capped/*
    legacy: { upstream: flask, stripPrefix: /capped }
    new: { handler: quick }
    mode: new
    shadow: { maxConcurrent: 1, noisePercentage: 0 }
`;
    const sy = await make(store, text);
    try {
      await Promise.all([0, 1, 2].map(() => supertest(sy.app).get('/capped/slow?ms=600').expect(200)));
      const c = await countsWhen(store, 'capped', (x) => x.compared + x.skipped.overloaded === 3);
      assert.equal(c.compared, 1);
      assert.equal(c.skipped.overloaded, 2);
    } finally {
      await sy.close();
    }
  });
});

describe('shared results and the admin API', () => {
  it('two instances sharing Redis report one total', async () => {
    const namespace = `shadow-${randomUUID()}`;
    const storeA = new RedisShadowStore({ url: redis.url, namespace, maxSamples: 10, commandTimeoutMs: 1000 });
    const storeB = new RedisShadowStore({ url: redis.url, namespace, maxSamples: 10, commandTimeoutMs: 1000 });
    const [a, b] = await Promise.all([make(storeA), make(storeB)]);
    try {
      for (let i = 0; i < 3; i++) await supertest(a.app).get('/flask/status/200').expect(200);
      for (let i = 0; i < 2; i++) await supertest(b.app).get('/flask/status/200').expect(200);
      await countsWhen(storeA, 'status', (x) => x.compared === 5);
      const viaB = await supertest(b.app).get('/_switchyard/shadow/status').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      assert.equal(viaB.body.compared, 5);
      assert.deepEqual(viaB.body.differences, ['@status']);
      const reset = await supertest(a.app).delete('/_switchyard/shadow/status').set('Authorization', `Bearer ${ADMIN}`).send({ reason: 'new baseline', by: 'ana' }).expect(200);
      assert.equal((await storeB.counts('status')).compared, 0);
      // Audited like a purge: who, why, and the counts it dropped.
      assert.deepEqual(
        { ...reset.body, audit: { ...reset.body.audit, at: undefined, instance: undefined, version: undefined } },
        { route: 'status', compared: 5, audit: { by: 'ana', reason: 'new baseline', target: 'shadow', action: 'reset', route: 'status', from: { source: 'shadow', compared: 5, mismatched: 5 }, to: { source: 'shadow', compared: 0, mismatched: 0 }, at: undefined, instance: undefined, version: undefined } },
      );
      const audit = await supertest(a.app).get('/_switchyard/flags/audit').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      assert.deepEqual((audit.body.entries as unknown[]).at(-1), reset.body.audit);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('GET /_switchyard/shadow lists the routes with a shadow block only (as the README says)', async () => {
    const sy = await make(new MemoryShadowStore(), flags('  - name: plain\n    path: /flask/plain\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: echo }\n    mode: legacy\n'));
    try {
      await supertest(sy.app).get('/flask/plain').expect(404);
      const all = await supertest(sy.app).get('/_switchyard/shadow').set('Authorization', `Bearer ${ADMIN}`).expect(200);
      assert.deepEqual((all.body.routes as { route: string }[]).map((r) => r.route), ['catalog', 'counter', 'counter-new', 'echo', 'slow', 'status']);
    } finally {
      await sy.close();
    }
  });

  it('admin input errors are clear 4xx and change nothing', async () => {
    const store = new MemoryShadowStore();
    const sy = await make(store);
    try {
      await supertest(sy.app).get('/flask/status/200').expect(200);
      await countsWhen(store, 'status', (x) => x.compared === 1);
      const auth = { Authorization: `Bearer ${ADMIN}` };
      assert.equal((await supertest(sy.app).get('/_switchyard/shadow/nope').set(auth).expect(404)).body.code, 'SWITCHYARD_ADMIN_UNKNOWN_ROUTE');
      await supertest(sy.app).get('/_switchyard/shadow/status/samples?limit=0').set(auth).expect(400);
      await supertest(sy.app).get('/_switchyard/shadow/status/samples?limit=abc').set(auth).expect(400);
      await supertest(sy.app).delete('/_switchyard/shadow/status').send({ reason: 'r' }).expect(401);
      await supertest(sy.app).delete('/_switchyard/shadow/nope').set(auth).send({ reason: 'r' }).expect(404);
      await supertest(sy.app).delete('/_switchyard/shadow/status').set(auth).send({ reason: 'r', extra: 1 }).expect(400);
      assert.equal((await store.counts('status')).compared, 1);
      const all = await supertest(sy.app).get('/_switchyard/shadow').set(auth).expect(200);
      assert.ok((all.body.routes as { route: string }[]).some((r) => r.route === 'catalog'));
    } finally {
      await sy.close();
    }
  });
});
