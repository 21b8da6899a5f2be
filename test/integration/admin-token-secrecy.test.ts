import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTelemetry } from '../../src/telemetry/otel-sdk.js';

// The SDK must start before http/express are loaded (as in the CLI), so the rest is imported dynamically.
const spans = new InMemorySpanExporter();
const telemetry = startTelemetry({ env: {}, spanProcessors: [new SimpleSpanProcessor(spans)] });
assert.ok(telemetry);

const { handlers } = await import('../../examples/new-handlers.js');
const { startFlask } = await import('../support/legacy-apps.js');
const { request } = await import('../support/http-client.js');
const { exchange } = await import('../support/raw-http.js');
const { captureLogger, flagsText, listen } = await import('../support/switchyard-harness.js');

// Letters no hex id, header name or message contains, so any eight of them in a row are a leak.
const ADMIN = 'qzxkvwjmpqtkzrwqxvzj';
const METRICS = 'wqjzxvkpmzzqwvxkqjwz';
const OVERRIDE = 'vkzqwxjpzqqzxwvkjqxw';
/** Wrong guesses are secrets too: a near miss is often the real token with a typo. */
const GUESS = 'xjqzvwkzpqwzqxkvjzqv';
const SECRETS = [ADMIN, METRICS, OVERRIDE, GUESS];

let flask: Awaited<ReturnType<typeof startFlask>>;
before(async () => {
  flask = await startFlask({ workers: 1 });
});
after(async () => {
  await flask?.stop();
  await telemetry.shutdown();
});

describe('tokens never appear in logs, shadow samples, traces or error messages', () => {
  it('requests carrying every token, right and wrong, on every surface: none of them is found anywhere', async () => {
    const logger = captureLogger();
    const l = await listen({
      flags: flagsText(`
upstreams:
  flask: { url: "${flask.url}" }
  dead: { url: "http://127.0.0.1:9", connectTimeoutMs: 500 }
routes:
  - name: catalog
    path: /flask/catalog
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: catalog }
    mode: legacy
    shadow: { percentage: 100, noisePercentage: 0, compareHeaders: [content-type] }
  - name: hello
    path: /flask/hello
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
  - name: dead
    path: /dead/*
    legacy: { upstream: dead, stripPrefix: /dead }
    new: { handler: hello }
    mode: legacy
`),
      handlers,
      logger,
      adminToken: ADMIN,
      overrideToken: OVERRIDE,
      metrics: { prometheus: true, token: METRICS },
      shadow: { loopUtilization: () => 0 },
    });
    const said: string[] = [];
    const call = async (path: string, headers: Record<string, string>, method = 'GET', body?: string): Promise<number> => {
      const reply = await request(l.url, path, { method, headers, ...(body === undefined ? {} : { body }) });
      said.push(JSON.stringify(reply.headers), reply.body.toString('latin1'));
      return reply.status;
    };
    const admin = { authorization: `Bearer ${ADMIN}` };
    const force = (side: string, token: string) => ({ 'x-switchyard-force': side, 'x-switchyard-override-token': token, authorization: `Bearer ${ADMIN}`, cookie: `sid=${METRICS}` });
    try {
      // The admin API: right token, a malformed body, a missing endpoint.
      assert.equal(await call('/_switchyard/routes', admin), 200);
      assert.equal(await call('/_switchyard/flags/routes/catalog', { ...admin, 'content-type': 'application/json' }, 'PUT', `{"mode":"rollout","reason":"${GUESS}" x}`), 400);
      assert.equal(await call('/_switchyard/flags/routes/catalog', { ...admin, 'content-type': 'application/json' }, 'PUT', `{"mode":"legacy","by":"test","reason":"secrecy"}`), 200);
      assert.equal(await call('/_switchyard/flags/kill-switch', { ...admin, 'content-type': 'application/json' }, 'PUT', GUESS), 400);
      assert.equal(await call('/_switchyard/flags/kill-switch', { ...admin, 'content-type': 'application/json' }, 'PUT', `{"on": ${GUESS}}`), 400);
      assert.equal(await call('/_switchyard/flags/kill-switch', { ...admin, 'content-type': 'application/json' }, 'PUT', `["${GUESS}"`), 400);
      assert.equal(await call('/_switchyard/nope', admin), 404);
      // The metrics endpoint, right and wrong.
      assert.equal(await call('/_switchyard/metrics', { authorization: `Bearer ${METRICS}` }), 200);
      assert.equal(await call('/_switchyard/metrics', { authorization: `Bearer ${GUESS}` }), 403);
      // Routed traffic carrying the override token (right, wrong, with a bad value), the admin token
      // as a credential, the metrics token in a cookie: a shadowed mismatch, a new route, a dead upstream.
      for (let i = 0; i < 3; i++) assert.equal(await call('/flask/catalog', force('legacy', OVERRIDE)), 200);
      assert.equal(await call('/flask/hello', force('legacy', OVERRIDE)), 200);
      assert.equal(await call('/flask/hello', force('sideways', OVERRIDE)), 400);
      assert.equal(await call('/dead/x', force('legacy', OVERRIDE)), 502);
      assert.equal(await call('/nowhere', force('new', OVERRIDE)), 404);
      for (let i = 0; i < 12; i++) assert.ok([200, 429].includes(await call('/flask/catalog', force('new', GUESS))));
      // Requests Node cannot parse, with the tokens in their headers.
      said.push((await exchange(l.url, `GET /flask/hello HTTP/1.1\r\nHost: x\r\nX-Switchyard-Override-Token: ${OVERRIDE}\r\nAuthorization: Bearer ${ADMIN}\r\nBad Header: ${GUESS}\r\n\r\n`)).text);
      said.push((await exchange(l.url, `GET /flask/hello HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${ADMIN}\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab`)).text);

      // Wait for the shadow comparisons to be recorded, then read the samples as an operator would.
      const deadline = Date.now() + 5_000;
      let samples: unknown[] = [];
      while (samples.length < 3 && Date.now() < deadline) {
        const reply = await request(l.url, '/_switchyard/shadow/catalog/samples?limit=50', { headers: admin });
        samples = (reply.json() as { samples: unknown[] }).samples;
        if (samples.length < 3) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(samples.length >= 3, 'the shadowed requests were recorded as mismatch samples');
      const samplesText = JSON.stringify(samples);
      assert.match(samplesText, /authorization/i, 'the samples do carry request headers (redacted)');
      const shadowView = (await request(l.url, '/_switchyard/shadow/catalog', { headers: admin })).body.toString();
      const audit = (await request(l.url, '/_switchyard/flags/audit', { headers: admin })).body.toString();
      const metricsText = (await request(l.url, '/_switchyard/metrics', { headers: { authorization: `Bearer ${METRICS}` } })).body.toString();
      // Last, as they block this address's admin access: wrong admin tokens until the brake answers 429.
      for (let i = 0; i < 12; i++) assert.ok([403, 429].includes(await call('/_switchyard/routes', { authorization: `Bearer ${GUESS}` })));

      await new Promise((r) => setTimeout(r, 200)); // spans end when responses close
      const finished = spans.getFinishedSpans();
      assert.ok(finished.length > 20, `spans were exported (${finished.length})`);
      const spansText = JSON.stringify(finished.map((s) => ({ name: s.name, attributes: s.attributes, events: s.events, status: s.status, links: s.links, resource: s.resource.attributes })));

      const places: Record<string, string> = { logs: logger.lines.join('\n'), samples: samplesText, shadowView, audit, metrics: metricsText, spans: spansText, answers: said.join('\n') };
      assert.ok(logger.lines.some((line) => line.includes('proxy to upstream `dead` failed')), 'the failures were logged');
      for (const [place, text] of Object.entries(places)) {
        for (const secret of SECRETS) {
          // Any 8 characters of one: error messages quote truncated input (V8 keeps ten characters).
          for (let i = 0; i + 8 <= secret.length; i++) assert.ok(!text.includes(secret.slice(i, i + 8)), `${place} contains ${secret.slice(i, i + 8)} (of ${secret.slice(0, 6)}…)`);
        }
      }
    } finally {
      await l.close();
    }
  });
});
