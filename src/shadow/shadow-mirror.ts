import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { RouteShadowConfig, ShadowSettings, Side } from '../config/types.js';
import type { ResponseTap } from '../pipeline/response-tap.js';
import type { RequestObserver, RoutedExchange, RoutedRequest } from '../pipeline/routed-request.js';
import { inRollout, rolloutBucket } from '../flags/bucketing.js';
import type { Logger } from '../logging/logger.js';
import { OVERRIDE_TOKEN_HEADER } from '../routing/tester-override.js';
import { countShadowComparison, countShadowSkip, currentTraceId, runInContext, startShadowSpan } from '../telemetry/routing-telemetry.js';
import { CircuitBreaker } from './circuit-breaker.js';
import { compareResponses, type ComparableResponse, type ShadowComparison, type ShadowRules } from './response-diff.js';
import { flattenHeaders, ShadowTimeoutError } from './side-caller.js';
import type { CapturedExchange, ShadowResultStore, ShadowSample, SkipReason } from './shadow-store.js';

export const SHADOW_HEADER = 'x-switchyard-shadow';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
// Credentials, Switchyard's override token among them (removed at routing; redacted should a copy
// ever get here). The force header itself is no secret and says why a side served.
const ALWAYS_REDACTED = ['authorization', 'cookie', 'set-cookie', 'proxy-authorization', OVERRIDE_TOKEN_HEADER];
const SAMPLE_BODY_BYTES = 4096;


/** A call to one side of a route outside the user's request (shadow or noise). */
export interface SideTargets {
  /** Calls `side` for the routed request, by the configuration it was routed under. */
  call(side: Side, routed: RoutedRequest, request: { headers: IncomingHttpHeaders; body: Buffer | null }, limits: { timeoutMs: number; maxCompareBytes: number }): Promise<ComparableResponse>;
}

export interface ShadowMirrorDeps {
  readonly store: ShadowResultStore;
  readonly targets: SideTargets;
  readonly now: () => number;
  /** [0, 1): draws which shadowed requests also measure noise. */
  readonly random: () => number;
  /** Recent event-loop utilization in [0, 1] (see loop-utilization.ts); injectable for tests. */
  readonly loopUtilization: () => number;
  readonly logger: Logger;
  /** Told of every comparison (the outcome recorder's windowed mismatch rate). */
  readonly onCompared?: (route: string, matched: boolean) => void;
  /** The rules a comparison uses: the route's `shadow` block plus ignore rules approved at runtime. */
  readonly rules?: (route: string, shadow: RouteShadowConfig) => ShadowRules;
}

/**
 * Mirrors a routed request to the side that did not serve it and diffs the two responses —
 * entirely off the client's path: the client's response is streamed as usual and only observed
 * (its bytes are copied up to the compare limit); the shadow call starts in the background and
 * is bounded by sampling, method safety, body size, concurrency caps, a timeout and a breaker.
 * Every request that could have been mirrored and was not is counted by reason.
 */
/** Statuses a gateway answers when legacy cannot: Switchyard's own 502/503/504, or gunicorn behind a proxy. */
const GATEWAY_ERRORS: ReadonlySet<number> = new Set([502, 503, 504]);

export class ShadowMirror {
  private active = 0;
  private readonly perRoute = new Map<string, number>();
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(private readonly deps: ShadowMirrorDeps) {}

  /** The mirror as a request observer: it begins on every routed request of a route with a `shadow` block. */
  observer(): RequestObserver {
    return { name: 'shadow', onRouted: (routed, exchange) => this.begin(routed, exchange) };
  }

  /**
   * Everything comes from `s` — the route, the decision and the settings of the snapshot the
   * request was routed under — never from the configuration in force by the time the shadow runs.
   */
  begin(s: RoutedRequest, exchange: RoutedExchange): void {
    const shadow = s.route.shadow;
    if (shadow === undefined || s.route.legacy === null || s.route.new === null) return;
    // Not destructured above: `tap` builds a response tap, which routes without a shadow must not pay for.
    const { req, res } = exchange;
    const name = s.route.name;
    // The kill switch takes the new side out of play entirely, shadow traffic included: it is
    // pulled when the new side misbehaves, and mirrored requests would keep reaching it. Counted,
    // so an operator can tell "not mirrored because of the kill switch" from "no traffic".
    if (s.decision.reason === 'kill_switch') return this.skip(name, 'kill_switch');
    const settings = s.config.settings.shadow;
    const bucket = rolloutBucket(`shadow:${s.route.rollout.groupId}`, s.stickinessValue());
    if (!inRollout(bucket, shadow.percentage)) return this.skip(name, 'sampled_out');
    const method = req.method ?? 'GET';
    const safe = SAFE_METHODS.has(method);
    if (!safe && !shadow.allowUnsafeMethods) return this.skip(name, 'unsafe_method');
    if (Number(req.headers['content-length'] ?? 0) > shadow.maxBodyBytes) return this.skip(name, 'body_too_large');
    if (this.active >= settings.maxConcurrent || (this.perRoute.get(name) ?? 0) >= shadow.maxConcurrent) return this.skip(name, 'overloaded');
    if (settings.maxEventLoopUtilization < 1 && this.deps.loopUtilization() > settings.maxEventLoopUtilization) return this.skip(name, 'overloaded');
    const breaker = this.breaker(name, settings);
    if (!breaker.allow()) return this.skip(name, 'breaker_open');

    this.reserve(name, 1);
    const primarySide = s.decision.side;
    const shadowSide: Side = primarySide === 'legacy' ? 'new' : 'legacy';
    const measureNoise = safe && this.deps.random() * 100 < shadow.noisePercentage;
    const headers = { ...s.headers };
    const primary = observeResponse(res, exchange.tap, settings.maxCompareBytes);
    const body = observeRequestBody(req, res, shadow.maxBodyBytes);
    const traceId = currentTraceId();
    const { span, ctx } = startShadowSpan(name, shadowSide);

    const run = async (): Promise<void> => {
      const requestBody = await body;
      if (requestBody === 'too_large' || requestBody === 'incomplete') {
        this.skip(name, requestBody === 'too_large' ? 'body_too_large' : 'error');
        span.setAttribute('switchyard.shadow.outcome', 'skipped');
        return;
      }
      const call = (side: Side) =>
        this.deps.targets.call(side, s, { headers: { ...headers, [SHADOW_HEADER]: '1' }, body: requestBody }, { timeoutMs: shadow.timeoutMs, maxCompareBytes: settings.maxCompareBytes });
      const [served, candidate, second] = await Promise.allSettled([primary, call(shadowSide), measureNoise ? call(primarySide) : Promise.resolve(null)]);
      if (candidate.status === 'rejected') {
        breaker.failure();
        const reason: SkipReason = candidate.reason instanceof ShadowTimeoutError ? 'timeout' : 'error';
        this.deps.logger.debug(`shadow call for route \`${name}\` failed`, { reason, cause: String(candidate.reason) });
        this.skip(name, reason);
        span.setAttribute('switchyard.shadow.outcome', reason);
        return;
      }
      breaker.success();
      // The client went away before its response finished: nothing sound to compare.
      if (served.status === 'rejected') return;
      // Legacy down (a gateway error) is no baseline: counting it as a content mismatch would
      // blame the new handler for legacy's outage (and roll an autopilot run back for it).
      const legacyAnswer = primarySide === 'legacy' ? served.value : candidate.value;
      if (GATEWAY_ERRORS.has(legacyAnswer.status)) {
        this.skip(name, 'legacy_unavailable');
        span.setAttribute('switchyard.shadow.outcome', 'legacy_unavailable');
        return;
      }
      // Read when the comparison runs: an ignore rule approved a moment ago applies to it.
      const rules = this.deps.rules?.(name, shadow) ?? shadow;
      const comparison = compareResponses(served.value, candidate.value, rules);
      const noise = second.status === 'fulfilled' && second.value !== null ? compareResponses(served.value, second.value, rules) : undefined;
      countShadowComparison(name, comparison.matched);
      this.deps.onCompared?.(name, comparison.matched);
      span.setAttributes({
        'switchyard.shadow.outcome': comparison.matched ? 'matched' : 'mismatched',
        'switchyard.shadow.differing_fields': comparison.differences.length,
        'switchyard.shadow.top_paths': comparison.differences.slice(0, 5).map((d) => d.path),
      });
      await this.deps.store.recordComparison(name, {
        matched: comparison.matched,
        rawFields: comparison.differences.map((d) => d.field),
        ...(noise === undefined ? {} : { noiseFields: noise.differences.map((d) => d.field) }),
        ...(comparison.matched
          ? {}
          : { sample: sampleOf(s, { method, headers, traceId, bucket, at: this.deps.now() }, primarySide, served.value, shadowSide, candidate.value, comparison, shadow) }),
      });
    };
    runInContext(ctx, run)
      .catch((error: unknown) => this.deps.logger.warn(`recording shadow results for route \`${name}\` failed`, { cause: String(error) }))
      .finally(() => {
        span.end();
        this.reserve(name, -1);
      });
  }

  private skip(route: string, reason: SkipReason): void {
    countShadowSkip(route, reason);
    this.deps.store.recordSkip(route, reason).catch((error: unknown) => this.deps.logger.warn('recording a shadow skip failed', { route, cause: String(error) }));
  }

  private reserve(route: string, delta: 1 | -1): void {
    this.active += delta;
    this.perRoute.set(route, (this.perRoute.get(route) ?? 0) + delta);
  }

  private breaker(route: string, settings: ShadowSettings): CircuitBreaker {
    let breaker = this.breakers.get(route);
    if (breaker === undefined) this.breakers.set(route, (breaker = new CircuitBreaker(settings.breakerFailures, settings.breakerCooldownMs, this.deps.now)));
    return breaker;
  }
}

/**
 * Copies what the serving side writes to the client, up to `max` bytes (then only a running
 * hash), without delaying a single write. Resolves when the response finished; rejects when the
 * connection closed first.
 */
function observeResponse(res: ServerResponse, tap: ResponseTap, max: number): Promise<ComparableResponse> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let overflow = false;
  const hash = createHash('sha256');
  tap.onBody((buf) => {
    hash.update(buf);
    if (kept + buf.length <= max) {
      chunks.push(buf);
      kept += buf.length;
    } else overflow = true;
  });
  return new Promise((resolve, reject) => {
    res.once('finish', () =>
      resolve({ status: res.statusCode, headers: flattenHeaders(tap.writtenHeaders()), body: Buffer.concat(chunks), ...(overflow ? { bodyHash: hash.digest('hex') } : {}) }),
    );
    res.once('close', () => {
      if (!res.writableFinished) reject(new Error('client closed before the response finished'));
    });
  });
}

/**
 * The request body as the primary consumes it, observed (never read ahead: reading would take
 * bytes from the primary). Resolves with the body, null for none, 'too_large' past the limit, or
 * 'incomplete' if the exchange ended before the primary read it all.
 */
function observeRequestBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | null | 'too_large' | 'incomplete'> {
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.readableEnded) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const emit = req.emit.bind(req) as (event: string | symbol, ...args: unknown[]) => boolean;
    req.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'data' && !tooLarge) {
        const chunk = args[0] as Buffer;
        size += chunk.length;
        if (size > max) tooLarge = true;
        else chunks.push(chunk);
      } else if (event === 'end') {
        resolve(tooLarge ? 'too_large' : Buffer.concat(chunks));
      }
      return emit(event, ...args);
    }) as IncomingMessage['emit'];
    res.once('close', () => resolve(tooLarge ? 'too_large' : 'incomplete'));
  });
}

function sampleOf(
  s: RoutedRequest,
  request: { method: string; headers: IncomingHttpHeaders; traceId: string | undefined; bucket: number; at: number },
  primarySide: Side,
  primary: ComparableResponse,
  shadowSide: Side,
  candidate: ComparableResponse,
  comparison: ShadowComparison,
  shadow: RouteShadowConfig,
): ShadowSample {
  const redact = new Set([...ALWAYS_REDACTED, ...shadow.redactHeaders.map((h) => h.toLowerCase())]);
  const clean = (headers: Readonly<Record<string, string | undefined>>): Record<string, string> =>
    Object.fromEntries(Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, redact.has(k) ? '[redacted]' : v]])));
  const exchange = (side: Side, r: ComparableResponse): CapturedExchange => ({
    side,
    status: r.status,
    headers: clean(r.headers),
    body: r.body.subarray(0, SAMPLE_BODY_BYTES).toString('utf8') + (r.body.length > SAMPLE_BODY_BYTES || r.bodyHash !== undefined ? '…[truncated]' : ''),
  });
  return {
    at: new Date(request.at).toISOString(),
    route: s.route.name,
    ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
    bucket: request.bucket,
    flagVersion: s.config.version,
    request: { method: request.method, path: s.path + s.query, headers: clean(flattenHeaders(request.headers)) },
    primary: exchange(primarySide, primary),
    candidate: exchange(shadowSide, candidate),
    differences: comparison.differences.slice(0, 50).map((d) => ({ path: d.path, kind: d.kind })),
  };
}
