/**
 * Request smuggling attempts over raw sockets, through a real Switchyard (the CLI's server) to a
 * real gunicorn that keeps its connections alive (gthread). The upstream pool is one connection
 * (maxInFlight 1), so every request reaches Flask on the same socket: after each attempt a
 * follow-up on that same upstream connection (same REMOTE_PORT at Flask) must be answered as
 * itself, and Flask's own counters must show nothing smuggled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { handlers } from '../../examples/new-handlers.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { exchange, openRaw, parseResponses } from '../support/raw-http.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

let flask: LegacyServer;
let l: Listening;

before(async () => {
  // gthread workers keep connections alive, like the ones to run behind Switchyard (see Benchmark).
  flask = await startFlask({ workers: 1, threads: 4 });
  l = await listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}", maxInFlight: 1 }
routes:
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: limited
    path: /limited/*
    legacy: { upstream: flask, stripPrefix: /limited }
    maxBodyBytes: 65536
`),
    handlers,
    logger: captureLogger(),
  });
});
after(async () => {
  await l?.close();
  await flask?.stop();
});

interface Echo {
  path: string;
  method: string;
  remote_port: string;
  body_length: number;
  body_text: string;
  headers: Record<string, string>;
}

async function echo(path: string): Promise<Echo> {
  const res = await fetch(`${l.url}${path}`);
  assert.equal(res.status, 200, path);
  return (await res.json()) as Echo;
}

const hits = async (): Promise<Record<string, number>> => (await (await fetch(`${flask.url}/__hits`)).json()) as Record<string, number>;

const H = 'Host: shop.example\r\n';
const SMUGGLED = `GET /flask/echo/smuggled HTTP/1.1\r\n${H}\r\n`;

/** Attempts Node's parser must refuse outright: 400 problem+json, connection closed. */
const REFUSED: Record<string, string> = {
  'Content-Length and Transfer-Encoding (CL.TE)': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'Transfer-Encoding and Content-Length (TE.CL)': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'two different Content-Length': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: 0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
  'two equal Content-Length': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`,
  'a Content-Length list': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: 3, 3\r\n\r\nabc${SMUGGLED}`,
  'a signed Content-Length': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: +3\r\n\r\nabc${SMUGGLED}`,
  'Transfer-Encoding: chunked, chunked': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'Transfer-Encoding: xchunked': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n${SMUGGLED}`,
  'Transfer-Encoding: identity with Content-Length': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`,
  'a space before the colon (Transfer-Encoding : chunked)': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`,
  'obs-fold in an ordinary header': `GET /flask/echo/attack HTTP/1.1\r\n${H}X-Folded: one\r\n two\r\n\r\n${SMUGGLED}`,
  'obs-fold hiding Transfer-Encoding': `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: 3\r\nX-Note: a\r\n Transfer-Encoding: chunked\r\n\r\nabc${SMUGGLED}`,
  'Transfer-Encoding folded onto its own value': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\nabc${SMUGGLED}`,
  'bare LF line endings': `GET /flask/echo/attack HTTP/1.1\n${H.replace('\r', '')}\n${SMUGGLED}`,
  'a bare LF inside the headers': `GET /flask/echo/attack HTTP/1.1\r\n${H}X-A: b\nContent-Length: 40\r\n\r\n${SMUGGLED}`,
  'a bare CR inside the headers': `GET /flask/echo/attack HTTP/1.1\r\n${H}X-A: b\rContent-Length: 40\r\n\r\n${SMUGGLED}`,
  'bare LF in the chunk framing': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\nabc\n0\n\n${SMUGGLED}`,
  'a chunk size that overflows': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff1\r\nabc\r\n0\r\n\r\n${SMUGGLED}`,
  'a Content-Length in the trailer': `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n3\r\nabc\r\n0\r\nContent-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`,
  'NUL in a header value': `GET /flask/echo/attack HTTP/1.1\r\n${H}X-A: a\x00b\r\n\r\n${SMUGGLED}`,
  'a header name with a slash': `GET /flask/echo/attack HTTP/1.1\r\n${H}X/A: b\r\n\r\n${SMUGGLED}`,
};

/** Well-formed but unusual framing that must be taken as exactly one request. */
const ACCEPTED: Record<string, { bytes: string; body: string }> = {
  'chunk extensions': { bytes: `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3;name=value\r\nabc\r\n0\r\n\r\n`, body: 'abc' },
  'a trailer carrying a request': { bytes: `POST /flask/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTrailer: X-Smuggle\r\n\r\n3\r\nabc\r\n0\r\nX-Smuggle: ${SMUGGLED.replace(/\r\n/g, ' ')}\r\n\r\n`, body: 'abc' },
  'a body that looks like a request': { bytes: `POST /flask/echo/attack HTTP/1.1\r\n${H}Content-Length: ${SMUGGLED.length}\r\n\r\n${SMUGGLED}`, body: SMUGGLED },
  'chunked to a route with a body limit (re-framed with Content-Length)': { bytes: `POST /limited/echo/attack HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`, body: SMUGGLED },
};

describe('request smuggling: nothing desynchronises the keep-alive connection to legacy', () => {
  let step = 0;
  /** The upstream connection the next request will use, then the attack, then the proof. */
  async function attempt(send: () => Promise<void>): Promise<void> {
    const n = step++;
    const primed = await echo(`/flask/echo/prime-${n}`);
    await send();
    const follow = await echo(`/flask/echo/follow-${n}`);
    assert.equal(follow.path, `/echo/follow-${n}`, 'the follow-up is answered as itself');
    assert.equal(follow.method, 'GET');
    assert.equal(follow.body_length, 0, 'nothing left over in front of it');
    assert.equal(follow.remote_port, primed.remote_port, 'on the same upstream connection as before the attempt');
  }

  for (const [name, bytes] of Object.entries(REFUSED)) {
    it(`refused: ${name} → 400 problem+json, connection closed`, async () => {
      await attempt(async () => {
        const { text, closed } = await exchange(l.url, bytes);
        const responses = parseResponses(text);
        assert.equal(responses.length, 1, text);
        assert.equal(responses[0]!.status, 400, text);
        assert.match(responses[0]!.headers['content-type'] ?? '', /^application\/problem\+json/);
        assert.ok(closed, 'the connection is closed after the refusal');
      });
    });
  }

  for (const [name, { bytes, body }] of Object.entries(ACCEPTED)) {
    it(`taken as one request: ${name}`, async () => {
      await attempt(async () => {
        // The same client connection goes on with a pipelined request: it must be parsed as the next request, nothing else.
        const c = await openRaw(l.url);
        c.write(`${bytes}GET /flask/echo/next HTTP/1.1\r\n${H}Connection: close\r\n\r\n`);
        await c.closed;
        const responses = parseResponses(c.text());
        assert.deepEqual(responses.map((r) => r.status), [200, 200], c.text());
        const first = JSON.parse(responses[0]!.body) as Echo;
        assert.equal(first.method, 'POST');
        assert.equal(first.body_text, body);
        assert.equal(first.body_length, body.length);
        assert.equal(first.headers['content-length'] === undefined, first.headers['transfer-encoding'] === 'chunked', 'exactly one framing reached Flask');
        assert.equal(first.headers['x-smuggle'], undefined, 'trailers are not turned into headers');
        assert.equal((JSON.parse(responses[1]!.body) as Echo).path, '/echo/next');
      });
    });
  }

  it("Flask's own counters: every attempt reached it at most once, and nothing smuggled ever did", async () => {
    const counted = await hits();
    assert.equal(counted['/echo/smuggled'], undefined, JSON.stringify(counted));
    assert.equal(counted['/echo/attack'], Object.keys(ACCEPTED).length, 'only the accepted ones, once each');
    assert.equal(counted['/echo/next'], Object.keys(ACCEPTED).length);
    for (let n = 0; n < step; n++) {
      assert.equal(counted[`/echo/prime-${n}`], 1);
      assert.equal(counted[`/echo/follow-${n}`], 1);
    }
  });
});
