import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, flagsText, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * Memory stays flat while responses too large to cache pass through: 50 × 5 MiB (half with a
 * Content-Length, half chunked so the size is only learnt while reading) through a route whose
 * entries are limited to 1 MiB. Retained memory after a full GC must not grow with the bytes
 * passed (250 MiB), and the peak while streaming must stay far below them.
 */
const MIB = 1024 * 1024;
const COUNT = 50;
const CONCURRENCY = 5;
/** Live-memory peak allowed above the baseline; measured 2026-12-03: see the test. */
const PEAK_BOUND = 20 * MIB;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function settled(): number {
  for (let i = 0; i < 3; i++) gc();
  return memory();
}

/** Streams a response, hashing it as it goes; keeps nothing. */
function download(url: string): Promise<{ status: number; cache: string | undefined; bytes: number; sha: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const hash = createHash('sha256');
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          hash.update(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, cache: res.headers['x-switchyard-cache'] as string | undefined, bytes, sha: hash.digest('hex') }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

let flask: LegacyServer;
let sy: Listening;

before(async () => {
  flask = await startFlask({ workers: 2 });
  sy = await listen({
    flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}", maxInFlight: 4 }
routes:
  - name: big
    path: /b/*
    legacy: { upstream: flask, stripPrefix: /b }
    cache: { maxEntryBytes: ${MIB} }
`),
    logger: captureLogger(),
    cache: { redisUrl: null },
  });
});
after(async () => {
  await sy?.close();
  await flask?.stop();
});

/** Times the first and the last byte of a response. */
function timed(url: string): Promise<{ first: number; total: number; bytes: number; cache: string | undefined }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let first = -1;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          if (first < 0) first = performance.now() - started;
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ first, total: performance.now() - started, bytes, cache: res.headers['x-switchyard-cache'] as string | undefined }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describe('response cache: large responses stream through', () => {
  it('the client gets the first bytes while legacy is still sending (no whole-body buffering)', async () => {
    // 2 MiB in 32 pieces, 20 ms apart: ~620 ms at legacy. A cache that buffered before sending
    // would deliver its first byte only at the end.
    for (const extra of ['', '&length=1']) {
      const r = await timed(`${sy.url}/b/big-cacheable?kb=2048&chunked=1&delay_ms=20${extra}&t=${Math.random()}`);
      assert.equal(r.bytes, 2 * MIB);
      assert.equal(r.cache, 'MISS');
      assert.ok(r.total > 500, `total ${r.total.toFixed(0)} ms`);
      assert.ok(r.first < r.total / 2, `first byte after ${r.first.toFixed(0)} ms of ${r.total.toFixed(0)} ms${extra}`);
    }
    // And while it still fits in an entry, the copy does not hold the client back either.
    const small = await timed(`${sy.url}/b/big-cacheable?kb=768&chunked=1&delay_ms=20&t=${Math.random()}`);
    assert.ok(small.first < small.total / 2, `first byte after ${small.first.toFixed(0)} ms of ${small.total.toFixed(0)} ms`);
  });

  it(`${COUNT} × 5 MiB uncached: memory does not grow with the bytes passed`, async () => {
    const expected = (await download(`${flask.url}/big-cacheable?kb=5120`)).sha;
    // Warm-up: connection pools, JIT, lazily created structures.
    await download(`${sy.url}/b/big-cacheable?kb=5120&warm=1`);
    const baseline = settled();
    // The peak is of live memory: each sample collects first, so garbage the collector has not
    // reached yet (which varies run to run) does not count; what a sample sees is what is held.
    let peak = memory();
    const sampler = setInterval(() => {
      gc();
      peak = Math.max(peak, memory());
    }, 20);
    let next = 0;
    let passed = 0;
    const worker = async (): Promise<void> => {
      while (next < COUNT) {
        const i = next++;
        const r = await download(`${sy.url}/b/big-cacheable?kb=5120&i=${i}${i % 2 === 0 ? '&chunked=1' : ''}`);
        assert.equal(r.status, 200);
        assert.equal(r.cache, 'MISS');
        assert.equal(r.bytes, 5 * MIB);
        assert.equal(r.sha, expected);
        passed += r.bytes;
      }
    };
    try {
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    } finally {
      clearInterval(sampler);
    }
    const retained = settled() - baseline;
    const peakGrowth = peak - baseline;
    assert.equal(passed, COUNT * 5 * MIB);
    assert.ok(retained < 8 * MIB, `retained ${(retained / MIB).toFixed(1)} MiB after ${passed / MIB} MiB passed`);
    // A copy of each in-flight body would hold ≥ 25 MiB live at this concurrency (5 × 5 MiB);
    // streaming holds only socket buffers and the ≤ 1 MiB entry being tried per response.
    assert.ok(peakGrowth < PEAK_BOUND, `peak grew ${(peakGrowth / MIB).toFixed(1)} MiB while ${passed / MIB} MiB passed`);
    // The reporter shows these numbers with the test.
    console.log(`memory: retained ${(retained / MIB).toFixed(1)} MiB, peak +${(peakGrowth / MIB).toFixed(1)} MiB for ${passed / MIB} MiB passed`);
    assert.equal(sy.switchyard.cacheStats().routes['big']?.hit, 0);
  });
});
