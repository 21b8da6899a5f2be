/**
 * One benchmark target per process: `node --import tsx bench/servers.ts <mode> [flaskUrl]`.
 * Listens on a free loopback port, prints `PORT <n>` on stdout, and exits on SIGTERM or when its
 * stdin closes (so it never outlives bench/run.ts, even if that one is killed).
 *
 * Add a mode here for each new kind of server a scenario needs (shadow, cache, telemetry…).
 */
import { renameSync, writeFileSync } from 'node:fs';
import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool, type Dispatcher } from 'undici';
import type { Request, Response } from 'express';
import type { NewHandler } from '../src/index.js';
import { startTelemetry } from '../src/telemetry/otel-sdk.js';

// BENCH_TELEMETRY: off (default) | noexport (SDK and instrumentations, no exporter) | otlp (the
// OTEL_* environment from bench/run.ts, exporting to its local receiver). The SDK must start
// before Express and the app are loaded, so those are imported dynamically below.
const telemetryMode = process.env['BENCH_TELEMETRY'] ?? 'off';
const telemetry = telemetryMode === 'off' ? null : startTelemetry({ env: telemetryMode === 'otlp' ? process.env : {} });
const { default: express } = await import('express');
const { createSwitchyard, silentLogger } = await import('../src/index.js');

/** The trivial handler both new-side scenarios serve. */
const hello = (_req: Request, res: Response): void => {
  res.json({ message: 'Hello' });
};

/** maxInFlight far above gunicorn's 2 workers, so Switchyard's limiter is never the bottleneck. */
const upstreams = (flaskUrl: string): string => `
upstreams:
  flask: { url: "${flaskUrl}", maxInFlight: 64 }
`;

const legacyMount = `
  - name: flask-app
    path: /flask/*
    legacy: { upstream: flask, stripPrefix: /flask }
`;

/** The same URL, migrated: /flask/hello keeps its legacy side but runs the new handler. */
const migratedHello = `
  - name: hello
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
`;

async function switchyard(flaskUrl: string, routes: string, handlers: Record<string, NewHandler> = {}, redisUrl: string | null = null, serve: 'handler' | 'app' = 'handler'): Promise<RequestListener> {
  const text = `${upstreams(flaskUrl)}routes:${routes}`;
  // The admin API lets bench/run.ts read what a scenario did (e.g. how many shadows were compared).
  const adminToken = process.env['BENCH_ADMIN_TOKEN'] ?? null;
  const s = await createSwitchyard({ flags: [{ file: 'bench.yaml', text }], handlers, watch: false, logger: silentLogger, cache: { redisUrl }, adminToken });
  // `app` routes inside Express and proxies with http-proxy-middleware (the embeddable path).
  return serve === 'app' ? s.app : s.handler;
}

/** The migrated route, mirroring every (or no) request to legacy and diffing the answers. */
const shadowedHello = (percentage: number) => `
  - name: hello
    path: /flask/hello
    methods: [GET]
    legacy: { upstream: flask, stripPrefix: /flask }
    new: { handler: hello }
    mode: new
    shadow: { percentage: ${percentage}, noisePercentage: 0 }
`;

/** The legacy app's /cacheable endpoint behind a cached route (issue 4). */
const cachedMount = `
  - name: cached
    path: /cached/*
    legacy: { upstream: flask, stripPrefix: /cached }
    cache: {}
`;

/**
 * The Node limits: the least a keep-alive proxy and a JSON server can do on node:http — what
 * Switchyard's own rows are compared with.
 */
function bareProxy(flaskUrl: string, forwarded: boolean): RequestListener {
  const url = new URL(flaskUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return (req, res) => {
    // With `forwarded`, the headers every real proxy adds (and Switchyard sends): the backend's
    // ProxyFix then does the same work per request as behind Switchyard.
    const path = forwarded ? (req.url ?? '/').replace(/^\/flask/, '') || '/' : req.url;
    const headers = forwarded
      ? { ...req.headers, host: url.host, 'x-forwarded-for': req.socket.remoteAddress ?? '', 'x-forwarded-proto': 'http', 'x-forwarded-host': req.headers.host ?? '', 'x-forwarded-prefix': '/flask' }
      : { ...req.headers, host: url.host };
    const upstream = http.request({ agent, hostname: url.hostname, port: url.port, method: req.method, path, headers }, (response) => {
      res.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  };
}

/** The same bare proxy on undici's Pool.dispatch (no ClientRequest/IncomingMessage per request). */
function bareUndiciProxy(flaskUrl: string): RequestListener {
  const url = new URL(flaskUrl);
  const pool = new Pool(url.origin, { connections: 64, pipelining: 1 });
  return (req, res) => {
    const headers = { ...req.headers, host: url.host };
    delete headers.connection;
    pool.dispatch({ method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers: headers }, {
      onConnect() {},
      onHeaders(status, raw) {
        const lines: string[] = [];
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i]?.toString('latin1') ?? '';
          if (name.length === 10 && name.toLowerCase() === 'connection') continue;
          lines.push(name, raw[i + 1]?.toString('latin1') ?? '');
        }
        res.writeHead(status, lines);
        return true;
      },
      onData(chunk) {
        return res.write(chunk);
      },
      onComplete() {
        res.end();
      },
      onError() {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      },
    });
  };
}

const helloBody = JSON.stringify({ message: 'Hello' });
const bareJson: RequestListener = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(helloBody) });
  res.end(helloBody);
};

const modes: Record<string, (flaskUrl: string) => Promise<RequestListener>> = {
  'bare-proxy': (flaskUrl) => Promise.resolve(bareProxy(flaskUrl, false)),
  'bare-proxy-forwarded': (flaskUrl) => Promise.resolve(bareProxy(flaskUrl, true)),
  'bare-undici-proxy': (flaskUrl) => Promise.resolve(bareUndiciProxy(flaskUrl)),
  'bare-json': () => Promise.resolve(bareJson),
  express: () => {
    const app = express();
    app.get('/hello', hello);
    return Promise.resolve(app);
  },
  'switchyard-legacy': (flaskUrl) => switchyard(flaskUrl, legacyMount),
  'switchyard-legacy-express': (flaskUrl) => switchyard(flaskUrl, legacyMount, {}, null, 'app'),
  'switchyard-new': (flaskUrl) => switchyard(flaskUrl, legacyMount + migratedHello, { hello }),
  'switchyard-cache-memory': (flaskUrl) => switchyard(flaskUrl, legacyMount + cachedMount),
  'switchyard-cache-redis': (flaskUrl) => switchyard(flaskUrl, legacyMount + cachedMount, {}, process.env['BENCH_REDIS_URL'] ?? null),
  'switchyard-shadow-0': (flaskUrl) => switchyard(flaskUrl, legacyMount + shadowedHello(0), { hello }),
  'switchyard-shadow-100': (flaskUrl) => switchyard(flaskUrl, legacyMount + shadowedHello(100), { hello }),
};

/**
 * BENCH_CPU_PROFILE=<file> (bench/profile.ts): SIGUSR2 starts V8's sampling profiler, the next one
 * stops it and writes the profile to <file> — so it holds the measured load only, not start-up or
 * the warm-up. Written under another name and renamed: whoever polls for it never reads half.
 */
async function armProfiler(file: string): Promise<void> {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 250 µs: fine enough for ~100 µs requests over a 10 s run, coarse enough to cost little.
  await session.post('Profiler.setSamplingInterval', { interval: 250 });
  let running = false;
  const toggle = async (): Promise<void> => {
    if (!running) {
      running = true;
      await session.post('Profiler.start');
      return;
    }
    running = false;
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(`${file}.part`, JSON.stringify(profile));
    renameSync(`${file}.part`, file);
  };
  process.on('SIGUSR2', () => void toggle().catch((error: unknown) => process.stderr.write(`bench/servers: profiler: ${String(error)}\n`)));
}

async function main(): Promise<void> {
  const profileFile = process.env['BENCH_CPU_PROFILE'];
  if (profileFile !== undefined && profileFile !== '') await armProfiler(profileFile);
  const [mode = '', flaskUrl = 'http://127.0.0.1:9'] = process.argv.slice(2);
  const make = modes[mode];
  if (make === undefined) throw new Error(`unknown mode \`${mode}\`; one of: ${Object.keys(modes).join(', ')}`);
  const server = http.createServer(await make(flaskUrl));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.stdout.write(`PORT ${(server.address() as AddressInfo).port}\n`);
  process.stdin.on('end', () => process.exit(0)).resume();
  process.once('SIGTERM', () => void (telemetry?.shutdown() ?? Promise.resolve()).finally(() => process.exit(0)));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/servers: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
