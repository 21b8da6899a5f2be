import { context, isSpanContextValid, metrics, propagation, trace, SpanKind, SpanStatusCode, type Attributes, type BatchObservableResult, type Context, type Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { Side } from '../config/types.js';
import type { RequestObserver } from '../pipeline/routed-request.js';
import type { RoutingDecision } from '../routing/routing-decision.js';

/**
 * Everything Switchyard says to OpenTelemetry, through the API only (a no-op until an SDK is
 * started), so the routing code stays free of SDK imports and costs nothing when telemetry is off.
 */
const tracer = trace.getTracer('switchyard');
const meter = metrics.getMeter('switchyard');

const requestDuration = meter.createHistogram('switchyard.request.duration', {
  description: 'Duration of routed requests, by route and serving side',
  unit: 's',
});
const decisions = meter.createCounter('switchyard.decisions', { description: 'Routing decisions, by route, side and reason' });

export interface RequestAnnotation {
  readonly route: string;
  readonly pattern: string;
  readonly decision: RoutingDecision;
  readonly flagSource: string;
  readonly flagVersion: string;
}

/**
 * Names the server span after the route pattern (`http.route`) and records the decision on it.
 */
export function annotateRequest(a: RequestAnnotation): void {
  // The active span may be Express's middleware span; the HTTP server span sits in the RPC metadata.
  const rpc = getRPCMetadata(context.active());
  const span = rpc?.span ?? trace.getActiveSpan();
  if (span?.isRecording() === true) {
    if (rpc?.type === RPCType.HTTP) rpc.route = a.pattern;
    span.setAttributes(decisionAttributes(a));
  }
  decisions.add(1, { 'switchyard.route': a.route, 'switchyard.decision': a.decision.side, 'switchyard.reason': a.decision.reason });
}

/** Decision attributes on the request's span, the decision counter and the duration histogram. */
export function telemetryObserver(): RequestObserver {
  return {
    name: 'telemetry',
    onRouted: (r) => annotateRequest({ route: r.route.name, pattern: r.route.path, decision: r.decision, flagSource: r.flagSource, flagVersion: r.config.version }),
    onResponse: (r, outcome) => requestDuration.record(outcome.durationMs / 1000, { 'switchyard.route': r.route.name, 'switchyard.decision': outcome.side, 'http.route': r.route.path }),
  };
}

/**
 * Names the server span after the route pattern again: a request decided before Express (see
 * `Switch.front`) then passes through Express, whose instrumentation overwrites the route with
 * each layer it enters — `undefined` for Switchyard's own mounts.
 */
export function reassertRoute(pattern: string): void {
  const rpc = getRPCMetadata(context.active());
  if (rpc?.type === RPCType.HTTP && rpc.span.isRecording()) rpc.route = pattern;
}

export function decisionAttributes(a: RequestAnnotation): Attributes {
  const attributes: Attributes = {
    'http.route': a.pattern,
    'switchyard.route': a.route,
    'switchyard.decision': a.decision.side,
    'switchyard.reason': a.decision.reason,
    'switchyard.flag.source': a.flagSource,
    'switchyard.flag.version': a.flagVersion,
  };
  if (a.decision.bucket !== undefined) attributes['switchyard.rollout.bucket'] = a.decision.bucket;
  if (a.decision.percentage !== undefined) attributes['switchyard.rollout.percentage'] = a.decision.percentage;
  return attributes;
}

/**
 * A child span around one side's work (the new handler, or the legacy call including its wait
 * for a slot). Returns the span's context so work that resumes later — a queued request granted
 * from another request's callback — still lands in this trace, not the releaser's.
 */
export function startSideSpan(side: Side, attributes: Attributes): { span: Span; ctx: Context } {
  return withSpan(tracer.startSpan(side === 'new' ? 'switchyard new handler' : 'switchyard legacy', { kind: SpanKind.INTERNAL, attributes }));
}

/**
 * The span and the context to run its work in. Without a tracer (no SDK started) the span is a
 * no-op with no trace to continue, and the active context already says as much: no new context
 * is allocated on the hot path.
 */
function withSpan(span: Span): { span: Span; ctx: Context } {
  const active = context.active();
  if (!span.isRecording() && !isSpanContextValid(span.spanContext())) return { span, ctx: active };
  return { span, ctx: trace.setSpan(active, span) };
}

/** Ends a side span; a failure marks it as an error, with `switchyard.error.code` when Switchyard raised a problem. */
export function endSpan(span: Span, failure?: { code?: string; message: string }): void {
  if (failure !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message });
    if (failure.code !== undefined) span.setAttribute('switchyard.error.code', failure.code);
  }
  span.end();
}

export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

const upstreamInFlight = meter.createObservableGauge('switchyard.upstream.in_flight', { description: 'Requests in flight to a legacy upstream' });
const upstreamQueued = meter.createObservableGauge('switchyard.upstream.queued', { description: 'Requests waiting for a slot at a legacy upstream' });

/** Observes each upstream's in-flight and queued requests; returns the unsubscribe function. */
export function observeUpstreams(read: () => Iterable<{ name: string; inFlight: number; queued: number }>): () => void {
  const callback = (result: BatchObservableResult): void => {
    for (const u of read()) {
      result.observe(upstreamInFlight, u.inFlight, { 'switchyard.upstream': u.name });
      result.observe(upstreamQueued, u.queued, { 'switchyard.upstream': u.name });
    }
  };
  meter.addBatchObservableCallback(callback, [upstreamInFlight, upstreamQueued]);
  return () => meter.removeBatchObservableCallback(callback, [upstreamInFlight, upstreamQueued]);
}

const shadowCompared = meter.createCounter('switchyard.shadow.compared', { description: 'Shadowed requests compared, by route and outcome (matched/mismatched)' });
const shadowSkipped = meter.createCounter('switchyard.shadow.skipped', { description: 'Requests not shadowed, by route and reason' });

export function countShadowComparison(route: string, matched: boolean): void {
  shadowCompared.add(1, { 'switchyard.route': route, 'switchyard.shadow.outcome': matched ? 'matched' : 'mismatched' });
}

export function countShadowSkip(route: string, reason: string): void {
  shadowSkipped.add(1, { 'switchyard.route': route, 'switchyard.shadow.skip_reason': reason });
}

/** The trace id of the request being served, for samples that point back to it. */
export function currentTraceId(): string | undefined {
  const span = getRPCMetadata(context.active())?.span ?? trace.getActiveSpan();
  const id = span?.spanContext().traceId;
  return id === undefined || /^0+$/.test(id) ? undefined : id;
}

/**
 * The shadow call and its comparison: a span of its own trace position under the request, ended
 * when the comparison is done (long after the client got its answer), linked to the request span.
 */
export function startShadowSpan(route: string, shadowSide: Side): { span: Span; ctx: Context } {
  const requestSpan = getRPCMetadata(context.active())?.span ?? trace.getActiveSpan();
  const span = tracer.startSpan('switchyard shadow', {
    kind: SpanKind.INTERNAL,
    attributes: { 'switchyard.route': route, 'switchyard.shadow.side': shadowSide },
    links: requestSpan ? [{ context: requestSpan.spanContext() }] : [],
  });
  // Shadow calls run in this span's context: their client spans and traceparent are its own.
  return { span, ctx: trace.setSpan(context.active(), span) };
}

const cacheRequests = meter.createCounter('switchyard.cache.requests', { description: 'Legacy responses by cache outcome (hit/miss/stale/revalidated/bypass), by route' });

/**
 * Counts a cache outcome and records it on the spans in force: the cache decides inside the
 * context of its `switchyard cache` span, before the response is written (and the server span
 * ends), so this is the moment both spans can still take the attribute.
 */
export function countCacheOutcome(route: string, status: string): void {
  const result = status.toLowerCase();
  cacheRequests.add(1, { 'switchyard.route': route, 'switchyard.cache.result': result });
  trace.getActiveSpan()?.setAttribute('switchyard.cache.result', result);
  getRPCMetadata(context.active())?.span?.setAttribute('switchyard.cache.result', result);
}

/** The cache lookup (and the fill it may cause) as a child span; the result is read at the end. */
export function startCacheSpan(route: string): { span: Span; ctx: Context } {
  return withSpan(tracer.startSpan('switchyard cache', { kind: SpanKind.INTERNAL, attributes: { 'switchyard.route': route } }));
}

export function endCacheSpan(span: Span): void {
  span.end();
}

/**
 * The headers the registered propagator writes (traceparent, tracestate, baggage with the SDK
 * running; none without it). An instrumentation that appends its own (undici's) needs a client's
 * copies removed first, or the backend would read the client's trace context, not this hop's.
 */
export function propagatedHeaderNames(): readonly string[] {
  return propagation.fields();
}
