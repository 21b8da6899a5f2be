import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFlask, type LegacyServer } from '../support/legacy-apps.js';

// Over the wire: the real CLI exports OTLP/HTTP (JSON) to a receiver this test runs; nothing in
// the SDK is mocked, and the receiver decodes what arrives.
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let flask: LegacyServer;
let flagsDir: string;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}
interface Receiver {
  url: string;
  spans: OtlpSpan[];
  metricNames: Set<string>;
  /** `server.port` of every `http.client.request.duration` data point: whom Switchyard called. */
  clientDurationPorts: Set<string>;
  serviceNames: Set<string>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const spans: OtlpSpan[] = [];
  const metricNames = new Set<string>();
  const clientDurationPorts = new Set<string>();
  const serviceNames = new Set<string>();
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const payload = JSON.parse(body) as {
        resourceSpans?: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
        resourceMetrics?: { scopeMetrics: { metrics: { name: string; histogram?: { dataPoints: { attributes: OtlpSpan['attributes'] }[] } }[] }[] }[];
      };
      for (const rs of payload.resourceSpans ?? []) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value['stringValue'];
        if (typeof service === 'string') serviceNames.add(service);
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      for (const rm of payload.resourceMetrics ?? []) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            metricNames.add(m.name);
            if (m.name !== 'http.client.request.duration') continue;
            for (const point of m.histogram?.dataPoints ?? []) clientDurationPorts.add(String(Object.values(point.attributes.find((a) => a.key === 'server.port')?.value ?? {})[0]));
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    metricNames,
    clientDurationPorts,
    serviceNames,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const v = span.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : Object.values(v)[0];
};

function startCli(env: NodeJS.ProcessEnv): { url: Promise<string>; stop: () => Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/main.ts'), '--flags', flagsDir, '--port', '0', '--host', '127.0.0.1', '--handlers', path.join(ROOT, 'examples/new-handlers.ts')], {
    cwd: ROOT,
    env: { ...process.env, OTEL_SDK_DISABLED: undefined, OTEL_TRACES_EXPORTER: undefined, OTEL_EXPORTER_OTLP_ENDPOINT: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then((code) => reject(new Error(`CLI exited ${code}: ${err}`)));
  });
  return {
    url,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    output: () => out + err,
  };
}

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  flask = await startFlask({ workers: 2 });
  flagsDir = await mkdtemp(path.join(tmpdir(), 'switchyard-otel-'));
  await writeFile(
    path.join(flagsDir, 'flags.yaml'),
    `upstreams:\n  flask: { url: "${flask.url}" }\nroutes:\n  - name: flask-app\n    path: /flask/*\n    legacy: { upstream: flask, stripPrefix: /flask }\n  - name: hello\n    path: /flask/hello\n    methods: [GET]\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: hello }\n    mode: new\n  - name: users\n    path: /flask/users/:id\n    methods: [GET]\n    legacy: { upstream: flask, stripPrefix: /flask }\n    new: { handler: user }\n    mode: rollout\n    rollout: { percentage: 50 }\n`,
  );
});
after(async () => {
  await flask?.stop();
  await rm(flagsDir, { recursive: true, force: true });
});

describe('OTLP export over the wire', () => {
  it('exports the server span whose trace id Flask received in traceparent, and flushes metrics on SIGTERM', async () => {
    const receiver = await startReceiver();
    const cli = startCli({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'switchyard-otlp-test',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      OTEL_METRIC_EXPORT_INTERVAL: '600000',
    });
    try {
      const base = await cli.url;
      const res = await fetch(`${base}/flask/echo`);
      const echoed = (await res.json()) as { headers: Record<string, string> };
      const traceparent = echoed.headers['traceparent'];
      assert.match(traceparent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
      const traceId = traceparent!.split('-')[1]!;
      await eventually(() => receiver.spans.some((s) => s.traceId === traceId && s.kind === 2), 'the exported server span');
      const server = receiver.spans.find((s) => s.traceId === traceId && s.kind === 2)!;
      assert.equal(server.name, 'GET /flask/*');
      assert.equal(attr(server, 'switchyard.route'), 'flask-app');
      assert.equal(attr(server, 'switchyard.decision'), 'legacy');
      assert.equal(attr(server, 'http.route'), '/flask/*');
      assert.ok(receiver.serviceNames.has('switchyard-otlp-test'));
      // Metrics are only exported at the interval (10 min here) — or by the flush on shutdown.
      assert.equal(receiver.metricNames.size, 0);
      assert.equal(await cli.stop(), 0);
      assert.ok(receiver.metricNames.has('switchyard.decisions'), [...receiver.metricNames].join(', '));
      assert.ok(receiver.metricNames.has('switchyard.request.duration'));
      // The proxied call is measured; the exporter's own POSTs (spans went out before the
      // metrics were collected) are not.
      assert.ok(receiver.clientDurationPorts.has(String(flask.port)), [...receiver.clientDurationPorts].join(', '));
      assert.ok(!receiver.clientDurationPorts.has(new URL(receiver.url).port), [...receiver.clientDurationPorts].join(', '));
    } finally {
      await cli.stop();
      await receiver.close();
    }
  });

  it('SIGTERM with the collector down or hung exits 0 within 5 s, saying once what was not flushed', async () => {
    // Down: nothing listens on the port. Hung: accepts the connection and never answers.
    const downPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const sockets = new Set<net.Socket>();
    const hung = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const collectors = { down: `http://127.0.0.1:${downPort}`, hung: `http://127.0.0.1:${(hung.address() as AddressInfo).port}` };
    const clis = Object.entries(collectors).map(([name, endpoint]) => ({
      name,
      // Spans wait in the batch (10 min schedule) and metrics for their interval: both are pending at SIGTERM.
      cli: startCli({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_METRIC_EXPORT_INTERVAL: '600000' }),
    }));
    try {
      await Promise.all(
        clis.map(async ({ name, cli }) => {
          const base = await cli.url;
          assert.equal((await fetch(`${base}/flask/hello`)).status, 200);
          const started = Date.now();
          const code = await cli.stop();
          const elapsed = Date.now() - started;
          const output = cli.output();
          assert.equal(code, 0, `${name}: ${output}`);
          assert.ok(elapsed < 5_000, `${name}: exited after ${elapsed} ms`);
          const lines = output.split('\n').filter((line) => line.includes('telemetry not flushed'));
          assert.equal(lines.length, 1, `${name}: ${output}`);
          assert.match(lines[0]!, /dropped: spans \(.+\); metrics \(.+\)/);
          assert.doesNotMatch(output, /unhandled|Error: |at .*\(node:/i, name);
        }),
      );
    } finally {
      await Promise.all(clis.map(({ cli }) => cli.stop()));
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hung.close(resolve));
    }
  });

  it('turning telemetry off changes no response', async () => {
    const receiver = await startReceiver();
    const on = startCli({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    const off = startCli({ OTEL_SDK_DISABLED: 'true' });
    try {
      const [onUrl, offUrl] = await Promise.all([on.url, off.url]);
      const requests: [string, Record<string, string>][] = [
        ['/flask/hello', {}],
        ['/flask/whoami', {}],
        ['/flask/users/7', { 'x-user-id': 'alice' }],
        ['/flask/users/8', { 'x-user-id': 'bob' }],
        ['/flask/status/503', {}],
        ['/nowhere', {}],
        ['/flask%2Fhello', {}],
      ];
      for (const [p, headers] of requests) {
        const [a, b] = await Promise.all([fetch(onUrl + p, { headers }), fetch(offUrl + p, { headers })]);
        assert.equal(a.status, b.status, p);
        const strip = (h: Headers) => [...h].filter(([k]) => !['date', 'keep-alive', 'connection'].includes(k));
        assert.deepEqual(strip(a.headers), strip(b.headers), p);
        // Bodies must match exactly, but for the instance's own host:port (whoami echoes it).
        const [ta, tb] = [(await a.text()).replaceAll(new URL(onUrl).host, 'HOST'), (await b.text()).replaceAll(new URL(offUrl).host, 'HOST')];
        assert.equal(ta, tb, p);
      }
    } finally {
      await Promise.all([on.stop(), off.stop()]);
      await receiver.close();
    }
  });
});
