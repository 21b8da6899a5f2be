/** The chaos table (README) and the per-scenario details under it. */
import type { ScenarioResult } from './scenarios.js';

const ms = (v: number): string => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : Math.round(v).toString());

export function formatTable(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => {
    const f = r.figures;
    const statuses = Object.entries(f.byStatus)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([s, n]) => `${s}: ${n}`)
      .join(', ');
    const errors =
      f.errors.length === 0
        ? 'none'
        : f.errors.map((e) => `${e.status ?? 'no answer'} ${e.code} ×${e.count} (${e.documented ? 'documented' : 'UNDOCUMENTED'}${e.expected ? '' : ', NOT EXPECTED'}; ${e.kinds.join('/')})`).join('; ');
    const retries = Object.entries(r.retriedBy)
      .map(([why, n]) => `${n} ${why}`)
      .join(', ');
    const recovery = f.recoveryMs === null ? 'not within the run' : !f.impact ? 'no impact' : `${(f.recoveryMs / 1000).toFixed(1)} s`;
    return `| ${r.name} | ${f.sent} | ${statuses} | ${errors} | ${f.lost} | ${f.misrouted} | ${retries === '' ? '0' : retries} | ${recovery} |`;
  });
  return ['| scenario | sent | answered, by status | errors that reached clients | lost | misrouted | LB retries (first error) | recovery |', '|---|---:|---|---|---:|---:|---|---|', ...rows].join('\n');
}

export function formatDetails(results: readonly ScenarioResult[]): string {
  return results
    .map((r) => {
      const latency = Object.entries(r.figures.latency)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, l]) => `${kind} p50/p99 ${ms(l.before.p50)}/${ms(l.before.p99)} → ${ms(l.during.p50)}/${ms(l.during.p99)} ms`)
        .join('; ');
      const misrouted = r.figures.misroutedExamples.length === 0 ? '' : `\n  misrouted, first ones: ${r.figures.misroutedExamples.join(' | ')}`;
      return `- **${r.name}** — ${r.notes.join('; ')}; latency before → during the fault: ${latency}${misrouted}`;
    })
    .join('\n');
}
