import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ADMIN_PREFIX } from '../routing/admin-prefix.js';
import type { HttpCache } from '../cache/http-cache.js';
import { SHADOW_HEADER } from '../shadow/shadow-mirror.js';
import type { RequestObservers } from '../pipeline/observers.js';
import type { RoutedRequest } from '../pipeline/routed-request.js';
import { frozenHeaders } from '../pipeline/frozen-headers.js';
import type { CacheSettings, FlagsConfig, ProxiedSide, RouteCacheConfig } from '../config/types.js';
import { sendProblem } from '../errors/problem.js';
import { BadRequestError, SwitchyardError } from '../errors/switchyard-error.js';
import type { FlagEngine } from '../flags/flag-engine.js';
import type { Logger } from '../logging/logger.js';
import { NO_LINES, setResponseLines, type DispatchKind, type UpstreamClient } from '../proxy/upstream-client.js';
import { normalizeRequestPath, parseAbsoluteForm, splitUrl } from '../routing/request-path.js';
import type { RouteTable } from '../routing/route-table.js';
import { consultsFlags } from '../routing/flag-precedence.js';
import { decideRoute, type RoutingDecision } from '../routing/routing-decision.js';
import { stickinessValue } from '../routing/stickiness.js';
import { OVERRIDE_TOKEN_HEADER } from '../routing/tester-override.js';
import { rateLimitedError, retryAfterHeader, type CredentialAttempts } from '../admin/auth-attempts.js';
import { readGuardedOverride } from './override-guard.js';
import { reassertRoute, endCacheSpan, endSpan, runInContext, startCacheSpan, startSideSpan } from '../telemetry/routing-telemetry.js';
import type { RoutingStats } from './routing-stats.js';

/** A new-side handler: plain Express. It may be async; a rejection becomes a 500 problem. */
export type NewHandler = (req: Request, res: Response, next: NextFunction) => unknown;

/** One configuration in force: swapped whole on reload, captured whole by each request. */
export interface RuntimeSnapshot {
  readonly config: FlagsConfig;
  readonly table: RouteTable;
  readonly proxies: ReadonlyMap<string, UpstreamClient>;
}

export interface SwitchContext {
  current(): RuntimeSnapshot;
  killSwitch(): boolean;
  readonly overrideToken: Buffer | null;
  /** Wrong override tokens per client: the brute-force brake (see override-guard.ts). */
  readonly credentialAttempts: CredentialAttempts;
  readonly handlers: ReadonlyMap<string, NewHandler>;
  readonly stats: RoutingStats;
  /** Everything that watches routed requests (registered in the composition root). */
  readonly observers: RequestObservers;
  /** A fresh random stickiness value for requests that carry none (non-sticky by nature). */
  readonly randomId: () => string;
  readonly logger: Logger;
  /** The response cache for legacy routes with a `cache` block. */
  readonly cache?: HttpCache;
  /** Runtime overrides (admin API) and Unleash, between the tester override and the flags/ mode. */
  readonly flags?: Pick<FlagEngine, 'inputsFor' | 'sourceOf'>;
}

/** What later layers (shadow, cache, telemetry) read about the request: `res.locals.switchyard`. */
export interface RequestRouting {
  readonly route: string;
  readonly decision: RoutingDecision;
  readonly flagVersion: string;
}

export const BACKEND_HEADER = 'x-switchyard-backend';
export const ROUTE_HEADER = 'x-switchyard-route';

/** What routing did with a request: finished it (proxied, cached or refused), or left it to Express. */
type Routed =
  | { readonly kind: 'done' }
  | { readonly kind: 'unrouted' }
  | { readonly kind: 'handler'; readonly name: string; readonly route: string; readonly pattern: string; readonly params: Record<string, string> };

const DONE: Routed = { kind: 'done' };
const UNROUTED: Routed = { kind: 'unrouted' };

/** The switch, in two forms that share one routing step and one set of counters. */
export interface Switch {
  /** Express middleware: routes what the table claims; the rest goes to `next()`. */
  readonly middleware: RequestHandler;
  /**
   * A plain Node request listener in front of `app` (an Express app whose stack includes
   * `middleware`): requests for the legacy side (proxied or cached) never enter Express, whose
   * per-request cost is about a quarter of a proxied request's; new handlers, the admin API and
   * unrouted requests go on to `app`, which does not route them again.
   */
  front(app: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void;
}

/** Case-insensitive like Express's mount matching, and a prefix match: a superset that costs nothing. */
function mayBeAdmin(url: string): boolean {
  return url.length >= ADMIN_PREFIX.length && url.slice(0, ADMIN_PREFIX.length).toLowerCase() === ADMIN_PREFIX;
}

/**
 * The hot path: normalise the path, match the most specific route, decide, and hand the request
 * to the legacy proxy or the new side. Requests no route claims go to `next()`, so an embedding
 * app keeps its own routes.
 */
export function createSwitch(ctx: SwitchContext): Switch {
  // Decided in front of Express, finished inside it (a new handler needs Express's req/res).
  const handedOver = new WeakMap<IncomingMessage, Routed>();
  const fronted = new WeakSet<IncomingMessage>();

  const finish = (routed: Routed, req: Request, res: Response, next: NextFunction): void => {
    if (routed.kind === 'unrouted') return next();
    if (routed.kind === 'handler') {
      req.params = routed.params;
      runHandler(ctx, routed.name, routed.route, req, res, next);
    }
  };

  const middleware: RequestHandler = function switchyardRouter(req, res, next) {
    const handed = handedOver.get(req);
    if (handed !== undefined) {
      handedOver.delete(req);
      if (handed.kind === 'handler') reassertRoute(handed.pattern);
      return finish(handed, req, res, next);
    }
    // Requests the standalone handler passed on (absolute-form targets) keep its dispatch.
    finish(routeRequest(ctx, req, res, fronted.has(req) ? 'native' : 'middleware'), req, res, next);
  };

  return {
    middleware,
    front: (app) => (req, res) => {
      const url = req.url ?? '/';
      // Absolute-form targets (`GET http://host/path`) and the admin API are Express's to parse.
      if (url.startsWith('/') && !mayBeAdmin(url)) {
        let routed: Routed;
        try {
          routed = routeRequest(ctx, req, res, 'native');
        } catch (error) {
          // Outside Express nothing would catch it: a throw here would take the process down.
          return answerInternalError(ctx.logger, res, error);
        }
        if (routed.kind === 'done') return;
        handedOver.set(req, routed);
      } else fronted.add(req);
      app(req, res);
    },
  };
}

/** A bug, not an upstream failure: logged with its stack, answered 500 problem+json without it. */
export function answerInternalError(logger: Logger, res: ServerResponse, error: unknown): void {
  logger.error('request failed inside Switchyard', { error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  sendProblem(res, new SwitchyardError('SWITCHYARD_INTERNAL', 'Switchyard failed to handle the request', { status: 500, cause: error }));
}

/**
 * RFC 9112 §3.2.2: a server must accept an absolute-form target; its authority replaces the Host
 * header. Rewritten to origin-form once, here, so routing, the cache key and legacy all see the
 * same path and host (the Host a client sent beside it is ignored, as the RFC says).
 */
function useOriginForm(req: IncomingMessage): void {
  const url = req.url;
  if (url === undefined || url.startsWith('/')) return;
  const absolute = parseAbsoluteForm(url);
  if (absolute === null) return;
  req.url = absolute.originForm;
  req.headers.host = absolute.host;
}

function routeRequest(ctx: SwitchContext, req: IncomingMessage, res: ServerResponse, via: DispatchKind): Routed {
  const startedAt = performance.now();
  const snapshot = ctx.current();
  useOriginForm(req);
  const { path: rawPath, query } = splitUrl(req.url ?? '/');
  const normalized = normalizeRequestPath(rawPath);
  if (!normalized.ok) {
    sendProblem(res, new BadRequestError('SWITCHYARD_BAD_PATH', normalized.reason));
    return DONE;
  }
  const method = req.method ?? 'GET';
  const match = snapshot.table.match(method, normalized.path);
  if (match.kind === 'none') return UNROUTED;
  if (match.kind === 'method-not-allowed') {
    const error = new SwitchyardError('SWITCHYARD_METHOD_NOT_ALLOWED', `${method} is not routed for this path`, { status: 405 });
    sendProblem(res, error, {}, { allow: match.allowed.join(', ') });
    return DONE;
  }
  const route = match.route.config;
  // Only Switchyard's own mirrored requests may carry the shadow marker: a client's copy would let
  // it pass as shadow traffic, which backends may treat as free of side effects.
  // (Looked up first: `delete` is a runtime call even for a header that is not there, which is nearly always.)
  const headers = req.headers;
  if (headers[SHADOW_HEADER] !== undefined) delete headers[SHADOW_HEADER];
  const override = readGuardedOverride(req, ctx.overrideToken, ctx.credentialAttempts);
  // Read once, then gone: neither side (nor a new handler's logging) needs the secret.
  if (headers[OVERRIDE_TOKEN_HEADER] !== undefined) delete headers[OVERRIDE_TOKEN_HEADER];
  ctx.stats.countOverride(override);
  if (override.kind === 'rate_limited') {
    sendProblem(res, rateLimitedError(), { route: route.name }, retryAfterHeader(override.retryAfterMs));
    return DONE;
  }
  if (override.kind === 'malformed') {
    sendProblem(res, new BadRequestError('SWITCHYARD_BAD_OVERRIDE', override.reason), { route: route.name });
    return DONE;
  }

  const settings = snapshot.config.settings;
  // One stickiness value per request, shared by the rollout and the shadow sampling.
  let sticky: string | undefined;
  const requestStickiness = (): string => (sticky ??= stickinessValue(req.headers, route.rollout.stickiness.length > 0 ? route.rollout.stickiness : settings.stickiness, ctx.randomId));
  // Legacy mounts (one side) and pinned routes never reach the runtime or Unleash layers: their
  // inputs (a request-facts object, a thunk) are not built for them.
  const flagInputs = consultsFlags(route) ? ctx.flags?.inputsFor(route, { headers: req.headers, method, path: normalized.path, socketAddress: req.socket.remoteAddress }, settings) : undefined;
  const decision = decideRoute({
    route,
    killSwitch: ctx.killSwitch(),
    override: override.kind === 'applied' ? override.side : null,
    stickinessValue: requestStickiness,
    ...flagInputs,
  });
  const routing: RequestRouting = { route: route.name, decision, flagVersion: snapshot.config.version };
  setLocals(res, routing);
  const decisionHeaders = settings.exposeDecisionHeaders ? [BACKEND_HEADER, decision.side, ROUTE_HEADER, route.name] : NO_LINES;
  const routed: RoutedRequest = Object.freeze({
    config: snapshot.config,
    route,
    decision,
    flagSource: ctx.flags?.sourceOf(decision) ?? 'file',
    method,
    path: normalized.path,
    query,
    params: match.params,
    headers: frozenHeaders(req.headers),
    clientAddress: req.socket.remoteAddress ?? '',
    tls: 'encrypted' in req.socket && req.socket.encrypted === true,
    stickinessValue: requestStickiness,
    startedAt,
  });
  // Stats, telemetry, the shadow mirror, outcomes: before dispatch, so they see the whole exchange.
  ctx.observers.routed(routed, req, res);

  const side = decision.side === 'legacy' ? route.legacy : route.new;
  const upstreamSide = side !== null && !('handler' in side);
  const cache = upstreamSide && decision.side === 'legacy' && route.cache !== undefined && ctx.cache !== undefined ? { layer: ctx.cache, config: route.cache, settings: settings.cache } : null;
  // A plainly proxied request takes the decision headers into the response head the upstream
  // client writes (Node's fast path: one header list, nothing set on the response before); every
  // other answer — a new handler's, the cache's, a problem — gets them set here, up front.
  const proxied = upstreamSide && cache === null;
  if (!proxied) setResponseLines(res, decisionHeaders);
  if (side === null) {
    // decideRoute only picks a side that exists; this guards the invariant rather than trusting it.
    sendProblem(res, new SwitchyardError('SWITCHYARD_NO_SIDE', `route has no ${decision.side} side`), { route: route.name });
    return DONE;
  }
  if ('handler' in side) return { kind: 'handler', name: side.handler, route: route.name, pattern: route.path, params: match.params };
  forwardTo(snapshot, side, { req, res, route: route.name, path: normalized.path, query, trustForwarded: settings.trustForwardedHeaders, cache, via, responseHeaders: proxied ? decisionHeaders : NO_LINES });
  return DONE;
}

/** `res.locals.switchyard` for the embedding app (Express keeps a `locals` it finds already set). */
function setLocals(res: ServerResponse, routing: RequestRouting): void {
  const r = res as ServerResponse & { locals?: Record<string, unknown> };
  r.locals ??= Object.create(null) as Record<string, unknown>;
  r.locals['switchyard'] = routing;
}

function forwardTo(
  snapshot: RuntimeSnapshot,
  side: ProxiedSide,
  r: { req: IncomingMessage; res: ServerResponse; route: string; path: string; query: string; trustForwarded: boolean; cache: { layer: HttpCache; config: RouteCacheConfig; settings: CacheSettings } | null; via: DispatchKind; responseHeaders: readonly string[] },
): void {
  const proxy = snapshot.proxies.get(side.upstream);
  if (proxy === undefined) {
    setResponseLines(r.res, r.responseHeaders);
    return sendProblem(r.res, new SwitchyardError('SWITCHYARD_NO_UPSTREAM', `upstream \`${side.upstream}\` is not configured`), { route: r.route });
  }
  const target = { route: r.route, path: r.path, query: r.query, stripPrefix: side.stripPrefix, trustForwarded: r.trustForwarded, responseHeaders: r.responseHeaders };
  if (r.cache !== null) {
    const { layer, config, settings } = r.cache;
    const started = startCacheSpan(r.route);
    // Without a recording span (no SDK, or sampled out) ending it does nothing: no listener for it.
    if (started.span.isRecording()) r.res.once('close', () => endCacheSpan(started.span));
    const routeOf = (rawPath: string): { route: string; path: string } | null => cachedRouteFor(snapshot, rawPath);
    return runInContext(started.ctx, () => layer.handle({ req: r.req, res: r.res, route: r.route, cache: config, settings, upstream: proxy, target, routeOf, via: r.via }));
  }
  proxy.forward(r.req, r.res, target, r.via);
}

/** The legacy route with a cache that serves GET `rawPath` in this snapshot (for Location invalidation). */
function cachedRouteFor(snapshot: RuntimeSnapshot, rawPath: string): { route: string; path: string } | null {
  const normalized = normalizeRequestPath(rawPath);
  if (!normalized.ok) return null;
  const match = snapshot.table.match('GET', normalized.path);
  if (match.kind !== 'matched' || match.route.config.cache === undefined) return null;
  return { route: match.route.config.name, path: normalized.path };
}

function runHandler(ctx: SwitchContext, name: string, routeName: string, req: Request, res: Response, next: NextFunction): void {
  const handler = ctx.handlers.get(name);
  const { span, ctx: spanContext } = startSideSpan('new', { 'switchyard.handler': name });
  let failure: { code: string; message: string } | undefined;
  res.once('close', () => endSpan(span, failure));
  const failed = (error: unknown): void => {
    failure = { code: 'SWITCHYARD_HANDLER_FAILED', message: error instanceof Error ? error.message : String(error) };
    ctx.logger.error(`new handler \`${name}\` failed`, { route: routeName, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    sendProblem(res, new SwitchyardError('SWITCHYARD_HANDLER_FAILED', `new handler \`${name}\` failed`, { status: 500 }), { route: routeName });
  };
  if (handler === undefined) return failed(new Error('handler is not registered'));
  // `next()` from a handler means "not mine": the embedding app (or the 404) takes over.
  const handlerNext: NextFunction = (error?: unknown) => (error === undefined || error === 'route' || error === 'router' ? next() : failed(error));
  runInContext(spanContext, () => {
    try {
      const result = handler(req, res, handlerNext);
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  });
}
