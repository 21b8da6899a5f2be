/**
 * Before the chaos run ends: every token Switchyard knows, right and wrong, sent to every surface
 * of both instances — the admin API (a wrong guess, a near miss, the viewer token on a control),
 * tester overrides (right and wrong), and a shadowed legacy route carrying the admin token as a
 * credential — then the admin answers that could echo one (flags, audit, routes, canary, shadow
 * samples) collected as text, to be scanned with the instances' logs (token-scan.ts).
 */
import { setTimeout as delay } from 'node:timers/promises';
import { TOKENS, type ChaosCluster } from './cluster.js';
import { findTokenLeaks, type TokenLeak } from './token-scan.js';

export interface ProbeTokens {
  readonly admin: string;
  readonly viewer: string;
  readonly override: string;
  /** Wrong tokens a client tries: a mistyped real token is a secret too. */
  readonly guess: string;
}

interface Probe {
  readonly path: string;
  readonly method?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

function probesFor(t: ProbeTokens): Probe[] {
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  return [
    { path: '/_switchyard/flags', headers: bearer(t.guess) },
    { path: '/_switchyard/flags', headers: bearer(`${t.admin}q`) },
    { path: '/_switchyard/flags/routes/toggle', method: 'PUT', headers: { ...bearer(t.viewer), 'content-type': 'application/json' }, body: JSON.stringify({ mode: 'new', by: 'probe', reason: 'token probe' }) },
    { path: '/app/echo/toggle', headers: { 'x-switchyard-force': 'new', 'x-switchyard-override-token': t.guess } },
    { path: '/app/echo/toggle', headers: { 'x-switchyard-force': 'new', 'x-switchyard-override-token': t.override } },
    { path: '/app/catalog', headers: { ...bearer(t.admin), cookie: `session=${t.override}` } },
    { path: '/_switchyard/flags', headers: bearer(t.admin) },
    { path: '/_switchyard/flags/audit', headers: bearer(t.admin) },
    { path: '/_switchyard/routes', headers: bearer(t.viewer) },
    { path: '/_switchyard/canary', headers: bearer(t.admin) },
    { path: '/_switchyard/shadow/catalog/samples?limit=50', headers: bearer(t.admin) },
  ];
}

/** Sends the probes to each instance; returns every answer (status, headers, body) as text, and how many were sent. */
export async function probeTokens(urls: readonly string[], tokens: ProbeTokens): Promise<{ readonly answers: string; readonly sent: number; readonly statuses: readonly number[] }> {
  const parts: string[] = [];
  const statuses: number[] = [];
  let sent = 0;
  for (const url of urls) {
    for (const probe of probesFor(tokens)) {
      sent++;
      const res = await fetch(url + probe.path, { method: probe.method ?? 'GET', headers: probe.headers, ...(probe.body === undefined ? {} : { body: probe.body }), signal: AbortSignal.timeout(10_000) }).catch((error: unknown) => error);
      if (!(res instanceof Response)) {
        parts.push(`${probe.path}: no answer (${res instanceof Error ? res.message : String(res)})`);
        continue;
      }
      statuses.push(res.status);
      parts.push(`${probe.method ?? 'GET'} ${probe.path} → ${res.status} ${JSON.stringify([...res.headers])}\n${await res.text()}`);
    }
  }
  return { answers: parts.join('\n'), sent, statuses };
}

export interface TokenSecrecy {
  readonly leaks: readonly TokenLeak[];
  readonly scannedBytes: number;
  readonly probes: number;
  /** Each probe's status, in order (a probe that got no answer has none). */
  readonly statuses: readonly number[];
}

/** Probes both instances, then scans their whole captured output and the admin answers for any token. */
export async function checkTokenSecrecy(cluster: ChaosCluster): Promise<TokenSecrecy> {
  const probe = await probeTokens(cluster.urls, TOKENS);
  // The probes' own log lines are written by now (each answer follows its log line), but a
  // log file is read back, not a pipe: give the writes a moment to land.
  await delay(500);
  const text = `${cluster.capturedOutput()}\n${probe.answers}`;
  // Unleash's tokens are matched whole: their `*:development.` prefix is ordinary text.
  const leaks = [...findTokenLeaks(text, { ...TOKENS }), ...findTokenLeaks(text, cluster.unleashTokens(), Number.POSITIVE_INFINITY)];
  return { leaks, scannedBytes: Buffer.byteLength(text), probes: probe.sent, statuses: probe.statuses };
}

export function describeSecrecy(s: TokenSecrecy): string {
  const scanned = `${(s.scannedBytes / 1e6).toFixed(1)} MB scanned: both instances' whole output and the answers to ${s.probes} probes sending every token, right and wrong`;
  if (s.leaks.length === 0) return `Tokens: none found (${scanned}).`;
  return `Tokens: LEAKED — ${s.leaks.map((l) => `${l.secret} ("${l.fragment}…" in: ${l.context})`).join('; ')} (${scanned}).`;
}
