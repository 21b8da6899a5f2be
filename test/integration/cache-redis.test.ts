import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { request as rawRequest, sha256, type Reply, type RequestOptions } from '../support/http-client.js';
import { fetchJson, startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { startRedis, type RedisServer } from '../support/redis-server.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';
import type { CacheStore } from '../../src/cache/cache-store.js';
import { RedisStore } from '../../src/cache/redis-store.js';

/**
 * The cache with Redis (a private redis-server per file) in front of the real gunicorn Flask:
 * instances sharing entries and fill locks, and Redis failing under it — killed and restarted,
 * or stopped (SIGSTOP: connected but silent) — without a client ever seeing an error.
 */
/** Every instance is asked for the same public host, as behind one load balancer. */
const request = (base: string, path: string, options: RequestOptions = {}): Promise<Reply> => rawRequest(base, path, { ...options, headers: { host: 'shop.example', ...options.headers } });

const sha = sha256;

let flask: LegacyServer;
let redis: RedisServer;

async function hits(path: string): Promise<number> {
  return (await fetchJson<Record<string, number>>(`${flask.url}/__hits`))[path] ?? 0;
}

async function countHits(path: string, work: () => Promise<void>): Promise<number> {
  const before = await hits(path);
  await work();
  return (await hits(path)) - before;
}

/** GETs Redis has answered so far (a hit from an in-process copy sends none). */
async function getsProcessed(): Promise<number> {
  const info = await redis.command('INFO', 'commandstats');
  return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
}

async function commandsProcessed(): Promise<number> {
  const info = await redis.command('INFO', 'stats');
  const match = /total_commands_processed:(\d+)/.exec(info);
  assert.ok(match?.[1] !== undefined, info);
  return Number(match[1]);
}

/** A short operation timeout (outage tests prove BYPASS within it); sharing tests pass a roomier one so a busy CI machine cannot turn a slow write into a skipped one. */
function flags(operationTimeoutMs = 100, legacyUrl = flask.url, nearMaxBytes = 1024 * 1024): string {
  return `
upstreams:
  flask: { url: "${legacyUrl}", maxInFlight: 8 }
routes:
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
settings:
  cache: { namespace: redis-test, operationTimeoutMs: ${operationTimeoutMs}, lockTtlMs: 5000, nearMaxBytes: ${nearMaxBytes} }
`;
}

async function instance(operationTimeoutMs = 100, legacyUrl = flask.url, nearMaxBytes?: number): Promise<Listening> {
  const l = await listen({ flags: flagsText(flags(operationTimeoutMs, legacyUrl, nearMaxBytes)), logger: captureLogger(), cache: { redisUrl: redis.url } });
  await waitUntil(() => l.switchyard.cacheStats().store.available, 'redis connected');
  return l;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

/**
 * The other instance's next answers after a purge, a DEL or a FLUSHDB, until its first MISS (within
 * 2 s). Redis sends the invalidation to that instance's tracking connection while it runs the
 * command; the caller's reply and that message travel on different connections, so a request sent
 * the instant the command returns can still be answered from the copy, for as long as the message
 * takes to be read (seen once in four full-suite runs for a purge, and once for a FLUSHDB, both
 * instances in this one process).
 */
async function firstMissAfterInvalidation(url: string, path: string): Promise<Reply> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const r = await request(url, path);
    if (r.headers['x-switchyard-cache'] !== 'HIT' || Date.now() > deadline) return r;
    await delay(5);
  }
}

before(async () => {
  [flask, redis] = await Promise.all([startFlask({ workers: 2 }), startRedis()]);
});
after(async () => {
  await Promise.all([flask?.stop(), redis?.stop()]);
});

describe('response cache on Redis: instances share it', () => {
  let a: Listening;
  let b: Listening;
  before(async () => {
    [a, b] = await Promise.all([instance(2000), instance(2000)]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('an entry stored by one instance is a HIT on the other', async () => {
    const n = await countHits('/cacheable', async () => {
      const miss = await request(a.url, '/c/cacheable?t=shared');
      assert.equal(miss.headers['x-switchyard-cache'], 'MISS');
      const hit = await request(b.url, '/c/cacheable?t=shared');
      assert.equal(hit.headers['x-switchyard-cache'], 'HIT');
      assert.equal(hit.json().nonce, miss.json().nonce);
      assert.equal(b.switchyard.cacheStats().store.kind, 'redis');
    });
    assert.equal(n, 1);
  });

  it('gzip and binary bodies come back byte for byte from Redis', async () => {
    for (const path of ['/gzip', '/binary?kb=300']) {
      const direct = await request(flask.url, path, { headers: { 'accept-encoding': 'gzip' } });
      const miss = await request(a.url, `/c${path}`, { headers: { 'accept-encoding': 'gzip' } });
      const hit = await request(b.url, `/c${path}`, { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(hit.headers['x-switchyard-cache'], 'HIT', path);
      assert.equal(sha(miss.body), sha(direct.body));
      assert.equal(sha(hit.body), sha(direct.body));
    }
  });

  it('no client — leader or follower of the fill — holds a complete response before the entry is in Redis (writes held back by CLIENT PAUSE)', async () => {
    // With Content-Length framing the client has the whole body once its last byte arrives, so the
    // store write must finish before that byte is sent — to the request that filled the entry and
    // to the one that waited for it alike. Redis is told to hold writes (reads go on) after the
    // fill lock is taken and before legacy (sleep_ms=300) answers; the key is read the moment each
    // client has its response.
    const url = '/c/cacheable?sleep_ms=300&t=write-before-last-byte';
    const storedWhenAnswered = async (pending: Promise<Reply>): Promise<{ reply: Reply; keys: string }> => {
      const reply = await pending;
      return { reply, keys: await redis.command('KEYS', '*t=write-before-last-byte*') };
    };
    const leader = storedWhenAnswered(request(a.url, url));
    await delay(40);
    const follower = storedWhenAnswered(request(a.url, url));
    await delay(80);
    assert.match(await redis.command('CLIENT', 'PAUSE', '700', 'WRITE'), /OK/);
    const [l, f] = await Promise.all([leader, follower]);
    assert.equal(l.reply.headers['x-switchyard-cache'], 'MISS');
    assert.equal(f.reply.headers['x-switchyard-cache'], 'HIT');
    assert.match(l.keys, /^\*1\r\n/, 'stored before the leader had its response');
    assert.match(f.keys, /^\*1\r\n/, 'stored before the follower had its response');
    const other = await request(b.url, url);
    assert.equal(other.headers['x-switchyard-cache'], 'HIT');
    assert.equal(other.json().nonce, l.reply.json().nonce);
  });

  it('Vary variants are shared too', async () => {
    await request(a.url, '/c/vary-lang?t=shared', { headers: { 'accept-language': 'fr' } });
    const fr = await request(b.url, '/c/vary-lang?t=shared', { headers: { 'accept-language': 'fr' } });
    const de = await request(b.url, '/c/vary-lang?t=shared', { headers: { 'accept-language': 'de' } });
    assert.equal(fr.headers['x-switchyard-cache'], 'HIT');
    assert.equal(fr.json().greeting, 'bonjour');
    assert.equal(de.headers['x-switchyard-cache'], 'MISS');
  });

  it('50 concurrent requests for a cold key over two instances: exactly 1 legacy hit (per-instance single-flight + Redis lock)', async () => {
    const n = await countHits('/cacheable', async () => {
      const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => request(i % 2 === 0 ? a.url : b.url, '/c/cacheable?sleep_ms=400&t=stampede-2')));
      assert.ok(replies.every((r) => r.status === 200));
      assert.equal(new Set(replies.map((r) => String(r.json().nonce))).size, 1);
      assert.equal(replies.filter((r) => r.headers['x-switchyard-cache'] === 'MISS').length, 1);
    });
    assert.equal(n, 1);
  });

  it('1 request on one instance and 49 on the other for a cold key, 40 rounds: one fill per round (the lock holder reads again)', async () => {
    // The race this guards: B's read misses, A stores the entry and unlocks, then B's SET NX
    // succeeds — without a second read under the lock, B fetched the same key again.
    const rounds = 40;
    const n = await countHits('/cacheable', async () => {
      for (let round = 0; round < rounds; round++) {
        const path = `/c/cacheable?t=race-${round}-${Date.now()}`;
        const replies = await Promise.all([request(a.url, path), ...Array.from({ length: 49 }, () => request(b.url, path))]);
        assert.ok(replies.every((r) => r.status === 200));
        assert.equal(new Set(replies.map((r) => String(r.json().nonce))).size, 1, `round ${round}: one response for everyone`);
      }
    });
    assert.equal(n, rounds);
  });

  it('the fill lock holder reads the entry again: B misses, A fills and unlocks, B takes the lock — B must not ask legacy again', async () => {
    // The real Redis store, with one pause: right after B's first read of the entry misses, A
    // serves the same cold key completely (stores it, unlocks) before B goes on to take the lock.
    let onMiss: (() => Promise<void>) | null = null;
    const real = new RedisStore({ url: redis.url, commandTimeoutMs: 2000, logger: captureLogger() });
    const paused: CacheStore = {
      kind: real.kind,
      shared: real.shared,
      get: async (key) => {
        const value = await real.get(key);
        const hook = onMiss;
        if (value === null && hook !== null && key.includes(':e:')) {
          onMiss = null;
          await hook();
        }
        return value;
      },
      set: (key, value, ttlMs) => real.set(key, value, ttlMs),
      delete: (key) => real.delete(key),
      deleteMatching: (prefix, filter) => real.deleteMatching(prefix, filter),
      tryLock: (key, ttlMs) => real.tryLock(key, ttlMs),
      unlock: (key, token) => real.unlock(key, token),
      isAvailable: () => real.isAvailable(),
      close: () => real.close(),
    };
    const slowB = await listen({ flags: flagsText(flags(2000)), logger: captureLogger(), cache: { store: paused } });
    try {
      await waitUntil(() => slowB.switchyard.cacheStats().store.available, 'redis connected');
      const path = `/c/cacheable?t=lock-reread-${Date.now()}`;
      let fromA: Reply | undefined;
      onMiss = async () => {
        fromA = await request(a.url, path);
      };
      const n = await countHits('/cacheable', async () => {
        const fromB = await request(slowB.url, path);
        assert.equal(fromA?.headers['x-switchyard-cache'], 'MISS', 'A filled it while B was between its read and its lock');
        assert.equal(fromB.json().nonce, fromA?.json().nonce, "B answers with A's entry");
        assert.equal(fromB.headers['x-switchyard-cache'], 'HIT');
      });
      assert.equal(n, 1);
    } finally {
      await slowB.close();
    }
  });

  it('a purge on one instance is seen by the other', async () => {
    await request(a.url, '/c/cacheable?t=purge-shared');
    assert.equal((await request(b.url, '/c/cacheable?t=purge-shared')).headers['x-switchyard-cache'], 'HIT');
    assert.equal(await a.switchyard.purgeCache({ prefix: '/c/cacheable' }) >= 1, true);
    assert.equal((await firstMissAfterInvalidation(b.url, '/c/cacheable?t=purge-shared')).headers['x-switchyard-cache'], 'MISS');
    assert.ok((await b.switchyard.purgeCache({ all: true })) >= 1);
    assert.equal((await redis.command('DBSIZE')).trim(), ':0');
  });
});

describe('response cache on Redis: coherent in-process copies (client tracking)', () => {
  let a: Listening;
  let b: Listening;
  before(async () => {
    [a, b] = await Promise.all([instance(2000), instance(2000)]);
    await waitUntil(() => a.switchyard.cacheStats().store.nearCopies && b.switchyard.cacheStats().store.nearCopies, 'tracking set up on both instances');
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  /** Filled by A, then read once by B (the read B keeps a tracked copy of); B's answer. */
  async function heldByB(path: string): Promise<Reply> {
    assert.equal((await request(a.url, path)).headers['x-switchyard-cache'], 'MISS');
    const first = await request(b.url, path);
    assert.equal(first.headers['x-switchyard-cache'], 'HIT');
    return first;
  }

  it("B's repeated HITs send no GET to Redis; a purge on A is seen by B as soon as Redis's message is read", async () => {
    const path = '/c/cacheable?t=near-purge';
    const first = await heldByB(path);
    const gets = await getsProcessed();
    for (let i = 0; i < 10; i++) {
      const r = await request(b.url, path);
      assert.equal(r.headers['x-switchyard-cache'], 'HIT');
      assert.equal(r.json().nonce, first.json().nonce);
    }
    assert.equal((await getsProcessed()) - gets, 0, 'the HITs came from the in-process copy');

    assert.ok((await a.switchyard.purgeCache({ url: path })) >= 1);
    const after = await firstMissAfterInvalidation(b.url, path);
    assert.equal(after.headers['x-switchyard-cache'], 'MISS', 'B dropped its copy when Redis told it about the purge');
    assert.notEqual(after.json().nonce, first.json().nonce);
    assert.equal((await request(a.url, path)).json().nonce, after.json().nonce, "A answers with B's new entry");
  });

  it('any client deleting the key (here redis-cli, not Switchyard) drops the copy', async () => {
    const path = '/c/cacheable?t=near-del';
    const first = await heldByB(path);
    const keys = (await redis.command('KEYS', '*near-del*')).split('\r\n').filter((line) => line.includes('near-del'));
    assert.ok(keys.length >= 1, 'the entry is in Redis');
    for (const key of keys) await redis.command('DEL', key);
    const after = await firstMissAfterInvalidation(b.url, path);
    assert.equal(after.headers['x-switchyard-cache'], 'MISS');
    assert.notEqual(after.json().nonce, first.json().nonce);
  });

  it("FLUSHDB drops every copy; the subscriber connection killed: no copy is served until tracking is set up again", async () => {
    const flushed = '/c/cacheable?t=near-flush';
    await heldByB(flushed);
    await redis.command('FLUSHDB');
    assert.equal((await firstMissAfterInvalidation(b.url, flushed)).headers['x-switchyard-cache'], 'MISS');

    await waitUntil(() => b.switchyard.cacheStats().store.nearCopies, 'tracking set up again after the flush');
    const path = '/c/cacheable?t=near-kill';
    const first = await heldByB(path);
    const held = await getsProcessed();
    assert.equal((await request(b.url, path)).json().nonce, first.json().nonce);
    assert.equal((await getsProcessed()) - held, 0, 'B holds a copy');
    // Invalidations for B's keys now go nowhere (RESP2 redirect to a client that is gone).
    await redis.command('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const keys = (await redis.command('KEYS', '*near-kill*')).split('\r\n').filter((line) => line.includes('near-kill'));
    for (const key of keys) await redis.command('DEL', key);
    const after = await request(b.url, path);
    assert.equal(after.headers['x-switchyard-cache'], 'MISS', 'B did not serve the copy Redis could no longer invalidate');
    assert.notEqual(after.json().nonce, first.json().nonce);
    await waitUntil(() => b.switchyard.cacheStats().store.nearCopies, 'tracking set up again');
    const gets = await getsProcessed();
    assert.equal((await request(b.url, path)).headers['x-switchyard-cache'], 'HIT');
    assert.equal((await request(b.url, path)).headers['x-switchyard-cache'], 'HIT');
    assert.equal((await getsProcessed()) - gets, 1, 'one read, then the new copy');
  });

  it('Redis stopped (connected but silent): the copy stops being served within moments, then BYPASS', async () => {
    const path = '/c/cacheable?t=near-paused';
    await heldByB(path);
    redis.pause();
    try {
      await waitUntil(async () => (await request(b.url, path)).headers['x-switchyard-cache'] === 'BYPASS', 'B to stop trusting its copy', 5_000);
      for (let i = 0; i < 5; i++) assert.equal((await request(b.url, path)).headers['x-switchyard-cache'], 'BYPASS');
    } finally {
      redis.resume();
    }
    await waitUntil(async () => (await request(b.url, path)).headers['x-switchyard-cache'] === 'HIT', 'the cache to answer again');
  });
});

describe('response cache on Redis: outages never reach the client', () => {
  it('Redis killed mid-test: BYPASS at once, no error, no queue; the cache comes back by itself', async () => {
    const sy = await instance();
    try {
      await request(sy.url, '/c/cacheable?t=outage');
      assert.equal((await request(sy.url, '/c/cacheable?t=outage')).headers['x-switchyard-cache'], 'HIT');

      await redis.kill();
      const started = Date.now();
      const n = await countHits('/cacheable', async () => {
        for (let i = 0; i < 40; i++) {
          const r = await request(sy.url, '/c/cacheable?t=outage');
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-switchyard-cache'], 'BYPASS');
          assert.ok(r.json().nonce);
        }
      });
      assert.equal(n, 40, 'every request went to legacy');
      assert.ok(Date.now() - started < 10_000, `40 requests took ${Date.now() - started} ms: none waited for Redis`);
      assert.equal(sy.switchyard.cacheStats().store.available, false);

      await redis.restart();
      await waitUntil(async () => (await request(sy.url, '/c/cacheable?t=outage')).headers['x-switchyard-cache'] !== 'BYPASS', 'the cache to come back');
      assert.ok((await commandsProcessed()) < 30, 'nothing queued during the outage was replayed');
      assert.equal((await request(sy.url, '/c/cacheable?t=outage')).headers['x-switchyard-cache'], 'HIT');
    } finally {
      await sy.close();
    }
  });

  it('Redis stopped (connected but silent): BYPASS after the operation timeout, the breaker stops sending', async () => {
    // Without in-process copies: every request reads Redis (the copies' own pause test is below).
    const sy = await instance(100, flask.url, 0);
    try {
      await request(sy.url, '/c/cacheable?t=paused');
      assert.equal((await request(sy.url, '/c/cacheable?t=paused')).headers['x-switchyard-cache'], 'HIT');
      const before = await commandsProcessed();

      redis.pause();
      let slowest = 0;
      try {
        for (let i = 0; i < 60; i++) {
          const started = Date.now();
          const r = await request(sy.url, '/c/cacheable?t=paused');
          slowest = Math.max(slowest, Date.now() - started);
          assert.equal(r.status, 200);
          assert.equal(r.headers['x-switchyard-cache'], 'BYPASS');
        }
      } finally {
        redis.resume();
      }
      assert.ok(slowest < 1_000, `slowest request ${slowest} ms`);
      const stats = sy.switchyard.cacheStats().store;
      assert.ok(stats.timeouts >= 1, JSON.stringify(stats));
      await waitUntil(async () => (await request(sy.url, '/c/cacheable?t=paused')).headers['x-switchyard-cache'] === 'HIT', 'the cache to answer again');
      const sent = (await commandsProcessed()) - before;
      assert.ok(sent < 40, `${sent} commands reached Redis for 60+ requests: the breaker held them back`);
    } finally {
      await sy.close();
    }
  });
});

describe('response cache on Redis: Redis and legacy down together — the reserve copy', () => {
  const setFlaky = async (legacy: LegacyServer, fail: boolean): Promise<void> => {
    await fetchJson(`${legacy.url}/flaky/mode?fail=${fail ? 1 : 0}`, { method: 'POST' });
  };
  /** Stored, then read back once (a read is what keeps the process's copy). */
  const prime = async (sy: Listening, path: string): Promise<Reply> => {
    assert.equal((await request(sy.url, path)).headers['x-switchyard-cache'], 'MISS', path);
    const hit = await request(sy.url, path);
    assert.equal(hit.headers['x-switchyard-cache'], 'HIT', path);
    return hit;
  };

  it('legacy answering 503 with Redis killed: the kept copy as STALE within stale-if-error; never a purged copy, never one outside its window, never while legacy answers', async () => {
    const sy = await instance();
    try {
      const kept = await prime(sy, '/c/flaky?max_age=2&t=kept');
      await prime(sy, '/c/flaky?max_age=2&t=purged');
      await prime(sy, '/c/flaky?max_age=2&t=nowindow&sie=0');
      assert.equal(await sy.switchyard.purgeCache({ url: '/c/flaky?max_age=2&t=purged' }), 1);

      await redis.kill();
      await waitUntil(() => !sy.switchyard.cacheStats().store.available, 'the store to be out of reach');
      // Legacy healthy: its answer, not the copy (another instance may have purged or replaced it).
      const live = await request(sy.url, '/c/flaky?max_age=2&t=kept');
      assert.equal(live.status, 200);
      assert.equal(live.headers['x-switchyard-cache'], 'BYPASS');
      assert.notEqual(live.json().nonce, kept.json().nonce);

      // Past max-age=2: a copy still fresh would rightly be served on an error even without stale-if-error.
      // (2 s, not 1: a fill that straddles a second boundary is stored 1 s old by Date's resolution,
      // and with max-age=1 the read right after it found it stale — a MISS where prime expects a HIT.)
      await delay(2_100);
      await setFlaky(flask, true);
      try {
        const stale = await request(sy.url, '/c/flaky?max_age=2&t=kept');
        assert.equal(stale.status, 200);
        assert.equal(stale.headers['x-switchyard-cache'], 'STALE');
        assert.equal(stale.json().nonce, kept.json().nonce, 'the copy read before the outage');
        assert.equal(stale.headers['content-type'], kept.headers['content-type']);
        const head = await request(sy.url, '/c/flaky?max_age=2&t=kept', { method: 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.headers['x-switchyard-cache'], 'STALE');

        for (const path of ['/c/flaky?max_age=2&t=purged', '/c/flaky?max_age=2&t=nowindow&sie=0', '/c/flaky?max_age=2&t=never']) {
          const r = await request(sy.url, path);
          assert.equal(r.status, 503, path);
          assert.equal(r.headers['x-switchyard-cache'], 'BYPASS', path);
        }
        const counts = sy.switchyard.cacheStats().routes['cached'];
        assert.ok(counts !== undefined && counts.stale >= 2, JSON.stringify(counts));
      } finally {
        await setFlaky(flask, false);
      }
    } finally {
      await sy.close();
      await redis.restart();
    }
  });

  it('legacy killed (connection refused) with Redis killed: STALE instead of 502; a URL without a copy gets the 502 problem+json', async () => {
    const own = await startFlask({ workers: 1 });
    let stopped = false;
    const sy = await instance(100, own.url);
    const invalidated = `/c/respond/inv?h=${encodeURIComponent('Cache-Control: public, max-age=1, stale-if-error=60')}`;
    try {
      const kept = await prime(sy, '/c/flaky?t=down');
      await prime(sy, invalidated);
      await redis.kill();
      await waitUntil(() => !sy.switchyard.cacheStats().store.available, 'the store to be out of reach');
      // An unsafe request's 2xx invalidates the URL even now: this process forgets its copy.
      assert.equal((await request(sy.url, invalidated, { method: 'POST' })).status, 200);
      await own.stop();
      stopped = true;

      const stale = await request(sy.url, '/c/flaky?t=down');
      assert.equal(stale.status, 200);
      assert.equal(stale.headers['x-switchyard-cache'], 'STALE');
      assert.equal(stale.json().nonce, kept.json().nonce);
      for (const path of [invalidated, '/c/flaky?t=nocopy']) {
        const failed = await request(sy.url, path);
        assert.equal(failed.status, 502, path);
        assert.match(String(failed.headers['content-type']), /application\/problem\+json/, path);
        assert.equal(failed.json().code, 'SWITCHYARD_UPSTREAM_UNAVAILABLE', path);
      }
    } finally {
      await sy.close();
      if (!stopped) await own.stop();
      await redis.restart();
    }
  });
});
