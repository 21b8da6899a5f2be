import { useState } from 'preact/hooks';
import type { PageProps } from './main';
import { api, enc } from './api';
import { useApi } from './hooks';
import { BodyView } from './json-view';
import { pct, time } from './format';
import { buildFieldTree, visibleRows, type FieldNode, type FieldStats } from './field-tree';
import type { OutcomesAnswer, Proposal, Sample, ShadowAnswer } from './types';

const REASON_TEXT: Record<string, string> = {
  noise_rate: 'differs between legacy and new no more often than between two calls of the same side',
  timestamp: 'its values look like timestamps',
  uuid: 'its values look like UUIDs',
  request_id: 'its values look like request ids',
};

interface FieldTreeProps {
  fields: readonly FieldStats[];
  compared: number;
  noiseSamples: number;
  empty: string;
}

/** A parent's counts are sums over its fields (one comparison can count twice), so only a field's own row shows rates. */
function counts(n: FieldNode, props: FieldTreeProps): [string, string] {
  if (n.own === null) return [`${n.raw} (Σ)`, `${n.noise} (Σ)`];
  return [
    `${n.own.raw} (${pct(props.compared === 0 ? null : n.own.raw / props.compared)})`,
    `${n.own.noise} (${pct(props.noiseSamples === 0 ? null : n.own.noise / props.noiseSamples)})`,
  ];
}

/** The fields grouped by pointer segment; each parent has a native button (Tab, then Enter/Space) that expands it. */
function FieldTree(props: FieldTreeProps) {
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const toggle = (pointer: string) => {
    const next = new Set(expanded);
    if (!next.delete(pointer)) next.add(pointer);
    setExpanded(next);
  };
  const rows = visibleRows(buildFieldTree(props.fields), expanded);
  return (
    <table class="fields">
      <thead>
        <tr>
          <th>field (JSON Pointer)</th>
          <th>legacy vs new</th>
          <th>noise</th>
          <th>verdict</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((n) => {
          const [raw, noise] = counts(n, props);
          const open = expanded.has(n.pointer);
          const parent = n.children.length > 0;
          return (
            <tr key={n.pointer} class={n.verdict} data-field={n.pointer} data-depth={n.depth}>
              <td class="mono" style={{ paddingLeft: `${0.5 + n.depth * 1.2}rem` }} title={n.pointer || '(whole body)'}>
                {parent ? (
                  <button type="button" class="twisty" name="expand" aria-expanded={open} aria-label={`${open ? 'Collapse' : 'Expand'} ${n.pointer}`} onClick={() => toggle(n.pointer)}>
                    {open ? '▾' : '▸'}
                  </button>
                ) : (
                  <span class="twisty" aria-hidden="true" />
                )}
                {n.pointer === '' ? n.label : `/${n.label}`}
              </td>
              <td>{raw}</td>
              <td>{noise}</td>
              <td>
                <span class={`badge ${n.verdict === 'difference' ? 'bad' : ''}`}>{n.verdict}</span>
              </td>
            </tr>
          );
        })}
        {rows.length === 0 ? (
          <tr>
            <td colSpan={4} class="meta">
              {props.empty}
            </td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

export function ShadowPage(props: PageProps & { route: string }) {
  const name = enc(props.route);
  const [showNoise, setShowNoise] = useState(false);
  const [selected, setSelected] = useState(0);
  const shadow = useApi<ShadowAnswer>(`/_switchyard/shadow/${name}`, props.tick);
  const samples = useApi<{ samples: Sample[] }>(`/_switchyard/shadow/${name}/samples?limit=20`, props.tick);
  const proposals = useApi<{ proposals: Proposal[] }>(`/_switchyard/shadow-rules/proposals?route=${name}`, props.tick);
  const rules = useApi<{ routes: { route: string; file: string[]; approved: string[]; rejected: string[] }[] }>('/_switchyard/shadow-rules', props.tick);
  const recent = useApi<OutcomesAnswer>(`/_switchyard/routes/${name}/outcomes?window=1m`, props.tick);
  if (shadow.data === null) return <p class="loading">{shadow.error ?? 'Loading…'}</p>;
  const s = shadow.data;
  const fields = s.fields.filter((f) => showNoise || f.verdict === 'difference');
  const mine = rules.data?.routes.find((r) => r.route === props.route);
  const admin = props.session.role === 'admin';

  const decide = async (p: Proposal, action: 'approve' | 'reject') => {
    const reason = await props.ask({
      title: `${action === 'approve' ? 'Ignore' : 'Keep comparing'} ${p.field} on ${p.route}?`,
      message: action === 'approve' ? 'The shadow differ ignores this field from the next comparison on, on every instance.' : 'It will not be proposed again.',
      confirmLabel: action === 'approve' ? 'Approve rule' : 'Reject',
    });
    if (reason === null) return;
    try {
      await api.post(`/_switchyard/shadow-rules/${name}/${action}`, { field: p.field, reason });
      props.notify(`${p.field}: ${action === 'approve' ? 'ignored from now on' : 'rejected'}`);
    } catch (e) {
      props.notify(e instanceof Error ? e.message : String(e), 'error');
    }
    props.refresh();
  };

  const sample = samples.data?.samples[selected];
  // A sample's exact pointers (/items/0/updated_at) under their field's verdict (/items/*/updated_at).
  const verdicts = new Map(s.fields.map((f) => [f.field, f.verdict]));
  const differing = new Map<string, 'difference' | 'noise'>();
  for (const d of sample?.differences ?? []) {
    const verdict = verdicts.get(d.path.replace(/\/\d+(?=\/|$)/g, '/*')) ?? verdicts.get(d.path) ?? 'difference';
    if (verdict === 'difference' || showNoise) differing.set(d.path, verdict);
  }
  return (
    <section>
      <p class="crumbs">
        <a href="#/">Routes</a> › <a href={`#/route/${name}`}>{props.route}</a> › shadow
      </p>
      <h2>Shadow diffs: {props.route}</h2>
      <p class="summary" data-testid="shadow-summary">
        <strong>
          {s.mismatched} mismatching of {s.compared} compared
        </strong>{' '}
        ({pct(s.compared === 0 ? null : s.mismatched / s.compared)} in total; {s.noiseSamples} noise samples)
        {recent.data ? (
          <span data-testid="recent-rate">
            {' '}
            · last minute: {recent.data.shadow.mismatched} of {recent.data.shadow.compared} ({pct(recent.data.shadow.mismatchRate)})
          </span>
        ) : null}
      </p>
      <h3>Fields</h3>
      <label class="toggle">
        <input type="checkbox" name="show-noise" checked={showNoise} onChange={(e) => setShowNoise((e.target as HTMLInputElement).checked)} /> show noise
      </label>
      <FieldTree fields={fields} compared={s.compared} noiseSamples={s.noiseSamples} empty={s.fields.length === 0 ? 'No field has differed.' : 'Only noise: tick “show noise”.'} />
      {mine && (mine.approved.length > 0 || mine.file.length > 0) ? (
        <p class="meta">
          Ignored: {[...mine.file.map((f) => `${f} (flags/)`), ...mine.approved.map((f) => `${f} (approved)`)].join(', ')} ·{' '}
          <a href="/_switchyard/shadow-rules/export" target="_blank" rel="noopener">
            export as YAML for flags/
          </a>
        </p>
      ) : null}
      <h3>Proposed ignore rules</h3>
      <div class="proposals">
        {(proposals.data?.proposals ?? []).map((p) => (
          <div class="card proposal" key={p.field} data-proposal={p.field}>
            <p>
              <strong class="mono">{p.field}</strong> — {p.reasons.map((r) => REASON_TEXT[r] ?? r).join('; ')}
            </p>
            <p class="meta">
              differed in {p.evidence.raw} of {p.evidence.compared} comparisons ({pct(p.evidence.rawRate)}); between two calls of one side in {p.evidence.noise} of {p.evidence.noiseSamples} ({pct(p.evidence.noiseRate)})
              {p.evidence.pValue !== null ? `; p = ${p.evidence.pValue.toFixed(3)} for “differs more than noise”` : ''}
            </p>
            <p class="meta mono">
              legacy: {p.evidence.values.legacy.slice(0, 3).join(', ') || '–'} · new: {p.evidence.values.new.slice(0, 3).join(', ') || '–'}
            </p>
            {admin ? (
              <div class="buttons">
                <button type="button" class="primary" name="approve" onClick={() => void decide(p, 'approve')}>Approve</button>
                <button type="button" name="reject" onClick={() => void decide(p, 'reject')}>Reject</button>
              </div>
            ) : null}
          </div>
        ))}
        {(proposals.data?.proposals ?? []).length === 0 ? <p class="meta">Nothing to propose.</p> : null}
      </div>
      <h3>Mismatch samples</h3>
      {samples.data && samples.data.samples.length > 0 ? (
        <div class="samples">
          <ol class="sample-list">
            {samples.data.samples.map((x, i) => (
              <li key={`${x.at}-${i}`} class={i === selected ? 'selected' : ''}>
                <button type="button" onClick={() => setSelected(i)}>
                  {time(x.at)} {x.request.method} {x.request.path} — {x.differences.map((d) => d.path).join(', ')}
                </button>
              </li>
            ))}
          </ol>
          {sample ? (
            <div class="sample" data-testid="sample">
              <p class="mono">
                {sample.request.method} {sample.request.path}
              </p>
              <details>
                <summary>request headers</summary>
                <pre class="body text">{Object.entries(sample.request.headers).map(([k, v]) => `${k}: ${v}`).join('\n')}</pre>
              </details>
              <p>
                Differences:{' '}
                {sample.differences.map((d) => (
                  <span key={d.path} class={`badge mono ${differing.get(d.path) === 'difference' ? 'bad' : ''}`}>
                    {d.path} ({d.kind})
                  </span>
                ))}
              </p>
              <div class="side-by-side">
                {[sample.primary, sample.candidate].map((x) => (
                  <div key={x.side} class={`exchange ${x.side}`} data-exchange={x.side}>
                    <h4>
                      {x.side} · {x.status} {x.side === sample.primary.side ? '(served)' : '(shadow)'}
                    </h4>
                    <BodyView body={x.body} differing={differing} />
                  </div>
                ))}
              </div>
            </div>
          ) : null}
        </div>
      ) : (
        <p class="meta">No mismatch sample yet.</p>
      )}
    </section>
  );
}
