import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import supertest from 'supertest';
import { handlers } from '../../examples/new-handlers.js';
import { createSwitchyard, type Switchyard, type SwitchyardOptions } from '../../src/app.js';
import { decideRoute } from '../../src/routing/routing-decision.js';
import { createTestClient } from '../../src/testing/test-client.js';
import { fetchJson, findPython, freePort, startDjango, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { request } from '../support/http-client.js';
import { captureLogger, flagsText, listen } from '../support/switchyard-harness.js';

const TOKEN = 'tester-override-token-0123456789';

let flask: LegacyServer;
let django: LegacyServer;

function flags(extraUpstream = '', extraRoutes = ''): string {
  return `
upstreams:
  flask: { url: "${flask.url}", maxInFlight: 4 }
  django: { url: "${django.url}" }
${extraUpstream}
routes:
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: django-app
    path: /django/*
    legacy: { upstream: django, stripPrefix: /django }
  - name: hello
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
  - name: users
    path: /flask/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 25 }
  - name: pinned-echo
    path: /flask/pinned/*
    legacy: { upstream: flask, stripPrefix: /flask/pinned }
    new: { handler: hello }
    mode: new
    pinned: true
  - name: health
    path: /health
    methods: [GET]
    new: { handler: health }
  - name: boom
    path: /boom
    new: { handler: boom }
${extraRoutes}
`;
}

const allHandlers = {
  ...handlers,
  boom: async () => {
    await Promise.resolve();
    throw new Error('secret internal detail');
  },
};

async function make(options: Partial<SwitchyardOptions> = {}, text = flags()): Promise<Switchyard> {
  return createSwitchyard({ flags: flagsText(text), handlers: allHandlers, watch: false, logger: captureLogger(), overrideToken: TOKEN, ...options });
}

before(async () => {
  [flask, django] = await Promise.all([startFlask({ workers: 2 }), startDjango({ workers: 1 })]);
});
after(async () => {
  await Promise.all([flask?.stop(), django?.stop()]);
});

describe('mounts and prefix stripping against real gunicorn apps', () => {
  let sy: Switchyard;
  before(async () => (sy = await make()));
  after(() => sy.close());

  it('Flask under /flask sees /whoami and builds URLs under the mount (ProxyFix)', async () => {
    const res = await supertest(sy.app).get('/flask/whoami').set('Host', 'shop.example:8443').expect(200);
    assert.equal(res.headers['x-switchyard-backend'], 'legacy');
    assert.equal(res.headers['x-switchyard-route'], 'flask-app');
    assert.equal(res.body.path, '/whoami');
    assert.equal(res.body.script_root, '/flask');
    assert.equal(res.body.url, 'http://shop.example:8443/flask/whoami');
    assert.equal(res.body.remote_addr, '127.0.0.1');
  });

  it('Django under /django sees /whoami/ and reverse() includes the prefix', async () => {
    const res = await supertest(sy.app).get('/django/whoami/').set('Host', 'shop.example').expect(200);
    assert.equal(res.headers['x-switchyard-route'], 'django-app');
    assert.equal(res.body.url, 'http://shop.example/django/whoami/');
    assert.equal(res.body.script_name, '/django');
  });

  it('the most specific route wins: GET /flask/hello is new, POST falls to the Flask mount', async () => {
    const get = await supertest(sy.app).get('/flask/hello').expect(200);
    assert.equal(get.headers['x-switchyard-backend'], 'new');
    assert.equal(get.headers['x-switchyard-route'], 'hello');
    assert.deepEqual(get.body, { message: 'Hello from Flask!' });
    const post = await supertest(sy.app).post('/flask/hello');
    assert.equal(post.headers['x-switchyard-backend'], 'legacy');
    assert.equal(post.headers['x-switchyard-route'], 'flask-app');
    assert.equal(post.status, 405, 'Flask itself answers: /hello is GET-only there');
  });

  it('forwards method, path, query, headers and a streamed body unchanged, with X-Forwarded-* set', async () => {
    const l = await listen({ flags: flagsText(flags()), handlers: allHandlers, logger: captureLogger() });
    try {
      const chunks = Array.from({ length: 64 }, (_, i) => Buffer.alloc(16 * 1024, i));
      const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex');
      // node:http, not fetch: fetch refuses to send a Connection header, and we need one here.
      const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${l.url}/flask/echo/a/b?z=1&a=2&a=3`, {
          method: 'PUT',
          headers: { 'x-custom': 'kept', 'x-forwarded-for': '6.6.6.6', connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'x-switchyard-force': 'new' },
        });
        req.on('response', (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
        });
        req.on('error', reject);
        Readable.from(chunks).pipe(req); // no Content-Length: a chunked, streamed body
      });
      assert.equal(status, 200, text);
      const body = JSON.parse(text) as { method: string; path: string; query: string; headers: Record<string, string>; body_sha256: string; body_length: number };
      assert.equal(body.method, 'PUT');
      assert.equal(body.path, '/echo/a/b');
      assert.equal(body.query, 'z=1&a=2&a=3');
      assert.equal(body.body_length, 64 * 16 * 1024);
      assert.equal(body.body_sha256, expected);
      assert.equal(body.headers['x-custom'], 'kept');
      assert.equal(body.headers['x-forwarded-for'], '127.0.0.1');
      assert.equal(body.headers['x-forwarded-proto'], 'http');
      assert.equal(body.headers['x-forwarded-prefix'], '/flask');
      assert.equal(body.headers['x-forwarded-host'], new URL(l.url).host);
      assert.equal(body.headers['x-drop-me'], undefined);
      assert.equal(body.headers['x-switchyard-force'], undefined);
    } finally {
      await l.close();
    }
  });

  for (const method of ['DELETE', 'PATCH', 'POST', 'OPTIONS', 'HEAD'] as const) {
    it(`forwards ${method}`, async () => {
      const res = await supertest(sy.app)[method === 'HEAD' ? 'head' : (method.toLowerCase() as 'delete' | 'patch' | 'post' | 'options')]('/flask/echo').send(method === 'HEAD' || method === 'OPTIONS' ? undefined : 'x=1');
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-switchyard-backend'], 'legacy');
      if (method !== 'HEAD' && method !== 'OPTIONS') assert.equal(res.body.method, method);
    });
  }

  it('a new-only route serves without any legacy', async () => {
    const res = await supertest(sy.app).get('/health').expect(200);
    assert.equal(res.body.status, 'ok');
    assert.equal(res.headers['x-switchyard-backend'], 'new');
  });

  it('unrouted paths are a problem+json 404; unrouted methods a 405 with Allow', async () => {
    const miss = await supertest(sy.app).get('/nowhere').expect(404);
    assert.match(miss.headers['content-type'] ?? '', /^application\/problem\+json/);
    assert.equal(miss.body.code, 'SWITCHYARD_NO_ROUTE');
    const wrong = await supertest(sy.app).post('/health').expect(405);
    assert.equal(wrong.headers['allow'], 'GET');
  });

  it('refuses paths that would mean something else to gunicorn, and never forwards them', async () => {
    await supertest(flask.url).post('/__hits/reset').expect(200);
    for (const bad of ['/flask%2Fhello', '/flask/..%2Fsecret', '/flask/a/../b', '/flask/%2e%2e/b']) {
      const res = await supertest(sy.app).get(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'SWITCHYARD_BAD_PATH');
    }
    assert.deepEqual(await fetchJson(`${flask.url}/__hits`), {});
    // An unreserved escape is decoded, so it cannot dodge a more specific route.
    const res = await supertest(sy.app).get('/fl%61sk/hello').expect(200);
    assert.equal(res.headers['x-switchyard-route'], 'hello');
  });

  it('a failing new handler is a 500 problem without internals', async () => {
    const res = await supertest(sy.app).get('/boom').expect(500);
    assert.equal(res.body.code, 'SWITCHYARD_HANDLER_FAILED');
    assert.doesNotMatch(JSON.stringify(res.body), /secret internal detail|at .*\.ts/);
  });
});

describe('decisions', () => {
  it('USE_LEGACY sends every route to legacy, and the switch can flip at run time', async () => {
    const sy = await make({ useLegacy: true });
    try {
      const res = await supertest(sy.app).get('/flask/hello').expect(200);
      assert.equal(res.headers['x-switchyard-backend'], 'legacy');
      assert.deepEqual(res.body, { message: 'Hello from Flask!' });
      const forced = await supertest(sy.app).get('/flask/hello').set('X-Switchyard-Force', 'new').set('X-Switchyard-Override-Token', TOKEN);
      assert.equal(forced.headers['x-switchyard-backend'], 'legacy', 'the kill switch beats an override');
      sy.setKillSwitch(false);
      assert.equal((await supertest(sy.app).get('/flask/hello')).headers['x-switchyard-backend'], 'new');
    } finally {
      await sy.close();
    }
  });

  it('a pinned route stays on legacy, even for an authenticated override', async () => {
    const sy = await make();
    try {
      const res = await supertest(sy.app).get('/flask/pinned/hello').set('X-Switchyard-Force', 'new').set('X-Switchyard-Override-Token', TOKEN).expect(200);
      assert.equal(res.headers['x-switchyard-backend'], 'legacy');
    } finally {
      await sy.close();
    }
  });

  it('rollout: sticky per X-User-Id and exactly the local bucketing, over real requests', async () => {
    const sy = await make();
    try {
      const route = sy.config.routes.find((r) => r.name === 'users')!;
      let onNew = 0;
      for (let i = 0; i < 200; i++) {
        const user = `customer-${i}`;
        const expected = decideRoute({ route, killSwitch: false, override: null, stickinessValue: () => user }).side;
        const first = await supertest(sy.app).get(`/flask/users/${i}`).set('X-User-Id', user).expect(200);
        const again = await supertest(sy.app).get(`/flask/users/${i}`).set('X-User-Id', user).expect(200);
        assert.equal(first.headers['x-switchyard-backend'], expected, user);
        assert.equal(again.headers['x-switchyard-backend'], expected, `${user} again`);
        assert.equal(first.body.source, expected === 'new' ? 'switchyard' : 'flask');
        if (expected === 'new') onNew++;
      }
      assert.ok(onNew > 20 && onNew < 80, `25% of 200 expected, got ${onNew}`);
    } finally {
      await sy.close();
    }
  });

  it('rollout: a non-ASCII X-User-Id sent as UTF-8 bytes is bucketed on its text, as Unleash buckets it', async () => {
    const l = await listen({ flags: flagsText(flags()), handlers: allHandlers, logger: captureLogger() });
    try {
      const route = l.switchyard.config.routes.find((r) => r.name === 'users')!;
      const ids = Array.from({ length: 60 }, (_, i) => `${['Zoë', 'Jürgen', '山田', 'Дмитрий', '😀'][i % 5]}-${i}`);
      let differs = 0;
      for (const id of ids) {
        const expected = decideRoute({ route, killSwitch: false, override: null, stickinessValue: () => id }).side;
        const latin1 = decideRoute({ route, killSwitch: false, override: null, stickinessValue: () => Buffer.from(id, 'utf8').toString('latin1') }).side;
        if (expected !== latin1) differs++;
        // Node's client writes a Latin-1 string byte for byte: these are the id's UTF-8 bytes on the wire.
        const res = await request(l.url, '/flask/users/1', { headers: { 'x-user-id': Buffer.from(id, 'utf8').toString('latin1') } });
        assert.equal(res.status, 200);
        assert.equal(res.headers['x-switchyard-backend'], expected, id);
      }
      assert.ok(differs > 0, 'some of these ids bucket differently on their Latin-1 reading');
    } finally {
      await l.close();
    }
  });

  it('without a stickiness value, each request draws from the injected random source', async () => {
    let n = 0;
    const sy = await make({ randomId: () => `anon-${n++}` });
    try {
      const route = sy.config.routes.find((r) => r.name === 'users')!;
      for (let i = 0; i < 30; i++) {
        const expected = decideRoute({ route, killSwitch: false, override: null, stickinessValue: () => `anon-${i}` }).side;
        const res = await supertest(sy.app).get('/flask/users/1').expect(200);
        assert.equal(res.headers['x-switchyard-backend'], expected);
      }
    } finally {
      await sy.close();
    }
  });

  it('override: honoured with the token, ignored and counted without, 400 when malformed', async () => {
    const sy = await make();
    try {
      const force = (side: string, token?: string) => {
        const req = supertest(sy.app).get('/flask/hello').set('X-Switchyard-Force', side);
        return token === undefined ? req : req.set('X-Switchyard-Override-Token', token);
      };
      assert.equal((await force('legacy', TOKEN).expect(200)).headers['x-switchyard-backend'], 'legacy');
      assert.equal((await force('legacy').expect(200)).headers['x-switchyard-backend'], 'new');
      assert.equal((await force('legacy', 'not-the-token-at-all-no').expect(200)).headers['x-switchyard-backend'], 'new');
      const bad = await force('sideways', TOKEN).expect(400);
      assert.equal(bad.body.code, 'SWITCHYARD_BAD_OVERRIDE');
      const { overrides } = sy.stats.snapshot();
      assert.equal(overrides.applied, 1);
      assert.deepEqual(overrides.ignored, { no_token_configured: 0, missing_token: 1, invalid_token: 1, rate_limited: 0 });
    } finally {
      await sy.close();
    }
    const noToken = await make({ overrideToken: null });
    try {
      const res = await supertest(noToken.app).get('/flask/hello').set('X-Switchyard-Force', 'legacy').set('X-Switchyard-Override-Token', TOKEN).expect(200);
      assert.equal(res.headers['x-switchyard-backend'], 'new');
      assert.equal(noToken.stats.snapshot().overrides.ignored.no_token_configured, 1);
    } finally {
      await noToken.close();
    }
  });

  it('decision headers can be turned off', async () => {
    const sy = await make({}, `${flags()}\nsettings:\n  exposeDecisionHeaders: false\n`);
    try {
      const res = await supertest(sy.app).get('/flask/hello').expect(200);
      assert.equal(res.headers['x-switchyard-backend'], undefined);
      assert.equal(res.headers['x-switchyard-route'], undefined);
    } finally {
      await sy.close();
    }
  });
});

describe('upstream failures: 502, 504, 503 — problem+json, never a hang', () => {
  it('502 when the upstream is down, naming route and upstream', async () => {
    const port = await freePort();
    const logger = captureLogger();
    const sy = await make({ logger }, flags(`  dead: { url: "http://127.0.0.1:${port}" }`, '  - name: dead-app\n    path: /dead/*\n    legacy: { upstream: dead, stripPrefix: /dead }\n'));
    try {
      const res = await supertest(sy.app).get('/dead/x').expect(502);
      assert.match(res.headers['content-type'] ?? '', /^application\/problem\+json/);
      assert.equal(res.body.code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
      assert.equal(res.body.route, 'dead-app');
      assert.equal(res.body.upstream, 'dead');
      assert.doesNotMatch(res.text, /ECONNREFUSED|at /);
      assert.ok(logger.lines.some((l) => l.includes('ECONNREFUSED')), 'the cause goes to the log');
    } finally {
      await sy.close();
    }
  });

  it('504 when the upstream answers later than responseTimeoutMs', async () => {
    const sy = await make({}, flags(`  slowpoke: { url: "${flask.url}", responseTimeoutMs: 300 }`, '  - name: slow-app\n    path: /slow-app/*\n    legacy: { upstream: slowpoke, stripPrefix: /slow-app }\n'));
    try {
      const res = await supertest(sy.app).get('/slow-app/slow?ms=3000').expect(504);
      assert.equal(res.body.code, 'SWITCHYARD_UPSTREAM_TIMEOUT');
      assert.equal(res.body.upstream, 'slowpoke');
      assert.match(res.body.detail, /300 ms/);
    } finally {
      await sy.close();
    }
  });

  it('504 when the upstream does not accept the connection within connectTimeoutMs', async () => {
    // A listener that never accepts, with its one-slot backlog already taken: the kernel drops
    // further SYNs, so a connect hangs — the "black-holed backend" case, made on loopback.
    const python = findPython();
    const blackhole = spawn(python, ['-c', 'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nc=socket.socket();c.connect(s.getsockname())\nprint(s.getsockname()[1],flush=True)\ntime.sleep(60)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve) => blackhole.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
      const sy = await make({}, flags(`  hole: { url: "http://127.0.0.1:${port}", connectTimeoutMs: 300, keepAlive: false }`, '  - name: hole-app\n    path: /hole/*\n    legacy: { upstream: hole, stripPrefix: /hole }\n'));
      try {
        const res = await supertest(sy.app).get('/hole/x').expect(504);
        assert.equal(res.body.code, 'SWITCHYARD_UPSTREAM_TIMEOUT');
        assert.match(res.body.detail, /did not accept a connection within 300 ms/);
      } finally {
        await sy.close();
      }
    } finally {
      blackhole.kill('SIGKILL');
    }
  });

  it('maxInFlight queues in order and every queued request is served', async () => {
    const l = await listen({ flags: flagsText(flags(`  one: { url: "${flask.url}", maxInFlight: 1, maxQueue: 10 }`, '  - name: one-app\n    path: /one/*\n    legacy: { upstream: one, stripPrefix: /one }\n')), handlers: allHandlers, logger: captureLogger() });
    try {
      const started = Date.now();
      const results = await Promise.all([0, 1, 2].map(() => fetch(`${l.url}/one/slow?ms=300`)));
      const elapsed = Date.now() - started;
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
      // One at a time through a single slot: three 300 ms calls cannot overlap (a lower bound, not a speed claim).
      assert.ok(elapsed >= 850, `three requests through one slot took only ${elapsed} ms`);
    } finally {
      await l.close();
    }
  });

  it('503 with Retry-After past the queue, and when the queue wait times out', async () => {
    const l = await listen({
      flags: flagsText(
        flags(
          `  tight: { url: "${flask.url}", maxInFlight: 1, maxQueue: 1, retryAfterSeconds: 7 }\n  waity: { url: "${flask.url}", maxInFlight: 1, maxQueue: 5, queueTimeoutMs: 200 }`,
          '  - name: tight-app\n    path: /tight/*\n    legacy: { upstream: tight, stripPrefix: /tight }\n  - name: waity-app\n    path: /waity/*\n    legacy: { upstream: waity, stripPrefix: /waity }\n',
        ),
      ),
      handlers: allHandlers,
      logger: captureLogger(),
    });
    try {
      const tight = await Promise.all([0, 1, 2].map(() => fetch(`${l.url}/tight/slow?ms=400`)));
      const statuses = tight.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 200, 503]);
      const rejected = tight.find((r) => r.status === 503)!;
      assert.equal(rejected.headers.get('retry-after'), '7');
      assert.match(rejected.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(((await rejected.json()) as { code: string }).code, 'SWITCHYARD_UPSTREAM_OVERLOADED');

      const waity = await Promise.all([0, 1].map(() => fetch(`${l.url}/waity/slow?ms=600`)));
      assert.deepEqual(waity.map((r) => r.status).sort(), [200, 503]);
    } finally {
      await l.close();
    }
  });

  it('a slow legacy backend never delays new-handler routes', async () => {
    const l = await listen({ flags: flagsText(flags(`  single: { url: "${flask.url}", maxInFlight: 1, maxQueue: 10 }`, '  - name: single-app\n    path: /single/*\n    legacy: { upstream: single, stripPrefix: /single }\n')), handlers: allHandlers, logger: captureLogger() });
    try {
      const order: string[] = [];
      const slow = Promise.all([0, 1].map(() => fetch(`${l.url}/single/slow?ms=1500`).then(() => order.push('slow'))));
      await new Promise((r) => setTimeout(r, 100));
      const hello = await fetch(`${l.url}/flask/hello`);
      order.push('new');
      assert.equal(hello.headers.get('x-switchyard-backend'), 'new');
      await slow;
      assert.deepEqual(order, ['new', 'slow', 'slow']);
    } finally {
      await l.close();
    }
  });
});

describe('embedding', () => {
  it('the middleware leaves unrouted requests to the host app', async () => {
    const sy = await make();
    try {
      const host = express();
      host.use(sy.middleware);
      host.get('/mine', (_req, res) => void res.json({ mine: true }));
      assert.deepEqual((await supertest(host).get('/mine').expect(200)).body, { mine: true });
      assert.equal((await supertest(host).get('/flask/hello').expect(200)).headers['x-switchyard-backend'], 'new');
    } finally {
      await sy.close();
    }
  });

  it('createTestClient gives users a supertest agent over their configuration', async () => {
    const client = await createTestClient({ flags: flagsText(flags()), handlers: allHandlers });
    try {
      const res = await client.agent.get('/flask/hello').expect(200);
      assert.equal(res.headers['x-switchyard-backend'], 'new');
    } finally {
      await client.close();
    }
  });
});
