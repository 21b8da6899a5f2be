import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamOverloadedError, UpstreamTimeoutError, UpstreamUnavailableError } from '../../src/errors/switchyard-error.js';
import { toUpstreamFailure } from '../../src/errors/upstream-failure.js';
import { endToEndHeaders, endToEndLines, forwardedRequestHeaders, headersNamedInConnection, removeHopByHop, requestHasBody, stripPathPrefix } from '../../src/proxy/forwarded-headers.js';
import { isConnectionReset, isStaleReuse } from '../../src/proxy/idle-sockets.js';
import { UpstreamLimiter, type SlotRejection } from '../../src/proxy/upstream-limiter.js';

describe('forwarded headers', () => {
  const facts = { clientIp: '10.1.2.3', encrypted: false, stripPrefix: '/flask', trustForwarded: false };

  it('drops hop-by-hop headers, the ones Connection names, and Switchyard-internal ones', () => {
    const out = forwardedRequestHeaders(
      { host: 'shop.example', connection: 'keep-alive, X-Secret', 'keep-alive': 'timeout=5', 'x-secret': 's', te: 'trailers', upgrade: 'h2c', 'proxy-authorization': 'Basic x', 'x-switchyard-force': 'new', 'x-switchyard-override-token': 'tok', 'x-user-id': 'u1', 'transfer-encoding': 'chunked', expect: '100-continue' },
      facts,
    );
    for (const gone of ['connection', 'keep-alive', 'x-secret', 'te', 'upgrade', 'proxy-authorization', 'x-switchyard-force', 'x-switchyard-override-token', 'expect']) assert.equal(out[gone], undefined, gone);
    assert.equal(out['x-user-id'], 'u1');
    assert.equal(out['transfer-encoding'], 'chunked', 'framing must survive');
  });

  it('a client cannot strip framing or forwarding headers by naming them in Connection', () => {
    const out = forwardedRequestHeaders({ host: 'h', connection: 'content-length, transfer-encoding, x-forwarded-for', 'content-length': '3' }, facts);
    assert.equal(out['content-length'], '3');
    assert.equal(out['x-forwarded-for'], '10.1.2.3');
  });

  it('sets X-Forwarded-For/-Proto/-Host/-Prefix, replacing untrusted client values', () => {
    const out = forwardedRequestHeaders({ host: 'shop.example', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/evil' }, facts);
    assert.equal(out['x-forwarded-for'], '10.1.2.3');
    assert.equal(out['x-forwarded-host'], 'shop.example');
    assert.equal(out['x-forwarded-proto'], 'http');
    assert.equal(out['x-forwarded-prefix'], '/flask');
  });

  it('appends to trusted values from a proxy in front', () => {
    const out = forwardedRequestHeaders({ host: 'h', 'x-forwarded-for': '1.1.1.1', 'x-forwarded-host': 'public.example', 'x-forwarded-proto': 'https', 'x-forwarded-prefix': '/shop/' }, { ...facts, trustForwarded: true });
    assert.equal(out['x-forwarded-for'], '1.1.1.1, 10.1.2.3');
    assert.equal(out['x-forwarded-host'], 'public.example');
    assert.equal(out['x-forwarded-proto'], 'https');
    assert.equal(out['x-forwarded-prefix'], '/shop/flask');
  });

  it('sends no prefix header without a prefix, and https when the socket is TLS', () => {
    const out = forwardedRequestHeaders({ host: 'h' }, { ...facts, stripPrefix: '', encrypted: true });
    assert.equal(out['x-forwarded-prefix'], undefined);
    assert.equal(out['x-forwarded-proto'], 'https');
  });

  it('strips response hop-by-hop headers too', () => {
    const h: Record<string, string> = { connection: 'close, x-a', 'x-a': '1', 'keep-alive': 'x', 'content-type': 'text/plain' };
    removeHopByHop(h);
    assert.deepEqual(h, { 'content-type': 'text/plain' });
  });

  it('strips the mount prefix and keeps the query', () => {
    assert.equal(stripPathPrefix('/flask/hello', '?a=1&b=2', '/flask'), '/hello?a=1&b=2');
    assert.equal(stripPathPrefix('/flask', '', '/flask'), '/');
    assert.equal(stripPathPrefix('/flask/', '?x', '/flask'), '/?x');
    assert.equal(stripPathPrefix('/a/b', '', ''), '/a/b');
  });
});

describe('upstream failure mapping', () => {
  it('refused/reset/DNS → 502, socket timeouts → 504, our own errors pass through', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH']) {
      const e = toUpstreamFailure('flask', Object.assign(new Error(code), { code }));
      assert.ok(e instanceof UpstreamUnavailableError && e.status === 502, code);
      assert.ok(e.cause instanceof Error);
    }
    assert.equal(toUpstreamFailure('flask', Object.assign(new Error(), { code: 'ETIMEDOUT' })).status, 504);
    const own = new UpstreamTimeoutError('flask', 'connect', 100);
    assert.equal(toUpstreamFailure('flask', own), own);
    assert.equal(toUpstreamFailure('flask', 'weird').status, 502);
    assert.equal(new UpstreamOverloadedError('flask', 'x', 2).status, 503);
  });
});

describe('upstream limiter', () => {
  const settings = { maxInFlight: 2, maxQueue: 2, queueTimeoutMs: 10_000 };

  it('grants up to maxInFlight at once, queues in order, rejects past the queue', () => {
    const limiter = new UpstreamLimiter(settings);
    const releases: (() => void)[] = [];
    const order: string[] = [];
    const rejected: SlotRejection[] = [];
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      limiter.acquire(
        (release) => {
          order.push(name);
          releases.push(release);
        },
        (why) => rejected.push(why),
      );
    }
    assert.deepEqual(order, ['a', 'b']);
    assert.equal(limiter.inFlight, 2);
    assert.equal(limiter.queued, 2);
    assert.deepEqual(rejected, ['queue_full']);
    releases[0]!();
    releases[0]!(); // releasing twice must not free two slots
    assert.deepEqual(order, ['a', 'b', 'c']);
    assert.equal(limiter.inFlight, 2);
    releases[1]!();
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
    assert.equal(limiter.queued, 0);
  });

  it('a cancelled waiter leaves the queue and is never granted', () => {
    const limiter = new UpstreamLimiter({ ...settings, maxInFlight: 1 });
    let release = (): void => {};
    limiter.acquire((r) => (release = r), () => {});
    let granted = false;
    const cancel = limiter.acquire(() => (granted = true), () => {});
    cancel();
    assert.equal(limiter.queued, 0);
    release();
    assert.equal(granted, false);
    assert.equal(limiter.inFlight, 0);
  });

  it('times out a waiter and reports idle', async () => {
    const limiter = new UpstreamLimiter({ maxInFlight: 1, maxQueue: 5, queueTimeoutMs: 20 });
    let release = (): void => {};
    limiter.acquire((r) => (release = r), () => {});
    const why = await new Promise<SlotRejection>((resolve) => limiter.acquire(() => {}, resolve));
    assert.equal(why, 'queue_timeout');
    let idle = false;
    limiter.whenIdle(() => (idle = true));
    assert.equal(idle, false);
    release();
    assert.equal(idle, true);
  });
});

describe('forwarded headers: smuggling', () => {
  const facts = { clientIp: '10.1.2.3', encrypted: false, stripPrefix: '/flask', trustForwarded: false };

  it('drops headers with underscores (WSGI would read X_Forwarded_Host as X-Forwarded-Host, SCRIPT_NAME as the mount)', () => {
    const out = forwardedRequestHeaders({ host: 'h', x_forwarded_host: 'evil', script_name: '/api', x_forwarded_for: '6.6.6.6', 'x-ok': '1' }, facts);
    assert.equal(out['x_forwarded_host'], undefined);
    assert.equal(out['script_name'], undefined);
    assert.equal(out['x_forwarded_for'], undefined);
    assert.equal(out['x-ok'], '1');
  });

  it('drops other forwarding headers a client could forge, unless trusted', () => {
    const forged = { host: 'h', forwarded: 'for=6.6.6.6;host=evil', 'x-forwarded-port': '1', 'x-real-ip': '6.6.6.6', 'x-original-url': '/admin' };
    const out = forwardedRequestHeaders(forged, facts);
    for (const name of ['forwarded', 'x-forwarded-port', 'x-real-ip', 'x-original-url']) assert.equal(out[name], undefined, name);
    assert.equal(forwardedRequestHeaders(forged, { ...facts, trustForwarded: true })['forwarded'], 'for=6.6.6.6;host=evil');
  });

  it('a client cannot drop Host by naming it in Connection', () => {
    const out = forwardedRequestHeaders({ host: 'shop.example', connection: 'host' }, facts);
    assert.equal(out.host, 'shop.example');
    assert.equal(out['x-forwarded-host'], 'shop.example');
  });
});

describe('upstream limiter: memory and reloads', () => {
  it('keeps no trace of cancelled or timed-out waiters', async () => {
    const limiter = new UpstreamLimiter({ maxInFlight: 1, maxQueue: 100_000, queueTimeoutMs: 5 });
    limiter.acquire(() => {}, () => {});
    for (let i = 0; i < 10_000; i++) limiter.acquire(() => {}, () => {})();
    assert.equal(limiter.queued, 0);
    await Promise.all(Array.from({ length: 100 }, () => new Promise((resolve) => limiter.acquire(() => {}, resolve))));
    assert.equal(limiter.queued, 0);
    // Internals: the waiter collection itself is empty (the review found it growing without bound).
    assert.equal((limiter as unknown as { waiters: Set<unknown> }).waiters.size, 0);
  });

  it('resize keeps the in-flight count and grants queued waiters when the limit grows', () => {
    const limiter = new UpstreamLimiter({ maxInFlight: 1, maxQueue: 10, queueTimeoutMs: 10_000 });
    const granted: string[] = [];
    limiter.acquire(() => granted.push('a'), () => {});
    const cancels = ['b', 'c'].map((n) => limiter.acquire(() => granted.push(n), () => {}));
    limiter.resize({ maxInFlight: 2, maxQueue: 10, queueTimeoutMs: 10_000 });
    assert.deepEqual(granted, ['a', 'b']);
    assert.equal(limiter.inFlight, 2);
    for (const cancel of cancels) cancel();
  });
});

describe('forwarded headers: Connection and end-to-end copies', () => {
  it('names the same headers for the common Connection values as the general parse does', () => {
    for (const value of ['keep-alive', 'Keep-Alive', 'close', 'Close']) {
      assert.deepEqual([...headersNamedInConnection(value)], [value.toLowerCase()]);
      assert.deepEqual([...headersNamedInConnection(` ${value} ,`)], [value.toLowerCase()]);
    }
    assert.deepEqual([...headersNamedInConnection('keep-alive, X-Secret, host, x-forwarded-for')], ['keep-alive', 'x-secret']);
    assert.equal(headersNamedInConnection(undefined).size, 0);
  });

  it('copies end-to-end response headers, without Transfer-Encoding when the response is reframed', () => {
    const headers = { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', connection: 'keep-alive, x-private', 'keep-alive': 'timeout=2', 'x-private': '1', etag: '"a"' };
    assert.deepEqual(endToEndHeaders(headers), { 'content-type': 'text/plain', 'transfer-encoding': 'chunked', etag: '"a"' });
    assert.deepEqual(endToEndHeaders(headers, true), { 'content-type': 'text/plain', etag: '"a"' });
  });

  it('turns raw response header lines into the lines a client gets, by the same rules, names as the backend wrote them', () => {
    const raw = (...lines: string[]) => lines.map((l) => Buffer.from(l, 'latin1'));
    assert.deepEqual(
      endToEndLines(raw('Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'Connection', 'keep-alive, X-Private', 'Keep-Alive', 'timeout=2', 'X-Private', '1', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'ETag', '"a"')),
      ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'ETag', '"a"'],
    );
    // Two Connection lines name headers together; framing and forwarding headers cannot be named away.
    assert.deepEqual(
      endToEndLines(raw('Connection', 'x-a', 'X-A', '1', 'connection', 'X-B, content-length, x-forwarded-for', 'x-b', '2', 'Content-Length', '5', 'X-Forwarded-For', '1.2.3.4', 'Upgrade', 'h2c', 'TE', 'trailers')),
      ['Content-Length', '5', 'X-Forwarded-For', '1.2.3.4'],
    );
    assert.deepEqual(endToEndLines(raw('Content-Length', '0')), ['Content-Length', '0']);
    assert.deepEqual(endToEndLines([]), []);
  });

  it("Switchyard's own headers go after the backend's, unless the backend sent one of the same name", () => {
    const raw = (...lines: string[]) => lines.map((l) => Buffer.from(l, 'latin1'));
    const ours = ['x-switchyard-backend', 'legacy', 'x-switchyard-route', 'users'];
    assert.deepEqual(endToEndLines(raw('Content-Type', 'text/plain', 'Connection', 'keep-alive'), ours), ['Content-Type', 'text/plain', ...ours]);
    assert.deepEqual(endToEndLines([], ours), ours);
    // A Switchyard behind a Switchyard: the backend's own value stays, once.
    assert.deepEqual(endToEndLines(raw('X-Switchyard-Backend', 'new', 'ETag', '"a"'), ours), ['X-Switchyard-Backend', 'new', 'ETag', '"a"', 'x-switchyard-route', 'users']);
    // A header named like one of our values is no clash; one the Connection header drops is none either.
    assert.deepEqual(endToEndLines(raw('Legacy', '1'), ours), ['Legacy', '1', ...ours]);
    assert.deepEqual(endToEndLines(raw('Connection', 'x-switchyard-route', 'x-switchyard-route', 'inner'), ours), ours);
  });

  it('a request has a body when chunked or with a Content-Length other than 0 (what the retry and the cache both ask)', () => {
    assert.equal(requestHasBody({}), false);
    assert.equal(requestHasBody({ 'content-length': '0' }), false);
    assert.equal(requestHasBody({ 'content-length': '3' }), true);
    assert.equal(requestHasBody({ 'transfer-encoding': 'chunked' }), true);
  });

  it('retries only a bodiless safe request on a reused connection that was reset', () => {
    const reset = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    assert.equal(isConnectionReset(reset), true);
    assert.equal(isConnectionReset(Object.assign(new Error('pipe'), { code: 'EPIPE' })), true);
    assert.equal(isConnectionReset(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })), false);
    assert.equal(isConnectionReset(null), false);
    assert.equal(isStaleReuse({ reusedSocket: true, method: 'GET' }, reset, false), true);
    assert.equal(isStaleReuse({ reusedSocket: false, method: 'GET' }, reset, false), false, 'a fresh connection: the backend may have seen it');
    assert.equal(isStaleReuse({ reusedSocket: true, method: 'POST' }, reset, false), false);
    assert.equal(isStaleReuse({ reusedSocket: true, method: 'GET' }, reset, true), false);
  });
});
