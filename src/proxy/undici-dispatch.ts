import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { buildConnector, Pool, type Dispatcher } from 'undici';
import type { UpstreamConfig } from '../config/types.js';
import { UpstreamTimeoutError } from '../errors/switchyard-error.js';
import type { Exchange, NativeDispatch } from './dispatch.js';
import { endToEndLines, requestHasBody } from './forwarded-headers.js';
import { IDLE_SOCKET_MS, isConnectionReset, isRetryableRequest } from './idle-sockets.js';
import { forwardInterim } from './interim-response.js';
import { propagatedHeaderNames } from '../telemetry/routing-telemetry.js';

/**
 * The standalone handler's dispatch: undici's `Pool.dispatch` straight to the upstream, no proxy
 * library and no `ClientRequest`/`IncomingMessage` pair per request (the bench's bare undici
 * proxy costs ~15% less CPU per request than the bare node:http one, and Switchyard's legacy
 * route on it ~19% less than on node:http; see the README's benchmark notes). The only module
 * that imports undici.
 * Behaves as the middleware dispatch does: hop-by-hop headers dropped both ways, Node's own
 * framing and Connection header for the client (so a client's `Connection: close` is honoured),
 * a backend dying mid-body cuts the response.
 *
 * Timers: connect (`connectTimeoutMs`, undici's connector, which looks again after I/O before it
 * fails — an event-loop stall is not a backend's fault), response headers (`responseTimeoutMs`,
 * not counted while the request body is still being written) and idle between body chunks
 * (`responseTimeoutMs`) — undici's own, mapped to the same 504 the other callers give.
 */
export function createUndiciDispatch(url: URL, config: UpstreamConfig): NativeDispatch {
  const pool = new Pool(url.origin, {
    // The limiter is the one bound on concurrency (as for the agent): undici never queues a request itself.
    connections: null,
    pipelining: 1,
    connect: connectorClosingUnused(buildConnector({ timeout: config.connectTimeoutMs })),
    headersTimeout: config.responseTimeoutMs,
    bodyTimeout: config.responseTimeoutMs,
    // Idle connections are let go before common backends close them (see idle-sockets.ts), also
    // when the backend's Keep-Alive hint allows longer.
    keepAliveTimeout: IDLE_SOCKET_MS,
    keepAliveMaxTimeout: IDLE_SOCKET_MS,
    keepAliveTimeoutThreshold: 500,
  });
  const timeouts: Readonly<Record<string, () => UpstreamTimeoutError>> = {
    UND_ERR_CONNECT_TIMEOUT: () => new UpstreamTimeoutError(config.name, 'connect', config.connectTimeoutMs),
    UND_ERR_HEADERS_TIMEOUT: () => new UpstreamTimeoutError(config.name, 'response', config.responseTimeoutMs),
    UND_ERR_BODY_TIMEOUT: () => new UpstreamTimeoutError(config.name, 'response', config.responseTimeoutMs),
  };
  const translate = (error: Error): Error => {
    const code = (error as { code?: unknown }).code;
    const timeout = typeof code === 'string' ? timeouts[code] : undefined;
    return timeout === undefined ? error : timeout();
  };
  // Open connections and the requests on (or waiting for) them, counted here: `pool.stats` walks
  // every connection five times and allocates, per request, for the one figure the retry needs.
  const load = { connected: 0, inFlight: 0 };
  pool.on('connect', () => load.connected++);
  pool.on('disconnect', () => load.connected--);
  const send = (req: IncomingMessage, res: ServerResponse, exchange: Exchange, retry: boolean): void => {
    const withBody = requestHasBody(req.headers);
    // More connections than requests on them: one is idle, and this request will likely reuse
    // it (see ProxyHandler.onError). With one request per connection, that is undici's `free`.
    const mayReuse = retry && !withBody && isRetryableRequest(req.method ?? 'GET') && load.connected > load.inFlight;
    const headers = exchange.headers;
    // undici frames the body itself (chunked when there is no Content-Length) and refuses these.
    if (headers['transfer-encoding'] !== undefined) delete headers['transfer-encoding'];
    // The undici instrumentation appends this hop's trace context: a client's own must go first.
    for (const name of propagatedHeaderNames()) if (headers[name] !== undefined) delete headers[name];
    const options: Dispatcher.DispatchOptions = { method: (req.method ?? 'GET'), path: exchange.path, headers: headers as Record<string, string | string[]>, body: withBody ? req : null };
    load.inFlight++;
    pool.dispatch(options, new ProxyHandler(res, exchange, translate, load, mayReuse ? () => send(req, res, exchange, false) : null));
  };
  return {
    dispatch: (req, res, exchange) => send(req, res, exchange, true),
    close: () => pool.destroy(),
  };
}

/**
 * One proxied exchange as undici's (classic) dispatch handler: a class, so a request allocates
 * one object rather than a closure per hook.
 */
class ProxyHandler implements Dispatcher.DispatchHandler {
  private resumeUpstream: (() => void) | null = null;
  private responded = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly exchange: Exchange,
    private readonly translate: (error: Error) => Error,
    /** The dispatch's count of requests in flight: this one leaves it when it completes or fails. */
    private readonly load: { inFlight: number },
    /** Sends the request again on a fresh connection: once, for a safe bodiless request that may have reused one. */
    private readonly again: (() => void) | null,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    if (this.res.destroyed) return abort();
    this.exchange.started({ destroy: () => abort() });
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, statusText: string): boolean {
    const res = this.res;
    if (status < 200) {
      if (status === 102 || status === 103) forwardInterim(res, status, interimHeaders(raw));
      return true;
    }
    this.responded = true;
    if (res.destroyed) return false;
    this.resumeUpstream = resume;
    // Node frames the body for this client (chunked, or close for HTTP/1.0) and says keep-alive/close itself.
    res.writeHead(status, statusText, endToEndLines(raw, this.exchange.responseHeaders));
    return true;
  }

  onData(chunk: Buffer): boolean {
    const flowing = this.res.write(chunk);
    // The client reads slower than legacy writes: undici pauses until the client drains.
    if (!flowing && this.resumeUpstream !== null) this.res.once('drain', this.resumeUpstream);
    return flowing;
  }

  onComplete(): void {
    this.load.inFlight--;
    this.res.end();
  }

  onError(error: Error): void {
    this.load.inFlight--;
    const res = this.res;
    if (res.headersSent || this.responded) {
      // A backend that dies mid-body cuts this response.
      res.destroy();
      return;
    }
    // The backend closed a pooled connection as this request arrived on it (isStaleReuse's case):
    // it never saw the request, so it goes once more on a fresh connection.
    if (this.again !== null && !res.destroyed && isResetBeforeResponse(error)) return this.again();
    this.exchange.fail(this.translate(error));
  }
}

/** How long a new connection may stay without a request before it is closed (see connectorClosingUnused). */
const UNUSED_CONNECTION_MS = 250;

/**
 * undici (7.x; nodejs/undici#5845) opens a replacement connection after an in-flight request is
 * aborted (a client went away) and then has no request for it. Against gunicorn's sync workers
 * an idle connection is worse than waste: it holds a whole worker until gunicorn's own timeout
 * (proxy-robustness.test.ts: the next request then timed out). A connection that has written
 * nothing UNUSED_CONNECTION_MS after it connected was never used — a real request is written as
 * soon as its connection is up — and is closed; undici drops it like any closed idle connection.
 */
function connectorClosingUnused(connect: buildConnector.connector): buildConnector.connector {
  return (options, callback) =>
    connect(options, (...args) => {
      // A failed connect calls back with the error alone: only a connected socket is watched.
      if (args[0] === null) {
        const socket = args[1];
        const written = socket.bytesWritten;
        const check = setTimeout(() => {
          if (!socket.destroyed && socket.bytesWritten === written) socket.destroy();
        }, UNUSED_CONNECTION_MS);
        check.unref();
        socket.once('close', () => clearTimeout(check));
      }
      callback(...args);
    });
}

/** A connection that ended under a request before its response: reset, broken pipe, or closed by the other side. */
function isResetBeforeResponse(error: Error): boolean {
  return isConnectionReset(error) || (error as { code?: unknown }).code === 'UND_ERR_SOCKET';
}

/** An interim response's raw headers as the object forwardInterim takes. */
function interimHeaders(raw: readonly Buffer[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    const seen = headers[name];
    headers[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return headers;
}
