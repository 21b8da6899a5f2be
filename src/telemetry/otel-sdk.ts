import { register } from 'node:module';
import { context, metrics, trace } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { ConsoleSpanExporter, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';
import { readTelemetryEnvOnly, type TelemetryEnv } from '../config/infrastructure-env.js';

export interface TelemetryOptions {
  /** The OTEL_* choices, as read once at start-up (config/infrastructure-env.ts). */
  readonly telemetry?: TelemetryEnv;
  /** Or an environment to read them from (default process.env); a bad value throws a ConfigError. */
  readonly env?: NodeJS.ProcessEnv;
  /** Replace the exporters (tests pass in-memory ones); default: from the OTEL_* environment. */
  readonly spanProcessors?: SpanProcessor[];
  readonly metricReaders?: IMetricReader[];
}

export interface TelemetryHandle {
  /** True when spans are recorded and exported somewhere. */
  readonly exporting: boolean;
  /**
   * Flushes pending spans and metrics, then stops the SDK, within `budgetMs` (default 3 s)
   * whatever the collector does. Never rejects: resolves with what could not be flushed
   * (e.g. `spans (not exported within 3000 ms: …)`), empty when everything went out.
   */
  shutdown(budgetMs?: number): Promise<{ readonly unflushed: readonly string[] }>;
}

/** How long shutdown waits for the collector: a process being stopped must not hang on it. */
export const SHUTDOWN_BUDGET_MS = 3_000;

/**
 * Starts the OpenTelemetry Node SDK with the HTTP, undici, Express and ioredis instrumentations. Must run
 * before express, http-proxy-middleware or ioredis are imported: it registers the ESM loader hook
 * that lets the instrumentations patch ES-module imports. Configuration is the standard OTEL_*
 * environment (service name, endpoint, protocol, sampler, resource attributes). With no exporter
 * configured the SDK is not started (returns null): nothing is exported and nothing is paid;
 * SWITCHYARD_OTEL_CONSOLE=true prints spans to stdout for local debugging.
 */
export function startTelemetry(options: TelemetryOptions = {}): TelemetryHandle | null {
  const env = options.telemetry ?? readTelemetryEnvOnly(options.env ?? process.env);
  if (env.disabled) return null;
  const configured = env.exporterConfigured;
  const console = env.console ? [new SimpleSpanProcessor(new ConsoleSpanExporter())] : [];
  const spanProcessors = options.spanProcessors ?? (configured ? undefined : console);
  const metricReaders = options.metricReaders ?? (configured ? undefined : []);
  // Nothing to export to: do not start the SDK at all. Its context manager and instrumentations
  // would cost every request (measured: a third of the throughput of a trivial route) for spans
  // nobody receives. The API stays a no-op and the routing code is unchanged.
  if (spanProcessors?.length === 0 && metricReaders?.length === 0) return null;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // The SDK reads the service name from the environment itself.
  if (env.serviceName === null) process.env['OTEL_SERVICE_NAME'] = 'switchyard';
  const sdk = new NodeSDK({
    ...(spanProcessors === undefined ? {} : { spanProcessors }),
    ...(metricReaders === undefined ? {} : { metricReaders }),
    instrumentations: [
      new HttpInstrumentation({
        // Shadow and cache calls get their own spans; ignore nothing on the server side.
        requireParentforOutgoingSpans: false,
        // The SDK exports under suppressTracing: its POSTs to the collector get no span, but the
        // instrumentation would still count them in http.client.request.duration, mixing
        // telemetry's own traffic into the metric of calls to backends. Leave them alone.
        ignoreOutgoingRequestHook: () => isTracingSuppressed(context.active()),
      }),
      // One span per Express layer adds nothing here (Switchyard is a single middleware whose
      // decision and sides have their own spans) and costs on every request.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] }),
      new IORedisInstrumentation(),
      // The standalone handler proxies with undici (src/proxy/undici-dispatch.ts): its client span
      // and the traceparent legacy receives come from here, as node:http's do from HttpInstrumentation.
      new UndiciInstrumentation({ ignoreRequestHook: () => isTracingSuppressed(context.active()) }),
    ],
  });
  sdk.start();
  return {
    exporting: configured || (spanProcessors?.length ?? 0) > 0,
    shutdown: (budgetMs = SHUTDOWN_BUDGET_MS) => flushAndStop(() => sdk.shutdown(), budgetMs),
  };
}

interface Flushable {
  forceFlush?: () => Promise<void>;
}

/**
 * Flushes spans and metrics separately (so the log can say which did not go out, and why), then
 * shuts the SDK down. With the collector down the exporter retries for several seconds and then
 * rejects; with it hung it waits for its own timeout: both are bounded here by `budgetMs`, and
 * every promise is settled so none can surface as an unhandled rejection after exit.
 */
async function flushAndStop(shutdown: () => Promise<void>, budgetMs: number): Promise<{ unflushed: string[] }> {
  const outcome = new Map<string, string | null>([
    ['spans', null],
    ['metrics', null],
  ]);
  const settled = new Set<string>();
  const attempt = async (what: string, run: (() => Promise<void>) | undefined): Promise<void> => {
    try {
      await run?.();
    } catch (error) {
      outcome.set(what, error instanceof Error ? error.message : String(error));
    } finally {
      settled.add(what);
    }
  };
  const tracerProvider = trace.getTracerProvider() as Flushable & { getDelegate?: () => Flushable };
  const spans = tracerProvider.getDelegate?.() ?? tracerProvider;
  const meters = metrics.getMeterProvider() as Flushable;
  const work = Promise.all([attempt('spans', spans.forceFlush?.bind(spans)), attempt('metrics', meters.forceFlush?.bind(meters))]).then(async () => {
    try {
      await shutdown();
    } catch {
      // Its final export fails the way the flush did (already recorded), or found nothing left.
    }
  });
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
    timer.unref();
  });
  await Promise.race([work, expired]);
  clearTimeout(timer);
  for (const what of outcome.keys()) if (!settled.has(what)) outcome.set(what, `not exported within ${budgetMs} ms: the collector is down or not answering`);
  return { unflushed: [...outcome].flatMap(([what, why]) => (why === null ? [] : [`${what} (${why})`])) };
}
