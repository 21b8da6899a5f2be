import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import { handlers } from '../../examples/new-handlers.js';
import { createSwitchyard, type Switchyard } from '../../src/app.js';
import type { NewHandler } from '../../src/index.js';
import { freePort, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText } from '../support/switchyard-harness.js';

/**
 * `switchyard.handler` (what the CLI serves) routes legacy requests without entering Express and
 * hands everything else to `switchyard.app`. Both must answer every request alike, and route it
 * exactly once: the same requests go through each and their answers and counters are compared.
 */
const ADMIN = 'admin-token-for-the-front-handler-test';
const TOKEN = 'tester-override-token-0123456789';

let flask: LegacyServer;

const extraHandlers: Record<string, NewHandler> = {
  ...handlers,
  /** "Not mine": the request goes on to the next middleware (here the 404). */
  declines: (_req, _res, next) => next(),
  headers: (req, res) => void res.json(req.headers),
};

async function build(): Promise<Switchyard> {
  return createSwitchyard({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}", maxInFlight: 4 }
  dead: { url: "http://127.0.0.1:${deadPort}" }
routes:
  - name: dead
    path: /dead/*
    legacy: { upstream: dead }
  - name: cached
    path: /cacheable
    legacy: { upstream: flask }
    cache: {}
  - name: everything
    path: /*
    legacy: { upstream: flask }
  - name: users
    path: /users/:id
    methods: [GET]
    legacy: { upstream: flask }
    new: { handler: user }
    mode: new
  - name: declines
    path: /declines
    new: { handler: declines }
  - name: headers
    path: /headers
    new: { handler: headers }
  - name: only-get
    path: /only-get
    methods: [GET]
    new: { handler: health }
`),
    handlers: extraHandlers,
    adminToken: ADMIN,
    overrideToken: TOKEN,
    watch: false,
    logger: captureLogger(),
  });
}

interface Probe {
  readonly name: string;
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** What both must answer, where it is known (summary fields). */
  readonly expect?: Record<string, unknown>;
}

function pick(summary: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, summary[k]]));
}

const probes: readonly Probe[] = [
  { name: 'legacy catch-all', method: 'get', path: '/hello', expect: { status: 200, backend: 'legacy', route: 'everything' } },
  { name: 'legacy with query', method: 'get', path: '/echo?a=1&b=2' },
  { name: 'new handler with a path parameter', method: 'get', path: '/users/42' },
  { name: 'tester override to legacy', method: 'get', path: '/hello', headers: { 'x-switchyard-force': 'legacy', 'x-switchyard-override-token': TOKEN } },
  { name: 'malformed override', method: 'get', path: '/hello', headers: { 'x-switchyard-force': 'sideways', 'x-switchyard-override-token': TOKEN } },
  { name: 'handler that declines', method: 'get', path: '/declines' },
  { name: 'POST to a GET-only new route: the legacy catch-all takes it', method: 'post', path: '/only-get' },
  { name: 'empty path segment (400)', method: 'get', path: '/a//hello' },
  // Every kind of answer carries the decision headers: the proxied one (where they go out in the
  // upstream's head), the upstream's failure (502), the cache's, and a backend's own wins.
  { name: 'legacy upstream down (502 problem)', method: 'get', path: '/dead/x', expect: { status: 502, backend: 'legacy', route: 'dead' } },
  // (One Host: supertest serves each request on a new port, and the Host is part of the cache key.)
  { name: 'cached legacy route (MISS, then HIT)', method: 'get', path: '/cacheable', headers: { host: 'shop.example' }, expect: { status: 200, backend: 'legacy', route: 'cached', cache: 'MISS' } },
  { name: 'cached legacy route again', method: 'get', path: '/cacheable', headers: { host: 'shop.example' }, expect: { backend: 'legacy', route: 'cached', cache: 'HIT' } },
  { name: "a backend's own X-Switchyard-Backend is passed on, not doubled", method: 'get', path: '/respond/inner?h=X-Switchyard-Backend:inner', expect: { status: 200, backend: 'inner', route: 'everything' } },
  { name: 'admin API with its token', method: 'get', path: '/_switchyard/routes', headers: { authorization: `Bearer ${ADMIN}` } },
  { name: 'admin API without a token', method: 'get', path: '/_switchyard/routes' },
  { name: 'admin prefix in another case', method: 'get', path: '/_SWITCHYARD/routes' },
  { name: 'unknown admin endpoint', method: 'get', path: '/_switchyard/nope', headers: { authorization: `Bearer ${ADMIN}` } },
];

/** What must match between the two: status, content type, Switchyard's headers, the body's shape. */
function summary(res: supertest.Response): Record<string, unknown> {
  const body: unknown = res.headers['content-type']?.includes('json') === true ? res.body : res.text;
  return {
    status: res.status,
    type: res.headers['content-type'],
    backend: res.headers['x-switchyard-backend'],
    cache: res.headers['x-switchyard-cache'],
    route: res.headers['x-switchyard-route'],
    allow: res.headers['allow'],
    // Flask's echo and Switchyard's routes list carry per-request values; their keys still match.
    body: body !== null && typeof body === 'object' ? Object.keys(body).sort() : body,
  };
}

let deadPort: number;

before(async () => {
  [flask, deadPort] = await Promise.all([startFlask({ workers: 2 }), freePort()]);
});
after(async () => {
  await flask?.stop();
});

describe('switchyard.handler answers like switchyard.app', () => {
  let viaApp: Switchyard;
  let viaHandler: Switchyard;
  before(async () => {
    [viaApp, viaHandler] = await Promise.all([build(), build()]);
  });
  after(async () => {
    await Promise.all([viaApp?.close(), viaHandler?.close()]);
  });

  for (const probe of probes) {
    it(probe.name, async () => {
      const send = (listener: Parameters<typeof supertest>[0]): supertest.Test => supertest(listener)[probe.method](probe.path).set(probe.headers ?? {});
      const [a, h] = [await send(viaApp.app), await send(viaHandler.handler)];
      assert.deepEqual(summary(h), summary(a));
      if (probe.expect !== undefined) assert.deepEqual(pick(summary(h), Object.keys(probe.expect)), probe.expect);
    });
  }

  it('an absolute-form request target (GET http://host/path) is answered alike', async () => {
    const ask = async (listener: (req: http.IncomingMessage, res: http.ServerResponse) => void, path: string): Promise<number> => {
      const server = http.createServer(listener).listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const { port } = server.address() as AddressInfo;
        const res = await new Promise<http.IncomingMessage>((resolve, reject) => http.get({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${ADMIN}` } }, resolve).on('error', reject));
        res.resume();
        return res.statusCode ?? 0;
      } finally {
        server.close();
      }
    };
    for (const path of ['http://shop.example/_switchyard/routes', 'http://shop.example/hello']) {
      assert.equal(await ask(viaHandler.handler, path), await ask(viaApp.app, path), path);
    }
  });

  it('a new handler never sees the tester-override token (read once, then removed)', async () => {
    for (const listener of [viaApp.app, viaHandler.handler]) {
      const res = await supertest(listener).get('/headers').set('X-Switchyard-Force', 'new').set('X-Switchyard-Override-Token', TOKEN).expect(200);
      assert.equal(res.body['x-switchyard-override-token'], undefined);
      assert.equal(res.body['x-switchyard-force'], 'new');
    }
  });

  it("a client's own X-Switchyard-Shadow never reaches legacy (only mirrored requests carry it)", async () => {
    for (const listener of [viaApp.app, viaHandler.handler]) {
      const res = await supertest(listener).get('/echo?t=forged-marker').set('X-Switchyard-Shadow', '1').expect(200);
      assert.equal(res.body.headers['x-switchyard-shadow'], undefined);
    }
  });

  it('routes and counts every request once on either path', () => {
    assert.deepEqual(viaHandler.stats.snapshot(), viaApp.stats.snapshot());
    const routes = viaHandler.stats.snapshot().routes;
    // Seven requests reach `everything`: two plain, one with the override, the POST to /only-get,
    // the backend's own X-Switchyard-Backend, the forged shadow marker and the absolute-form
    // `http://shop.example/hello`. The
    // admin prefix in another case is the admin API's on both paths (Express mounts match
    // case-insensitively); the malformed override and the bad path are refused before deciding.
    assert.deepEqual(routes['users'], { legacy: 0, new: 1 });
    assert.deepEqual(routes['declines'], { legacy: 0, new: 1 });
    assert.equal((routes['everything']?.legacy ?? 0) + (routes['everything']?.new ?? 0), 7);
  });

  it('a legacy request through the handler never enters Express (no Express request prototype)', async () => {
    let sawExpress = false;
    const spy = (req: Parameters<typeof viaHandler.handler>[0], res: Parameters<typeof viaHandler.handler>[1]): void => {
      res.once('finish', () => {
        // Express swaps the request's prototype for its own, which adds `get` and `query`.
        sawExpress = 'query' in req;
      });
      viaHandler.handler(req, res);
    };
    const res = await supertest(spy).get('/hello').expect(200);
    assert.equal(res.headers['x-switchyard-backend'], 'legacy');
    assert.equal(sawExpress, false);
    const handled = await supertest(spy).get('/users/7').expect(200);
    assert.equal(handled.body.id, 7);
    assert.equal(sawExpress, true);
  });
});

describe('a failure inside Switchyard while routing', () => {
  // The stickiness source throws: the decision catches its own failures, and the shadow sampling
  // (an observer) asks for it again. An observer's failure is contained: logged, the feature
  // skipped, the client served by the side its decision named.
  let sy: Switchyard;
  let logger: ReturnType<typeof captureLogger>;
  before(async () => {
    logger = captureLogger();
    sy = await createSwitchyard({
      flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: shadowed
    path: /hello
    legacy: { upstream: flask }
    new: { handler: hello }
    mode: legacy
    shadow: { percentage: 100 }
`),
      handlers,
      randomId: () => {
        throw new Error('planted: no randomness today');
      },
      watch: false,
      logger,
    });
  });
  after(async () => {
    await sy?.close();
  });

  for (const via of ['handler', 'app'] as const) {
    it(`an observer that throws is contained: logged, the client served, the process serves on (${via})`, async () => {
      const before = logger.lines.length;
      const res = await supertest(sy[via]).get('/hello').expect(200);
      assert.equal(res.headers['x-switchyard-backend'], 'legacy');
      assert.doesNotMatch(res.text, /planted/);
      assert.ok(logger.lines.slice(before).some((l) => l.includes('request observer `shadow` failed') && l.includes('planted: no randomness today')), logger.lines.join('\n'));
      const again = await supertest(sy[via]).get('/hello').set('x-user-id', 'u-1').expect(200);
      assert.equal(again.headers['x-switchyard-backend'], 'legacy');
    });
  }
});
