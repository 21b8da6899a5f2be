import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { startTelemetry } from '../../src/telemetry/otel-sdk.js';

// The SDK must start before http/express are loaded, so everything else is imported dynamically.
const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const telemetry = startTelemetry({ env: {}, spanProcessors: [new SimpleSpanProcessor(spans)], metricReaders: [reader] });
assert.ok(telemetry);

const { default: supertest } = await import('supertest');
const { createSwitchyard } = await import('../../src/app.js');
const { handlers } = await import('../../examples/new-handlers.js');
const { startFlask } = await import('../support/legacy-apps.js');
const { captureLogger, flagsText } = await import('../support/switchyard-harness.js');

type Flask = Awaited<ReturnType<typeof startFlask>>;
let flask: Flask;

const flags = () => `
upstreams:
  flask: { url: "${flask.url}" }
  one: { url: "${flask.url}", maxInFlight: 1 }
routes:
  - name: one-app
    path: /one/*
    legacy: { upstream: one, stripPrefix: /one }
  - name: cached-one
    path: /cached-one/*
    legacy: { upstream: one, stripPrefix: /cached-one }
    cache: {}
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
  - name: hello
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
  - name: users
    path: /flask/users/:id
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: user }
    mode: rollout
    rollout: { percentage: 50 }
  - name: cached
    path: /cached/*
    legacy: { upstream: flask, stripPrefix: /cached }
    cache: {}
  - name: shadowed
    path: /shadowed/hello
    legacy: { upstream: flask, stripPrefix: /shadowed }
    new: { handler: hello }
    mode: new
    shadow: { noisePercentage: 0 }
`;

// An idle event loop as far as shadow load-shedding is concerned: the shadowed request must be mirrored.
const make = (useLegacy = false) => createSwitchyard({ flags: flagsText(flags()), handlers, watch: false, logger: captureLogger(), useLegacy, shadow: { loopUtilization: () => 0 } });

/**
 * The spans of the trace whose server span has `switchyard.route` = route. Spans end when the
 * response closes, which can be just after the client has read it, so this waits (bounded) for
 * the server span and for `expected` span names to arrive.
 */
async function traceOf(route: string, expected: string[] = []): Promise<{ server: ReadableSpan; all: ReadableSpan[] }> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const finished = spans.getFinishedSpans();
    const server = finished.find((s) => s.kind === SpanKind.SERVER && s.attributes['switchyard.route'] === route);
    const all = server ? finished.filter((s) => s.spanContext().traceId === server.spanContext().traceId) : [];
    if (server && expected.every((name) => all.some((s) => s.name === name))) return { server, all };
    if (Date.now() > deadline) assert.fail(`trace for ${route} with ${expected.join(', ')}; got ${finished.map((s) => `${s.name}/${s.kind}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** True when `span` sits below `ancestor` in its trace (Express's middleware span may be between). */
function isBelow(span: ReadableSpan, ancestor: ReadableSpan, all: ReadableSpan[]): boolean {
  let parent = parentOf(span);
  while (parent !== undefined) {
    if (parent === ancestor.spanContext().spanId) return true;
    parent = all.find((s) => s.spanContext().spanId === parent)?.parentSpanContext?.spanId;
  }
  return false;
}

before(async () => {
  flask = await startFlask({ workers: 2 });
});
after(async () => {
  await flask?.stop();
  await telemetry.shutdown();
});

describe('traces (in-memory exporter, real SDK and instrumentations)', () => {
  // switchyard.app routes inside Express; switchyard.handler (what the CLI serves) in front of it.
  for (const via of ['app', 'handler'] as const) {
    it(`a legacy route (${via}): server span named by http.route, a legacy span, a client span, traceparent at Flask`, async () => {
      spans.reset();
      const sy = await make();
      try {
        const res = await supertest(sy[via]).get('/flask/echo?x=1').expect(200);
        const { server, all } = await traceOf('flask-app', ['switchyard legacy']);
        assert.equal(server.attributes['http.route'], '/flask/*');
        assert.equal(server.name, 'GET /flask/*');
        assert.equal(server.attributes['switchyard.decision'], 'legacy');
        assert.equal(server.attributes['switchyard.reason'], 'only_side');
        assert.equal(server.attributes['switchyard.flag.source'], 'file');
        assert.equal(server.attributes['switchyard.flag.version'], sy.config.version);
        const legacy = all.find((s) => s.name === 'switchyard legacy');
        assert.ok(legacy);
        assert.ok(isBelow(legacy, server, all));
        assert.equal(legacy.attributes['switchyard.upstream'], 'flask');
        const client = all.find((s) => s.kind === SpanKind.CLIENT && isBelow(s, server, all));
        assert.ok(client, 'the proxied call is a client span');
        assert.equal(parentOf(client), legacy.spanContext().spanId);
        assert.equal(client.attributes['server.port'], flask.port);
        // Flask received a traceparent continuing this trace, from the client span.
        const traceparent = String(res.body.headers.traceparent);
        assert.equal(traceparent.split('-')[1], server.spanContext().traceId);
        assert.equal(traceparent.split('-')[2], client.spanContext().spanId);
      } finally {
        await sy.close();
      }
    });

    it(`a new route (${via}): a new-handler span under the server span, no client span`, async () => {
      spans.reset();
      const sy = await make();
      try {
        await supertest(sy[via]).get('/flask/hello').expect(200);
        const { server, all } = await traceOf('hello', ['switchyard new handler']);
        assert.equal(server.attributes['switchyard.decision'], 'new');
        assert.equal(server.attributes['http.route'], '/flask/hello');
        // switchyard.handler decides before Express, whose instrumentation then renames the route per layer.
        assert.equal(server.name, 'GET /flask/hello');
        const handler = all.find((s) => s.name === 'switchyard new handler');
        assert.ok(handler);
        assert.equal(handler.attributes['switchyard.handler'], 'hello');
        assert.ok(isBelow(handler, server, all));
        assert.equal(server.attributes['switchyard.reason'], 'static');
        // (supertest's own request is a client span above the server span; none may sit below it.)
        assert.ok(!all.some((s) => s.kind === SpanKind.CLIENT && isBelow(s, server, all)));
      } finally {
        await sy.close();
      }
    });
  }

  it('a rollout carries bucket and percentage; the kill switch its reason', async () => {
    spans.reset();
    const sy = await make();
    try {
      await supertest(sy.app).get('/flask/users/4').set('X-User-Id', 'alice').expect(200);
      const { server } = await traceOf('users');
      assert.equal(server.attributes['switchyard.reason'], 'rollout');
      assert.equal(server.attributes['switchyard.rollout.percentage'], 50);
      const bucket = server.attributes['switchyard.rollout.bucket'];
      assert.ok(typeof bucket === 'number' && bucket >= 1 && bucket <= 100);
      assert.equal(server.attributes['switchyard.decision'], bucket <= 50 ? 'new' : 'legacy');
    } finally {
      await sy.close();
    }
    spans.reset();
    const killed = await make(true);
    try {
      await supertest(killed.app).get('/flask/hello').expect(200);
      const { server } = await traceOf('hello');
      assert.equal(server.attributes['switchyard.reason'], 'kill_switch');
      assert.equal(server.attributes['switchyard.decision'], 'legacy');
    } finally {
      await killed.close();
    }
  });

  it('a cache fill is a legacy span under the cache span, with its wait for a slot (queue wait) and the client span below it', async () => {
    spans.reset();
    const sy = await make();
    try {
      // The upstream's only slot is taken by a slow proxied request: the fill queues behind it.
      // (A supertest request is sent when it is awaited: `.then` sends this one now.)
      const slow = supertest(sy.handler).get('/one/slow?ms=400').expect(200).then((r) => r.status);
      await new Promise((r) => setTimeout(r, 100));
      await supertest(sy.handler).get('/cached-one/cacheable?max_age=60&t=fill').expect(200).expect('x-switchyard-cache', 'MISS');
      await slow;
      const { all } = await traceOf('cached-one', ['switchyard cache', 'switchyard legacy']);
      const cacheSpan = all.find((s) => s.name === 'switchyard cache')!;
      const fill = all.find((s) => s.name === 'switchyard legacy')!;
      assert.equal(parentOf(fill), cacheSpan.spanContext().spanId);
      assert.equal(fill.attributes['switchyard.upstream'], 'one');
      assert.equal(fill.attributes['switchyard.call'], 'cache_fill');
      assert.equal(fill.attributes['http.response.status_code'], 200);
      // It waited for the slow request's slot (which held it for 400 ms, 100 ms of which before the fill arrived).
      assert.ok(Number(fill.attributes['switchyard.queue.wait_ms']) >= 100, `queue wait ${String(fill.attributes['switchyard.queue.wait_ms'])}`);
      const client = all.find((s) => s.kind === SpanKind.CLIENT && parentOf(s) === fill.spanContext().spanId);
      assert.ok(client, 'the fill call is a client span under the legacy span');
    } finally {
      await sy.close();
    }
  });

  it('a cache hit: a cache span with the result, no legacy call; the miss before it has one', async () => {
    spans.reset();
    const sy = await make();
    try {
      await supertest(sy.app).get('/cached/cacheable?max_age=60&t=otel').set('Host', 'shop.example').expect(200).expect('x-switchyard-cache', 'MISS');
      const miss = await traceOf('cached', ['switchyard cache']);
      assert.equal(miss.server.attributes['switchyard.cache.result'], 'miss');
      assert.ok(miss.all.some((s) => s.kind === SpanKind.CLIENT && isBelow(s, miss.server, miss.all)), 'the miss called legacy');
      spans.reset();
      await supertest(sy.app).get('/cached/cacheable?max_age=60&t=otel').set('Host', 'shop.example').expect(200).expect('x-switchyard-cache', 'HIT');
      const hit = await traceOf('cached', ['switchyard cache']);
      const cacheSpan = hit.all.find((s) => s.name === 'switchyard cache')!;
      assert.equal(cacheSpan.attributes['switchyard.cache.result'], 'hit');
      assert.ok(isBelow(cacheSpan, hit.server, hit.all));
      assert.equal(hit.server.attributes['switchyard.cache.result'], 'hit');
      assert.ok(!hit.all.some((s) => s.kind === SpanKind.CLIENT && isBelow(s, hit.server, hit.all)), 'a hit never reaches legacy');
    } finally {
      await sy.close();
    }
  });

  it('a shadowed request: a shadow span linked to the request span, with the comparison outcome', async () => {
    spans.reset();
    const sy = await make();
    try {
      await supertest(sy.app).get('/shadowed/hello').expect(200);
      const deadline = Date.now() + 5_000;
      let shadow: ReadableSpan | undefined;
      while (shadow === undefined && Date.now() < deadline) {
        shadow = spans.getFinishedSpans().find((s) => s.name === 'switchyard shadow');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(shadow, 'a shadow span');
      const { server } = await traceOf('shadowed');
      assert.equal(shadow.attributes['switchyard.shadow.side'], 'legacy');
      assert.equal(shadow.attributes['switchyard.shadow.outcome'], 'matched', 'Flask and the new handler agree on /hello');
      assert.equal(shadow.attributes['switchyard.shadow.differing_fields'], 0);
      assert.ok(shadow.links.some((l) => l.context.spanId === server.spanContext().spanId), 'linked to the request span');
      // The shadow's own call to legacy is a client span under the shadow span, not under the request.
      const shadowCall = spans.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT && s.parentSpanContext?.spanId === shadow.spanContext().spanId);
      assert.ok(shadowCall, 'the shadow call carries the shadow span context');
    } finally {
      await sy.close();
    }
  });

  it('a failing upstream marks the legacy span as an error with the problem code', async () => {
    spans.reset();
    const sy = await createSwitchyard({
      flags: flagsText('upstreams:\n  dead: { url: "http://127.0.0.1:9" }\nroutes:\n  - name: dead\n    path: /dead/*\n    legacy: { upstream: dead }\n'),
      watch: false,
      logger: captureLogger(),
    });
    try {
      await supertest(sy.app).get('/dead/x').expect(502);
      const { all } = await traceOf('dead', ['switchyard legacy']);
      const legacy = all.find((s) => s.name === 'switchyard legacy');
      assert.equal(legacy?.status.code, 2 /* ERROR */);
      assert.equal(legacy?.attributes['http.response.status_code'], 502);
      assert.equal(legacy?.attributes['switchyard.error.code'], 'SWITCHYARD_UPSTREAM_UNAVAILABLE');
    } finally {
      await sy.close();
    }
  });

  it('a 5xx the legacy app answers itself is an error span without a Switchyard problem code', async () => {
    spans.reset();
    const sy = await make();
    try {
      await supertest(sy.handler).get('/flask/status/503').expect(503);
      const { all } = await traceOf('flask-app', ['switchyard legacy']);
      const legacy = all.find((s) => s.name === 'switchyard legacy');
      assert.equal(legacy?.status.code, 2 /* ERROR */);
      assert.equal(legacy?.attributes['http.response.status_code'], 503);
      assert.equal(legacy?.attributes['switchyard.error.code'], undefined);
    } finally {
      await sy.close();
    }
  });
});

describe('metrics', () => {
  it('records decisions by route/side/reason, durations by route/side, and upstream load', async () => {
    const sy = await make();
    try {
      for (let i = 0; i < 3; i++) await supertest(sy.app).get('/flask/hello').expect(200);
      await supertest(sy.app).get('/flask/whoami').expect(200);
      const { resourceMetrics } = await reader.collect();
      const all = resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'switchyard').flatMap((s) => s.metrics);
      const byName = (name: string) => all.find((m) => m.descriptor.name === name);
      const decisions = byName('switchyard.decisions');
      assert.ok(decisions);
      const helloNew = decisions.dataPoints.find((p) => p.attributes['switchyard.route'] === 'hello' && p.attributes['switchyard.decision'] === 'new');
      assert.ok(helloNew && (helloNew.value as number) >= 3);
      const duration = byName('switchyard.request.duration');
      const legacyPoint = duration?.dataPoints.find((p) => p.attributes['switchyard.route'] === 'flask-app' && p.attributes['switchyard.decision'] === 'legacy');
      assert.ok(legacyPoint && (legacyPoint.value as { count: number }).count >= 1);
      const inFlight = byName('switchyard.upstream.in_flight');
      assert.ok(inFlight?.dataPoints.some((p) => p.attributes['switchyard.upstream'] === 'flask' && p.value === 0));
    } finally {
      await sy.close();
    }
  });
});
