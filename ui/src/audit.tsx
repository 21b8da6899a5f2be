import { useState } from 'preact/hooks';
import type { PageProps } from './main';
import { useApi } from './hooks';
import { time } from './format';
import type { AuditEntry } from './types';

interface Row {
  at: string;
  by: string;
  route: string;
  what: string;
  from: string;
  to: string;
  reason: string;
  instance: string;
}

const scalar = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
const show = (v: unknown): string => {
  if (v === null || v === undefined) return '–';
  if (typeof v !== 'object') return scalar(v);
  return Object.entries(v as Record<string, unknown>)
    .filter(([k]) => k !== 'by' && k !== 'at')
    .map(([k, x]) => `${k}: ${scalar(x)}`)
    .join(', ');
};

/** The route column of a runtime audit entry: the route, or what a purge of no one route was of. */
function routeOf(e: AuditEntry): string {
  if (e.target === 'killSwitch') return '(kill switch)';
  if (e.target === 'cache') return typeof e.route === 'string' ? e.route : `(cache: ${show(e.purge)})`;
  return String(e.target ?? '').replace(/^route:/, '');
}

function whatOf(e: AuditEntry): string {
  if (e.target === 'cache') return `cache purge (${show(e.purge)}): ${typeof e.purged === 'number' ? e.purged : 0} removed`;
  if (e.action === 'clear') return 'override dropped';
  return e.target === 'killSwitch' ? 'kill switch' : 'flag';
}

/** Flag changes and cache purges (GET /_switchyard/flags/audit) and ignore-rule decisions (GET /_switchyard/shadow-rules/audit), newest first. */
export function AuditPage(props: PageProps) {
  const [filter, setFilter] = useState('');
  const flags = useApi<{ entries: AuditEntry[] }>('/_switchyard/flags/audit?limit=500', props.tick);
  const rules = useApi<{ entries: AuditEntry[] }>('/_switchyard/shadow-rules/audit?limit=500', props.tick);
  const rows: Row[] = [
    ...(flags.data?.entries ?? []).map((e) => ({
      at: e.at,
      by: e.by,
      route: routeOf(e),
      what: whatOf(e),
      from: show(e.from),
      to: show(e.to),
      reason: e.reason ?? '',
      instance: e.instance ?? '',
    })),
    ...(rules.data?.entries ?? []).map((e) => ({
      at: e.at,
      by: e.by,
      route: e.route ?? '',
      what: `ignore rule ${e.field ?? ''}: ${e.action ?? ''}`,
      from: show(e.from),
      to: show(e.to),
      reason: e.reason ?? '',
      instance: e.instance ?? '',
    })),
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
              <td>
                <del>{r.from}</del> → <ins>{r.to}</ins>
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
