import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { UpstreamConfig } from '../config/types.js';
import { sendProblem } from '../errors/problem.js';
import { UpstreamOverloadedError, type SwitchyardError } from '../errors/switchyard-error.js';
import { toUpstreamFailure } from '../errors/upstream-failure.js';
import type { Logger } from '../logging/logger.js';
import { endSpan, runInContext, startSideSpan } from '../telemetry/routing-telemetry.js';
import type { Dispatch, Exchange, NativeDispatch, StartedCall } from './dispatch.js';
import { forwardedRequestHeaders, removeHopByHop, stripPathPrefix } from './forwarded-headers.js';
import { IDLE_SOCKET_MS, isStaleReuse } from './idle-sockets.js';
import { createMiddlewareDispatch } from './middleware-dispatch.js';
import { armTimers } from './upstream-timers.js';
import { createUndiciDispatch } from './undici-dispatch.js';
import { UpstreamLimiter, type SlotRejection } from './upstream-limiter.js';

/** What one forwarded request needs beyond the request itself. */
export interface ForwardTarget {
  readonly route: string;
  /** Normalised request path (no query) and the raw query with its `?`. */
  readonly path: string;
  readonly query: string;
  readonly stripPrefix: string;
  readonly trustForwarded: boolean;
  /**
   * Headers Switchyard adds to the answer, as a flat `[name, value, …]` list (the decision
   * headers), or none: given to the dispatch so they go out in the same head as the upstream's.
   */
  readonly responseHeaders?: readonly string[];
}

/** Who asked: the facts the forwarded headers are built from. */
export interface ClientFacts {
  readonly address: string;
  readonly tls: boolean;
}

/** A request as this upstream receives it: the exact target and the forwarded headers. */
export interface UpstreamRequest {
  readonly target: string;
  readonly headers: IncomingHttpHeaders;
}

/** One call that is not a proxied stream: a cache fill or a shadow call. */
export interface UpstreamCall extends UpstreamRequest {
  readonly method: string;
  readonly body?: Buffer | null;
  /** 1xx interim responses (103 Early Hints) as they arrive. */
  readonly onInterim?: (status: number, headers: IncomingHttpHeaders) => void;
  /** The route, for the span and logs; a call without one (shadow) gets no span of its own. */
  readonly route?: string;
  /** Aborts the call (and the body still streaming): the shadow's own deadline. */
  readonly signal?: AbortSignal;
}

/** Which dispatch moves a proxied request: http-proxy-middleware (embedded) or undici (the standalone handler). */
export type DispatchKind = 'middleware' | 'native';

export interface UpstreamClientOptions {
  /** Shared with a previous client of the same upstream (a reload), so in-flight requests still count. */
  readonly limiter?: UpstreamLimiter;
  /**
   * Shadow calls: no user slot is taken (a separate pool and an unbounded limiter), so mirrored
   * traffic can never turn a user away; header rules, timers and error mapping stay the same.
   */
  readonly unlimited?: boolean;
}

/**
 * One client per upstream, and the only way anything talks to it: the proxy (both dispatches),
 * the cache fill and the shadow. It owns the keep-alive pool, the limiter, the connect/response/
 * idle timers, the 502/503/504 mapping, the `switchyard legacy` span with its queue wait, and the
 * forwarded-header rules (prefix stripping, X-Forwarded-*, Host).
 */
export class UpstreamClient {
  readonly limiter: UpstreamLimiter;
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly basePath: string;
  private readonly transport: typeof http | typeof https;
  private native: NativeDispatch | undefined;
  private middlewareDispatch: Dispatch | undefined;
  /** The proxied request's span attributes: the same for every request (the span copies them). */
  private readonly spanAttributes: Readonly<Record<string, string>>;
  /** Requests this client (this pool) is serving; a retired client closes its pool when they are done. */
  private own = 0;
  private retired = false;

  constructor(
    readonly config: UpstreamConfig,
    private readonly logger: Logger,
    options: UpstreamClientOptions = {},
  ) {
    this.url = new URL(config.url);
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.transport = this.url.protocol === 'https:' ? https : http;
    // The limiter is the one bound on concurrency: the agent must never queue a request itself,
    // because its queue has no size limit and no timer. Idle pooled connections are closed before
    // the backend closes them (see idle-sockets.ts).
    const agentOptions = { keepAlive: config.keepAlive, maxSockets: Infinity, maxFreeSockets: options.unlimited === true ? 8 : config.maxInFlight, scheduling: 'lifo' as const, timeout: IDLE_SOCKET_MS };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.limiter = options.limiter ?? new UpstreamLimiter(options.unlimited === true ? { maxInFlight: Infinity, maxQueue: 0, queueTimeoutMs: config.queueTimeoutMs } : config);
    this.spanAttributes = { 'switchyard.upstream': config.name, 'server.address': config.url };
  }

  /** The request this upstream receives for a client's: prefix stripped, forwarded headers set, Host per `preserveHost`. */
  prepare(headers: IncomingHttpHeaders, target: ForwardTarget, client: ClientFacts): UpstreamRequest {
    const forwarded = forwardedRequestHeaders(headers, { clientIp: client.address, encrypted: client.tls, stripPrefix: target.stripPrefix, trustForwarded: target.trustForwarded });
    if (!this.config.preserveHost) forwarded.host = this.url.host;
    return { target: stripPathPrefix(target.path, target.query, target.stripPrefix), headers: forwarded };
  }

  /** Proxies `req` to the upstream and streams the answer to `res`; every failure is a problem+json. */
  forward(req: IncomingMessage, res: ServerResponse, target: ForwardTarget, via: DispatchKind = 'middleware'): void {
    // The span covers the wait for a slot and the call; the grant may come from another
    // request's release, so the call runs in this span's context explicitly.
    const { span, ctx } = startSideSpan('legacy', this.spanAttributes);
    let upstream: StartedCall | undefined;
    let problem: string | undefined;
    const added = target.responseHeaders ?? NO_LINES;
    const answer = (error: SwitchyardError): void => {
      problem = error.code;
      if (!res.headersSent) setResponseLines(res, added);
      sendProblem(res, error, { route: target.route, upstream: this.config.name });
    };
    const slot = this.slot(span, (release) => {
      if (res.destroyed || req.destroyed) return release();
      const prepared = this.prepare(req.headers, target, clientOf(req));
      // http-proxy-middleware copies the upstream's headers onto the response one by one: ours
      // go first (a same-named one from the upstream replaces it, as in the native dispatch).
      if (via === 'middleware') setResponseLines(res, added);
      const exchange: Exchange = {
        path: this.basePath + prepared.target,
        headers: prepared.headers,
        responseHeaders: via === 'middleware' ? NO_LINES : added,
        started: (call) => {
          upstream = call;
        },
        fail: (error) => answer(this.failure(error, target.route, 'proxy to')),
      };
      const dispatch = via === 'native' ? (this.native ??= createUndiciDispatch(this.url, this.config)).dispatch : (this.middlewareDispatch ??= createMiddlewareDispatch(this.config, this.agent));
      runInContext(ctx, () => dispatch(req, res, exchange));
    }, answer);
    // One listener frees the slot when the exchange ends, or leaves the queue if still waiting
    // ('close' fires once per response: `on` spares the wrapper `once` allocates).
    res.on('close', () => {
      // A client that went away must not leave its request running at the backend.
      if (!res.writableFinished) upstream?.destroy();
      slot();
      const status = res.statusCode;
      span.setAttribute('http.response.status_code', status);
      // Our own failures carry their problem code (what alerts match on); a 5xx the backend
      // answered itself is still an error, but there is no Switchyard problem to name.
      if (problem !== undefined) endSpan(span, { code: problem, message: `answered ${status} ${problem}` });
      else endSpan(span, status >= 500 ? { message: `upstream answered ${status}` } : undefined);
    });
  }

  /**
   * One call through the same pool, limiter, timers and error mapping as proxied requests,
   * resolving with the response once its headers are in (the body still streaming). Failures
   * reject with the errors the proxy answers (502/503/504). The slot is held until the body ends.
   */
  request(call: UpstreamCall): Promise<IncomingMessage> {
    const { span, ctx } = call.route === undefined ? { span: null, ctx: null } : startSideSpan('legacy', { 'switchyard.upstream': this.config.name, 'server.address': this.config.url, 'switchyard.call': 'cache_fill' });
    return new Promise((resolve, reject) => {
      // The span ends once: at the end of the body, or at the failure (before or during it).
      let ended = span === null;
      const end = (failure?: { code?: string; message: string }): void => {
        if (ended || span === null) return;
        ended = true;
        endSpan(span, failure);
      };
      const failed = (error: SwitchyardError): void => {
        end({ code: error.code, message: `failed: ${error.code}` });
        reject(error);
      };
      this.slot(span, (release) => {
        const send = (retry: boolean): void => {
          const outgoing = this.transport.request({ agent: this.agent, hostname: this.url.hostname.replace(/^\[|\]$/g, ''), port: this.url.port, method: call.method, path: this.basePath + call.target, headers: call.headers as OutgoingHttpHeaders, setHost: false, ...(call.signal === undefined ? {} : { signal: call.signal }) });
          armTimers(outgoing, this.config);
          if (call.onInterim !== undefined) outgoing.on('information', (info) => call.onInterim?.(info.statusCode, info.headers));
          let responded = false;
          outgoing.once('response', (response) => {
            responded = true;
            removeHopByHop(response.headers);
            const done = (): void => {
              release();
              if (!ended) span?.setAttribute('http.response.status_code', response.statusCode ?? 0);
              end((response.statusCode ?? 0) >= 500 ? { message: `upstream answered ${response.statusCode}` } : undefined);
            };
            response.once('end', done);
            response.once('close', done);
            resolve(response);
          });
          outgoing.once('error', (error) => {
            // Once, on a fresh connection: the backend closed the pooled one as this call arrived.
            if (retry && !responded && isStaleReuse(outgoing, error, (call.body?.length ?? 0) > 0)) return send(false);
            release();
            // Shadow calls (no route) are judged by the shadow mirror, not logged here.
            failed(call.route === undefined ? toUpstreamFailure(this.config.name, error) : this.failure(error, call.route, 'cache fill from'));
          });
          outgoing.end(call.body ?? undefined);
        };
        if (ctx === null) send(true);
        else runInContext(ctx, () => send(true));
      }, failed);
    });
  }

  /** Stop using this upstream: close its pooled sockets once nothing is in flight. */
  retire(): void {
    this.retired = true;
    this.closePoolIfRetired();
  }

  /**
   * Waits for a slot (recording the wait on the span), then runs `granted` with an idempotent
   * release; a rejection is answered 503. Returns what frees the slot or leaves the queue.
   */
  private slot(span: ReturnType<typeof startSideSpan>['span'] | null, granted: (release: () => void) => void, rejected: (error: SwitchyardError) => void): () => void {
    // The wait is only read by a recording span (with no SDK, none is): no clock reads otherwise.
    const queuedAt = span?.isRecording() === true ? performance.now() : null;
    let release: (() => void) | undefined;
    const cancel = this.limiter.acquire(
      (free) => {
        this.own++;
        let done = false;
        release = () => {
          if (done) return;
          done = true;
          free();
          this.own--;
          this.closePoolIfRetired();
        };
        if (queuedAt !== null) span?.setAttribute('switchyard.queue.wait_ms', Math.round(performance.now() - queuedAt));
        granted(release);
      },
      (why) => rejected(this.overloaded(why)),
    );
    return () => (release ?? cancel)();
  }

  private overloaded(why: SlotRejection): UpstreamOverloadedError {
    const c = this.config;
    const detail = why === 'queue_full' ? `${c.maxInFlight} requests in flight and ${c.maxQueue} queued` : `no free slot within ${c.queueTimeoutMs} ms`;
    return new UpstreamOverloadedError(c.name, detail, c.retryAfterSeconds);
  }

  private failure(error: unknown, route: string, what: string): SwitchyardError {
    const failure = toUpstreamFailure(this.config.name, error);
    this.logger.warn(`${what} upstream \`${this.config.name}\` failed`, { route, code: failure.code, cause: error instanceof Error ? error.message : String(error) });
    return failure;
  }

  private closePoolIfRetired(): void {
    if (this.retired && this.own === 0) {
      this.agent.destroy();
      void this.native?.close();
    }
  }
}

/** No headers to add: a flat `[name, value, …]` list that is empty. */
export const NO_LINES: readonly string[] = [];

/** Sets a flat `[name, value, …]` list of headers on a response not yet started. */
export function setResponseLines(res: ServerResponse, lines: readonly string[]): void {
  for (let i = 0; i + 1 < lines.length; i += 2) res.setHeader(lines[i]!, lines[i + 1]!);
}

/** The client's address and whether it came over TLS, from its socket. */
export function clientOf(req: IncomingMessage): ClientFacts {
  const socket = req.socket;
  return { address: socket.remoteAddress ?? '', tls: 'encrypted' in socket && socket.encrypted === true };
}
