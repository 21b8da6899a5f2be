import assert from 'node:assert/strict';
import http, { type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { headersAsWritten } from '../../src/pipeline/headers-as-written.js';
import { ResponseTap } from '../../src/pipeline/response-tap.js';
import { flattenHeaders } from '../../src/shadow/side-caller.js';

describe('headersAsWritten', () => {
  it('a flat list with nothing set before is the whole head (Node stores none of it)', () => {
    assert.deepEqual(headersAsWritten({}, ['Content-Type', 'application/json', 'Set-Cookie', 'a=1', 'set-cookie', 'b=2']), { 'content-type': 'application/json', 'set-cookie': ['a=1', 'b=2'] });
  });
  it('a name given to writeHead replaces the one set before; the others stay', () => {
    assert.deepEqual(headersAsWritten({ 'x-switchyard-backend': 'legacy', 'content-type': 'text/plain' }, { 'Content-Type': 'application/json', 'Content-Length': 2 }), {
      'x-switchyard-backend': 'legacy',
      'content-type': 'application/json',
      'content-length': 2,
    });
  });
  it('[name, value] pairs, arrays of values, nothing given', () => {
    assert.deepEqual(headersAsWritten({ a: '1' }, [['B', '2'], ['b', ['3', '4']]]), { a: '1', b: ['2', '3', '4'] });
    assert.deepEqual(headersAsWritten({ a: '1' }, undefined), { a: '1' });
    assert.deepEqual(headersAsWritten({}, ['dangling']), {});
  });
});

/** Serves one response written by `respond` with a tap on it; resolves with what the tap saw and what the client got. */
async function tapped(respond: (res: ServerResponse) => void): Promise<{ written: Record<string, string>; received: Record<string, string>; body: string; tapped: string }> {
  let tap: ResponseTap | undefined;
  let seen = '';
  const server = http.createServer((_req, res) => {
    tap = new ResponseTap(res);
    tap.onBody((chunk) => (seen += chunk.toString()));
    respond(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    const body = await res.text();
    const received: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!['connection', 'keep-alive', 'date', 'transfer-encoding'].includes(name)) received[name] = value;
    });
    const written = flattenHeaders(tap?.writtenHeaders() ?? {});
    return { written, received, body, tapped: seen };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('ResponseTap.writtenHeaders: the headers the client got, however the head was written', () => {
  it('writeHead with a list and nothing set before (the undici dispatch)', async () => {
    const r = await tapped((res) => {
      res.writeHead(200, 'OK', ['Content-Type', 'application/json', 'X-Legacy', 'yes']);
      res.end('{}');
    });
    assert.deepEqual(r.written, { 'content-type': 'application/json', 'x-legacy': 'yes' });
    assert.deepEqual(r.written, r.received);
    assert.equal(r.tapped, r.body);
  });
  it('setHeader first, then writeHead with a list that overrides one of them', async () => {
    const r = await tapped((res) => {
      res.setHeader('x-switchyard-backend', 'legacy');
      res.setHeader('content-type', 'text/plain');
      res.writeHead(200, ['Content-Type', 'application/json']);
      res.end('{}');
    });
    assert.deepEqual(r.written, { 'x-switchyard-backend': 'legacy', 'content-type': 'application/json' });
    assert.deepEqual(r.written, r.received);
  });
  it('the implicit head of a bare res.end()', async () => {
    const r = await tapped((res) => {
      res.setHeader('content-type', 'text/plain');
      res.end('hi');
    });
    assert.equal(r.written['content-type'], 'text/plain');
    assert.equal(r.written['content-length'], undefined, 'Node adds Content-Length itself; the tap reports what was set');
    assert.equal(r.received['content-type'], 'text/plain');
    assert.equal(r.tapped, 'hi');
  });
});
