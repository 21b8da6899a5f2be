import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { IDLE_SOCKET_MS } from './idle-sockets.js';
import { forwardInterim } from './interim-response.js';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import type { UpstreamConfig } from '../config/types.js';
import { sendProblem } from '../errors/problem.js';
import { UpstreamOverloadedError, UpstreamTimeoutError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import type { Logger } from '../logging/logger.js';
import { forwardedRequestHeaders, removeHopByHop, stripPathPrefix } from './forwarded-headers.js';
import { UpstreamLimiter } from './upstream-limiter.js';
import { endSpan, runInContext, startSideSpan } from '../telemetry/routing-telemetry.js';

/** What one forwarded request needs beyond the request itself. */
export interface ForwardTarget {
  readonly route: string;
  /** Normalised request path (no query) and the raw query with its `?`. */
  readonly path: string;
  readonly query: string;
  readonly stripPrefix: string;
  readonly trustForwarded: boolean;
}

export interface UpstreamProxy {
  readonly config: UpstreamConfig;
  readonly limiter: UpstreamLimiter;
  /** The upstream's connection pool (the response cache fetches through it, under the same limiter). */
  readonly agent: http.Agent;
  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget): void;
  /** Stop using this upstream: close its pooled sockets once nothing is in flight. */
  retire(): void;
}

/**
 * The only module that talks to http-proxy-middleware. One proxy and one connection pool per
 * upstream; the limiter in front of it; our own connect/response timers so a timeout is a 504
 * naming the phase, and every failure before the response starts is a problem+json.
 */
export function createUpstreamProxy(config: UpstreamConfig, logger: Logger, limiter = new UpstreamLimiter(config)): UpstreamProxy {
  const isHttps = config.url.startsWith('https:');
  // The limiter is the one bound on concurrency: the agent must never queue a request itself,
  // because its queue has no size limit and no timer.
  // Idle pooled connections are closed before the backend closes them (see idle-sockets.ts).
  const agentOptions = { keepAlive: config.keepAlive, maxSockets: Infinity, maxFreeSockets: config.maxInFlight, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
  const agent = isHttps ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const basePath = new URL(config.url).pathname.replace(/\/+$/, '');
  const routeOf = new WeakMap<IncomingMessage, string>();
  /** The exact request target to send: http-proxy's own join collapses `//` and rewrites `http:/`. */
  const exactPath = new WeakMap<IncomingMessage, string>();
  const upstreamRequest = new WeakMap<IncomingMessage, ClientRequest>();
  /** The problem code a request was answered with, for its `switchyard legacy` span. */
  const problemCode = new WeakMap<IncomingMessage, string>();
  // Requests this proxy (this pool) is serving; a retired proxy closes its pool when they are done.
  let own = 0;
  let retired = false;
  const closePoolIfRetired = (): void => {
    if (retired && own === 0) agent.destroy();
  };

  const fail = (error: unknown, req: IncomingMessage, res: ServerResponse | Socket): void => {
    const failure = toUpstreamFailure(config.name, error);
    const route = routeOf.get(req);
    logger.warn(`proxy to upstream \`${config.name}\` failed`, { route, code: failure.code, cause: error instanceof Error ? error.message : String(error) });
    problemCode.set(req, failure.code);
    if ('writeHead' in res) sendProblem(res, failure, { route, upstream: config.name });
    else res.destroy();
  };

  const proxy: RequestHandler = createProxyMiddleware({
    target: config.url,
    changeOrigin: !config.preserveHost,
    agent,
    xfwd: false,
    ejectPlugins: true,
    plugins: [
      (server) => {
        server.on('proxyReq', (proxyReq, req, res) => {
          // Emitted from the request's 'socket' event, before its headers are written (the agent
          // never queues, so the socket comes at once): the path can still be set byte-exact.
          const path = exactPath.get(req);
          if (path !== undefined) proxyReq.path = basePath + path;
          upstreamRequest.set(req, proxyReq);
          armTimers(proxyReq, config);
          proxyReq.on('information', (info) => forwardInterim(res, info.statusCode, info.headers));
        });
        server.on('proxyRes', (proxyRes, _req, res) => {
          removeHopByHop(proxyRes.headers);
          // http-proxy fills an absent Connection from the forwarded request (which has none: it
          // is hop-by-hop), i.e. `keep-alive`, and an explicit keep-alive makes Node keep the
          // socket open even after a client's `Connection: close` (RFC 9112 §9.6). State what
          // Node decided for this client connection instead.
          proxyRes.headers.connection = res.shouldKeepAlive ? 'keep-alive' : 'close';
          // A backend that dies mid-body must cut this response, not crash the process.
          proxyRes.on('error', () => res.destroy());
        });
        server.on('error', (error, req, res) => fail(error, req, res));
        server.on('econnreset', (_error, req) => routeOf.delete(req));
      },
    ],
  });

  const forward = (req: IncomingMessage, res: ServerResponse, target: ForwardTarget): void => {
    // The span covers the wait for a slot and the call; the grant may come from another
    // request's release, so the proxied call runs in this span's context explicitly.
    const { span, ctx } = startSideSpan('legacy', { 'switchyard.upstream': config.name, 'server.address': config.url });
    const queuedAt = performance.now();
    let release: (() => void) | undefined;
    const cancel = limiter.acquire(
      (granted) => {
        own++;
        let done = false;
        release = () => {
          if (done) return;
          done = true;
          granted();
          own--;
          closePoolIfRetired();
        };
        span.setAttribute('switchyard.queue.wait_ms', Math.round(performance.now() - queuedAt));
        if (res.destroyed || req.destroyed) return release();
        routeOf.set(req, target.route);
        req.url = stripPathPrefix(target.path, target.query, target.stripPrefix);
        exactPath.set(req, req.url);
        req.headers = forwardedRequestHeaders(req.headers, {
          clientIp: req.socket.remoteAddress ?? '',
          encrypted: 'encrypted' in req.socket && req.socket.encrypted === true,
          stripPrefix: target.stripPrefix,
          trustForwarded: target.trustForwarded,
        });
        runInContext(ctx, () => {
          void proxy(req, res, (error?: unknown) => {
            if (error !== undefined) fail(error, req, res);
          });
        });
      },
      (why) => {
        const detail = why === 'queue_full' ? `${config.maxInFlight} requests in flight and ${config.maxQueue} queued` : `no free slot within ${config.queueTimeoutMs} ms`;
        const error = new UpstreamOverloadedError(config.name, detail, config.retryAfterSeconds);
        problemCode.set(req, error.code);
        sendProblem(res, error, { route: target.route, upstream: config.name });
      },
    );
    // One listener frees the slot when the exchange ends, or leaves the queue if still waiting.
    res.once('close', () => {
      // A client that went away must not leave its request running at the backend.
      if (!res.writableFinished) upstreamRequest.get(req)?.destroy();
      (release ?? cancel)();
      const status = res.statusCode;
      span.setAttribute('http.response.status_code', status);
      // Our own failures carry their problem code (what alerts match on); a 5xx the backend
      // answered itself is still an error, but there is no Switchyard problem to name.
      const code = problemCode.get(req);
      if (code !== undefined) endSpan(span, { code, message: `answered ${status} ${code}` });
      else endSpan(span, status >= 500 ? { message: `upstream answered ${status}` } : undefined);
    });
  };

  return {
    config,
    limiter,
    agent,
    forward,
    retire: () => {
      retired = true;
      closePoolIfRetired();
    },
  };
}

const timers = new WeakMap<ClientRequest, NodeJS.Timeout[]>();

/**
 * Three clocks per upstream call: connect (a new socket must connect in `connectTimeoutMs`),
 * response (headers within `responseTimeoutMs` of the request being fully sent — a slow upload
 * is not the backend's fault), and idle (no bytes either way for `responseTimeoutMs`, which
 * also catches a backend that stalls after its headers).
 */
function armTimers(proxyReq: ClientRequest, config: UpstreamConfig): void {
  const list: NodeJS.Timeout[] = [];
  timers.set(proxyReq, list);
  const timeout = (phase: 'connect' | 'response', ms: number) => () => proxyReq.destroy(new UpstreamTimeoutError(config.name, phase, ms));
  const socket = proxyReq.socket;
  if (socket?.connecting === true) {
    const connectTimer = setTimeout(timeout('connect', config.connectTimeoutMs), config.connectTimeoutMs);
    list.push(connectTimer);
    socket.once('connect', () => clearTimeout(connectTimer));
  }
  proxyReq.once('finish', () => {
    if (timers.has(proxyReq)) list.push(setTimeout(timeout('response', config.responseTimeoutMs), config.responseTimeoutMs));
  });
  proxyReq.setTimeout(config.responseTimeoutMs, timeout('response', config.responseTimeoutMs));
  proxyReq.once('response', () => clearTimers(proxyReq));
  proxyReq.once('close', () => clearTimers(proxyReq));
}

function clearTimers(proxyReq: ClientRequest): void {
  for (const timer of timers.get(proxyReq) ?? []) clearTimeout(timer);
  timers.delete(proxyReq);
}
