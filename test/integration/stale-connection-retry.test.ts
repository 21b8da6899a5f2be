import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * A pooled connection that the backend closes at the moment a request is written on it: the
 * race gunicorn's 2 s keep-alive sets up whenever an event-loop stall lets Switchyard's 1 s idle
 * close come late. A safe, bodiless request is sent again on a fresh connection (the backend never
 * saw it); a request with a body is not, and its client gets the documented 502.
 *
 * The backend here is a raw TCP server, not gunicorn: the race must happen on every run, and only
 * a server that resets a kept-alive connection exactly when the second request arrives makes it
 * deterministic (a real gunicorn does the same at the end of its keep-alive timeout).
 */
class ResettingBackend {
  connections = 0;
  answered = 0;
  /** `fresh`: resets every connection at its first request — a broken backend, not a stale connection. */
  constructor(private readonly resets: 'reused' | 'fresh' = 'reused') {}
  private readonly server = net.createServer((socket) => {
    this.connections++;
    let served = this.resets === 'fresh';
    socket.on('data', () => {
      if (served) return void socket.resetAndDestroy(); // closes as the next request arrives
      served = true;
      this.answered++;
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok`);
    });
    socket.on('error', () => {});
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface Answer {
  status: number;
  body: string;
  contentType: string;
}

function send(url: string, method: string, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: body === undefined ? {} : { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, contentType: String(res.headers['content-type']) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

let backend: ResettingBackend;
let broken: ResettingBackend;
let sy: Listening;

before(async () => {
  backend = new ResettingBackend();
  broken = new ResettingBackend('fresh');
  const [url, brokenUrl] = await Promise.all([backend.start(), broken.start()]);
  sy = await listen({
    flags: flagsText(`
upstreams:
  racy: { url: "${url}" }
  broken: { url: "${brokenUrl}" }
  # Its own pool, so the POST below is written on the one connection the warm-up left.
  racy-post: { url: "${url}" }
routes:
  - name: broken
    path: /b/*
    legacy: { upstream: broken, stripPrefix: /b }
  - name: posted
    path: /q/*
    legacy: { upstream: racy-post, stripPrefix: /q }
  - name: plain
    path: /p/*
    legacy: { upstream: racy, stripPrefix: /p }
  - name: cached
    path: /c/*
    legacy: { upstream: racy, stripPrefix: /c }
    cache: {}
`),
    logger: captureLogger(),
    cache: { redisUrl: null },
  });
});
after(async () => {
  await sy?.close();
  await Promise.all([backend?.stop(), broken?.stop()]);
});

describe('a pooled connection the backend closes as the request arrives', () => {
  it('a GET is sent again on a fresh connection: the client gets the answer, the backend saw it once', async () => {
    const before = { connections: backend.connections, answered: backend.answered };
    assert.equal((await send(`${sy.url}/p/one`, 'GET')).status, 200);
    const second = await send(`${sy.url}/p/two`, 'GET'); // written on the pooled connection, which the backend resets
    assert.deepEqual([second.status, second.body], [200, 'ok']);
    assert.equal(backend.connections - before.connections, 2, 'the retry opened a fresh connection');
    assert.equal(backend.answered - before.answered, 2, 'each request was answered once');
  });

  it('a cache fill (GET) is retried the same way', async () => {
    await send(`${sy.url}/p/warm`, 'GET'); // leaves one pooled connection behind
    const before = backend.connections;
    const fill = await send(`${sy.url}/c/entry`, 'GET');
    assert.deepEqual([fill.status, fill.body], [200, 'ok']);
    assert.equal(backend.connections - before, 1, 'one fresh connection for the retried fill');
  });

  it('a reset on a fresh connection is no stale reuse: the GET is not sent again (502), each time', async () => {
    for (let i = 0; i < 3; i++) {
      const before = broken.connections;
      const answer = await send(`${sy.url}/b/try-${i}`, 'GET');
      assert.equal(answer.status, 502);
      assert.equal(JSON.parse(answer.body).code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
      assert.equal(broken.connections - before, 1, 'one attempt, on one fresh connection');
    }
    assert.equal(broken.answered, 0);
  });

  it('a POST with a body is not sent twice: the client gets a 502 problem+json', async () => {
    // The first request of this pool: one fresh connection, answered and kept (no reset, no retry).
    await send(`${sy.url}/q/warm`, 'GET');
    const before = { connections: backend.connections, answered: backend.answered };
    const post = await send(`${sy.url}/q/submit`, 'POST', 'payload');
    assert.equal(post.status, 502);
    assert.match(post.contentType, /application\/problem\+json/);
    assert.equal(JSON.parse(post.body).code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
    assert.equal(backend.connections - before.connections, 0, 'no second attempt');
    assert.equal(backend.answered - before.answered, 0);
  });
});
