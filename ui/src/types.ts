/** The admin API's answers, as far as the page reads them (see README: admin API). */
export interface RouteRow {
  name: string;
  path: string;
  mode: 'legacy' | 'new' | 'rollout';
  percentage?: number;
  pinned: boolean;
  flag: string;
  source: string;
  rule?: unknown;
  file: string;
  legacy: { upstream: string } | null;
  new: { handler?: string; upstream?: string } | null;
  migration?: { owner?: string; targetDate?: string; notes?: string };
  decisions: { legacy: number; new: number };
  lastSeen: { legacy: string | null; new: string | null };
  rollout: { percentage: number; groupId: string; stickiness: ({ header: string } | { cookie: string })[] };
  shadowed: boolean;
  cached: boolean;
  autopilot: boolean;
}
export interface RoutesAnswer {
  flagVersion: string;
  killSwitch: boolean;
  routes: RouteRow[];
  countingSince: string;
}
export interface FlagRoute {
  route: string;
  mode: string;
  percentage: number | null;
  source: string;
  rule: string;
  by?: string;
  at?: string;
  reason?: string | null;
  [k: string]: unknown;
}
export interface FlagsAnswer {
  killSwitch: { effective: boolean; env: boolean; runtime: { on: boolean; by: string; at: string; reason: string | null } | null };
  scope: string;
  routes: FlagRoute[];
}
export interface SideOutcomes {
  requests: number;
  errorRate: number | null;
  cacheHits: number;
  status: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; mean: number } | null;
}
export interface OutcomesAnswer {
  scope: string;
  window: { ms: number };
  sides: { legacy: SideOutcomes; new: SideOutcomes };
  shadow: { compared: number; mismatched: number; mismatchRate: number | null };
}
export interface TimelineSide {
  requests: number;
  errors: number;
  cacheHits: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
export interface TimelineAnswer {
  bucketMs: number;
  points: { at: number; legacy: TimelineSide; new: TimelineSide; shadow: { compared: number; mismatched: number } }[];
}
export interface ShadowField {
  field: string;
  raw: number;
  noise: number;
  verdict: 'difference' | 'noise';
}
export interface ShadowAnswer {
  route: string;
  compared: number;
  matched: number;
  mismatched: number;
  noiseSamples: number;
  skipped: Record<string, number>;
  fields: ShadowField[];
  differences: string[];
}
export interface Exchange {
  side: 'legacy' | 'new';
  status: number;
  headers: Record<string, string>;
  body: string;
}
export interface Sample {
  at: string;
  route: string;
  request: { method: string; path: string; headers: Record<string, string> };
  primary: Exchange;
  candidate: Exchange;
  differences: { path: string; kind: string }[];
}
export interface Proposal {
  route: string;
  field: string;
  reasons: string[];
  evidence: {
    compared: number;
    noiseSamples: number;
    raw: number;
    noise: number;
    rawRate: number;
    noiseRate: number | null;
    pValue: number | null;
    values: { legacy: string[]; new: string[] };
    looksLike: { timestamp: number; uuid: number; requestId: number; of: number };
  };
}
export interface AuditEntry {
  at: string;
  by: string;
  reason: string | null;
  instance?: string;
  route?: string;
  target?: string;
  action?: string;
  field?: string;
  from: unknown;
  to: unknown;
  [k: string]: unknown;
}
export interface Gate {
  gate: string;
  result: 'pass' | 'fail' | 'inconclusive';
  value: number | null;
  threshold: number | null;
  pValue?: number;
  effect?: number;
  samples: { legacy: number; new: number };
  fields?: { field: string; raw: number; noise: number; rate: number; noiseRate: number; verdict: string; known: boolean; pValue?: number }[];
  p99Ratio?: { value: number | null; threshold: number };
  detail?: string;
}
export interface CanaryStage {
  kind: 'shadow' | 'step';
  index: number;
  percentage: number;
}
export interface CanaryPosition {
  status: string;
  stage: CanaryStage;
  percentage: number;
}
export interface CanaryRun {
  route: string;
  runId?: string;
  status: 'running' | 'paused' | 'done' | 'rolled_back' | 'aborted';
  stage: CanaryStage;
  stages?: CanaryStage[];
  setPercentage: number;
  actualPercentage: number | null;
  policy: unknown;
  startedAt: string;
  updatedAt: string;
  leader?: string | null;
  reason?: string | null;
  evaluations: { at: string; stage: CanaryStage; verdict: string; explanation: string; gates: Gate[] }[];
  events: { at: string; by: string; action: string; reason: string | null; from: CanaryPosition; to: CanaryPosition }[];
}
export interface Session {
  role: 'admin' | 'viewer';
  name: string;
  csrfToken: string;
  expiresAt: string;
}
