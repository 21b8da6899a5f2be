/**
 * Odd and oversized requests over raw sockets, through a real Switchyard (the CLI's server) to a
 * real gunicorn Flask: each gets a clear 4xx (problem+json) or is served exactly as sent, the
 * server keeps serving, and Flask's counters show what reached it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { freshFetch, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { exchange, openRaw, parseResponses, type RawResponse } from '../support/raw-http.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let l: Listening;

before(async () => {
  flask = await startFlask({ workers: 1, threads: 4 });
  l = await listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: users
    path: /flask/users/:id
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 50 }
  - name: hello
    path: /new/hello
    new: { handler: hello }
`),
    handlers,
    logger: captureLogger(),
  });
});
after(async () => {
  await l?.close();
  await flask?.stop();
});

const hits = async (): Promise<Record<string, number>> => (await (await freshFetch(`${flask.url}/__hits`)).json()) as Record<string, number>;

/** One request on its own connection: its single response, and whether the server closed after it. */
async function one(bytes: string | Buffer): Promise<RawResponse & { closed: boolean; text: string }> {
  const { text, closed } = await exchange(l.url, bytes);
  const responses = parseResponses(text);
  assert.equal(responses.length, 1, text.slice(0, 500));
  return { ...responses[0]!, closed, text };
}

function assertProblem(r: RawResponse, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.match(r.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal((JSON.parse(r.body) as { code: string }).code, code);
}

/** After each hostile request: the server still answers, legacy and new. */
async function stillServing(): Promise<void> {
  assert.equal((await fetch(`${l.url}/flask/hello`)).status, 200);
  assert.equal((await fetch(`${l.url}/new/hello`)).status, 200);
}

const H = 'Host: shop.example\r\n';

describe('oversized requests', () => {
  it('10,000 headers: 431 problem+json, connection closed, legacy never called', async () => {
    const headers = Array.from({ length: 10_000 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await one(`GET /flask/echo/many HTTP/1.1\r\n${H}${headers}\r\n`);
    assertProblem(r, 431, 'SWITCHYARD_HEADERS_TOO_LARGE');
    assert.ok(r.closed);
    assert.equal((await hits())['/echo/many'], undefined);
    await stillServing();
  });

  it('more header lines than 100 (but within 16 KiB): 431, none silently dropped on the way to legacy', async () => {
    const headers = Array.from({ length: 150 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const r = await one(`GET /flask/echo/count HTTP/1.1\r\n${H}${headers}\r\n`);
    assertProblem(r, 431, 'SWITCHYARD_TOO_MANY_HEADERS');
    assert.ok(r.closed);
    const within = await one(`GET /flask/echo/count HTTP/1.1\r\n${H}${Array.from({ length: 90 }, (_, i) => `X-H${i}: v\r\n`).join('')}Connection: close\r\n\r\n`);
    assert.equal(within.status, 200);
    assert.equal(Object.keys((JSON.parse(within.body) as { headers: object }).headers).filter((h) => h.startsWith('x-h')).length, 90);
    await stillServing();
  });

  it('a 64 KiB URL: 431 (past the 16 KiB header limit); a 10 KiB one: 414; both closed, legacy never called', async () => {
    const huge = await one(`GET /flask/echo/${'a'.repeat(64 * 1024)} HTTP/1.1\r\n${H}\r\n`);
    assertProblem(huge, 431, 'SWITCHYARD_HEADERS_TOO_LARGE');
    assert.ok(huge.closed);
    const long = await one(`GET /flask/echo/${'b'.repeat(10 * 1024)} HTTP/1.1\r\n${H}\r\n`);
    assertProblem(long, 414, 'SWITCHYARD_URI_TOO_LONG');
    assert.ok(long.closed);
    assert.deepEqual(Object.keys(await hits()).filter((p) => p.length > 1000), []);
    await stillServing();
  });

  it("a 5 KiB URL is within Switchyard's limit but not gunicorn's: legacy's own 400, and the next request is served", async () => {
    const r = await one(`GET /flask/echo/${'c'.repeat(5 * 1024)} HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.equal(r.status, 400);
    assert.match(r.body, /Request Line is too large/);
    await stillServing();
  });
});

describe('invalid UTF-8', () => {
  it('raw non-ASCII bytes in the path: 400 problem+json (Node refuses them), closed', async () => {
    const r = await one(Buffer.concat([Buffer.from('GET /flask/echo/'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(` HTTP/1.1\r\n${H}\r\n`)]));
    assertProblem(r, 400, 'SWITCHYARD_BAD_REQUEST');
    assert.ok(r.closed);
    await stillServing();
  });

  it('percent-encoded invalid UTF-8 in the path reaches legacy byte for byte', async () => {
    const r = await one(`GET /flask/echo/%FF%FE%C3(?q=%FF HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { raw_uri: string }).raw_uri, '/echo/%FF%FE%C3(?q=%FF');
  });

  it('invalid UTF-8 in a header value reaches legacy byte for byte; in a stickiness header it is bucketed, not a crash', async () => {
    const bad = Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]);
    const r = await one(Buffer.concat([Buffer.from(`GET /flask/echo/utf8 HTTP/1.1\r\n${H}X-Bad: `), bad, Buffer.from('\r\nConnection: close\r\n\r\n')]));
    assert.equal(r.status, 200);
    // Flask (WSGI) reads header bytes as Latin-1: one character per byte, exactly the bytes sent.
    assert.equal((JSON.parse(r.body) as { headers: Record<string, string> }).headers['x-bad'], bad.toString('latin1'));
    for (let i = 0; i < 5; i++) {
      const sticky = await one(Buffer.concat([Buffer.from(`GET /flask/users/7 HTTP/1.1\r\n${H}X-User-Id: `), bad, Buffer.from([0x30 + i]), Buffer.from('\r\nConnection: close\r\n\r\n')]));
      assert.equal(sticky.status, 200);
      assert.match(sticky.headers['x-switchyard-backend'] ?? '', /^(legacy|new)$/);
    }
  });

  it('a non-token byte in a header name: 400 problem+json, closed', async () => {
    const r = await one(Buffer.concat([Buffer.from(`GET /flask/echo/a HTTP/1.1\r\n${H}X-`), Buffer.from([0xff]), Buffer.from(': a\r\n\r\n')]));
    assertProblem(r, 400, 'SWITCHYARD_BAD_REQUEST');
    assert.ok(r.closed);
    await stillServing();
  });
});

describe('Host', () => {
  it('HTTP/1.0 without Host is served (legacy gets a Host of its own address), and the connection closed after it', async () => {
    const r = await one('GET /flask/echo/http10 HTTP/1.0\r\n\r\n');
    assert.equal(r.status, 200);
    assert.ok(r.closed, 'HTTP/1.0 without keep-alive: closed after the response');
    assert.equal((JSON.parse(r.body) as { path: string }).path, '/echo/http10');
  });

  it('HTTP/1.1 without Host, or with two: 400 problem+json (RFC 9112 §3.2), legacy never called', async () => {
    assertProblem(await one('GET /flask/echo/nohost HTTP/1.1\r\n\r\n'), 400, 'SWITCHYARD_BAD_HOST');
    assertProblem(await one('GET /flask/echo/twohosts HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n'), 400, 'SWITCHYARD_BAD_HOST');
    const counted = await hits();
    assert.equal(counted['/echo/nohost'], undefined);
    assert.equal(counted['/echo/twohosts'], undefined);
  });
});

describe('Expect', () => {
  it('Expect: 100-continue: 100 Continue first, then the body reaches legacy whole', async () => {
    const c = await openRaw(l.url);
    c.write(`POST /flask/echo/expect HTTP/1.1\r\n${H}Expect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\n`);
    assert.ok(await c.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 5_000), c.text());
    c.write('hello');
    await c.closed;
    const responses = parseResponses(c.text());
    assert.deepEqual(responses.map((r) => r.status), [100, 200]);
    const echo = JSON.parse(responses[1]!.body) as { body_text: string; headers: Record<string, string> };
    assert.equal(echo.body_text, 'hello');
    assert.equal(echo.headers['expect'], undefined, 'Expect is answered here, not forwarded');
  });

  it('any other expectation: 417 problem+json', async () => {
    const r = await one(`POST /flask/echo/magic HTTP/1.1\r\n${H}Expect: magic\r\nContent-Length: 3\r\n\r\nabc`);
    assertProblem(r, 417, 'SWITCHYARD_EXPECTATION_FAILED');
    assert.equal((await hits())['/echo/magic'], undefined);
  });
});

describe('pipelining', () => {
  it('requests sent in one write are answered in order, each as itself — legacy, new, a POST with a body, a refused one last', async () => {
    const c = await openRaw(l.url);
    c.write(
      `GET /flask/echo/p1 HTTP/1.1\r\n${H}\r\n` +
        `GET /new/hello HTTP/1.1\r\n${H}\r\n` +
        `POST /flask/echo/p3 HTTP/1.1\r\n${H}Content-Length: 11\r\n\r\nhello world` +
        `POST /flask/echo/p4 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n` +
        `GET /flask/echo/p5 HTTP/1.1\r\n${H}\r\n` +
        `GET /flask//p6 HTTP/1.1\r\n${H}\r\n` +
        `GET /flask/echo/p7 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`,
    );
    await c.closed;
    const responses = parseResponses(c.text());
    assert.deepEqual(responses.map((r) => r.status), [200, 200, 200, 200, 200, 400, 200], c.text().slice(0, 2000));
    const echo = (i: number) => JSON.parse(responses[i]!.body) as { path: string; body_text: string };
    assert.equal(echo(0).path, '/echo/p1');
    assert.equal(JSON.parse(responses[1]!.body).message, 'Hello from Flask!');
    assert.deepEqual([echo(2).path, echo(2).body_text], ['/echo/p3', 'hello world']);
    assert.deepEqual([echo(3).path, echo(3).body_text], ['/echo/p4', 'ok']);
    assert.equal(echo(4).path, '/echo/p5');
    assert.equal((JSON.parse(responses[5]!.body) as { code: string }).code, 'SWITCHYARD_BAD_PATH');
    assert.equal(echo(6).path, '/echo/p7');
  });

  it('a malformed request pipelined behind slow good ones: their answers first, in order, then the 400, then the close', async () => {
    for (const malformed of [`GET /flask/echo/bad HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n`, `POST /flask/echo/bad HTTP/1.1\r\n${H}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`]) {
      const c = await openRaw(l.url);
      c.write(`GET /flask/slow?ms=300 HTTP/1.1\r\n${H}\r\nGET /flask/echo/r2 HTTP/1.1\r\n${H}\r\n${malformed}`);
      await c.closed;
      const responses = parseResponses(c.text());
      assert.deepEqual(responses.map((r) => r.status), [200, 200, 400], c.text().slice(0, 1500));
      assert.deepEqual(JSON.parse(responses[0]!.body), { slept_ms: 300 });
      assert.equal((JSON.parse(responses[1]!.body) as { path: string }).path, '/echo/r2');
    }
    assert.equal((await hits())['/echo/bad'], undefined);
  });

  it('a request pipelined behind a refused one is never served: the connection closes after the refusal', async () => {
    const c = await openRaw(l.url);
    c.write(`GET /flask/echo/q1 HTTP/1.1\r\n${H}Host: second.example\r\n\r\nGET /flask/echo/q2 HTTP/1.1\r\n${H}\r\n`);
    await c.closed;
    assert.deepEqual(parseResponses(c.text()).map((r) => r.status), [400]);
    const counted = await hits();
    assert.equal(counted['/echo/q1'], undefined);
    assert.equal(counted['/echo/q2'], undefined);
  });
});
