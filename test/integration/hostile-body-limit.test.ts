/**
 * Bodies larger than a route's `maxBodyBytes`, sent to a real Switchyard (the CLI's server) in
 * front of a real gunicorn Flask: 413 problem+json before legacy sees any of it — with a
 * Content-Length, chunked, behind `Expect: 100-continue` — and Flask's own counters prove it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import supertest from 'supertest';
import type { NewHandler } from '../../src/server/switch-middleware.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { openRaw, parseResponses, type RawConnection } from '../support/raw-http.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

const LIMIT = 1024 * 1024;
const FIFTY_MB = 50 * 1024 * 1024;

let flask: LegacyServer;
let l: Listening;

/** A new handler that reads the body as a stream and says what it got. */
const sink: NewHandler = (req, res) => {
  let length = 0;
  req.on('data', (c: Buffer) => (length += c.length));
  req.on('end', () => res.json({ length, transferEncoding: req.headers['transfer-encoding'] ?? null }));
};

before(async () => {
  flask = await startFlask({ workers: 2 });
  l = await listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: upload
    path: /upload/*
    legacy: { upstream: flask, stripPrefix: /upload }
    maxBodyBytes: ${LIMIT}
  - name: open
    path: /open/*
    legacy: { upstream: flask, stripPrefix: /open }
    maxBodyBytes: null
  - name: default
    path: /default/*
    legacy: { upstream: flask, stripPrefix: /default }
  - name: sink
    path: /sink
    new: { handler: sink }
    maxBodyBytes: ${LIMIT}
settings:
  maxBodyBytes: 2048
`),
    handlers: { sink },
    logger: captureLogger(),
  });
});
after(async () => {
  await l?.close();
  await flask?.stop();
});

const hits = async (): Promise<Record<string, number>> => (await (await fetch(`${flask.url}/__hits`)).json()) as Record<string, number>;

/** Writes `total` bytes of body in 64 KiB pieces as fast as the socket takes them, until done or closed. */
async function pour(c: RawConnection, total: number, chunked: boolean): Promise<number> {
  const piece = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  while (sent < total && !c.isClosed()) {
    const size = Math.min(piece.length, total - sent);
    const data = piece.subarray(0, size);
    const ok = c.socket.write(chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data);
    sent += size;
    if (!ok) await Promise.race([new Promise((r) => c.socket.once('drain', r)), c.closed]);
  }
  if (chunked && !c.isClosed()) c.socket.write('0\r\n\r\n');
  return sent;
}

async function refusedUpload(path: string, head: string, chunked: boolean): Promise<{ status: number; body: Record<string, unknown>; sent: number; text: string }> {
  const c = await openRaw(l.url);
  c.write(head);
  const sending = pour(c, FIFTY_MB, chunked);
  await c.closed;
  const sent = await sending;
  const [response] = parseResponses(c.text());
  assert.ok(response, `an answer for ${path}: ${c.text().slice(0, 200)}`);
  return { status: response.status, body: JSON.parse(response.body) as Record<string, unknown>, sent, text: c.text() };
}

describe('a 50 MB body to a route whose maxBodyBytes is 1 MiB', () => {
  it('with Content-Length: 413 problem+json at once, the connection closed, legacy never called', async () => {
    const { status, body, sent, text } = await refusedUpload('/upload/echo/cl', `POST /upload/echo/cl HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${FIFTY_MB}\r\n\r\n`, false);
    assert.equal(status, 413);
    assert.match(text, /\r\ncontent-type: application\/problem\+json/i);
    assert.equal(body['code'], 'SWITCHYARD_BODY_TOO_LARGE');
    assert.match(String(body['detail']), /1048576 bytes/);
    assert.ok(sent < FIFTY_MB, `the connection was closed before the whole body was sent (${sent} bytes)`);
    assert.equal((await hits())['/echo/cl'], undefined);
  });

  it('chunked: 413 as soon as the limit is passed, legacy never called', async () => {
    const { status, body, sent } = await refusedUpload('/upload/echo/chunked', 'POST /upload/echo/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', true);
    assert.equal(status, 413);
    assert.equal(body['code'], 'SWITCHYARD_BODY_TOO_LARGE');
    assert.ok(sent < FIFTY_MB, `cut short (${sent} bytes)`);
    assert.equal((await hits())['/echo/chunked'], undefined);
  });

  it('Expect: 100-continue: the 413 comes instead of 100 Continue, so the client never sends the body', async () => {
    const c = await openRaw(l.url);
    c.write(`POST /upload/echo/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: ${FIFTY_MB}\r\n\r\n`);
    await c.closed;
    const responses = parseResponses(c.text());
    assert.deepEqual(responses.map((r) => r.status), [413], c.text().slice(0, 300));
    assert.equal((await hits())['/echo/expect'], undefined);
  });

  it('a new handler behind the same limit: 413, the handler never runs', async () => {
    const { status, body } = await refusedUpload('/sink', `POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: ${FIFTY_MB}\r\n\r\n`, false);
    assert.equal(status, 413);
    assert.equal(body['code'], 'SWITCHYARD_BODY_TOO_LARGE');
  });

  it('through the Express app (switchyard.app) too', async () => {
    const res = await supertest(l.switchyard.app).post('/upload/echo/app').set('content-type', 'application/octet-stream').send(Buffer.alloc(LIMIT + 1)).expect(413);
    assert.equal(res.body.code, 'SWITCHYARD_BODY_TOO_LARGE');
    assert.equal((await hits())['/echo/app'], undefined);
  });

  it('the server keeps serving: the next upload within the limit goes through', async () => {
    const res = await fetch(`${l.url}/upload/echo/after`, { method: 'POST', body: Buffer.alloc(1000, 0x62) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { body_length: number }).body_length, 1000);
  });
});

describe('bodies within the limit', () => {
  it('exactly the limit is taken, one byte more is not — for Content-Length and chunked alike', async () => {
    for (const chunked of [false, true]) {
      for (const [size, status] of [
        [LIMIT, 200],
        [LIMIT + 1, 413],
      ] as const) {
        const path = `/upload/echo/edge-${chunked ? 'chunked' : 'cl'}-${size}`;
        const c = await openRaw(l.url);
        c.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`}\r\n\r\n`);
        await pour(c, size, chunked);
        await c.closed;
        const [response] = parseResponses(c.text());
        assert.equal(response?.status, status, `${path}: ${c.text().slice(0, 200)}`);
        if (status === 200) assert.equal((JSON.parse(response.body) as { body_length: number }).body_length, size);
        assert.equal((await hits())[path.replace('/upload', '')], status === 200 ? 1 : undefined);
      }
    }
  });

  it('a chunked body reaches legacy whole, re-framed with a Content-Length', async () => {
    const c = await openRaw(l.url);
    c.write('POST /upload/echo/reframed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    await c.closed;
    const echo = JSON.parse(parseResponses(c.text())[0]!.body) as { body_text: string; headers: Record<string, string> };
    assert.equal(echo.body_text, 'hello world');
    assert.equal(echo.headers['content-length'], '11');
    assert.equal(echo.headers['transfer-encoding'], undefined);
  });

  it('a new handler reads the held body as a stream, complete', async () => {
    const res = await fetch(`${l.url}/sink`, { method: 'POST', body: Buffer.alloc(300_000, 0x63) });
    assert.deepEqual(await res.json(), { length: 300_000, transferEncoding: null });
  });

  it('settings.maxBodyBytes is the default of routes without their own; `maxBodyBytes: null` lifts it', async () => {
    assert.equal((await fetch(`${l.url}/default/echo/x`, { method: 'POST', body: Buffer.alloc(2048) })).status, 200);
    const over = await fetch(`${l.url}/default/echo/x`, { method: 'POST', body: Buffer.alloc(2049) });
    assert.equal(over.status, 413);
    const open = await fetch(`${l.url}/open/echo/big`, { method: 'POST', body: Buffer.alloc(3 * LIMIT, 0x64) });
    assert.equal(open.status, 200);
    assert.equal(((await open.json()) as { body_length: number }).body_length, 3 * LIMIT);
  });
});
