import { Ajv } from 'ajv';
import { ROUTE_CANARY_SCHEMA } from './flags-schema.js';
import { CANARY_POLICY_DEFAULTS as D, CANARY_WEBHOOK_DEFAULTS, CANARY_SETTINGS_DEFAULTS } from './defaults.js';
import { parseDuration, parsePercent } from './duration.js';
import type { CanaryPolicy, CanarySettings } from './types.js';

/** A `canary` block as the schema passed it (durations and percentages still in their YAML form). */
export interface RawCanary {
  autoStart?: boolean;
  interval?: string;
  shadowFirst?: boolean | { percentage?: number; minCompared?: number; bake?: string };
  steps?: number[];
  bake?: string;
  minRequests?: number;
  gates?: {
    contentMismatch?: { max?: number | string; confidence?: number };
    newFieldDivergence?: CanaryPolicy['gates']['newFieldDivergence'];
    errorRate?: { maxIncrease?: number | string; confidence?: number };
    latency?: { p99Ratio?: number; test?: 'mann-whitney'; confidence?: number; tolerance?: number | string };
  };
  onFailure?: CanaryPolicy['onFailure'];
  rollbackTo?: CanaryPolicy['rollbackTo'];
  inconclusive?: Partial<CanaryPolicy['inconclusive']>;
}

export interface RawCanarySettings {
  webhook?: { url: string; retries?: number; timeoutMs?: number };
  leaseMs?: number;
  tickMs?: number;
  evaluationsKept?: number;
}

type Problem = (field: string, reason: string) => void;

const duration = (text: string | undefined, fallback: number): number => (text === undefined ? fallback : parseDuration(text));
const percent = (value: number | string | undefined, fallback: number): number => (value === undefined ? fallback : parsePercent(value));

/**
 * The policy with every omitted field defaulted (CANARY_POLICY_DEFAULTS), or problems named by
 * field relative to the block (`steps`, `gates.errorRate.maxIncrease`…). Pure.
 */
export function buildCanaryPolicy(raw: RawCanary, problem: Problem): CanaryPolicy {
  const g = raw.gates ?? {};
  const shadowRaw = raw.shadowFirst === undefined || raw.shadowFirst === true ? {} : raw.shadowFirst;
  const shadowDefaults = D.shadowFirst ?? { percentage: 100, minCompared: 500, bakeMs: 600_000 };
  const policy: CanaryPolicy = {
    autoStart: raw.autoStart ?? D.autoStart,
    intervalMs: duration(raw.interval, D.intervalMs),
    shadowFirst:
      shadowRaw === false
        ? null
        : { percentage: shadowRaw.percentage ?? shadowDefaults.percentage, minCompared: shadowRaw.minCompared ?? shadowDefaults.minCompared, bakeMs: duration(shadowRaw.bake, shadowDefaults.bakeMs) },
    steps: raw.steps ?? D.steps,
    bakeMs: duration(raw.bake, D.bakeMs),
    minRequests: raw.minRequests ?? D.minRequests,
    gates: {
      contentMismatch: { max: percent(g.contentMismatch?.max, D.gates.contentMismatch.max), confidence: g.contentMismatch?.confidence ?? D.gates.contentMismatch.confidence },
      newFieldDivergence: g.newFieldDivergence ?? D.gates.newFieldDivergence,
      errorRate: { maxIncrease: percent(g.errorRate?.maxIncrease, D.gates.errorRate.maxIncrease), confidence: g.errorRate?.confidence ?? D.gates.errorRate.confidence },
      latency: {
        p99Ratio: g.latency?.p99Ratio ?? D.gates.latency.p99Ratio,
        test: g.latency?.test ?? D.gates.latency.test,
        confidence: g.latency?.confidence ?? D.gates.latency.confidence,
        tolerance: percent(g.latency?.tolerance, D.gates.latency.tolerance),
      },
    },
    onFailure: raw.onFailure ?? D.onFailure,
    rollbackTo: raw.rollbackTo ?? D.rollbackTo,
    inconclusive: { extendBakes: raw.inconclusive?.extendBakes ?? D.inconclusive.extendBakes, then: raw.inconclusive?.then ?? D.inconclusive.then },
  };
  const steps = policy.steps;
  const decreasing = steps.findIndex((s, i) => i > 0 && s <= (steps[i - 1] ?? 0));
  if (decreasing > 0) problem(`steps.${decreasing}`, `steps must increase: ${steps[decreasing]} comes after ${steps[decreasing - 1]}`);
  if (policy.intervalMs < 10) problem('interval', 'must be at least 10ms');
  for (const [field, ms] of [['bake', policy.bakeMs], ['shadowFirst.bake', policy.shadowFirst?.bakeMs ?? 0]] as const) {
    if (ms > 7 * 86_400_000) problem(field, 'must be at most 7 days');
  }
  return policy;
}

export function buildCanarySettings(raw: RawCanarySettings | undefined): CanarySettings {
  if (raw === undefined) return CANARY_SETTINGS_DEFAULTS;
  return {
    webhook: raw.webhook === undefined ? null : { url: raw.webhook.url, retries: raw.webhook.retries ?? CANARY_WEBHOOK_DEFAULTS.retries, timeoutMs: raw.webhook.timeoutMs ?? CANARY_WEBHOOK_DEFAULTS.timeoutMs },
    leaseMs: raw.leaseMs ?? CANARY_SETTINGS_DEFAULTS.leaseMs,
    tickMs: raw.tickMs ?? CANARY_SETTINGS_DEFAULTS.tickMs,
    evaluationsKept: raw.evaluationsKept ?? CANARY_SETTINGS_DEFAULTS.evaluationsKept,
  };
}

let validatePolicy: ReturnType<Ajv['compile']> | undefined;

/**
 * A policy sent to the admin API (`start` with `policy`), checked by the same schema and rules as
 * a `canary` block in flags/: the policy, or the first problem by field.
 */
export function readCanaryPolicy(value: unknown): { ok: true; policy: CanaryPolicy } | { ok: false; field: string; reason: string } {
  validatePolicy ??= new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(ROUTE_CANARY_SCHEMA);
  if (!validatePolicy(value)) {
    const error = validatePolicy.errors?.[0];
    const at = (error?.instancePath ?? '').split('/').slice(1).join('.');
    const extra = error?.keyword === 'additionalProperties' ? String((error.params as Record<string, unknown>)['additionalProperty']) : '';
    const field = ['policy', at, extra].filter((p) => p !== '').join('.');
    return { ok: false, field, reason: extra === '' ? (error?.message ?? 'invalid') : 'unknown option' };
  }
  const problems: { field: string; reason: string }[] = [];
  const policy = buildCanaryPolicy(value as RawCanary, (field, reason) => problems.push({ field: `policy.${field}`, reason }));
  const first = problems[0];
  return first === undefined ? { ok: true, policy } : { ok: false, ...first };
}
