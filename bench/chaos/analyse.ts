/**
 * One chaos scenario's figures, from the load generator's outcomes and each side's own records
 * (pure: no I/O). A request is
 * - lost when the client got no HTTP answer at all (after the load balancer's one retry);
 * - misrouted when it reached a side its decision header did not name, was answered as one side
 *   while that side has no record of it, or reached a side twice without a retry;
 * - an error that reached the client when its status is ≥ 400; documented when it is
 *   problem+json with a catalogue code of that status, expected when the scenario's fault
 *   explains it (e.g. 502 on an uncached legacy route while gunicorn is dead).
 */
import { ERROR_CODES, type ErrorCode } from '../../src/errors/error-codes.js';
import type { SideRecords } from './cluster.js';
import type { Kind, Outcome } from './load.js';

export interface Timeline {
  /** ms since the load started, as Outcome.sentAt. */
  readonly injectAt: number;
  readonly healAt: number;
}

export interface Expectations {
  /** True when this failed outcome is what the fault documents for that route. */
  readonly allowedError?: (o: Outcome) => boolean;
  /** After the heal, is this outcome what the new state should give (e.g. the flag's new side)? */
  readonly settled?: (o: Outcome) => boolean;
}

export interface ErrorCount {
  readonly status: number | null;
  readonly code: string;
  readonly count: number;
  readonly documented: boolean;
  readonly expected: boolean;
  readonly kinds: readonly Kind[];
}

export interface ScenarioFigures {
  readonly sent: number;
  readonly byStatus: Readonly<Record<string, number>>;
  readonly errors: readonly ErrorCount[];
  readonly lost: number;
  readonly misrouted: number;
  readonly misroutedExamples: readonly string[];
  readonly retried: number;
  /** ms from the heal until the last request that still failed or was not yet settled; null: never settled. */
  readonly recoveryMs: number | null;
  /** Whether the fault was visible to clients at all (errors, retries or unsettled answers). */
  readonly impact: boolean;
  readonly unexpectedErrors: number;
  /** p50/p99 latency (ms) of answered requests per kind, before the fault and during it. */
  readonly latency: Readonly<Record<string, { before: LatencySummary; during: LatencySummary }>>;
}

export interface LatencySummary {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
}

const NEW_SERVICE_KINDS: ReadonlySet<Kind> = new Set(['users', 'toggle', 'canaried']);

export function misrouteReason(o: Outcome, records: SideRecords): string | null {
  const legacy = records.legacy.get(o.id) ?? 0;
  const fresh = records.newServed.get(o.id) ?? 0;
  if (o.backend === 'legacy' && fresh > 0) return 'decided legacy, reached new';
  if (o.backend === 'new' && legacy > 0) return 'decided new, reached legacy';
  if (o.backend === null && o.status !== null && legacy + fresh > 0) return 'answered without a decision, yet reached a side';
  if (o.status !== null && o.status < 300) {
    if (o.backend === 'legacy' && o.kind !== 'cached' && legacy === 0) return 'answered as legacy, legacy has no record of it';
    if (o.backend === 'new' && NEW_SERVICE_KINDS.has(o.kind) && fresh === 0) return 'answered as new, the new service has no record of it';
  }
  if (legacy + fresh > 1 && !o.retried) return `reached the backends ${legacy + fresh} times`;
  return null;
}

export function documented(o: Outcome): boolean {
  if (o.status === null || o.error === null) return false;
  const entry = ERROR_CODES[o.error as ErrorCode] as { status: number } | undefined;
  return entry !== undefined && entry.status === o.status && o.contentType.startsWith('application/problem+json');
}

const failed = (o: Outcome): boolean => o.status === null || o.status >= 400;

export function analyse(outcomes: readonly Outcome[], records: SideRecords, timeline: Timeline, expect: Expectations, extraMisrouted: readonly string[] = []): ScenarioFigures {
  const byStatus: Record<string, number> = {};
  const errors = new Map<string, { status: number | null; code: string; count: number; documented: boolean; expected: boolean; kinds: Set<Kind> }>();
  const misrouted: string[] = [...extraMisrouted];
  let lost = 0;
  let retried = 0;
  let lastBadAfterHeal: number | null = null;
  let impact = false;
  for (const o of outcomes) {
    const key = o.status === null ? 'no answer' : String(o.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (o.retried) retried++;
    if (o.status === null) lost++;
    const reason = misrouteReason(o, records);
    if (reason !== null) misrouted.push(`#${o.id} ${o.path} (${o.backend ?? 'no decision'}, ${o.status ?? o.error}): ${reason}`);
    const unsettled = o.sentAt >= timeline.healAt && expect.settled !== undefined && !failed(o) && !expect.settled(o);
    if (failed(o)) {
      const isDocumented = documented(o);
      const expected = isDocumented && (expect.allowedError?.(o) ?? false);
      const id = `${o.status ?? '-'} ${o.error ?? ''} ${String(expected)}`;
      const entry = errors.get(id) ?? { status: o.status, code: o.error ?? 'unknown', count: 0, documented: isDocumented, expected, kinds: new Set<Kind>() };
      entry.count++;
      entry.kinds.add(o.kind);
      errors.set(id, entry);
    }
    if (failed(o) || o.retried || unsettled) {
      impact = true;
      if (o.sentAt >= timeline.healAt) lastBadAfterHeal = Math.max(lastBadAfterHeal ?? 0, o.sentAt);
    }
  }
  const lastSent = outcomes.reduce((m, o) => Math.max(m, o.sentAt), 0);
  // Still failing within the last second of the run: it never settled while we watched.
  const recoveryMs = lastBadAfterHeal === null ? 0 : lastSent - lastBadAfterHeal < 1_000 ? null : lastBadAfterHeal - timeline.healAt;
  const errorList = [...errors.values()].map((e) => ({ ...e, kinds: [...e.kinds].sort() })).sort((a, b) => b.count - a.count);
  return {
    sent: outcomes.length,
    byStatus,
    errors: errorList,
    lost,
    misrouted: misrouted.length,
    misroutedExamples: misrouted.slice(0, 5),
    retried,
    recoveryMs,
    impact,
    unexpectedErrors: errorList.filter((e) => !e.expected).reduce((n, e) => n + e.count, 0),
    latency: latencyByKind(outcomes, timeline),
  };
}

function latencyByKind(outcomes: readonly Outcome[], timeline: Timeline): Record<string, { before: LatencySummary; during: LatencySummary }> {
  const groups = new Map<string, { before: number[]; during: number[] }>();
  for (const o of outcomes) {
    if (o.status === null) continue;
    // The rollout's two sides apart: a legacy fault must not slow the users it sends to new.
    const key = o.kind === 'users' || o.kind === 'canaried' ? `${o.kind}→${o.backend ?? '?'}` : o.kind;
    const g = groups.get(key) ?? { before: [], during: [] };
    if (o.sentAt < timeline.injectAt) g.before.push(o.doneAt - o.sentAt);
    else if (o.sentAt < timeline.healAt) g.during.push(o.doneAt - o.sentAt);
    groups.set(key, g);
  }
  return Object.fromEntries([...groups].map(([kind, g]) => [kind, { before: summary(g.before), during: summary(g.during) }]));
}

export function summary(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99) };
}
