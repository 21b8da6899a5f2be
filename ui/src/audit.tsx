import { useState } from 'preact/hooks';
import type { PageProps } from './main';
import { useApi } from './hooks';
import { time } from './format';
import type { AuditEntry, CanaryPosition, CanaryRun } from './types';

interface Row {
  at: string;
  by: string;
  route: string;
  what: string;
  from: unknown;
  to: unknown;
  reason: string;
  instance: string;
}

const scalar = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
/** The fields of a from/to value that say what it was (not who set it, nor when). */
const fields = (v: unknown): [string, unknown][] => (typeof v === 'object' && v !== null ? Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'by' && k !== 'at') : []);
const show = (v: unknown): string => {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'object') return scalar(v);
  return fields(v)
    .map(([k, x]) => `${k}: ${scalar(x)}`)
    .join(', ');
};

/** from → to as a diff: each field once, the ones that changed as `old → new`. */
function Diff(props: { from: unknown; to: unknown }) {
  const before = new Map(fields(props.from));
  const after = new Map(fields(props.to));
  // Sorted: the order a store kept the fields in says nothing.
  const keys = [...new Set([...before.keys(), ...after.keys()])].sort();
  if (keys.length === 0) return <span>{show(props.from)} → {show(props.to)}</span>;
  return (
    <span>
      {keys.map((k, i) => {
        const [a, b] = [before.get(k), after.get(k)];
        const same = scalar(a) === scalar(b);
        return (
          <span key={k} class={same ? 'same' : 'changed'} data-field={k}>
            {i > 0 ? ', ' : ''}
            {k}: {same ? scalar(a) : null}
            {same ? null : (
              <>
                <del>{a === undefined ? '–' : scalar(a)}</del> → <ins>{b === undefined ? '–' : scalar(b)}</ins>
              </>
            )}
          </span>
        );
      })}
    </span>
  );
}

/** The route column of a runtime audit entry: the route, or what a purge of no one route was of. */
function routeOf(e: AuditEntry): string {
  if (e.target === 'killSwitch') return '(kill switch)';
  if (e.target === 'cache') return typeof e.route === 'string' ? e.route : `(cache: ${show(e.purge)})`;
  if (e.target === 'shadow') return String(e.route ?? '');
  return String(e.target ?? '').replace(/^route:/, '');
}

function whatOf(e: AuditEntry): string {
  if (e.target === 'cache') return `cache purge (${show(e.purge)}): ${typeof e.purged === 'number' ? e.purged : 0} removed`;
  if (e.target === 'shadow') return 'shadow results reset';
  if (e.action === 'clear') return 'override dropped';
  return e.target === 'killSwitch' ? 'kill switch' : 'flag';
}

const position = (p: CanaryPosition) => ({ status: p.status, stage: p.stage.kind === 'shadow' ? 'shadow' : `step ${p.stage.index}`, percentage: p.percentage });

/**
 * Flag changes, cache purges and shadow resets (GET /_switchyard/flags/audit), ignore-rule decisions
 * (GET /_switchyard/shadow-rules/audit) and the autopilot controls people used (each run's events
 * in GET /_switchyard/canary; its own verdicts show as the flag changes they made), newest first.
 */
export function AuditPage(props: PageProps) {
  const [filter, setFilter] = useState('');
  const flags = useApi<{ entries: AuditEntry[] }>('/_switchyard/flags/audit?limit=500', props.tick);
  const rules = useApi<{ entries: AuditEntry[] }>('/_switchyard/shadow-rules/audit?limit=500', props.tick);
  const canary = useApi<{ runs: CanaryRun[] }>('/_switchyard/canary', props.tick);
  const rows: Row[] = [
    ...(flags.data?.entries ?? []).map((e) => ({
      at: e.at,
      by: e.by,
      route: routeOf(e),
      what: whatOf(e),
      from: e.from,
      to: e.to,
      reason: e.reason ?? '',
      instance: e.instance ?? '',
    })),
    ...(rules.data?.entries ?? []).map((e) => ({
      at: e.at,
      by: e.by,
      route: e.route ?? '',
      what: `ignore rule ${e.field ?? ''}: ${e.action ?? ''}`,
      from: e.from,
      to: e.to,
      reason: e.reason ?? '',
      instance: e.instance ?? '',
    })),
    ...(canary.data?.runs ?? []).flatMap((run) =>
      run.events
        .filter((e) => e.by !== 'autopilot')
        .map((e) => ({ at: e.at, by: e.by, route: run.route, what: `autopilot ${e.action}`, from: position(e.from), to: position(e.to), reason: e.reason ?? '', instance: '' })),
    ),
  ]
    .filter((r) => filter === '' || r.route.includes(filter))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  return (
    <section>
      <h2>Audit log</h2>
      <label>
        Route <input name="audit-filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} placeholder="filter by route" />
      </label>
      <table class="audit">
        <thead>
          <tr>
            <th>when</th>
            <th>who</th>
            <th>route</th>
            <th>what</th>
            <th>from → to</th>
            <th>reason</th>
            <th>instance</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-audit-route={r.route}>
              <td>{time(r.at)}</td>
              <td>{r.by}</td>
              <td>{r.route}</td>
              <td>{r.what}</td>
              <td class="diff">
                <Diff from={r.from} to={r.to} />
              </td>
              <td>{r.reason}</td>
              <td class="meta">{r.instance}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? <p class="meta">No change yet.</p> : null}
    </section>
  );
}
