/**
 * Self-test for test/support/legacy-apps.ts and the example legacy WSGI apps
 * (examples/legacy-flask, examples/legacy-django) served directly by gunicorn.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { fetchJson, startDjango, startFlask, type LegacyServer } from './support/legacy-apps.js';

interface WhoAmI {
  url: string;
  path: string;
  scheme: string;
  host: string;
  script_root?: string;
  script_name?: string;
  remote_addr?: string;
}

interface Echo {
  method: string;
  path: string;
  full_path: string;
  query: string;
  headers: Record<string, string>;
  body_sha256: string;
  body_length: number;
  body_text: string;
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A request body sent with Transfer-Encoding: chunked (streamed, no Content-Length). */
function chunkedBody(parts: string[]): { body: ReadableStream<Uint8Array>; duplex: 'half' } {
  const enc = new TextEncoder();
  return {
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(enc.encode(p));
        controller.close();
      },
    }),
    duplex: 'half',
  };
}

let flask: LegacyServer;
let django: LegacyServer;

before(async () => {
  [flask, django] = await Promise.all([startFlask({ workers: 2 }), startDjango({ workers: 2 })]);
});

after(async () => {
  await Promise.all([flask?.stop(), django?.stop()]);
});

describe('legacy flask app (gunicorn, 2 workers)', () => {
  it('serves /hello and /users/:id', async () => {
    assert.deepEqual(await fetchJson(`${flask.url}/hello`), { message: 'Hello from Flask!' });
    assert.deepEqual(await fetchJson(`${flask.url}/users/42`), { id: 42, name: 'user-42', source: 'flask' });
    const missing = await fetch(`${flask.url}/users/1001`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /application\/json/);
    await missing.body?.cancel();
  });

  it('/whoami without forwarding headers', async () => {
    const who = await fetchJson<WhoAmI>(`${flask.url}/whoami`);
    assert.equal(who.url, `${flask.url}/whoami`);
    assert.equal(who.path, '/whoami');
    assert.equal(who.script_root, '');
    assert.equal(who.scheme, 'http');
    assert.equal(who.host, `127.0.0.1:${flask.port}`);
    assert.equal(who.remote_addr, '127.0.0.1');
  });

  it('/whoami honours X-Forwarded-Prefix/-Host/-Proto/-For (ProxyFix)', async () => {
    const prefixed = await fetchJson<WhoAmI>(`${flask.url}/whoami`, { headers: { 'X-Forwarded-Prefix': '/flask' } });
    assert.equal(prefixed.url, `http://127.0.0.1:${flask.port}/flask/whoami`);
    assert.equal(prefixed.script_root, '/flask');
    assert.equal(prefixed.path, '/whoami');

    const proxied = await fetchJson<WhoAmI>(`${flask.url}/whoami`, {
      headers: {
        'X-Forwarded-Prefix': '/flask',
        'X-Forwarded-Host': 'switchyard.example:8443',
        'X-Forwarded-Proto': 'https',
        'X-Forwarded-For': '203.0.113.7',
      },
    });
    assert.equal(proxied.url, 'https://switchyard.example:8443/flask/whoami');
    assert.equal(proxied.scheme, 'https');
    assert.equal(proxied.host, 'switchyard.example:8443');
    assert.equal(proxied.remote_addr, '203.0.113.7');
  });

  it('/echo round-trips a POST body, query and headers', async () => {
    const payload = JSON.stringify({ hello: 'wörld', n: [1, 2, 3] });
    const echo = await fetchJson<Echo>(`${flask.url}/echo/a/b?x=1&y=%20z`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-test-header': 'abc' },
      body: payload,
    });
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/echo/a/b');
    assert.equal(echo.query, 'x=1&y=%20z');
    assert.equal(echo.full_path, '/echo/a/b?x=1&y=%20z');
    assert.equal(echo.headers['x-test-header'], 'abc');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.equal(echo.body_sha256, sha256(payload));
    assert.equal(echo.body_length, Buffer.byteLength(payload));
    assert.equal(echo.body_text, payload);
  });

  it('/echo reads chunked request bodies completely', async () => {
    const parts = ['first chunk;', 'x'.repeat(100_000), ';last chunk'];
    const echo = await fetchJson<Echo>(`${flask.url}/echo`, { method: 'PUT', ...chunkedBody(parts) });
    assert.equal(echo.headers['transfer-encoding'], 'chunked');
    assert.equal(echo.body_length, parts.join('').length);
    assert.equal(echo.body_sha256, sha256(parts.join('')));
    assert.equal(echo.body_text.length, 4096);
  });

  it('/slow sleeps', async () => {
    const t0 = performance.now();
    assert.deepEqual(await fetchJson(`${flask.url}/slow?ms=200`), { slept_ms: 200 });
    assert.ok(performance.now() - t0 >= 195, 'answered too early');
  });

  it('/status/503 answers with that status', async () => {
    const res = await fetch(`${flask.url}/status/503`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { status: 503 });
    const noContent = await fetch(`${flask.url}/status/204`);
    assert.equal(noContent.status, 204);
    assert.equal(await noContent.text(), '');
  });

  it('counts hits exactly across workers', async () => {
    await fetchJson(`${flask.url}/__hits/reset`, { method: 'POST' });
    assert.deepEqual(await fetchJson(`${flask.url}/__hits`), {});
    const urls = Array.from({ length: 20 }, (_, i) => (i % 2 ? `${flask.url}/hello` : `${flask.url}/echo?i=${i}`));
    const statuses = await Promise.all(
      urls.map(async (u) => {
        const r = await fetch(u);
        await r.arrayBuffer();
        return r.status;
      }),
    );
    assert.deepEqual(new Set(statuses), new Set([200]));
    await fetch(`${flask.url}/__health`).then((r) => r.text()); // not counted
    await fetch(`${flask.url}/nope`).then((r) => r.text()); // 404s are counted
    assert.deepEqual(await fetchJson(`${flask.url}/__hits`), { '/hello': 10, '/echo': 10, '/nope': 1 });
  });

  it('/counter/incr is a shared side effect', async () => {
    await fetchJson(`${flask.url}/__hits/reset`, { method: 'POST' });
    const values = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetchJson<{ value: number }>(`${flask.url}/counter/incr`, { method: 'POST' }).then((r) => r.value),
      ),
    );
    assert.deepEqual(
      values.sort((a, b) => a - b),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.deepEqual(await fetchJson(`${flask.url}/counter`), { value: 10 });
    assert.equal((await fetchJson<Record<string, number>>(`${flask.url}/__hits`))['/counter/incr'], 10);
  });

  it('/big?kb=64 returns 64 KiB of deterministic bytes', async () => {
    const res = await fetch(`${flask.url}/big?kb=64`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/octet-stream');
    const body = new Uint8Array(await res.arrayBuffer());
    assert.equal(body.length, 64 * 1024);
    assert.deepEqual([...body.subarray(0, 4)], [0, 1, 2, 3]);
    assert.equal(body[65535], 255);
  });
});

describe('legacy django app (gunicorn)', () => {
  it('serves /hello/ and /__health', async () => {
    assert.deepEqual(await fetchJson(`${django.url}/hello/`), { message: 'Hello from Django!' });
    const health = await fetch(`${django.url}/__health`);
    assert.equal(await health.text(), 'ok');
  });

  it('keeps APPEND_SLASH behaviour', async () => {
    const res = await fetch(`${django.url}/hello`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(new URL(res.headers.get('location') ?? '', django.url).pathname, '/hello/');
  });

  it('/whoami/ with and without X-Forwarded-Prefix', async () => {
    const plain = await fetchJson<WhoAmI>(`${django.url}/whoami/`);
    assert.equal(plain.url, `${django.url}/whoami/`);
    assert.equal(plain.script_name, '');
    assert.equal(plain.path, '/whoami/');

    const prefixed = await fetchJson<WhoAmI>(`${django.url}/whoami/`, { headers: { 'X-Forwarded-Prefix': '/django' } });
    assert.equal(prefixed.url, `http://127.0.0.1:${django.port}/django/whoami/`);
    assert.equal(prefixed.script_name, '/django');
    assert.equal(prefixed.path, '/django/whoami/');

    // A proxy that forwards the full (prefixed) path works too.
    const full = await fetchJson<WhoAmI>(`${django.url}/django/whoami/`, {
      headers: { 'X-Forwarded-Prefix': '/django', 'X-Forwarded-Host': 'sy.example', 'X-Forwarded-Proto': 'https' },
    });
    assert.equal(full.url, 'https://sy.example/django/whoami/');
    assert.equal(full.scheme, 'https');
    assert.equal(full.host, 'sy.example');
  });

  it('/echo/ round-trips POST bodies (plain and chunked), csrf exempt', async () => {
    const payload = 'a=1&b=' + 'ü'.repeat(50);
    const echo = await fetchJson<Echo>(`${django.url}/echo/?q=1`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'x-test-header': 'abc' },
      body: payload,
    });
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/echo/');
    assert.equal(echo.full_path, '/echo/?q=1');
    assert.equal(echo.query, 'q=1');
    assert.equal(echo.headers['x-test-header'], 'abc');
    assert.equal(echo.body_sha256, sha256(payload));
    assert.equal(echo.body_text, payload);

    const parts = ['one,', 'two,', 'three'];
    const chunked = await fetchJson<Echo>(`${django.url}/echo/`, { method: 'PATCH', ...chunkedBody(parts) });
    assert.equal(chunked.method, 'PATCH');
    assert.equal(chunked.body_sha256, sha256(parts.join('')));
    assert.equal(chunked.body_length, parts.join('').length);
  });
});
