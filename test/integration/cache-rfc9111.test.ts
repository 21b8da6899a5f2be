import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { request, type Reply } from '../support/http-client.js';
import { fetchJson, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * RFC 9111 conformance of the response cache, black-box against the real gunicorn Flask app:
 * `/respond/<name>` answers with the headers the test scripts (?h=Name:Value), and Flask counts
 * its own hits per path, so "served from the cache" and "reached legacy" are both observed.
 * The cache's clock is injected (freshness is judged by it; nothing sleeps).
 */
let flask: LegacyServer;
let sy: Listening;
let now = Date.now();
const clock = () => now;
const advance = (seconds: number) => (now += seconds * 1000);
let seq = 0;

before(async () => {
  flask = await startFlask({ workers: 2 });
  sy = await listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
  - name: other
    path: /o/*
    legacy: { upstream: flask, stripPrefix: /o }
    cache: {}
  - name: heuristic
    path: /hf/*
    legacy: { upstream: flask, stripPrefix: /hf }
    cache: { heuristicFreshness: true }
  - name: cdn
    path: /cdn/*
    legacy: { upstream: flask, stripPrefix: /cdn }
    cache: { targetedCacheControl: CDN-Cache-Control }
`),
    logger: captureLogger(),
    cache: { clock, redisUrl: null },
  });
});
after(async () => {
  await sy?.close();
  await flask?.stop();
});

/** A fresh `/respond/<name>` path (own hit counter) answering with `headers`. */
function scripted(headers: readonly (readonly [string, string])[], extra = ''): { path: string; legacyPath: string } {
  const name = `t${++seq}`;
  const query = headers.map(([k, v]) => `h=${encodeURIComponent(`${k}:${v}`)}`).join('&');
  return { path: `/respond/${name}?${query}${extra}`, legacyPath: `/respond/${name}` };
}

async function legacyHits(path: string): Promise<number> {
  const all = await fetchJson<Record<string, number>>(`${flask.url}/__hits`);
  return all[path] ?? 0;
}

const get = (path: string, headers?: Record<string, string>, method = 'GET'): Promise<Reply> => request(sy.url, path, { headers, method });
const cacheStatus = (r: Reply) => r.headers['x-switchyard-cache'];

/** GETs `path` `times` times; returns how many reached legacy and the replies. */
async function twice(prefix: string, target: { path: string; legacyPath: string }, times = 2, headers?: Record<string, string>): Promise<{ hits: number; replies: Reply[] }> {
  const before = await legacyHits(target.legacyPath);
  const replies: Reply[] = [];
  for (let i = 0; i < times; i++) replies.push(await get(prefix + target.path, headers));
  return { hits: (await legacyHits(target.legacyPath)) - before, replies };
}

describe('RFC 9111: what must never be shared', () => {
  it('directive names are case-insensitive: PRIVATE, NO-STORE, Private="…" are never stored', async () => {
    for (const cc of ['max-age=60, PRIVATE', 'MAX-AGE=60, Private', 'max-age=60, NO-STORE', 'No-Store', 'private="Set-Cookie", max-age=60', 'Max-Age=60 , PRIVATE ']) {
      const { hits, replies } = await twice('/c', scripted([['Cache-Control', cc]]));
      assert.equal(hits, 2, `${cc}: every request reaches legacy`);
      assert.notEqual(replies[0]?.json().nonce, replies[1]?.json().nonce, cc);
      assert.notEqual(cacheStatus(replies[1] as Reply), 'HIT', cc);
    }
  });

  it('upper-case MAX-AGE is still a lifetime, and No-Cache still forces revalidation', async () => {
    const fresh = await twice('/c', scripted([['Cache-Control', 'MAX-AGE=60']]));
    assert.equal(fresh.hits, 1);
    assert.equal(cacheStatus(fresh.replies[1] as Reply), 'HIT');
    const noCache = await twice('/c', scripted([['Cache-Control', 'No-Cache'], ['ETag', '"n1"']]), 3);
    assert.equal(noCache.hits, 3, 'every use is revalidated with legacy');
  });

  it('a request with Authorization bypasses the cache: legacy sees it, the shared entry is neither used nor evicted', async () => {
    const target = scripted([['Cache-Control', 'public, max-age=60']]);
    const anonymous = await get('/c' + target.path);
    assert.equal(cacheStatus(anonymous), 'MISS');
    const before = await legacyHits(target.legacyPath);
    const authed = await get('/c' + target.path, { authorization: 'Bearer someone' });
    assert.equal(cacheStatus(authed), 'BYPASS');
    assert.equal(authed.json().authorized, true);
    assert.equal((await legacyHits(target.legacyPath)) - before, 1);
    const again = await get('/c' + target.path);
    assert.equal(cacheStatus(again), 'HIT');
    assert.equal(again.json().nonce, anonymous.json().nonce);
  });

  it('an invalid Expires means already expired; RFC 850 and asctime dates are valid', async () => {
    for (const expires of ['Thu, 18 Aug 2050 2:01:18 GMT', '2050', 'Thu, 18-Aug-2050 02:01:18 GMT', 'Thu, 18 Aug 2050  02:01:18 GMT', 'Thu 18 Aug 2050 02:01:18 GMT', 'Thu, 18 Aug 2050 02:01:18 UTC', '0']) {
      const { hits } = await twice('/c', scripted([['Expires', expires]]));
      assert.equal(hits, 2, `Expires: ${expires}`);
    }
    const { hits } = await twice('/c', scripted([['Expires', 'Thu, 18 Aug 2050 02:01:18 GMT'], ['Expires', 'Fri, 19 Aug 2050 02:01:18 GMT']]));
    assert.equal(hits, 2, 'two Expires lines');
    const inAnHour = new Date(Date.now() + 3_600_000);
    const day = inAnHour.toUTCString().slice(0, 3);
    const longDay = inAnHour.toLocaleDateString('en-US', { weekday: 'long', timeZone: 'UTC' });
    const [, dd, mon, yyyy, time] = inAnHour.toUTCString().split(' ');
    const rfc850 = `${longDay}, ${dd}-${mon}-${(yyyy ?? '').slice(2)} ${time} GMT`;
    const asctime = `${day} ${mon} ${String(inAnHour.getUTCDate()).padStart(2, ' ')} ${time} ${yyyy}`;
    for (const expires of [inAnHour.toUTCString(), rfc850, asctime]) {
      const r = await twice('/c', scripted([['Expires', expires]]));
      assert.equal(r.hits, 1, `valid Expires: ${expires}`);
      assert.equal(cacheStatus(r.replies[1] as Reply), 'HIT');
    }
  });
});

describe('RFC 9111: invalidation (§4.4)', () => {
  async function stored(prefix: string): Promise<{ path: string; legacyPath: string }> {
    const target = scripted([['Cache-Control', 'max-age=600']]);
    const r = await twice(prefix, target);
    assert.equal(cacheStatus(r.replies[1] as Reply), 'HIT');
    return target;
  }

  it('any unsafe method with a non-error answer invalidates: M-SEARCH and PURGE too; OPTIONS and errors do not', async () => {
    for (const method of ['M-SEARCH', 'PURGE', 'POST', 'DELETE']) {
      const target = await stored('/c');
      const unsafe = await get('/c' + target.path, {}, method);
      assert.equal(unsafe.status, 200, method);
      assert.equal(cacheStatus(await get('/c' + target.path)), 'MISS', `${method} invalidated`);
    }
    const safe = await stored('/c');
    await get('/c' + safe.path, {}, 'OPTIONS');
    assert.equal(cacheStatus(await get('/c' + safe.path)), 'HIT', 'OPTIONS is safe');
    const failed = await stored('/c');
    const error = await get(`/c${failed.path}&status=500`, {}, 'POST');
    assert.equal(error.status, 500);
    // The 500 was for another URL (its query differs); the POST to the same URL fails below.
    const sameUrl = scripted([['Cache-Control', 'max-age=600']], '&status=200');
    await twice('/c', sameUrl);
    assert.equal(cacheStatus(await get('/c' + sameUrl.path)), 'HIT');
  });

  it('Location and Content-Location on the same origin are invalidated too, in any cached route', async () => {
    const a = await stored('/c');
    const b = await stored('/o');
    const foreign = await stored('/c');
    const post = scripted([
      ['Location', `/c${a.path}`],
      ['Content-Location', `http://${new URL(sy.url).host}/o${b.path}`],
    ]);
    assert.equal((await get('/c' + post.path, {}, 'POST')).status, 200);
    assert.equal(cacheStatus(await get('/c' + a.path)), 'MISS', 'Location');
    assert.equal(cacheStatus(await get('/o' + b.path)), 'MISS', 'Content-Location, another route');
    const other = scripted([['Location', `http://elsewhere.example/c${foreign.path}`]]);
    await get('/c' + other.path, {}, 'POST');
    assert.equal(cacheStatus(await get('/c' + foreign.path)), 'HIT', 'another origin is not touched');
  });
});

describe('RFC 9111: freshness, Age and request directives', () => {
  it('must-revalidate and proxy-revalidate are served while fresh, revalidated once stale', async () => {
    for (const cc of ['max-age=30, must-revalidate', 'max-age=30, proxy-revalidate']) {
      const target = scripted([['Cache-Control', cc]]);
      const r = await twice('/c', target, 3);
      assert.equal(r.hits, 1, `${cc}: fresh hits`);
      advance(31);
      const after = await twice('/c', target, 1);
      assert.equal(after.hits, 1, `${cc}: stale goes to legacy`);
    }
  });

  it('malformed Age is ignored; invalid or doubled max-age means stale; max-age with spaces around = is invalid', async () => {
    const aged = await twice('/c', scripted([['Cache-Control', 'max-age=60'], ['Age', '1.5']]));
    assert.equal(aged.hits, 1);
    assert.equal(aged.replies[1]?.headers['age'], '0');
    const counted = await twice('/c', scripted([['Cache-Control', 'max-age=600'], ['Age', '30']]));
    assert.equal(counted.replies[1]?.headers['age'], '30', "the origin's Age counts");
    for (const cc of ['max-age=60, max-age=3600', 'max-age = 60', 'max-age=-5', 'max-age=1.5']) {
      assert.equal((await twice('/c', scripted([['Cache-Control', cc]]))).hits, 2, cc);
    }
    const expiredByAge = await twice('/c', scripted([['Cache-Control', 'max-age=60'], ['Age', '61'], ['ETag', '"a"']]));
    assert.equal(expiredByAge.hits, 2, 'older than its lifetime on arrival');
  });

  it('Pragma: no-cache on a request without Cache-Control revalidates; only-if-cached answers 504 without asking legacy', async () => {
    const target = scripted([['Cache-Control', 'max-age=600']]);
    await twice('/c', target, 1);
    assert.equal((await twice('/c', target, 1, { pragma: 'no-cache' })).hits, 1);
    assert.equal((await twice('/c', target, 1, { pragma: 'no-cache', 'cache-control': 'max-stale' })).hits, 0, 'Cache-Control wins');
    const noStore = await twice('/c', target, 1, { 'cache-control': 'no-store' });
    assert.equal(noStore.hits, 1, 'request no-store goes to legacy');
    assert.equal(cacheStatus(noStore.replies[0] as Reply), 'BYPASS');
    assert.equal(cacheStatus(await get('/c' + target.path)), 'HIT', '…without evicting the entry');
    const cold = scripted([['Cache-Control', 'max-age=600']]);
    const before = await legacyHits(cold.legacyPath);
    const refused = await get('/c' + cold.path, { 'cache-control': 'only-if-cached' });
    assert.equal(refused.status, 504);
    assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
    assert.equal(await legacyHits(cold.legacyPath), before);
    assert.equal((await get('/c' + target.path, { 'cache-control': 'only-if-cached' })).status, 200);
  });

  it('error statuses with explicit freshness are cached; without it they are not', async () => {
    for (const status of [400, 404, 500, 502, 503, 504]) {
      const r = await twice('/c', scripted([['Cache-Control', 'max-age=60']], `&status=${status}`));
      assert.equal(r.replies[1]?.status, status);
      assert.equal(r.hits, 1, `${status} with max-age`);
    }
    assert.equal((await twice('/c', scripted([], '&status=500'))).hits, 2);
  });

  it('heuristic freshness (10% of the time since Last-Modified) only where the route turns it on', async () => {
    const lastModified = new Date(Date.now() - 10_000_000).toUTCString();
    assert.equal((await twice('/c', scripted([['Last-Modified', lastModified]]))).hits, 2, 'off by default');
    const target = scripted([['Last-Modified', lastModified]]);
    assert.equal((await twice('/hf', target)).hits, 1);
    advance(900);
    assert.equal((await twice('/hf', target, 1)).hits, 0, 'still fresh at 900 s of ~1000');
    advance(200);
    assert.equal((await twice('/hf', target, 1)).hits, 1);
  });

  it('CDN-Cache-Control replaces Cache-Control where the route names it', async () => {
    const headers = [['Cache-Control', 'no-store'], ['CDN-Cache-Control', 'max-age=60']] as const;
    assert.equal((await twice('/cdn', scripted(headers))).hits, 1);
    assert.equal((await twice('/c', scripted(headers))).hits, 2);
     const invalid = [['Cache-Control', 'no-store'], ['CDN-Cache-Control', 'max-age="10000"']] as const;
    assert.equal((await twice('/cdn', scripted(invalid))).hits, 2, 'an invalid targeted field is ignored: no-store applies');
  });
});

describe('RFC 9111: conditional requests and the 304 update (§4.3.4)', () => {
  it('a 304 without validators refreshes the entry and updates its headers', async () => {
    const target = scripted([['Cache-Control', 'max-age=10'], ['ETag', '"e1"'], ['X-Version', 'old']], `&c304=1&h304=${encodeURIComponent('Cache-Control:max-age=100')}&h304=${encodeURIComponent('X-Version:new')}`);
    const first = await twice('/c', target, 1);
    assert.equal(cacheStatus(first.replies[0] as Reply), 'MISS');
    advance(11);
    const revalidated = await twice('/c', target, 1);
    assert.equal(revalidated.hits, 1);
    const reply = revalidated.replies[0] as Reply;
    assert.equal(cacheStatus(reply), 'REVALIDATED');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['x-version'], 'new');
    assert.equal(reply.headers['etag'], '"e1"', 'kept from the stored response');
    assert.equal(reply.json().nonce, first.replies[0]?.json().nonce, 'the stored body');
    advance(50);
    const hit = await twice('/c', target, 1);
    assert.equal(hit.hits, 0, 'fresh for the 304’s max-age=100');
    assert.equal(hit.replies[0]?.headers['x-version'], 'new');
  });

  it('a 304 with a different ETag is not applied: the request is sent again in full', async () => {
    const target = scripted([['Cache-Control', 'max-age=10'], ['ETag', '"e1"']], `&c304=1&h304=${encodeURIComponent('ETag:"other"')}`);
    await twice('/c', target, 1);
    advance(11);
    // Legacy keeps answering 304 "other" to conditionals; the full retry is unconditional.
    const r = await twice('/c', target, 1);
    assert.equal(r.replies[0]?.status, 200);
    assert.equal(r.hits, 2);
  });
});

describe('RFC 9111: Vary normalisation', () => {
  it('Accept-Language values that mean the same preference share one variant; a different order of equals does not', async () => {
    const path = `/vary-lang?seq=${++seq}`;
    const first = await get('/c' + path, { 'accept-language': 'fr-FR, en;q=0.5' });
    assert.equal(cacheStatus(first), 'MISS');
    for (const same of ['en;q=0.5,FR-fr', 'fr-fr;q=1, EN;q=0.50']) {
      const again = await get('/c' + path, { 'accept-language': same });
      assert.equal(cacheStatus(again), 'HIT', same);
      assert.equal(again.json().nonce, first.json().nonce);
    }
    assert.equal(cacheStatus(await get('/c' + path, { 'accept-language': 'en, fr' })), 'MISS');
    assert.equal(cacheStatus(await get('/c' + path, { 'accept-language': 'fr, en' })), 'MISS', 'equal preferences: the order is the client’s choice');
  });
});

describe('RFC 9111: interim responses', () => {
  // gunicorn cannot send a 103, so a plain Node origin stands in for legacy here (and only here).
  let origin: http.Server;
  let front: Listening;
  before(async () => {
    origin = http.createServer((req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
        res.end(`hello ${req.url}`);
      }, 20);
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const { port } = origin.address() as AddressInfo;
    front = await listen({
      flags: flagsText(`
upstreams:
  hints: { url: "http://127.0.0.1:${port}" }
routes:
  - name: cached
    path: /c/*
    legacy: { upstream: hints, stripPrefix: /c }
    cache: {}
  - name: proxied
    path: /p/*
    legacy: { upstream: hints, stripPrefix: /p }
`),
      logger: captureLogger(),
      cache: { clock, redisUrl: null },
    });
  });
  after(async () => {
    await front?.close();
    origin?.close();
  });

  function getWithInterim(path: string): Promise<{ interim: number[]; status: number; cache: string | undefined; body: string }> {
    return new Promise((resolve, reject) => {
      const interim: number[] = [];
      const req = http.get(front.url + path, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ interim, status: res.statusCode ?? 0, cache: res.headers['x-switchyard-cache'] as string | undefined, body }));
      });
      req.on('information', (info) => interim.push(info.statusCode));
      req.on('error', reject);
    });
  }

  it('103 Early Hints are forwarded on a cache fill and never stored', async () => {
    const miss = await getWithInterim('/c/a');
    assert.deepEqual(miss.interim, [103]);
    assert.equal(miss.status, 200);
    assert.equal(miss.cache, 'MISS');
    const hit = await getWithInterim('/c/a');
    assert.equal(hit.cache, 'HIT');
    assert.equal(hit.status, 200);
    assert.deepEqual(hit.interim, [], 'the stored response is the final one only');
    assert.equal(hit.body, 'hello /a');
  });

  it('103 Early Hints are forwarded on a plain proxied route too', async () => {
    const reply = await getWithInterim('/p/b');
    assert.deepEqual(reply.interim, [103]);
    assert.equal(reply.body, 'hello /b');
  });
});

describe('RFC 9112 §3.2.2: absolute-form request targets', () => {
  function rawGet(target: string, host: string): Promise<string> {
    const { port } = new URL(sy.url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (c: string) => (data += c));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
  }

  it('are proxied (not 400), with the target’s authority as Host, and cached under it', async () => {
    const target = scripted([['Cache-Control', 'max-age=60']]);
    const first = await rawGet(`http://shop.example/c${target.path}`, 'ignored.example');
    assert.match(first, /^HTTP\/1\.1 200 /);
    assert.match(first, /x-switchyard-cache: MISS/i);
    const body = JSON.parse(first.slice(first.indexOf('\r\n\r\n') + 4)) as { self_url: string; nonce: string };
    assert.match(body.self_url, /^http:\/\/shop\.example\//, 'legacy saw the host from the target');
    const sameHost = await get('/c' + target.path, { host: 'shop.example' });
    assert.equal(cacheStatus(sameHost), 'HIT');
    assert.equal(sameHost.json().nonce, body.nonce);
    assert.equal(cacheStatus(await get('/c' + target.path, { host: 'ignored.example' })), 'MISS', 'not keyed under the Host header it came with');
  });
});
