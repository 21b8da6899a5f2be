import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * What the standalone handler's connection pool leaves open at a backend. A raw TCP backend, so
 * every connection and every byte it receives is counted: against gunicorn's sync workers each
 * open connection holds a whole worker, so one that never carries a request starves the backend.
 */
class CountingBackend {
  readonly sockets: { socket: net.Socket; received: number }[] = [];
  private readonly server = net.createServer((socket) => {
    const entry = { socket, received: 0 };
    this.sockets.push(entry);
    socket.on('data', (chunk: Buffer) => {
      entry.received += chunk.length;
      // /slow never answers (a client gives up on it); anything else is answered and kept alive.
      if (!chunk.toString('latin1').startsWith('GET /slow')) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok');
    });
    socket.on('error', () => {});
  });

  open(): { received: number }[] {
    return this.sockets.filter((s) => !s.socket.destroyed && s.socket.readyState === 'open');
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let backend: CountingBackend;
let sy: Listening;

before(async () => {
  backend = new CountingBackend();
  const url = await backend.start();
  sy = await listen({
    flags: flagsText(`
upstreams:
  counted: { url: "${url}" }
  refusing: { url: "http://127.0.0.1:1" }
routes:
  - name: refused
    path: /r/*
    legacy: { upstream: refusing, stripPrefix: /r }
  - name: counted
    path: /b/*
    legacy: { upstream: counted, stripPrefix: /b }
`),
    logger: captureLogger(),
    cache: { redisUrl: null },
  });
});
after(async () => {
  await sy?.close();
  await backend?.stop();
});

describe('upstream connections of the standalone handler', () => {
  it('a backend that refuses the connection is a 502 problem+json, again and again (a failed connect is no socket to watch)', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sy.url}/r/x`);
      assert.equal(res.status, 502);
      assert.match(String(res.headers.get('content-type')), /application\/problem\+json/);
      assert.equal(((await res.json()) as { code: string }).code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
    }
  });

  it('a client that gives up on a request leaves no connection open at the backend that carries no request', async () => {
    const { port } = new URL(sy.url);
    const req = http.get({ host: '127.0.0.1', port, path: '/b/slow', agent: false });
    req.on('error', () => {});
    await delay(150);
    req.destroy();
    // The abandoned request's connection is closed at once; undici 7 then opens a replacement
    // with nothing to send (nodejs/undici#5845), which must not stay.
    await delay(700);
    assert.deepEqual(backend.open().map((s) => s.received), [], 'no open connection at the backend without a request on it');
    // And the pool still works afterwards.
    const next = await fetch(`${sy.url}/b/after`);
    assert.deepEqual([next.status, await next.text()], [200, 'ok']);
  });
});
