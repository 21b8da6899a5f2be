import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { request, sha256, type Reply } from '../support/http-client.js';
import { fetchJson, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * The response cache against the real gunicorn Flask app, with the embedded memory store and an
 * injected clock (freshness is judged by it, so TTL tests do not sleep). Flask counts its own
 * hits per path (/__hits): that is how "never reached legacy" is proven.
 */
const ADMIN_TOKEN = 'cache-admin-token-0123456789';

const sha = sha256;

let flask: LegacyServer;
let now = Date.now();
const clock = () => now;
const advance = (seconds: number) => (now += seconds * 1000);

async function hits(path: string): Promise<number> {
  const all = await fetchJson<Record<string, number>>(`${flask.url}/__hits`);
  return all[path] ?? 0;
}

/** Counts Flask hits on `path` during `work`. */
async function countHits(path: string, work: () => Promise<void>): Promise<number> {
  const before = await hits(path);
  await work();
  return (await hits(path)) - before;
}

function flags(settings = ''): string {
  return `
upstreams:
  flask: { url: "${flask.url}", maxInFlight: 8 }
routes:
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
  - name: unmarked
    path: /u/*
    legacy: { upstream: flask, stripPrefix: /u }
    cache: { cacheUnmarked: true, defaultTtlSeconds: 30 }
  - name: small
    path: /s/*
    legacy: { upstream: flask, stripPrefix: /s }
    cache: { maxEntryBytes: 65536 }
  - name: stale
    path: /st/*
    legacy: { upstream: flask, stripPrefix: /st }
    cache: { staleWhileRevalidateSeconds: 30 }
  - name: peruser
    path: /a/*
    legacy: { upstream: flask, stripPrefix: /a }
    cache: { allowAuthorized: true }
  - name: cookies-ok
    path: /ck/*
    legacy: { upstream: flask, stripPrefix: /ck }
    cache: { cacheUnmarked: true, defaultTtlSeconds: 30, allowCookies: true }
  - name: plain
    path: /p/*
    legacy: { upstream: flask, stripPrefix: /p }
${settings}`;
}

before(async () => {
  flask = await startFlask({ workers: 2 });
});
after(() => flask?.stop());

describe('response cache: RFC 9111 behaviour against real gunicorn (memory store)', () => {
  let sy: Listening;
  before(async () => {
    sy = await listen({ flags: flagsText(flags()), logger: captureLogger(), adminToken: ADMIN_TOKEN, cache: { clock, redisUrl: null } });
  });
  after(() => sy.close());
  const get = (path: string, headers?: Record<string, string>) => request(sy.url, path, { headers });

  it('fresh hits never reach legacy; Age counts the time in cache', async () => {
    let first!: Reply;
    const n = await countHits('/cacheable', async () => {
      first = await get('/c/cacheable?t=fresh');
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-switchyard-cache'], 'MISS');
      for (let i = 0; i < 5; i++) {
        const again = await get('/c/cacheable?t=fresh');
        assert.equal(again.headers['x-switchyard-cache'], 'HIT');
        assert.equal(again.json().nonce, first.json().nonce);
        assert.equal(again.headers['age'], '0');
        assert.equal(again.headers['x-switchyard-route'], 'cached');
        assert.equal(again.headers['x-switchyard-backend'], 'legacy');
      }
      advance(7);
      const later = await get('/c/cacheable?t=fresh');
      assert.equal(later.headers['x-switchyard-cache'], 'HIT');
      assert.equal(later.headers['age'], '7');
      assert.equal(later.headers['cache-control'], 'public, max-age=60', "the client gets the origin's Cache-Control");
      assert.equal(later.headers['content-length'], String(first.body.length));
    });
    assert.equal(n, 1);
  });

  it('every answer of a cached route carries the decision headers once, whichever path wrote it', async () => {
    const seen: [string, Reply][] = [];
    const look = async (what: string, path: string, headers?: Record<string, string>) => seen.push([what, await get(path, headers)]);
    await look('MISS', '/c/etag?max_age=600&t=decision');
    await look('HIT', '/c/etag?max_age=600&t=decision');
    const etag = String(seen[1]?.[1].headers['etag']);
    await look('HIT', '/c/etag?max_age=600&t=decision', { 'if-none-match': etag });
    await look('BYPASS', '/c/binary?kb=1&t=decision', { range: 'bytes=0-9' });
    await look('MISS', '/c/cacheable?t=decision-cold', { 'cache-control': 'only-if-cached' });
    await look('MISS', '/st/cacheable?max_age=1&t=decision');
    advance(2);
    await look('STALE', '/st/cacheable?max_age=1&t=decision');
    // The STALE answer refreshed the entry in the background (a request to Flask's /cacheable the
    // client does not wait for): let it land here, or the next test counts it as its own.
    let refreshed = false;
    for (let i = 0; i < 100 && !refreshed; i++) {
      refreshed = (await get('/st/cacheable?max_age=1&t=decision')).headers['x-switchyard-cache'] === 'HIT';
      if (!refreshed) await delay(20);
    }
    assert.ok(refreshed, 'the background refresh landed');
    assert.deepEqual(
      seen.map(([, r]) => [r.status, r.headers['x-switchyard-cache']]),
      [[200, 'MISS'], [200, 'HIT'], [304, 'HIT'], [200, 'BYPASS'], [504, 'MISS'], [200, 'MISS'], [200, 'STALE']],
    );
    for (const [what, reply] of seen) {
      assert.equal(reply.headers['x-switchyard-cache'], what);
      // Node joins a repeated header with ", ": a header written twice would read "legacy, legacy".
      assert.equal(reply.headers['x-switchyard-backend'], 'legacy', `${what} ${reply.status}`);
      assert.match(String(reply.headers['x-switchyard-route']), /^(cached|stale)$/, `${what} ${reply.status}`);
    }
  });

  it('HEAD is answered from the GET entry; the query order does not matter', async () => {
    const n = await countHits('/cacheable', async () => {
      const full = await get('/c/cacheable?a=1&b=2');
      assert.equal(full.headers['x-switchyard-cache'], 'MISS');
      const head = await request(sy.url, '/c/cacheable?a=1&b=2', { method: 'HEAD' });
      assert.equal(head.headers['x-switchyard-cache'], 'HIT');
      assert.equal(head.headers['content-length'], String(full.body.length));
      assert.equal(head.body.length, 0);
      const reordered = await get('/c/cacheable?b=2&a=1');
      assert.equal(reordered.headers['x-switchyard-cache'], 'HIT');
      assert.equal(reordered.json().nonce, full.json().nonce);
    });
    assert.equal(n, 1);
  });

  it('private, no-store, Set-Cookie and Authorization answers are not cached', async () => {
    for (const [path, flaskPath, headers] of [
      ['/c/private', '/private', {}],
      ['/c/nostore', '/nostore', {}],
      ['/c/cookie', '/cookie', {}],
      ['/c/auth', '/auth', { authorization: 'Bearer user-1' }],
    ] as const) {
      const n = await countHits(flaskPath, async () => {
        const a = await get(path, headers);
        const b = await get(path, headers);
        assert.equal(a.status, 200);
        assert.notEqual(b.headers['x-switchyard-cache'], 'HIT', path);
        assert.notEqual(a.json().nonce, b.json().nonce, path);
      });
      assert.equal(n, 2, `${path} reached legacy every time`);
    }
    // Even a response that says it may be shared (RFC 9111 §3.5's exception) is not served to
    // requests with Authorization: they bypass the cache, so legacy checks every credential.
    const n = await countHits('/auth', async () => {
      await get('/c/auth?public=1', { authorization: 'Bearer user-1' });
      const again = await get('/c/auth?public=1', { authorization: 'Bearer user-2' });
      assert.equal(again.headers['x-switchyard-cache'], 'BYPASS');
    });
    assert.equal(n, 2);
  });

  it('allowAuthorized routes keep one entry per credential', async () => {
    const n = await countHits('/auth', async () => {
      const one = await get('/a/auth?t=peruser', { authorization: 'Bearer user-1' });
      const two = await get('/a/auth?t=peruser', { authorization: 'Bearer user-2' });
      const oneAgain = await get('/a/auth?t=peruser', { authorization: 'Bearer user-1' });
      assert.equal(two.headers['x-switchyard-cache'], 'MISS');
      assert.equal(oneAgain.headers['x-switchyard-cache'], 'HIT');
      assert.equal(oneAgain.json().nonce, one.json().nonce);
      assert.notEqual(two.json().nonce, one.json().nonce);
    });
    assert.equal(n, 2);
  });

  it('unmarked responses are cached only where the route opts in, for defaultTtlSeconds', async () => {
    const notHere = await countHits('/hello', async () => {
      await get('/c/hello');
      assert.equal((await get('/c/hello')).headers['x-switchyard-cache'], 'MISS');
    });
    assert.equal(notHere, 2);
    const optedIn = await countHits('/hello', async () => {
      assert.equal((await get('/u/hello')).headers['x-switchyard-cache'], 'MISS');
      assert.equal((await get('/u/hello')).headers['x-switchyard-cache'], 'HIT');
      advance(31);
      assert.equal((await get('/u/hello')).headers['x-switchyard-cache'], 'MISS', 'expired after defaultTtlSeconds');
    });
    assert.equal(optedIn, 2);
  });

  it('Vary: Accept-Language keeps one entry per language', async () => {
    const n = await countHits('/vary-lang', async () => {
      const order = [
        ['en', 'MISS', 'hello'],
        ['fr', 'MISS', 'bonjour'],
        ['en', 'HIT', 'hello'],
        ['fr', 'HIT', 'bonjour'],
        ['de', 'MISS', 'hallo'],
        ['de', 'HIT', 'hallo'],
      ] as const;
      for (const [lang, status, greeting] of order) {
        const r = await get('/c/vary-lang', { 'accept-language': lang });
        assert.equal(r.headers['x-switchyard-cache'], status, `${lang}`);
        assert.equal(r.json().greeting, greeting);
        assert.equal(r.headers['content-language'], lang);
      }
    });
    assert.equal(n, 3);
  });

  it('a header named in Connection (dropped before legacy) cannot poison the variant it would key', async () => {
    const url = '/c/vary-lang?t=connection-poison';
    // The attacker's French request reaches legacy without its Accept-Language: English comes back.
    const attack = await get(url, { 'accept-language': 'fr', connection: 'close, accept-language' });
    assert.equal(attack.json().greeting, 'hello');
    const french = await get(url, { 'accept-language': 'fr' });
    assert.equal(french.json().greeting, 'bonjour', 'a French user gets French');
    assert.equal(french.headers['x-switchyard-cache'], 'MISS');
    const none = await get(url);
    assert.equal(none.headers['x-switchyard-cache'], 'HIT', 'the attack filled the language-less variant — the one legacy answered');
    assert.equal(none.json().greeting, 'hello');
  });

  it('requests with cookies bypass the cache unless the route allows them: no session leaks to other users', async () => {
    const url = '/u/echo?t=cookie-leak';
    const victim = await get(url, { cookie: 'session=VICTIM-SESSION' });
    assert.equal(victim.headers['x-switchyard-cache'], 'BYPASS');
    const anonymous = await get(url);
    assert.equal(anonymous.headers['x-switchyard-cache'], 'MISS');
    assert.doesNotMatch(anonymous.body.toString('utf8'), /VICTIM-SESSION/);
    assert.equal((await get(url, { cookie: 'session=VICTIM-SESSION' })).headers['x-switchyard-cache'], 'BYPASS', 'not served from the cache either');
    // A route that says its answers do not depend on cookies caches them like any other.
    await get('/ck/cacheable?t=cookies-ok', { cookie: '_ga=1' });
    assert.equal((await get('/ck/cacheable?t=cookies-ok', { cookie: '_ga=2' })).headers['x-switchyard-cache'], 'HIT');
  });

  it('a request that asks not to be stored (no-store, a stray Authorization) neither evicts the entry nor turns caching off for others', async () => {
    for (const headers of [{ 'cache-control': 'no-cache, no-store' }, { authorization: 'Bearer junk' }] as Record<string, string>[]) {
      const url = `/c/cacheable?t=evict-${Object.keys(headers)[0]}`;
      await get(url);
      assert.equal((await get(url)).headers['x-switchyard-cache'], 'HIT');
      const own = await get(url, headers);
      assert.equal(own.status, 200);
      const n = await countHits('/cacheable', async () => {
        const replies = await Promise.all(Array.from({ length: 10 }, () => get(url)));
        assert.ok(replies.every((r) => r.headers['x-switchyard-cache'] === 'HIT'), JSON.stringify(headers));
      });
      assert.equal(n, 0, `legacy untouched after ${JSON.stringify(headers)}`);
    }
  });

  it('refreshing one variant keeps the others', async () => {
    const n = await countHits('/vary-lang', async () => {
      await get('/c/vary-lang?t=refresh', { 'accept-language': 'en' });
      advance(30);
      const fr = await get('/c/vary-lang?t=refresh', { 'accept-language': 'fr' });
      advance(31);
      assert.equal((await get('/c/vary-lang?t=refresh', { 'accept-language': 'en' })).headers['x-switchyard-cache'], 'MISS', 'en expired');
      const frAgain = await get('/c/vary-lang?t=refresh', { 'accept-language': 'fr' });
      assert.equal(frAgain.headers['x-switchyard-cache'], 'HIT', 'fr still fresh, still reachable');
      assert.equal(frAgain.json().nonce, fr.json().nonce);
    });
    assert.equal(n, 3);
  });

  it('an unkeyed header (X-Forwarded-Host) cannot poison an entry', async () => {
    const n = await countHits('/cacheable', async () => {
      const poisoned = await get('/c/cacheable?t=poison', { host: 'shop.example', 'x-forwarded-host': 'evil.example' });
      assert.equal(poisoned.headers['x-switchyard-cache'], 'MISS');
      assert.ok(!poisoned.body.toString().includes('evil'), 'Switchyard replaced the untrusted X-Forwarded-Host before legacy saw it');
      const victim = await get('/c/cacheable?t=poison', { host: 'shop.example' });
      assert.equal(victim.headers['x-switchyard-cache'], 'HIT');
      assert.equal(victim.json().self_url, 'http://shop.example/c/cacheable?t=poison');
      const otherHost = await get('/c/cacheable?t=poison', { host: 'other.example' });
      assert.equal(otherHost.headers['x-switchyard-cache'], 'MISS', 'the host is part of the key');
      assert.equal(otherHost.json().self_url, 'http://other.example/c/cacheable?t=poison');
    });
    assert.equal(n, 2);
  });

  it('revalidates a stale entry with its ETag (legacy answers 304), then notices a change', async () => {
    await request(flask.url, '/etag/bump', { method: 'POST' });
    let version = 0;
    const n = await countHits('/etag', async () => {
      const first = await get('/c/etag?max_age=1');
      assert.equal(first.headers['x-switchyard-cache'], 'MISS');
      version = first.json().version;
      advance(2);
      const revalidated = await get('/c/etag?max_age=1');
      assert.equal(revalidated.headers['x-switchyard-cache'], 'REVALIDATED');
      assert.equal(revalidated.json().version, version);
      assert.equal((await get('/c/etag?max_age=1')).headers['x-switchyard-cache'], 'HIT', 'fresh again after the 304');
      await request(flask.url, '/etag/bump', { method: 'POST' });
      advance(2);
      const changed = await get('/c/etag?max_age=1');
      assert.equal(changed.headers['x-switchyard-cache'], 'MISS');
      assert.equal(changed.json().version, version + 1);
    });
    assert.equal(n, 3);
  });

  it('answers a client\'s own conditionals with 304 from the cache', async () => {
    const n = await countHits('/etag', async () => {
      const first = await get('/c/etag?max_age=600');
      const etag = String(first.headers['etag']);
      const notModified = await get('/c/etag?max_age=600', { 'if-none-match': etag });
      assert.equal(notModified.status, 304);
      assert.equal(notModified.headers['x-switchyard-cache'], 'HIT');
      assert.equal(notModified.headers['etag'], etag);
      assert.equal(notModified.body.length, 0);
      const since = await get('/c/etag?max_age=600', { 'if-modified-since': String(first.headers['last-modified']) });
      assert.equal(since.status, 304);
      const otherTag = await get('/c/etag?max_age=600', { 'if-none-match': '"nope"' });
      assert.equal(otherTag.status, 200);
      assert.equal(otherTag.headers['x-switchyard-cache'], 'HIT');
    });
    assert.equal(n, 1);
    // A conditional on a cold key: the fill asks legacy without it, stores the 200, answers 304.
    const cold = await get('/c/etag?max_age=600&cold=1', { 'if-none-match': '"nope", W/"whatever"' });
    assert.equal(cold.status, 200);
    const coldEtag = String(cold.headers['etag']);
    const cold304 = await get('/c/etag?max_age=601', { 'if-none-match': coldEtag });
    assert.equal(cold304.status, 304);
    assert.equal(cold304.headers['x-switchyard-cache'], 'MISS');
    assert.equal((await get('/c/etag?max_age=601')).headers['x-switchyard-cache'], 'HIT', 'and it was stored');
  });

  it('Cache-Control: no-cache from the origin: stored, and revalidated on every use', async () => {
    const n = await countHits('/nocache', async () => {
      assert.equal((await get('/c/nocache')).headers['x-switchyard-cache'], 'MISS');
      const r = await get('/c/nocache');
      assert.equal(r.headers['x-switchyard-cache'], 'REVALIDATED');
      assert.deepEqual(r.json(), { path: '/nocache', fixed: true });
    });
    assert.equal(n, 2);
  });

  it('stores gzip and binary bodies byte for byte', async () => {
    for (const path of ['/gzip', '/binary?kb=48']) {
      const direct = await request(flask.url, path, { headers: { 'accept-encoding': 'gzip' } });
      const miss = await get(`/c${path}`, { 'accept-encoding': 'gzip' });
      const hit = await get(`/c${path}`, { 'accept-encoding': 'gzip' });
      assert.equal(miss.headers['x-switchyard-cache'], 'MISS');
      assert.equal(hit.headers['x-switchyard-cache'], 'HIT');
      assert.equal(sha(miss.body), sha(direct.body), path);
      assert.equal(sha(hit.body), sha(direct.body), path);
      assert.equal(hit.headers['content-encoding'], direct.headers['content-encoding']);
    }
  });

  it('responses larger than maxEntryBytes stream through uncached (known length or chunked)', async () => {
    const direct = await request(flask.url, '/big-cacheable?kb=256');
    for (const query of ['kb=256', 'kb=256&chunked=1']) {
      const n = await countHits('/big-cacheable', async () => {
        for (let i = 0; i < 2; i++) {
          const r = await get(`/s/big-cacheable?${query}`);
          assert.equal(r.headers['x-switchyard-cache'], 'MISS');
          assert.equal(sha(r.body), sha(direct.body));
        }
      });
      assert.equal(n, 2, query);
    }
    // A small one on the same route is cached.
    const small = await countHits('/big-cacheable', async () => {
      await get('/s/big-cacheable?kb=16&chunked=1');
      assert.equal((await get('/s/big-cacheable?kb=16&chunked=1')).headers['x-switchyard-cache'], 'HIT');
    });
    assert.equal(small, 1);
  });

  it('stale-while-revalidate: serves the stale copy and refreshes it in the background', async () => {
    for (const path of ['/st/cacheable?max_age=10&t=swr-route', '/c/cacheable?max_age=10&swr=30&t=swr-origin']) {
      const first = await get(path);
      advance(15);
      const before = await hits('/cacheable');
      const stale = await get(path);
      assert.equal(stale.headers['x-switchyard-cache'], 'STALE', path);
      assert.equal(stale.json().nonce, first.json().nonce);
      assert.equal(stale.headers['age'], '15');
      for (let i = 0; i < 100 && (await hits('/cacheable')) === before; i++) await delay(20);
      await delay(50);
      assert.equal((await hits('/cacheable')) - before, 1, 'one background refresh');
      const fresh = await get(path);
      assert.equal(fresh.headers['x-switchyard-cache'], 'HIT');
      assert.notEqual(fresh.json().nonce, first.json().nonce);
    }
  });

  it('stale-if-error: legacy answering 5xx gets the stale copy within the window', async () => {
    await request(flask.url, '/flaky/mode?fail=0', { method: 'POST' });
    try {
      const first = await get('/c/flaky?sie=60');
      assert.equal(first.headers['x-switchyard-cache'], 'MISS');
      await request(flask.url, '/flaky/mode?fail=1', { method: 'POST' });
      advance(5);
      const stale = await get('/c/flaky?sie=60');
      assert.equal(stale.status, 200);
      assert.equal(stale.headers['x-switchyard-cache'], 'STALE');
      assert.equal(stale.json().nonce, first.json().nonce);
      advance(100);
      const failing = await get('/c/flaky?sie=60');
      assert.equal(failing.status, 503, 'past stale-if-error: legacy\'s answer');
    } finally {
      await request(flask.url, '/flaky/mode?fail=0', { method: 'POST' });
    }
  });

  it('a successful unsafe request invalidates the URL (RFC 9111 §4.4)', async () => {
    const n = await countHits('/echo', async () => {
      assert.equal((await get('/u/echo?t=inv')).headers['x-switchyard-cache'], 'MISS');
      assert.equal((await get('/u/echo?t=inv')).headers['x-switchyard-cache'], 'HIT');
      const post = await request(sy.url, '/u/echo?t=inv', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
      assert.equal(post.headers['x-switchyard-cache'], 'BYPASS');
      assert.equal((await get('/u/echo?t=inv')).headers['x-switchyard-cache'], 'MISS');
    });
    assert.equal(n, 3, 'GET, POST, GET');
  });

  it('an unsafe request during a Vary fill is not undone by that fill (the old variants stay orphaned)', async () => {
    // fr is stored (marker + variant); a de fill starts from that marker; a POST invalidates the
    // URL while legacy is still answering de; the fill must not write the old marker back, or fr
    // (an answer from before the POST) would be served again.
    const url = '/c/vary-lang?sleep_ms=300&t=invalidate-during-fill';
    assert.equal((await get(url, { 'accept-language': 'fr' })).headers['x-switchyard-cache'], 'MISS');
    assert.equal((await get(url, { 'accept-language': 'fr' })).headers['x-switchyard-cache'], 'HIT');
    const fill = get(url, { 'accept-language': 'de' });
    await delay(100);
    const post = await request(sy.url, url, { method: 'POST' });
    assert.equal(post.status, 200);
    assert.equal(post.headers['x-switchyard-cache'], 'BYPASS');
    assert.equal((await fill).headers['x-switchyard-cache'], 'MISS');
    assert.equal((await get(url, { 'accept-language': 'fr' })).headers['x-switchyard-cache'], 'MISS', 'fr was invalidated by the POST');
  });

  it('Range requests and routes without a cache block go straight to legacy', async () => {
    const range = await get('/c/binary?kb=4&t=range', { range: 'bytes=0-9' });
    assert.equal(range.headers['x-switchyard-cache'], 'BYPASS');
    const plain = await get('/p/cacheable');
    assert.equal(plain.headers['x-switchyard-cache'], undefined);
  });

  it('50 concurrent requests for a cold key: exactly 1 legacy hit', async () => {
    const n = await countHits('/cacheable', async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, () => get('/c/cacheable?sleep_ms=300&t=stampede')));
      assert.ok(replies.every((r) => r.status === 200));
      assert.equal(new Set(replies.map((r) => String(r.json().nonce))).size, 1);
      const statuses = replies.map((r) => r.headers['x-switchyard-cache']);
      assert.equal(statuses.filter((s) => s === 'MISS').length, 1);
      assert.equal(statuses.filter((s) => s === 'HIT').length, 49);
    });
    assert.equal(n, 1);
  });

  it('purge API: token-protected; by URL, by route, by prefix, everything', async () => {
    const purge = (body: unknown, token = ADMIN_TOKEN) =>
      request(sy.url, '/_switchyard/cache/purge', { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
    const admin = (body: object, token = ADMIN_TOKEN) => purge({ ...body, reason: 'test' }, token);
    const warm = async (...paths: string[]) => {
      for (const p of paths) await get(p);
      for (const p of paths) assert.equal((await get(p)).headers['x-switchyard-cache'], 'HIT', p);
    };
    const status = async (p: string) => (await get(p)).headers['x-switchyard-cache'];

    const denied = await request(sy.url, '/_switchyard/cache/purge', { method: 'POST', body: '{"all":true}', headers: { 'content-type': 'application/json' } });
    assert.equal(denied.status, 401);
    assert.match(String(denied.headers['content-type']), /application\/problem\+json/);
    assert.equal((await admin({ all: true }, 'wrong-token-wrong-token')).status, 403);

    await warm('/c/cacheable?t=p1', '/c/cacheable?t=p2');
    const byUrl = await admin({ url: '/c/cacheable?t=p1' });
    assert.equal(byUrl.status, 200);
    assert.equal(byUrl.json().purged, 1);
    assert.equal(await status('/c/cacheable?t=p1'), 'MISS');
    assert.equal(await status('/c/cacheable?t=p2'), 'HIT');

    await warm('/c/vary-lang?t=p3');
    assert.equal((await admin({ url: `${sy.url}/c/vary-lang?t=p3` })).json().purged, 2, 'the Vary marker and its variant');
    assert.equal(await status('/c/vary-lang?t=p3'), 'MISS');

    await warm('/u/hello?t=p4', '/c/cacheable?t=p5');
    assert.ok((await admin({ route: 'unmarked' })).json().purged >= 1);
    assert.equal(await status('/u/hello?t=p4'), 'MISS');
    assert.equal(await status('/c/cacheable?t=p5'), 'HIT');

    await warm('/c/binary?kb=1', '/c/cacheable?t=p6');
    assert.ok((await admin({ prefix: '/c/binary' })).json().purged >= 1);
    assert.equal(await status('/c/binary?kb=1'), 'MISS');
    assert.equal(await status('/c/cacheable?t=p6'), 'HIT');

    assert.ok((await admin({ all: true })).json().purged >= 1);
    assert.equal(await status('/c/cacheable?t=p6'), 'MISS');

    assert.equal(await sy.switchyard.purgeCache({ url: '/c/cacheable?t=p6' }), 1, 'the same from code');

    const bad = await admin({ route: 'nope' });
    assert.equal(bad.status, 404);
    assert.match(String(bad.headers['content-type']), /application\/problem\+json/);
    assert.equal((await admin({ prefix: 'no-slash' })).status, 400);
    assert.equal((await admin({})).status, 400);

    // No reason: 400 problem+json, nothing purged; with one, the purge is in the audit log.
    await warm('/c/cacheable?t=p7');
    for (const body of [{ url: '/c/cacheable?t=p7' }, { url: '/c/cacheable?t=p7', reason: '  ' }]) {
      const unexplained = await purge(body);
      assert.equal(unexplained.status, 400);
      assert.match(String(unexplained.headers['content-type']), /application\/problem\+json/);
      assert.equal(unexplained.json().code, 'SWITCHYARD_ADMIN_BAD_INPUT');
      assert.match(unexplained.json().detail, /^reason: /);
    }
    const everything = await request(sy.url, '/_switchyard/cache', { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(everything.status, 400, 'DELETE without a reason purges nothing either');
    assert.equal(await status('/c/cacheable?t=p7'), 'HIT', 'nothing was purged');
    const explained = await purge({ url: '/c/cacheable?t=p7', reason: 'stale report', by: 'ops' });
    assert.equal(explained.status, 200);
    assert.equal(explained.json().scope, 'this-process');
    const { at, version, instance, ...entry } = explained.json().audit;
    assert.ok(typeof at === 'string' && typeof version === 'number' && typeof instance === 'string', JSON.stringify(explained.json()));
    assert.deepEqual(entry, { by: 'ops', reason: 'stale report', target: 'cache', action: 'purge', purge: { url: '/c/cacheable?t=p7' }, route: 'cached', purged: 1, from: { source: 'cache', entries: 1 }, to: { source: 'cache', entries: 0 } });
    assert.equal(await status('/c/cacheable?t=p7'), 'MISS');
    const audit = await request(sy.url, '/_switchyard/flags/audit', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.deepEqual((audit.json() as { entries: unknown[] }).entries.at(-1), explained.json().audit);
  });

  it('hit/miss/stale/revalidated/bypass counts per route, from the Switchyard object and the admin API', async () => {
    const stats = sy.switchyard.cacheStats();
    const cached = stats.routes['cached'];
    assert.ok(cached !== undefined);
    assert.ok(cached.hit > 0 && cached.miss > 0 && cached.stale > 0 && cached.revalidated > 0 && cached.bypass > 0, JSON.stringify(cached));
    assert.equal(stats.store.kind, 'memory');
    assert.equal(stats.store.available, true);
    const viaApi = await request(sy.url, '/_switchyard/cache', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(viaApi.status, 200);
    assert.ok(viaApi.json().routes.cached.hit >= cached.hit);
  });
});

describe('response cache behind a trusted proxy (trustForwardedHeaders: true)', () => {
  it('X-Forwarded-Host reaches legacy, so it is keyed: no entry answers another forwarded host', async () => {
    const sy = await listen({ flags: flagsText(flags('settings:\n  trustForwardedHeaders: true\n')), logger: captureLogger(), cache: { clock, redisUrl: null } });
    try {
      const n = await countHits('/cacheable', async () => {
        const evil = await request(sy.url, '/c/cacheable?t=trusted', { headers: { host: 'shop.example', 'x-forwarded-host': 'evil.example' } });
        assert.equal(evil.json().self_url, 'http://evil.example/c/cacheable?t=trusted');
        const plain = await request(sy.url, '/c/cacheable?t=trusted', { headers: { host: 'shop.example' } });
        assert.equal(plain.headers['x-switchyard-cache'], 'MISS');
        assert.equal(plain.json().self_url, 'http://shop.example/c/cacheable?t=trusted');
        const plainAgain = await request(sy.url, '/c/cacheable?t=trusted', { headers: { host: 'shop.example' } });
        assert.equal(plainAgain.headers['x-switchyard-cache'], 'HIT');
        assert.ok(!plainAgain.body.toString().includes('evil'));
      });
      assert.equal(n, 2);
    } finally {
      await sy.close();
    }
  });
});

describe('stale-if-error with legacy killed', () => {
  it('serves the stale copy while legacy is down, within the route\'s window only', async () => {
    const dedicated = await startFlask({ workers: 1 });
    let sy: Listening | undefined;
    try {
      sy = await listen({
        flags: flagsText(`
upstreams:
  legacy: { url: "${dedicated.url}", connectTimeoutMs: 500 }
routes:
  - name: shop
    path: /*
    legacy: { upstream: legacy }
    cache: { staleIfErrorSeconds: 300 }
`),
        logger: captureLogger(),
        cache: { clock, redisUrl: null },
      });
      const first = await request(sy.url, '/cacheable?max_age=5');
      assert.equal(first.headers['x-switchyard-cache'], 'MISS');
      await dedicated.stop();
      advance(10);
      const stale = await request(sy.url, '/cacheable?max_age=5');
      assert.equal(stale.status, 200);
      assert.equal(stale.headers['x-switchyard-cache'], 'STALE');
      assert.equal(stale.json().nonce, first.json().nonce);
      assert.equal(stale.headers['age'], '10');
      advance(400);
      const gone = await request(sy.url, '/cacheable?max_age=5');
      assert.equal(gone.status, 502);
      assert.match(String(gone.headers['content-type']), /application\/problem\+json/);
      assert.equal(gone.json().code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
      const cold = await request(sy.url, '/cacheable?never=cached');
      assert.equal(cold.status, 502, 'nothing stale to fall back on');
    } finally {
      await sy?.close();
      await dedicated.stop();
    }
  });
});
