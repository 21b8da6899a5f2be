import { metrics, trace, type Attributes } from '@opentelemetry/api';

/**
 * The autopilot in OpenTelemetry: one short span per evaluation (`switchyard.canary.evaluate`)
 * with the verdict and every gate as span events, a span event per run event (control or
 * verdict), and metrics — evaluations and events by route and verdict/action, and the live
 * percentage each run has set. Through the API only: a no-op until an SDK is started.
 */
const tracer = trace.getTracer('switchyard');
const meter = metrics.getMeter('switchyard');

const evaluations = meter.createCounter('switchyard.canary.evaluations', { description: 'Autopilot evaluations, by route and verdict' });
const events = meter.createCounter('switchyard.canary.events', { description: 'Autopilot run events (controls and verdicts), by route and action' });
const percentage = meter.createObservableGauge('switchyard.canary.percentage', { description: 'Live percentage the autopilot has set, by route and run status', unit: '%' });

export interface CanaryEvaluationRecord {
  readonly route: string;
  readonly stage: { readonly kind: string; readonly index: number; readonly percentage: number };
  readonly verdict: string;
  readonly explanation: string;
  readonly gates: readonly { readonly gate: string; readonly result: string; readonly value: number | null; readonly threshold: number | null; readonly pValue?: number; readonly detail: string }[];
}

export function recordCanaryEvaluation(e: CanaryEvaluationRecord): void {
  const attributes: Attributes = { 'switchyard.route': e.route, 'switchyard.canary.stage': e.stage.kind, 'switchyard.canary.stage_index': e.stage.index, 'switchyard.canary.percentage': e.stage.percentage, 'switchyard.canary.verdict': e.verdict };
  const span = tracer.startSpan('switchyard.canary.evaluate', { attributes });
  for (const g of e.gates) {
    const gate: Attributes = { 'switchyard.canary.gate': g.gate, 'switchyard.canary.result': g.result, 'switchyard.canary.detail': g.detail };
    if (g.value !== null) gate['switchyard.canary.value'] = g.value;
    if (g.threshold !== null) gate['switchyard.canary.threshold'] = g.threshold;
    if (g.pValue !== undefined) gate['switchyard.canary.p_value'] = g.pValue;
    span.addEvent('switchyard.canary.gate', gate);
  }
  span.addEvent('switchyard.canary.verdict', { 'switchyard.canary.verdict': e.verdict, 'switchyard.canary.explanation': e.explanation });
  span.end();
  evaluations.add(1, { 'switchyard.route': e.route, 'switchyard.canary.verdict': e.verdict });
}

export function recordCanaryEvent(route: string, event: { readonly action: string; readonly by: string; readonly reason: string; readonly to: { readonly status: string; readonly percentage: number } }): void {
  const span = tracer.startSpan('switchyard.canary.event', { attributes: { 'switchyard.route': route, 'switchyard.canary.action': event.action } });
  span.addEvent(`switchyard.canary.${event.action}`, { 'switchyard.canary.by': event.by, 'switchyard.canary.reason': event.reason, 'switchyard.canary.status': event.to.status, 'switchyard.canary.percentage': event.to.percentage });
  span.end();
  events.add(1, { 'switchyard.route': route, 'switchyard.canary.action': event.action });
}

/** Reports each run's set percentage while registered; returns the unregister function. */
export function observeCanaryPercentages(read: () => readonly { readonly route: string; readonly status: string; readonly percentage: number }[]): () => void {
  const callback = (result: { observe(value: number, attributes?: Attributes): void }) => {
    for (const r of read()) result.observe(r.percentage, { 'switchyard.route': r.route, 'switchyard.canary.status': r.status });
  };
  percentage.addCallback(callback);
  return () => percentage.removeCallback(callback);
}
