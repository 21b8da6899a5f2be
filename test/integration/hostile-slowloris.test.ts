/**
 * Slowloris against the real CLI (`switchyard serve`, its own process and HTTP server) in front
 * of a real gunicorn Flask: many connections sending their headers a byte a second, idle ones,
 * and slow uploads. New clients are served meanwhile; the slow ones get 408 problem+json and are
 * closed once SWITCHYARD_HEADERS_TIMEOUT_MS / SWITCHYARD_REQUEST_TIMEOUT_MS run out (short here).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT, eventually, runCli, type CliRun } from '../support/cli-process.js';
import { freshFetch, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { openRaw, parseResponses, type RawConnection } from '../support/raw-http.js';

const HEADERS_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 3_000;
const SLOW_CLIENTS = 200;

let flask: LegacyServer;
let dir: string;
let cli: CliRun;
let base = '';

before(async () => {
  flask = await startFlask({ workers: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-slowloris-'));
  await writeFile(
    path.join(dir, 'routes.yaml'),
    `upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: upload
    path: /upload/*
    legacy: { upstream: flask, stripPrefix: /upload }
    maxBodyBytes: 1048576
  - name: hello
    path: /new/hello
    new: { handler: hello }
`,
  );
  cli = runCli(['--flags', dir, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'examples/new-handlers.ts')], {
    SWITCHYARD_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    SWITCHYARD_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  assert.ok(await eventually(() => ((base = /listening on (http:\/\/[\d.:]+) /.exec(cli.stdout())?.[1] ?? ''), base !== ''), 20_000), cli.stdout() + cli.stderr());
});
after(async () => {
  cli?.signal('SIGTERM');
  await cli?.done;
  await flask?.stop();
  await rm(dir, { recursive: true, force: true });
});

const hits = async (): Promise<Record<string, number>> => (await (await freshFetch(`${flask.url}/__hits`)).json()) as Record<string, number>;

/** Sends `bytes` one a second while the connection is open. */
function trickle(c: RawConnection, bytes: string): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (c.isClosed() || i >= bytes.length) return clearInterval(timer);
    c.write(bytes[i++]!);
  }, 1_000);
  return () => clearInterval(timer);
}

function expect408(c: RawConnection): void {
  const responses = parseResponses(c.text());
  assert.equal(responses.length, 1, c.text());
  assert.equal(responses[0]!.status, 408);
  assert.match(responses[0]!.headers['content-type'] ?? '', /^application\/problem\+json/);
  assert.equal((JSON.parse(responses[0]!.body) as { code: string }).code, 'SWITCHYARD_REQUEST_TIMEOUT');
}

describe('slowloris against the CLI server', () => {
  it(`${SLOW_CLIENTS} connections sending headers a byte a second: new clients are served meanwhile, the slow ones get 408 and are closed`, async () => {
    const slow: RawConnection[] = [];
    const stops: (() => void)[] = [];
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const c = await openRaw(base);
      c.write('G');
      stops.push(trickle(c, `ET /flask/echo/slow-${i} HTTP/1.1\r\nHost: x\r\nX-Padding: ${'p'.repeat(64)}\r\n\r\n`));
      slow.push(c);
    }
    const idle = await openRaw(base); // connects and never sends a byte
    try {
      // While all of them hold their connections open, ordinary clients (legacy and new routes) are answered.
      for (let i = 0; i < 10; i++) {
        const legacy = await fetch(`${base}/flask/echo/fresh-${i}`);
        assert.equal(legacy.status, 200);
        assert.equal(((await legacy.json()) as { path: string }).path, `/echo/fresh-${i}`);
        assert.equal((await fetch(`${base}/new/hello`)).status, 200);
      }
      assert.ok(slow.filter((c) => !c.isClosed()).length > SLOW_CLIENTS / 2, 'the slow connections were still open while the fresh clients were served');
      assert.ok(await eventually(() => slow.every((c) => c.isClosed()) && idle.isClosed(), 20_000), `${slow.filter((c) => !c.isClosed()).length} slow connections still open`);
      for (const c of slow) expect408(c);
      expect408(idle);
      const counted = await hits();
      assert.deepEqual(Object.keys(counted).filter((p) => p.startsWith('/echo/slow-')), [], 'no slow request ever reached Flask');
      assert.equal((await fetch(`${base}/_switchyard/healthz`)).status, 200, 'still alive');
    } finally {
      for (const stop of stops) stop();
      for (const c of slow) c.socket.destroy();
      idle.socket.destroy();
    }
  });

  it('a slow upload to a route with maxBodyBytes is held, never reaches Flask, and is cut with 408 at the request timeout', async () => {
    const c = await openRaw(base);
    c.write('POST /upload/echo/trickle HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    const stop = trickle(c, 'b'.repeat(1000));
    try {
      assert.ok(await eventually(() => c.isClosed(), 20_000), 'closed at the request timeout');
      expect408(c);
      assert.equal((await hits())['/echo/trickle'], undefined, 'Flask never saw the request: no gunicorn worker was held');
    } finally {
      stop();
      c.socket.destroy();
    }
  });

  it('a slow small upload to a route without a limit is held too (the first 64 KiB of every body are)', async () => {
    const c = await openRaw(base);
    c.write('POST /flask/echo/trickle-open HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    const stop = trickle(c, `3e8\r\n${'c'.repeat(1000)}\r\n0\r\n\r\n`);
    try {
      assert.ok(await eventually(() => c.isClosed(), 20_000));
      expect408(c);
      assert.equal((await hits())['/echo/trickle-open'], undefined);
      // Served as usual right after.
      assert.equal((await fetch(`${base}/flask/echo/after`, { method: 'POST', body: 'done' })).status, 200);
    } finally {
      stop();
      c.socket.destroy();
    }
  });
});
