import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { silentLogger } from '../../src/logging/logger.js';
import { UpstreamRegistry } from '../../src/server/upstream-registry.js';
import type { UpstreamConfig } from '../../src/config/types.js';
import { UPSTREAM_DEFAULTS } from '../../src/config/defaults.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let l: Listening;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http, so paths, header names and aborts are exactly what the test says. */
function request(path: string, options: { method?: string; headers?: Record<string, string>; body?: (req: http.ClientRequest) => void } = {}): { done: Promise<RawResponse>; req: http.ClientRequest } {
  const url = new URL(l.url);
  const req = http.request({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers });
  const done = new Promise<RawResponse>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
      res.on('aborted', () => reject(Object.assign(new Error('response cut'), { partial: body })));
    });
    req.on('error', reject);
  });
  if (options.body) options.body(req);
  else req.end();
  return { done, req };
}

before(async () => {
  flask = await startFlask({ workers: 2 });
});
after(async () => {
  await flask?.stop();
});

/** The listener under test, started per dispatch below. */
async function start(via: 'handler' | 'app'): Promise<Listening> {
  return listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
  one: { url: "${flask.url}", maxInFlight: 1, maxQueue: 10 }
  quick: { url: "${flask.url}", responseTimeoutMs: 800 }
routes:
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: one-app
    path: /one/*
    legacy: { upstream: one, stripPrefix: /one }
  - name: quick-app
    path: /quick/*
    legacy: { upstream: quick, stripPrefix: /quick }
  - name: users
    path: /flask/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: new
`),
    handlers,
    logger: captureLogger(),
  }, via);
}

// Both dispatches — node:http (the standalone handler) and http-proxy-middleware (the Express app) — pass the same tests.
for (const via of ['handler', 'app'] as const) {
  describe(`via switchyard.${via}`, () => {
    before(async () => {
      l = await start(via);
    });
    after(async () => {
      await l?.close();
    });

    describe('the path reaches gunicorn exactly as matched', () => {
      it('forwards the request target byte for byte (no slash merging, no http:/ rewriting, escapes kept)', async () => {
        const { status, body } = await request('/flask/echo/http:/x/a%20b?q=a%20b&z').done;
        assert.equal(status, 200);
        assert.equal(JSON.parse(body).raw_uri, '/echo/http:/x/a%20b?q=a%20b&z');
      });

      it('refuses // and # instead of letting them dodge a more specific route', async () => {
        await fetch(`${flask.url}/__hits/reset`, { method: 'POST' });
        for (const path of ['/flask//users/7', '/flask/users//7', '/flask/whoami#frag']) {
          const { status, body } = await request(path).done;
          assert.equal(status, 400, path);
          assert.equal(JSON.parse(body).code, 'SWITCHYARD_BAD_PATH');
        }
        assert.deepEqual(await (await fetch(`${flask.url}/__hits`)).json(), {});
      });

      it('underscore headers cannot forge the host, prefix, client address or SCRIPT_NAME at Flask', async () => {
        const { status, body } = await request('/flask/whoami', {
          headers: { host: 'shop.example', X_Forwarded_Host: 'attacker.example', X_Forwarded_Prefix: '/evil', X_Forwarded_For: '6.6.6.6', X_Forwarded_Proto: 'https', SCRIPT_NAME: '/evil' },
        }).done;
        assert.equal(status, 200);
        const who = JSON.parse(body);
        assert.equal(who.url, 'http://shop.example/flask/whoami');
        assert.equal(who.remote_addr, '127.0.0.1');
        assert.equal(who.script_root, '/flask');
      });
    });

    /** One request written byte for byte on a fresh socket; resolves with all it read and whether the server closed it. */
    function rawExchange(head: string, waitMs: number): Promise<{ text: string; closedByServer: boolean }> {
      const url = new URL(l.url);
      return new Promise((resolve, reject) => {
        const socket = net.connect(Number(url.port), url.hostname, () => socket.write(head));
        let text = '';
        const timer = setTimeout(() => {
          socket.destroy();
          resolve({ text, closedByServer: false });
        }, waitMs);
        socket.setEncoding('latin1');
        socket.on('data', (c: string) => (text += c));
        socket.on('end', () => {
          clearTimeout(timer);
          socket.destroy();
          resolve({ text, closedByServer: true });
        });
        socket.on('error', reject);
      });
    }

    describe('connection management', () => {
      it("a client's Connection: close is honoured on proxied responses: the server closes after the response", async () => {
        const { text, closedByServer } = await rawExchange('GET /flask/hello HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n', 3_000);
        assert.match(text, /^HTTP\/1\.1 200 /);
        assert.match(text, /\r\nconnection: close\r\n/i);
        assert.ok(closedByServer, 'the server closed the connection (a client reading to EOF does not hang)');
      });

      it('without Connection: close a proxied response keeps the connection open', async () => {
        const { text, closedByServer } = await rawExchange('GET /flask/hello HTTP/1.1\r\nHost: example.test\r\n\r\n', 500);
        assert.match(text, /^HTTP\/1\.1 200 /);
        assert.match(text, /\r\nconnection: keep-alive\r\n/i);
        assert.ok(!closedByServer);
      });
    });

    describe('pooled upstream connections', () => {
      it('an idle pooled connection is closed by Switchyard before the backend would close it (no reuse race → no 502)', async () => {
        // A backend that closes idle keep-alive connections after 1.6 s, as gunicorn gthread does after 2 s.
        const sockets = new Set<net.Socket>();
        const backend = http.createServer((_req, res) => res.end('ok'));
        backend.keepAliveTimeout = 1600;
        backend.on('connection', (socket) => {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
        });
        await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
        const { port } = backend.address() as net.AddressInfo;
        const sy = await listen({ flags: flagsText(`
    upstreams:
      idle: { url: "http://127.0.0.1:${port}" }
    routes:
      - name: idle
        path: /idle/*
        legacy: { upstream: idle, stripPrefix: /idle }
    `), logger: captureLogger() }, via);
        try {
          const get = () => new Promise<number>((resolve, reject) => http.get(`${sy.url}/idle/x`, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode ?? 0)); }).on('error', reject));
          assert.equal(await get(), 200);
          assert.equal(sockets.size, 1, 'kept alive for reuse');
          await new Promise((r) => setTimeout(r, 1300));
          assert.equal(sockets.size, 0, 'closed by Switchyard after 1 s idle, before the backend’s 1.6 s');
          // Requests at the backend's idle boundary: each one on a fresh or a young connection.
          for (let i = 0; i < 4; i++) {
            assert.equal(await get(), 200);
            await new Promise((r) => setTimeout(r, 1550 + i * 20));
          }
        } finally {
          await sy.close();
          backend.closeAllConnections();
          backend.close();
        }
      });
    });

    describe('requests Node cannot parse', () => {
      it('a malformed header is a problem+json 400, then the connection is closed', async () => {
        const { text, closedByServer } = await rawExchange('GET /flask/hello HTTP/1.1\r\nHost: example.test\r\nBad Header: x\r\n\r\n', 3_000);
        const [head = '', body = ''] = text.split('\r\n\r\n');
        assert.match(head, /^HTTP\/1\.1 400 Bad Request\r\n/);
        assert.match(head, /\r\ncontent-type: application\/problem\+json; charset=utf-8/i);
        assert.match(head, /\r\nconnection: close/i);
        const problem = JSON.parse(body);
        assert.equal(problem.status, 400);
        assert.equal(problem.code, 'SWITCHYARD_BAD_REQUEST');
        assert.match(problem.detail, /could not be parsed \(HPE_INVALID_HEADER_TOKEN\)/);
        assert.ok(closedByServer);
      });

      it('oversized headers are a problem+json 431', async () => {
        const { text, closedByServer } = await rawExchange(`GET /flask/hello HTTP/1.1\r\nHost: example.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 3_000);
        assert.match(text, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
        assert.equal(JSON.parse(text.split('\r\n\r\n')[1] ?? '').code, 'SWITCHYARD_HEADERS_TOO_LARGE');
        assert.ok(closedByServer);
      });
    });

    describe('failures in the middle of an exchange', () => {
      it('a client that goes away frees its slot and its backend connection at once', async () => {
        const startedAt = Date.now();
        const a = request('/one/slow?ms=3000');
        a.done.catch(() => {});
        await new Promise((r) => setTimeout(r, 300));
        a.req.destroy();
        // With the slot and the socket held until the backend finished, this would wait for it.
        const b = await request('/one/echo').done;
        assert.equal(b.status, 200);
        assert.ok(Date.now() - startedAt < 3000, 'the next request did not wait for the abandoned one');
      });

      it('a backend that stalls after its headers is cut after responseTimeoutMs of silence', async () => {
        const outcome = await request('/quick/stall?ms=5000').done.then(
          (res) => ({ cut: false, body: res.body }),
          (error: { partial?: string }) => ({ cut: true, body: error.partial ?? '' }),
        );
        assert.equal(outcome.cut, true);
        assert.equal(outcome.body, 'first-chunk\n');
      });

      it('a slow upload to a healthy backend is not a timeout', async () => {
        const chunks = 8;
        const { done } = request('/quick/echo', {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream' },
          body: (req) => {
            let sent = 0;
            const tick = setInterval(() => {
              req.write(Buffer.alloc(1024, sent));
              if (++sent === chunks) {
                clearInterval(tick);
                req.end();
              }
            }, 200); // 1.6 s of upload, never silent for 800 ms
          },
        });
        const res = await done;
        assert.equal(res.status, 200, res.body);
        assert.equal(JSON.parse(res.body).body_length, chunks * 1024);
      });

      it('queued requests are served in arrival order', async () => {
        const order: number[] = [];
        const all: Promise<void>[] = [];
        for (let i = 0; i < 4; i++) {
          all.push(request(`/one/slow?ms=150&i=${i}`).done.then((r) => void order.push(i + (r.status === 200 ? 0 : 100))));
          await new Promise((r) => setTimeout(r, 30));
        }
        await Promise.all(all);
        assert.deepEqual(order, [0, 1, 2, 3]);
      });
    });

  });
}

describe('reloads keep the limit', () => {
  it('a changed upstream shares the old one’s limiter, so in-flight requests still count', () => {
    const registry = new UpstreamRegistry(silentLogger);
    const base: UpstreamConfig = { ...UPSTREAM_DEFAULTS, name: 'u', url: 'http://127.0.0.1:9', maxInFlight: 2, file: 'f.yaml' };
    const first = registry.prepare({ u: base });
    registry.commit(first);
    first.get('u')!.limiter.acquire(() => {}, () => {});
    const second = registry.prepare({ u: { ...base, retryAfterSeconds: 9 } });
    assert.notEqual(second.get('u'), first.get('u'));
    assert.equal(second.get('u')!.limiter, first.get('u')!.limiter);
    assert.equal(second.get('u')!.limiter.inFlight, 1);
    registry.commit(second);
    registry.closeAll();
  });
});
