import { register } from 'node:module';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation, ExpressLayerType } from '@opentelemetry/instrumentation-express';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { ConsoleSpanExporter, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { IMetricReader } from '@opentelemetry/sdk-metrics';

export interface TelemetryOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Replace the exporters (tests pass in-memory ones); default: from the OTEL_* environment. */
  readonly spanProcessors?: SpanProcessor[];
  readonly metricReaders?: IMetricReader[];
}

export interface TelemetryHandle {
  /** True when spans are recorded and exported somewhere. */
  readonly exporting: boolean;
  /** Flushes pending spans and metrics, then stops the SDK. */
  shutdown(): Promise<void>;
}

/** OTEL_* variables that mean "the operator chose an exporter": then the SDK reads the env itself. */
const EXPORTER_ENV = ['OTEL_TRACES_EXPORTER', 'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'];

/**
 * Starts the OpenTelemetry Node SDK with the HTTP, Express and ioredis instrumentations. Must run
 * before express, http-proxy-middleware or ioredis are imported: it registers the ESM loader hook
 * that lets the instrumentations patch ES-module imports. Configuration is the standard OTEL_*
 * environment (service name, endpoint, protocol, sampler, resource attributes). With no exporter
 * configured the SDK is not started (returns null): nothing is exported and nothing is paid;
 * SWITCHYARD_OTEL_CONSOLE=true prints spans to stdout for local debugging.
 */
export function startTelemetry(options: TelemetryOptions = {}): TelemetryHandle | null {
  const env = options.env ?? process.env;
  if (env['OTEL_SDK_DISABLED'] === 'true') return null;
  const configured = EXPORTER_ENV.some((name) => (env[name] ?? '') !== '');
  const console = env['SWITCHYARD_OTEL_CONSOLE'] === 'true' ? [new SimpleSpanProcessor(new ConsoleSpanExporter())] : [];
  const spanProcessors = options.spanProcessors ?? (configured ? undefined : console);
  const metricReaders = options.metricReaders ?? (configured ? undefined : []);
  // Nothing to export to: do not start the SDK at all. Its context manager and instrumentations
  // would cost every request (measured: a third of the throughput of a trivial route) for spans
  // nobody receives. The API stays a no-op and the routing code is unchanged.
  if (spanProcessors?.length === 0 && metricReaders?.length === 0) return null;
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  if (env['OTEL_SERVICE_NAME'] === undefined) process.env['OTEL_SERVICE_NAME'] = 'switchyard';
  const sdk = new NodeSDK({
    ...(spanProcessors === undefined ? {} : { spanProcessors }),
    ...(metricReaders === undefined ? {} : { metricReaders }),
    instrumentations: [
      new HttpInstrumentation({
        // Shadow and cache calls get their own spans; ignore nothing on the server side.
        requireParentforOutgoingSpans: false,
      }),
      // One span per Express layer adds nothing here (Switchyard is a single middleware whose
      // decision and sides have their own spans) and costs on every request.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE, ExpressLayerType.ROUTER, ExpressLayerType.REQUEST_HANDLER] }),
      new IORedisInstrumentation(),
    ],
  });
  sdk.start();
  return {
    exporting: configured || (spanProcessors?.length ?? 0) > 0,
    shutdown: () => sdk.shutdown(),
  };
}
