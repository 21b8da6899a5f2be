import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Request, Response } from 'express';
import { REQUEST_LIMITS } from '../../src/config/defaults.js';
import type { RequestObserver, ResponseOutcome, RoutedRequest } from '../../src/pipeline/routed-request.js';
import { MemoryShadowStore } from '../../src/shadow/shadow-store.js';
import { request } from '../support/http-client.js';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';
import { captureLogger, listen, type Listening } from '../support/switchyard-harness.js';

/**
 * The request pipeline: one immutable RoutedRequest per request, handed to every observer
 * (stats, telemetry, the shadow mirror, the embedding app's own), one outcome per response —
 * against the real gunicorn Flask app.
 */
let flask: LegacyServer;
let dir: string;
let sy: Listening;
const shadowStore = new MemoryShadowStore();
const ran: string[] = [];

interface Seen {
  routed: RoutedRequest[];
  outcomes: [RoutedRequest, ResponseOutcome][];
}
const recorder = (name: string, seen: Seen): RequestObserver => ({
  name,
  onRouted: (r) => seen.routed.push(r),
  onResponse: (r, o) => seen.outcomes.push([r, o]),
});
const first: Seen = { routed: [], outcomes: [] };
const second: Seen = { routed: [], outcomes: [] };

const flags = (handler: string) => `
upstreams:
  flask: { url: "${flask.url}" }
routes:
  - name: echoed
    path: /echo
    legacy: { upstream: flask }
    new: { handler: ${handler} }
    mode: legacy
    shadow: { percentage: 100, allowUnsafeMethods: true }
  - name: cached
    path: /c/*
    legacy: { upstream: flask, stripPrefix: /c }
    cache: {}
  - name: statuses
    path: /status/*
    legacy: { upstream: flask }
`;

const echoHandler = (name: string) => (req: Request, res: Response) => {
  ran.push(name);
  res.json({ handler: name, method: req.method });
};

before(async () => {
  flask = await startFlask({ workers: 2 });
  dir = await mkdtemp(path.join(tmpdir(), 'switchyard-pipeline-'));
  await writeFile(path.join(dir, 'routes.yaml'), flags('v1'));
  sy = await listen({
    flagsDir: dir,
    watch: false,
    handlers: { v1: echoHandler('v1'), v2: echoHandler('v2') },
    logger: captureLogger(),
    cache: { redisUrl: null },
    shadow: { store: shadowStore, loopUtilization: () => 0 },
    observers: [recorder('first', first), recorder('second', second)],
  });
});
after(async () => {
  await sy?.close();
  await flask?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(10);
  }
}

describe('request pipeline', () => {
  it('every observer gets the same frozen RoutedRequest, and one outcome per response as the client saw it', async () => {
    const start = first.outcomes.length;
    const miss = await request(sy.url, '/c/cacheable?t=pipeline');
    const hit = await request(sy.url, '/c/cacheable?t=pipeline');
    const failed = await request(sy.url, '/status/503');
    assert.deepEqual([miss.status, hit.status, failed.status], [200, 200, 503]);
    await until(() => first.outcomes.length >= start + 3 && second.outcomes.length >= start + 3, 'outcomes');
    const outcomes = first.outcomes.slice(start).map(([, o]) => o);
    assert.deepEqual(
      outcomes.map((o) => [o.side, o.status, o.cache, o.completed]),
      [
        ['legacy', 200, 'MISS', true],
        ['legacy', 200, 'HIT', true],
        ['legacy', 503, null, true],
      ],
    );
    assert.ok(outcomes.every((o) => o.durationMs > 0));
    for (let i = start; i < start + 3; i++) {
      const a = first.outcomes[i];
      const b = second.outcomes[i];
      assert.ok(a !== undefined && b !== undefined);
      assert.equal(a[0], b[0], 'the same object, not a copy');
      assert.equal(first.routed[i], a[0], 'onRouted and onResponse see the same request');
      assert.ok(Object.isFrozen(a[0]) && Object.isFrozen(a[0].headers));
    }
    const routed = first.outcomes[start]?.[0];
    assert.equal(routed?.route.name, 'cached');
    assert.equal(routed?.path, '/c/cacheable');
    assert.equal(routed?.query, '?t=pipeline');
    assert.equal(routed?.config, sy.switchyard.config, 'the snapshot in force');
  });

  it('a reload between routing and shadowing does not mix snapshots: the shadow runs what the request was routed under', async () => {
    const versionBefore = sy.switchyard.config.version;
    ran.length = 0;
    const { port } = new URL(sy.url);
    // The shadow call waits for the request body to end: the reload happens in between. The body
    // is longer than what Switchyard holds before routing (REQUEST_LIMITS.bodyHoldBytes), so the
    // request is routed while its end is still to come.
    const body = JSON.stringify({ part: 'one', more: 'two', padding: 'x'.repeat(REQUEST_LIMITS.bodyHoldBytes) });
    const reply = new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/echo', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write(body.slice(0, REQUEST_LIMITS.bodyHoldBytes + 10));
      void (async () => {
        await until(() => first.routed.some((r) => r.route.name === 'echoed' && r.config.version === versionBefore), 'routing');
        await writeFile(path.join(dir, 'routes.yaml'), flags('v2'));
        const outcome = await sy.switchyard.reload();
        assert.ok(outcome.ok && outcome.changed, JSON.stringify(outcome));
        assert.notEqual(sy.switchyard.config.version, versionBefore);
        req.end(body.slice(REQUEST_LIMITS.bodyHoldBytes + 10));
      })().catch(reject);
    });
    assert.equal(await reply, 200);
    await until(async () => (await shadowStore.counts('echoed')).compared >= 1, 'the shadow comparison');
    assert.deepEqual(ran, ['v1'], 'the handler of the snapshot the request was routed under, not the reloaded one');
    const [sample] = await shadowStore.samples('echoed', 1);
    assert.equal(sample?.flagVersion, versionBefore);
    // And the next request is routed (and shadowed) under the new snapshot.
    ran.length = 0;
    await request(sy.url, '/echo');
    await until(() => ran.length === 1, 'the second shadow');
    assert.deepEqual(ran, ['v2']);
  });
});
